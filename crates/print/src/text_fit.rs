//! Fitting text into a width: wrapping into lines (CJK breaks anywhere, other text at
//! spaces) and ellipsizing with "…", measured in the bundled fonts.

use crate::fonts::Fonts;

const ELLIPSIS: char = '…';

/// Break `text` into at most `max_lines` lines of at most `max_em` em; the last
/// line is ellipsized if text remains. CJK characters may break anywhere, other
/// text at spaces (or anywhere if a single word is too long).
pub(crate) fn wrap(
    fonts: &Fonts,
    text: &str,
    bold: bool,
    max_em: f32,
    max_lines: usize,
) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() && lines.len() < max_lines {
        // skip leading spaces
        while start < chars.len() && chars[start].is_whitespace() {
            start += 1;
        }
        if start >= chars.len() {
            break;
        }
        let mut width = 0.0;
        let mut end = start;
        let mut last_break = None; // index where the next line may start
        while end < chars.len() {
            let c = chars[end];
            let adv = fonts.advance_em(c, bold);
            if width + adv > max_em && !c.is_whitespace() {
                break;
            }
            width += adv;
            if c.is_whitespace() || is_cjk(c) {
                last_break = Some(if c.is_whitespace() { end + 1 } else { end });
            }
            end += 1;
            if end < chars.len() && is_cjk(chars[end]) {
                last_break = Some(end);
            }
        }
        let next = if end >= chars.len() {
            chars.len()
        } else {
            match last_break {
                Some(b) if b > start => b,
                _ => end.max(start + 1),
            }
        };
        let line: String = chars[start..next].iter().collect();
        lines.push(line.trim_end().to_string());
        start = next;
    }
    let rest_nonblank = chars[start.min(chars.len())..]
        .iter()
        .any(|c| !c.is_whitespace());
    if rest_nonblank && let Some(last) = lines.last_mut() {
        *last = add_ellipsis(fonts, last, bold, max_em);
    }
    lines
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// `text` if it fits in `max_em`, else its longest prefix that fits with "…" appended.
pub(crate) fn ellipsize(fonts: &Fonts, text: &str, bold: bool, max_em: f32) -> String {
    let mut width = 0.0;
    for (i, c) in text.char_indices() {
        width += fonts.advance_em(c, bold);
        if width > max_em {
            return add_ellipsis(fonts, &text[..i], bold, max_em);
        }
    }
    text.to_string()
}

/// Append "…" to `text`, dropping characters from its end until it fits.
fn add_ellipsis(fonts: &Fonts, text: &str, bold: bool, max_em: f32) -> String {
    let budget = max_em - fonts.advance_em(ELLIPSIS, bold);
    let mut s: String = text.to_string();
    while !s.is_empty() && fonts.width_em(&s, bold) > budget {
        s.pop();
    }
    let mut s = s.trim_end().to_string();
    s.push(ELLIPSIS);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_ellipsize() {
        let f = Fonts::get().unwrap();
        let lines = wrap(f, "Earl Grey Supreme Loose Leaf", false, 8.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Earl Grey"));
        assert!(lines[1].ends_with('…'));
        for l in &lines {
            assert!(f.width_em(l, false) <= 8.0 + 1e-3, "{l}");
        }
        let long = "龙".repeat(2000);
        let lines = wrap(f, &long, true, 6.0, 2);
        assert_eq!(lines[0], "龙".repeat(6));
        assert!(lines[1].ends_with('…') && lines[1].chars().count() == 6);
        assert_eq!(wrap(f, "Tea", false, 8.0, 2), vec!["Tea".to_string()]);
        assert_eq!(ellipsize(f, "Short", false, 20.0), "Short");
        let e = ellipsize(f, "A rather long shop name", false, 5.0);
        assert!(e.ends_with('…') && f.width_em(&e, false) <= 5.0);
    }
}
