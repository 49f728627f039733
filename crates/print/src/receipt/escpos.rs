//! ESC/POS byte stream for a receipt: ESC @, Chinese as GB18030 inside FS & … FS . (or
//! drawn as GS v 0 images), GS v 0 raster logo, GS ( k QR (model 2), GS V cut, ESC p drawer kick.

// Declared here rather than in receipt/mod.rs: only the ESC/POS writer draws text.

use super::raster_text::{self, Align};

use super::Receipt;

/// How Chinese text is sent to the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chinese {
    /// GB18030 bytes in Chinese character mode (FS & … FS .).
    Gb18030,
    /// The printer's font has no Chinese: a line with any character outside code page 1252
    /// is drawn as a 24-dot-high GS v 0 image (12 dots per column); other lines stay text.
    Raster,
}

/// Printer options: columns is 32 for 58 mm paper, 48 for 80 mm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscPosOptions {
    pub columns: u8,
    pub chinese: Chinese,
    pub cut: bool,
    pub drawer_kick: bool,
}

/// Display width of a char on a thermal printer: CJK and full-width take 2 columns.
pub fn char_columns(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Display width of a text.
pub fn text_columns(s: &str) -> usize {
    s.chars().map(char_columns).sum()
}

/// Wrap a text to lines of at most `columns` display columns (breaking at spaces when it can).
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = char_columns(c);
        if width + w > columns {
            // Break at the last space of the line when there is one (Latin words stay whole).
            match line.rfind(' ') {
                Some(i) if c != ' ' && i > 0 => {
                    let rest = line[i + 1..].to_string();
                    line.truncate(i);
                    lines.push(std::mem::take(&mut line));
                    line = rest;
                }
                _ => lines.push(std::mem::take(&mut line)),
            }
            width = text_columns(&line);
            if c == ' ' && line.is_empty() {
                continue;
            }
        }
        line.push(c);
        width += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Left text and right text on one line, padded to `columns` (the left wraps above when long).
fn two_columns(left: &str, right: &str, columns: usize) -> Vec<String> {
    let rw = text_columns(right);
    let room = columns.saturating_sub(rw + 1).max(1);
    let mut lines = wrap(left, room);
    let last = lines.pop().unwrap_or_default();
    let pad = columns.saturating_sub(text_columns(&last) + rw).max(1);
    lines.push(format!("{last}{}{right}", " ".repeat(pad)));
    lines
}

struct Out {
    bytes: Vec<u8>,
    chinese: Chinese,
    in_kanji: bool,
    columns: usize,
    align: Align,
}

impl Out {
    fn text_line(&mut self, line: &str) {
        let needs_image = self.chinese == Chinese::Raster
            && line
                .chars()
                .any(|c| !c.is_control() && single_byte(c).is_none());
        if needs_image {
            self.image_lines(line);
            return;
        }
        // ASCII and the Latin signs of code page 1252 (¥, €, é…) go as single bytes; the rest
        // inside FS & … FS . as GB18030. Kanji mode prints every character in its 24-dot font,
        // so a ¥ there would take two columns where `char_columns` counts one.
        let mut run = String::new();
        for c in line.chars() {
            if let Some(byte) = single_byte(c) {
                self.flush_run(&mut run);
                if self.in_kanji {
                    self.bytes.extend_from_slice(&[0x1C, 0x2E]);
                    self.in_kanji = false;
                }
                self.bytes.push(byte);
            } else if !c.is_control() {
                run.push(c);
            }
        }
        self.flush_run(&mut run);
        if self.in_kanji {
            self.bytes.extend_from_slice(&[0x1C, 0x2E]);
            self.in_kanji = false;
        }
        self.bytes.push(b'\n');
    }

    /// The line as images, one per printed row (a line wider than the paper, such as a
    /// long till name, wraps here as the printer would wrap its text).
    fn image_lines(&mut self, line: &str) {
        for row in wrap(line, self.columns) {
            let bitmap = raster_text::line_bitmap(&row, self.columns, self.align);
            self.bytes.extend(bitmap.gs_v0());
            // ESC J 6: the gap a text line has under its 24 dots (default spacing, 30 dots).
            self.bytes.extend_from_slice(&[0x1B, 0x4A, 6]);
        }
    }

    fn flush_run(&mut self, run: &mut String) {
        if run.is_empty() {
            return;
        }
        match self.chinese {
            Chinese::Gb18030 => {
                if !self.in_kanji {
                    self.bytes.extend_from_slice(&[0x1C, 0x26]);
                    self.in_kanji = true;
                }
                let (enc, _, _) = encoding_rs::GB18030.encode(run);
                self.bytes.extend_from_slice(&enc);
            }
            // Unreachable through `text_line` (such lines become images); kept total.
            Chinese::Raster => self.bytes.extend(run.chars().map(|_| b'?')),
        }
        run.clear();
    }

    fn align(&mut self, align: Align) {
        let n = match align {
            Align::Left => 0,
            Align::Centre => 1,
            Align::Right => 2,
        };
        self.align = align;
        self.bytes.extend_from_slice(&[0x1B, 0x61, n]);
    }
}

/// The byte of `c` in code page 1252 (selected by ESC t 16), for printable characters.
fn single_byte(c: char) -> Option<u8> {
    if c.is_control() {
        return None;
    }
    if c.is_ascii() {
        return Some(c as u8);
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
    match (&*bytes, unmappable) {
        ([byte], false) => Some(*byte),
        _ => None,
    }
}

/// GS v 0: the logo as a 1-bit raster, at most `max_dots` wide (8 dots per mm).
fn raster_logo(logo: &crate::Logo, max_dots: u32) -> Vec<u8> {
    let (w0, h0) = (logo.width().max(1), logo.height().max(1));
    let w = w0.min(max_dots).max(8);
    let h = ((h0 as u64 * w as u64) / w0 as u64).max(1) as u32;
    let bytes_per_row = w.div_ceil(8);
    let rgb = logo.rgb_pixels();
    let mut out = vec![0x1D, 0x76, 0x30, 0x00];
    out.extend_from_slice(&(bytes_per_row as u16).to_le_bytes());
    out.extend_from_slice(&(h as u16).to_le_bytes());
    for y in 0..h {
        let sy = (y as u64 * h0 as u64 / h as u64) as u32;
        for bx in 0..bytes_per_row {
            let mut b = 0u8;
            for bit in 0..8 {
                let x = bx * 8 + bit;
                if x >= w {
                    continue;
                }
                let sx = (x as u64 * w0 as u64 / w as u64) as u32;
                let i = ((sy * w0 + sx) * 3) as usize;
                let lum = rgb.get(i..i + 3).map_or(255u32, |p| {
                    (p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000
                });
                if lum < 128 {
                    b |= 0x80 >> bit;
                }
            }
            out.push(b);
        }
    }
    out
}

/// Most bytes a model 2 QR holds at error correction M (version 40, byte mode).
pub const QR_MAX_BYTES: usize = 2331;

/// GS ( k: QR model 2, module size 6, error correction M, store the data then print it.
/// Data a QR cannot hold prints no QR (the length would not fit its 2-byte field either).
fn qr_commands(data: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if data.len() > QR_MAX_BYTES {
        return out;
    }
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0x00]);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6]);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31]);
    let len = u16::try_from(data.len() + 3).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0x31, 0x50, 0x30]);
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]);
    out
}

/// The receipt as the byte stream a thermal printer takes.
pub fn receipt_bytes(receipt: &Receipt, opts: &EscPosOptions) -> Vec<u8> {
    let cols = opts.columns.max(16) as usize;
    let mut out = Out {
        // ESC @, then ESC t 16: code page 1252 for the Latin signs sent outside Kanji mode.
        bytes: vec![0x1B, 0x40, 0x1B, 0x74, 16],
        chinese: opts.chinese,
        in_kanji: false,
        columns: cols,
        align: Align::Left,
    };
    out.align(Align::Centre);
    if let Some(logo) = &receipt.logo {
        // 8 dots per column-width of 12-dot font is too wide; 12 dots per column fits the paper.
        out.bytes.extend(raster_logo(logo, cols as u32 * 12));
        out.bytes.push(b'\n');
    }
    for l in wrap(&receipt.shop_name, cols) {
        out.text_line(&l);
    }
    // A header or footer typed over several lines keeps its line breaks.
    for h in receipt.header_lines.iter().flat_map(|h| h.lines()) {
        for l in wrap(h, cols) {
            out.text_line(&l);
        }
    }
    out.align(Align::Left);
    let rule = "-".repeat(cols);
    out.text_line(&rule);
    for l in two_columns(&receipt.order_ref, &receipt.time_text, cols) {
        out.text_line(&l);
    }
    if let Some(till) = &receipt.till {
        out.text_line(till);
    }
    out.text_line(&rule);
    for line in &receipt.lines {
        for l in wrap(&line.name, cols) {
            out.text_line(&l);
        }
        let qty = format!("  {} x {}", line.quantity, line.unit_text);
        for l in two_columns(&qty, &line.amount_text, cols) {
            out.text_line(&l);
        }
        if let Some(d) = &line.discount_text {
            for l in wrap(&format!("  {d}"), cols) {
                out.text_line(&l);
            }
        }
    }
    out.text_line(&rule);
    for (label, amount) in receipt.tax_lines.iter().chain(&receipt.totals) {
        for l in two_columns(label, amount, cols) {
            out.text_line(&l);
        }
    }
    for l in wrap(&receipt.payment_text, cols) {
        out.text_line(&l);
    }
    out.align(Align::Centre);
    if let Some(qr) = &receipt.qr {
        out.bytes.extend(qr_commands(qr));
        out.bytes.push(b'\n');
    }
    for l in receipt.footer.lines().flat_map(|f| wrap(f, cols)) {
        out.text_line(&l);
    }
    out.align(Align::Left);
    if opts.drawer_kick {
        // ESC p m t1 t2: pin 2, 50 ms on, 500 ms off.
        out.bytes.extend_from_slice(&[0x1B, 0x70, 0, 25, 250]);
    }
    if opts.cut {
        // GS V 66 n: feed n lines and cut (partial cut).
        out.bytes.extend_from_slice(&[0x1D, 0x56, 66, 3]);
    }
    out.bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::ReceiptLine;

    fn receipt() -> Receipt {
        Receipt {
            shop_name: "茶馆 Tea House".into(),
            logo: None,
            header_lines: vec!["北京市朝阳区".into()],
            order_ref: "A-1001".into(),
            time_text: "2026-12-02 12:00".into(),
            till: Some("front".into()),
            lines: vec![ReceiptLine {
                name: "绿茶 Green tea".into(),
                quantity: 2,
                unit_text: "¥12.00".into(),
                amount_text: "¥24.00".into(),
                discount_text: Some("-10%".into()),
            }],
            totals: vec![("合计".into(), "¥24.00".into())],
            tax_lines: vec![("VAT 13%".into(), "¥2.76".into())],
            payment_text: "现金 Cash".into(),
            qr: Some("https://shop.example/p/tea?src=share&order=A-1001".into()),
            footer: "谢谢".into(),
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn cjk_takes_two_columns_and_wraps_by_width() {
        assert_eq!(text_columns("绿茶ab"), 6);
        let lines = wrap("绿茶绿茶绿茶绿茶绿茶", 8);
        assert_eq!(lines, vec!["绿茶绿茶", "绿茶绿茶", "绿茶"]);
        assert!(lines.iter().all(|l| text_columns(l) <= 8));
        assert_eq!(wrap("green tea leaves", 10), vec!["green tea", "leaves"]);
    }

    #[test]
    fn the_stream_has_init_gb18030_qr_drawer_and_cut() {
        let opts = EscPosOptions {
            columns: 32,
            chinese: Chinese::Gb18030,
            cut: true,
            drawer_kick: true,
        };
        let b = receipt_bytes(&receipt(), &opts);
        assert_eq!(&b[..5], &[0x1B, 0x40, 0x1B, 0x74, 16]);
        // ¥ is one column on paper only outside Kanji mode: byte 0xA5 of code page 1252.
        assert!(find(&b, b"\xA524.00\n") && !find(&b, &[0x1C, 0x26, 0x81, 0x30]));
        let (tea, _, _) = encoding_rs::GB18030.encode("绿茶");
        let mut kanji = vec![0x1C, 0x26];
        kanji.extend_from_slice(&tea);
        kanji.extend_from_slice(&[0x1C, 0x2E]);
        assert!(find(&b, &kanji), "绿茶 in FS & … FS .");
        assert!(find(
            &b,
            b"1P0https://shop.example/p/tea?src=share&order=A-1001"
        ));
        assert!(find(&b, &[0x1B, 0x70, 0, 25, 250]));
        assert!(b.ends_with(&[0x1D, 0x56, 66, 3]));
        let plain = EscPosOptions {
            cut: false,
            drawer_kick: false,
            ..opts
        };
        let b = receipt_bytes(&receipt(), &plain);
        assert!(!find(&b, &[0x1D, 0x56]) && !find(&b, &[0x1B, 0x70]));
    }

    /// The GS v 0 images of a stream (header and the dots), walked by their declared sizes.
    fn images(b: &[u8]) -> Vec<(u32, u32, &[u8])> {
        let mut out = Vec::new();
        let mut i = 0;
        while i + 8 <= b.len() {
            if b[i..i + 4] == [0x1D, 0x76, 0x30, 0x00] {
                let wb = u16::from_le_bytes([b[i + 4], b[i + 5]]) as usize;
                let h = u16::from_le_bytes([b[i + 6], b[i + 7]]) as usize;
                let dots = &b[i + 8..i + 8 + wb * h];
                out.push((wb as u32 * 8, h as u32, dots));
                i += 8 + wb * h;
            } else {
                i += 1;
            }
        }
        out
    }

    /// The stream with the images cut out (what the printer takes as text and commands).
    fn without_images(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if i + 8 <= b.len() && b[i..i + 4] == [0x1D, 0x76, 0x30, 0x00] {
                let wb = u16::from_le_bytes([b[i + 4], b[i + 5]]) as usize;
                let h = u16::from_le_bytes([b[i + 6], b[i + 7]]) as usize;
                i += 8 + wb * h;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    /// The leftmost printed dot of an image, if any.
    fn first_dark_x(width: u32, dots: &[u8]) -> Option<u32> {
        let bytes_per_row = (width / 8) as usize;
        dots.chunks(bytes_per_row)
            .filter_map(|row| {
                let (i, b) = row.iter().enumerate().find(|(_, b)| **b != 0)?;
                Some(i as u32 * 8 + b.leading_zeros())
            })
            .min()
    }

    fn raster_receipt() -> Receipt {
        let mut r = receipt();
        r.lines = vec![
            ReceiptLine {
                name: "龙井绿茶".into(),
                quantity: 1,
                unit_text: "¥88.00".into(),
                amount_text: "¥88.00".into(),
                discount_text: None,
            },
            ReceiptLine {
                name: "Green tea".into(),
                quantity: 2,
                unit_text: "¥12.00".into(),
                amount_text: "¥24.00".into(),
                discount_text: Some("-10%".into()),
            },
        ];
        // The QR link has a '?' of its own.
        r.qr = None;
        r
    }

    #[test]
    fn raster_draws_each_chinese_line_as_one_image_and_keeps_latin_text() {
        for columns in [32u8, 48] {
            let opts = EscPosOptions {
                columns,
                chinese: Chinese::Raster,
                cut: true,
                drawer_kick: false,
            };
            let b = receipt_bytes(&raster_receipt(), &opts);
            let text = without_images(&b);
            assert!(!text.contains(&b'?'), "no '?' for CJK");
            assert!(!find(&text, &[0x1C, 0x26]), "no Kanji mode");
            // 茶馆 Tea House, 北京市朝阳区, 龙井绿茶, 合计, 现金 Cash, 谢谢.
            let imgs = images(&b);
            assert_eq!(imgs.len(), 6, "{columns} columns");
            for (w, h, dots) in &imgs {
                assert_eq!((*w, *h), (columns as u32 * 12, 24));
                assert!(dots.iter().any(|d| *d != 0), "dark dots in every image");
            }
            // Every image is followed by the rest of its line's height, not by text.
            assert_eq!(text.windows(3).filter(|w| *w == [0x1B, 0x4A, 6]).count(), 6);
            // Latin-only lines stay text (¥ as byte 0xA5 of code page 1252).
            assert!(find(&text, b"Green tea\n"));
            assert!(find(&text, b"  2 x \xA512.00"));
            assert!(find(&text, b"  -10%\n"));
            assert!(find(&text, b"VAT 13%"));
            assert!(b.ends_with(&[0x1D, 0x56, 66, 3]));
        }
    }

    #[test]
    fn raster_images_follow_the_text_and_its_alignment() {
        let opts = EscPosOptions {
            columns: 32,
            chinese: Chinese::Raster,
            cut: false,
            drawer_kick: false,
        };
        let mut r = raster_receipt();
        r.lines[0].name = "龙井".into();
        r.lines[1].name = "绿茶".into();
        let b = receipt_bytes(&r, &opts);
        let imgs = images(&b);
        // Shop name, header, 龙井, 绿茶, 合计, 现金 Cash, 谢谢.
        assert_eq!(imgs.len(), 7);
        let (longjing, lucha) = (imgs[2].2, imgs[3].2);
        assert_ne!(longjing, lucha, "龙井 and 绿茶 are drawn differently");
        // Left-aligned lines start in the first cell; the centred shop name (14 of 32
        // columns) starts 9 cells in, the centred footer 谢谢 (4 columns) 14 cells in.
        assert!(first_dark_x(384, longjing).is_some_and(|x| x < 12));
        let shop = first_dark_x(384, imgs[0].2).unwrap_or(0);
        assert!((108..120).contains(&shop), "shop name starts at {shop}");
        let footer = first_dark_x(384, imgs[6].2).unwrap_or(0);
        assert!((168..180).contains(&footer), "footer starts at {footer}");
    }

    #[test]
    fn raster_wraps_a_till_name_wider_than_the_paper() {
        let opts = EscPosOptions {
            columns: 16,
            chinese: Chinese::Raster,
            cut: false,
            drawer_kick: false,
        };
        let mut r = raster_receipt();
        r.till = Some("前台收银台一号机器".into());
        let with_till = images(&receipt_bytes(&r, &opts)).len();
        r.till = None;
        // 18 columns on a 16-column roll: two rows.
        assert_eq!(with_till, images(&receipt_bytes(&r, &opts)).len() + 2);
    }
}

#[cfg(test)]
mod qr_limits {
    use super::*;

    /// A link too long for any QR prints none, rather than a length that wraps and turns
    /// the rest of the link into printer commands.
    #[test]
    fn a_qr_too_long_is_left_out() {
        assert!(qr_commands(&"x".repeat(QR_MAX_BYTES + 1)).is_empty());
        assert!(qr_commands(&"x".repeat(70_000)).is_empty());
        let fits = qr_commands(&"x".repeat(QR_MAX_BYTES));
        let len = u16::from_le_bytes([fits[28], fits[29]]);
        assert_eq!(usize::from(len), QR_MAX_BYTES + 3);
    }
}
