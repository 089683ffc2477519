//! `wecom-openwork call`: any spec'd endpoint, JSON in and out.

use std::process::ExitCode;

use clap::Args;
use wecom_openwork::ENDPOINTS;

use crate::config::application;

pub(crate) const CALL_ABOUT: &str =
    "Call any spec'd endpoint through the token runtime and the configured store \
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
pub(crate) struct CallArgs {
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

/// Why `call` stopped: a usage error (exit 2, nothing sent) or a failure
/// (exit 1).
enum CallFailure {
    Usage(String),
    Failed(String),
}

pub(crate) fn call(args: CallArgs) -> ExitCode {
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
