//! `wecom-openwork authorizations`: the store's authorizations, from outside.

use clap::Subcommand;

use crate::config::application;

#[derive(Subcommand)]
pub(crate) enum AuthorizationsCommand {
    /// Every (suite, corp) with its status: authorized, pending or failed.
    List {
        /// The application's configuration (TOML, or JSON by extension).
        #[arg(long)]
        config: std::path::PathBuf,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One corp's stored authorization, as JSON (without the permanent code).
    Show {
        /// The application's configuration.
        #[arg(long)]
        config: std::path::PathBuf,
        /// The suite id.
        suite: String,
        /// The corp id.
        corp: String,
    },
    /// Forget one corp: its authorization, token and failed exchanges.
    Forget {
        /// The application's configuration.
        #[arg(long)]
        config: std::path::PathBuf,
        /// The suite id.
        suite: String,
        /// The corp id.
        corp: String,
    },
}

pub(crate) fn authorizations(command: AuthorizationsCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        match command {
            AuthorizationsCommand::List { config, json } => {
                let statuses =
                    application(&config)?.authorization_statuses().await.map_err(|e| e.to_string())?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&statuses).map_err(|e| e.to_string())?);
                    return Ok(());
                }
                println!(
                    "{:<24} {:<24} {:<10} {:<12} AT (ms since epoch)",
                    "SUITE", "CORP", "STATUS", "KIND"
                );
                for s in statuses {
                    let corp = s.corp_id.as_ref().map_or("-", |c| c.as_str());
                    let kind =
                        serde_json::to_value(s.app_kind).ok().and_then(|v| v.as_str().map(str::to_owned));
                    println!(
                        "{:<24} {:<24} {:<10} {:<12} {}",
                        s.suite_id.as_str(),
                        corp,
                        s.status,
                        kind.unwrap_or_default(),
                        s.at
                    );
                }
                Ok(())
            }
            AuthorizationsCommand::Show { config, suite, corp } => {
                let app = application(&config)?;
                let record = app
                    .corp(suite.as_str(), corp.as_str())
                    .permanent_code()
                    .authorization()
                    .await
                    .map_err(|e| e.to_string())?;
                let Some(record) = record else {
                    return Err(format!("no authorization of suite {suite} by corp {corp}"));
                };
                let mut shown = serde_json::to_value(&record).map_err(|e| e.to_string())?;
                if let Some(fields) = shown.as_object_mut() {
                    fields.remove("permanent_code");
                }
                println!("{}", serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?);
                Ok(())
            }
            AuthorizationsCommand::Forget { config, suite, corp } => {
                let app = application(&config)?;
                let forgotten = app
                    .forget_authorization(suite.as_str(), corp.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                if forgotten {
                    println!("forgot corp {corp} of suite {suite}");
                    Ok(())
                } else {
                    Err(format!("nothing stored for corp {corp} of suite {suite}"))
                }
            }
        }
    })
}
