//! Bluesky post records: the `app.bsky.feed.post` record with its facets (links and tags by
//! UTF-8 byte offsets), and the record key derived from the outbox's idempotency key.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::publisher::PostRequest;
use crate::text::{self, FacetFeature};

use super::{MAX_LANGS, POST};

/// The record key for a post: a TID (what `app.bsky.feed.post` requires) computed from the
/// outbox's idempotency key, so every retry writes to the same key and can never duplicate.
///
/// A TID is a microsecond timestamp and a 10-bit clock id in sortable base32. The outbox key
/// carries no time, so both parts come from a hash; the timestamp is kept inside the first
/// 203 days of 2023 (before any Shopcast post) rather than anywhere up to the year 2255.
pub fn record_key(idempotency_key: &str) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    const BASE_MICROS: u64 = 1_672_531_200_000_000; // 2023-01-01T00:00:00Z
    let digest = Sha256::new()
        .chain_update(b"shopcast bluesky record key\0")
        .chain_update(idempotency_key.as_bytes())
        .finalize();
    let bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let micros = BASE_MICROS + (bits >> 20); // 44 bits of spread
    let clock_id = bits & 0x3ff;
    let tid = (micros << 10) | clock_id; // top bit stays 0 until the year 2255
    (0..13)
        .map(|i| ALPHABET[((tid >> (60 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// The `app.bsky.feed.post` record: text, time, languages, link and tag facets, photos.
pub(super) fn post_record(
    request: &PostRequest,
    images: Vec<Value>,
    now: jiff::Timestamp,
) -> Value {
    let mut record = json!({
        "$type": POST,
        "text": request.text,
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    });
    let langs: Vec<&str> = request
        .languages
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .take(MAX_LANGS)
        .collect();
    if !langs.is_empty() {
        record["langs"] = json!(langs);
    }
    let facets = facets(&request.text, request.link.as_deref());
    if !facets.is_empty() {
        record["facets"] = Value::Array(facets);
    }
    if !images.is_empty() {
        record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
    }
    record
}

/// `app.bsky.richtext.facet`s by UTF-8 byte offsets. The tracked buy link is linked exactly
/// as given, even where the plain URL scan would have cut it short.
fn facets(text: &str, link: Option<&str>) -> Vec<Value> {
    let mut found = text::facets(text);
    if let Some(link) = link.filter(|l| !l.is_empty())
        && let Some(start) = text.find(link)
    {
        let end = start + link.len();
        found.retain(|f| f.byte_end <= start || f.byte_start >= end);
        found.push(text::Facet {
            byte_start: start,
            byte_end: end,
            feature: FacetFeature::Link(link.to_string()),
        });
        found.sort_by_key(|f| f.byte_start);
    }
    found
        .into_iter()
        .map(|facet| {
            let feature = match facet.feature {
                FacetFeature::Link(uri) => {
                    json!({"$type": "app.bsky.richtext.facet#link", "uri": uri})
                }
                FacetFeature::Tag(tag) => {
                    json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                }
            };
            json!({
                "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
                "features": [feature],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_stable_distinct_valid_tids() {
        let key = record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8N");
        assert_eq!(key, record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8N"));
        assert_ne!(key, record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8M"));
        for seed in 0..500 {
            let key = record_key(&format!("post-{seed}"));
            assert_eq!(key.len(), 13);
            assert!(
                key.bytes()
                    .all(|b| b"234567abcdefghijklmnopqrstuvwxyz".contains(&b))
            );
            // The TID syntax: the first character holds the zero top bit.
            assert!(b"234567abcdefghij".contains(&key.as_bytes()[0]), "{key}");
            // Inside 2023-01-01 … 2023-07-23: in the past, far from the year 2255.
            assert!(
                key.as_str() >= "3jl7442uk2222" && key.as_str() <= "3k37442ujzzzz",
                "{key}"
            );
        }
    }

    #[test]
    fn facets_link_the_whole_tracked_link_and_tags() {
        let link = "https://shop.example.com/p/CUP-1?src=post&post=42";
        // No space after the link: a plain URL scan would run on into 立即购买.
        let text = format!("青花瓷杯 🍵 ¥88 {link}立即购买 #茶");
        let facets = facets(&text, Some(link));
        let start = facets[0]["index"]["byteStart"].as_u64().unwrap() as usize;
        let end = facets[0]["index"]["byteEnd"].as_u64().unwrap() as usize;
        assert_eq!(&text.as_bytes()[start..end], link.as_bytes());
        assert_eq!(facets[0]["features"][0]["uri"], link);
        assert_eq!(facets[1]["features"][0]["tag"], "茶");
        assert_eq!(facets.len(), 2);
    }

    #[test]
    fn record_carries_time_langs_and_photos() {
        let request = PostRequest {
            text: "hi".into(),
            link: None,
            images: vec![],
            idempotency_key: "k".into(),
            languages: vec!["zh".into(), "en".into(), "ja".into(), "ko".into()],
        };
        let at: jiff::Timestamp = "2025-03-04T05:06:07.891234Z".parse().unwrap();
        let record = post_record(&request, vec![json!({"alt": "a"})], at);
        assert_eq!(record["createdAt"], "2025-03-04T05:06:07.891Z");
        assert_eq!(record["langs"], json!(["zh", "en", "ja"]));
        assert_eq!(record["embed"]["$type"], "app.bsky.embed.images");
        assert!(record.get("facets").is_none());
    }
}
