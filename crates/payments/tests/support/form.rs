//! Reading a test checkout page as a phone's browser does: the hidden fields of its form.
//! Shared by the payments crate's and core's tests (included with `#[path]`).

/// The value of the hidden form field `name` in `page`.
pub fn field(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_string())
}
