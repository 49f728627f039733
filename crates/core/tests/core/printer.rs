//! Receipts sent to printers (till/printer.rs): over real TCP to the independent ESC/POS
//! reader (tests/peers/escpos_reader.py), to a device file, and to printers that fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use shopcast_core::ErrorCode;
use shopcast_core::till::printer::{self, PrinterTarget};
use shopcast_print::Logo;
use shopcast_print::receipt::escpos::{self, Chinese, EscPosOptions};
use shopcast_print::receipt::{Receipt, ReceiptLine};

const LINK: &str = "https://shop.example/r/ABC";

fn reader_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/escpos_reader.py")
}

fn python(args: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command.arg(reader_script()).args(args);
    command
}

/// The reader's `serve`, killed if the test ends before it does.
struct Reader(Child);

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Reader {
    /// Starts a reader for one connection on a free port; the port it listens on.
    fn start(out: &Path) -> (Reader, u16) {
        let child = python(&["serve", "--port", "0", "--count", "1", "--out"])
            .arg(out)
            .spawn()
            .expect("python3 runs (apt-get install -y python3)");
        let reader = Reader(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(out.join("ready")) {
                return (reader, text.trim().parse().expect("ready holds the port"));
            }
            assert!(Instant::now() < deadline, "the reader never got ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the reader to finish its one receipt; its JSON.
    fn receipt(mut self, out: &Path) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the reader never finished");
            std::thread::sleep(Duration::from_millis(20));
        }
        let text = std::fs::read_to_string(out.join("receipt-1.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A 44 × 20 logo, black on its left half: six bytes (48 dots) a raster row.
fn logo() -> Logo {
    let img = image::RgbImage::from_fn(44, 20, |x, _| {
        image::Rgb(if x < 22 { [0, 0, 0] } else { [255; 3] })
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    Logo::from_image_bytes(png.get_ref()).unwrap()
}

fn receipt() -> Receipt {
    Receipt {
        shop_name: "茶馆 Tea House".into(),
        logo: Some(logo()),
        header_lines: vec!["杭州西湖区".into()],
        order_ref: "A-1001".into(),
        time_text: "2026-12-02 12:00".into(),
        till: Some("Front".into()),
        lines: vec![ReceiptLine {
            name: "龙井绿茶".into(),
            quantity: 2,
            unit_text: "¥19.00".into(),
            amount_text: "¥38.00".into(),
            discount_text: None,
        }],
        totals: vec![("合计".into(), "¥38.00".into())],
        tax_lines: vec![],
        payment_text: "现金 Cash".into(),
        qr: Some(LINK.into()),
        footer: "谢谢 Thank you".into(),
    }
}

const OPTIONS: EscPosOptions = EscPosOptions {
    columns: 32,
    chinese: Chinese::Gb18030,
    cut: true,
    drawer_kick: true,
};

#[test]
fn the_reader_passes_its_own_selftest() {
    let out = python(&["selftest"]).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_receipt_sent_over_tcp_reads_back_with_its_chinese_qr_drawer_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, port) = Reader::start(dir.path());
    let bytes = escpos::receipt_bytes(&receipt(), &OPTIONS);
    let target = PrinterTarget::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    printer::send(&target, &bytes, Duration::from_secs(5))
        .await
        .unwrap();
    let got = reader.receipt(dir.path());

    assert_eq!(
        std::fs::read(dir.path().join("receipt-1.bin")).unwrap(),
        bytes,
        "every byte arrived"
    );
    assert_eq!(got["unknown"], serde_json::json!([]), "{got:#}");
    let lines: Vec<&str> = got["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lines.contains(&"龙井绿茶"), "{lines:#?}");
    assert!(lines.contains(&"茶馆 Tea House"), "{lines:#?}");
    // As the printer lays them out (a Kanji-mode character is two columns, whatever it is):
    // no line is wider than the paper, and the total is right-aligned to its edge.
    let widths = got["widths"].as_array().unwrap();
    for (line, width) in lines.iter().zip(widths) {
        assert!(
            width.as_u64().unwrap() <= 32,
            "{line:?} takes {width} columns"
        );
    }
    let total = lines.iter().position(|l| l.starts_with("合计")).unwrap();
    assert!(lines[total].ends_with("¥38.00"), "{}", lines[total]);
    assert_eq!(widths[total], 32, "{:?}", lines[total]);
    assert_eq!(got["images"], serde_json::json!([[48, 20]]));
    assert_eq!(got["qr"], serde_json::json!([LINK]));
    assert_eq!(got["qr_printed"], 1);
    assert_eq!(got["drawer_kicks"], serde_json::json!([[0, 25, 250]]));
    assert_eq!(got["cuts"], 1);
    assert_eq!(got["cut_last"], true);
    assert_eq!(got["inits"], 1);
    assert_eq!(got["unprinted"], "");
}

#[tokio::test]
async fn a_printer_that_refuses_fails_at_once_naming_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let target = PrinterTarget::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let started = Instant::now();
    let err = printer::send(&target, b"\x1b@", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.code(), ErrorCode::PrinterUnreachable);
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "The printer at 127.0.0.1:{port} could not be reached"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_printer_that_never_answers_times_out() {
    // A listener that accepts nothing, its queue filled: the next connection hangs.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..32 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(stream) => queued.push(stream.unwrap()),
            Err(_) => break,
        }
    }
    let target = PrinterTarget::Tcp {
        host: "127.0.0.1".into(),
        port: address.port(),
    };
    let started = Instant::now();
    let err = printer::send(&target, b"\x1b@", Duration::from_secs(1))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3));
    assert_eq!(err.code(), ErrorCode::PrinterTimedOut);
    assert_eq!(
        err.to_string(),
        format!(
            "The printer at 127.0.0.1:{} did not answer within 1 s.",
            address.port()
        )
    );
    drop(listener);
}

#[tokio::test]
async fn a_printer_that_stops_reading_times_out_mid_receipt() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts, then holds the connection without reading a byte.
    let holder = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(stream);
    });
    let target = PrinterTarget::Tcp {
        host: "localhost".into(),
        port,
    };
    // Far more than the two sockets' buffers hold.
    let bytes = vec![b'x'; 64 << 20];
    let started = Instant::now();
    let err = printer::send(&target, &bytes, Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.code(), ErrorCode::PrinterTimedOut, "{err}");
    assert_eq!(
        err.to_string(),
        format!("The printer at localhost:{port} did not answer within 1.5 s.")
    );
    holder.abort();
}

#[tokio::test]
async fn a_device_gets_the_bytes_and_a_missing_one_is_no_printer() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO stands in for the character device: the bytes arrive whole at its other end.
    let device = dir.path().join("lp0");
    let made = std::process::Command::new("mkfifo")
        .arg(&device)
        .status()
        .unwrap();
    assert!(made.success());
    let target = PrinterTarget::parse(device.to_str().unwrap()).unwrap();
    assert_eq!(target, PrinterTarget::Device(device.clone()));
    let bytes = escpos::receipt_bytes(&receipt(), &OPTIONS);
    let reader = std::thread::spawn({
        let device = device.clone();
        move || std::fs::read(device).unwrap()
    });
    printer::send(&target, &bytes, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reader.join().unwrap(), bytes);

    // A plain file is not a printer: nothing is appended to it.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, b"keep me").unwrap();
    let err = printer::send(
        &PrinterTarget::Device(file.clone()),
        &bytes,
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PrinterUnreachable);
    assert!(
        err.to_string().contains("is a file, not a printer"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

    let missing = dir.path().join("usb/lp9");
    let err = printer::send(
        &PrinterTarget::Device(missing.clone()),
        &bytes,
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PrinterUnreachable);
    assert!(
        err.to_string()
            .starts_with(&format!("No printer at {}: ", missing.display())),
        "{err}"
    );
    assert!(!missing.exists(), "a missing device is never created");
}

#[test]
fn printer_addresses_parse_with_their_default_port() {
    let tcp = |host: &str, port| PrinterTarget::Tcp {
        host: host.into(),
        port,
    };
    for (text, want) in [
        ("tcp://192.168.1.50:9100", tcp("192.168.1.50", 9100)),
        ("tcp://printer.local", tcp("printer.local", 9100)),
        ("tcp://till-2:9101", tcp("till-2", 9101)),
        ("tcp://[::1]:9100", tcp("::1", 9100)),
        ("tcp://[::1]", tcp("::1", 9100)),
        ("/dev/usb/lp0", PrinterTarget::Device("/dev/usb/lp0".into())),
    ] {
        assert_eq!(PrinterTarget::parse(text).unwrap(), want, "{text}");
    }
    assert_eq!(tcp("::1", 9100).to_string(), "tcp://[::1]:9100");
    assert_eq!(
        PrinterTarget::Device("/dev/usb/lp0".into()).to_string(),
        "/dev/usb/lp0"
    );

    for text in [
        "",
        "192.168.1.50:9100",
        "lp0",
        "usb/lp0",
        "http://192.168.1.50",
        "tcp://",
        "tcp://:9100",
        "tcp://printer:",
        "tcp://printer:0",
        "tcp://printer:99999",
        "tcp://printer:9100/queue",
        "tcp://::1",
        "tcp://[::1",
        "tcp://[printer]:9100",
        "tcp://user@printer",
    ] {
        let err = PrinterTarget::parse(text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{text}");
        assert_eq!(err.field(), Some("print"));
        let message = err.to_string();
        assert!(
            message.contains("tcp://HOST:PORT") && message.contains("/dev/usb/lp0"),
            "{text}: {message}"
        );
    }
}

/// The drawer opens with the receipt of a cash sale just paid, never with a reprint.
#[tokio::test]
async fn only_the_receipt_of_a_cash_sale_just_paid_opens_the_drawer() {
    let (shop, dir) = crate::shop_with("CNY").await;
    shop.set_setting("receipt.drawer_kick", "true")
        .await
        .unwrap();
    let tea = crate::product(&shop, "龙井绿茶", "88", None).await;
    let order = crate::order_of(&shop, &[(tea, 1)]).await;
    shop.mark_paid_manually(order.id, "cash").await.unwrap();
    let mut kicks = Vec::new();
    for (n, just_sold) in [(1, true), (2, false)] {
        let out = dir.path().join(format!("printer-{n}"));
        std::fs::create_dir_all(&out).unwrap();
        let (reader, port) = Reader::start(&out);
        let target = format!("tcp://127.0.0.1:{port}");
        let printed = if just_sold {
            shop.print_sale_receipt(order.id, Some(&target)).await
        } else {
            shop.print_receipt(order.id, Some(&target)).await
        }
        .unwrap();
        let decoded = reader.receipt(&out);
        assert_eq!(decoded["unknown"], serde_json::json!([]));
        kicks.push((
            printed.drawer_kicked,
            decoded["drawer_kicks"].as_array().unwrap().len(),
        ));
    }
    assert_eq!(kicks, [(true, 1), (false, 0)]);
}
