//! WeChat Pay notifications (`POST /hooks/wechat`): signature checked with WeChat Pay's keys,
//! resource decrypted with the APIv3 key, matched to the order, recorded as the poll records it.

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::payments::callbacks::CallbackOutcome;

const PROVIDER: &str = "wechat";

fn refused(message: String) -> CoreError {
    CoreError::CallbackRefused {
        provider: PROVIDER,
        message,
    }
}

impl Shop {
    /// Records one WeChat Pay notification. `CallbackRefused` when it cannot be verified or
    /// does not match its order (nothing stored); any other error means "not recorded,
    /// retry": the server answers WeChat Pay 204 only when this returned `Ok`.
    pub async fn record_wechat_notify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<CallbackOutcome> {
        let _ = (headers, body);
        Err(refused(
            "WeChat Pay notifications cannot be checked by this build yet.".into(),
        ))
    }
}
