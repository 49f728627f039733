//! Money, Beijing time, trade numbers, subjects, `biz_content`, and cutting the signed object
//! out of a reply.

use jiff::Timestamp;
use shopcast_payments::alipay::wire::{
    BizContent, format_time, format_yuan, parse_time, parse_yuan, response_key, response_object,
    subject, trade_number,
};

#[test]
fn yuan_text_is_exact_with_two_decimals() {
    let cases = [
        (0, "0.00"),
        (1, "0.01"),
        (5, "0.05"),
        (10, "0.10"),
        (1250, "12.50"),
        (8800, "88.00"),
        (10_000_000_000, "100000000.00"),
    ];
    for (minor, text) in cases {
        assert_eq!(format_yuan(minor).as_deref(), Some(text));
        assert_eq!(parse_yuan(text), Some(minor));
    }
    assert_eq!(format_yuan(-1), None);
}

#[test]
fn yuan_text_is_read_exactly_or_not_at_all() {
    assert_eq!(parse_yuan("12.5"), Some(1250));
    assert_eq!(parse_yuan("12"), Some(1200));
    assert_eq!(parse_yuan("0.3"), Some(30));
    // 0.1 + 0.2 style float trouble cannot happen: these are integers all the way.
    assert_eq!(parse_yuan("100000000.29"), Some(10_000_000_029));
    for bad in [
        "",
        ".5",
        "12.",
        "12.345",
        "-1",
        "+1",
        "1e3",
        " 12",
        "12 ",
        "12,50",
        "１２",
        "NaN",
        "99999999999999999999",
    ] {
        assert_eq!(parse_yuan(bad), None, "{bad:?}");
    }
}

#[test]
fn times_are_beijing_wall_clock() {
    let at: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
    assert_eq!(format_time(at), "2026-05-01 20:00:00");
    let new_year: Timestamp = "2026-12-31T16:30:05Z".parse().unwrap();
    assert_eq!(format_time(new_year), "2027-01-01 00:30:05");
    assert_eq!(parse_time("2027-01-01 00:30:05"), Some(new_year));
    assert_eq!(parse_time("2027-01-01T00:30:05"), None);
    assert_eq!(parse_time(""), None);
}

#[test]
fn trade_numbers_are_new_each_time_and_only_use_allowed_characters() {
    let first = trade_number("O-42");
    let second = trade_number("O-42");
    assert_ne!(first, second, "a retried order gets a new trade");
    assert!(first.starts_with("O_42_"), "{first}");
    for order_ref in ["O-42", "订单-2026/05 #7", &"Z".repeat(200)] {
        let number = trade_number(order_ref);
        assert!(number.len() <= 64, "{number}");
        assert!(
            number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{number}"
        );
    }
}

#[test]
fn subjects_avoid_the_characters_alipay_refuses_and_fit_256_characters() {
    assert_eq!(subject("杯/碟 & 壶 = 套", "O-1"), "杯／碟 ＆ 壶 ＝ 套");
    assert_eq!(subject("  ", "O-1"), "O-1");
    let long = "瓷".repeat(300);
    assert_eq!(subject(&long, "O-1").chars().count(), 256);
}

#[test]
fn biz_content_is_compact_sorted_and_keeps_chinese_raw() {
    let content = BizContent::new()
        .with("total_amount", "88.00")
        .with("subject", "青花瓷杯 \"礼盒\" \\ ×2")
        .with("out_trade_no", "O_42_x")
        .with("refund_reason", "");
    assert_eq!(
        content.to_json(),
        r#"{"out_trade_no":"O_42_x","subject":"青花瓷杯 \"礼盒\" \\ ×2","total_amount":"88.00"}"#
    );
}

#[test]
fn the_signed_object_is_cut_out_exactly_as_received() {
    let key = response_key("alipay.trade.query");
    assert_eq!(key, "alipay_trade_query_response");
    let object =
        r#"{ "code":"10000", "subject":"杯 {礼盒} \"}\" \\", "n":[1,{"a":"]"}], "s":"\u9752" }"#;
    let body = format!(
        r#"{{"sign":"abc", "note":"\"{key}\":{{}}", "{key}" : {object},"alipay_cert_sn":"x"}}"#
    );
    assert_eq!(response_object(&body, &key), Some(object));
    assert_eq!(response_object(&body, "error_response"), None);
    // A member name inside a string value is not a member.
    assert_eq!(
        response_object(r#"{"note":"\"x_response\":{\"a\":1}"}"#, "x_response"),
        None
    );
    assert_eq!(
        response_object(r#"{"x_response":"text"}"#, "x_response"),
        None
    );
    assert_eq!(
        response_object(r#"[{"x_response":{}}]"#, "x_response"),
        None
    );
    assert_eq!(
        response_object(r#"{"x_response":{"a":"unterminated}"#, "x_response"),
        None
    );
}
