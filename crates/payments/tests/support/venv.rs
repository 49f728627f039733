//! The shared test venv's Python (`$SHOPCAST_VENV`, else ~/.cache/shopcast-venv), where
//! tests/peers/setup.sh installs the providers' official SDKs the tests compare against.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub fn python() -> PathBuf {
    let venv = std::env::var_os("SHOPCAST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .expect("HOME is set");
            PathBuf::from(home).join(".cache/shopcast-venv")
        });
    let python = if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    };
    assert!(
        python.exists(),
        "the test venv is missing ({}): run tests/peers/setup.sh",
        python.display()
    );
    python
}

/// Runs `tests/peers/<script>` with `input` on stdin and returns its JSON answer; a failing
/// script fails the test with its stderr.
pub fn run_peer_script(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/peers")
        .join(script);
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the venv python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{} failed ({}): {}\nIf an SDK is missing, run tests/peers/setup.sh.",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script answers JSON")
}
