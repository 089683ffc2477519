//! `wecom-openwork endpoints` and `openapi`: what the specs hold.

use std::process::ExitCode;

use wecom_openwork::ENDPOINTS;

/// Writes [`wecom_openwork::OPENAPI_JSON`] to stdout; a reader that stops
/// early (`| head`) is not an error.
pub(crate) fn print_openapi() -> ExitCode {
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

pub(crate) fn print_endpoints(json: bool) {
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
