use shopcast_payments::static_qr::iban;

#[test]
fn registry_examples_are_valid() {
    // Examples from the SWIFT IBAN registry (ISO 13616) and the ECBS/Wikipedia IBAN page.
    let cases = [
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        (
            "FR14 2004 1010 0505 0001 3M02 606",
            "FR1420041010050500013M02606",
        ),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"),
        ("BE68 5390 0754 7034", "BE68539007547034"),
        ("AT61 1904 3002 3457 3201", "AT611904300234573201"),
        ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957"),
        ("NO93 8601 1117 947", "NO9386011117947"),
        (
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
            "MT84MALT011000012345MTLCAST001S",
        ),
        (
            "LC55 HEMM 0001 0001 0012 0012 0002 3015",
            "LC55HEMM000100010012001200023015",
        ),
        ("SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466"),
        ("gb82west12345698765432", "GB82WEST12345698765432"),
    ];
    for (input, normalized) in cases {
        assert_eq!(iban::validate(input).unwrap(), normalized, "{input}");
    }
}

#[test]
fn wrong_check_digit() {
    let err = iban::validate("DE89 3704 0044 0532 0130 01").unwrap_err();
    assert_eq!(err.code(), "iban_checksum");
    assert_eq!(
        err.to_string(),
        "The IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit."
    );
    // Swapped check digits.
    assert_eq!(
        iban::validate("GB28 WEST 1234 5698 7654 32")
            .unwrap_err()
            .code(),
        "iban_checksum"
    );
}

#[test]
fn wrong_length_for_country() {
    let err = iban::validate("DE89 3704 0044 0532 0130 0").unwrap_err();
    assert_eq!(err.code(), "iban_length");
    assert_eq!(
        err.to_string(),
        "An IBAN from DE has 22 characters; DE89 3704 0044 0532 0130 0 has 21."
    );
}

#[test]
fn unknown_country_structure_and_shape() {
    assert_eq!(
        iban::validate("XX82 WEST 1234 5698 7654 32")
            .unwrap_err()
            .code(),
        "iban_unknown_country"
    );
    // GB wants 4 letters (the bank code) where these are digits.
    assert_eq!(
        iban::validate("GB82 1234 1234 5698 7654 32")
            .unwrap_err()
            .code(),
        "iban_structure"
    );
    for bad in [
        "",
        "DE",
        "1289370400440532013000",
        "DE89-3704-0044",
        "DEXX370400440532013000",
    ] {
        assert_eq!(
            iban::validate(bad).unwrap_err().code(),
            "iban_format",
            "{bad:?}"
        );
    }
}

#[test]
fn print_form_and_eea() {
    assert_eq!(
        iban::to_print_form("FR1420041010050500013M02606"),
        "FR14 2004 1010 0505 0001 3M02 606"
    );
    assert_eq!(iban::is_eea("DE89370400440532013000"), Some(true));
    assert_eq!(iban::is_eea("NO9386011117947"), Some(true));
    assert_eq!(iban::is_eea("CH9300762011623852957"), Some(false));
    assert_eq!(iban::is_eea("GB82WEST12345698765432"), Some(false));
}
