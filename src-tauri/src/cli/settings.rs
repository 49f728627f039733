//! `shopcast settings`: read or change the shop's settings from a script.

use clap::Subcommand;
use shopcast_core::Shop;

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print one setting, or all of them without KEY.
    Get { key: Option<String> },
    /// Change one setting.
    Set { key: String, value: String },
}

pub(crate) async fn run_settings(shop: &Shop, command: SettingsCommand) -> Result<(), Failure> {
    match command {
        SettingsCommand::Get { key: Some(key) } => {
            println!("{}", shop.settings().await?.get(&key)?)
        }
        SettingsCommand::Get { key: None } => {
            let settings = shop.settings().await?;
            for key in shopcast_core::settings::KEYS {
                println!("{key}={}", settings.get(key)?);
            }
        }
        SettingsCommand::Set { key, value } => {
            let settings = shop.set_setting(&key, &value).await?;
            println!("{key}={}", settings.get(&key)?);
        }
    }
    Ok(())
}
