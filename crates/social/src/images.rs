//! Fits a photo to a network's rules: at most `max_side` pixels a side and `max_bytes` bytes,
//! re-encoded as JPEG at decreasing quality (then smaller sizes) until it fits.

use std::io::Cursor;

use image::{DynamicImage, GenericImageView, ImageFormat, ImageReader};

use crate::publisher::PublishError;

/// A photo ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FittedImage {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Returns `original` untouched when it already fits (PNG/JPEG/WebP), else a JPEG that does.
pub fn fit(original: &[u8], max_bytes: usize, max_side: u32) -> Result<FittedImage, PublishError> {
    let reader = ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .map_err(|e| PublishError::Invalid(format!("The photo could not be read: {e}")))?;
    let format = reader.format();
    let image = reader
        .decode()
        .map_err(|e| PublishError::Invalid(format!("The photo could not be read: {e}")))?;
    let (width, height) = image.dimensions();
    let mime = match format {
        Some(ImageFormat::Jpeg) => Some("image/jpeg"),
        Some(ImageFormat::Png) => Some("image/png"),
        Some(ImageFormat::WebP) => Some("image/webp"),
        _ => None,
    };
    if let Some(mime) = mime
        && original.len() <= max_bytes
        && width.max(height) <= max_side
    {
        return Ok(FittedImage {
            bytes: original.to_vec(),
            mime,
            width,
            height,
        });
    }
    let mut side = width.max(height).min(max_side);
    loop {
        let scaled = if width.max(height) > side {
            image.resize(side, side, image::imageops::FilterType::Triangle)
        } else {
            image.clone()
        };
        let rgb = DynamicImage::ImageRgb8(scaled.to_rgb8());
        for quality in [85u8, 75, 65, 50] {
            let mut out = Vec::new();
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            rgb.write_with_encoder(encoder).map_err(|e| {
                PublishError::Invalid(format!("The photo could not be re-encoded: {e}"))
            })?;
            if out.len() <= max_bytes {
                let (w, h) = rgb.dimensions();
                return Ok(FittedImage {
                    bytes: out,
                    mime: "image/jpeg",
                    width: w,
                    height: h,
                });
            }
        }
        if side <= 256 {
            return Err(PublishError::Invalid(
                "The photo cannot be made small enough for this network.".into(),
            ));
        }
        side = side * 3 / 4;
    }
}
