use shopcast_payments::static_qr::emvco::{
    self, AdditionalData, DataObject, LanguageTemplate, MerchantAccount, MerchantPresented,
    PointOfInitiation,
};

fn pix_template(gui: &str, fields: &[(u8, &str)]) -> MerchantAccount {
    MerchantAccount::Template {
        id: 26,
        gui: gui.into(),
        fields: fields.iter().map(|(id, v)| (*id, v.to_string())).collect(),
    }
}

fn shop() -> MerchantPresented {
    MerchantPresented {
        initiation: Some(PointOfInitiation::Static),
        merchant_accounts: vec![MerchantAccount::Template {
            id: 29,
            gui: "com.example.pay".into(),
            fields: vec![(1, "MERCHANT-0042".into())],
        }],
        merchant_category_code: "5499".into(),
        currency: "USD".into(),
        amount_minor: None,
        country_code: "US".into(),
        merchant_name: "Corner Tea Shop".into(),
        merchant_city: "Portland".into(),
        postal_code: None,
        additional_data: AdditionalData::default(),
        language: None,
    }
}

#[test]
fn bcb_dynamic_example() {
    // Banco Central do Brasil, Manual de Padrões para Iniciação do Pix, dynamic BR Code
    // example (point of initiation 12, URL in 26-25, amount 123.45, reference label
    // RP12345678-2019), as reproduced byte for byte in the npm package pixcode's README.
    let code = MerchantPresented {
        initiation: Some(PointOfInitiation::Dynamic),
        merchant_accounts: vec![pix_template(
            "br.gov.bcb.pix",
            &[(25, "bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441")],
        )],
        merchant_category_code: "0000".into(),
        currency: "BRL".into(),
        amount_minor: Some(12345),
        country_code: "BR".into(),
        merchant_name: "Fulano de Tal".into(),
        merchant_city: "BRASILIA".into(),
        postal_code: None,
        additional_data: AdditionalData {
            reference_label: Some("RP12345678-2019".into()),
            ..AdditionalData::default()
        },
        language: None,
    };
    assert_eq!(
        code.to_payload().unwrap(),
        "00020101021226720014br.gov.bcb.pix2550bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd4415204000053039865406123.455802BR5913Fulano de Tal6008BRASILIA62190515RP12345678-2019630445C8"
    );
}

#[test]
fn bcb_manual_section_6_2_dynamic_example() {
    // The dynamic example (section 6.2, URL in 26-25, no amount) of the BCB Manual de Padrões
    // para Iniciação do Pix, field by field as annotated in the GitHub gist
    // matheusb-comp/1efa205b3c0ffd7af1e8ce63a10e02dc ("Exemplos de formato PIX"), CRC EEAB.
    // Its GUI is written in capitals.
    let code = MerchantPresented {
        initiation: Some(PointOfInitiation::Dynamic),
        merchant_accounts: vec![pix_template(
            "BR.GOV.BCB.PIX",
            &[(
                25,
                "pix.example.com/qr/93598be0-1bd0-4997-8318-81776a1d8a99",
            )],
        )],
        merchant_category_code: "0000".into(),
        currency: "986".into(),
        amount_minor: None,
        country_code: "BR".into(),
        merchant_name: "EMPRESA".into(),
        merchant_city: "SAO PAULO".into(),
        postal_code: None,
        additional_data: AdditionalData {
            reference_label: Some("***".into()),
            ..AdditionalData::default()
        },
        language: None,
    };
    assert_eq!(
        code.to_payload().unwrap(),
        "00020101021226770014BR.GOV.BCB.PIX2555pix.example.com/qr/93598be0-1bd0-4997-8318-81776a1d8a995204000053039865802BR5907EMPRESA6009SAO PAULO62070503***6304EEAB"
    );
}

#[test]
fn published_example_with_a_wrong_length_is_refused() {
    // The same gist's static example (section 6.1: phone key, amount 66.66) declares the
    // additional data template as 08 characters ("6208") but holds 7 ("0503***"); its CRC
    // 170E was computed over that text, so only a length check catches it. The parser does,
    // and the builder writes 6207 for the same fields (see pix::phone_key_with_amount).
    let published = "00020126360014BR.GOV.BCB.PIX0114+5511943214321520400005303986540566.665802BR5907EMPRESA6008BRASILIA62080503***6304170E";
    let (body, crc) = published.split_at(published.len() - 4);
    assert_eq!(
        format!(
            "{:04X}",
            shopcast_payments::crc16_ccitt_false(body.as_bytes())
        ),
        crc
    );
    assert_eq!(emvco::parse(published).unwrap_err().code(), "malformed");
}

#[test]
fn pixcode_generator_example() {
    // npm package pixcode, README "Generator" example (amount 99.99, "Ciclano de Tal",
    // "RIO DE JANEIRO"), CRC 7A12.
    let code = MerchantPresented {
        initiation: Some(PointOfInitiation::Dynamic),
        merchant_accounts: vec![pix_template(
            "br.gov.bcb.pix",
            &[(25, "bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441")],
        )],
        merchant_category_code: "0000".into(),
        currency: "BRL".into(),
        amount_minor: Some(9999),
        country_code: "BR".into(),
        merchant_name: "Ciclano de Tal".into(),
        merchant_city: "RIO DE JANEIRO".into(),
        postal_code: None,
        additional_data: AdditionalData {
            reference_label: Some("RP12345678-2019".into()),
            ..AdditionalData::default()
        },
        language: None,
    };
    assert_eq!(
        code.to_payload().unwrap(),
        "00020101021226720014br.gov.bcb.pix2550bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441520400005303986540599.995802BR5914Ciclano de Tal6014RIO DE JANEIRO62190515RP12345678-201963047A12"
    );
}

#[test]
fn currencies_and_amount_formats() {
    for (currency, minor, numeric, amount) in [
        ("BRL", 1050, "986", "10.50"),
        ("CNY", 8800, "156", "88.00"),
        ("EUR", 1, "978", "0.01"),
        ("USD", 123_456, "840", "1234.56"),
        ("INR", 50_000, "356", "500.00"),
        ("JPY", 500, "392", "500"),
        ("KWD", 1250, "414", "1.250"),
        ("840", 999_999_999_999, "840", "9999999999.99"),
    ] {
        let payload = MerchantPresented {
            currency: currency.into(),
            amount_minor: Some(minor),
            ..shop()
        }
        .to_payload()
        .unwrap();
        let objects = emvco::parse(&payload).unwrap();
        let get = |id| objects.iter().find(|o| o.id == id).unwrap().value.clone();
        assert_eq!(get(53), numeric, "{currency}");
        assert_eq!(get(54), amount, "{currency}");
    }
}

#[test]
fn bad_amounts_and_currency() {
    let with = |currency: &str, minor| MerchantPresented {
        currency: currency.into(),
        amount_minor: Some(minor),
        ..shop()
    };
    assert_eq!(
        with("USD", 1_000_000_000_000)
            .to_payload()
            .unwrap_err()
            .to_string(),
        "The amount can be USD 9999999999.99 at most; it is USD 10000000000.00."
    );
    assert_eq!(
        with("USD", -1).to_payload().unwrap_err().code(),
        "amount_not_positive"
    );
    assert_eq!(
        with("USD", 0).to_payload().unwrap_err().code(),
        "amount_not_positive"
    );
    assert_eq!(
        with("JPY", i64::MAX).to_payload().unwrap_err().code(),
        "amount_too_large"
    );
    assert_eq!(
        with("XYZ", 100).to_payload().unwrap_err().to_string(),
        "“XYZ” is not an ISO 4217 currency code known here."
    );
}

#[test]
fn name_and_city_limits() {
    let long_name = MerchantPresented {
        merchant_name: "The Very Long Name Tea Company".to_string() + "!",
        ..shop()
    };
    let err = long_name.to_payload().unwrap_err();
    assert_eq!(err.code(), "too_long");
    assert_eq!(
        err.to_string(),
        "The merchant name can be 25 characters at most; it has 31."
    );
    let long_city = MerchantPresented {
        merchant_city: "Presidente Prudente".into(),
        ..shop()
    };
    assert_eq!(
        long_city.to_payload().unwrap_err().to_string(),
        "The merchant city can be 15 characters at most; it has 19."
    );
    let missing = MerchantPresented {
        merchant_city: String::new(),
        ..shop()
    };
    assert_eq!(
        missing.to_payload().unwrap_err().to_string(),
        "The merchant city is missing."
    );
}

#[test]
fn non_ascii_is_refused_outside_the_language_template() {
    let accented = MerchantPresented {
        merchant_name: "Café São João".into(),
        ..shop()
    };
    let err = accented.to_payload().unwrap_err();
    assert_eq!(err.code(), "character_not_allowed");
    assert_eq!(
        err.to_string(),
        "The merchant name contains “é”; EMVCo QR codes allow only plain ASCII letters, digits, spaces and punctuation there."
    );
    // The language template (64) carries other scripts, lengths counted in characters, and
    // the CRC is over the UTF-8 bytes.
    let bilingual = MerchantPresented {
        language: Some(LanguageTemplate {
            language: "zh".into(),
            name: "街角茶馆".into(),
            city: Some("波特兰".into()),
        }),
        ..shop()
    };
    let payload = bilingual.to_payload().unwrap();
    assert!(
        payload.contains("64210002zh0104街角茶馆0203波特兰6304"),
        "{payload}"
    );
    let objects = emvco::parse(&payload).unwrap();
    let template = &objects.iter().find(|o| o.id == 64).unwrap().value;
    assert_eq!(
        emvco::parse_objects(template).unwrap(),
        vec![
            DataObject {
                id: 0,
                value: "zh".into()
            },
            DataObject {
                id: 1,
                value: "街角茶馆".into()
            },
            DataObject {
                id: 2,
                value: "波特兰".into()
            },
        ]
    );
}

#[test]
fn coded_fields() {
    let bad_mcc = MerchantPresented {
        merchant_category_code: "54".into(),
        ..shop()
    };
    assert_eq!(bad_mcc.to_payload().unwrap_err().code(), "bad_format");
    let bad_country = MerchantPresented {
        country_code: "usa".into(),
        ..shop()
    };
    assert_eq!(bad_country.to_payload().unwrap_err().code(), "bad_format");
}

#[test]
fn merchant_accounts() {
    let none = MerchantPresented {
        merchant_accounts: vec![],
        ..shop()
    };
    assert_eq!(none.to_payload().unwrap_err().code(), "no_merchant_account");
    let primitive_out_of_range = MerchantPresented {
        merchant_accounts: vec![MerchantAccount::Primitive {
            id: 26,
            value: "x".into(),
        }],
        ..shop()
    };
    assert_eq!(
        primitive_out_of_range.to_payload().unwrap_err().code(),
        "id_out_of_range"
    );
    let template_out_of_range = MerchantPresented {
        merchant_accounts: vec![MerchantAccount::Template {
            id: 52,
            gui: "com.example".into(),
            fields: vec![],
        }],
        ..shop()
    };
    assert_eq!(
        template_out_of_range.to_payload().unwrap_err().to_string(),
        "The merchant account template uses IDs 26 to 51; 52 is outside that range."
    );
    let duplicate = MerchantPresented {
        merchant_accounts: vec![
            MerchantAccount::Primitive {
                id: 4,
                value: "5413330000000000".into(),
            },
            MerchantAccount::Primitive {
                id: 4,
                value: "5413330000000001".into(),
            },
        ],
        ..shop()
    };
    assert_eq!(duplicate.to_payload().unwrap_err().code(), "duplicate_id");
    // Several accounts come out in ID order.
    let several = MerchantPresented {
        merchant_accounts: vec![
            MerchantAccount::Template {
                id: 30,
                gui: "com.example.b".into(),
                fields: vec![(2, "B".into()), (1, "A".into())],
            },
            MerchantAccount::Primitive {
                id: 2,
                value: "4000123456789012".into(),
            },
        ],
        ..shop()
    };
    let payload = several.to_payload().unwrap();
    assert!(
        payload.starts_with("00020101021102164000123456789012")
            && payload.contains("30270013com.example.b0101A0201B52045499"),
        "{payload}"
    );
}

#[test]
fn template_too_long_and_payload_too_long() {
    let long_value = MerchantPresented {
        merchant_accounts: vec![MerchantAccount::Template {
            id: 26,
            gui: "com.example".into(),
            fields: vec![(1, "x".repeat(90))],
        }],
        ..shop()
    };
    assert_eq!(
        long_value.to_payload().unwrap_err().to_string(),
        "The merchant account template can be 99 characters at most; it has 109."
    );
    let many = MerchantPresented {
        merchant_accounts: (26..=51)
            .map(|id| MerchantAccount::Template {
                id,
                gui: "com.example".into(),
                fields: vec![(1, "x".repeat(60))],
            })
            .collect(),
        ..shop()
    };
    assert_eq!(many.to_payload().unwrap_err().code(), "payload_too_long");
}

#[test]
fn parser_checks_crc_and_lengths() {
    let payload = shop().to_payload().unwrap();
    assert_eq!(emvco::parse(&payload).unwrap().last().unwrap().id, 63);
    let mut corrupted = payload.clone();
    corrupted.replace_range(payload.len() - 4.., "0000");
    assert_eq!(emvco::parse(&corrupted).unwrap_err().code(), "crc_mismatch");
    let tampered = payload.replace("Portland", "Portlanx");
    assert_eq!(emvco::parse(&tampered).unwrap_err().code(), "crc_mismatch");
    assert_eq!(
        emvco::parse_objects("5903ab").unwrap_err().code(),
        "malformed"
    );
    assert_eq!(emvco::parse("5802BR").unwrap_err().code(), "malformed");
}

#[test]
fn additional_data_and_postal_code() {
    let code = MerchantPresented {
        postal_code: Some("97201".into()),
        additional_data: AdditionalData {
            bill_number: Some("INV-7".into()),
            store_label: Some("Main St".into()),
            reference_label: Some("ORDER42".into()),
            terminal_label: Some("T1".into()),
            ..AdditionalData::default()
        },
        ..shop()
    };
    let payload = code.to_payload().unwrap();
    assert!(
        payload.contains("61059720162370105INV-70307Main St0507ORDER420702T16304"),
        "{payload}"
    );
    let too_long = MerchantPresented {
        additional_data: AdditionalData {
            reference_label: Some("r".repeat(26)),
            ..AdditionalData::default()
        },
        ..shop()
    };
    assert_eq!(
        too_long.to_payload().unwrap_err().to_string(),
        "The reference label can be 25 characters at most; it has 26."
    );
}
