//! `wecom-openwork`: the SDK's command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wecom_openwork::ENDPOINTS;

/// Tools for WeCom third-party service providers, built on the wecom-openwork SDK.
#[derive(Parser)]
#[command(name = "wecom-openwork", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every spec'd endpoint: group, method name, HTTP method, path, token kind.
    Endpoints {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Endpoints { json } => print_endpoints(json),
    }
    ExitCode::SUCCESS
}

fn print_endpoints(json: bool) {
    if json {
        for e in ENDPOINTS {
            let line = serde_json::json!({
                "group": e.group,
                "name": e.name,
                "method": e.method.as_str(),
                "path": e.path,
                "token": e.token.as_str(),
                "token_param": e.token_param,
            });
            println!("{line}");
        }
        return;
    }
    let rows: Vec<[String; 5]> = ENDPOINTS
        .iter()
        .map(|e| {
            let token = match e.token_param {
                Some(param) => format!("{} ({param})", e.token),
                None => e.token.to_string(),
            };
            [e.group.into(), e.name.into(), e.method.to_string(), e.path.into(), token]
        })
        .collect();
    let header = ["GROUP", "METHOD NAME", "HTTP", "PATH", "TOKEN"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}
