//! Each network's way of counting a post, and the Bluesky rich-text facets (links and
//! hashtags located by UTF-8 byte offsets).

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::publisher::{Network, NetworkLimits, PostRequest, PublishError};

/// Finds http(s) URLs in `text`: (byte start, byte end).
pub fn find_urls(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| text[from..].find(scheme).map(|i| from + i))
        .min()
    {
        let end = text[found..]
            .char_indices()
            .find(|(_, c)| {
                c.is_whitespace() || matches!(c, '"' | '<' | '>' | '）' | '，' | '。' | '、')
            })
            .map(|(i, _)| found + i)
            .unwrap_or(text.len());
        // A sentence's closing punctuation is not part of the link.
        let trimmed = text[found..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
        let end = found + trimmed.len();
        if end > found + "https://".len() - 1 {
            out.push((found, end));
        }
        from = end.max(found + 1);
    }
    out
}

/// Finds #hashtags: (byte start, byte end, tag without '#').
pub fn find_hashtags(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let urls = find_urls(text);
    for (i, c) in text.char_indices() {
        if c != '#' || urls.iter().any(|(s, e)| i >= *s && i < *e) {
            continue;
        }
        if i > 0 && !text[..i].ends_with(char::is_whitespace) {
            continue;
        }
        let rest = &text[i + 1..];
        let len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map(|(j, _)| j)
            .unwrap_or(rest.len());
        if len > 0 && !rest[..len].chars().all(|c| c.is_ascii_digit()) {
            out.push((i, i + 1 + len, rest[..len].to_string()));
        }
    }
    out
}

/// Length of `text` as `network` counts it: Bluesky graphemes; Mastodon characters with each
/// URL as `url_chars`; Weibo characters with each ASCII character as half (rounded up).
pub fn count(network: Network, text: &str, limits: &NetworkLimits) -> usize {
    match network {
        Network::Bluesky => text.graphemes(true).count(),
        Network::Mastodon => {
            let urls = find_urls(text);
            let mut total = 0;
            let mut last = 0;
            for (start, end) in &urls {
                total += text[last..*start].chars().count();
                total += limits
                    .url_chars
                    .unwrap_or(text[*start..*end].chars().count());
                last = *end;
            }
            total + text[last..].chars().count()
        }
        Network::Weibo => {
            let halves: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            halves.div_ceil(2)
        }
    }
}

/// The checks every network shares, before sending: length, image count.
pub fn validate(
    network: Network,
    request: &PostRequest,
    limits: &NetworkLimits,
) -> Result<(), PublishError> {
    let length = count(network, &request.text, limits);
    if length > limits.max_chars {
        return Err(PublishError::Invalid(format!(
            "The text is {length} characters long as {} counts them; the limit is {}.",
            network.display_name(),
            limits.max_chars
        )));
    }
    if request.text.trim().is_empty() && request.images.is_empty() {
        return Err(PublishError::Invalid("The post is empty.".into()));
    }
    if request.images.len() > limits.max_images {
        return Err(PublishError::Invalid(format!(
            "{} takes at most {} pictures per post.",
            network.display_name(),
            limits.max_images
        )));
    }
    Ok(())
}

/// A Bluesky rich-text facet: a byte range and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    pub byte_start: usize,
    pub byte_end: usize,
    pub feature: FacetFeature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FacetFeature {
    Link(String),
    Tag(String),
}

/// Links and hashtags of `text` as facets, by UTF-8 byte offsets (what Bluesky requires).
pub fn facets(text: &str) -> Vec<Facet> {
    let mut out: Vec<Facet> = find_urls(text)
        .into_iter()
        .map(|(start, end)| Facet {
            byte_start: start,
            byte_end: end,
            feature: FacetFeature::Link(text[start..end].to_string()),
        })
        .collect();
    out.extend(
        find_hashtags(text)
            .into_iter()
            .map(|(start, end, tag)| Facet {
                byte_start: start,
                byte_end: end,
                feature: FacetFeature::Tag(tag),
            }),
    );
    out.sort_by_key(|f| f.byte_start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> NetworkLimits {
        NetworkLimits {
            max_chars: 500,
            url_chars: Some(23),
            max_images: 4,
            max_image_bytes: 1_000_000,
            max_image_side: 2_000,
        }
    }

    #[test]
    fn facets_use_utf8_byte_offsets_after_chinese_and_emoji() {
        let text = "青花瓷杯 🍵 ¥88 https://shop.example.com/p/CUP-1?src=post&post=7 #茶 #tea";
        let facets = facets(text);
        let link = &facets[0];
        assert_eq!(
            &text.as_bytes()[link.byte_start..link.byte_end],
            b"https://shop.example.com/p/CUP-1?src=post&post=7"
        );
        assert_eq!(link.byte_start, "青花瓷杯 🍵 ¥88 ".len());
        assert_eq!(facets[1].feature, FacetFeature::Tag("茶".into()));
        assert_eq!(&text[facets[2].byte_start..facets[2].byte_end], "#tea");
    }

    #[test]
    fn each_network_counts_its_own_way() {
        let text = "青花瓷 https://example.com/a/very/long/path/that/is/longer/than/23";
        assert_eq!(count(Network::Mastodon, text, &limits()), 4 + 23);
        assert_eq!(count(Network::Bluesky, "👍🏽 é", &limits()), 3);
        assert_eq!(count(Network::Weibo, "青花ab", &limits()), 3);
    }
}
