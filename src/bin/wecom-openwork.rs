//! `wecom-openwork`: the SDK's command-line tool.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use wecom_openwork::crypto::{jsapi_signature, MsgCrypt};
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
        /// Let the clock follow the wall clock: a suite ticket is pushed at
        /// start and every 10 minutes (as `realtime = true` in the config).
        #[arg(long)]
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
    },
    /// The authorizations in the configured store. Secrets are never printed.
    #[command(subcommand)]
    Authorizations(AuthorizationsCommand),
    /// Call any spec'd endpoint through the token runtime and the configured
    /// store, and print its typed reply as JSON.
    #[command(long_about = CALL_ABOUT)]
    Call(CallArgs),
}

const CALL_ABOUT: &str = "Call any spec'd endpoint through the token runtime and the configured store \
(the same --config file `serve` uses), and print its typed reply as JSON.

The JSON of --json (and --query) is decoded into the endpoint's query type (GET) or request type \
(POST) first: a wrong field or type is refused with serde's message and nothing is sent. The \
reply is decoded into its type and encoded back to JSON, with every value the spec marks \
x-sensitive and every value whose key names a secret (a token, ticket, code, secret, key or \
password) replaced by \"<redacted>\". WeCom's errors print `errcode N: errmsg (hint: ...)` on \
stderr; no token is ever printed.

Uploads (media.upload, ...) take --file PATH. Registration calls (registration.set_scope, \
registration.contact_sync_success) take the registration's one-time --token. A download \
(media.get) is written to --out PATH and its name, type and size printed as JSON; a reply that \
may be an image (suite.get_app_qrcode) prints JSON, or is written to --out PATH when binary.

Exit status: 0 on success; 1 when the call failed (WeCom's errcode, transport, store); 2 for a \
usage error (an unknown endpoint, a missing or extra --suite/--corp, JSON that does not decode), \
in which case nothing was sent.";

/// `wecom-openwork call`'s arguments.
#[derive(Args)]
struct CallArgs {
    /// GROUP.METHOD, as `wecom-openwork endpoints` lists them (e.g. `user.get`).
    endpoint: String,
    /// The application's configuration (TOML, or JSON by extension).
    #[arg(long)]
    config: std::path::PathBuf,
    /// The suite id: required for suite and corp endpoints, refused for others.
    #[arg(long)]
    suite: Option<String>,
    /// The corp id: required for corp endpoints, refused for others.
    #[arg(long)]
    corp: Option<String>,
    /// The request body (POST), or the query parameters (GET, or an endpoint
    /// with a query and no body), as JSON, or `@FILE` to read it from FILE.
    #[arg(long, value_name = "BODY|@FILE")]
    json: Option<String>,
    /// The query parameters as JSON (or `@FILE`), for an endpoint with both a
    /// query and a body (`menu.create`).
    #[arg(long, value_name = "JSON|@FILE")]
    query: Option<String>,
    /// The file to upload, for an upload endpoint.
    #[arg(long, value_name = "PATH")]
    file: Option<std::path::PathBuf>,
    /// The registration's one-time access token, for a registration endpoint.
    #[arg(long)]
    token: Option<String>,
    /// Where to write a downloaded file or a binary reply.
    #[arg(long, value_name = "PATH")]
    out: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum AuthorizationsCommand {
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

#[derive(Subcommand)]
enum CryptoCommand {
    /// Verify and decrypt a callback ciphertext; prints the message.
    Decrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// The `msg_signature` query parameter.
        #[arg(long)]
        msg_signature: String,
        /// The `timestamp` query parameter.
        #[arg(long)]
        timestamp: String,
        /// The `nonce` query parameter.
        #[arg(long)]
        nonce: String,
        /// The `Encrypt` element (or `echostr`).
        #[arg(long)]
        encrypt: String,
    },
    /// Encrypt a message; prints JSON `{"encrypt": …, "msg_signature": …}`.
    Encrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// The timestamp to sign with.
        #[arg(long)]
        timestamp: String,
        /// The nonce to sign with.
        #[arg(long)]
        nonce: String,
        /// The message to encrypt.
        #[arg(long)]
        message: String,
        /// The 16-byte random prefix as 32 hex digits (default: from the OS CSPRNG).
        #[arg(long)]
        random_hex: Option<String>,
    },
    /// The JS-SDK signature of a page (`wx.config`, `wx.agentConfig`).
    JsapiSignature {
        /// The jsapi ticket (or the app's agent_config ticket).
        #[arg(long)]
        ticket: String,
        /// The random string.
        #[arg(long)]
        noncestr: String,
        /// Unix seconds.
        #[arg(long)]
        timestamp: String,
        /// The page URL (its `#fragment` is ignored).
        #[arg(long)]
        url: String,
    },
}

/// The callback URL's token, EncodingAESKey and receive id.
#[derive(Args)]
struct KeyArgs {
    /// The callback token.
    #[arg(long)]
    token: String,
    /// The EncodingAESKey (43 characters).
    #[arg(long)]
    aes_key: String,
    /// The receive id (suite id, corp id).
    #[arg(long)]
    receive_id: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Endpoints { json } => {
            print_endpoints(json);
            ExitCode::SUCCESS
        }
        Command::Openapi => print_openapi(),
        Command::Emulator { port, config, realtime, strict } => {
            match run_emulator(port, config, realtime, strict) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { config, listen } => finish(serve(&config, listen)),
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

/// Reads an application's configuration: JSON by extension, else TOML.
fn load_config(path: &std::path::Path) -> Result<wecom_openwork::Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = if path.extension().is_some_and(|x| x == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| toml_error(&e, &text))
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}

/// A TOML error as its message and where it is, without the source line
/// toml's `Display` quotes (it may hold a secret).
fn toml_error(error: &toml::de::Error, text: &str) -> String {
    let Some(start) = error.span().map(|span| span.start.min(text.len())) else {
        return error.message().trim_end().to_owned();
    };
    let before = text.as_bytes().get(..start).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    format!("TOML parse error at line {line}, column {column}: {}", error.message().trim_end())
}

fn application(path: &std::path::Path) -> Result<wecom_openwork::Application, String> {
    wecom_openwork::Application::new(load_config(path)?).map_err(|e| e.to_string())
}

fn serve(config: &std::path::Path, listen: std::net::SocketAddr) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = application(config)?;
        let server = app.server();
        let resumed = server.resume().await.map_err(|e| e.to_string())?;
        let router = server.router().route("/healthz", axum::routing::get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("{listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "serving callbacks on http://{local}/callback (resumed {resumed} unfinished authorizations)"
        );
        axum::serve(listener, router).with_graceful_shutdown(stopped()).await.map_err(|e| e.to_string())?;
        server.drain().await;
        println!("stopped");
        Ok(())
    })
}

/// SIGTERM or Ctrl-C.
async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn authorizations(command: AuthorizationsCommand) -> Result<(), String> {
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
                    .authorization_record(suite.as_str(), corp.as_str())
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

/// Why `call` stopped: a usage error (exit 2, nothing sent) or a failure
/// (exit 1).
enum CallFailure {
    Usage(String),
    Failed(String),
}

fn call(args: CallArgs) -> ExitCode {
    match call_endpoint(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CallFailure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(CallFailure::Failed(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn call_endpoint(args: CallArgs) -> Result<(), CallFailure> {
    use wecom_openwork::api::dispatch::{self, CallError, CallInput, CallReply, Scope};
    use CallFailure::{Failed, Usage};
    let Some(callable) = dispatch::find(&args.endpoint) else {
        return Err(Usage(unknown_endpoint(&args.endpoint)));
    };
    let endpoint = callable.endpoint;
    let name = format!("{}.{}", endpoint.group, endpoint.name);
    match (callable.scope, &args.suite, &args.corp) {
        (Scope::Provider, None, None) | (Scope::Suite, Some(_), None) | (Scope::Corp, Some(_), Some(_)) => {}
        (Scope::Provider, _, _) => {
            return Err(Usage(format!("{name} is a provider endpoint: it takes neither --suite nor --corp")))
        }
        (Scope::Suite, None, _) => return Err(Usage(format!("{name} is a suite endpoint: give --suite"))),
        (Scope::Suite, Some(_), Some(_)) => {
            return Err(Usage(format!("{name} is a suite endpoint: it takes --suite, not --corp")))
        }
        (Scope::Corp, _, _) => {
            return Err(Usage(format!("{name} is a corp endpoint: give --suite and --corp")))
        }
    }
    let mut input = CallInput::default();
    let json = args.json.as_deref().map(|text| read_json(text, "--json")).transpose().map_err(Usage)?;
    let query = args.query.as_deref().map(|text| read_json(text, "--query")).transpose().map_err(Usage)?;
    match (callable.query, callable.request, json, query) {
        (_, Some(_), json, query) => (input.request, input.query) = (json, query),
        (Some(_), None, json, None) => input.query = json,
        (Some(_), None, Some(_), Some(_)) => {
            return Err(Usage(format!("{name} takes only a query: give it with --json or --query, not both")))
        }
        (Some(_), None, None, query) => input.query = query,
        (None, None, None, None) => {}
        (None, None, _, _) => return Err(Usage(format!("{name} takes no JSON (no query, no body)"))),
    }
    if input.query.is_some() && callable.query.is_none() {
        return Err(Usage(format!("{name} takes no query parameters")));
    }
    let upload = endpoint.upload.is_some();
    match (&args.file, upload) {
        (None, true) => return Err(Usage(format!("{name} uploads a file: give --file PATH"))),
        (Some(_), false) => return Err(Usage(format!("{name} uploads nothing: --file is not for it"))),
        _ => {}
    }
    let registration = endpoint.token == wecom_openwork::TokenKind::Registration;
    match (&args.token, registration) {
        (None, true) => {
            return Err(Usage(format!("{name} takes the registration's one-time access token: give --token")))
        }
        (Some(_), false) => {
            return Err(Usage(format!("{name} is not a registration call: --token is not for it")))
        }
        _ => {}
    }
    input.token = args.token.map(wecom_openwork::Secret::from);
    let format = endpoint.response_format;
    match (&args.out, format) {
        (None, wecom_openwork::ResponseFormat::Download) => {
            return Err(Usage(format!("{name} downloads a file: give --out PATH to write it to")))
        }
        (Some(_), wecom_openwork::ResponseFormat::Json) => {
            return Err(Usage(format!("{name} answers JSON only: --out is not for it")))
        }
        _ => {}
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| Failed(format!("error: {e}")))?;
    runtime.block_on(async move {
        if let Some(path) = &args.file {
            let file = wecom_openwork::UploadFile::from_path(path).await.map_err(|e| Usage(e.to_string()))?;
            input.file = Some(file);
        }
        let app = application(&args.config).map_err(|e| Failed(format!("error: {e}")))?;
        let handles = dispatch::Handles::of(&app, args.suite.as_deref(), args.corp.as_deref());
        let reply = dispatch::call_json(&handles, endpoint, input).await.map_err(|e| match e {
            CallError::Input(message) => Usage(format!("{name}: {message}")),
            CallError::Call(ref error) if error.code().is_some() => Failed(e.to_string()),
            CallError::Call(_) => Failed(format!("error: {e}")),
            CallError::Reply(message) => Failed(format!("error: {name}: {message}")),
        })?;
        let shown = match reply {
            CallReply::Json(mut value) => {
                dispatch::redact(endpoint, &mut value);
                value
            }
            CallReply::Binary { content_type, bytes } => {
                let Some(out) = &args.out else {
                    return Err(Failed(format!(
                        "error: {name} answered {} bytes of {content_type}, not JSON: give --out PATH to keep them",
                        bytes.len()
                    )));
                };
                std::fs::write(out, &bytes).map_err(|e| Failed(format!("error: {}: {e}", out.display())))?;
                serde_json::json!({ "out": out.display().to_string(), "content_type": content_type, "size": bytes.len() })
            }
            CallReply::Download(mut download) => {
                use std::io::Write;
                let Some(out) = &args.out else {
                    return Err(Failed(format!("error: {name}: no --out to write the download to")));
                };
                let content_type = download.content_type().to_owned();
                let file_name = download.file_name().map(str::to_owned);
                let mut file =
                    std::fs::File::create(out).map_err(|e| Failed(format!("error: {}: {e}", out.display())))?;
                let mut size = 0u64;
                while let Some(chunk) = download.chunk().await.map_err(|e| Failed(format!("error: {e}")))? {
                    file.write_all(&chunk).map_err(|e| Failed(format!("error: {}: {e}", out.display())))?;
                    size += chunk.len() as u64;
                }
                file.flush().map_err(|e| Failed(format!("error: {}: {e}", out.display())))?;
                serde_json::json!({ "out": out.display().to_string(), "file_name": file_name, "content_type": content_type, "size": size })
            }
        };
        let text = serde_json::to_string_pretty(&shown).map_err(|e| Failed(format!("error: {e}")))?;
        println!("{text}");
        Ok(())
    })
}

/// The JSON of `--json`/`--query`: the text itself, or `@FILE`'s contents.
fn read_json(text: &str, flag: &str) -> Result<serde_json::Value, String> {
    let (text, source) = match text.strip_prefix('@') {
        Some(path) => (std::fs::read_to_string(path).map_err(|e| format!("{flag} {path}: {e}"))?, path),
        None => (text.to_owned(), flag),
    };
    serde_json::from_str(&text).map_err(|e| format!("{source} is not JSON: {e}"))
}

/// "unknown endpoint", with the closest names `endpoints` lists.
fn unknown_endpoint(given: &str) -> String {
    let names: Vec<String> = ENDPOINTS.iter().map(|e| format!("{}.{}", e.group, e.name)).collect();
    let method = given.rsplit('.').next().unwrap_or(given);
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .map(|name| {
            let same_method = name.rsplit('.').next() == Some(method);
            (if same_method { 0 } else { edit_distance(given, name) }, name)
        })
        .collect();
    scored.sort();
    let limit = (given.chars().count() / 3).max(3);
    let close: Vec<&str> =
        scored.iter().take_while(|(d, _)| *d <= limit).take(5).map(|(_, n)| n.as_str()).collect();
    let mut message =
        format!("unknown endpoint `{given}` (GROUP.METHOD, as `wecom-openwork endpoints` lists them)");
    if !close.is_empty() {
        message += &format!("; did you mean {}?", close.join(", "));
    }
    message
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

fn run_emulator(
    port: u16,
    config: Option<std::path::PathBuf>,
    realtime: bool,
    strict: bool,
) -> Result<(), String> {
    use wecom_openwork::clock::ManualClock;
    use wecom_openwork::emulator::{Emulator, EmulatorConfig};
    let mut config = match config {
        None => EmulatorConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let parsed = if path.extension().is_some_and(|x| x == "json") {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                toml::from_str(&text).map_err(|e| toml_error(&e, &text))
            };
            parsed.map_err(|e| format!("{}: {e}", path.display()))?
        }
    };
    config.realtime |= realtime;
    config.strict |= strict;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let emulator =
            Emulator::bind(addr, ManualClock::starting_now(), config).await.map_err(|e| e.to_string())?;
        println!("emulator listening on {}", emulator.base_uri());
        println!(
            "controls: {}/__emulator/openapi.json (stats, faults, clock/advance, suite_ticket, authorize, events, reset, …)",
            emulator.base_uri()
        );
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
        drop(emulator);
        Ok(())
    })
}

fn crypto(command: CryptoCommand) -> Result<String, String> {
    let crypt =
        |key: &KeyArgs| MsgCrypt::new(&key.token, &key.aes_key, &key.receive_id).map_err(|e| e.to_string());
    match command {
        CryptoCommand::Decrypt { key, msg_signature, timestamp, nonce, encrypt } => {
            crypt(&key)?.decrypt(&msg_signature, &timestamp, &nonce, &encrypt).map_err(|e| e.to_string())
        }
        CryptoCommand::Encrypt { key, timestamp, nonce, message, random_hex } => {
            let crypt = crypt(&key)?;
            let sealed = match random_hex {
                Some(hex) => crypt.encrypt_with_random(&message, &parse_random(&hex)?, &timestamp, &nonce),
                None => crypt.encrypt(&message, &timestamp, &nonce),
            }
            .map_err(|e| e.to_string())?;
            serde_json::to_string(&sealed).map_err(|e| e.to_string())
        }
        CryptoCommand::JsapiSignature { ticket, noncestr, timestamp, url } => {
            Ok(jsapi_signature(&ticket, &noncestr, &timestamp, &url))
        }
    }
}

fn parse_random(hex: &str) -> Result<[u8; 16], String> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return Err("--random-hex takes exactly 32 hex digits".into());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes [`wecom_openwork::OPENAPI_JSON`] to stdout; a reader that stops
/// early (`| head`) is not an error.
fn print_openapi() -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(wecom_openwork::OPENAPI_JSON.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the document: {e}");
            ExitCode::FAILURE
        }
    }
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
