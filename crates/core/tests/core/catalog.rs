use shopcast_core::{CoreError, ProductDraft, ProductQuery, Shop};

use crate::{draft, shop_with};

async fn search(shop: &Shop, text: &str) -> Vec<String> {
    let page = shop
        .list_products(&ProductQuery {
            search: Some(text.into()),
            include_archived: false,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(page.total as usize, page.items.len());
    page.items.into_iter().map(|p| p.name).collect()
}

#[tokio::test]
async fn create_edit_archive_delete() {
    let (shop, _dir) = shop_with("CNY").await;
    let created = shop
        .create_product(&ProductDraft {
            sku: Some(" TEA-1 ".into()),
            name: "  龙井绿茶 Longjing 🍵 ".into(),
            description: "明前茶\nSpring harvest".into(),
            price: "¥88".into(),
            currency: None,
            stock: Some(12),
            tags: vec!["茶".into(), "green tea".into(), "茶".into(), " ".into()],
        })
        .await
        .unwrap();
    assert_eq!(created.name, "龙井绿茶 Longjing 🍵");
    assert_eq!(created.sku.as_deref(), Some("TEA-1"));
    assert_eq!(
        (created.price.amount_minor, created.price.currency.as_str()),
        (8800, "CNY")
    );
    assert_eq!(
        created.tags,
        vec!["茶", "green tea"],
        "trimmed and de-duplicated"
    );
    assert_eq!(created.stock, Some(12));

    let mut edit = draft("龙井绿茶 Longjing 🍵", "12,50");
    edit.currency = Some("eur".into());
    edit.sku = Some("TEA-1".into());
    let edited = shop.update_product(created.id, &edit).await.unwrap();
    assert_eq!(
        (edited.price.amount_minor, edited.price.currency.as_str()),
        (1250, "EUR")
    );
    assert_eq!(edited.stock, None);
    assert!(edited.updated_at >= created.updated_at);

    let archived = shop.set_archived(created.id, true).await.unwrap();
    assert!(archived.archived);
    let visible = shop
        .list_products(&ProductQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(visible.total, 0, "archived products are hidden by default");
    let all = shop
        .list_products(&ProductQuery {
            limit: 10,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 1);

    shop.delete_product(created.id).await.unwrap();
    assert!(matches!(
        shop.product(created.id).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        shop.delete_product(created.id).await,
        Err(CoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_product_with_sales_is_archived_not_deleted() {
    let (shop, _dir) = shop_with("USD").await;
    let sold = shop
        .create_product(&draft("Sold mug", "9.99"))
        .await
        .unwrap();
    let order: i64 = sqlx::query_scalar("INSERT INTO orders (created_at) VALUES (0) RETURNING id")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO order_lines (order_id, product_id, quantity, unit_price_minor, currency) VALUES (?, ?, 1, 999, 'USD')")
        .bind(order)
        .bind(sold.id)
        .execute(shop.pool())
        .await
        .unwrap();
    let err = shop.delete_product(sold.id).await.unwrap_err();
    assert_eq!(err.code(), "has_sales");
    assert!(err.to_string().contains("Archive it instead"));
    assert!(shop.set_archived(sold.id, true).await.unwrap().archived);
    assert_eq!(shop.product(sold.id).await.unwrap().name, "Sold mug");
}

#[tokio::test]
async fn validation_errors_name_the_field_and_store_nothing() {
    let (shop, _dir) = shop_with("USD").await;
    let long_chinese = "茶".repeat(201);
    let exactly_200_emoji = "👩‍👩‍👧".repeat(200); // 200 graphemes, many more code points
    let cases: Vec<(ProductDraft, &str)> = vec![
        (draft("", "1"), "name"),
        (draft("   ", "1"), "name"),
        (draft(&long_chinese, "1"), "name"),
        (draft("Mug", "1.234.5"), "price"),
        (draft("Mug", "-1"), "price"),
        (
            ProductDraft {
                currency: Some("JPY".into()),
                ..draft("Mug", "500.5")
            },
            "price",
        ),
        (
            ProductDraft {
                currency: Some("YEN".into()),
                ..draft("Mug", "500")
            },
            "currency",
        ),
        (
            ProductDraft {
                currency: Some("€€".into()),
                ..draft("Mug", "5")
            },
            "currency",
        ),
        (
            ProductDraft {
                tags: vec!["a;b".into()],
                ..draft("Mug", "5")
            },
            "tags",
        ),
        (
            ProductDraft {
                sku: Some("A\nB".into()),
                ..draft("Mug", "5")
            },
            "sku",
        ),
        (
            ProductDraft {
                stock: Some(i64::MAX),
                ..draft("Mug", "5")
            },
            "stock",
        ),
    ];
    for (bad, field) in cases {
        let err = shop.create_product(&bad).await.expect_err(field);
        assert_eq!(
            (err.code(), err.field()),
            ("validation", Some(field)),
            "{bad:?}: {err}"
        );
    }
    let all = shop
        .list_products(&ProductQuery {
            limit: 10,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 0, "no invalid product was stored");

    let ok = shop
        .create_product(&draft(&exactly_200_emoji, "1"))
        .await
        .unwrap();
    assert_eq!(
        ok.name, exactly_200_emoji,
        "200 graphemes are allowed however many bytes"
    );
}

#[tokio::test]
async fn duplicate_sku_is_a_conflict() {
    let (shop, _dir) = shop_with("USD").await;
    let first = ProductDraft {
        sku: Some("SKU-1".into()),
        ..draft("First", "1")
    };
    shop.create_product(&first).await.unwrap();
    let err = shop
        .create_product(&ProductDraft {
            sku: Some("SKU-1".into()),
            ..draft("Second", "2")
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.field()), ("conflict", Some("sku")));
    assert!(err.to_string().contains("SKU-1"));
}

#[tokio::test]
async fn hostile_text_is_stored_verbatim() {
    let (shop, _dir) = shop_with("USD").await;
    let name = r#"<script>alert("x")</script> '; DROP TABLE products; --"#;
    let created = shop.create_product(&draft(name, "1")).await.unwrap();
    assert_eq!(shop.product(created.id).await.unwrap().name, name);
    assert_eq!(search(&shop, "DROP TABLE").await, vec![name.to_string()]);
    assert_eq!(
        search(&shop, "\"unbalanced").await,
        Vec::<String>::new(),
        "FTS syntax in the box is just text"
    );
    assert_eq!(search(&shop, "AND OR NOT *").await, Vec::<String>::new());
}

#[tokio::test]
async fn full_text_search_over_name_description_sku_and_tags() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.create_product(&ProductDraft {
        description: "Hand-thrown stoneware".into(),
        ..draft("青花瓷杯 Blue cup", "128")
    })
    .await
    .unwrap();
    shop.create_product(&ProductDraft {
        sku: Some("TEA-LJ-250".into()),
        tags: vec!["绿茶".into()],
        ..draft("龙井", "88")
    })
    .await
    .unwrap();
    shop.create_product(&ProductDraft {
        tags: vec!["gift".into()],
        ..draft("Café crème tin", "35")
    })
    .await
    .unwrap();

    assert_eq!(
        search(&shop, "青花").await,
        vec!["青花瓷杯 Blue cup"],
        "two-character Chinese word"
    );
    assert_eq!(search(&shop, "青花瓷").await, vec!["青花瓷杯 Blue cup"]);
    assert_eq!(
        search(&shop, "stoneware").await,
        vec!["青花瓷杯 Blue cup"],
        "description"
    );
    assert_eq!(
        search(&shop, "tea-lj").await,
        vec!["龙井"],
        "SKU, case-insensitive"
    );
    assert_eq!(search(&shop, "绿茶").await, vec!["龙井"], "tag");
    assert_eq!(search(&shop, "GIFT").await, vec!["Café crème tin"]);
    assert_eq!(
        search(&shop, "cafe").await,
        vec!["Café crème tin"],
        "diacritics ignored"
    );
    assert_eq!(
        search(&shop, "cup hand").await,
        vec!["青花瓷杯 Blue cup"],
        "every word must match"
    );
    assert!(search(&shop, "cup tin").await.is_empty());
    assert!(
        search(&shop, "100%").await.is_empty(),
        "LIKE wildcards are escaped"
    );

    // Edits reach the index.
    let id = shop
        .list_products(&ProductQuery {
            search: Some("龙井".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .id;
    shop.update_product(id, &draft("碧螺春", "99"))
        .await
        .unwrap();
    assert!(search(&shop, "龙井").await.is_empty());
    assert_eq!(search(&shop, "碧螺春").await, vec!["碧螺春"]);
}

#[tokio::test]
async fn pages_are_stable_and_complete() {
    let (shop, _dir) = shop_with("USD").await;
    for i in 0..25 {
        shop.create_product(&draft(&format!("Item {i:02}"), "1"))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    for offset in (0..25).step_by(10) {
        let page = shop
            .list_products(&ProductQuery {
                offset,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 25);
        assert_eq!(page.offset, offset);
        seen.extend(page.items.into_iter().map(|p| p.id));
    }
    for (search, offset) in [("Item", 20), ("Item", 100), ("It", 20), ("It", 100)] {
        let query = ProductQuery {
            search: Some(search.into()),
            offset,
            limit: 10,
            ..Default::default()
        };
        let page = shop.list_products(&query).await.unwrap();
        assert_eq!(
            page.total, 25,
            "total of a search page at offset {offset} ({search})"
        );
        assert_eq!(page.items.len(), if offset == 20 { 5 } else { 0 });
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25, "every product exactly once across pages");
}
