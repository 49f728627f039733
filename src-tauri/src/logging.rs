//! Logging with `tracing` to a daily-rotated file (a week kept). Secrets are never passed
//! to log macros; the engine logs ids and counts, not payloads.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Starts file logging; keep the guard alive for as long as the app runs.
pub fn to_file(log_dir: &Path) -> Option<WorkerGuard> {
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .max_log_files(7)
        .filename_prefix("shopcast")
        .filename_suffix("log")
        .build(log_dir)
        .map_err(|e| eprintln!("shopcast: cannot write logs to {}: {e}", log_dir.display()))
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SHOPCAST_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .with_ansi(false)
        .init();
    Some(guard)
}

/// Headless commands: warnings and errors to stderr only, stdout stays for results.
pub fn to_stderr() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SHOPCAST_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
