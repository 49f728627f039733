//! Fitting a 12-megapixel phone photo for Bluesky (≤ 1,000,000 bytes, ≤ 2000 px a side):
//! `cargo bench -p shopcast-social --bench bluesky_images`.

#[path = "../tests/bluesky/photos.rs"]
mod photos;

use std::time::Instant;

use shopcast_social::bluesky::{MAX_IMAGE_BYTES, MAX_IMAGE_SIDE};
use shopcast_social::images;

fn main() {
    let started = Instant::now();
    let photo = photos::jpeg(4000, 3000, 92, 14, 12);
    println!(
        "photo: 4000x3000 JPEG, {} bytes (made in {:.0?})",
        photo.len(),
        started.elapsed()
    );
    let mut times = Vec::new();
    let mut fitted = None;
    for _ in 0..5 {
        let started = Instant::now();
        fitted = Some(images::fit(&photo, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE).expect("fits"));
        times.push(started.elapsed());
    }
    times.sort();
    let fitted = fitted.expect("ran");
    println!(
        "fit for Bluesky: {}x{} {}, {} bytes; median {:.0?} (min {:.0?}, max {:.0?}) over {} runs",
        fitted.width,
        fitted.height,
        fitted.mime,
        fitted.bytes.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
    assert!(fitted.bytes.len() <= MAX_IMAGE_BYTES);
}
