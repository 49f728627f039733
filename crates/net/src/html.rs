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

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn markup_is_escaped_and_chinese_kept() {
        assert_eq!(
            escape_html(r#"<script>"青花瓷" & 'x'</script>"#),
            "&lt;script&gt;&quot;青花瓷&quot; &amp; &#39;x&#39;&lt;/script&gt;"
        );
    }
}
