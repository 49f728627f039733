//! `shopcast taxes`, `sell --discount --receipt-pdf --print` and `shopcast till`, run as a
//! cashier would: the real binary on a temp shop, receipts read back by pdftotext, zbarimg and
//! an independent ESC/POS reader listening on TCP, the Z report by pdftotext.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{failure, shopcast, stdout, tool};

fn set(data: &Path, key: &str, value: &str) {
    stdout(&shopcast(data, &["settings", "set", key, value]));
}

/// A EUR shop in English with VAT 19 % (default) and 7 %, selling Tea (11.90, barcode), a
/// book at 7 % and 绿茶.
fn vat_shop(data: &Path) {
    for (key, value) in [
        ("shop.name", "Teehaus 茶馆"),
        ("shop.currency", "EUR"),
        ("shop.locale", "en"),
        ("shop.timezone", "Europe/Berlin"),
        ("shop.buy_link_base", "https://shop.example.com/p/"),
    ] {
        set(data, key, value);
    }
    stdout(&shopcast(
        data,
        &["taxes", "add", "VAT 19 %", "19", "--default"],
    ));
    stdout(&shopcast(data, &["taxes", "add", "VAT 7 %", "7"]));
    let csv = data.join("products.csv");
    std::fs::write(
        &csv,
        "sku,name,price,stock,tax,barcode\n\
         A,Tea,11.90,10,,4006381333931\n\
         B,Book,4.99,5,VAT 7 %,\n\
         C,绿茶,8.00,,,\n",
    )
    .unwrap();
    stdout(&shopcast(
        data,
        &["products", "import", csv.to_str().unwrap()],
    ));
}

/// The independent ESC/POS reader (tests/peers/escpos_reader.py) serving on a free port.
struct Reader {
    child: Child,
    out: PathBuf,
    port: u16,
}

impl Reader {
    fn start(out: &Path) -> Reader {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/escpos_reader.py");
        std::fs::create_dir_all(out).unwrap();
        let child = Command::new("python3")
            .arg(script)
            .args(["serve", "--port", "0", "--out"])
            .arg(out)
            .spawn()
            .expect("python3 runs the ESC/POS reader");
        let ready = out.join("ready");
        let started = Instant::now();
        while !ready.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the reader did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(20));
        let port = std::fs::read_to_string(&ready)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Reader {
            child,
            out: out.to_path_buf(),
            port,
        }
    }

    fn address(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// The n-th receipt the reader decoded (1-based), waiting for it to be written.
    fn receipt(&self, n: usize) -> Value {
        let path = self.out.join(format!("receipt-{n}.json"));
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(value) = serde_json::from_str(&text)
            {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh folder for page images.
fn scratch(data: &Path) -> PathBuf {
    let dir = data.join("scratch");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pdf_text(pdf: &Path) -> String {
    tool("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"])
}

#[test]
fn a_sale_with_vat_and_a_discount_prints_its_receipt_on_paper_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    vat_shop(data);
    let rates: Value =
        serde_json::from_str(&stdout(&shopcast(data, &["taxes", "list", "--json"]))).unwrap();
    let rates = rates.as_array().unwrap();
    assert_eq!(rates.len(), 2);
    assert_eq!(rates.iter().filter(|r| r["isDefault"] == true).count(), 1);
    set(data, "receipt.drawer_kick", "true");
    set(data, "receipt.footer", "Danke 谢谢");
    let reader = Reader::start(&data.join("printed"));
    let pdf = data.join("receipt.pdf");
    let out = shopcast(
        data,
        &[
            "sell",
            "--sku",
            "A:2",
            "--sku",
            "B",
            "--sku",
            "C",
            "--method",
            "cash",
            "--discount",
            "10%",
            "--discount-reason",
            "staff",
            "--receipt-pdf",
            pdf.to_str().unwrap(),
            "--print",
            &reader.address(),
        ],
    );
    let printed = stdout(&out);
    // 23.80 + 4.99 + 8.00 = 36.79; 10 % off = 3.68 → 33.11.
    assert!(printed.contains("discount -€3.68 (staff)"), "{printed}");
    assert!(printed.contains("total €33.11"), "{printed}");
    assert!(printed.contains("incl. VAT 19 %"), "{printed}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(drawer opened)"), "{stderr}");

    // The PDF receipt, read back.
    let text = pdf_text(&pdf);
    for expected in [
        "Teehaus 茶馆",
        "Tea",
        "绿茶",
        "staff",
        "€33.11",
        "VAT 19",
        "VAT 7",
        "Cash",
        "谢谢",
    ] {
        assert!(text.contains(expected), "{expected} missing in:\n{text}");
    }
    let codes = support::qr_codes_on_first_page(&pdf, &scratch(data));
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(
        codes[0].starts_with("https://shop.example.com/p/A?src=receipt&order=O-"),
        "{codes:?}"
    );

    // The thermal printer's stream, decoded by the independent reader.
    let receipt = reader.receipt(1);
    let lines: Vec<&str> = receipt["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let all = lines.join("\n");
    for expected in ["Teehaus 茶馆", "Tea", "绿茶", "33.11", "VAT 19", "谢谢"] {
        assert!(all.contains(expected), "{expected} missing in:\n{all}");
    }
    assert_eq!(receipt["qr"], serde_json::json!([codes[0]]));
    assert_eq!(receipt["drawer_kicks"].as_array().unwrap().len(), 1);
    assert_eq!(receipt["cut_last"], true);
    assert_eq!(receipt["unknown"], serde_json::json!([]));
}

#[test]
fn refused_discounts_and_printers_sell_nothing_and_a_dead_printer_keeps_the_sale() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    vat_shop(data);
    for (flags, expected) in [
        (vec!["--discount", "150%"], "error[validation]"),
        (vec!["--discount", "99.00"], "error[validation]"),
        (vec!["--discount", "ten"], "error[validation]"),
        (vec!["--print", "ftp://printer"], "error[validation]"),
        (vec!["--print", "printer.local"], "error[validation]"),
    ] {
        let mut args = vec!["sell", "--sku", "A", "--method", "cash"];
        args.extend(flags.iter());
        let err = failure(&shopcast(data, &args));
        assert!(err.starts_with(expected), "{flags:?}: {err}");
    }
    let db = data.join("shopcast.sqlite");
    let orders = || {
        tool(
            "sqlite3",
            &[db.to_str().unwrap(), "SELECT count(*) FROM orders"],
        )
    };
    assert_eq!(orders().trim(), "0");
    // Nobody listens on the port: the sale is paid and kept; the printer is the error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = failure(&shopcast(
        data,
        &[
            "sell",
            "--sku",
            "A",
            "--method",
            "cash",
            "--print",
            &format!("tcp://127.0.0.1:{port}"),
        ],
    ));
    assert!(err.starts_with("error[printer_unreachable]"), "{err}");
    let paid = tool(
        "sqlite3",
        &[
            db.to_str().unwrap(),
            "SELECT count(*) FROM orders WHERE status = 'paid'",
        ],
    );
    assert_eq!(paid.trim(), "1");
}

#[test]
fn a_day_at_the_till_closes_with_a_z_report_that_cannot_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    vat_shop(data);
    let err = failure(&shopcast(data, &["till", "report", "--x"]));
    assert!(err.contains("no open day"), "{err}");
    let opened = stdout(&shopcast(data, &["till", "open", "--float", "200"]));
    assert!(opened.contains("€200.00"), "{opened}");
    stdout(&shopcast(
        data,
        &["sell", "--sku", "A:2", "--method", "cash"],
    ));
    stdout(&shopcast(
        data,
        &[
            "sell",
            "--sku",
            "B",
            "--method",
            "cash",
            "--discount",
            "0.99",
        ],
    ));
    let x: Value = serde_json::from_str(&stdout(&shopcast(
        data,
        &["till", "report", "--x", "--json"],
    )))
    .unwrap();
    assert_eq!(x["kind"], "X");
    assert_eq!(x["salesMinor"], 2380 + 400);
    assert_eq!(x["discountsMinor"], 99);
    assert_eq!(x["expectedCashMinor"], 20000 + 2780);
    // 23.80 incl. 19 % = 3.80; 4.00 incl. 7 % = 0.26.
    let taxes: Vec<i64> = x["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["taxMinor"].as_i64().unwrap())
        .collect();
    assert_eq!(taxes.iter().sum::<i64>(), 380 + 26, "{x}");
    let z_pdf = data.join("z.pdf");
    let closed = stdout(&shopcast(
        data,
        &[
            "till",
            "close",
            "--counted",
            "227.00",
            "--out",
            z_pdf.to_str().unwrap(),
        ],
    ));
    assert!(closed.contains("Difference\t-€0.80"), "{closed}");
    let text = pdf_text(&z_pdf);
    for expected in ["Z report", "€227.00", "€227.80", "-€0.80", "VAT 19", "cash"] {
        assert!(text.contains(expected), "{expected} missing in:\n{text}");
    }
    let err = failure(&shopcast(data, &["till", "close", "--counted", "1"]));
    assert!(err.contains("no open day"), "{err}");
    // The shop file itself refuses to change a closed day.
    let db = data.join("shopcast.sqlite");
    let changed = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE till_days SET counted_minor = 0")
        .output()
        .unwrap();
    assert!(!changed.status.success());
    assert!(
        String::from_utf8_lossy(&changed.stderr).contains("a closed till day cannot be changed")
    );
    let again: Value = serde_json::from_str(&stdout(&shopcast(
        data,
        &["till", "report", "--z", "1", "--json"],
    )))
    .unwrap();
    assert_eq!(again["countedMinor"], 22700);
    assert_eq!(again["differenceMinor"], -80);
}

#[test]
fn labels_carry_the_products_ean_13_beside_its_qr() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    vat_shop(data);
    let pdf = data.join("labels.pdf");
    stdout(&shopcast(
        data,
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--sku",
            "A,B",
            "--out",
            pdf.to_str().unwrap(),
        ],
    ));
    let mut codes = support::qr_codes_on_first_page(&pdf, &scratch(data));
    codes.sort();
    // Tea has a barcode, the book none: one EAN-13 and two QR links.
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert_eq!(codes[0], "4006381333931");
    assert!(
        codes[1].starts_with("https://shop.example.com/p/A?src=qr&sign=S"),
        "{codes:?}"
    );
    assert!(
        codes[2].starts_with("https://shop.example.com/p/B?src=qr&sign=S"),
        "{codes:?}"
    );
}
