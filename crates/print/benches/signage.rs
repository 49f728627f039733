//! `cargo bench -p shopcast-print`: 1,000 product labels (CJK names, distinct QR
//! URLs) on A4 3×8 → time and PDF size; and QR encodes per second.
//! Goal: under 1 s and under 1 MB for the 1,000-label PDF.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shopcast_print::{EcLevel, Logo, QrCode, RenderOptions, Sign, Template, render, render_with};

fn signs(n: usize) -> Vec<Sign> {
    const NAMES: [&str; 8] = [
        "龙井绿茶 特级 250g",
        "碧螺春 明前 100g",
        "铁观音 浓香型 500g",
        "普洱熟茶 饼 357g",
        "茉莉花茶 200g",
        "大红袍 岩茶 150g",
        "白毫银针 50g",
        "祁门红茶 250g",
    ];
    (0..n)
        .map(|i| Sign {
            shop_name: "西湖茶庄 West Lake Tea".into(),
            product_name: format!("{} #{}", NAMES[i % NAMES.len()], i + 1),
            price_text: format!("¥{}.{:02}", 20 + i % 480, i % 100),
            qr_payload: format!(
                "https://shop.example.com/p/SKU-{}?src=qr&sign=S{}",
                i + 1,
                i % 97
            ),
            call_to_action: Some("扫码下单 Scan to order".into()),
            barcode: None,
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let template = Template::preset("a4-3x8").expect("preset");
    let signs = signs(1000);

    // warm-up (parses the bundled fonts once)
    let pdf = render(&template, &signs, 1).expect("render");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(render(&template, black_box(&signs), 1).expect("render"));
        times.push(t.elapsed());
    }
    let t = median(times);
    let t_layout = {
        let t = Instant::now();
        black_box(shopcast_print::layout(&template, &signs, 1).expect("layout"));
        t.elapsed()
    };
    println!(
        "  of which layout incl. 1,000 QR encodes: {:.0} ms",
        t_layout.as_secs_f64() * 1e3
    );
    if let Some(out) = std::env::var_os("SHOPCAST_BENCH_PDF") {
        std::fs::write(&out, &pdf).expect("write the benchmark PDF");
    }
    let pages = 1000_usize.div_ceil(24);
    println!(
        "signage a4-3x8: 1,000 labels, {pages} pages: {:.0} ms (median of 5), {:.1} KiB ({} bytes) — goal < 1000 ms, < 1024 KiB: {}",
        t.as_secs_f64() * 1e3,
        pdf.len() as f64 / 1024.0,
        pdf.len(),
        if t < Duration::from_secs(1) && pdf.len() < 1024 * 1024 {
            "met"
        } else {
            "NOT met"
        }
    );

    // the same 1,000 labels with a 600 × 300 logo (embedded once, drawn 1,000 times)
    let logo = Logo::from_image_bytes(&logo_png()).expect("logo");
    let options = RenderOptions { logo: Some(&logo) };
    let t = Instant::now();
    let with_logo = render_with(&template, &signs, 1, &options).expect("render with logo");
    let t = t.elapsed();
    println!(
        "signage a4-3x8 with a logo: {:.0} ms, {:.1} KiB ({} bytes; +{} bytes)",
        t.as_secs_f64() * 1e3,
        with_logo.len() as f64 / 1024.0,
        with_logo.len(),
        with_logo.len() as i64 - pdf.len() as i64
    );

    let payloads: Vec<String> = (0..2000)
        .map(|i| format!("https://shop.example.com/p/SKU-{i}?src=qr&sign=S{}", i % 97))
        .collect();
    let t = Instant::now();
    let mut n = 0usize;
    while t.elapsed() < Duration::from_secs(1) {
        for p in &payloads[..200] {
            black_box(QrCode::encode(black_box(p.as_bytes()), EcLevel::M).expect("encode"));
            n += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "qr encode (≈50-byte URL, level M): {:.0} encodes/s ({n} in {secs:.2} s)",
        n as f64 / secs
    );
}

/// A 600 × 300 RGBA PNG: a teal badge on a transparent background.
fn logo_png() -> Vec<u8> {
    use image::ImageEncoder;
    let img = image::RgbaImage::from_fn(600, 300, |x, y| {
        let inside = (30..570).contains(&x) && (60..240).contains(&y);
        let mark = (120..480).contains(&x) && (130..170).contains(&y);
        match (inside, mark) {
            (true, true) => image::Rgba([255, 255, 255, 255]),
            (true, false) => image::Rgba([20, 120, 110, 230]),
            _ => image::Rgba([0, 0, 0, 0]),
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), 600, 300, image::ExtendedColorType::Rgba8)
        .expect("encode logo");
    out
}
