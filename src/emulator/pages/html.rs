//! What every page shares: HTML escaping, the card layout, WeCom's error
//! page, the redirect back to the app, the parameters of a link or form, and
//! the checks every link's `redirect_uri` and `state` get.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The largest form body a page reads; a larger one is refused (40035).
pub(super) const MAX_FORM_BYTES: usize = 64 * 1024;
/// The longest `redirect_uri` accepted.
const MAX_REDIRECT_BYTES: usize = 2048;
/// WeCom's limit on `state`.
const MAX_STATE_BYTES: usize = 128;
/// The longest `agentid` accepted.
const MAX_AGENTID_DIGITS: usize = 20;
/// The longest corp id, userid or app id accepted.
const MAX_ID_BYTES: usize = 64;

/// `text` safe inside HTML text and double-quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Why a page refuses: WeCom's errcode and a bilingual message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) errcode: i64,
    pub(super) message: String,
}

impl Refusal {
    pub(super) fn new(errcode: i64, message: impl Into<String>) -> Refusal {
        Refusal { errcode, message: message.into() }
    }
}

const STYLE: &str = "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#f2f3f5;margin:0;color:#1f2329}\
.card{max-width:480px;margin:48px auto;background:#fff;border-radius:8px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px}\
h1{font-size:20px;margin:0 0 16px}\
label{display:block;margin:14px 0 6px;color:#646a73;font-size:14px}\
select,input[type=text]{width:100%;box-sizing:border-box;padding:8px;border:1px solid #dee0e3;border-radius:4px;font-size:14px}\
fieldset{border:1px solid #dee0e3;border-radius:4px;margin:14px 0 0;padding:8px 12px}\
legend{color:#646a73;font-size:14px}\
label.check{display:flex;gap:8px;align-items:center;margin:6px 0;color:#1f2329}\
button{margin-top:24px;width:100%;padding:10px;border:0;border-radius:4px;background:#0082EF;color:#fff;font-size:16px;cursor:pointer}\
.badge{display:inline-block;padding:2px 8px;border-radius:4px;background:#fff3e0;color:#e65100;font-size:12px}\
.muted{color:#8f959e;font-size:13px}\
code{background:#f2f3f5;padding:1px 4px;border-radius:3px}\
#error{color:#d83931}";

/// A page: `title` (already bilingual, not yet escaped) and `body` (HTML).
pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
<style>{STYLE}</style></head><body><main class=\"card\">{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// WeCom's error page: 400, the errcode in `#errcode`, never a redirect.
pub(super) fn error_page(refusal: &Refusal) -> Response {
    let body = format!(
        "<h1 id=\"error\">出错了 / Something went wrong</h1>\
<p>错误码 / errcode: <span id=\"errcode\">{}</span></p><p id=\"errmsg\">{}</p>",
        refusal.errcode,
        escape(&refusal.message)
    );
    page(StatusCode::BAD_REQUEST, "出错了 / Something went wrong", &body)
}

/// A page's answer, or WeCom's error page for its refusal.
pub(super) fn or_error_page(answer: Result<Response, Refusal>) -> Response {
    answer.unwrap_or_else(|refusal| error_page(&refusal))
}

/// `302 Found` to `redirect_uri` with `params` added to its query (values
/// percent-encoded; an empty value is left out).
pub(super) fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = reqwest::Url::parse(redirect_uri) else {
        return error_page(&Refusal::new(40035, "不合法的redirect_uri / invalid redirect_uri"));
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params.iter().filter(|(_, value)| !value.is_empty()) {
            query.append_pair(name, value);
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => error_page(&Refusal::new(40035, "不合法的redirect_uri / invalid redirect_uri")),
    }
}

/// The parameters of a link (its query) or of a posted form, in order.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The query of a link.
    pub(super) fn of_query(uri: &Uri) -> Params {
        Params(uri.query().map(crate::urls::parse_query).unwrap_or_default())
    }

    /// A form body (`application/x-www-form-urlencoded`), at most
    /// [`MAX_FORM_BYTES`].
    pub(super) async fn of_form(body: Body) -> Result<Params, Refusal> {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| Refusal::new(40035, "请求过大 / the form is too large"))?;
        Ok(Params(crate::urls::parse_query(&String::from_utf8_lossy(&bytes))))
    }

    /// The first value of `name`, if given and not empty.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `name` (checkboxes), in order.
    pub(super) fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }
}

/// A hidden input carrying a link's parameter into its form.
pub(super) fn hidden(name: &str, value: Option<&str>) -> String {
    value.map_or_else(String::new, |value| {
        format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value))
    })
}

/// A `<select>` of `options` (value, label), `selected` chosen.
pub(super) fn select(name: &str, options: &[(String, String)], selected: Option<&str>) -> String {
    let mut html = format!("<select name=\"{0}\" id=\"{0}\">", escape(name));
    for (value, label) in options {
        let mark = if selected == Some(value.as_str()) { " selected" } else { "" };
        html.push_str(&format!("<option value=\"{}\"{mark}>{}</option>", escape(value), escape(label)));
    }
    html.push_str("</select>");
    html
}

/// WeCom's rule for `state`: letters and digits, at most 128 bytes (40035).
pub(super) fn check_state(state: Option<&str>) -> Result<(), Refusal> {
    match state {
        Some(s) if s.len() > MAX_STATE_BYTES || !s.bytes().all(|b| b.is_ascii_alphanumeric()) => Err(
            Refusal::new(40035, "不合法的参数: state 只能是字母和数字，最长128字节 / invalid state: letters and digits, at most 128 bytes"),
        ),
        _ => Ok(()),
    }
}

/// A `redirect_uri`: given (41010), an absolute http(s) URL of sane length
/// (40035), on `domain` or a subdomain of it when one is configured (50001).
pub(super) fn check_redirect<'a>(
    redirect: Option<&'a str>,
    domain: Option<&str>,
) -> Result<&'a str, Refusal> {
    let Some(redirect) = redirect else {
        return Err(Refusal::new(41010, "缺少redirect_uri参数 / redirect_uri is missing"));
    };
    let invalid =
        || Refusal::new(40035, "不合法的redirect_uri / redirect_uri must be an absolute http(s) URL");
    if redirect.len() > MAX_REDIRECT_BYTES {
        return Err(invalid());
    }
    let url = reqwest::Url::parse(redirect).map_err(|_| invalid())?;
    let host = match url.host_str() {
        Some(host) if matches!(url.scheme(), "http" | "https") && !host.is_empty() => {
            host.to_ascii_lowercase()
        }
        _ => return Err(invalid()),
    };
    if let Some(domain) = domain {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let within =
            host == domain || host.strip_suffix(domain.as_str()).is_some_and(|rest| rest.ends_with('.'));
        if !within {
            return Err(Refusal::new(
                50001,
                "redirect_url未登记可信域名 / redirect_uri is not within the app's trusted domain",
            ));
        }
    }
    Ok(redirect)
}

/// An `agentid`, when given: digits only, at most 20 (40056).
pub(super) fn check_agentid(agentid: Option<&str>) -> Result<Option<&str>, Refusal> {
    match agentid {
        Some(a) if a.len() > MAX_AGENTID_DIGITS || !a.bytes().all(|b| b.is_ascii_digit()) => {
            Err(Refusal::new(40056, "不合法的agentid / invalid agentid"))
        }
        _ => Ok(agentid),
    }
}

/// A well-formed id (corp id, userid, app id): 1 to 64 bytes of letters,
/// digits and `_ - . @`.
pub(super) fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ID_BYTES
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn redirect_domains_match_the_host_or_a_subdomain() {
        fn ok(uri: &str) -> Result<&str, i64> {
            check_redirect(Some(uri), Some("example.com")).map_err(|r| r.errcode)
        }
        assert_eq!(ok("https://example.com/cb"), Ok("https://example.com/cb"));
        assert!(ok("http://app.Example.com/cb").is_ok());
        assert_eq!(ok("https://badexample.com/cb"), Err(50001));
        assert_eq!(ok("https://example.com.evil.net/cb"), Err(50001));
        assert_eq!(ok("https://example.com@evil.net/cb"), Err(50001));
        assert_eq!(ok("javascript:alert(1)"), Err(40035));
        assert_eq!(ok("/relative"), Err(40035));
        assert_eq!(check_redirect(None, None).map_err(|r| r.errcode), Err(41010));
    }

    #[test]
    fn state_is_letters_and_digits_up_to_128_bytes() {
        assert!(check_state(Some(&"a".repeat(128))).is_ok());
        assert_eq!(check_state(Some(&"a".repeat(129))).map_err(|r| r.errcode), Err(40035));
        assert_eq!(check_state(Some("a b")).map_err(|r| r.errcode), Err(40035));
        assert!(check_state(None).is_ok());
    }
}
