use shopcast_payments::static_qr::epc::{
    self, CharacterSet, CreditTransfer, MAX_PAYLOAD_BYTES, Remittance, Version,
};

fn red_cross() -> CreditTransfer {
    CreditTransfer {
        version: Version::V001,
        character_set: CharacterSet::Utf8,
        bic: Some("BPOTBEB1".into()),
        name: "Red Cross of Belgium".into(),
        iban: "BE72000000001616".into(),
        amount_minor: Some(100),
        purpose: Some("CHAR".into()),
        remittance: Remittance::Text("Urgency fund".into()),
        information: Some("Sample EPC QR code".into()),
    }
}

#[test]
fn red_cross_sample() {
    // Wikipedia, "EPC QR code", section "Sample content of QR Code" (the €1 donation to the
    // Belgian Red Cross): "BCD 001 1 SCT BPOTBEB1 Red Cross of Belgium BE72000000001616 EUR1
    // CHAR (empty structured reference) Urgency fund Sample EPC QR code", one per line.
    let expected = "BCD\n001\n1\nSCT\nBPOTBEB1\nRed Cross of Belgium\nBE72000000001616\nEUR1\nCHAR\n\nUrgency fund\nSample EPC QR code";
    assert_eq!(red_cross().to_payload().unwrap(), expected.as_bytes());
    // Without the beneficiary-to-originator line the payload ends at the text (copies of the
    // sample that stop at "Urgency fund").
    let without_info = CreditTransfer {
        information: None,
        ..red_cross()
    };
    assert_eq!(
        without_info.to_payload().unwrap(),
        b"BCD\n001\n1\nSCT\nBPOTBEB1\nRed Cross of Belgium\nBE72000000001616\nEUR1\nCHAR\n\nUrgency fund"
    );
}

#[test]
fn epc069_12_example_1_structured_reference_utf8() {
    // EPC069-12 v2.1 (9 February 2012), example 1: BIC BHBLDEHHXXX, "Franz Mustermänn",
    // DE71110220330123456789, EUR12.3, purpose GDDS, creditor reference RF18539007547034,
    // character set 1 (UTF-8), 96 bytes. (The same fields appear in Neodynamic's EPC sample
    // "001|BHBLDEHHXXX|Franz Mustermänn|DE71110220330123456789|EUR12.3|GDDS|RF18539007547034";
    // segno's test_epc.py asserts the 96-byte length for this example.)
    let transfer = CreditTransfer {
        version: Version::V001,
        character_set: CharacterSet::Utf8,
        bic: Some("BHBLDEHHXXX".into()),
        name: "Franz Mustermänn".into(),
        iban: "DE71110220330123456789".into(),
        amount_minor: Some(1230),
        purpose: Some("GDDS".into()),
        remittance: Remittance::Reference("RF18 5390 0754 7034".into()),
        information: None,
    };
    let payload = transfer.to_payload().unwrap();
    let expected = "BCD\n001\n1\nSCT\nBHBLDEHHXXX\nFranz Mustermänn\nDE71110220330123456789\nEUR12.3\nGDDS\nRF18539007547034";
    assert_eq!(payload, expected.as_bytes());
    assert_eq!(payload.len(), 96);
}

#[test]
fn epc069_12_example_2_latin1_without_bic() {
    // EPC069-12 v2.1, example 2: version 002 without BIC, character set 2 (ISO 8859-1),
    // "François D'Alsace S.A.", FR1420041010050500013M02606, EUR12.3, unstructured text
    // "Client:Marie Louise La Lune", 103 bytes (length asserted by segno's test_epc.py).
    let transfer = CreditTransfer {
        version: Version::V002,
        character_set: CharacterSet::Latin1,
        bic: None,
        name: "François D'Alsace S.A.".into(),
        iban: "FR14 2004 1010 0505 0001 3M02 606".into(),
        amount_minor: Some(1230),
        purpose: None,
        remittance: Remittance::Text("Client:Marie Louise La Lune".into()),
        information: None,
    };
    let payload = transfer.to_payload().unwrap();
    let mut expected = b"BCD\n002\n2\nSCT\n\nFran".to_vec();
    expected.push(0xE7); // "ç" in ISO 8859-1: one byte, not UTF-8's two.
    expected.extend_from_slice(
        b"ois D'Alsace S.A.\nFR1420041010050500013M02606\nEUR12.3\n\n\nClient:Marie Louise La Lune",
    );
    assert_eq!(payload, expected);
    assert_eq!(payload.len(), 103);
}

#[test]
fn trailing_empty_elements_are_left_out() {
    // "The last populated element is not followed by a line feed": without amount and
    // remittance the payload ends at the IBAN.
    let transfer = CreditTransfer {
        name: "Café Olé".into(),
        iban: "DE89 3704 0044 0532 0130 00".into(),
        ..CreditTransfer::default()
    };
    assert_eq!(
        transfer.to_payload().unwrap(),
        "BCD\n002\n1\nSCT\n\nCafé Olé\nDE89370400440532013000".as_bytes()
    );
    // Information alone keeps the empty lines before it.
    let with_info = CreditTransfer {
        information: Some("Danke!".into()),
        ..transfer
    };
    assert_eq!(
        with_info.to_payload().unwrap(),
        "BCD\n002\n1\nSCT\n\nCafé Olé\nDE89370400440532013000\n\n\n\n\nDanke!".as_bytes()
    );
}

#[test]
fn amounts_are_exact() {
    let cases = [
        (1, "EUR0.01"),
        (10, "EUR0.1"),
        (100, "EUR1"),
        (1250, "EUR12.5"),
        (1999, "EUR19.99"),
        (99_999_999_999, "EUR999999999.99"),
    ];
    for (minor, line) in cases {
        let payload = CreditTransfer {
            amount_minor: Some(minor),
            ..red_cross()
        }
        .to_payload()
        .unwrap();
        let text = String::from_utf8(payload).unwrap();
        assert_eq!(text.lines().nth(7), Some(line), "{minor}");
    }
}

#[test]
fn bad_amounts() {
    for (minor, code, message) in [
        (
            0,
            "amount_not_positive",
            "The amount must be more than zero; it is EUR 0.00.",
        ),
        (
            -500,
            "amount_not_positive",
            "The amount must be more than zero; it is EUR -5.00.",
        ),
        (
            100_000_000_000,
            "amount_too_large",
            "The amount can be EUR 999999999.99 at most; it is EUR 1000000000.00.",
        ),
        (
            i64::MAX,
            "amount_too_large",
            "The amount can be EUR 999999999.99 at most; it is EUR 92233720368547758.07.",
        ),
    ] {
        let err = CreditTransfer {
            amount_minor: Some(minor),
            ..red_cross()
        }
        .to_payload()
        .unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn bad_iban() {
    let err = CreditTransfer {
        iban: "DE89 3704 0044 0532 0130 01".into(),
        ..red_cross()
    }
    .to_payload()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit."
    );
}

#[test]
fn name_limits() {
    let err = CreditTransfer {
        name: "x".repeat(71),
        ..red_cross()
    }
    .to_payload()
    .unwrap_err();
    assert_eq!(err.code(), "too_long");
    assert_eq!(
        err.to_string(),
        "The beneficiary name can be 70 characters at most; it has 71."
    );
    // 70 characters are fine, counted as characters even when each takes 2 bytes.
    assert!(
        CreditTransfer {
            name: "ä".repeat(70),
            ..red_cross()
        }
        .to_payload()
        .is_ok()
    );
    let err = CreditTransfer {
        name: "  ".into(),
        ..red_cross()
    }
    .to_payload()
    .unwrap_err();
    assert_eq!(err.to_string(), "The beneficiary name is missing.");
}

#[test]
fn other_text_limits() {
    let too_long_text = CreditTransfer {
        remittance: Remittance::Text("t".repeat(141)),
        ..red_cross()
    };
    assert_eq!(
        too_long_text.to_payload().unwrap_err().to_string(),
        "The remittance text can be 140 characters at most; it has 141."
    );
    let too_long_info = CreditTransfer {
        information: Some("i".repeat(71)),
        ..red_cross()
    };
    assert_eq!(too_long_info.to_payload().unwrap_err().code(), "too_long");
    let line_break = CreditTransfer {
        remittance: Remittance::Text("Invoice 12\nand 13".into()),
        ..red_cross()
    };
    assert_eq!(
        line_break.to_payload().unwrap_err().code(),
        "control_character"
    );
}

#[test]
fn latin1_refuses_other_characters() {
    let err = CreditTransfer {
        character_set: CharacterSet::Latin1,
        name: "Łukasz Żółć".into(),
        ..red_cross()
    }
    .to_payload()
    .unwrap_err();
    assert_eq!(err.code(), "not_in_character_set");
    assert_eq!(
        err.to_string(),
        "The beneficiary name contains “Ł”, which ISO 8859-1 (EPC character set 2) cannot represent."
    );
    let euro_sign = CreditTransfer {
        character_set: CharacterSet::Latin1,
        remittance: Remittance::Text("5 € tip".into()),
        ..red_cross()
    };
    assert_eq!(
        euro_sign.to_payload().unwrap_err().code(),
        "not_in_character_set"
    );
    // The same text is fine in UTF-8.
    assert!(
        CreditTransfer {
            name: "Łukasz Żółć".into(),
            ..red_cross()
        }
        .to_payload()
        .is_ok()
    );
}

#[test]
fn bic_rules() {
    let no_bic_v1 = CreditTransfer {
        bic: None,
        ..red_cross()
    };
    assert_eq!(no_bic_v1.to_payload().unwrap_err().code(), "bic_required");
    let no_bic_v2 = CreditTransfer {
        version: Version::V002,
        ..no_bic_v1
    };
    assert!(no_bic_v2.to_payload().is_ok());
    // A Swiss account is in SEPA but not in the EEA: the BIC stays required.
    let swiss = CreditTransfer {
        iban: "CH93 0076 2011 6238 5295 7".into(),
        ..no_bic_v2
    };
    let err = swiss.to_payload().unwrap_err();
    assert_eq!(err.code(), "bic_required");
    assert_eq!(
        err.to_string(),
        "The BIC of the beneficiary's bank is required here: the account is outside the European Economic Area."
    );
    for bad in ["BPOTBE", "BPOTBEB1X", "1POTBEB1", "BPOTBEB1XXXX"] {
        let err = CreditTransfer {
            bic: Some(bad.into()),
            ..red_cross()
        }
        .to_payload()
        .unwrap_err();
        assert_eq!(err.code(), "bic_invalid", "{bad}");
    }
}

#[test]
fn purpose_and_references() {
    let bad_purpose = CreditTransfer {
        purpose: Some("CHARITY".into()),
        ..red_cross()
    };
    assert_eq!(bad_purpose.to_payload().unwrap_err().code(), "bad_format");

    let wrong_check = CreditTransfer {
        remittance: Remittance::Reference("RF19 5390 0754 7034".into()),
        ..red_cross()
    };
    let err = wrong_check.to_payload().unwrap_err();
    assert_eq!(err.code(), "creditor_reference_checksum");
    assert_eq!(
        err.to_string(),
        "The creditor reference RF19539007547034 has a wrong check digit."
    );
    for bad in [
        "RF18",
        "XX18539007547034",
        "RF1853900754703412345678901",
        "RF18-5390",
    ] {
        assert_eq!(
            epc::validate_creditor_reference(bad).unwrap_err().code(),
            "creditor_reference_invalid",
            "{bad}"
        );
    }
    // Letters count too (RF45G72UUR is valid; python-stdnum agrees).
    assert_eq!(
        epc::validate_creditor_reference("RF45 G72U UR").unwrap(),
        "RF45G72UUR"
    );
}

#[test]
fn payload_size_limit() {
    let big = CreditTransfer {
        name: "€".repeat(70),
        remittance: Remittance::Text("€".repeat(140)),
        ..red_cross()
    };
    let err = big.to_payload().unwrap_err();
    assert_eq!(err.code(), "payload_too_long");
    assert!(err.to_string().starts_with(&format!(
        "The EPC QR code payload can be {MAX_PAYLOAD_BYTES} bytes at most; this one has "
    )));
}

#[test]
fn parse_round_trips() {
    for transfer in [
        red_cross(),
        CreditTransfer {
            version: Version::V002,
            character_set: CharacterSet::Latin1,
            bic: None,
            name: "Bäckerei Müller".into(),
            iban: "AT611904300234573201".into(),
            amount_minor: Some(4250),
            purpose: None,
            remittance: Remittance::Reference("RF18539007547034".into()),
            information: Some("Grüße".into()),
        },
    ] {
        let payload = transfer.to_payload().unwrap();
        assert_eq!(epc::parse(&payload).unwrap(), transfer);
    }
    // CR LF line ends are read too.
    let crlf = b"BCD\r\n002\r\n1\r\nSCT\r\n\r\nShop\r\nDE89370400440532013000\r\nEUR5";
    assert_eq!(epc::parse(crlf).unwrap().amount_minor, Some(500));
    assert_eq!(epc::parse(b"BCD\n003\n1").unwrap_err().code(), "malformed");
}
