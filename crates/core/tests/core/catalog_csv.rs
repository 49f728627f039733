use shopcast_core::catalog_csv::{neutralize_cell, restore_cell};
use shopcast_core::{ProductDraft, ProductQuery, Shop};

use crate::{draft, shop_with};

fn hostile_products() -> Vec<ProductDraft> {
    vec![
        ProductDraft {
            sku: Some("TEA-1".into()),
            name: "龙井绿茶 🍵".into(),
            description: "明前茶, \"特级\"\n第二行\r\nthird line".into(),
            price: "88".into(),
            currency: Some("CNY".into()),
            stock: Some(12),
            tags: vec!["茶".into(), "=gift".into()],
        },
        ProductDraft {
            sku: Some("=HYPERLINK(\"http://evil\")".into()),
            name: "=1+1".into(),
            description: "+cmd|' /C calc'!A0".into(),
            price: "12,50".into(),
            currency: Some("EUR".into()),
            stock: Some(-3),
            tags: vec!["-minus".into(), "@at".into()],
        },
        ProductDraft {
            sku: None,
            name: "<script>alert('x')</script>".into(),
            description: "'already quoted".into(),
            price: "500".into(),
            currency: Some("JPY".into()),
            stock: None,
            tags: vec![],
        },
        ProductDraft {
            name: "'=sneaky".into(),
            description: "\ttabbed".into(),
            ..draft("x", "5.00")
        },
    ]
    .into_iter()
    .map(|mut d| {
        if d.name == "x" {
            d.name = "'=sneaky".into();
        }
        d
    })
    .collect()
}

async fn all_products(
    shop: &Shop,
) -> Vec<(
    Option<String>,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Vec<String>,
)> {
    let page = shop
        .list_products(&ProductQuery {
            limit: 500,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut out = Vec::new();
    for summary in page.items {
        let p = shop.product(summary.id).await.unwrap();
        out.push((
            p.sku,
            p.name,
            p.description,
            p.price.amount_minor,
            p.price.currency,
            p.stock,
            p.tags,
        ));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[test]
fn formula_cells_are_neutralised_reversibly() {
    for text in [
        "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'x", "''", "plain", "", "中文",
    ] {
        let out = neutralize_cell(text);
        assert!(
            !out.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{text:?} → {out:?}"
        );
        assert_eq!(restore_cell(&out), text);
    }
}

#[tokio::test]
async fn export_then_import_is_exact_with_chinese_and_hostile_text() {
    let (shop, dir) = shop_with("USD").await;
    for d in hostile_products() {
        shop.create_product(&d).await.unwrap();
    }
    let first = dir.path().join("catalog.csv");
    let report = shop.export_catalog(&first).await.unwrap();
    assert_eq!(report.rows, 4);
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(
        text.starts_with("sku,name,description,price,currency,stock,tags\n"),
        "{text}"
    );
    assert!(text.contains("TEA-1,龙井绿茶 🍵,"), "UTF-8 as is");
    assert!(
        text.contains(",88.00,CNY,12,"),
        "prices in major units: {text}"
    );
    assert!(text.contains(",12.50,EUR,-3,"));
    assert!(text.contains(",500,JPY,,"), "JPY has no decimals");
    assert!(text.contains("'=1+1") && text.contains("'=gift") && text.contains("'-minus"));
    for line in text.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '@']),
                "formula-looking cell {cell:?} in {line:?}"
            );
        }
    }

    let (other, other_dir) = shop_with("USD").await;
    let imported = other.import_catalog(&first, false).await.unwrap();
    assert!(
        imported.applied && imported.errors.is_empty(),
        "{imported:?}"
    );
    assert_eq!((imported.created, imported.updated), (4, 0));
    assert_eq!(all_products(&other).await, all_products(&shop).await);

    let second = other_dir.path().join("again.csv");
    other.export_catalog(&second).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&second).unwrap(),
        text,
        "byte-identical round trip"
    );

    // Importing the same file again updates by SKU; rows without SKU are new.
    let again = other.import_catalog(&first, false).await.unwrap();
    assert_eq!((again.created, again.updated), (2, 2));
}

#[tokio::test]
async fn invalid_rows_are_reported_by_line_and_nothing_is_imported() {
    let (shop, dir) = shop_with("EUR").await;
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "sku,name,description,price,currency,stock,tags\n\
         A-1,Good one,\"two\nlines\",12.50,EUR,3,x;y\n\
         A-2,,no name,1,EUR,,\n\
         A-3,Bad price,,12.5.0,EUR,,\n\
         A-4,Yen decimals,,500.5,JPY,,\n\
         A-1,Duplicate SKU,,1,,,\n\
         A-5,Bad stock,,1,,lots,\n\
         A-6,Fine too,,\"1.234,56\",,,\n",
    )
    .unwrap();
    let report = shop.import_catalog(&path, false).await.unwrap();
    assert!(!report.applied);
    assert_eq!(
        (report.valid, report.created, report.updated),
        (2, 0, 0),
        "valid rows counted, none written"
    );
    let lines: Vec<(u64, Option<&str>)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (4, Some("name")),
            (5, Some("price")),
            (6, Some("price")),
            (7, Some("sku")),
            (8, Some("stock"))
        ],
        "{report:?}"
    );
    assert!(report.errors[2].message.contains("no minor unit"));
    let count = shop
        .list_products(&ProductQuery {
            limit: 10,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    assert_eq!(count, 0, "nothing imported from an invalid file");

    let report = shop.import_catalog(&path, true).await.unwrap();
    assert!(report.applied);
    assert_eq!((report.created, report.skipped), (2, 5));
    let fine = shop
        .list_products(&ProductQuery {
            search: Some("Fine".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fine.items[0].price.amount_minor, 123_456);
    assert_eq!(
        fine.items[0].price.currency, "EUR",
        "empty currency means the shop's"
    );
}

#[tokio::test]
async fn unreadable_files_are_refused_whole() {
    let (shop, dir) = shop_with("USD").await;
    let no_header = dir.path().join("no-header.csv");
    std::fs::write(&no_header, "Mug,5\n").unwrap();
    let err = shop.import_catalog(&no_header, true).await.unwrap_err();
    assert_eq!(err.code(), "csv_invalid");
    assert!(err.to_string().contains("name"), "{err}");

    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"name,price\nCaf\xe9,5\nTea,3\n").unwrap();
    let report = shop.import_catalog(&latin1, false).await.unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 2);
    assert!(report.errors[0].message.contains("UTF-8"));

    let missing = dir.path().join("missing.csv");
    assert_eq!(
        shop.import_catalog(&missing, false)
            .await
            .unwrap_err()
            .code(),
        "io"
    );

    // Only name and price are required; a BOM from Excel is fine.
    let minimal = dir.path().join("minimal.csv");
    std::fs::write(&minimal, "\u{feff}Name,Price\nMug,\"1,234.50\"\n").unwrap();
    let report = shop.import_catalog(&minimal, false).await.unwrap();
    assert_eq!(report.created, 1, "{report:?}");
}

#[tokio::test]
async fn a_failed_export_leaves_no_file() {
    let (shop, dir) = shop_with("USD").await;
    shop.create_product(&draft("Mug", "5")).await.unwrap();
    let target = dir.path().join("no-such-folder").join("out.csv");
    let err = shop.export_catalog(&target).await.unwrap_err();
    assert_eq!(err.code(), "io");
    assert!(!target.exists());
}
