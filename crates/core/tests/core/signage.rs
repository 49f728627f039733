//! The signage room: printed batches, product QR codes and payment-QR payloads.

use shopcast_core::signage::{Selection, tracked_buy_link};
use shopcast_core::{ProductDraft, ShopSettings};

use crate::{draft, shop_with};

#[tokio::test]
async fn tracked_buy_links_encode_the_product_and_the_source() {
    let (shop, _dir) = shop_with("CNY").await;
    let with_sku = shop
        .create_product(&ProductDraft {
            sku: Some("茶 1/2".into()),
            ..draft("Tea", "88")
        })
        .await
        .unwrap();
    let without_sku = shop.create_product(&draft("Cup", "35")).await.unwrap();
    let mut settings = shop.settings().await.unwrap();

    let link = tracked_buy_link(&settings, &with_sku, &[("src", "qr"), ("sign", "S123")]).unwrap();
    assert_eq!(
        link,
        "https://shop.example.com/p/%E8%8C%B6%201%2F2?src=qr&sign=S123"
    );
    let link =
        tracked_buy_link(&settings, &without_sku, &[("src", "post"), ("post", "7")]).unwrap();
    assert_eq!(
        link,
        format!(
            "https://shop.example.com/p/{}?src=post&post=7",
            without_sku.id
        )
    );

    settings.buy_link_base = "https://shop.example.com/products".into(); // no trailing slash
    let link = tracked_buy_link(&settings, &without_sku, &[]).unwrap();
    assert_eq!(
        link,
        format!("https://shop.example.com/products/{}", without_sku.id)
    );

    settings.buy_link_base = String::new();
    let err = tracked_buy_link(&settings, &without_sku, &[]).unwrap_err();
    assert_eq!(err.field(), Some("buyLinkBase"));
}

#[tokio::test]
async fn a_printed_batch_is_recorded_with_its_payloads() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.save_settings(ShopSettings {
        locale: "de-DE".into(),
        ..shop.settings().await.unwrap()
    })
    .await
    .unwrap();
    let tea = shop
        .create_product(&ProductDraft {
            sku: Some("TEA-1".into()),
            ..draft("龙井绿茶", "88")
        })
        .await
        .unwrap();
    let yen = shop
        .create_product(&ProductDraft {
            sku: Some("YEN-1".into()),
            currency: Some("JPY".into()),
            ..draft("Yen thing", "1500")
        })
        .await
        .unwrap();
    let euro = shop
        .create_product(&ProductDraft {
            sku: Some("EUR-1".into()),
            currency: Some("EUR".into()),
            ..draft("Euro thing", "12,50")
        })
        .await
        .unwrap();

    let batch = shop
        .plan_signage(
            &Selection::Skus(vec!["TEA-1".into(), "YEN-1".into(), "EUR-1".into()]),
            "a4-3x8",
            2,
        )
        .await
        .unwrap();
    assert!(
        batch.id.starts_with('S') && batch.id.len() == 8,
        "{}",
        batch.id
    );
    let prices: Vec<&str> = batch.signs.iter().map(|s| s.price_text.as_str()).collect();
    assert_eq!(
        prices,
        vec!["88,00\u{a0}¥", "1.500\u{a0}¥", "12,50\u{a0}€"],
        "formatted for the shop's locale"
    );
    assert_eq!(
        batch.signs[0].qr_payload,
        format!("https://shop.example.com/p/TEA-1?src=qr&sign={}", batch.id)
    );
    assert_eq!(batch.signs[0].shop_name, "小店 Test Shop");
    assert!(
        shop.signage_batch(&batch.id).await.is_err(),
        "nothing stored before it is printed"
    );

    shop.record_signage(&batch).await.unwrap();
    let stored = shop.signage_batch(&batch.id).await.unwrap();
    assert_eq!(
        stored.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![Some(tea.id), Some(yen.id), Some(euro.id)]
    );
    assert_eq!(stored[1].1, batch.signs[1].qr_payload);

    let other = shop
        .plan_signage(&Selection::All, "a6-card", 1)
        .await
        .unwrap();
    assert_ne!(other.id, batch.id, "every batch has its own id");
    assert_eq!(other.signs.len(), 3);

    let err = shop
        .plan_signage(&Selection::Skus(vec!["NOPE".into()]), "a4-3x8", 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NOPE"), "{err}");
    let err = shop
        .plan_signage(&Selection::Ids(vec![]), "a4-3x8", 1)
        .await
        .unwrap_err();
    assert_eq!(err.code().as_str(), "validation");
}

#[tokio::test]
async fn printing_writes_the_pdf_records_the_batch_and_remembers_the_settings() {
    use shopcast_core::signage::SignageRequest;
    let (shop, dir) = shop_with("CNY").await;
    shop.create_product(&ProductDraft {
        sku: Some("TEA-1".into()),
        ..draft("龙井绿茶", "88")
    })
    .await
    .unwrap();
    shop.create_product(&ProductDraft {
        sku: Some("CUP-1".into()),
        ..draft("<b>Cup</b>", "35")
    })
    .await
    .unwrap();
    assert_eq!(shop.last_signage_request().await.unwrap(), None);

    let request = SignageRequest {
        selection: Selection::All,
        template: "a4-3x8".into(),
        custom_grid: None,
        copies: 13,
        call_to_action: Some("扫码购买".into()),
    };
    let preview = shop.preview_signage(&request, 0).await.unwrap();
    assert_eq!(
        (preview.pages, preview.signs),
        (2, 2),
        "26 labels on 24-label sheets"
    );
    assert_eq!(preview.svg.matches("<path").count(), 24);
    assert!(preview.svg.contains("&lt;b&gt;Cup&lt;/b&gt;") && !preview.svg.contains("<b>"));

    let out = dir.path().join("labels.pdf");
    let report = shop.print_signage(&request, &out).await.unwrap();
    assert_eq!((report.signs, report.copies), (2, 13));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() as u64 == report.bytes);
    assert_eq!(shop.signage_batch(&report.batch_id).await.unwrap().len(), 2);
    assert_eq!(
        shop.last_signage_request().await.unwrap(),
        Some(request.clone())
    );

    // A bad request writes nothing and records nothing.
    let missing = dir.path().join("nope").join("x.pdf");
    let err = shop.print_signage(&request, &missing).await.unwrap_err();
    assert_eq!(err.code().as_str(), "io");
    let bad = SignageRequest {
        template: "a9".into(),
        ..request.clone()
    };
    assert_eq!(
        shop.print_signage(&bad, &out)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_template"
    );
    let zero = SignageRequest {
        copies: 0,
        ..request.clone()
    };
    assert_eq!(
        shop.print_signage(&zero, &dir.path().join("zero.pdf"))
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "bad_copies"
    );
    assert!(!dir.path().join("zero.pdf").exists());

    // The owner's own label paper: A4, 5 × 13 labels of 38.1 × 21.2 mm.
    let custom = |columns: u32| SignageRequest {
        template: "custom".into(),
        custom_grid: Some(shopcast_core::signage::CustomGrid {
            paper: shopcast_core::signage::Paper::A4,
            columns,
            rows: 13,
            label_width_mm: 38.1,
            label_height_mm: 21.2,
            margin_left_mm: None,
            margin_top_mm: None,
            gap_x_mm: 2.5,
            gap_y_mm: 0.0,
        }),
        copies: 1,
        ..zero.clone()
    };
    let preview = shop.preview_signage(&custom(5), 0).await.unwrap();
    assert_eq!(preview.svg.matches("<path").count(), 2);
    let err = shop.preview_signage(&custom(6), 0).await.unwrap_err();
    assert_eq!(err.code().as_str(), "labels_do_not_fit", "{err}");
    assert!(err.to_string().contains("mm"), "says by how much: {err}");
    let err = shop
        .preview_signage(
            &SignageRequest {
                custom_grid: None,
                ..custom(5)
            },
            0,
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("customGrid"));
    let batches: i64 = crate::count(&shop, "signage_batches").await;
    assert_eq!(batches, 1);
}

#[tokio::test]
async fn a_saved_product_qr_is_a_recorded_batch_when_it_carries_the_buy_link() {
    use shopcast_core::signage::payload::{QrImage, QrPayloadRequest};
    let (shop, dir) = shop_with("CNY").await;
    let tea = shop
        .create_product(&ProductDraft {
            sku: Some("TEA-1".into()),
            ..draft("Tea", "88")
        })
        .await
        .unwrap();

    let preview = shop.product_qr_preview(tea.id, None).await.unwrap();
    assert!(
        preview
            .payload
            .starts_with("https://shop.example.com/p/TEA-1?src=qr&sign=S"),
        "{}",
        preview.payload
    );
    assert!(preview.svg.contains("<path"));
    let batches = || async { crate::count(&shop, "signage_batches").await };
    assert_eq!(batches().await, 0, "a preview records nothing");

    let png = dir.path().join("tea.png");
    let saved = shop
        .save_product_qr(tea.id, None, QrImage::Png { size: 400 }, &png)
        .await
        .unwrap();
    let sign = saved.payload.rsplit('=').next().unwrap().to_string();
    assert_eq!(
        shop.signage_batch(&sign).await.unwrap()[0].0,
        Some(tea.id),
        "the printed code is attributable"
    );
    let image = image::load_from_memory(&std::fs::read(&png).unwrap()).unwrap();
    assert!(image.width() >= 400 - 40 && image.width() <= 400);

    let svg = dir.path().join("pay.svg");
    let upi = QrPayloadRequest::Upi {
        vpa: "shop@upi".into(),
        name: "Tea".into(),
        amount: Some("88".into()),
        note: None,
        reference: None,
    };
    let saved = shop
        .save_product_qr(tea.id, Some(&upi), QrImage::Svg, &svg)
        .await
        .unwrap();
    assert_eq!(
        saved.payload,
        "upi://pay?pa=shop@upi&pn=Tea&am=88.00&cu=INR"
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert_eq!(batches().await, 1, "a static payment code is no batch");

    let err = shop
        .save_product_qr(tea.id, None, QrImage::Png { size: 10 }, &png)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("size"));
    assert_eq!(batches().await, 1, "nothing recorded for a refused size");
}

#[tokio::test]
async fn the_shop_logo_is_printed_on_every_sign() {
    use shopcast_core::signage::SignageRequest;
    let (shop, dir) = shop_with("CNY").await;
    shop.create_product(&draft("Tea", "88")).await.unwrap();
    shop.create_product(&draft("Cup", "35")).await.unwrap();
    let request = SignageRequest {
        selection: Selection::All,
        template: "a4-3x8".into(),
        custom_grid: None,
        copies: 2,
        call_to_action: None,
    };
    assert_eq!(
        shop.preview_signage(&request, 0)
            .await
            .unwrap()
            .svg
            .matches("<image")
            .count(),
        0
    );

    let logo = image::RgbaImage::from_pixel(300, 120, image::Rgba([15, 118, 110, 255]));
    let mut png = std::io::Cursor::new(Vec::new());
    logo.write_to(&mut png, image::ImageFormat::Png).unwrap();
    shop.set_logo(png.into_inner()).await.unwrap();
    assert_eq!(
        shop.preview_signage(&request, 0)
            .await
            .unwrap()
            .svg
            .matches("<image")
            .count(),
        4,
        "on each of the 4 signs"
    );

    let out = dir.path().join("with-logo.pdf");
    shop.print_signage(&request, &out).await.unwrap();
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
    // That the logo image is embedded once per document is checked with pdfimages in the
    // print crate's tests.
}

mod payload {
    use shopcast_core::signage::payload::{QrPayloadRequest, build};

    fn text(request: &QrPayloadRequest) -> String {
        String::from_utf8(build(request).unwrap()).unwrap()
    }

    #[test]
    fn pix_matches_the_central_bank_example() {
        // Banco Central do Brasil, Manual de Padrões para Iniciação do Pix, static example.
        let payload = text(&QrPayloadRequest::Pix {
            key: "123e4567-e12b-12d1-a456-426655440000".into(),
            name: "Fulano de Tal".into(),
            city: "BRASILIA".into(),
            amount: None,
            txid: None,
            description: None,
        });
        assert_eq!(
            payload,
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
        );
    }

    #[test]
    fn amounts_are_parsed_as_typed_in_the_standard_currency() {
        let epc = |amount: &str, latin1: bool| {
            build(&QrPayloadRequest::Epc {
                name: "Café Zoë".into(),
                iban: "DE89 3704 0044 0532 0130 00".into(),
                bic: None,
                amount: Some(amount.into()),
                reference: None,
                text: Some("Order 42".into()),
                purpose: None,
                information: None,
                latin1,
            })
        };
        let utf8 = String::from_utf8(epc("12,50", false).unwrap()).unwrap();
        assert!(
            utf8.starts_with("BCD\n002\n1\nSCT\n\nCafé Zoë\nDE89370400440532013000\nEUR12.5\n"),
            "{utf8:?}"
        );
        let latin1 = epc("€12,50", true).unwrap();
        assert!(
            latin1.windows(4).any(|w| w == b"Caf\xe9"),
            "é is one ISO-8859-1 byte"
        );
        assert_eq!(epc("12.5055", false).unwrap_err().field(), Some("price"));

        let upi = text(&QrPayloadRequest::Upi {
            vpa: "shop@upi".into(),
            name: "Tea Shop".into(),
            amount: Some("₹1,250.5".into()),
            note: Some("Order 42".into()),
            reference: None,
        });
        assert_eq!(
            upi,
            "upi://pay?pa=shop@upi&pn=Tea%20Shop&am=1250.50&cu=INR&tn=Order%2042"
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let bad_iban = build(&QrPayloadRequest::Epc {
            name: "Shop".into(),
            iban: "DE89 3704 0044 0532 0130 01".into(),
            bic: None,
            amount: None,
            reference: None,
            text: None,
            purpose: None,
            information: None,
            latin1: false,
        })
        .unwrap_err();
        assert_eq!(bad_iban.code().as_str(), "payload_invalid");
        assert!(bad_iban.to_string().contains("check digit"), "{bad_iban}");

        let both = build(&QrPayloadRequest::Epc {
            name: "Shop".into(),
            iban: "DE89370400440532013000".into(),
            bic: None,
            amount: None,
            reference: Some("RF18539007547034".into()),
            text: Some("x".into()),
            purpose: None,
            information: None,
            latin1: false,
        })
        .unwrap_err();
        assert_eq!(both.field(), Some("reference"));

        let url = build(&QrPayloadRequest::Url {
            url: "shop.example.com/p/1".into(),
        })
        .unwrap_err();
        assert_eq!(url.field(), Some("url"));
        assert_eq!(
            build(&QrPayloadRequest::Url {
                url: " https://item.taobao.com/item.htm?id=1 ".into()
            })
            .unwrap(),
            b"https://item.taobao.com/item.htm?id=1"
        );
    }
}

/// The shop page finds products by SKU only: a SKU-less product's sign would be a 404, or
/// sell whichever product's SKU is its id.
#[tokio::test]
async fn on_the_shop_page_a_product_without_a_sku_is_refused_and_never_sells_another() {
    let (shop, _dir) = shop_with("CNY").await;
    let teapot = shop
        .create_product(&ProductDraft {
            sku: Some("12".into()),
            ..draft("Teapot", "120")
        })
        .await
        .unwrap();
    let mut cup = teapot.clone();
    while cup.id < 12 {
        cup = shop.create_product(&draft("Cup", "35")).await.unwrap();
    }
    assert_eq!((cup.id, cup.sku.as_deref()), (12, None));
    let cup_only = Selection::Ids(vec![cup.id]);

    // The owner's own base: ids as before (that address is theirs to answer).
    let batch = shop.plan_signage(&cup_only, "a4-3x8", 1).await.unwrap();
    assert!(
        batch.signs[0]
            .qr_payload
            .starts_with("https://shop.example.com/p/12?src=qr&sign="),
        "{}",
        batch.signs[0].qr_payload
    );

    // The shop page as the base, or typed as the same address: refused, naming the product.
    shop.set_setting("shop.public_url", "https://shop.example.com")
        .await
        .unwrap();
    for typed in [
        "",
        "https://shop.example.com/p/",
        "https://shop.example.com/p",
    ] {
        shop.set_setting("shop.buy_link_base", typed).await.unwrap();
        for selection in [cup_only.clone(), Selection::All] {
            let err = shop
                .plan_signage(&selection, "a4-3x8", 1)
                .await
                .unwrap_err();
            assert_eq!(err.field(), Some("sku"), "{typed:?}: {err}");
            assert_eq!(
                err.to_string(),
                "“Cup” has no SKU; the shop page sells products by SKU. Give it a SKU in the catalog."
            );
        }
        let settings = shop.settings().await.unwrap();
        assert!(tracked_buy_link(&settings, &cup, &[]).is_err(), "{typed:?}");
        // The product whose SKU is "12" is reached by its own sign only.
        let batch = shop
            .plan_signage(&Selection::Ids(vec![teapot.id]), "a4-3x8", 1)
            .await
            .unwrap();
        assert!(
            batch.signs[0]
                .qr_payload
                .starts_with("https://shop.example.com/p/12?src=qr&sign="),
            "{}",
            batch.signs[0].qr_payload
        );
    }
}
