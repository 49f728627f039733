//! Property tests of the engine's parsers: prices never panic and read back what the shop
//! prints, and a catalog CSV of arbitrary cells either imports or is refused without a trace.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use shopcast_core::money::{ISO_4217, MAX_MINOR, parse_price};
use shopcast_core::{Money, ProductQuery};

use super::snapshot;
use crate::shop_with;

/// Characters an owner (or a hostile file) puts in a price, weighted to the tricky ones.
fn price_text() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '0', '1', '5', '9', '.', ',', ' ', '\u{a0}', '\u{202f}', '\'', '-', '+', 'e', 'E', '¥',
        '€', '$', '円', '１', '٣', 'N', 'a', 'U', 'S', 'D', '\0', '\u{202e}',
    ]);
    prop_oneof![
        prop::collection::vec(tricky, 0..24).prop_map(|chars| chars.into_iter().collect()),
        any::<String>(),
    ]
}

fn currency() -> impl Strategy<Value = &'static str> {
    prop::sample::select(ISO_4217)
}

proptest! {
    #![proptest_config(Config { cases: 2_000, ..Config::default() })]

    /// Any text: a price in range or a refusal with a sentence, never a panic.
    #[test]
    fn price_parsing_never_panics(text in price_text(), currency in currency()) {
        match parse_price(&text, currency) {
            Ok(money) => {
                prop_assert!((0..=MAX_MINOR).contains(&money.amount_minor));
                prop_assert_eq!(money.currency, currency);
            }
            Err(error) => prop_assert!(!error.to_string().trim().is_empty()),
        }
    }

    /// What the shop prints, plainly or in a locale's style, reads back to the same amount.
    #[test]
    fn printed_prices_read_back(
        amount in 0..=MAX_MINOR,
        currency in currency(),
        locale in prop::sample::select(vec!["en", "de", "fr", "nl", "zh-CN", "ja", "pt-BR", "ru"]),
    ) {
        let money = Money { amount_minor: amount, currency: currency.to_string() };
        let plain = parse_price(&money.to_decimal_string(), currency).unwrap();
        prop_assert_eq!(plain.amount_minor, amount);
        let local = money.format_local(locale);
        let read = parse_price(&local, currency);
        prop_assert!(
            read.as_ref().is_ok_and(|m| m.amount_minor == amount),
            "{} in {} read as {:?}", local, locale, read
        );
    }
}

/// Cells of a hostile catalog: quotes, separators, formulas, controls, odd digits.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "",
        "Tea",
        "茶",
        "12.50",
        "-1",
        "=1+1",
        "'",
        "\"",
        ",",
        ";",
        "\n",
        "\r\n",
        "\0",
        "CNY",
        "XXX",
        "1e3",
        "１２",
        "SKU-1",
        "SKU-1",
        "\u{feff}",
        "\u{1b}[2J",
        " ",
        "9999999999999999999",
    ]);
    prop::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

fn catalog_file() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(cell(), 0..9);
    (
        prop::sample::select(vec![
            "sku,name,description,price,currency,stock,tags",
            "name,price",
            "price,name,sku",
            "",
        ]),
        prop::collection::vec(row, 0..12),
        any::<bool>(),
    )
        .prop_map(|(header, rows, quote)| {
            let mut text = format!("{header}\n");
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| {
                        if quote {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c.clone()
                        }
                    })
                    .collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            text.into_bytes()
        })
}

/// Either the file imports (every valid row written, no error listed) or nothing changes
/// and the file or each refused row says why; never a panic.
#[test]
fn catalog_import_imports_or_refuses_cleanly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (shop, _dir) = runtime.block_on(shop_with("CNY"));
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("arbitrary.csv");
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    runner
        .run(&catalog_file(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            runtime.block_on(async {
                let before = snapshot(&shop).await;
                let products = |shop: &shopcast_core::Shop| {
                    let shop = shop.clone();
                    async move {
                        shop.list_products(&ProductQuery {
                            search: None,
                            include_archived: true,
                            offset: 0,
                            limit: 1,
                        })
                        .await
                        .unwrap()
                        .total
                    }
                };
                let count = products(&shop).await;
                match shop.import_catalog(&path, false).await {
                    Ok(report) if report.applied => {
                        prop_assert!(report.errors.is_empty());
                        prop_assert_eq!(report.created + report.updated, report.valid);
                        prop_assert_eq!(products(&shop).await, count + report.created as i64);
                    }
                    Ok(report) => {
                        prop_assert!(!report.errors.is_empty());
                        prop_assert!(report.errors.iter().all(|e| !e.message.trim().is_empty()));
                        prop_assert_eq!(snapshot(&shop).await, before);
                    }
                    Err(error) => {
                        prop_assert!(!error.to_string().trim().is_empty());
                        prop_assert_eq!(snapshot(&shop).await, before);
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}
