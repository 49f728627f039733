use shopcast_payments::static_qr::upi::{self, UpiPayment};

fn tea_stall() -> UpiPayment {
    UpiPayment {
        vpa: "chaiwala@okaxis".into(),
        name: "Chai Point".into(),
        amount_minor: Some(2500),
        note: Some("Masala chai x2".into()),
        reference: Some("ORD-1042".into()),
    }
}

#[test]
fn full_link() {
    assert_eq!(
        tea_stall().to_payload().unwrap(),
        "upi://pay?pa=chaiwala@okaxis&pn=Chai%20Point&am=25.00&cu=INR&tn=Masala%20chai%20x2&tr=ORD-1042"
    );
}

#[test]
fn npci_linking_spec_example() {
    // NPCI UPI Linking Specifications 1.6, section 2 (implementation samples), hyperlink and
    // QR example. Our builder writes only pa, pn, am, cu, tn, tr, in that order and with two
    // decimals, so the example is read and re-written rather than compared byte for byte.
    let published = "upi://pay?pa=nadeem@npci&pn=nadeem%20chinna&mc=0000&tid=cxnkjcnkjdfdvjndkjfvn&tr=4894398cndhcd23&tn=Pay%20to%20mystar%20store&am=10&mam=null&cu=INR&url=https://mystar.com/orderid=9298yw89e8973e87389e78923ue892";
    let payment = upi::parse(published).unwrap();
    assert_eq!(
        payment,
        UpiPayment {
            vpa: "nadeem@npci".into(),
            name: "nadeem chinna".into(),
            amount_minor: Some(1000),
            note: Some("Pay to mystar store".into()),
            reference: Some("4894398cndhcd23".into()),
        }
    );
    assert_eq!(
        payment.to_payload().unwrap(),
        "upi://pay?pa=nadeem@npci&pn=nadeem%20chinna&am=10.00&cu=INR&tn=Pay%20to%20mystar%20store&tr=4894398cndhcd23"
    );
}

#[test]
fn open_amount_and_minimal_link() {
    let open = UpiPayment {
        amount_minor: None,
        note: None,
        reference: None,
        ..tea_stall()
    };
    assert_eq!(
        open.to_payload().unwrap(),
        "upi://pay?pa=chaiwala@okaxis&pn=Chai%20Point&cu=INR"
    );
}

#[test]
fn percent_encoding_is_rfc3986() {
    assert_eq!(upi::encode("Chai & Co. +1"), "Chai%20%26%20Co.%20%2B1");
    assert_eq!(upi::encode("a=b?c#d/e%"), "a%3Db%3Fc%23d%2Fe%25");
    assert_eq!(upi::encode("safe-._~AZaz09"), "safe-._~AZaz09");
    // UTF-8 bytes, upper-case hex.
    assert_eq!(upi::encode("चाय"), "%E0%A4%9A%E0%A4%BE%E0%A4%AF");
    let payment = UpiPayment {
        name: "चाय वाला".into(),
        ..tea_stall()
    };
    let link = payment.to_payload().unwrap();
    assert!(
        link.contains("&pn=%E0%A4%9A%E0%A4%BE%E0%A4%AF%20%E0%A4%B5%E0%A4%BE%E0%A4%B2%E0%A4%BE&")
    );
    assert_eq!(upi::parse(&link).unwrap(), payment);
}

#[test]
fn bad_vpa() {
    for bad in [
        "chaiwala",
        "@okaxis",
        "c@okaxis",
        "chai wala@okaxis",
        "chaiwala@ok-axis",
        "chaiwala@1axis",
        "chai@wala@okaxis",
        "chaiwala@",
    ] {
        let err = UpiPayment {
            vpa: bad.into(),
            ..tea_stall()
        }
        .to_payload()
        .unwrap_err();
        assert_eq!(err.code(), "upi_vpa_invalid", "{bad}");
    }
    assert_eq!(
        upi::validate_vpa("chai wala@okaxis")
            .unwrap_err()
            .to_string(),
        "“chai wala@okaxis” is not a UPI address: it looks like name@bank, with letters, digits, dots, hyphens or underscores before the @ and letters or digits after it."
    );
    for good in ["9876543210@ybl", "shop.name-1_a@paytm", "ab@upi"] {
        assert!(upi::validate_vpa(good).is_ok(), "{good}");
    }
}

#[test]
fn bad_amounts_and_texts() {
    for (minor, code) in [
        (0, "amount_not_positive"),
        (-1, "amount_not_positive"),
        (10_000_000_000, "amount_too_large"),
        (i64::MAX, "amount_too_large"),
    ] {
        let err = UpiPayment {
            amount_minor: Some(minor),
            ..tea_stall()
        }
        .to_payload()
        .unwrap_err();
        assert_eq!(err.code(), code, "{minor}");
    }
    assert_eq!(
        UpiPayment {
            amount_minor: Some(-150),
            ..tea_stall()
        }
        .to_payload()
        .unwrap_err()
        .to_string(),
        "The amount must be more than zero; it is INR -1.50."
    );
    let no_name = UpiPayment {
        name: String::new(),
        ..tea_stall()
    };
    assert_eq!(
        no_name.to_payload().unwrap_err().to_string(),
        "The payee name is missing."
    );
    let long_note = UpiPayment {
        note: Some("n".repeat(81)),
        ..tea_stall()
    };
    assert_eq!(
        long_note.to_payload().unwrap_err().to_string(),
        "The transaction note can be 80 characters at most; it has 81."
    );
    let long_ref = UpiPayment {
        reference: Some("r".repeat(36)),
        ..tea_stall()
    };
    assert_eq!(long_ref.to_payload().unwrap_err().code(), "too_long");
}

#[test]
fn parser_rejects_other_links() {
    assert_eq!(
        upi::parse("https://pay?pa=a@b").unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        upi::parse("upi://pay?pa=chaiwala@okaxis&pn=X&cu=USD")
            .unwrap_err()
            .code(),
        "malformed"
    );
    assert_eq!(
        upi::parse("upi://pay?pa=chaiwala@okaxis&pn=X%2")
            .unwrap_err()
            .code(),
        "malformed"
    );
}
