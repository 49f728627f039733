//! What the pages show: owner text escaped, link-preview meta, photos with sizes and caching,
//! 404 pages that say so, security headers on every answer, sitemap and robots.

use shopcast_shoppage::ShopPageLimits;

use crate::{SHOP_NAME, TEA_NAME, field, http, order_count, page_text, send_raw, start};

const ESCAPED_TEA: &str =
    "青花瓷杯 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;cups&#39;";

#[tokio::test]
async fn a_product_page_shows_owner_text_escaped_with_link_preview_meta() {
    let fixture = start("zh-CN", ShopPageLimits::default()).await;
    let logo = fixture.shop.set_logo(crate::png(300, 100)).await.unwrap();
    let base = &fixture.base;
    let client = http();
    let reply = client
        .get(format!(
            "{base}/p/TEA-1?src=post&post=12&evil=%22%3E%3Cscript%3E"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["cache-control"], "no-store");
    let html = reply.text().await.unwrap();
    // Owner text: present, escaped, nowhere raw.
    assert!(html.contains(ESCAPED_TEA), "{html}");
    assert!(
        !html.contains("<script>") && !html.contains(TEA_NAME),
        "{html}"
    );
    assert!(html.contains("手工 &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;\nsecond line"));
    assert!(html.contains("Lin&#39;s &lt;Tea&gt; &quot;House&quot; 茶馆"));
    assert!(!html.contains(SHOP_NAME));
    // The query's stray key never reaches the page; the attribution rides in the form.
    assert!(!html.contains("evil"), "{html}");
    assert_eq!(field(&html, "src").as_deref(), Some("post"));
    assert_eq!(field(&html, "post").as_deref(), Some("12"));
    assert!(field(&html, "csrf").is_some());
    // Chinese words, the price as the core formats it, a quantity field.
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains(">购买</button>"), "{html}");
    assert!(html.contains("¥88.00"), "{html}");
    assert!(
        html.contains(r#"name="quantity" value="1" min="1" max="99""#),
        "{html}"
    );
    assert!(html.contains(r#"<form class="buy" method="post" action="/p/TEA-1/buy">"#));
    // The shop's logo beside its name.
    assert!(
        html.contains(&format!(
            r#"<header class="shop"><a href="/"><img class="logo" src="/media/{}/thumb" width="300" height="100" alt="">"#,
            logo.hash
        )),
        "{html}"
    );
    // Link previews: absolute URLs from the public address.
    let hash = &fixture.photo_hash;
    for meta in [
        format!(r#"<link rel="canonical" href="{base}/p/TEA-1">"#),
        format!(r#"<meta property="og:url" content="{base}/p/TEA-1">"#),
        format!(r#"<meta property="og:image" content="{base}/media/{hash}/medium">"#),
        format!(r#"<meta property="og:title" content="{ESCAPED_TEA}">"#),
        r#"<meta property="og:type" content="product">"#.to_string(),
        r#"<meta property="product:price:amount" content="88.00">"#.to_string(),
        r#"<meta property="product:price:currency" content="CNY">"#.to_string(),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_string(),
        format!(r#"<meta name="twitter:image" content="{base}/media/{hash}/medium">"#),
    ] {
        assert!(html.contains(&meta), "missing {meta}\n{html}");
    }
    // Two re-encoded sizes for the browser to pick from; never the uploaded file.
    assert!(
        html.contains(&format!(
            r#"srcset="/media/{hash}/thumb 320w, /media/{hash}/medium 800w""#
        )),
        "{html}"
    );
    assert!(!html.contains("/full"), "{html}");
    // A stylesheet named by its content, and no script or inline style at all.
    let css = html
        .split(r#"<link rel="stylesheet" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(
        css.starts_with("/assets/shop.") && css.ends_with(".css"),
        "{css}"
    );
    assert!(!html.contains("<style") && !html.contains("style=") && !html.contains("<script"));
    let sheet = client.get(format!("{base}{css}")).send().await.unwrap();
    assert_eq!(sheet.status(), 200);
    assert!(
        sheet.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(sheet.headers()["content-type"], "text/css; charset=utf-8");
    let stale = client
        .get(format!("{base}/assets/shop.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    assert_eq!(order_count(&fixture.shop).await, 0);
}

#[tokio::test]
async fn unknown_and_archived_products_get_a_404_page_that_says_so() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    for sku in ["NOPE", "OLD-1", "%00", &"A".repeat(300)] {
        let reply = client
            .get(format!("{}/p/{sku}", fixture.base))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{sku}");
        let html = reply.text().await.unwrap();
        assert!(
            html.contains("This product is not on sale here"),
            "{sku}: {html}"
        );
        assert!(!html.contains("Archived teapot"), "{html}");
    }
    let index = page_text(&client, format!("{}/", fixture.base)).await;
    assert!(
        index.contains("/p/TEA-1") && index.contains("/p/SOLD-1"),
        "{index}"
    );
    assert!(
        !index.contains("/p/OLD-1") && !index.contains("Archived"),
        "{index}"
    );
    // Nothing that lists or administers anything.
    for path in [
        "/admin",
        "/orders",
        "/api/orders",
        "/p",
        "/r",
        "/r/",
        "/media",
        "/hooks/stripe",
    ] {
        let reply = client
            .get(format!("{}{path}", fixture.base))
            .send()
            .await
            .unwrap();
        assert!(
            reply.status() == 404 || reply.status() == 405,
            "{path}: {}",
            reply.status()
        );
    }
}

#[tokio::test]
async fn a_sold_out_product_cannot_be_bought() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let html = page_text(&client, format!("{}/p/SOLD-1", fixture.base)).await;
    assert!(
        html.contains(r#"<p class="stock sold-out" id="stock">Sold out</p>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<button id="buy" disabled>Sold out</button>"#),
        "{html}"
    );
    // A hand-made POST with the page's token is refused by the core, and says why.
    let token = field(&html, "csrf").unwrap();
    let reply = client
        .post(format!("{}/p/SOLD-1/buy", fixture.base))
        .form(&[("csrf", token.as_str()), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 409);
    assert!(reply.text().await.unwrap().contains("sold out"));
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let base = &fixture.base;
    let hash = &fixture.photo_hash;
    let client = http();
    let gets = [
        "/".to_string(),
        "/?q=%E9%9D%92%E8%8A%B1".to_string(),
        "/p/TEA-1".to_string(),
        "/p/NOPE".to_string(),
        "/no/such/page".to_string(),
        format!("/media/{hash}/thumb"),
        format!("/media/{hash}/huge"),
        "/r/0123456789abcdef0123456789abcdef".to_string(),
        "/share/mastodon?text=hi".to_string(),
        "/sitemap.xml".to_string(),
        "/robots.txt".to_string(),
        "/healthz".to_string(),
        "/favicon.ico".to_string(),
        "/pay/unknown".to_string(),
    ];
    let mut replies = Vec::new();
    for path in &gets {
        replies.push((
            path.clone(),
            client.get(format!("{base}{path}")).send().await.unwrap(),
        ));
    }
    for path in ["/p/TEA-1/buy", "/hooks/stripe", "/hooks/alipay"] {
        replies.push((
            path.into(),
            client.post(format!("{base}{path}")).send().await.unwrap(),
        ));
    }
    let big = client
        .post(format!("{base}/hooks/stripe"))
        .body(vec![b'x'; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    replies.push(("413".into(), big));
    for (path, reply) in &replies {
        let headers = reply.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with(
                "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'"
            ),
            "{path}: {csp}"
        );
        assert!(
            csp.ends_with("frame-ancestors 'none'; base-uri 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers.contains_key("referrer-policy"), "{path}");
        assert!(headers.contains_key("permissions-policy"), "{path}");
        // Plain http on this computer: no HSTS.
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
    }
}

#[tokio::test]
async fn photos_have_an_etag_and_come_back_304() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let hash = &fixture.photo_hash;
    for variant in ["thumb", "medium"] {
        let url = format!("{}/media/{hash}/{variant}", fixture.base);
        let reply = client.get(&url).send().await.unwrap();
        assert_eq!(reply.status(), 200, "{variant}");
        let etag = reply.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(etag, format!("\"{hash}-{variant}\""));
        assert_eq!(
            reply.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(
            reply.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("image/")
        );
        let size = reply.bytes().await.unwrap().len();
        assert!(size > 100, "{variant}: {size} bytes");
        let again = client
            .get(&url)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{variant}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }
    // `*` vouches only for a stored photo: an unknown hash is 404, not 304.
    let star = |path: String| {
        client
            .get(format!("{}{path}", fixture.base))
            .header("if-none-match", "*")
            .send()
    };
    assert_eq!(
        star(format!("/media/{hash}/thumb")).await.unwrap().status(),
        304
    );
    let unknown = "0".repeat(64);
    for tag in ["*", &format!("\"{unknown}-thumb\"")] {
        let reply = client
            .get(format!("{}/media/{unknown}/thumb", fixture.base))
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{tag}");
    }
    // Not a photo's hash, or a photo that is not stored: 404, never a file elsewhere.
    for path in [
        "/media/..%2F..%2Fshop.sqlite/full".to_string(),
        format!("/media/{}/full", "0".repeat(64)),
        format!("/media/{}/medium", "0".repeat(64)),
        format!("/media/{hash}/original"),
        // The uploaded file as it came (EXIF and all) is the owner's, not the public's.
        format!("/media/{hash}/full"),
    ] {
        let (status, _) = send_raw(
            fixture.page.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn an_archived_products_photos_are_no_longer_served() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let url = format!("{}/media/{}/thumb", fixture.base, fixture.photo_hash);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    let tea = fixture
        .shop
        .list_products(&shopcast_core::ProductQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.thumb.as_deref() == Some(fixture.photo_hash.as_str()))
        .expect("the product with the photo");
    fixture.shop.set_archived(tea.id, true).await.unwrap();
    // The file is still in the media store (the owner may bring the product back)...
    assert!(
        fixture
            .shop
            .media()
            .read(&fixture.photo_hash, shopcast_core::Variant::Thumb)
            .is_some()
    );
    // ...but strangers no longer get it, not even as a 304 for a tag they kept.
    for tag in [None, Some("*")] {
        let mut request = client.get(&url);
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        assert_eq!(request.send().await.unwrap().status(), 404, "{tag:?}");
    }
}

#[tokio::test]
async fn index_search_sitemap_robots_and_health() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let base = &fixture.base;
    let client = http();
    let found = page_text(&client, format!("{base}/?q=%E9%9D%92%E8%8A%B1")).await;
    assert!(
        found.contains("/p/TEA-1") && !found.contains("/p/SOLD-1"),
        "{found}"
    );
    let none = page_text(&client, format!("{base}/?q=%3Cscript%3Exyz")).await;
    assert!(
        none.contains("Nothing found.") && none.contains("value=\"&lt;script&gt;xyz\""),
        "{none}"
    );
    let sitemap = client
        .get(format!("{base}/sitemap.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sitemap.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let sitemap = sitemap.text().await.unwrap();
    assert!(
        sitemap.contains(&format!("<loc>{base}/p/TEA-1</loc><lastmod>")),
        "{sitemap}"
    );
    assert!(
        sitemap.contains(&format!("<loc>{base}/p/SOLD-1</loc>")),
        "{sitemap}"
    );
    assert!(!sitemap.contains("/p/OLD-1<"), "{sitemap}");
    // Written once for a while (crawlers ask often): a new product shows up later.
    fixture
        .shop
        .create_product(&crate::draft("NEW-1", "New cup", "", None))
        .await
        .unwrap();
    let again = page_text(&client, format!("{base}/sitemap.xml")).await;
    assert_eq!(again, sitemap);
    assert!(!again.contains("/p/NEW-1<"));
    let robots = page_text(&client, format!("{base}/robots.txt")).await;
    assert!(
        robots.contains(&format!("Sitemap: {base}/sitemap.xml"))
            && robots.contains("Disallow: /r/")
    );
    assert_eq!(page_text(&client, format!("{base}/healthz")).await, "ok");
    assert_eq!(
        page_text(&client, format!("{base}/healthz?nonce=abc123")).await,
        "abc123"
    );
    assert_eq!(
        page_text(&client, format!("{base}/healthz?nonce=%3Cx%3E")).await,
        "ok"
    );
}

#[tokio::test]
async fn mastodon_sharing_asks_the_server_and_goes_only_to_a_host_name() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let ask = client
        .get(format!(
            "{}/share/mastodon?text=I%20bought%20%3Ctea%3E",
            fixture.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ask.status(), 200);
    let csp = ask.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("form-action 'self' https:;"), "{csp}");
    let html = ask.text().await.unwrap();
    assert!(
        html.contains(r#"<form class="search" method="get" action="/share/mastodon">"#),
        "{html}"
    );
    assert_eq!(
        field(&html, "text").as_deref(),
        Some("I bought &lt;tea&gt;")
    );
    let token = field(&html, "csrf").expect("the form carries its token");
    let go = client
        .get(format!(
            "{}/share/mastodon?csrf={token}&text=I%20bought%20%3Ctea%3E&instance=https%3A%2F%2FMastodon.Social%2F",
            fixture.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(go.status(), 303);
    assert_eq!(
        crate::location(&go),
        "https://mastodon.social/share?text=I+bought+%3Ctea%3E"
    );
    let x = page_text(&client, format!("{}/share/mastodon?text=x", fixture.base)).await;
    let token = field(&x, "csrf").unwrap();
    for bad in [
        "evil.com%2F%2Fx",
        "127.0.0.1",
        "localhost",
        "a.com%3A8080",
        "javascript%3Aalert(1)",
    ] {
        let reply = client
            .get(format!(
                "{}/share/mastodon?csrf={token}&text=x&instance={bad}",
                fixture.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{bad}");
        assert!(reply.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn behind_https_pages_ask_for_https_and_link_to_it() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let page = shopcast_shoppage::serve(
        fixture.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: "https://shop.example.com/".into(),
            limits: ShopPageLimits::default(),
            trust_proxy: true,
        },
    )
    .await
    .unwrap();
    let client = http();
    for path in ["/p/TEA-1", "/p/NOPE", "/robots.txt"] {
        let reply = client
            .get(format!("http://{}{path}", page.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reply.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let html = page_text(&client, format!("http://{}/p/TEA-1", page.addr)).await;
    assert!(
        html.contains(r#"<meta property="og:url" content="https://shop.example.com/p/TEA-1">"#),
        "{html}"
    );
}

/// A JPEG of `width`×`height` with an EXIF block (APP1) that says where it was taken.
fn jpeg_with_gps(width: u32, height: u32) -> (Vec<u8>, Vec<u8>) {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 64])
    });
    let mut plain = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut plain, image::ImageFormat::Jpeg)
        .unwrap();
    let plain = plain.into_inner();
    // TIFF, little-endian: IFD0 with one entry, GPSInfo → the GPS IFD, which holds
    // GPSLatitudeRef "N" and GPSLatitude 31/1 14/1 2304/100 (Shanghai).
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend([0x25, 0x88, 4, 0]); // GPSInfo, LONG
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(26u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes()); // GPS IFD at 26
    tiff.extend([1, 0, 2, 0]); // GPSLatitudeRef, ASCII
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend([2, 0, 5, 0]); // GPSLatitude, RATIONAL × 3
    tiff.extend(3u32.to_le_bytes());
    tiff.extend(56u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    for (n, d) in [(31u32, 1u32), (14, 1), (2304, 100)] {
        tiff.extend(n.to_le_bytes());
        tiff.extend(d.to_le_bytes());
    }
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(&tiff);
    let mut jpeg = plain[..2].to_vec(); // SOI
    jpeg.extend([0xFF, 0xE1]);
    jpeg.extend(((exif.len() + 2) as u16).to_be_bytes());
    jpeg.extend(&exif);
    jpeg.extend(&plain[2..]);
    (jpeg, tiff)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn photos_go_out_re_encoded_without_their_exif_and_full_is_404() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    // One larger than the middle size and one smaller than even the thumbnail (not scaled
    // at all): both must lose their EXIF.
    for (sku, width, height) in [("GPS-BIG", 1000, 700), ("GPS-SMALL", 200, 150)] {
        let (jpeg, tiff) = jpeg_with_gps(width, height);
        let product = fixture
            .shop
            .create_product(&crate::draft(sku, "Photo with GPS", "", None))
            .await
            .unwrap();
        let product = fixture
            .shop
            .add_photo(product.id, jpeg.clone())
            .await
            .unwrap();
        let hash = product.photos[0].hash.clone();
        // The shop keeps the original as uploaded (the owner's own copy)…
        let (kept, _) = fixture
            .shop
            .media()
            .read(&hash, shopcast_core::Variant::Full)
            .unwrap();
        assert!(
            contains(&kept, &tiff),
            "the test's EXIF is in the stored original"
        );
        // …but nothing the shop page links to or serves carries it.
        let html = page_text(&client, format!("{}/p/{sku}", fixture.base)).await;
        let mut urls: Vec<String> = html
            .split("/media/")
            .skip(1)
            .filter_map(|rest| rest.split(['"', ' ']).next())
            .map(|path| format!("{}/media/{path}", fixture.base))
            .collect();
        assert!(!urls.is_empty(), "{html}");
        assert!(!html.contains(&format!("/media/{hash}/full")), "{html}");
        urls.push(format!("{}/media/{hash}/thumb", fixture.base));
        urls.push(format!("{}/media/{hash}/medium", fixture.base));
        for url in &urls {
            let reply = client.get(url).send().await.unwrap();
            assert_eq!(reply.status(), 200, "{url}");
            let bytes = reply.bytes().await.unwrap();
            assert!(bytes.starts_with(&[0xFF, 0xD8]), "{url} is a JPEG");
            assert!(!contains(&bytes, &tiff), "{url} carries the EXIF block");
            assert!(!contains(&bytes, b"Exif\0\0"), "{url} carries EXIF");
            assert_ne!(bytes.as_ref(), jpeg.as_slice(), "{url} is the upload");
        }
        let full = client
            .get(format!("{}/media/{hash}/full", fixture.base))
            .send()
            .await
            .unwrap();
        assert_eq!(full.status(), 404);
        assert!(!contains(&full.bytes().await.unwrap(), &tiff));
    }
}

#[tokio::test]
async fn a_crafted_mastodon_link_gets_the_form_not_a_redirect() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let base = &fixture.base;
    let other = page_text(&client, format!("{base}/share/mastodon?text=other")).await;
    let other_text = field(&other, "csrf").unwrap();
    for query in [
        // No token: anyone's link.
        "text=x&instance=evil.tld".to_string(),
        "instance=evil.tld".to_string(),
        // A made-up token, and one this server issued for another text.
        "csrf=1.0000000000000000.00&text=x&instance=evil.tld".to_string(),
        format!("csrf={other_text}&text=x&instance=evil.tld"),
    ] {
        let reply = client
            .get(format!("{base}/share/mastodon?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{query}");
        assert!(reply.headers().get("location").is_none(), "{query}");
        let html = reply.text().await.unwrap();
        assert!(
            html.contains(r#"action="/share/mastodon""#) && !html.contains("evil.tld"),
            "{query}: {html}"
        );
    }
}

#[tokio::test]
async fn a_shop_that_adds_tax_at_checkout_says_so_by_the_price() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let page = |client: reqwest::Client| {
        let url = format!("{}/p/TEA-1", fixture.base);
        async move { page_text(&client, url).await }
    };
    let included = page(client.clone()).await;
    assert!(
        included.contains(r#"<p class="price" id="price">¥88.00</p>"#),
        "{included}"
    );
    fixture
        .shop
        .set_setting("shop.prices_include_tax", "false")
        .await
        .unwrap();
    // The pages reread the shop's settings once they are a second old.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let added = page(client).await;
    assert!(
        added.contains(r#"¥88.00 <span class="tax" id="plus-tax">plus tax</span>"#),
        "{added}"
    );
}
