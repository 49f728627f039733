//! The headless commands, run as a user would: the real binary on a temp shop folder.

use std::process::Command;

mod support;

use support::{failure, qr_codes_on_first_page, shopcast, stdout, tool};

#[test]
fn settings_get_and_set() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        stdout(&shopcast(
            dir.path(),
            &["settings", "set", "shop.name", "茶叶铺"]
        )),
        "shop.name=茶叶铺\n"
    );
    stdout(&shopcast(
        dir.path(),
        &["settings", "set", "shop.currency", "cny"],
    ));
    assert_eq!(
        stdout(&shopcast(dir.path(), &["settings", "get", "shop.currency"])),
        "CNY\n"
    );
    let all = stdout(&shopcast(dir.path(), &["settings", "get"]));
    assert!(
        all.contains("shop.name=茶叶铺\n") && all.contains("shop.timezone="),
        "{all}"
    );

    let err = failure(&shopcast(
        dir.path(),
        &["settings", "set", "shop.timezone", "Mars/Base"],
    ));
    assert_eq!(err.lines().count(), 1, "one-line reason: {err}");
    assert!(
        err.starts_with("error[validation]: ") && err.contains("Mars/Base"),
        "{err}"
    );
    let err = failure(&shopcast(dir.path(), &["settings", "get", "shop.colour"]));
    assert!(err.contains("Unknown setting"), "{err}");
}

#[test]
fn import_list_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    stdout(&shopcast(
        dir.path(),
        &["settings", "set", "shop.currency", "EUR"],
    ));
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "sku,name,description,price,currency,stock,tags\n\
         TEA-1,龙井绿茶,\"明前, \"\"特级\"\"\",88,CNY,12,茶;gift\n\
         MUG-1,'=1+1 mug,<script>x</script>,\"12,50\",,,\n\
         YEN-1,Yen thing,,500,JPY,,\n",
    )
    .unwrap();
    let out = stdout(&shopcast(
        dir.path(),
        &["products", "import", csv.to_str().unwrap()],
    ));
    assert_eq!(out, "imported 3 new, 0 updated, 0 skipped\n");

    let listed: serde_json::Value = serde_json::from_str(&stdout(&shopcast(
        dir.path(),
        &["products", "list", "--json"],
    )))
    .unwrap();
    let products = listed.as_array().unwrap();
    assert_eq!(products.len(), 3);
    let mug = products.iter().find(|p| p["sku"] == "MUG-1").unwrap();
    assert_eq!(
        mug["name"], "=1+1 mug",
        "apostrophe guard removed on import"
    );
    assert_eq!(
        mug["price"],
        serde_json::json!({"amountMinor": 1250, "currency": "EUR"})
    );
    let yen = products.iter().find(|p| p["sku"] == "YEN-1").unwrap();
    assert_eq!(yen["price"]["amountMinor"], 500);

    let table = stdout(&shopcast(
        dir.path(),
        &["products", "list", "--search", "龙井"],
    ));
    assert_eq!(table.lines().count(), 1);
    assert!(table.contains("TEA-1\t龙井绿茶\t88.00 CNY\t12"), "{table}");

    let exported = dir.path().join("out.csv");
    let out = stdout(&shopcast(
        dir.path(),
        &["products", "export", exported.to_str().unwrap()],
    ));
    assert!(out.starts_with("exported 3 products"), "{out}");
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("MUG-1,'=1+1 mug,<script>x</script>,12.50,EUR,,"),
        "{text}"
    );
    assert!(text.contains("YEN-1,Yen thing,,500,JPY,,"), "{text}");

    // A second shop imports the export and exports the very same bytes.
    let other = tempfile::tempdir().unwrap();
    stdout(&shopcast(
        other.path(),
        &["products", "import", exported.to_str().unwrap()],
    ));
    let again = other.path().join("again.csv");
    stdout(&shopcast(
        other.path(),
        &["products", "export", again.to_str().unwrap()],
    ));
    assert_eq!(std::fs::read_to_string(again).unwrap(), text);
}

#[test]
fn invalid_csv_imports_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "sku,name,price\nA,Good,1\nB,,2\nC,Bad price,1.2.3\n").unwrap();
    let output = shopcast(dir.path(), &["products", "import", csv.to_str().unwrap()]);
    let err = failure(&output);
    assert!(err.contains("bad.csv:3 (name)"), "{err}");
    assert!(err.contains("bad.csv:4 (price)"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("error[validation]: nothing imported: 2 invalid row(s)"),
        "{err}"
    );
    assert_eq!(
        stdout(&shopcast(dir.path(), &["products", "list", "--json"])).trim(),
        "[]"
    );

    let output = shopcast(
        dir.path(),
        &[
            "products",
            "import",
            "--skip-invalid",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(stdout(&output), "imported 1 new, 0 updated, 2 skipped\n");

    let err = failure(&shopcast(
        dir.path(),
        &["products", "import", "/no/such/file.csv"],
    ));
    assert!(
        err.starts_with("error[io]: Could not open /no/such/file.csv"),
        "{err}"
    );
}

/// Past the 100 listed rows the rest are counted: the summary gives the true total.
#[test]
fn a_csv_with_many_invalid_rows_lists_100_and_counts_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    let rows: String = (0..150).map(|i| format!("S-{i},,1\n")).collect();
    std::fs::write(&csv, format!("sku,name,price\n{rows}")).unwrap();
    let err = failure(&shopcast(
        dir.path(),
        &["products", "import", csv.to_str().unwrap()],
    ));
    assert_eq!(err.matches(" (name): ").count(), 100, "{err}");
    assert!(err.contains("…and 50 more invalid row(s)"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("error[validation]: nothing imported: 150 invalid row(s)"),
        "{err}"
    );
}

#[test]
fn data_dir_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_shopcast"))
        .args(["settings", "set", "shop.name", "Env shop"])
        .env("SHOPCAST_DATA_DIR", dir.path())
        .output()
        .unwrap();
    stdout(&output);
    assert!(dir.path().join("shopcast.sqlite").exists());
    assert_eq!(
        stdout(&shopcast(dir.path(), &["settings", "get", "shop.name"])),
        "Env shop\n"
    );
}

/// Killed mid-import (SIGKILL, no chance to clean up): the shop holds all rows or none,
/// and opens normally afterwards.
#[test]
fn a_kill_during_import_loses_nothing_and_half_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let rows = 40_000;
    let mut text = String::from("sku,name,description,price,currency,stock,tags\n");
    for i in 0..rows {
        text.push_str(&format!(
            "SKU-{i},Product {i} 商品,Description {i},{}.99,USD,{i},a;b\n",
            i % 500
        ));
    }
    std::fs::write(&csv, text).unwrap();
    stdout(&shopcast(
        dir.path(),
        &["settings", "set", "shop.name", "Before the crash"],
    ));

    let mut child = Command::new(env!("CARGO_BIN_EXE_shopcast"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["products", "import", csv.to_str().unwrap()])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let listed: serde_json::Value = serde_json::from_str(&stdout(&shopcast(
        dir.path(),
        &["products", "list", "--json"],
    )))
    .unwrap();
    let count = listed.as_array().unwrap().len();
    assert!(
        count == 0 || count == rows,
        "all or nothing, found {count} of {rows}"
    );
    assert_eq!(
        stdout(&shopcast(dir.path(), &["settings", "get", "shop.name"])),
        "Before the crash\n"
    );
    // And the import can simply be run again.
    stdout(&shopcast(
        dir.path(),
        &["products", "import", csv.to_str().unwrap()],
    ));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&shopcast(
        dir.path(),
        &["products", "list", "--json"],
    )))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), rows);
}

#[test]
fn qr_prints_the_exact_payload_or_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pix = shopcast(
        dir.path(),
        &[
            "qr",
            "pix",
            "--key",
            "123e4567-e12b-12d1-a456-426655440000",
            "--name",
            "Fulano de Tal",
            "--city",
            "BRASILIA",
        ],
    );
    // Banco Central do Brasil's published static example, CRC included; no trailing newline.
    assert_eq!(
        stdout(&pix),
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
    );
    let upi = shopcast(
        dir.path(),
        &[
            "qr", "upi", "--vpa", "shop@upi", "--name", "Tea Shop", "--amount", "5", "--ref", "A1",
        ],
    );
    assert_eq!(
        stdout(&upi),
        "upi://pay?pa=shop@upi&pn=Tea%20Shop&am=5.00&cu=INR&tr=A1"
    );
    let latin1 = shopcast(
        dir.path(),
        &[
            "qr",
            "epc",
            "--name",
            "Zoë",
            "--iban",
            "DE89370400440532013000",
            "--latin1",
        ],
    );
    assert!(latin1.status.success());
    assert!(
        latin1.stdout.windows(3).any(|w| w == b"Zo\xeb"),
        "raw ISO-8859-1 bytes on stdout"
    );

    let err = failure(&shopcast(
        dir.path(),
        &[
            "qr",
            "epc",
            "--name",
            "X",
            "--iban",
            "DE89370400440532013001",
        ],
    ));
    assert_eq!(
        err,
        "error[payload_invalid]: The IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit.\n"
    );
    let err = failure(&shopcast(dir.path(), &["qr", "url", "--url", "not a link"]));
    assert!(err.contains("not a complete link"), "{err}");
}

/// Runs a reader from Debian (poppler-utils, zbar-tools) and returns its stdout.
#[test]
fn signage_prints_decodable_tracked_codes_and_records_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("shop.name", "西湖茶庄"),
        ("shop.currency", "CNY"),
        ("shop.buy_link_base", "https://shop.example.com/p/"),
    ] {
        stdout(&shopcast(dir.path(), &["settings", "set", key, value]));
    }
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "sku,name,price,currency\nTEA-1,龙井绿茶 特级 250g,88,\nYEN-1,Yen thing,500,JPY\nOLD-1,Not printed,1,\n").unwrap();
    stdout(&shopcast(
        dir.path(),
        &["products", "import", csv.to_str().unwrap()],
    ));

    let templates = stdout(&shopcast(dir.path(), &["signage", "--list"]));
    assert!(
        templates.lines().any(|t| t == "a4-3x8") && templates.lines().any(|t| t == "a5-tent"),
        "{templates}"
    );

    let pdf = dir.path().join("labels.pdf");
    let printed = stdout(&shopcast(
        dir.path(),
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--sku",
            "TEA-1,YEN-1",
            "--copies",
            "2",
            "--out",
            pdf.to_str().unwrap(),
        ],
    ));
    let batch = printed
        .split_whitespace()
        .skip_while(|w| *w != "batch")
        .nth(1)
        .expect("batch id printed")
        .to_string();

    tool("qpdf", &["--check", pdf.to_str().unwrap()]);
    let text = tool("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    assert!(
        text.contains("龙井绿茶") && text.contains("¥88.00") && text.contains("¥500"),
        "{text}"
    );
    assert!(!text.contains("Not printed"));
    let mut codes = qr_codes_on_first_page(&pdf, dir.path());
    codes.sort();
    let expected = |sku: &str| format!("https://shop.example.com/p/{sku}?src=qr&sign={batch}");
    assert_eq!(
        codes,
        vec![
            expected("TEA-1"),
            expected("TEA-1"),
            expected("YEN-1"),
            expected("YEN-1")
        ]
    );

    // Nothing is written for a bad request, and the reason is one line.
    let bad = dir.path().join("bad.pdf");
    let err = failure(&shopcast(
        dir.path(),
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--sku",
            "NOPE",
            "--out",
            bad.to_str().unwrap(),
        ],
    ));
    assert_eq!(err, "error[validation]: No product has the SKU NOPE.\n");
    let err = failure(&shopcast(
        dir.path(),
        &[
            "signage",
            "--template",
            "a9-tiny",
            "--all",
            "--out",
            bad.to_str().unwrap(),
        ],
    ));
    assert!(err.contains("a9-tiny"), "{err}");
    let err = failure(&shopcast(
        dir.path(),
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--all",
            "--copies",
            "0",
            "--out",
            bad.to_str().unwrap(),
        ],
    ));
    assert!(err.starts_with("error[bad_copies]: "), "{err}");
    assert!(!bad.exists());
}

#[test]
fn qr_images_decode_to_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("q.png");
    let svg = dir.path().join("q.svg");
    let url = "https://shop.example.com/p/茶?src=qr";
    let printed = stdout(&shopcast(
        dir.path(),
        &[
            "qr",
            "url",
            "--url",
            url,
            "--png",
            png.to_str().unwrap(),
            "--size",
            "300",
        ],
    ));
    let ascii = "https://shop.example.com/p/%E8%8C%B6?src=qr";
    assert_eq!(
        printed, ascii,
        "non-ASCII is percent-encoded so every scanner reads it alike"
    );
    assert_eq!(
        tool("zbarimg", &["--raw", "-q", png.to_str().unwrap()]).trim_end(),
        ascii
    );
    stdout(&shopcast(
        dir.path(),
        &["qr", "url", "--url", url, "--svg", svg.to_str().unwrap()],
    ));
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg_text.starts_with("<svg") || svg_text.starts_with("<?xml"),
        "{svg_text}"
    );
    assert!(svg_text.contains("<path"), "vector modules");

    let long = format!("https://shop.example.com/{}", "x".repeat(3000));
    let err = failure(&shopcast(
        dir.path(),
        &["qr", "url", "--url", &long, "--png", png.to_str().unwrap()],
    ));
    assert!(err.contains("at most") && err.contains("bytes"), "{err}");
}

#[test]
fn signage_on_the_owners_own_label_paper() {
    let dir = tempfile::tempdir().unwrap();
    stdout(&shopcast(
        dir.path(),
        &[
            "settings",
            "set",
            "shop.buy_link_base",
            "https://shop.example.com/p/",
        ],
    ));
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "sku,name,price\nA-1,Small label,1\n").unwrap();
    stdout(&shopcast(
        dir.path(),
        &["products", "import", csv.to_str().unwrap()],
    ));
    let pdf = dir.path().join("small.pdf");
    let args = |grid: &'static str| {
        vec![
            "signage",
            "--template",
            "custom",
            "--all",
            "--paper",
            "a4",
            "--grid",
            grid,
            "--label",
            "38.1x21.2",
            "--gaps",
            "2.5,0",
            "--out",
        ]
    };
    let mut ok = args("5x13");
    ok.push(pdf.to_str().unwrap());
    stdout(&shopcast(dir.path(), &ok));
    tool("qpdf", &["--check", pdf.to_str().unwrap()]);
    let mut too_wide = args("6x13");
    let bad = dir.path().join("bad.pdf");
    too_wide.push(bad.to_str().unwrap());
    let err = failure(&shopcast(dir.path(), &too_wide));
    assert!(err.contains("mm too wide"), "{err}");
    assert!(!bad.exists());
}

/// Every failure names its code from the engine's vocabulary: `error[code]: sentence` on
/// stderr, and with `--json` one JSON object there instead (stdout stays empty for scripts).
#[test]
fn errors_carry_their_code_and_become_json_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.pdf");
    // A product that does not exist.
    let plain = failure(&shopcast(
        dir.path(),
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--sku",
            "NOPE",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(plain, "error[validation]: No product has the SKU NOPE.\n");

    // A shop folder that is a file cannot be opened; a --json command says so as JSON.
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let output = shopcast(&file, &["products", "list", "--json"]);
    let err = failure(&output);
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert_eq!(err.lines().count(), 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&err).expect("a JSON error object");
    let code = json["error"]["code"].as_str().expect("a code");
    assert!(
        shopcast_core::ErrorCode::parse(code).is_some(),
        "{code} is in the vocabulary"
    );
    let message = json["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    // Without --json the same failure is one `error[code]: sentence` line.
    let plain = failure(&shopcast(&file, &["products", "list"]));
    assert_eq!(plain, format!("error[{code}]: {message}\n"));
}
