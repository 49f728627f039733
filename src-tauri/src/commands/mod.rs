//! Tauri commands, one module per screen. Each command is a thin call into the engine.

pub mod app;
pub mod catalog;
pub mod dialogs;
pub mod payments;
pub mod posting;
pub mod reports;
pub mod settings;
pub mod shop_page;
pub mod signage;
pub mod till;

use tauri_specta::{Builder, collect_commands};

// The window's command list (shared with build.rs), checked against the registered ones.
#[cfg(test)]
include!("window_commands.rs");

/// Every command the UI may call; the TypeScript bindings are generated from this list.
pub fn builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            app::app_info,
            app::report_first_paint,
            app::show_in_folder,
            app::open_path,
            app::open_share_link,
            dialogs::pick_open_file,
            dialogs::pick_save_file,
            dialogs::answer_dialog_for_e2e,
            settings::get_settings,
            settings::save_settings,
            settings::list_timezones,
            settings::shop_logo,
            settings::set_shop_logo,
            settings::clear_shop_logo,
            settings::database_info,
            settings::test_database,
            settings::choose_database,
            settings::till_name,
            till::known_tills,
            settings::set_till_name,
            settings::restart_app,
            shop_page::shop_page_status,
            shop_page::save_shop_page,
            shop_page::check_shop_page_reachable,
            catalog::list_products,
            catalog::get_product,
            catalog::product_by_barcode,
            catalog::create_product,
            catalog::update_product,
            catalog::set_archived,
            catalog::delete_product,
            catalog::add_photo_from_path,
            catalog::add_photo_from_bytes,
            catalog::remove_photo,
            catalog::import_catalog,
            catalog::export_catalog,
            catalog::parse_price,
            signage::signage_templates,
            signage::signage_preview,
            signage::print_signage,
            signage::last_signage_request,
            signage::product_qr_preview,
            signage::save_product_qr,
            payments::preview_order,
            payments::create_order,
            payments::get_order,
            payments::start_charge,
            payments::cancel_order,
            payments::mark_paid,
            payments::list_payments,
            payments::payment_detail,
            payments::refund_payment,
            payments::today_totals,
            payments::payment_providers,
            payments::save_payment_settings,
            payments::connect_stripe,
            payments::set_stripe_webhook_secret,
            payments::connect_alipay,
            payments::connect_wechat,
            payments::charge_payment_code,
            payments::disconnect_provider,
            till::list_tax_rates,
            till::add_tax_rate,
            till::set_default_tax_rate,
            till::print_receipt,
            till::auto_print_receipt,
            till::save_receipt_pdf,
            till::till_days,
            till::open_till,
            till::till_x_report,
            till::close_till,
            till::save_till_report_pdf,
            reports::dashboard,
            reports::report_summary,
            reports::export_report,
            reports::cancel_export,
            posting::list_accounts,
            posting::connect_bluesky,
            posting::disconnect_account,
            posting::preview_post,
            posting::queue_posts,
            posting::post_history,
            posting::post_now,
            posting::skip_post,
            posting::start_mastodon_sign_in,
            posting::start_weibo_sign_in,
            posting::finish_sign_in,
        ])
        // Sent as the "payment-update" event (see app.rs).
        .typ::<shopcast_core::payments::PaymentUpdate>()
        // Money and ids are i64 but stay far below 2^53 (MAX_MINOR is 10^15), so a JS number
        // holds them exactly.
        .dangerously_cast_bigints_to_number()
        // One TS type per Rust type: our DTOs serialize and deserialize the same shape.
        .disable_serde_phases()
}

/// Files the page reads with a file input arrive base64-encoded.
pub(crate) fn decode_base64(data: &str) -> crate::error::ApiResult<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| {
            crate::error::ApiError::invalid(
                "photo",
                "The file could not be read: the upload was damaged.",
            )
        })
}

pub const BINDINGS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

/// Writes the TypeScript bindings to `path`, and beside it `errorCodes.ts`: the list of every
/// error code, so the UI's known codes cannot drift from the engine's.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    builder()
        .export(
            specta_typescript::Typescript::default().header("// Generated from Rust by tauri-specta: `cargo run -p shopcast -- dev bindings`. Do not edit.\n"),
            path,
        )
        .map_err(|e| e.to_string())?;
    let codes = path.with_file_name("errorCodes.ts");
    std::fs::write(&codes, error_codes_ts())
        .map_err(|e| format!("cannot write {}: {e}", codes.display()))
}

/// `ERROR_CODES`, every `shopcast_core::ErrorCode` in declaration order, as TypeScript.
fn error_codes_ts() -> String {
    let mut out = String::from(
        "// Generated from Rust (shopcast_core::ErrorCode) by `cargo run -p shopcast -- dev bindings`. Do not edit.\n\n\
         import type { ErrorCode } from './bindings';\n\n\
         /** Every error code the engine can send, in the order Rust declares them. */\n\
         export const ERROR_CODES = [\n",
    );
    for code in shopcast_core::ErrorCode::ALL {
        out.push_str(&format!("  '{code}',\n"));
    }
    out.push_str("] as const satisfies readonly ErrorCode[];\n");
    out
}

#[cfg(test)]
mod tests {
    /// Fails when a command or a type changed in Rust but `ui/src/lib/bindings.ts` was not
    /// regenerated (`cargo run -p shopcast -- dev bindings`).
    #[test]
    fn generated_bindings_are_current() {
        let fresh = tempfile::tempdir().unwrap();
        let path = fresh.path().join("bindings.ts");
        super::export_bindings(&path).unwrap();
        for name in ["bindings.ts", "errorCodes.ts"] {
            let expected = std::fs::read_to_string(fresh.path().join(name)).unwrap();
            let committed = std::path::Path::new(super::BINDINGS_PATH).with_file_name(name);
            let committed = std::fs::read_to_string(committed).unwrap_or_default();
            assert!(
                committed == expected,
                "ui/src/lib/{name} is stale: run `cargo run -p shopcast -- dev bindings` and commit it"
            );
        }
    }

    /// The commands registered, the names build.rs gives permissions and the ones the
    /// window's capability grants are one list: a command missing from either would fail
    /// in the window only ("not allowed"), one granted but not registered is dead weight.
    #[test]
    fn the_window_may_call_exactly_the_registered_commands() {
        let bindings = std::fs::read_to_string(super::BINDINGS_PATH).unwrap();
        // Commands with a Result read `TAURI_INVOKE("name"`, the others
        // `__TAURI_INVOKE<T>("name"`.
        let registered: Vec<&str> = bindings
            .split("TAURI_INVOKE")
            .skip(1)
            .filter_map(|rest| {
                rest.split_once("(\"")
                    .filter(|(generic, _)| !generic.contains('\n'))
            })
            .map(|(_, rest)| &rest[..rest.find('"').unwrap()])
            .collect();
        let mut listed = super::WINDOW_COMMANDS.to_vec();
        let mut sorted = registered.clone();
        sorted.sort_unstable();
        listed.sort_unstable();
        assert_eq!(
            sorted, listed,
            "src/commands/window_commands.rs vs the registered commands"
        );

        let capability = concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/default.json");
        let capability: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(capability).unwrap()).unwrap();
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .filter(|p| !p.contains(':'))
            .collect();
        granted.sort_unstable();
        let mut expected: Vec<String> = listed
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        expected.sort_unstable();
        assert_eq!(granted, expected);
        // No plugin permission beyond listening to events: dialogs open from Rust.
        let plugins: Vec<&str> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str().filter(|p| p.contains(':')))
            .collect();
        assert_eq!(
            plugins,
            ["core:event:allow-listen", "core:event:allow-unlisten"]
        );
    }

    /// Every code the engine can send has a sentence in each UI language (the UI also checks
    /// this in vitest; here it fails for whoever adds a code in Rust).
    #[test]
    fn every_error_code_has_an_english_and_a_chinese_sentence() {
        let i18n = std::path::Path::new(super::BINDINGS_PATH).with_file_name("i18n");
        for language in ["en.json", "zh-CN.json"] {
            let text = std::fs::read_to_string(i18n.join(language)).unwrap();
            let strings: serde_json::Value = serde_json::from_str(&text).unwrap();
            for code in shopcast_core::ErrorCode::ALL {
                let sentence = strings[format!("error.{code}")]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    !sentence.trim().is_empty(),
                    "{language} has no sentence for {code}"
                );
            }
        }
    }
}
