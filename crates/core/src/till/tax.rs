//! How a sale is priced: each line's discount, its share of the order's discount, and its
//! tax at the line's rate, all in integer minor units, rounded per line (documented below).
//!
//! The rules, in the words of the README's "Taxes and discounts":
//! * A line before discounts is `unit price × quantity` in the shop's price terms: gross
//!   when prices include tax (EU, China), net when they do not (US).
//! * A line discount (`10%` or an amount) comes off that; then the order's discount is split
//!   over the lines in proportion to what is left, by the largest remainder, so the shares
//!   add up to the order's discount exactly.
//! * Tax is worked out once per line on what is left, rounded half away from zero to the
//!   minor unit: inclusive `tax = round(G × r / (1 + r))`, `net = G − tax`; exclusive
//!   `tax = round(N × r)`, `gross = N + tax`. So `net + tax = gross` on every line, and the
//!   order's and a report's tax per rate are sums of the lines' (HMRC VAT Notice 700 §17.5
//!   allows rounding per line to the nearer penny; New York's sales tax rounds half a cent up).
//! * A line's `discount_minor` is in gross terms: gross before discounts − gross, so
//!   `gross + discount` is what the line cost before discounts, whichever way prices are given.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::money::{MAX_MINOR, parse_amount};

/// One million: rates and percentages are held in parts per million (19 % = 190 000).
pub const PPM: i64 = 1_000_000;

/// A discount as the cashier gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum Discount {
    /// A share of the price in parts per million (10 % = 100 000).
    Percent(i64),
    /// An amount off, in minor units of the sale's currency, in the shop's price terms.
    Amount(i64),
}

/// Reads a discount as typed: "10%", "12.5 %", "5.00", "¥5" (an amount in `currency`).
pub fn parse_discount(typed: &str, currency: &str) -> Result<Discount> {
    let text = typed.trim();
    if let Some(number) = text.strip_suffix(['%', '％']) {
        let ppm = parse_percent(number.trim()).ok_or_else(|| {
            CoreError::invalid(
                "discount",
                format!("“{text}” is not a percentage. Type for example 10% or 12.5%."),
            )
        })?;
        if ppm == 0 || ppm > PPM {
            return Err(CoreError::invalid(
                "discount",
                "A percentage discount is more than 0% and at most 100%.",
            ));
        }
        return Ok(Discount::Percent(ppm));
    }
    let money = parse_amount(text, currency, "discount")?;
    if money.amount_minor == 0 {
        return Err(CoreError::invalid(
            "discount",
            "A discount must be more than zero.",
        ));
    }
    Ok(Discount::Amount(money.amount_minor))
}

/// "19", "8.875", "7,5" as parts per million (at most 4 decimals: 0.0001 % is 1 ppm).
pub fn parse_percent(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if int.is_empty() && frac.is_empty()
        || int.len() > 7
        || frac.len() > 4
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: i64 = format!("{frac:0<4}").parse().ok()?;
    Some(int * 10_000 + frac)
}

/// A rate in ppm as a percentage for people: 190000 → "19", 88750 → "8.875".
pub fn percent_text(ppm: i64) -> String {
    let int = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        int.to_string()
    } else {
        format!("{int}.{frac:04}").trim_end_matches('0').to_string()
    }
}

/// A rate as printed: its name, with the percentage unless the name already says it
/// ("VAT 19 %" stays, "VAT" becomes "VAT 19%").
pub fn rate_label(name: &str, rate_ppm: i64) -> String {
    if name.contains(['%', '％']) {
        name.to_string()
    } else {
        format!("{name} {}%", percent_text(rate_ppm))
    }
}

/// One line as the till sends it to be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineToPrice {
    pub unit_minor: i64,
    pub quantity: i64,
    /// The line's tax rate in ppm (0: no tax).
    pub rate_ppm: i64,
    pub discount: Option<Discount>,
}

/// A priced line; `net + tax = gross` and `gross + discount` is the line before discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PricedLine {
    pub gross_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub discount_minor: i64,
}

/// `a × b / c` rounded half away from zero (exact: i128 inside).
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c));
    let n = a * b;
    let q = n / c;
    let r = n % c;
    let q = if 2 * r.abs() >= c.abs() {
        q + n.signum() * c.signum()
    } else {
        q
    };
    q as i64
}

/// Tax in an amount that includes it: `round(G × r / (1 + r))`.
pub fn tax_included(gross_minor: i64, rate_ppm: i64) -> i64 {
    mul_div_round(gross_minor, rate_ppm, PPM + rate_ppm)
}

/// Tax on an amount without it: `round(N × r)`.
pub fn tax_on(net_minor: i64, rate_ppm: i64) -> i64 {
    mul_div_round(net_minor, rate_ppm, PPM)
}

/// What a discount takes off `base` (a percentage rounded like tax, half away from zero).
fn discount_amount(base: i64, discount: Discount) -> i64 {
    match discount {
        Discount::Percent(ppm) => mul_div_round(base, ppm, PPM),
        Discount::Amount(minor) => minor,
    }
}

/// Splits `total` over `weights` in proportion, by the largest remainder (ties to the
/// earlier line), so the shares add up to `total` exactly.
pub fn split_by_largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        let mut shares = vec![0; weights.len()];
        if let Some(first) = shares.first_mut() {
            *first = total;
        }
        return shares;
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given: i64 = 0;
    for (i, w) in weights.iter().enumerate() {
        let n = i128::from(total) * i128::from(*w);
        let share = (n / sum) as i64;
        shares.push(share);
        remainders.push((n % sum, i));
        given += share;
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.iter().take((total - given) as usize) {
        shares[*i] += 1;
    }
    shares
}

/// Prices an order's lines with their discounts, the order's discount and tax, per line.
///
/// Refuses a discount larger than what it comes off and an order left at zero or below (no
/// provider takes a free sale), and totals beyond [`MAX_MINOR`].
pub fn price_lines(
    lines: &[LineToPrice],
    order_discount: Option<Discount>,
    prices_include_tax: bool,
) -> Result<Vec<PricedLine>> {
    let too_large = || CoreError::invalid("lines", "The total is too large.");
    let mut after_line = Vec::with_capacity(lines.len());
    let mut before = Vec::with_capacity(lines.len());
    for line in lines {
        let base = line
            .unit_minor
            .checked_mul(line.quantity)
            .filter(|b| *b <= MAX_MINOR)
            .ok_or_else(too_large)?;
        let off = match line.discount {
            Some(d) => discount_amount(base, d),
            None => 0,
        };
        if off > base {
            return Err(CoreError::invalid(
                "discount",
                "A line's discount cannot be more than the line.",
            ));
        }
        before.push(base);
        after_line.push(base - off);
    }
    let subtotal: i64 = after_line
        .iter()
        .try_fold(0i64, |sum, a| {
            sum.checked_add(*a).filter(|s| *s <= MAX_MINOR)
        })
        .ok_or_else(too_large)?;
    let order_off = match order_discount {
        Some(d) => discount_amount(subtotal, d),
        None => 0,
    };
    if order_off > subtotal {
        return Err(CoreError::invalid(
            "discount",
            "The discount cannot be more than the sale.",
        ));
    }
    let shares = split_by_largest_remainder(order_off, &after_line);
    let mut priced = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let left = after_line[i] - shares[i];
        let p = if prices_include_tax {
            let tax = tax_included(left, line.rate_ppm);
            PricedLine {
                gross_minor: left,
                net_minor: left - tax,
                tax_minor: tax,
                discount_minor: before[i] - left,
            }
        } else {
            let tax = tax_on(left, line.rate_ppm);
            let gross_before = before[i] + tax_on(before[i], line.rate_ppm);
            PricedLine {
                gross_minor: left + tax,
                net_minor: left,
                tax_minor: tax,
                discount_minor: gross_before - (left + tax),
            }
        };
        priced.push(p);
    }
    let total: i64 = priced.iter().map(|p| p.gross_minor).sum();
    if total > MAX_MINOR {
        return Err(too_large());
    }
    if total <= 0 && !lines.is_empty() {
        return Err(CoreError::invalid(
            "discount",
            "The total after discounts must be more than zero.",
        ));
    }
    Ok(priced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit_minor: i64, quantity: i64, rate: i64) -> LineToPrice {
        LineToPrice {
            unit_minor,
            quantity,
            rate_ppm: rate,
            discount: None,
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(mul_div_round(5, 1, 10), 1);
        assert_eq!(mul_div_round(4, 1, 10), 0);
        assert_eq!(mul_div_round(15, 1, 10), 2);
        assert_eq!(mul_div_round(-15, 1, 10), -2);
        assert_eq!(mul_div_round(-14, 1, 10), -1);
    }

    /// HMRC, VAT Notice 700 §17.5 and the VAT fraction (1/6 at the 20 % standard rate):
    /// the VAT in £117.50 including VAT is 117.50 / 6 = 19.583… → £19.58, net £97.92; per
    /// line, to the nearer penny.
    #[test]
    fn hmrc_vat_fraction_at_twenty_percent() {
        assert_eq!(tax_included(11_750, 200_000), 1_958);
        assert_eq!(tax_included(12_000, 200_000), 2_000);
        let p = price_lines(&[line(11_750, 1, 200_000)], None, true).unwrap();
        assert_eq!((p[0].net_minor, p[0].tax_minor), (9_792, 1_958));
    }

    /// Germany (UStG §12): 19 % on a net 100.00 € is 19.00 €; 7 % on 4.99 € is 0.3493 → 0.35 €.
    /// Inclusive 119.00 € at 19 % holds exactly 19.00 €.
    #[test]
    fn german_vat_rates() {
        assert_eq!(tax_on(10_000, 190_000), 1_900);
        assert_eq!(tax_on(499, 70_000), 35);
        assert_eq!(tax_included(11_900, 190_000), 1_900);
    }

    /// New York State sales tax (Publication 750: round to the nearest cent, half a cent up):
    /// $10.00 in New York City at 8.875 % is $0.8875 → $0.89; $4.00 → $0.355 → $0.36.
    #[test]
    fn new_york_city_sales_tax() {
        assert_eq!(parse_percent("8.875"), Some(88_750));
        assert_eq!(tax_on(1_000, 88_750), 89);
        assert_eq!(tax_on(400, 88_750), 36);
        let p = price_lines(&[line(400, 1, 88_750)], None, false).unwrap();
        assert_eq!(p[0].gross_minor, 436);
    }

    /// China 增值税 13 %: ¥113.00 including VAT holds ¥13.00 (价税合计 ÷ 1.13 × 13 %).
    #[test]
    fn china_vat_thirteen_percent() {
        assert_eq!(tax_included(11_300, 130_000), 1_300);
    }

    #[test]
    fn discounts_parse() {
        assert_eq!(
            parse_discount("10%", "EUR").unwrap(),
            Discount::Percent(100_000)
        );
        assert_eq!(
            parse_discount(" 12,5 % ", "EUR").unwrap(),
            Discount::Percent(125_000)
        );
        assert_eq!(
            parse_discount("5.00", "EUR").unwrap(),
            Discount::Amount(500)
        );
        assert_eq!(parse_discount("¥5", "CNY").unwrap(), Discount::Amount(500));
        assert_eq!(parse_discount("50", "JPY").unwrap(), Discount::Amount(50));
        for bad in ["", "%", "0%", "101%", "-5", "abc", "5.5.5", "1e3%", "0"] {
            let err = parse_discount(bad, "EUR").unwrap_err();
            assert!(
                matches!(
                    err,
                    CoreError::Validation {
                        field: "discount",
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        assert!(parse_discount("5.50", "JPY").is_err());
    }

    #[test]
    fn percent_texts() {
        assert_eq!(percent_text(190_000), "19");
        assert_eq!(percent_text(88_750), "8.875");
        assert_eq!(percent_text(0), "0");
        assert_eq!(percent_text(75_000), "7.5");
    }

    #[test]
    fn an_order_discount_is_split_by_largest_remainder() {
        assert_eq!(
            split_by_largest_remainder(100, &[1, 1, 1]),
            vec![34, 33, 33]
        );
        assert_eq!(split_by_largest_remainder(10, &[300, 700]), vec![3, 7]);
        assert_eq!(split_by_largest_remainder(0, &[5, 5]), vec![0, 0]);
    }

    #[test]
    fn too_large_discounts_are_refused() {
        let mut l = line(500, 1, 0);
        l.discount = Some(Discount::Amount(501));
        assert!(price_lines(&[l], None, true).is_err());
        assert!(price_lines(&[line(500, 1, 0)], Some(Discount::Amount(500)), true).is_err());
        assert!(price_lines(&[line(500, 1, 0)], Some(Discount::Percent(PPM)), true).is_err());
    }

    #[test]
    fn exclusive_discount_is_kept_in_gross_terms() {
        // $10.00 net at 10 %, 10 % off: net 9.00, tax 0.90, gross 9.90; before 11.00.
        let mut l = line(1_000, 1, 100_000);
        l.discount = Some(Discount::Percent(100_000));
        let p = price_lines(&[l], None, false).unwrap()[0];
        assert_eq!(
            p,
            PricedLine {
                gross_minor: 990,
                net_minor: 900,
                tax_minor: 90,
                discount_minor: 110
            }
        );
    }

    mod baskets {
        use super::*;
        use crate::money::{exponent, format_minor};
        use proptest::prelude::*;

        /// Rates shops use: none, VAT 7/19/20 %, 增值税 13 %, NYC 8.875 %, 5 %.
        const RATES: [i64; 7] = [0, 70_000, 190_000, 200_000, 130_000, 88_750, 50_000];
        /// Currencies with 0, 2, 2 and 3 decimals: typed amount discounts parse in each.
        const CURRENCIES: [&str; 4] = ["JPY", "CNY", "EUR", "KWD"];

        /// (unit price, quantity, rate index, line discount kind) per line.
        type Lines = Vec<(i64, i64, usize, Option<u8>)>;
        /// (currency index, lines, order discount kind, prices include tax, seed).
        type Basket = (usize, Lines, Option<u8>, bool, u64);

        fn basket() -> impl Strategy<Value = Basket> {
            (
                0..CURRENCIES.len(),
                prop::collection::vec(
                    (
                        1i64..2_000_000,
                        1i64..40,
                        0..RATES.len(),
                        prop::option::of(0u8..4),
                    ),
                    1..12,
                ),
                prop::option::of(0u8..4),
                any::<bool>(),
                any::<u64>(),
            )
        }

        /// A discount the cashier might type, parsed as the till does in `currency`.
        fn typed(kind: u8, base: i64, seed: u64, currency: &str) -> Option<Discount> {
            let text = match kind {
                0 => "10%".to_string(),
                1 => "12.5%".to_string(),
                2 => format_minor(
                    (seed as i64).rem_euclid(base.max(1)) / 3 + 1,
                    exponent(currency),
                ),
                _ => return None,
            };
            parse_discount(&text, currency).ok()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            #[test]
            fn every_line_adds_up((currency, raw, order_kind, inclusive, seed) in basket()) {
                let currency = CURRENCIES[currency];
                let lines: Vec<LineToPrice> = raw
                    .iter()
                    .map(|(unit, qty, rate, kind)| LineToPrice {
                        unit_minor: *unit,
                        quantity: *qty,
                        rate_ppm: RATES[*rate],
                        discount: kind.and_then(|k| typed(k, unit * qty, seed, currency)),
                    })
                    .collect();
                let subtotal: i64 = lines.iter().map(|l| l.unit_minor * l.quantity).sum();
                let order = order_kind.and_then(|k| typed(k, subtotal, seed >> 7, currency));
                let Ok(priced) = price_lines(&lines, order, inclusive) else {
                    // Only a discount larger than what it comes off may be refused.
                    prop_assert!(lines.iter().any(|l| matches!(l.discount, Some(Discount::Amount(_))))
                        || matches!(order, Some(Discount::Amount(_))));
                    return Ok(());
                };
                let mut own_and_shared = 0i64;
                for (line, p) in lines.iter().zip(&priced) {
                    let base = line.unit_minor * line.quantity;
                    // net + tax = gross, exactly, on every line.
                    prop_assert_eq!(p.net_minor + p.tax_minor, p.gross_minor);
                    prop_assert!(p.gross_minor >= 0 && p.tax_minor >= 0 && p.discount_minor >= 0);
                    // Tax is the rate rounded to the nearest minor unit (checked without the
                    // code's own rounding: twice the error is at most the divisor).
                    let r = i128::from(line.rate_ppm);
                    let m = i128::from(PPM);
                    if inclusive {
                        let err = i128::from(p.tax_minor) * (m + r) - i128::from(p.gross_minor) * r;
                        prop_assert!(2 * err.abs() <= m + r, "{err}");
                        prop_assert_eq!(p.gross_minor + p.discount_minor, base);
                        own_and_shared += p.discount_minor;
                    } else {
                        let err = i128::from(p.tax_minor) * m - i128::from(p.net_minor) * r;
                        prop_assert!(2 * err.abs() <= m, "{err}");
                        prop_assert_eq!(p.gross_minor + p.discount_minor, base + tax_on(base, line.rate_ppm));
                        own_and_shared += base - p.net_minor;
                    }
                }
                // The order's discount is shared out exactly: all the discounts given, in the
                // shop's price terms, are the lines' own plus the order's.
                let own: i64 = lines
                    .iter()
                    .map(|l| match l.discount {
                        Some(d) => discount_amount(l.unit_minor * l.quantity, d),
                        None => 0,
                    })
                    .sum();
                let after_own = subtotal - own;
                let order_off = order.map_or(0, |d| discount_amount(after_own, d));
                prop_assert_eq!(own_and_shared, own + order_off);
            }
        }
    }
}
