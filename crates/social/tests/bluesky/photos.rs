//! Deterministic photo-like JPEGs: soft light, a few objects, sensor noise — so encoders
//! work as hard as on a real product photo. Shared with `benches/bluesky_images.rs`.

use image::{ImageEncoder, RgbImage, codecs::jpeg::JpegEncoder};

/// A `width`×`height` JPEG at `quality`; `noise` is the grain amplitude (0–255).
pub fn jpeg(width: u32, height: u32, quality: u8, noise: u8, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*: fast and reproducible.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let (w, h) = (width as f32, height as f32);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / w, y as f32 / h);
        // A cup: a disc of glaze with blue bands, on a warm table under window light.
        let (dx, dy) = (fx - 0.5, (fy - 0.5) * h / w);
        let r = (dx * dx + dy * dy).sqrt();
        let base = if r < 0.3 {
            let band = ((r * 60.0).sin() * 0.5 + 0.5) * 120.0;
            [235.0 - band, 238.0 - band * 0.6, 245.0]
        } else {
            let light = 1.0 - 0.45 * fx;
            [190.0 * light + 30.0 * fy, 150.0 * light, 110.0 * light]
        };
        let grain = next();
        let px = |c: f32, shift: u32| {
            let n = ((grain >> shift) & 0xff) as f32 / 255.0 - 0.5;
            (c + n * noise as f32).clamp(0.0, 255.0) as u8
        };
        image::Rgb([px(base[0], 0), px(base[1], 8), px(base[2], 16)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("JPEG encodes");
    out
}
