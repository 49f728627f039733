//! QR encoding to a module matrix, and SVG / PNG output with a quiet zone.

use crate::error::PrintError;

/// QR error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EcLevel {
    /// ~7 % recovery.
    L,
    /// ~15 % recovery (default; good for printed signs).
    #[default]
    M,
    /// ~25 % recovery.
    Q,
    /// ~30 % recovery.
    H,
}

impl EcLevel {
    /// The level's letter, as printed in error messages.
    pub fn letter(self) -> char {
        match self {
            EcLevel::L => 'L',
            EcLevel::M => 'M',
            EcLevel::Q => 'Q',
            EcLevel::H => 'H',
        }
    }

    /// Maximum payload in bytes (byte mode, version 40).
    pub fn max_bytes(self) -> usize {
        match self {
            EcLevel::L => 2953,
            EcLevel::M => 2331,
            EcLevel::Q => 1663,
            EcLevel::H => 1273,
        }
    }

    fn to_qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// Recommended quiet zone around a QR code, in modules.
pub const QUIET_ZONE: usize = 4;

/// A square matrix of QR modules (`true` = dark), without quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    width: usize,
    modules: Vec<bool>,
}

/// A horizontal run of dark modules in one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Row index, 0 = top.
    pub y: usize,
    /// First dark column.
    pub x: usize,
    /// Number of consecutive dark modules.
    pub len: usize,
}

impl Matrix {
    /// Side length in modules (21 for version 1 … 177 for version 40).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether module (`x`, `y`) is dark; `(0, 0)` is the top-left corner.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.width + x]
    }

    /// Horizontal runs of dark modules, row by row, left to right.
    pub fn runs(&self) -> impl Iterator<Item = Run> + '_ {
        (0..self.width).flat_map(move |y| {
            let row = &self.modules[y * self.width..(y + 1) * self.width];
            let mut runs = Vec::new();
            let mut x = 0;
            while x < row.len() {
                if row[x] {
                    let start = x;
                    while x < row.len() && row[x] {
                        x += 1;
                    }
                    runs.push(Run {
                        y,
                        x: start,
                        len: x - start,
                    });
                } else {
                    x += 1;
                }
            }
            runs
        })
    }
}

/// QR encoder entry point.
pub struct QrCode;

impl QrCode {
    /// Encode `payload` (usually a UTF-8 URL) at the given error-correction level.
    ///
    /// Fails with [`PrintError::PayloadTooLong`] when the payload exceeds the capacity
    /// of a version-40 code at that level.
    pub fn encode(payload: &[u8], ecc: EcLevel) -> Result<Matrix, PrintError> {
        if payload.is_empty() {
            return Err(PrintError::EmptyPayload);
        }
        let too_long = || PrintError::PayloadTooLong {
            len: payload.len(),
            max: ecc.max_bytes(),
            level: ecc,
        };
        let code =
            qrcode::QrCode::with_error_correction_level(payload, ecc.to_qrcode()).map_err(|e| {
                match e {
                    qrcode::types::QrError::DataTooLong => too_long(),
                    other => PrintError::Qr(other.to_string()),
                }
            })?;
        let width = code.width();
        let modules = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(Matrix { width, modules })
    }
}

/// Render as a standalone SVG: one `<path>` of horizontal runs, in module units,
/// with `quiet_zone_modules` of white around it and `shape-rendering="crispEdges"`.
pub fn to_svg(matrix: &Matrix, quiet_zone_modules: usize) -> String {
    use std::fmt::Write;
    let side = matrix.width() + 2 * quiet_zone_modules;
    let mut path = String::new();
    for run in matrix.runs() {
        let _ = write!(
            path,
            "M{} {}h{}v1h-{}z",
            run.x + quiet_zone_modules,
            run.y + quiet_zone_modules,
            run.len,
            run.len
        );
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}

/// Render as a square greyscale PNG of (at least) `size_px` pixels per side,
/// with a quiet zone of at least [`QUIET_ZONE`] modules.
///
/// Each module gets the same whole number of pixels (crisp edges); the leftover
/// pixels widen the quiet zone. If `size_px` is smaller than one pixel per module
/// (width + 8), the image is enlarged to that minimum.
pub fn to_png(matrix: &Matrix, size_px: u32) -> Vec<u8> {
    let modules = (matrix.width() + 2 * QUIET_ZONE) as u32;
    let size = size_px.max(modules);
    let scale = size / modules;
    let offset = (size - scale * matrix.width() as u32) / 2;
    let img = image::GrayImage::from_fn(size, size, |px, py| {
        let dark = px >= offset
            && py >= offset
            && ((px - offset) / scale) < matrix.width() as u32
            && ((py - offset) / scale) < matrix.width() as u32
            && matrix.is_dark(
                ((px - offset) / scale) as usize,
                ((py - offset) / scale) as usize,
            );
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_url() {
        let m = QrCode::encode(b"https://shop.example.com/p/SKU-1?src=qr", EcLevel::M).unwrap();
        assert!(m.width() >= 21 && (m.width() - 17).is_multiple_of(4));
        // finder pattern corner is dark
        assert!(m.is_dark(0, 0));
        let dark: usize = m.runs().map(|r| r.len).sum();
        let count = (0..m.width())
            .flat_map(|y| (0..m.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| m.is_dark(x, y))
            .count();
        assert_eq!(dark, count);
    }

    #[test]
    fn capacity_error_names_limit() {
        let payload = vec![b'a'; 3120];
        let err = QrCode::encode(&payload, EcLevel::M).unwrap_err();
        assert_eq!(err.code(), "qr_payload_too_long");
        assert_eq!(
            err.to_string(),
            "This link is 3,120 bytes; a QR code holds at most 2,331 bytes at error-correction level M."
        );
        // exactly at capacity still works (byte mode)
        let max: Vec<u8> = (0..2331).map(|i| b"aZ%/?~"[i % 6]).collect();
        assert!(QrCode::encode(&max, EcLevel::M).is_ok());
        let over: Vec<u8> = (0..1664).map(|i| b"aZ%/?~"[i % 6]).collect();
        let err = QrCode::encode(&over, EcLevel::Q).unwrap_err();
        assert!(
            err.to_string()
                .contains("at most 1,663 bytes at error-correction level Q")
        );
    }

    #[test]
    fn empty_payload() {
        assert_eq!(
            QrCode::encode(b"", EcLevel::M).unwrap_err(),
            PrintError::EmptyPayload
        );
    }

    #[test]
    fn svg_has_one_path_and_quiet_zone() {
        let m = QrCode::encode(b"hello", EcLevel::M).unwrap();
        let svg = to_svg(&m, 4);
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.contains(&format!("viewBox=\"0 0 {0} {0}\"", m.width() + 8)));
        assert!(svg.contains("crispEdges"));
        assert!(
            svg.contains("M4 4h7v1h-7z"),
            "top-left finder row starts at 4,4"
        );
    }

    #[test]
    fn png_size_and_quiet_zone() {
        let m = QrCode::encode(b"hello", EcLevel::M).unwrap();
        let png = to_png(&m, 290);
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(img.dimensions(), (290, 290));
        let scale = 290 / (m.width() as u32 + 8);
        // the 4-module quiet zone is white
        for i in 0..4 * scale {
            assert_eq!(img.get_pixel(i, i)[0], 255);
        }
        // tiny size is enlarged to one pixel per module
        let small = image::load_from_memory(&to_png(&m, 3)).unwrap();
        assert_eq!(small.width(), m.width() as u32 + 8);
    }
}
