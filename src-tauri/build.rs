include!("src/commands/window_commands.rs");

fn main() {
    // Only the listed commands get permissions; the capability grants them to the window.
    // Without a manifest every app command would be callable from any page.
    let manifest = tauri_build::AppManifest::new().commands(WINDOW_COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build");
}
