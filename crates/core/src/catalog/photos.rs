//! Product photos: checked by content (not by file name), stored once per content hash
//! under `media/ab/<sha256>.<ext>` with a JPEG thumbnail beside, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};

/// Photos larger than this are refused before decoding.
pub const MAX_PHOTO_BYTES: u64 = 20 * 1024 * 1024;
/// Decoded size limit: refuses decompression bombs (a tiny file claiming 50,000² pixels).
const MAX_PIXELS_PER_SIDE: u32 = 12_000;
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;
pub const THUMB_SIDE: u32 = 320;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Photo {
    /// Lower-case hex SHA-256 of the file's bytes.
    pub hash: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

/// Which file of a stored photo to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumb,
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    pub fn new(data_dir: &Path) -> Self {
        MediaStore {
            root: data_dir.join("media"),
        }
    }

    /// Validates `bytes` as a photo and stores it with its thumbnail. Idempotent: the same
    /// bytes give the same hash and are written once.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Photo> {
        check_size(bytes.len() as u64)?;
        let format = image::guess_format(bytes).map_err(|_| CoreError::PhotoUnsupported)?;
        let mime = mime_of(format).ok_or(CoreError::PhotoUnsupported)?;
        let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_PIXELS_PER_SIDE);
        limits.max_image_height = Some(MAX_PIXELS_PER_SIDE);
        limits.max_alloc = Some(MAX_DECODE_ALLOC);
        reader.limits(limits);
        let image = reader
            .decode()
            .map_err(|e| CoreError::PhotoBroken(e.to_string()))?;
        let hash = hex(&Sha256::digest(bytes));
        let photo = Photo {
            hash,
            mime: mime.into(),
            width: image.width(),
            height: image.height(),
        };

        let full = self
            .path_of(&photo.hash, Variant::Full)
            .expect("hash is hex");
        let thumb = self
            .path_of(&photo.hash, Variant::Thumb)
            .expect("hash is hex");
        if !full.exists() {
            write_atomically(&full, bytes)?;
        }
        if !thumb.exists() {
            let small = image.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
            let mut encoded = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 82)
                .encode_image(&small)
                .map_err(|e| CoreError::PhotoBroken(e.to_string()))?;
            write_atomically(&thumb, &encoded)?;
        }
        Ok(photo)
    }

    /// Reads a photo from disk, refusing huge files before reading them into memory.
    pub fn ingest_file(&self, path: &Path) -> Result<Photo> {
        let meta = std::fs::metadata(path).map_err(|e| CoreError::io("read", path, e))?;
        check_size(meta.len())?;
        let bytes = std::fs::read(path).map_err(|e| CoreError::io("read", path, e))?;
        self.ingest(&bytes)
    }

    /// Path of a stored photo; `None` for anything that is not a SHA-256 hex string, so a
    /// request can never walk out of the media folder.
    pub fn path_of(&self, hash: &str, variant: Variant) -> Option<PathBuf> {
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let name = match variant {
            Variant::Full => format!("{hash}.img"),
            Variant::Thumb => format!("{hash}.thumb.jpg"),
        };
        Some(self.root.join(&hash[..2]).join(name))
    }

    /// Bytes and MIME type of a stored photo, for the UI's media protocol.
    pub fn read(&self, hash: &str, variant: Variant) -> Option<(Vec<u8>, &'static str)> {
        let path = self.path_of(hash, variant)?;
        let bytes = std::fs::read(path).ok()?;
        let mime = match variant {
            Variant::Thumb => "image/jpeg",
            Variant::Full => mime_of(image::guess_format(&bytes).ok()?)?,
        };
        Some((bytes, mime))
    }
}

fn mime_of(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("image/png"),
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

fn check_size(len: u64) -> Result<()> {
    if len > MAX_PHOTO_BYTES {
        return Err(CoreError::PhotoTooLarge {
            size_mb: len as f64 / (1024.0 * 1024.0),
            limit_mb: MAX_PHOTO_BYTES / (1024 * 1024),
        });
    }
    if len == 0 {
        return Err(CoreError::PhotoBroken("the file is empty".into()));
    }
    Ok(())
}

/// Writes to a temporary file in the same folder, syncs, then renames: a crash leaves
/// either the old state or the complete file, never half a photo.
fn write_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = target.parent().expect("media paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| CoreError::io("create", dir, e))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| CoreError::io("write", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| CoreError::io("write", target, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| CoreError::io("write", target, e))?;
    tmp.persist(target)
        .map_err(|e| CoreError::io("write", target, e.error))?;
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
