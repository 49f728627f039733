//! The desktop window: opens the shop, registers commands, plugins and the media protocol.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tauri::{Emitter, Manager};

use crate::state::AppState;
use crate::{commands, instance, logging, media, paths};

pub fn run(data_dir: PathBuf, database: Option<String>, started: Instant) -> ExitCode {
    // One window per shop: a second start brings the first window forward and ends here.
    let window_lock = match instance::claim(&data_dir) {
        Ok(instance::Start::First(lock)) => lock,
        Ok(instance::Start::AlreadyOpen) => {
            eprintln!(
                "Shopcast is already open on this shop ({}): its window was brought to the front.",
                data_dir.display()
            );
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("shopcast: {error}");
            return ExitCode::FAILURE;
        }
    };
    let log_dir = paths::log_dir(&data_dir);
    let _log_guard = logging::to_file(&log_dir);
    tracing::info!(data_dir = %data_dir.display(), version = env!("CARGO_PKG_VERSION"), "starting");

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let database_named_at_start = database.is_some()
        || std::env::var("SHOPCAST_DATABASE_URL").is_ok_and(|v| !v.trim().is_empty());
    let opened = crate::paths::database(database, &data_dir).map(|database| {
        tracing::info!(database = %database.display(), "shop database");
        runtime.block_on(shopcast_core::Shop::open_with(&data_dir, database))
    });
    let shop = match opened.and_then(|opened| opened) {
        Ok(shop) => shop,
        Err(error) => {
            tracing::error!(%error, "cannot open the shop");
            eprintln!("shopcast: {error}");
            return ExitCode::FAILURE;
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());
    let shop_page = std::sync::Arc::new(tokio::sync::Mutex::new(
        crate::shop_page::ShopPageHost::default(),
    ));
    {
        let shop = shop.clone();
        let shop_page = shop_page.clone();
        runtime.spawn(async move {
            // Sales and posts made on the shop's other computers show here as they happen.
            shop.start_live_updates();
            if let Err(error) = shop.start_payments().await {
                tracing::error!(code = error.code().as_str(), %error, "payments could not start");
            }
            // After payments: its test checkout joins the test mode that runs now.
            shop_page.lock().await.start_saved(&shop).await;
            match shop.start_outbox().await {
                Ok(missed) if !missed.is_empty() => {
                    tracing::info!(
                        missed = missed.len(),
                        "scheduled posts were missed while closed"
                    );
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(code = error.code().as_str(), %error, "the outbox could not start")
                }
            }
        });
    }

    let builder = commands::builder();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .manage(AppState {
            files: crate::file_access::FileAccess::new(&data_dir, &log_dir),
            // Set by tests/e2e/run.sh only: lets the tests answer the file dialogs.
            e2e_dialogs: std::env::var("SHOPCAST_E2E_DIALOGS").is_ok_and(|v| v == "1"),
            shop,
            database_named_at_start,
            log_dir,
            started,
            export_cancel: Default::default(),
            shop_page,
        })
        // Files dropped on the window are the owner's choice, like a dialog's.
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                let files = &window.state::<AppState>().files;
                for path in paths {
                    files.grant(path);
                }
            }
        })
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, media::handle)
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let handle = app.handle().clone();
            if let Err(error) = window_lock.listen(move || bring_to_front(&handle)) {
                tracing::warn!(%error, "a second start will not find this window");
            }
            // Kept for the app's life: the shop stays locked to this window until it closes.
            app.manage(window_lock);
            forward_payment_updates(app.handle().clone());
            forward_post_updates(app.handle().clone());
            watch_database(app.handle().clone());
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_title("Shopcast");
            }
            Ok(())
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the app stopped with an error");
            eprintln!("shopcast: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Shows the window (restored, in front): the owner started Shopcast again on this shop.
fn bring_to_front(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Name of the window event that carries every [`shopcast_core::payments::PaymentUpdate`].
pub const PAYMENT_UPDATE_EVENT: &str = "payment-update";

/// Forwards the engine's payment updates to the window as they happen.
fn forward_payment_updates(app: tauri::AppHandle) {
    let mut updates = app.state::<AppState>().shop.payment_updates();
    tauri::async_runtime::spawn(async move {
        loop {
            match updates.recv().await {
                Ok(update) => {
                    if let shopcast_core::payments::PaymentUpdate::Order {
                        order_ref, status, ..
                    } = &update
                        && *status == shopcast_core::payments::till::OrderStatus::Paid
                    {
                        notify_paid(&app, order_ref);
                    }
                    let _ = app.emit(PAYMENT_UPDATE_EVENT, update);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the window fell behind on payment updates");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// An OS notification for a paid sale, so the owner hears of it while the window is hidden.
fn notify_paid(app: &tauri::AppHandle, order_ref: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(error) = app
        .notification()
        .builder()
        .title("Paid ✓")
        .body(format!("Order {order_ref} is paid."))
        .show()
    {
        // No notification service (e.g. a bare X server): the window still shows it.
        tracing::debug!(%error, "notification not shown");
    }
}

/// Name of the window event that says whether the shop's database server answers.
pub const DATABASE_STATUS_EVENT: &str = "database-status";

/// What [`DATABASE_STATUS_EVENT`] carries.
#[derive(Clone, serde::Serialize)]
struct DatabaseStatus {
    reachable: bool,
}

/// On a PostgreSQL shop, tells the window when the server stops answering and when it is back
/// (checked every two seconds), so the window says so before the next sale fails.
fn watch_database(app: tauri::AppHandle) {
    let shop = app.state::<AppState>().shop.clone();
    if shop.backend() != shopcast_core::Backend::Postgres {
        return;
    }
    tauri::async_runtime::spawn(async move {
        let mut reachable = true;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let now = shop.database_answers().await;
            if now != reachable {
                reachable = now;
                tracing::info!(reachable, "the shop's database server");
                let _ = app.emit(DATABASE_STATUS_EVENT, DatabaseStatus { reachable });
            }
        }
    });
}

/// Name of the window event that carries every changed [`shopcast_core::posting::outbox::Post`].
pub const POST_UPDATE_EVENT: &str = "post-update";

fn forward_post_updates(app: tauri::AppHandle) {
    let mut updates = app.state::<AppState>().shop.post_updates();
    tauri::async_runtime::spawn(async move {
        loop {
            match updates.recv().await {
                Ok(post) => {
                    let _ = app.emit(POST_UPDATE_EVENT, post);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
