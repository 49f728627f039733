//! The `media://` protocol that shows stored photos in the page: only content hashes are
//! accepted, so the page can never read any other file.

use shopcast_core::Variant;
use tauri::http::{Request, Response, StatusCode};
use tauri::{Manager, UriSchemeContext, UriSchemeResponder, Wry};

use crate::state::AppState;

pub const SCHEME: &str = "media";

pub fn handle(
    ctx: UriSchemeContext<'_, Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let shop = ctx.app_handle().state::<AppState>().shop.clone();
    let path = request.uri().path().trim_matches('/').to_string();
    // Reading a file is blocking I/O: keep it off the webview's thread.
    std::thread::spawn(move || {
        let (hash, variant) = match path.split_once('/') {
            Some((hash, "thumb")) => (hash, Variant::Thumb),
            None => (path.as_str(), Variant::Full),
            Some(_) => ("", Variant::Full),
        };
        let response = match shop.media().read(hash, variant) {
            Some((bytes, mime)) => Response::builder()
                .header("Content-Type", mime)
                .header("Cache-Control", "max-age=31536000, immutable")
                .body(bytes),
            None => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Vec::new()),
        };
        responder.respond(response.expect("static headers are valid"));
    });
}
