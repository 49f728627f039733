//! Character-level checks shared by the builders.

use super::PayloadError;

/// Number of characters (Unicode scalar values), the unit every standard here counts in.
pub(crate) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Rejects control characters (C0, DEL, C1): they would break line- or TLV-based payloads.
pub(crate) fn no_controls(field: &'static str, value: &str) -> Result<(), PayloadError> {
    if value.chars().any(char::is_control) {
        return Err(PayloadError::ControlCharacter { field });
    }
    Ok(())
}

/// Checks a length limit in characters.
pub(crate) fn max_chars(field: &'static str, value: &str, max: usize) -> Result<(), PayloadError> {
    let actual = chars(value);
    if actual > max {
        return Err(PayloadError::TooLong { field, max, actual });
    }
    Ok(())
}

/// A required text: not empty (nor only spaces), no control characters, at most `max` characters.
pub(crate) fn required(field: &'static str, value: &str, max: usize) -> Result<(), PayloadError> {
    if value.trim().is_empty() {
        return Err(PayloadError::Missing { field });
    }
    no_controls(field, value)?;
    max_chars(field, value, max)
}

/// An optional text: `None` or only spaces count as absent.
pub(crate) fn optional<'a>(
    field: &'static str,
    value: Option<&'a str>,
    max: usize,
) -> Result<Option<&'a str>, PayloadError> {
    match value {
        Some(v) if !v.trim().is_empty() => {
            no_controls(field, v)?;
            max_chars(field, v, max)?;
            Ok(Some(v))
        }
        _ => Ok(None),
    }
}

/// Removes spaces (people write IBANs and references in groups of four).
pub(crate) fn compact_upper(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}
