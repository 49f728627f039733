use shopcast_core::money::{Money, parse_price};

fn minor(input: &str, currency: &str) -> i64 {
    parse_price(input, currency)
        .unwrap_or_else(|e| panic!("{input:?} in {currency}: {e}"))
        .amount_minor
}

fn error(input: &str, currency: &str) -> String {
    parse_price(input, currency).expect_err(input).to_string()
}

#[test]
fn typed_prices_in_each_currency() {
    assert_eq!(minor("12.5", "EUR"), 1250);
    assert_eq!(minor("12,50", "EUR"), 1250);
    assert_eq!(minor("€ 12,50", "EUR"), 1250);
    assert_eq!(minor("12,50 €", "EUR"), 1250);
    assert_eq!(minor("1.234,56", "EUR"), 123_456);
    assert_eq!(minor("1 234,56", "EUR"), 123_456);
    assert_eq!(minor("1\u{a0}234,5", "EUR"), 123_450);
    assert_eq!(minor("¥88", "CNY"), 8800);
    assert_eq!(minor("￥88.8", "CNY"), 8880);
    assert_eq!(minor("88元", "CNY"), 8800);
    assert_eq!(minor("RMB 88", "CNY"), 8800);
    assert_eq!(minor("$5", "USD"), 500);
    assert_eq!(minor("US$1,234.50", "USD"), 123_450);
    assert_eq!(minor("0.99", "USD"), 99);
    assert_eq!(minor(".5", "USD"), 50);
    assert_eq!(minor("12.50 usd", "USD"), 1250);
    assert_eq!(minor("500", "JPY"), 500);
    assert_eq!(minor("¥500", "JPY"), 500);
    assert_eq!(minor("1,500", "JPY"), 1500);
    assert_eq!(minor("1.500", "JPY"), 1500);
    assert_eq!(minor("12.345", "KWD"), 12_345);
}

#[test]
fn bad_prices_are_refused_with_a_reason() {
    assert!(
        error("500.5", "JPY").contains("no minor unit"),
        "{}",
        error("500.5", "JPY")
    );
    assert!(error("12.5555", "USD").contains("2 decimals"));
    assert!(error("12", "YEN").contains("currency code"));
    assert!(error("-3", "USD").contains("negative"));
    assert!(error("", "USD").contains("Enter a price"));
    assert!(error("abc", "USD").contains("not a price"));
    assert!(error("twelve", "USD").contains("not a price"));
    assert!(error("€12", "USD").contains("not a symbol of USD"));
    assert!(error("12 EUR", "USD").contains("says EUR"));
    assert!(error("1e5", "USD").contains("not a price"));
    assert!(
        error("12.5.5", "USD").contains("separators")
            || error("12.5.5", "USD").contains("not a price")
    );
    assert!(error("99999999999999999999", "USD").contains("too large"));
    assert!(error("12", "usdollar").contains("currency code"));
}

#[test]
fn decimal_strings_round_trip_through_the_parser() {
    for (minor_units, currency) in [
        (0, "USD"),
        (1, "EUR"),
        (1250, "CNY"),
        (500, "JPY"),
        (123_456_789, "EUR"),
        (7, "KWD"),
    ] {
        let money = Money {
            amount_minor: minor_units,
            currency: currency.into(),
        };
        assert_eq!(
            minor(&money.to_decimal_string(), currency),
            minor_units,
            "{money:?}"
        );
    }
}
