use shopcast_payments::static_qr::emvco;
use shopcast_payments::static_qr::pix::{self, PixCharge, PixKey};

fn fulano() -> PixCharge {
    PixCharge {
        key: "123e4567-e12b-12d1-a456-426655440000".into(),
        name: "Fulano de Tal".into(),
        city: "BRASILIA".into(),
        amount_minor: None,
        txid: None,
        description: None,
    }
}

#[test]
fn bcb_manual_static_example() {
    // Banco Central do Brasil, Manual de Padrões para Iniciação do Pix, static QR example:
    // random key 123e4567-e12b-12d1-a456-426655440000, "Fulano de Tal", "BRASILIA",
    // no amount, txid "***", CRC 1D3D.
    assert_eq!(
        fulano().to_payload().unwrap(),
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
    );
    // "***" given explicitly is the same.
    let explicit = PixCharge {
        txid: Some("***".into()),
        ..fulano()
    };
    assert_eq!(
        explicit.to_payload().unwrap(),
        fulano().to_payload().unwrap()
    );
}

#[test]
fn with_amount_description_and_txid() {
    // The same key with a message ("Teste"), R$ 5.00 and txid "123", as published in the
    // tests of an open-source Pix library (CRC 0E95); the field layout follows the manual:
    // 26-02 after the key, 54 between 53 and 58.
    let charge = PixCharge {
        amount_minor: Some(500),
        txid: Some("123".into()),
        description: Some("Teste".into()),
        ..fulano()
    };
    assert_eq!(
        charge.to_payload().unwrap(),
        "00020126670014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400000205Teste52040000530398654045.005802BR5913Fulano de Tal6008BRASILIA6207050312363040E95"
    );
}

#[test]
fn phone_key_with_amount() {
    // The fields of the BCB manual's section 6.1 example (see
    // emvco::published_example_with_a_wrong_length_is_refused), built correctly: template 62
    // is "0503***", 7 characters. CRC cross-checked with Python's crccheck.
    let charge = PixCharge {
        key: "+5511943214321".into(),
        name: "EMPRESA".into(),
        city: "BRASILIA".into(),
        amount_minor: Some(6666),
        txid: None,
        description: None,
    };
    assert_eq!(
        charge.to_payload().unwrap(),
        "00020126360014br.gov.bcb.pix0114+5511943214321520400005303986540566.665802BR5907EMPRESA6008BRASILIA62070503***630452B5"
    );
}

#[test]
fn keys_are_recognised_and_normalised() {
    let cases = [
        ("529.982.247-25", PixKey::Cpf("52998224725".into())),
        ("52998224725", PixKey::Cpf("52998224725".into())),
        ("11.222.333/0001-81", PixKey::Cnpj("11222333000181".into())),
        ("11222333000181", PixKey::Cnpj("11222333000181".into())),
        // Alphanumeric CNPJ (Receita Federal, from July 2026), its published example.
        ("12.ABC.345/01DE-35", PixKey::Cnpj("12ABC34501DE35".into())),
        (
            "Maria@Exemplo.com.br",
            PixKey::Email("maria@exemplo.com.br".into()),
        ),
        ("+5511999998888", PixKey::Phone("+5511999998888".into())),
        ("+556133334444", PixKey::Phone("+556133334444".into())),
        (
            "123E4567-E12B-12D1-A456-426655440000",
            PixKey::Evp("123e4567-e12b-12d1-a456-426655440000".into()),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(PixKey::parse(input).unwrap(), expected, "{input}");
    }
}

#[test]
fn bad_keys() {
    let err = PixKey::parse("529.982.247-26").unwrap_err();
    assert_eq!(err.code(), "cpf_check_digits");
    assert_eq!(
        err.to_string(),
        "The CPF 529.982.247-26 has wrong check digits."
    );
    assert_eq!(
        PixKey::parse("111.111.111-11").unwrap_err().code(),
        "cpf_check_digits"
    );
    assert_eq!(
        PixKey::parse("11.222.333/0001-82").unwrap_err().code(),
        "cnpj_check_digits"
    );
    assert_eq!(
        PixKey::parse("12ABC34501DE36").unwrap_err().code(),
        "cnpj_check_digits"
    );
    for bad in [
        "+15551234567",
        "+55 11 99999 8888",
        "+5501999998888",
        "+55119999",
    ] {
        assert_eq!(
            PixKey::parse(bad).unwrap_err().code(),
            "pix_phone_invalid",
            "{bad}"
        );
    }
    for bad in [
        "maria@",
        "@exemplo.com",
        "maria@exemplo",
        "ma ria@exemplo.com",
        "maria..silva@exemplo.com",
    ] {
        assert_eq!(
            PixKey::parse(bad).unwrap_err().code(),
            "pix_email_invalid",
            "{bad}"
        );
    }
    let long_email = format!("{}@exemplo.com", "a".repeat(70));
    assert_eq!(
        PixKey::parse(&long_email).unwrap_err().code(),
        "pix_email_invalid"
    );
    for bad in [
        "",
        "hello",
        "123e4567-e12b-12d1-a456-42665544000g",
        "1234567890",
    ] {
        assert_eq!(
            PixKey::parse(bad).unwrap_err().code(),
            "pix_key_unrecognized",
            "{bad:?}"
        );
    }
    // Through the builder.
    let charge = PixCharge {
        key: "123.456.789-00".into(),
        ..fulano()
    };
    assert_eq!(
        charge.to_payload().unwrap_err().to_string(),
        "The CPF 123.456.789-00 has wrong check digits."
    );
}

#[test]
fn txid_rules() {
    for bad in ["Venda-042", "a b", "ção", &"A".repeat(26)] {
        let charge = PixCharge {
            txid: Some(bad.to_string()),
            ..fulano()
        };
        assert_eq!(
            charge.to_payload().unwrap_err().code(),
            "pix_txid_invalid",
            "{bad}"
        );
    }
    assert_eq!(pix::validate_txid(&"A".repeat(25)).unwrap().len(), 25);
}

#[test]
fn name_city_and_description() {
    let long_name = PixCharge {
        name: "Padaria e Confeitaria Pao Doce".into(),
        ..fulano()
    };
    assert_eq!(
        long_name.to_payload().unwrap_err().to_string(),
        "The merchant name can be 25 characters at most; it has 30."
    );
    let accented = PixCharge {
        city: "São Paulo".into(),
        ..fulano()
    };
    assert_eq!(
        accented.to_payload().unwrap_err().code(),
        "character_not_allowed"
    );
    // Template 26 may hold 99 characters: with an EVP key (36) that leaves 99-18-40-4 = 37.
    let fits = PixCharge {
        description: Some("d".repeat(37)),
        ..fulano()
    };
    assert!(fits.to_payload().is_ok());
    let too_long = PixCharge {
        description: Some("d".repeat(38)),
        ..fulano()
    };
    assert_eq!(
        too_long.to_payload().unwrap_err().to_string(),
        "The description can be 37 characters at most; it has 38."
    );
}

#[test]
fn rejects_long_city() {
    // The published "Presidente Prudente" BR Code (see crc::crc_of_published_br_codes) has a
    // 19-character city; EMVCo allows 15.
    let charge = PixCharge {
        key: "bee05743-4291-4f3c-9259-595df1307ba1".into(),
        name: "Alexandre Lima".into(),
        city: "Presidente Prudente".into(),
        amount_minor: Some(1000),
        txid: Some("UmIdQualquer".into()),
        description: None,
    };
    assert_eq!(
        charge.to_payload().unwrap_err().to_string(),
        "The merchant city can be 15 characters at most; it has 19."
    );
}

#[test]
fn amounts() {
    for (minor, text) in [(1, "0.01"), (1000, "10.00"), (12345, "123.45")] {
        let payload = PixCharge {
            amount_minor: Some(minor),
            ..fulano()
        }
        .to_payload()
        .unwrap();
        let objects = emvco::parse(&payload).unwrap();
        assert_eq!(objects.iter().find(|o| o.id == 54).unwrap().value, text);
    }
    for (minor, code) in [
        (0, "amount_not_positive"),
        (-100, "amount_not_positive"),
        (1_000_000_000_000, "amount_too_large"),
        (i64::MAX, "amount_too_large"),
    ] {
        let charge = PixCharge {
            amount_minor: Some(minor),
            ..fulano()
        };
        assert_eq!(charge.to_payload().unwrap_err().code(), code, "{minor}");
    }
}
