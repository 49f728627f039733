//! What Alipay and WeChat Pay share as mainland China providers: Beijing time on the wire and
//! yuan (CNY, counted in fen) as the only currency.

use jiff::Timestamp;
use jiff::tz::{self, Offset};

use crate::provider::{ProviderError, ProviderKind};

/// China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact and
/// spares the till a time-zone database.
pub const BEIJING: Offset = tz::offset(8);

/// RFC 3339 in Beijing time, whole seconds, as WeChat Pay writes times
/// ("2026-05-01T20:00:00+08:00").
pub fn rfc3339(at: Timestamp) -> String {
    format!(
        "{}+08:00",
        BEIJING.to_datetime(at).strftime("%Y-%m-%dT%H:%M:%S")
    )
}

/// These providers settle in yuan only (any letter case of "CNY"); anything else is refused
/// before a request is sent, with a sentence for the owner.
pub fn check_currency(provider: ProviderKind, currency: &str) -> Result<(), ProviderError> {
    if currency.trim().eq_ignore_ascii_case("CNY") {
        return Ok(());
    }
    let name = match provider {
        ProviderKind::Alipay => "Alipay face-to-face",
        ProviderKind::Wechat => "WeChat Pay",
        other => other.as_str(),
    };
    Err(ProviderError::Config {
        provider,
        detail: format!(
            "{name} takes yuan (CNY) only, and this payment is in {currency}. Set the shop \
             currency to CNY, or take this payment another way."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_eight_hours_ahead_in_whole_seconds() {
        let at: Timestamp = "2026-05-01T12:00:00.750Z".parse().unwrap();
        assert_eq!(rfc3339(at), "2026-05-01T20:00:00+08:00");
        assert_eq!(
            rfc3339(at).parse::<Timestamp>().unwrap().as_second(),
            at.as_second()
        );
    }

    #[test]
    fn both_providers_take_cny_in_any_case_and_nothing_else() {
        for kind in [ProviderKind::Alipay, ProviderKind::Wechat] {
            for ok in ["CNY", "cny", "Cny"] {
                check_currency(kind, ok).unwrap();
            }
            for other in ["EUR", "RMB", "", "CNH"] {
                let err = check_currency(kind, other).unwrap_err();
                assert!(matches!(err, ProviderError::Config { provider, .. } if provider == kind));
            }
        }
    }
}
