//! The catalog room: products, their photos, and the catalog CSV.

use shopcast_core::{CoreError, ProductDraft, ProductQuery, Shop};

use crate::{draft, shop_with};

async fn search(shop: &Shop, text: &str) -> Vec<String> {
    let page = shop
        .list_products(&ProductQuery {
            search: Some(text.into()),
            include_archived: false,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(page.total as usize, page.items.len());
    page.items.into_iter().map(|p| p.name).collect()
}

#[tokio::test]
async fn create_edit_archive_delete() {
    let (shop, _dir) = shop_with("CNY").await;
    let created = shop
        .create_product(&ProductDraft {
            sku: Some(" TEA-1 ".into()),
            name: "  龙井绿茶 Longjing 🍵 ".into(),
            description: "明前茶\nSpring harvest".into(),
            price: "¥88".into(),
            currency: None,
            stock: Some(12),
            tags: vec!["茶".into(), "green tea".into(), "茶".into(), " ".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.name, "龙井绿茶 Longjing 🍵");
    assert_eq!(created.sku.as_deref(), Some("TEA-1"));
    assert_eq!(
        (created.price.amount_minor, created.price.currency.as_str()),
        (8800, "CNY")
    );
    assert_eq!(
        created.tags,
        vec!["茶", "green tea"],
        "trimmed and de-duplicated"
    );
    assert_eq!(created.stock, Some(12));

    let mut edit = draft("龙井绿茶 Longjing 🍵", "12,50");
    edit.currency = Some("eur".into());
    edit.sku = Some("TEA-1".into());
    let edited = shop.update_product(created.id, &edit).await.unwrap();
    assert_eq!(
        (edited.price.amount_minor, edited.price.currency.as_str()),
        (1250, "EUR")
    );
    assert_eq!(edited.stock, None);
    assert!(edited.updated_at >= created.updated_at);

    let archived = shop.set_archived(created.id, true).await.unwrap();
    assert!(archived.archived);
    let visible = shop
        .list_products(&ProductQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(visible.total, 0, "archived products are hidden by default");
    let all = shop
        .list_products(&ProductQuery {
            limit: 10,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 1);

    shop.delete_product(created.id).await.unwrap();
    assert!(matches!(
        shop.product(created.id).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        shop.delete_product(created.id).await,
        Err(CoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_product_with_sales_is_archived_not_deleted() {
    let (shop, _dir) = shop_with("USD").await;
    let sold = shop
        .create_product(&draft("Sold mug", "9.99"))
        .await
        .unwrap();
    let order: i64 = sqlx::query_scalar("INSERT INTO orders (created_at) VALUES (0) RETURNING id")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO order_lines (order_id, product_id, quantity, unit_price_minor, currency) VALUES ($1, $2, 1, 999, 'USD')")
        .bind(order)
        .bind(sold.id)
        .execute(shop.pool())
        .await
        .unwrap();
    let err = shop.delete_product(sold.id).await.unwrap_err();
    assert_eq!(err.code().as_str(), "has_sales");
    assert!(err.to_string().contains("Archive it instead"));
    assert!(shop.set_archived(sold.id, true).await.unwrap().archived);
    assert_eq!(shop.product(sold.id).await.unwrap().name, "Sold mug");
}

#[tokio::test]
async fn validation_errors_name_the_field_and_store_nothing() {
    let (shop, _dir) = shop_with("USD").await;
    let long_chinese = "茶".repeat(201);
    let exactly_200_emoji = "👩‍👩‍👧".repeat(200); // 200 graphemes, many more code points
    let cases: Vec<(ProductDraft, &str)> = vec![
        (draft("", "1"), "name"),
        (draft("   ", "1"), "name"),
        (draft(&long_chinese, "1"), "name"),
        (draft("Mug", "1.234.5"), "price"),
        (draft("Mug", "-1"), "price"),
        (
            ProductDraft {
                currency: Some("JPY".into()),
                ..draft("Mug", "500.5")
            },
            "price",
        ),
        (
            ProductDraft {
                currency: Some("YEN".into()),
                ..draft("Mug", "500")
            },
            "currency",
        ),
        (
            ProductDraft {
                currency: Some("€€".into()),
                ..draft("Mug", "5")
            },
            "currency",
        ),
        (
            ProductDraft {
                tags: vec!["a;b".into()],
                ..draft("Mug", "5")
            },
            "tags",
        ),
        (
            ProductDraft {
                sku: Some("A\nB".into()),
                ..draft("Mug", "5")
            },
            "sku",
        ),
        (
            ProductDraft {
                stock: Some(i64::MAX),
                ..draft("Mug", "5")
            },
            "stock",
        ),
    ];
    for (bad, field) in cases {
        let err = shop.create_product(&bad).await.expect_err(field);
        assert_eq!(
            (err.code().as_str(), err.field()),
            ("validation", Some(field)),
            "{bad:?}: {err}"
        );
    }
    let all = shop
        .list_products(&ProductQuery {
            limit: 10,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 0, "no invalid product was stored");

    let ok = shop
        .create_product(&draft(&exactly_200_emoji, "1"))
        .await
        .unwrap();
    assert_eq!(
        ok.name, exactly_200_emoji,
        "200 graphemes are allowed however many bytes"
    );
}

#[tokio::test]
async fn duplicate_sku_is_a_conflict() {
    let (shop, _dir) = shop_with("USD").await;
    let first = ProductDraft {
        sku: Some("SKU-1".into()),
        ..draft("First", "1")
    };
    shop.create_product(&first).await.unwrap();
    let err = shop
        .create_product(&ProductDraft {
            sku: Some("SKU-1".into()),
            ..draft("Second", "2")
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code().as_str(), err.field()),
        ("conflict", Some("sku"))
    );
    assert!(err.to_string().contains("SKU-1"));
}

#[tokio::test]
async fn hostile_text_is_stored_verbatim() {
    let (shop, _dir) = shop_with("USD").await;
    let name = r#"<script>alert("x")</script> '; DROP TABLE products; --"#;
    let created = shop.create_product(&draft(name, "1")).await.unwrap();
    assert_eq!(shop.product(created.id).await.unwrap().name, name);
    assert_eq!(search(&shop, "DROP TABLE").await, vec![name.to_string()]);
    assert_eq!(
        search(&shop, "\"unbalanced").await,
        Vec::<String>::new(),
        "FTS syntax in the box is just text"
    );
    assert_eq!(search(&shop, "AND OR NOT *").await, Vec::<String>::new());
}

#[tokio::test]
async fn full_text_search_over_name_description_sku_and_tags() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.create_product(&ProductDraft {
        description: "Hand-thrown stoneware".into(),
        ..draft("青花瓷杯 Blue cup", "128")
    })
    .await
    .unwrap();
    shop.create_product(&ProductDraft {
        sku: Some("TEA-LJ-250".into()),
        tags: vec!["绿茶".into()],
        ..draft("龙井", "88")
    })
    .await
    .unwrap();
    shop.create_product(&ProductDraft {
        tags: vec!["gift".into()],
        ..draft("Café crème tin", "35")
    })
    .await
    .unwrap();

    assert_eq!(
        search(&shop, "青花").await,
        vec!["青花瓷杯 Blue cup"],
        "two-character Chinese word"
    );
    assert_eq!(search(&shop, "青花瓷").await, vec!["青花瓷杯 Blue cup"]);
    assert_eq!(
        search(&shop, "stoneware").await,
        vec!["青花瓷杯 Blue cup"],
        "description"
    );
    assert_eq!(
        search(&shop, "tea-lj").await,
        vec!["龙井"],
        "SKU, case-insensitive"
    );
    assert_eq!(search(&shop, "绿茶").await, vec!["龙井"], "tag");
    assert_eq!(search(&shop, "GIFT").await, vec!["Café crème tin"]);
    assert_eq!(
        search(&shop, "cafe").await,
        vec!["Café crème tin"],
        "diacritics ignored"
    );
    assert_eq!(
        search(&shop, "cup hand").await,
        vec!["青花瓷杯 Blue cup"],
        "every word must match"
    );
    assert!(search(&shop, "cup tin").await.is_empty());
    assert!(
        search(&shop, "100%").await.is_empty(),
        "LIKE wildcards are escaped"
    );

    // Edits reach the index.
    let id = shop
        .list_products(&ProductQuery {
            search: Some("龙井".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .id;
    shop.update_product(id, &draft("碧螺春", "99"))
        .await
        .unwrap();
    assert!(search(&shop, "龙井").await.is_empty());
    assert_eq!(search(&shop, "碧螺春").await, vec!["碧螺春"]);
}

#[tokio::test]
async fn pages_are_stable_and_complete() {
    let (shop, _dir) = shop_with("USD").await;
    for i in 0..25 {
        shop.create_product(&draft(&format!("Item {i:02}"), "1"))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    for offset in (0..25).step_by(10) {
        let page = shop
            .list_products(&ProductQuery {
                offset,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 25);
        assert_eq!(page.offset, offset);
        seen.extend(page.items.into_iter().map(|p| p.id));
    }
    for (search, offset) in [("Item", 20), ("Item", 100), ("It", 20), ("It", 100)] {
        let query = ProductQuery {
            search: Some(search.into()),
            offset,
            limit: 10,
            ..Default::default()
        };
        let page = shop.list_products(&query).await.unwrap();
        assert_eq!(
            page.total, 25,
            "total of a search page at offset {offset} ({search})"
        );
        assert_eq!(page.items.len(), if offset == 20 { 5 } else { 0 });
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25, "every product exactly once across pages");
}

mod csv {
    use std::io::Write;

    use shopcast_core::catalog::csv::{neutralize_cell, restore_cell};
    use shopcast_core::{ProductDraft, ProductQuery, Shop};

    use crate::{draft, shop_with};

    fn hostile_products() -> Vec<ProductDraft> {
        vec![
            ProductDraft {
                sku: Some("TEA-1".into()),
                name: "龙井绿茶 🍵".into(),
                description: "明前茶, \"特级\"\n第二行\r\nthird line".into(),
                price: "88".into(),
                currency: Some("CNY".into()),
                stock: Some(12),
                tags: vec!["茶".into(), "=gift".into()],
                ..Default::default()
            },
            ProductDraft {
                sku: Some("=HYPERLINK(\"http://evil\")".into()),
                name: "=1+1".into(),
                description: "+cmd|' /C calc'!A0".into(),
                price: "12,50".into(),
                currency: Some("EUR".into()),
                stock: Some(-3),
                tags: vec!["-minus".into(), "@at".into()],
                ..Default::default()
            },
            ProductDraft {
                sku: None,
                name: "<script>alert('x')</script>".into(),
                description: "'already quoted".into(),
                price: "500".into(),
                currency: Some("JPY".into()),
                stock: None,
                tags: vec![],
                ..Default::default()
            },
            ProductDraft {
                name: "'=sneaky".into(),
                description: "\ttabbed".into(),
                ..draft("x", "5.00")
            },
        ]
        .into_iter()
        .map(|mut d| {
            if d.name == "x" {
                d.name = "'=sneaky".into();
            }
            d
        })
        .collect()
    }

    async fn all_products(
        shop: &Shop,
    ) -> Vec<(
        Option<String>,
        String,
        String,
        i64,
        String,
        Option<i64>,
        Vec<String>,
    )> {
        let page = shop
            .list_products(&ProductQuery {
                limit: 500,
                include_archived: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut out = Vec::new();
        for summary in page.items {
            let p = shop.product(summary.id).await.unwrap();
            out.push((
                p.sku,
                p.name,
                p.description,
                p.price.amount_minor,
                p.price.currency,
                p.stock,
                p.tags,
            ));
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    #[test]
    fn formula_cells_are_neutralised_reversibly() {
        for text in [
            "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'x", "''", "plain", "", "中文",
        ] {
            let out = neutralize_cell(text);
            assert!(
                !out.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{text:?} → {out:?}"
            );
            assert_eq!(restore_cell(&out), text);
        }
    }

    #[tokio::test]
    async fn export_then_import_is_exact_with_chinese_and_hostile_text() {
        let (shop, dir) = shop_with("USD").await;
        for d in hostile_products() {
            shop.create_product(&d).await.unwrap();
        }
        let first = dir.path().join("catalog.csv");
        let report = shop.export_catalog(&first).await.unwrap();
        assert_eq!(report.rows, 4);
        let text = std::fs::read_to_string(&first).unwrap();
        assert!(
            text.starts_with(
                "sku,name,description,price,currency,stock,tags,tax,barcode,low_stock\n"
            ),
            "{text}"
        );
        assert!(text.contains("TEA-1,龙井绿茶 🍵,"), "UTF-8 as is");
        assert!(
            text.contains(",88.00,CNY,12,"),
            "prices in major units: {text}"
        );
        assert!(text.contains(",12.50,EUR,-3,"));
        assert!(text.contains(",500,JPY,,"), "JPY has no decimals");
        assert!(text.contains("'=1+1") && text.contains("'=gift") && text.contains("'-minus"));
        for line in text.lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "formula-looking cell {cell:?} in {line:?}"
                );
            }
        }

        let (other, other_dir) = shop_with("USD").await;
        let imported = other.import_catalog(&first, false).await.unwrap();
        assert!(
            imported.applied && imported.errors.is_empty(),
            "{imported:?}"
        );
        assert_eq!((imported.created, imported.updated), (4, 0));
        assert_eq!(all_products(&other).await, all_products(&shop).await);

        let second = other_dir.path().join("again.csv");
        other.export_catalog(&second).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&second).unwrap(),
            text,
            "byte-identical round trip"
        );

        // Importing the same file again updates by SKU; rows without SKU are new.
        let again = other.import_catalog(&first, false).await.unwrap();
        assert_eq!((again.created, again.updated), (2, 2));
    }

    #[tokio::test]
    async fn invalid_rows_are_reported_by_line_and_nothing_is_imported() {
        let (shop, dir) = shop_with("EUR").await;
        let path = dir.path().join("bad.csv");
        std::fs::write(
            &path,
            "sku,name,description,price,currency,stock,tags\n\
             A-1,Good one,\"two\nlines\",12.50,EUR,3,x;y\n\
             A-2,,no name,1,EUR,,\n\
             A-3,Bad price,,12.5.0,EUR,,\n\
             A-4,Yen decimals,,500.5,JPY,,\n\
             A-1,Duplicate SKU,,1,,,\n\
             A-5,Bad stock,,1,,lots,\n\
             A-6,Fine too,,\"1.234,56\",,,\n",
        )
        .unwrap();
        let report = shop.import_catalog(&path, false).await.unwrap();
        assert!(!report.applied);
        assert_eq!(
            (report.valid, report.created, report.updated),
            (2, 0, 0),
            "valid rows counted, none written"
        );
        let lines: Vec<(u64, Option<&str>)> = report
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (4, Some("name")),
                (5, Some("price")),
                (6, Some("price")),
                (7, Some("sku")),
                (8, Some("stock"))
            ],
            "{report:?}"
        );
        assert!(report.errors[2].message.contains("no minor unit"));
        let count = shop
            .list_products(&ProductQuery {
                limit: 10,
                include_archived: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .total;
        assert_eq!(count, 0, "nothing imported from an invalid file");

        let report = shop.import_catalog(&path, true).await.unwrap();
        assert!(report.applied);
        assert_eq!((report.created, report.skipped), (2, 5));
        let fine = shop
            .list_products(&ProductQuery {
                search: Some("Fine".into()),
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(fine.items[0].price.amount_minor, 123_456);
        assert_eq!(
            fine.items[0].price.currency, "EUR",
            "empty currency means the shop's"
        );
    }

    #[tokio::test]
    async fn unreadable_files_are_refused_whole() {
        let (shop, dir) = shop_with("USD").await;
        let no_header = dir.path().join("no-header.csv");
        std::fs::write(&no_header, "Mug,5\n").unwrap();
        let err = shop.import_catalog(&no_header, true).await.unwrap_err();
        assert_eq!(err.code().as_str(), "csv_invalid");
        assert!(err.to_string().contains("name"), "{err}");

        let latin1 = dir.path().join("latin1.csv");
        std::fs::write(&latin1, b"name,price\nCaf\xe9,5\nTea,3\n").unwrap();
        let report = shop.import_catalog(&latin1, false).await.unwrap();
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 2);
        assert!(report.errors[0].message.contains("UTF-8"));

        let missing = dir.path().join("missing.csv");
        assert_eq!(
            shop.import_catalog(&missing, false)
                .await
                .unwrap_err()
                .code()
                .as_str(),
            "io"
        );

        // Only name and price are required; a BOM from Excel is fine.
        let minimal = dir.path().join("minimal.csv");
        std::fs::write(&minimal, "\u{feff}Name,Price\nMug,\"1,234.50\"\n").unwrap();
        let report = shop.import_catalog(&minimal, false).await.unwrap();
        assert_eq!(report.created, 1, "{report:?}");
    }

    /// A file full of bad rows lists the first 100 with their lines and counts the rest.
    #[tokio::test]
    async fn row_errors_are_listed_up_to_100_and_the_rest_counted() {
        let (shop, dir) = shop_with("CNY").await;
        let path = dir.path().join("bad.csv");
        let mut text = String::from("sku,name,price\n");
        for i in 0..150 {
            text.push_str(&format!("B-{i},Tea {i},not a price\n"));
        }
        for i in 0..10 {
            text.push_str(&format!("G-{i},Cup {i},5.00\n"));
        }
        std::fs::write(&path, text).unwrap();
        let report = shop.import_catalog(&path, false).await.unwrap();
        assert!(!report.applied);
        assert_eq!((report.errors.len(), report.more_errors), (100, 50));
        assert_eq!(report.errors[0].line, 2);
        assert_eq!(report.errors[99].line, 101);
        assert_eq!(report.valid, 10);
        assert_eq!(product_count(&shop).await, 0, "nothing written");

        let report = shop.import_catalog(&path, true).await.unwrap();
        assert!(report.applied);
        assert_eq!(
            (report.created, report.skipped, report.more_errors),
            (10, 150, 50)
        );
        assert_eq!(product_count(&shop).await, 10);
    }

    /// Rows are written by the hundred: a file mixing updates and new products across
    /// several statements lands whole, each row on its own product.
    #[tokio::test]
    async fn a_large_import_updates_and_creates_across_batches() {
        let (shop, dir) = shop_with("CNY").await;
        let first = dir.path().join("first.csv");
        let mut text = String::from("sku,name,price,stock,tags\n");
        for i in 0..700 {
            text.push_str(&format!("S-{i:04},Oolong-{i:04},{i}.00,{i},tea\n"));
        }
        std::fs::write(&first, &text).unwrap();
        assert_eq!(
            shop.import_catalog(&first, false).await.unwrap().created,
            700
        );

        // Every even SKU again with a new name and price, plus 700 new ones, interleaved.
        let second = dir.path().join("second.csv");
        let mut text = String::from("sku,name,price,stock,tags\n");
        for i in 0..1_400 {
            if i % 2 == 0 && i / 2 < 700 {
                let n = i / 2;
                text.push_str(&format!("S-{n:04},绿茶 Sencha-{n:04},{n}.50,,new;tea\n"));
            }
            text.push_str(&format!("N-{i:04},Cup {i},1.00,,\n"));
        }
        std::fs::write(&second, &text).unwrap();
        let report = shop.import_catalog(&second, false).await.unwrap();
        assert_eq!((report.created, report.updated), (1_400, 700), "{report:?}");

        let page = shop
            .list_products(&ProductQuery {
                search: Some("S-0042".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        let updated = shop.product(page.items[0].id).await.unwrap();
        assert_eq!(updated.name, "绿茶 Sencha-0042");
        assert_eq!(updated.price.amount_minor, 4_250);
        assert_eq!(updated.stock, None);
        assert_eq!(updated.tags, ["new", "tea"]);
        // The search index follows the updates: the old name is gone, the new one found.
        assert_eq!(
            search_names(&shop, "Oolong-0042").await,
            Vec::<String>::new()
        );
        assert_eq!(
            search_names(&shop, "Sencha-0042").await,
            ["绿茶 Sencha-0042"]
        );
        assert_eq!(product_count(&shop).await, 2_100);
    }

    /// A file refused part-way (here at the row cap, long after the first rows were handed to
    /// the writer) commits none of them: the writer commits only when told the whole file
    /// was read, not when the reader goes away.
    #[tokio::test]
    async fn an_import_refused_part_way_writes_nothing() {
        let (shop, dir) = shop_with("CNY").await;
        let kept = shop
            .create_product(&ProductDraft {
                sku: Some("KEEP-1".into()),
                ..draft("Kept tea", "5.00")
            })
            .await
            .unwrap();
        let rows = shopcast_core::catalog::csv::MAX_IMPORT_ROWS + 1;
        let path = dir.path().join("too-many.csv");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "sku,name,price").unwrap();
        // The first row changes a product that exists; the rest are new.
        writeln!(out, "KEEP-1,Changed tea,9.00").unwrap();
        for i in 1..rows {
            writeln!(out, "NEW-{i},Tea {i},1.00").unwrap();
        }
        out.flush().unwrap();
        drop(out);
        for skip_invalid in [true, false] {
            let error = shop.import_catalog(&path, skip_invalid).await.unwrap_err();
            assert_eq!(error.code().as_str(), "csv_too_large", "{error}");
            assert_eq!(product_count(&shop).await, 1, "no row of a refused file");
            assert_eq!(shop.product(kept.id).await.unwrap().name, "Kept tea");
        }
    }

    async fn product_count(shop: &Shop) -> i64 {
        let query = ProductQuery {
            include_archived: true,
            limit: 1,
            ..Default::default()
        };
        shop.list_products(&query).await.unwrap().total
    }

    async fn search_names(shop: &Shop, text: &str) -> Vec<String> {
        crate::catalog::search(shop, text).await
    }

    #[tokio::test]
    async fn a_failed_export_leaves_no_file() {
        let (shop, dir) = shop_with("USD").await;
        shop.create_product(&draft("Mug", "5")).await.unwrap();
        let target = dir.path().join("no-such-folder").join("out.csv");
        let err = shop.export_catalog(&target).await.unwrap_err();
        assert_eq!(err.code().as_str(), "io");
        assert!(!target.exists());
    }
}

mod photos {
    use std::io::Cursor;

    use image::{ImageFormat, RgbaImage};
    use shopcast_core::{ProductQuery, Variant};

    use crate::{draft, shop_with};

    fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let img = RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
        });
        let mut out = Cursor::new(Vec::new());
        match format {
            ImageFormat::Jpeg => image::DynamicImage::ImageRgba8(img)
                .to_rgb8()
                .write_to(&mut out, format)
                .unwrap(),
            _ => img.write_to(&mut out, format).unwrap(),
        }
        out.into_inner()
    }

    #[tokio::test]
    async fn png_jpeg_webp_are_stored_by_content_with_thumbnails() {
        let (shop, dir) = shop_with("USD").await;
        let product = shop.create_product(&draft("Vase", "20")).await.unwrap();
        for (format, mime) in [
            (ImageFormat::Png, "image/png"),
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::WebP, "image/webp"),
        ] {
            let bytes = encoded(format, 900, 600);
            // The extension lies on purpose: content decides.
            let path = dir.path().join("photo.txt");
            std::fs::write(&path, &bytes).unwrap();
            let with_photo = shop.add_photo_file(product.id, &path).await.unwrap();
            let photo = with_photo.photos.last().unwrap();
            assert_eq!(
                (photo.mime.as_str(), photo.width, photo.height),
                (mime, 900, 600)
            );
            let (full, full_mime) = shop.media().read(&photo.hash, Variant::Full).unwrap();
            assert_eq!((full, full_mime), (bytes.clone(), mime));
            let (thumb, _) = shop.media().read(&photo.hash, Variant::Thumb).unwrap();
            let thumb = image::load_from_memory(&thumb).unwrap();
            assert!(thumb.width() <= 320 && thumb.height() <= 320 && thumb.width() == 320);
            let stored = shop.media().path_of(&photo.hash, Variant::Full).unwrap();
            assert!(stored.starts_with(dir.path().join("media").join(&photo.hash[..2])));
        }
        let again = shop
            .add_photo(product.id, encoded(ImageFormat::Png, 900, 600))
            .await
            .unwrap();
        assert_eq!(again.photos.len(), 3, "the same photo twice is stored once");

        let row = shop
            .list_products(&ProductQuery {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .remove(0);
        assert_eq!(
            row.thumb.as_deref(),
            Some(again.photos[0].hash.as_str()),
            "the list shows the first photo"
        );

        let first = again.photos[0].hash.clone();
        let removed = shop.remove_photo(product.id, &first).await.unwrap();
        assert_eq!(removed.photos.len(), 2);
    }

    #[tokio::test]
    async fn bad_photos_get_a_clear_error_and_nothing_is_written() {
        let (shop, dir) = shop_with("USD").await;
        let product = shop.create_product(&draft("Vase", "20")).await.unwrap();
        let media = dir.path().join("media");

        let mut truncated = encoded(ImageFormat::Png, 400, 400);
        truncated.truncate(truncated.len() / 2);
        let err = shop.add_photo(product.id, truncated).await.unwrap_err();
        assert_eq!(err.code().as_str(), "photo_broken", "{err}");

        let err = shop
            .add_photo(product.id, b"GIF89a not really".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.code().as_str(), "photo_unsupported");
        let err = shop
            .add_photo(product.id, b"just some text".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.code().as_str(), "photo_unsupported");
        let err = shop.add_photo(product.id, Vec::new()).await.unwrap_err();
        assert_eq!(err.code().as_str(), "photo_broken");

        let huge = dir.path().join("huge.jpg");
        let file = std::fs::File::create(&huge).unwrap();
        file.set_len(50 * 1024 * 1024).unwrap();
        let err = shop.add_photo_file(product.id, &huge).await.unwrap_err();
        assert_eq!(err.code().as_str(), "photo_too_large");
        assert!(err.to_string().contains("50.0 MB"), "{err}");

        // A decompression bomb: a small PNG whose header claims 20000 × 20000 pixels.
        let mut bomb = encoded(ImageFormat::Png, 1, 1);
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]); // IHDR type + data, so only the size limit can refuse it
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = shop.add_photo(product.id, bomb).await.unwrap_err();
        assert_eq!(err.code().as_str(), "photo_broken", "{err}");
        assert!(
            err.to_string().to_lowercase().contains("limit"),
            "refused by the size limit: {err}"
        );

        let written = walk(&media);
        assert!(
            written.is_empty(),
            "no file may be left behind: {written:?}"
        );
        assert!(shop.product(product.id).await.unwrap().photos.is_empty());
    }

    #[tokio::test]
    async fn media_paths_refuse_anything_but_a_hash() {
        let (shop, _dir) = shop_with("USD").await;
        for bad in [
            "../shopcast.sqlite",
            "",
            "ABCDEF",
            &"g".repeat(64),
            &format!("{}/..", "a".repeat(62)),
        ] {
            assert!(shop.media().path_of(bad, Variant::Full).is_none(), "{bad}");
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .flat_map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    vec![e.path()]
                }
            })
            .collect()
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[tokio::test]
    async fn the_shop_logo_is_a_checked_photo_kept_by_reference() {
        let (shop, dir) = shop_with("USD").await;
        assert_eq!(shop.logo().await.unwrap(), None);
        let err = shop.set_logo(b"not an image".to_vec()).await.unwrap_err();
        assert_eq!(err.code().as_str(), "photo_unsupported");
        assert_eq!(
            shop.logo().await.unwrap(),
            None,
            "a refused logo changes nothing"
        );

        let logo = shop
            .set_logo(encoded(ImageFormat::Png, 600, 300))
            .await
            .unwrap();
        assert_eq!(
            (logo.width, logo.height, logo.mime.as_str()),
            (600, 300, "image/png")
        );
        assert!(
            shop.media()
                .path_of(&logo.hash, Variant::Full)
                .unwrap()
                .exists()
        );
        shop.close().await;

        let reopened = crate::open_shop(dir.path()).await;
        assert_eq!(reopened.logo().await.unwrap(), Some(logo));
        reopened.clear_logo().await.unwrap();
        assert_eq!(reopened.logo().await.unwrap(), None);
    }
}
