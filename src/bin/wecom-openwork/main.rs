//! `wecom-openwork`: the SDK's command-line tool. One module per command;
//! `config` reads the application's configuration for all of them.

mod authorizations;
mod call;
mod config;
mod crypto;
mod emulator;
mod listing;
mod logs;
mod serve;

use std::process::ExitCode;

/// A faster allocator for the service's many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

use authorizations::{authorizations, AuthorizationsCommand};
use call::{call, CallArgs, CALL_ABOUT};
use config::{check, ConfigCommand};
use crypto::{crypto, CryptoCommand};
use emulator::run_emulator;
use listing::{print_endpoints, print_openapi};
use serve::serve;
use wecom_openwork::config::LogFormat;

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
    /// Print the OpenAPI 3.1 document of every spec'd endpoint (JSON, as
    /// committed in generated/openapi.json).
    Openapi,
    /// WXBizMsgCrypt and JS-SDK signatures.
    #[command(subcommand)]
    Crypto(CryptoCommand),
    /// Run the local WeCom emulator until interrupted; prints its address first.
    Emulator {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Provider and suites to check credentials against and push to
        /// (TOML or JSON; see `wecom_openwork::emulator::EmulatorConfig`).
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// Keep the clock still until moved through the control API
        /// (`POST /__emulator/clock/advance`), as tests want: by default it
        /// follows the wall clock like WeCom (a suite ticket at start and
        /// every 10 minutes, each push stamped with the time it is sent),
        /// unless the config says `realtime = false`.
        #[arg(long)]
        manual_clock: bool,
        /// The wall clock (the default now; kept for older scripts).
        #[arg(long, hide = true)]
        realtime: bool,
        /// Refuse calls that break the SDK's own rules (a token parameter of
        /// another kind, a token given twice) instead of recording them as
        /// violations (`GET /__emulator/violations`); as `strict = true`.
        #[arg(long)]
        strict: bool,
    },
    /// Run the callback side as a service: the system, command and data
    /// URLs under /callback, plus GET /healthz, with the token runtime and
    /// the configured store. Resumes unfinished authorizations at start;
    /// SIGTERM or Ctrl-C drains the background work and stops.
    Serve {
        /// The application's configuration (TOML, or JSON by extension).
        #[arg(long)]
        config: std::path::PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The store's URL, over the configuration's `[store] url`
        /// (`sqlite:///var/lib/isv/wecom.sqlite3`, `redis://host:6379/0`).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Log lines as `text` or `json` (one object per line), over the
        /// configuration's `[log] format`; the level is `RUST_LOG`, else
        /// `[log] level`, else `info`.
        #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
        log_format: Option<LogFormat>,
    },
    /// Check a configuration as `serve` would read it, and print what it
    /// would use (secrets redacted). Exits 1 naming the first bad field.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The authorizations in the configured store. Secrets are never printed.
    #[command(subcommand)]
    Authorizations(AuthorizationsCommand),
    /// Call any spec'd endpoint through the token runtime and the configured
    /// store, and print its typed reply as JSON.
    #[command(long_about = CALL_ABOUT)]
    Call(CallArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Endpoints { json } => {
            print_endpoints(json);
            ExitCode::SUCCESS
        }
        Command::Openapi => print_openapi(),
        Command::Emulator { port, config, manual_clock, realtime: _, strict } => {
            match run_emulator(port, config, manual_clock, strict) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { config, listen, store, log_format } => {
            finish(serve(&config, listen, store, log_format))
        }
        Command::Config(ConfigCommand::Check { config, store }) => finish(check(&config, store)),
        Command::Authorizations(command) => finish(authorizations(command)),
        Command::Call(args) => call(args),
        Command::Crypto(command) => match crypto(command) {
            Ok(output) => {
                println!("{output}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}`: text or json")),
    }
}
