//! A live preview of a signage document: page 1 as SVG, drawn from the very layout the PDF
//! uses (same QR boxes, same wrapped and ellipsized lines), so what the owner sees is what
//! prints.

use std::fmt::Write;

use crate::error::PrintError;
use crate::logo::RenderOptions;
use crate::signage::{Sign, Template, layout_with_matrices};

/// SVG of page `page_index` (0-based; clamped to the last page) with its size in mm, and the
/// number of pages the PDF will have.
pub fn preview_svg(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    page_index: usize,
) -> Result<(String, usize), PrintError> {
    preview_svg_with(
        template,
        signs,
        copies,
        page_index,
        &RenderOptions::default(),
    )
}

/// [`preview_svg`] with options: a logo is drawn as an `<image>` (PNG data URI,
/// encoded once per logo) in the same box as in the PDF.
pub fn preview_svg_with(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    page_index: usize,
    options: &RenderOptions,
) -> Result<(String, usize), PrintError> {
    let (pages, matrices) = layout_with_matrices(template, signs, copies, options)?;
    let logo_uri = options.logo.map(|l| l.png_data_uri());
    let page_count = pages.len();
    let page = &pages[page_index.min(page_count - 1)];
    let mut svg = String::with_capacity(64 * 1024);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}mm" height="{h}mm" font-family="DejaVu Sans, Noto Sans CJK SC, Droid Sans Fallback, sans-serif"><rect width="{w}" height="{h}" fill="#fff"/>"##,
        w = page.width_mm,
        h = page.height_mm
    );
    for placed in &page.signs {
        let cell = placed.cell;
        let _ = write!(
            svg,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#c8c8c8" stroke-width="0.2" stroke-dasharray="1 1"/>"##,
            cell.x, cell.y, cell.width, cell.height
        );
        // Layout boxes are in final page coordinates, the back face of a tent included.
        let matrix = &matrices[placed.sign_index];
        let quiet = (placed.qr_box.width / (matrix.width() as f32 + 8.0)) * 4.0;
        let module = (placed.qr_box.width - 2.0 * quiet) / matrix.width() as f32;
        let (origin_x, origin_y) = (placed.qr_box.x + quiet, placed.qr_box.y + quiet);
        let _ = write!(
            svg,
            r##"<g transform="translate({origin_x} {origin_y}) scale({module}){}" shape-rendering="crispEdges"><path fill="#000" d=""##,
            if placed.rotated {
                format!(" rotate(180 {c} {c})", c = matrix.width() as f32 / 2.0)
            } else {
                String::new()
            }
        );
        for run in matrix.runs() {
            let _ = write!(svg, "M{} {}h{}v1h-{}z", run.x, run.y, run.len, run.len);
        }
        svg.push_str(r#""/></g>"#);
        if let (Some(uri), Some(b)) = (logo_uri, placed.logo_box) {
            let turn = if placed.rotated {
                format!(
                    r#" transform="rotate(180 {} {})""#,
                    b.x + b.width / 2.0,
                    b.y + b.height / 2.0
                )
            } else {
                String::new()
            };
            let _ = write!(
                svg,
                r#"<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none"{turn} href="{uri}"/>"#,
                b.x, b.y, b.width, b.height
            );
        }
        if let Some(barcode) = &placed.barcode
            && let Ok(modules) = crate::barcode::ean13_modules(&barcode.digits)
        {
            let b = barcode.bbox;
            let turn = if placed.rotated {
                format!(
                    r#" transform="rotate(180 {} {})""#,
                    b.x + b.width / 2.0,
                    b.y + b.height / 2.0
                )
            } else {
                String::new()
            };
            let _ = write!(
                svg,
                r##"<g fill="#000" shape-rendering="crispEdges"{turn}>"##
            );
            for (start, len, guard) in crate::signage::bar_runs(&modules) {
                let h = if guard {
                    b.height
                } else {
                    barcode.bar_height_mm
                };
                let _ = write!(
                    svg,
                    r#"<rect x="{}" y="{}" width="{}" height="{h}"/>"#,
                    b.x + start as f32 * barcode.module_mm,
                    b.y,
                    len as f32 * barcode.module_mm
                );
            }
            svg.push_str("</g>");
        }
        for line in &placed.lines {
            let b = line.bbox;
            let grey = (line.grey() * 255.0).round() as u8;
            let (x, y, anchor_transform) = if placed.rotated {
                // Upside down: anchor at the box's right edge, text turned 180°.
                let x = b.right();
                let y = b.y + b.height - line.baseline_offset();
                (x, y, format!(r#" transform="rotate(180 {x} {y})""#))
            } else {
                (b.x, b.y + line.baseline_offset(), String::new())
            };
            let _ = write!(
                svg,
                r#"<text x="{x}" y="{y}" font-size="{}" font-weight="{}" fill="rgb({grey},{grey},{grey})"{anchor_transform}>{}</text>"#,
                line.size_mm,
                if line.bold { 700 } else { 400 },
                escape(&line.text)
            );
        }
    }
    svg.push_str("</svg>");
    Ok((svg, page_count))
}

/// Product names are the owner's text, possibly hostile: escape everything XML cares about,
/// and control characters (not allowed in XML 1.0) become spaces.
fn escape(text: &str) -> String {
    shopcast_net::html::escape_html(&text.replace(char::is_control, " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(name: &str) -> Sign {
        Sign {
            shop_name: "Shop".into(),
            product_name: name.into(),
            price_text: "¥88.00".into(),
            qr_payload: "https://shop.example.com/p/1?src=qr".into(),
            call_to_action: Some("Scan <b>".into()),
            barcode: None,
        }
    }

    #[test]
    fn preview_shows_every_sign_of_page_one_with_escaped_text() {
        let template = Template::preset("a4-3x8").unwrap();
        let signs: Vec<Sign> = (0..30)
            .map(|i| sign(&format!("<script>alert({i})</script> 茶")))
            .collect();
        let (svg, pages) = preview_svg(&template, &signs, 1, 0).unwrap();
        assert_eq!(pages, 2, "30 labels on 24-label sheets");
        assert_eq!(
            svg.matches("<path").count(),
            24,
            "one QR per label on page 1"
        );
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;alert(0)"));
        assert!(svg.contains("Scan &lt;b&gt;") && svg.contains("¥88.00"));
        let (last, _) = preview_svg(&template, &signs, 1, 9).unwrap();
        assert_eq!(last.matches("<path").count(), 6, "clamped to the last page");
        let (tent, _) =
            preview_svg(&Template::preset("a5-tent").unwrap(), &signs[..1], 1, 0).unwrap();
        assert!(
            tent.contains("rotate(180"),
            "the tent's back face is upside down"
        );
    }
}
