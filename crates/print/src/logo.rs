//! An optional shop logo printed small on every sign.

use std::sync::{Arc, OnceLock};

use image::{DynamicImage, ImageEncoder, imageops::FilterType};

use crate::error::PrintError;

/// Longest side of a stored logo, in pixels (≈ 650 dpi at 10 mm: plenty for print).
pub const LOGO_MAX_PX: u32 = 256;

/// A decoded shop logo: opaque RGB8 pixels (alpha flattened onto white), at most
/// [`LOGO_MAX_PX`] on its longer side.
#[derive(Debug, Clone)]
pub struct Logo {
    width: u32,
    height: u32,
    rgb: Arc<Vec<u8>>,
    png_data_uri: Arc<OnceLock<String>>,
}

impl PartialEq for Logo {
    fn eq(&self, other: &Self) -> bool {
        self.width == other.width && self.height == other.height && self.rgb == other.rgb
    }
}

impl Logo {
    /// Decode a PNG, JPEG or WebP image, flatten transparency onto white and
    /// downscale it (aspect ratio kept) so its longer side is at most [`LOGO_MAX_PX`].
    pub fn from_image_bytes(bytes: &[u8]) -> Result<Logo, PrintError> {
        let img = image::load_from_memory(bytes).map_err(|e| {
            PrintError::LogoUnreadable(match e {
                image::ImageError::Unsupported(_) => "this file type is not supported".to_string(),
                image::ImageError::Limits(_) => "the image is too large".to_string(),
                _ => "the file is damaged or is not an image".to_string(),
            })
        })?;
        if img.width() == 0 || img.height() == 0 {
            return Err(PrintError::LogoUnreadable("the image is empty".into()));
        }
        // Flatten onto white first, then resample the opaque image.
        let rgba = img.to_rgba8();
        let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
        for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
            let a = src[3] as u32;
            for c in 0..3 {
                dst[c] = ((src[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
        let mut flat = DynamicImage::ImageRgb8(rgb);
        if flat.width().max(flat.height()) > LOGO_MAX_PX {
            flat = flat.resize(LOGO_MAX_PX, LOGO_MAX_PX, FilterType::Triangle);
        }
        let rgb = flat.into_rgb8();
        Ok(Logo {
            width: rgb.width(),
            height: rgb.height(),
            rgb: Arc::new(rgb.into_raw()),
            png_data_uri: Arc::new(OnceLock::new()),
        })
    }

    /// Width in pixels (≤ [`LOGO_MAX_PX`]).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (≤ [`LOGO_MAX_PX`]).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// RGB8 pixels, row by row, `width × height × 3` bytes.
    pub fn rgb_pixels(&self) -> &[u8] {
        &self.rgb
    }

    /// Width ÷ height.
    pub(crate) fn aspect(&self) -> f32 {
        self.width as f32 / self.height as f32
    }

    /// `data:image/png;base64,…` of the stored pixels, encoded once per logo.
    pub(crate) fn png_data_uri(&self) -> &str {
        self.png_data_uri.get_or_init(|| {
            let mut png = Vec::new();
            let _ = image::codecs::png::PngEncoder::new(&mut png).write_image(
                &self.rgb,
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            );
            format!("data:image/png;base64,{}", base64(&png))
        })
    }

    pub(crate) fn raw_image(&self) -> printpdf::RawImage {
        printpdf::RawImage {
            pixels: printpdf::RawImageData::U8(self.rgb.to_vec()),
            width: self.width as usize,
            height: self.height as usize,
            data_format: printpdf::RawImageFormat::RGB8,
            tag: Vec::new(),
        }
    }
}

/// Options for [`crate::render_with`] and [`crate::preview_svg_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RenderOptions<'a> {
    /// Printed small in the top-left of every sign's text column.
    pub logo: Option<&'a Logo>,
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, _| {
            image::Rgba([200, 30, 30, if x % 2 == 0 { 0 } else { 255 }])
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    #[test]
    fn corrupt_logo_is_reported() {
        let err = Logo::from_image_bytes(b"definitely not an image").unwrap_err();
        assert_eq!(err.code(), "logo_unreadable");
        assert!(err.to_string().contains("PNG, JPEG or WebP"), "{err}");
        let mut truncated = png(40, 20);
        truncated.truncate(60);
        assert_eq!(
            Logo::from_image_bytes(&truncated).unwrap_err().code(),
            "logo_unreadable"
        );
    }

    #[test]
    fn wide_logo_is_downscaled_and_flattened() {
        let logo = Logo::from_image_bytes(&png(4000, 100)).unwrap();
        assert!(logo.width() <= LOGO_MAX_PX && logo.height() >= 1);
        assert_eq!(logo.width(), 256);
        assert!(logo.height() <= 7, "aspect kept: {}", logo.height());
        assert_eq!(
            logo.rgb_pixels().len(),
            (logo.width() * logo.height() * 3) as usize
        );
        let small = Logo::from_image_bytes(&png(4, 2)).unwrap();
        assert_eq!((small.width(), small.height()), (4, 2));
        // transparent pixels became white, opaque ones kept their colour
        assert_eq!(&small.rgb_pixels()[..6], &[255, 255, 255, 200, 30, 30]);
        assert!(
            small
                .png_data_uri()
                .starts_with("data:image/png;base64,iVBORw0KGgo")
        );
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
