//! IBAN validation (ISO 13616): country, length and account format from the IBAN registry,
//! and the ISO 7064 mod-97-10 checksum.

use super::PayloadError;
use super::text::compact_upper;

/// Validates an IBAN and returns it in electronic form (no spaces, upper case).
///
/// Spaces anywhere are ignored (`"DE89 3704 0044 0532 0130 00"` is fine). Checks, in order:
/// shape (country letters, check digits, letters and digits only), that the country is in the
/// IBAN registry, the country's length, the country's account format (where letters and
/// digits go), and the mod-97 checksum.
pub fn validate(input: &str) -> Result<String, PayloadError> {
    let iban = compact_upper(input);
    let bytes = iban.as_bytes();
    let shaped = bytes.len() >= 5
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric);
    if !shaped {
        return Err(PayloadError::IbanFormat {
            iban: input.trim().to_string(),
        });
    }
    let country = &iban[..2];
    let Some(&(_, length, bban_format)) = REGISTRY.iter().find(|e| e.0 == country) else {
        return Err(PayloadError::IbanUnknownCountry {
            iban: to_print_form(&iban),
            country: country.to_string(),
        });
    };
    if iban.len() != length {
        return Err(PayloadError::IbanLength {
            iban: to_print_form(&iban),
            country: country.to_string(),
            expected: length,
            actual: iban.len(),
        });
    }
    if !matches_format(&bytes[4..], bban_format) {
        return Err(PayloadError::IbanStructure {
            iban: to_print_form(&iban),
            country: country.to_string(),
        });
    }
    if mod97(&iban) != 1 {
        return Err(PayloadError::IbanChecksum {
            iban: to_print_form(&iban),
        });
    }
    Ok(iban)
}

/// The paper form of an IBAN: groups of four separated by spaces.
pub fn to_print_form(iban: &str) -> String {
    let compact = compact_upper(iban);
    let mut out = String::with_capacity(compact.len() + compact.len() / 4);
    for (i, c) in compact.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Whether the IBAN's country is in the European Economic Area (EU, Iceland, Liechtenstein,
/// Norway, and EU regions with their own IBAN country code), where EPC069-12 version 002
/// lets the BIC be left out. `None` if the text has no country code.
pub fn is_eea(iban: &str) -> Option<bool> {
    let compact = compact_upper(iban);
    let country = compact.get(..2)?;
    Some(EEA.contains(&country))
}

/// ISO 7064 mod 97-10 of an IBAN-like string (first four characters moved to the end,
/// letters as 10–35). Also used for ISO 11649 creditor references.
pub(crate) fn mod97(s: &str) -> u32 {
    let rearranged = s.bytes().skip(4).chain(s.bytes().take(4));
    let mut rem: u32 = 0;
    for b in rearranged {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => return u32::MAX,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem
}

/// Checks a BBAN against a registry format such as `"4!a6!n8!n"` (`n` digits, `a` upper-case
/// letters, `c` letters or digits; `!` means fixed length, which every registry entry is).
fn matches_format(bban: &[u8], format: &str) -> bool {
    let mut pos = 0;
    let mut count = 0usize;
    for ch in format.chars() {
        match ch {
            '0'..='9' => count = count * 10 + (ch as usize - '0' as usize),
            '!' => {}
            'n' | 'a' | 'c' => {
                let Some(part) = bban.get(pos..pos + count) else {
                    return false;
                };
                let ok = match ch {
                    'n' => part.iter().all(u8::is_ascii_digit),
                    'a' => part.iter().all(u8::is_ascii_uppercase),
                    _ => part.iter().all(u8::is_ascii_alphanumeric),
                };
                if !ok {
                    return false;
                }
                pos += count;
                count = 0;
            }
            _ => return false,
        }
    }
    pos == bban.len()
}

/// EU member states, Iceland, Liechtenstein and Norway, plus EU outermost regions and Åland
/// that have their own IBAN country code.
const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "AX", "GF",
    "GP", "MQ", "RE", "YT", "MF",
];

/// The SWIFT IBAN registry (ISO 13616): country, IBAN length, BBAN format.
const REGISTRY: &[(&str, usize, &str)] = &[
    ("AD", 24, "4!n4!n12!c"),
    ("AE", 23, "3!n16!n"),
    ("AL", 28, "8!n16!c"),
    ("AT", 20, "5!n11!n"),
    ("AX", 18, "3!n11!n"),
    ("AZ", 28, "4!a20!c"),
    ("BA", 20, "3!n3!n8!n2!n"),
    ("BE", 16, "3!n7!n2!n"),
    ("BG", 22, "4!a4!n2!n8!c"),
    ("BH", 22, "4!a14!c"),
    ("BI", 27, "5!n5!n11!n2!n"),
    ("BL", 27, "5!n5!n11!c2!n"),
    ("BR", 29, "8!c5!n10!n1!c1!c"),
    ("BY", 28, "4!c4!n16!c"),
    ("CH", 21, "5!n12!c"),
    ("CR", 22, "4!n14!n"),
    ("CY", 28, "3!n5!n16!c"),
    ("CZ", 24, "4!n6!n10!n"),
    ("DE", 22, "8!n10!n"),
    ("DJ", 27, "23!n"),
    ("DK", 18, "4!n9!n1!n"),
    ("DO", 28, "4!c20!n"),
    ("EE", 20, "2!n2!n11!n1!n"),
    ("EG", 29, "4!n4!n17!n"),
    ("ES", 24, "4!n4!n1!n1!n10!n"),
    ("FI", 18, "3!n11!n"),
    ("FK", 18, "2!a12!n"),
    ("FO", 18, "4!n9!n1!n"),
    ("FR", 27, "5!n5!n11!c2!n"),
    ("GB", 22, "4!a6!n8!n"),
    ("GE", 22, "2!a16!n"),
    ("GF", 27, "5!n5!n11!c2!n"),
    ("GG", 22, "4!a6!n8!n"),
    ("GI", 23, "4!a15!c"),
    ("GL", 18, "4!n9!n1!n"),
    ("GP", 27, "5!n5!n11!c2!n"),
    ("GR", 27, "3!n4!n16!c"),
    ("GT", 28, "4!c20!c"),
    ("HN", 28, "4!a20!n"),
    ("HR", 21, "7!n10!n"),
    ("HU", 28, "3!n4!n1!n15!n1!n"),
    ("IE", 22, "4!a6!n8!n"),
    ("IL", 23, "3!n3!n13!n"),
    ("IM", 22, "4!a6!n8!n"),
    ("IQ", 23, "4!a3!n12!n"),
    ("IS", 26, "4!n2!n6!n10!n"),
    ("IT", 27, "1!a5!n5!n12!c"),
    ("JE", 22, "4!a6!n8!n"),
    ("JO", 30, "4!a4!n18!c"),
    ("KW", 30, "4!a22!c"),
    ("KZ", 20, "3!n13!c"),
    ("LB", 28, "4!n20!c"),
    ("LC", 32, "4!a24!c"),
    ("LI", 21, "5!n12!c"),
    ("LT", 20, "5!n11!n"),
    ("LU", 20, "3!n13!c"),
    ("LV", 21, "4!a13!c"),
    ("LY", 25, "3!n3!n15!n"),
    ("MC", 27, "5!n5!n11!c2!n"),
    ("MD", 24, "2!c18!c"),
    ("ME", 22, "3!n13!n2!n"),
    ("MF", 27, "5!n5!n11!c2!n"),
    ("MK", 19, "3!n10!c2!n"),
    ("MN", 20, "4!n12!n"),
    ("MQ", 27, "5!n5!n11!c2!n"),
    ("MR", 27, "5!n5!n11!n2!n"),
    ("MT", 31, "4!a5!n18!c"),
    ("MU", 30, "4!a2!n2!n12!n3!n3!a"),
    ("NC", 27, "5!n5!n11!c2!n"),
    ("NI", 28, "4!a20!n"),
    ("NL", 18, "4!a10!n"),
    ("NO", 15, "4!n6!n1!n"),
    ("OM", 23, "3!n16!c"),
    ("PF", 27, "5!n5!n11!c2!n"),
    ("PK", 24, "4!a16!c"),
    ("PL", 28, "8!n16!n"),
    ("PM", 27, "5!n5!n11!c2!n"),
    ("PS", 29, "4!a21!c"),
    ("PT", 25, "4!n4!n11!n2!n"),
    ("QA", 29, "4!a21!c"),
    ("RE", 27, "5!n5!n11!c2!n"),
    ("RO", 24, "4!a16!c"),
    ("RS", 22, "3!n13!n2!n"),
    ("RU", 33, "9!n5!n15!c"),
    ("SA", 24, "2!n18!c"),
    ("SC", 31, "4!a2!n2!n16!n3!a"),
    ("SD", 18, "2!n12!n"),
    ("SE", 24, "3!n16!n1!n"),
    ("SI", 19, "5!n8!n2!n"),
    ("SK", 24, "4!n6!n10!n"),
    ("SM", 27, "1!a5!n5!n12!c"),
    ("SO", 23, "4!n3!n12!n"),
    ("ST", 25, "4!n4!n11!n2!n"),
    ("SV", 28, "4!a20!n"),
    ("TF", 27, "5!n5!n11!c2!n"),
    ("TL", 23, "3!n14!n2!n"),
    ("TN", 24, "2!n3!n13!n2!n"),
    ("TR", 26, "5!n1!n16!c"),
    ("UA", 29, "6!n19!c"),
    ("VA", 22, "3!n15!n"),
    ("VG", 24, "4!a16!n"),
    ("WF", 27, "5!n5!n11!c2!n"),
    ("XK", 20, "4!n10!n2!n"),
    ("YE", 30, "4!a4!n18!c"),
    ("YT", 27, "5!n5!n11!c2!n"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_lengths_agree_with_formats() {
        for &(country, length, format) in REGISTRY {
            let total: usize = format
                .split(['n', 'a', 'c'])
                .filter(|p| !p.is_empty())
                .map(|p| p.trim_end_matches('!').parse::<usize>().unwrap())
                .sum();
            assert_eq!(total + 4, length, "{country}");
        }
    }

    #[test]
    fn print_form() {
        assert_eq!(
            to_print_form("DE89370400440532013000"),
            "DE89 3704 0044 0532 0130 00"
        );
    }
}
