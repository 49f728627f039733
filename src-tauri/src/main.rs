//! Shopcast: the desktop app, and the same engine as headless subcommands
//! (`shopcast products import …`). Without a subcommand it opens the window.

#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

mod app;
mod cli;
mod commands;
mod error;
mod file_access;
mod instance;
mod logging;
mod media;
mod paths;
mod shop_page;
mod state;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let started = std::time::Instant::now();
    let args = cli::Args::parse();
    let data_dir = paths::data_dir(args.data_dir.clone());
    match args.command {
        Some(command) => cli::run(command, &data_dir, args.database),
        None => app::run(data_dir, args.database, started),
    }
}
