//! What the CLI tests share: running the real reader tools (pdftoppm, zbarimg, pdftotext…)
//! and reading back the QR codes printed on a PDF's first page.

use std::path::Path;
use std::process::Command;

/// Runs a tool that `scripts/setup.sh` installs and returns its stdout; fails the test if it
/// is missing or fails.
pub fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test (scripts/setup.sh installs it): {e}")
        });
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The payloads of every QR code on the first page of `pdf`, as zbarimg reads them from a
/// 200 dpi rendering written into `scratch`.
pub fn qr_codes_on_first_page(pdf: &Path, scratch: &Path) -> Vec<String> {
    let page = scratch.join("page");
    let args = ["-r", "200", "-png", "-f", "1", "-l", "1"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend([pdf.to_str().unwrap(), page.to_str().unwrap()]);
    tool("pdftoppm", &args);
    let png = std::fs::read_dir(scratch)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("page")
                && p.extension().is_some_and(|x| x == "png")
        })
        .expect("pdftoppm wrote the page");
    tool("zbarimg", &["--raw", "-q", png.to_str().unwrap()])
        .lines()
        .map(str::to_string)
        .collect()
}
