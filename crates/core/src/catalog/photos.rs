//! Product photos: checked by content (not by file name), stored once per content hash
//! under `media/ab/<sha256>.img` with a JPEG thumbnail and a middle size beside, written atomically.

use std::io::{ErrorKind, Write};
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
/// Long edge of the middle size the shop page offers phones (srcset).
pub const MEDIUM_SIDE: u32 = 800;

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

impl Photo {
    /// Width and height of `variant` as it is stored: the thumbnail and middle size are
    /// scaled down to fit their square, never up.
    pub fn size_of(&self, variant: Variant) -> (u32, u32) {
        let side = match variant {
            Variant::Full => return (self.width, self.height),
            Variant::Medium => MEDIUM_SIDE,
            Variant::Thumb => THUMB_SIDE,
        };
        fit_within(self.width, self.height, side)
    }
}

/// Which file of a stored photo to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    /// About 800 px on the long edge (JPEG), for pages on phones.
    Medium,
    Thumb,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::Medium => "medium",
            Variant::Thumb => "thumb",
        }
    }

    /// "full", "medium" or "thumb", as in the shop page's media addresses.
    pub fn parse(text: &str) -> Option<Variant> {
        [Variant::Full, Variant::Medium, Variant::Thumb]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
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

    /// Validates `bytes` as a photo and stores it with its thumbnail and middle size.
    /// Idempotent: the same bytes give the same hash and are written once.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Photo> {
        check_size(bytes.len() as u64)?;
        let (image, mime) = decode(bytes)?;
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
            write_atomically(&thumb, &scaled_jpeg(&image, THUMB_SIDE)?)?;
        }
        let medium = self
            .path_of(&photo.hash, Variant::Medium)
            .expect("hash is hex");
        if !medium.exists() {
            write_atomically(&medium, &scaled_jpeg(&image, MEDIUM_SIDE)?)?;
        }
        Ok(photo)
    }

    /// Makes the middle size of a photo stored before there was one, from its full file;
    /// `None` when the photo is not stored (or no longer decodes).
    fn make_medium(&self, hash: &str) -> Option<Vec<u8>> {
        let full = std::fs::read(self.path_of(hash, Variant::Full)?).ok()?;
        let (image, _) = decode(&full).ok()?;
        let encoded = scaled_jpeg(&image, MEDIUM_SIDE).ok()?;
        // Written once: later reads find the file. Two readers racing both write the same
        // bytes through a rename, so neither sees half a file.
        let target = self.path_of(hash, Variant::Medium)?;
        if let Err(error) = write_atomically(&target, &encoded) {
            tracing::warn!(%error, "the middle size of a photo could not be kept");
        }
        Some(encoded)
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
            Variant::Medium => format!("{hash}.medium.jpg"),
            Variant::Thumb => format!("{hash}.thumb.jpg"),
        };
        Some(self.root.join(&hash[..2]).join(name))
    }

    /// Bytes and MIME type of a stored photo, for the UI's media protocol and the shop page.
    /// A photo stored before middle sizes existed gets one made on its first read (CPU work:
    /// call it off the async runtime).
    pub fn read(&self, hash: &str, variant: Variant) -> Option<(Vec<u8>, &'static str)> {
        let path = self.path_of(hash, variant)?;
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if variant == Variant::Medium && error.kind() == ErrorKind::NotFound => {
                self.make_medium(hash)?
            }
            Err(_) => return None,
        };
        let mime = match variant {
            Variant::Thumb | Variant::Medium => "image/jpeg",
            Variant::Full => mime_of(image::guess_format(&bytes).ok()?)?,
        };
        Some((bytes, mime))
    }
}

/// Decodes photo bytes within the size limits (no decompression bombs).
fn decode(bytes: &[u8]) -> Result<(image::DynamicImage, &'static str)> {
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
    Ok((image, mime))
}

/// The photo scaled down to fit a `side`² square (never up), as JPEG.
fn scaled_jpeg(image: &image::DynamicImage, side: u32) -> Result<Vec<u8>> {
    let (width, height) = fit_within(image.width(), image.height(), side);
    let small = if (width, height) == (image.width(), image.height()) {
        image.to_rgb8()
    } else {
        image.thumbnail_exact(width, height).to_rgb8()
    };
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 82)
        .encode_image(&small)
        .map_err(|e| CoreError::PhotoBroken(e.to_string()))?;
    Ok(encoded)
}

/// The size of a `width`×`height` picture scaled down to fit a `side`² square, keeping
/// its shape (at least 1 px a side).
fn fit_within(width: u32, height: u32, side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= side || long == 0 {
        return (width, height);
    }
    let scale = |n: u32| {
        ((u64::from(n) * u64::from(side) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    (scale(width), scale(height))
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
