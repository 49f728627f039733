//! The shop page's HTML: server-rendered, phone first, no script, one stylesheet; every owner
//! text goes through the one escape, every link is built from escaped, encoded parts.

use std::fmt::Write as _;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use shopcast_core::payments::till::OrderStatus;
use shopcast_core::{
    Photo, Receipt, ShopFront, ShopPageIndex, ShopPageProduct, StockState, Variant,
};
use shopcast_net::html::escape_html as esc;

use crate::words::Words;

pub(crate) const STYLESHEET: &str = include_str!("../assets/shop.css");

/// `/assets/shop.<hash>.css`: a new name whenever the file changes, so it can be cached forever.
pub(crate) static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("/assets/shop.{hex}.css")
});

/// A whole page. `head` holds extra `<meta>`/`<link>` lines (already escaped).
pub(crate) fn layout(w: &Words, front: &ShopFront, title: &str, head: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
{head}</head><body>
<header class="shop"><a href="/">{logo}{shop}</a></header>
<main>{body}</main>
</body></html>"#,
        lang = w.lang,
        title = esc(title),
        css = *STYLESHEET_PATH,
        shop = esc(&front.name),
        logo = front.logo.as_ref().map(logo).unwrap_or_default(),
    )
}

/// The shop's logo beside its name, small (its name says who it is: no alt text).
fn logo(photo: &Photo) -> String {
    let (width, height) = photo.size_of(Variant::Thumb);
    format!(
        r#"<img class="logo" src="{}" width="{width}" height="{height}" alt="">"#,
        media_url(photo, Variant::Thumb)
    )
}

/// A page with one sentence (404, 403, 429…): it says what happened and leads back.
pub(crate) fn notice(w: &Words, front: &ShopFront, title: &str, sentence: &str) -> String {
    layout(
        w,
        front,
        title,
        r#"<meta name="robots" content="noindex">"#,
        &format!(
            r#"<div class="notice"><h1>{}</h1><p id="reason">{}</p><p><a href="/">{}</a></p></div>"#,
            esc(title),
            esc(sentence),
            esc(w.back_to_shop)
        ),
    )
}

/// Percent-encodes a value for a URL query.
pub(crate) fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn media_url(photo: &Photo, variant: Variant) -> String {
    format!("/media/{}/{}", photo.hash, variant.as_str())
}

/// An `<img>` with the sizes the shop page serves: only re-encoded ones, never the uploaded
/// file (it may carry EXIF with the place it was taken).
fn picture(photo: &Photo, alt: &str, sizes: &str, main: Variant) -> String {
    let srcset = [Variant::Thumb, Variant::Medium]
        .iter()
        .map(|&variant| {
            let (width, _) = photo.size_of(variant);
            format!("{} {width}w", media_url(photo, variant))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (width, height) = photo.size_of(main);
    format!(
        r#"<img src="{src}" srcset="{srcset}" sizes="{sizes}" width="{width}" height="{height}" alt="{alt}">"#,
        src = media_url(photo, main),
        alt = esc(alt),
    )
}

fn stock_line(w: &Words, stock: &StockState) -> String {
    match stock {
        StockState::SoldOut => format!(
            r#"<p class="stock sold-out" id="stock">{}</p>"#,
            esc(w.sold_out)
        ),
        StockState::InStock { left: Some(left) } if *left <= 10 => {
            format!(
                r#"<p class="stock" id="stock">{}</p>"#,
                esc(&(w.left)(*left))
            )
        }
        StockState::InStock { .. } => {
            format!(r#"<p class="stock" id="stock">{}</p>"#, esc(w.in_stock))
        }
    }
}

/// At most `max` characters of `text` on one line, for link previews.
fn summary(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A product page: photos, name, price, stock, description, and the Buy form carrying the
/// link's attribution (`hidden`, already checked plain) and a form token.
pub(crate) fn product(
    w: &Words,
    front: &ShopFront,
    product: &ShopPageProduct,
    public_url: &str,
    hidden: &[(&str, &str)],
) -> String {
    let sku = shopcast_net::html::path_segment(&product.sku);
    let canonical = format!("{public_url}/p/{sku}");
    let description = if product.description.trim().is_empty() {
        format!("{} — {}", product.price_text, front.name)
    } else {
        summary(&product.description, 200)
    };
    let mut head = String::new();
    let meta = |head: &mut String, attribute: &str, key: &str, value: &str| {
        let _ = writeln!(
            head,
            r#"<meta {attribute}="{key}" content="{}">"#,
            esc(value)
        );
    };
    let _ = writeln!(head, r#"<link rel="canonical" href="{}">"#, esc(&canonical));
    meta(&mut head, "name", "description", &description);
    meta(&mut head, "property", "og:type", "product");
    meta(&mut head, "property", "og:site_name", &front.name);
    meta(&mut head, "property", "og:title", &product.name);
    meta(&mut head, "property", "og:description", &description);
    meta(&mut head, "property", "og:url", &canonical);
    meta(
        &mut head,
        "property",
        "og:locale",
        &front.locale.replace('-', "_"),
    );
    meta(
        &mut head,
        "property",
        "product:price:amount",
        &product.price.to_decimal_string(),
    );
    meta(
        &mut head,
        "property",
        "product:price:currency",
        &product.price.currency,
    );
    meta(&mut head, "name", "twitter:card", "summary_large_image");
    meta(&mut head, "name", "twitter:title", &product.name);
    meta(&mut head, "name", "twitter:description", &description);
    if let Some(photo) = product.photos.first() {
        let image = format!("{public_url}{}", media_url(photo, Variant::Medium));
        let (width, height) = photo.size_of(Variant::Medium);
        meta(&mut head, "property", "og:image", &image);
        meta(&mut head, "property", "og:image:width", &width.to_string());
        meta(
            &mut head,
            "property",
            "og:image:height",
            &height.to_string(),
        );
        meta(&mut head, "property", "og:image:alt", &product.name);
        meta(&mut head, "name", "twitter:image", &image);
    }

    let mut body = String::new();
    if let Some((main, more)) = product.photos.split_first() {
        body.push_str(r#"<div class="photos">"#);
        body.push_str(&picture(
            main,
            &product.name,
            "(min-width: 40rem) 40rem, 100vw",
            Variant::Medium,
        ));
        if !more.is_empty() {
            body.push_str(r#"<div class="more">"#);
            for photo in more {
                let _ = write!(
                    body,
                    r#"<a href="{}">{}</a>"#,
                    media_url(photo, Variant::Medium),
                    picture(photo, &product.name, "5rem", Variant::Thumb)
                );
            }
            body.push_str("</div>");
        }
        body.push_str("</div>");
    }
    let _ = write!(
        body,
        r#"<h1 id="name">{}</h1><p class="price" id="price">{}{}</p>{}"#,
        esc(&product.name),
        esc(&product.price_text),
        if front.prices_include_tax {
            String::new()
        } else {
            format!(
                r#" <span class="tax" id="plus-tax">{}</span>"#,
                esc(w.plus_tax)
            )
        },
        stock_line(w, &product.stock)
    );
    let sold_out = product.stock == StockState::SoldOut;
    let max = match product.stock {
        StockState::InStock { left: Some(left) } => left.clamp(1, 99),
        _ => 99,
    };
    let fields = shopcast_net::html::hidden_inputs(hidden);
    let _ = write!(
        body,
        r#"<form class="buy" method="post" action="/p/{sku}/buy">{fields}<label>{quantity}<input type="number" name="quantity" value="1" min="1" max="{max}" inputmode="numeric"{disabled}></label><button id="buy"{disabled}>{label}</button></form>"#,
        quantity = esc(w.quantity),
        disabled = if sold_out { " disabled" } else { "" },
        label = esc(if sold_out { w.sold_out } else { w.buy }),
    );
    let _ = write!(
        body,
        r#"<div class="description" id="description">{}</div>"#,
        esc(&product.description)
    );
    layout(
        w,
        front,
        &format!("{} — {}", product.name, front.name),
        &head,
        &body,
    )
}

/// The shop's front: search, a grid of products, and pages.
pub(crate) fn index(
    w: &Words,
    front: &ShopFront,
    found: &ShopPageIndex,
    search: &str,
    page: u32,
    public_url: &str,
) -> String {
    let mut body = format!(
        r#"<form class="search" method="get" action="/"><input type="search" name="q" value="{}" placeholder="{}" aria-label="{}" maxlength="100"><button>{}</button></form>"#,
        esc(search),
        esc(w.search),
        esc(w.search),
        esc(w.search_button)
    );
    if found.products.is_empty() {
        let _ = write!(body, r#"<p id="nothing">{}</p>"#, esc(w.nothing_found));
    }
    body.push_str(r#"<ul class="products">"#);
    for product in &found.products {
        let image = product
            .photos
            .first()
            .map(|photo| {
                picture(
                    photo,
                    &product.name,
                    "(min-width: 48rem) 16rem, 50vw",
                    Variant::Thumb,
                )
            })
            .unwrap_or_default();
        let _ = write!(
            body,
            r#"<li><a href="/p/{sku}">{image}<span class="name">{name}</span><span class="price">{price}</span></a></li>"#,
            sku = shopcast_net::html::path_segment(&product.sku),
            name = esc(&product.name),
            price = esc(&product.price_text),
        );
    }
    body.push_str("</ul>");
    let link = |page: u32| {
        let mut href = format!("/?page={page}");
        if !search.is_empty() {
            href.push_str(&format!("&q={}", query_value(search)));
        }
        esc(&href)
    };
    body.push_str(r#"<nav class="pages">"#);
    if page > 1 {
        let _ = write!(
            body,
            r#"<a rel="prev" href="{}">{}</a>"#,
            link(page - 1),
            esc(w.previous)
        );
    } else {
        body.push_str("<span></span>");
    }
    if found.has_more {
        let _ = write!(
            body,
            r#"<a rel="next" href="{}">{}</a>"#,
            link(page + 1),
            esc(w.next)
        );
    }
    body.push_str("</nav>");
    let mut head = format!(r#"<link rel="canonical" href="{}/">"#, esc(public_url));
    if !search.is_empty() || page > 1 {
        head.push_str(r#"<meta name="robots" content="noindex">"#);
    }
    let _ = write!(
        head,
        r#"<meta property="og:type" content="website"><meta property="og:title" content="{}"><meta property="og:url" content="{}/">"#,
        esc(&front.name),
        esc(public_url)
    );
    layout(w, front, &front.name, &head, &body)
}

/// A buyer's receipt; while unpaid it reloads itself every 3 seconds.
pub(crate) fn receipt(w: &Words, front: &ShopFront, receipt: &Receipt) -> String {
    let waiting = !receipt.paid
        && !receipt.declined
        && matches!(
            receipt.status,
            OrderStatus::Open | OrderStatus::AwaitingPayment
        );
    let mut head = String::from(r#"<meta name="robots" content="noindex">"#);
    if waiting {
        head.push_str(r#"<meta http-equiv="refresh" content="3">"#);
    }
    let state = if receipt.paid {
        format!(r#"<p class="paid" id="state">{}</p>"#, esc(w.paid))
    } else if waiting {
        format!(r#"<p class="waiting" id="state">{}</p>"#, esc(w.waiting))
    } else if receipt.declined {
        let again = match receipt.lines.first().and_then(|line| line.sku.as_deref()) {
            Some(sku) => format!(
                r#" <a class="button" id="try-again" href="/p/{}">{}</a>"#,
                shopcast_net::html::path_segment(sku),
                esc(w.try_again)
            ),
            None => String::new(),
        };
        format!(
            r#"<p class="waiting" id="state">{}</p><p>{again}</p>"#,
            esc(w.declined)
        )
    } else {
        format!(r#"<p class="waiting" id="state">{}</p>"#, esc(w.closed))
    };
    let mut body = format!(
        r#"<div class="receipt"><h1>{}</h1>{state}<p>{} <strong id="order">{}</strong></p><table>"#,
        esc(w.receipt),
        esc(w.order),
        esc(&receipt.order_ref)
    );
    for line in &receipt.lines {
        let _ = write!(
            body,
            r#"<tr><td>{} × {}</td><td class="amount">{}</td></tr>"#,
            esc(&line.name),
            line.quantity,
            esc(&line.amount_text)
        );
    }
    let _ = write!(
        body,
        r#"<tr class="total"><td>{}</td><td class="amount" id="total">{}</td></tr></table>"#,
        esc(w.total),
        esc(&receipt.total_text)
    );
    if let Some(at) = &receipt.paid_at_text {
        let _ = write!(
            body,
            r#"<p>{}: <span id="paid-at">{}</span></p>"#,
            esc(w.paid_at),
            esc(at)
        );
    }
    if let Some(share) = &receipt.share {
        let mastodon = format!("/share/mastodon?text={}", query_value(&share.mastodon_text));
        let _ = write!(
            body,
            r#"<h2>{}</h2><div class="share"><a id="share-weibo" href="{}" rel="noopener noreferrer" target="_blank">微博 Weibo</a><a id="share-bluesky" href="{}" rel="noopener noreferrer" target="_blank">Bluesky</a><a id="share-mastodon" href="{}">Mastodon</a></div><p><a id="share-link" href="{}">{}</a></p>"#,
            esc(w.share_heading),
            esc(&share.weibo),
            esc(&share.bluesky),
            esc(&mastodon),
            esc(&share.url),
            esc(&share.url),
        );
    }
    let _ = write!(
        body,
        r#"</div><p><a href="/">{}</a></p>"#,
        esc(w.back_to_shop)
    );
    layout(
        w,
        front,
        &format!("{} {}", w.receipt, receipt.order_ref),
        &head,
        &body,
    )
}

/// Asks the buyer which Mastodon server they are on (a GET form back to the same address).
/// `token` is the form's own (forms.issue("mastodon", text)): only a press of this form
/// redirects, never a crafted link.
pub(crate) fn mastodon_form(
    w: &Words,
    front: &ShopFront,
    text: &str,
    token: &str,
    wrong: bool,
) -> String {
    let mut body = format!(r#"<div class="notice"><h1>{}</h1>"#, esc(w.mastodon_ask));
    if wrong {
        let _ = write!(body, r#"<p id="reason">{}</p>"#, esc(w.mastodon_bad));
    }
    let _ = write!(
        body,
        r#"<form class="search" method="get" action="/share/mastodon"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="text" value="{}"><input type="text" name="instance" placeholder="mastodon.social" aria-label="{}" maxlength="253" autocapitalize="none" spellcheck="false"><button>{}</button></form></div>"#,
        esc(token),
        esc(text),
        esc(w.mastodon_instance),
        esc(w.mastodon_go)
    );
    layout(
        w,
        front,
        "Mastodon",
        r#"<meta name="robots" content="noindex">"#,
        &body,
    )
}
