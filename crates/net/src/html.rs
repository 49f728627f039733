//! Text into HTML (and XML): the one escape every page Shopcast renders uses, since product
//! names, descriptions and shop names are the owner's text and may hold anything.

/// Escapes text for HTML element content and attribute values (quoted with `"` or `'`).
/// It reads back exactly: nothing but the five characters markup cares about changes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Hidden form fields (the form token and what the form carries along), escaped.
pub fn hidden_inputs(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape_html(name),
                escape_html(value)
            )
        })
        .collect()
}

/// Percent-encodes one URL path segment (SKUs may hold spaces, slashes or any script):
/// everything but unreserved ASCII is encoded, so the result is also safe in HTML.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape_html, path_segment};

    #[test]
    fn path_segments_keep_only_unreserved_bytes() {
        assert_eq!(path_segment("TEA-1"), "TEA-1");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(path_segment("杯"), "%E6%9D%AF");
    }

    #[test]
    fn markup_is_escaped_and_chinese_kept() {
        assert_eq!(
            escape_html(r#"<script>"青花瓷" & 'x'</script>"#),
            "&lt;script&gt;&quot;青花瓷&quot; &amp; &#39;x&#39;&lt;/script&gt;"
        );
    }
}
