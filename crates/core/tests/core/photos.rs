use std::io::Cursor;

use image::{ImageFormat, RgbaImage};
use shopcast_core::{ProductQuery, Variant};

use crate::{draft, shop_with};

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    });
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => image::DynamicImage::ImageRgba8(img)
            .to_rgb8()
            .write_to(&mut out, format)
            .unwrap(),
        _ => img.write_to(&mut out, format).unwrap(),
    }
    out.into_inner()
}

#[tokio::test]
async fn png_jpeg_webp_are_stored_by_content_with_thumbnails() {
    let (shop, dir) = shop_with("USD").await;
    let product = shop.create_product(&draft("Vase", "20")).await.unwrap();
    for (format, mime) in [
        (ImageFormat::Png, "image/png"),
        (ImageFormat::Jpeg, "image/jpeg"),
        (ImageFormat::WebP, "image/webp"),
    ] {
        let bytes = encoded(format, 900, 600);
        // The extension lies on purpose: content decides.
        let path = dir.path().join("photo.txt");
        std::fs::write(&path, &bytes).unwrap();
        let with_photo = shop.add_photo_file(product.id, &path).await.unwrap();
        let photo = with_photo.photos.last().unwrap();
        assert_eq!(
            (photo.mime.as_str(), photo.width, photo.height),
            (mime, 900, 600)
        );
        let (full, full_mime) = shop.media().read(&photo.hash, Variant::Full).unwrap();
        assert_eq!((full, full_mime), (bytes.clone(), mime));
        let (thumb, _) = shop.media().read(&photo.hash, Variant::Thumb).unwrap();
        let thumb = image::load_from_memory(&thumb).unwrap();
        assert!(thumb.width() <= 320 && thumb.height() <= 320 && thumb.width() == 320);
        let stored = shop.media().path_of(&photo.hash, Variant::Full).unwrap();
        assert!(stored.starts_with(dir.path().join("media").join(&photo.hash[..2])));
    }
    let again = shop
        .add_photo(product.id, encoded(ImageFormat::Png, 900, 600))
        .await
        .unwrap();
    assert_eq!(again.photos.len(), 3, "the same photo twice is stored once");

    let row = shop
        .list_products(&ProductQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(
        row.thumb.as_deref(),
        Some(again.photos[0].hash.as_str()),
        "the list shows the first photo"
    );

    let first = again.photos[0].hash.clone();
    let removed = shop.remove_photo(product.id, &first).await.unwrap();
    assert_eq!(removed.photos.len(), 2);
}

#[tokio::test]
async fn bad_photos_get_a_clear_error_and_nothing_is_written() {
    let (shop, dir) = shop_with("USD").await;
    let product = shop.create_product(&draft("Vase", "20")).await.unwrap();
    let media = dir.path().join("media");

    let mut truncated = encoded(ImageFormat::Png, 400, 400);
    truncated.truncate(truncated.len() / 2);
    let err = shop.add_photo(product.id, truncated).await.unwrap_err();
    assert_eq!(err.code(), "photo_broken", "{err}");

    let err = shop
        .add_photo(product.id, b"GIF89a not really".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "photo_unsupported");
    let err = shop
        .add_photo(product.id, b"just some text".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "photo_unsupported");
    let err = shop.add_photo(product.id, Vec::new()).await.unwrap_err();
    assert_eq!(err.code(), "photo_broken");

    let huge = dir.path().join("huge.jpg");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let err = shop.add_photo_file(product.id, &huge).await.unwrap_err();
    assert_eq!(err.code(), "photo_too_large");
    assert!(err.to_string().contains("50.0 MB"), "{err}");

    // A decompression bomb: a small PNG whose header claims 20000 × 20000 pixels.
    let mut bomb = encoded(ImageFormat::Png, 1, 1);
    bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]); // IHDR type + data, so only the size limit can refuse it
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = shop.add_photo(product.id, bomb).await.unwrap_err();
    assert_eq!(err.code(), "photo_broken", "{err}");
    assert!(
        err.to_string().to_lowercase().contains("limit"),
        "refused by the size limit: {err}"
    );

    let written = walk(&media);
    assert!(
        written.is_empty(),
        "no file may be left behind: {written:?}"
    );
    assert!(shop.product(product.id).await.unwrap().photos.is_empty());
}

#[tokio::test]
async fn media_paths_refuse_anything_but_a_hash() {
    let (shop, _dir) = shop_with("USD").await;
    for bad in [
        "../shopcast.sqlite",
        "",
        "ABCDEF",
        &"g".repeat(64),
        &format!("{}/..", "a".repeat(62)),
    ] {
        assert!(shop.media().path_of(bad, Variant::Full).is_none(), "{bad}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn the_shop_logo_is_a_checked_photo_kept_by_reference() {
    let (shop, dir) = shop_with("USD").await;
    assert_eq!(shop.logo().await.unwrap(), None);
    let err = shop.set_logo(b"not an image".to_vec()).await.unwrap_err();
    assert_eq!(err.code(), "photo_unsupported");
    assert_eq!(
        shop.logo().await.unwrap(),
        None,
        "a refused logo changes nothing"
    );

    let logo = shop
        .set_logo(encoded(ImageFormat::Png, 600, 300))
        .await
        .unwrap();
    assert_eq!(
        (logo.width, logo.height, logo.mime.as_str()),
        (600, 300, "image/png")
    );
    assert!(
        shop.media()
            .path_of(&logo.hash, Variant::Full)
            .unwrap()
            .exists()
    );
    shop.close().await;

    let reopened = shopcast_core::Shop::open(dir.path()).await.unwrap();
    assert_eq!(reopened.logo().await.unwrap(), Some(logo));
    reopened.clear_logo().await.unwrap();
    assert_eq!(reopened.logo().await.unwrap(), None);
}
