//! What the CLI tests share: the real `shopcast` binary on a temp shop, the real reader tools
//! (pdftoppm, zbarimg, pdftotext…) and the QR codes printed on a PDF's first page.
// Each test binary uses the part it needs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The real `shopcast` binary on `data_dir`: the caller's shop folder and fault hooks left
/// out, secrets in the shop's files (never the keychain of whoever runs the tests).
pub fn shopcast_command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shopcast"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("SHOPCAST_DATA_DIR")
        .env_remove("SHOPCAST_DATABASE_URL")
        .env_remove("SHOPCAST_FAULT")
        .env("SHOPCAST_SECRETS", "file");
    if let Some(url) = test_server_database(data_dir) {
        command.env("SHOPCAST_DATABASE_URL", url);
    }
    command
}

/// With `SHOPCAST_TEST_CLI_POSTGRES=1` and a test server in `SHOPCAST_TEST_POSTGRES`, the shop
/// of `data_dir` lives in a database of its own on that server (named after the folder, made
/// on first use): scripts/test.sh runs the multi-process tests again that way. `--database`
/// given by a test still wins.
fn test_server_database(data_dir: &Path) -> Option<String> {
    use std::hash::{Hash, Hasher};
    static MADE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if std::env::var("SHOPCAST_TEST_CLI_POSTGRES").ok()? != "1" {
        return None;
    }
    let server = std::env::var("SHOPCAST_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    let name = format!("cli_{:016x}", hasher.finish());
    let mut made = MADE.lock().unwrap();
    if !made.contains(&name) {
        let created = Command::new("psql")
            .arg(format!("{server}/postgres"))
            .args(["-v", "ON_ERROR_STOP=1", "-qc"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql runs (the postgresql package installs it)");
        let said = String::from_utf8_lossy(&created.stderr);
        assert!(
            created.status.success() || said.contains("already exists"),
            "{said}"
        );
        made.push(name.clone());
    }
    Some(format!("{server}/{name}"))
}

/// Runs `shopcast --data-dir <data_dir> <args>` and returns what it did.
pub fn shopcast(data_dir: &Path, args: &[&str]) -> Output {
    shopcast_command(data_dir)
        .args(args)
        .output()
        .expect("shopcast runs")
}

/// The stdout of a run that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The stderr of a run that must have failed.
pub fn failure(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A shop in `data_dir` with buy links on https://shop.example.com/p/ and the catalog `rows`
/// (CSV lines under the header sku,name,description,price,currency,stock,tags) imported.
pub fn shop_with_products(data_dir: &Path, rows: &str) {
    let base = [
        "settings",
        "set",
        "shop.buy_link_base",
        "https://shop.example.com/p/",
    ];
    stdout(&shopcast(data_dir, &base));
    let csv = data_dir.join("products.csv");
    let header = "sku,name,description,price,currency,stock,tags\n";
    std::fs::write(&csv, format!("{header}{rows}")).unwrap();
    stdout(&shopcast(
        data_dir,
        &["products", "import", csv.to_str().unwrap()],
    ));
}

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

/// Prints signs for `selection` (e.g. `["--sku", "TEA-1"]`) on the a4-3x8 template into
/// `data_dir`, and returns the batch id printed and the QR codes read back from the PDF.
pub fn print_signs(data_dir: &Path, selection: &[&str]) -> (String, Vec<String>) {
    let pdf = data_dir.join("signs.pdf");
    let mut args = vec!["signage", "--template", "a4-3x8"];
    args.extend(selection);
    args.extend(["--out", pdf.to_str().unwrap()]);
    let printed = stdout(&shopcast(data_dir, &args));
    let batch = printed
        .split_whitespace()
        .skip_while(|w| *w != "batch")
        .nth(1)
        .expect("batch id printed")
        .to_string();
    (batch, qr_codes_on_first_page(&pdf, data_dir))
}

/// `payments watch` (or any command printing JSON lines) in the background; its lines arrive
/// on a channel.
pub struct Watch {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl Watch {
    /// Starts `command`, reading its stdout line by line (stderr dropped).
    pub fn spawn(mut command: Command) -> Watch {
        use std::io::BufRead;
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send
                    .send(serde_json::from_str(&line).expect("a JSON line"))
                    .is_err()
                {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    /// `payments watch --poll-ms POLL_MS` on the shop of `data_dir`.
    pub fn start(data_dir: &Path, poll_ms: u64) -> Watch {
        let mut command = shopcast_command(data_dir);
        command.args(["payments", "watch", "--poll-ms", &poll_ms.to_string()]);
        Watch::spawn(command)
    }

    pub fn next(&self, within: std::time::Duration) -> serde_json::Value {
        self.lines
            .recv_timeout(within)
            .expect("a payment line in time")
    }

    /// The next line if one comes within `within`.
    pub fn try_next(&self, within: std::time::Duration) -> Option<serde_json::Value> {
        self.lines.recv_timeout(within).ok()
    }

    /// SIGKILL: no chance to clean up or hand a lease over.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
