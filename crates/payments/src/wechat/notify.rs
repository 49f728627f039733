//! WeChat Pay notifications (支付/退款结果通知) as they reach the shop page: size cap,
//! signature, shape, then the AEAD_AES_256_GCM resource opened with the APIv3 key.

use jiff::Timestamp;
use serde::Deserialize;

use super::sign::{self, ApiV3Key, SignedHeaders, Verifiers};
use crate::provider::{ProviderError, ProviderKind};

/// WeChat Pay's notifications are a few kilobytes; anything far larger is not one.
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// The only `resource_type` WeChat Pay sends, and the only algorithm it encrypts with.
const ENCRYPTED_RESOURCE: &str = "encrypt-resource";
const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// A verified, decrypted notification ("TRANSACTION.SUCCESS", "REFUND.SUCCESS", …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// WeChat Pay's id for the notification (the same on each retry).
    pub id: String,
    /// "TRANSACTION.SUCCESS", "REFUND.SUCCESS", …
    pub event_type: String,
    /// "encrypt-resource".
    pub resource_type: String,
    /// WeChat Pay's short description ("支付成功").
    pub summary: Option<String>,
    /// The decrypted resource JSON text.
    pub resource: String,
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource_type: String,
    #[serde(default)]
    summary: Option<String>,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: Option<String>,
    nonce: String,
}

fn bad_response(detail: impl Into<String>) -> ProviderError {
    ProviderError::BadResponse {
        provider: ProviderKind::Wechat,
        detail: detail.into(),
    }
}

/// Size cap, signature (verify above, same 5-minute rule), JSON shape, resource_type
/// "encrypt-resource", algorithm AEAD_AES_256_GCM, decryption. Anything off → Err, nothing half-read.
pub fn read_notification(
    headers: &SignedHeaders,
    body: &[u8],
    verifiers: &Verifiers,
    key: &ApiV3Key,
    now: Timestamp,
) -> Result<Notification, ProviderError> {
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(bad_response(format!(
            "the notification is {} bytes, more than the {MAX_NOTIFICATION_BYTES} a WeChat Pay \
             notification can be",
            body.len()
        )));
    }
    // Signature first: nothing unsigned is parsed further.
    sign::verify(headers, body, verifiers, now)?;
    let envelope: Envelope = serde_json::from_slice(body).map_err(|err| {
        bad_response(format!(
            "the notification is not the JSON WeChat Pay sends ({err})"
        ))
    })?;
    if envelope.resource_type != ENCRYPTED_RESOURCE {
        return Err(bad_response(format!(
            "the notification's resource_type is {:?}, not {ENCRYPTED_RESOURCE:?}",
            envelope.resource_type
        )));
    }
    if envelope.resource.algorithm != ALGORITHM {
        return Err(bad_response(format!(
            "the notification is encrypted with {:?}, not {ALGORITHM}",
            envelope.resource.algorithm
        )));
    }
    let resource = sign::decrypt(
        key,
        &envelope.resource.nonce,
        envelope.resource.associated_data.as_deref().unwrap_or(""),
        &envelope.resource.ciphertext,
    )?;
    if serde_json::from_str::<serde::de::IgnoredAny>(&resource).is_err() {
        return Err(bad_response(
            "the notification's decrypted resource is not JSON",
        ));
    }
    Ok(Notification {
        id: envelope.id,
        event_type: envelope.event_type,
        resource_type: envelope.resource_type,
        summary: envelope.summary,
        resource,
    })
}
