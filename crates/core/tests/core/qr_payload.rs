use shopcast_core::qr_payload::{QrPayloadRequest, build};

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
    assert_eq!(bad_iban.code(), "payload_invalid");
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
