//! A browser's part without a browser: a page as it arrives (status,
//! redirect, HTML), its form's hidden inputs, the redirect's parameters,
//! and WeCom's error page.

use wecom_openwork::urls::encode;

/// An HTTP client that, like a test reading each step, follows no redirect.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A page as the browser sees it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
}

impl Page {
    /// The errcode of an error page.
    pub fn errcode(&self) -> Option<i64> {
        let start = self.html.find("<span id=\"errcode\">")? + "<span id=\"errcode\">".len();
        let end = start + self.html[start..].find('<')?;
        self.html[start..end].parse().ok()
    }

    /// Asserts WeCom's error page with `code`: 400, no redirect.
    pub fn assert_refused(&self, code: i64) {
        assert_eq!(self.status, 400, "{}", self.html);
        assert!(self.location.is_none(), "an error never redirects: {:?}", self.location);
        assert!(self.html.contains("<h1 id=\"error\">"), "{}", self.html);
        assert_eq!(self.errcode(), Some(code), "{}", self.html);
    }

    /// The hidden inputs of the form, decoded.
    pub fn hidden(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let marker = "<input type=\"hidden\" name=\"";
        let mut rest = self.html.as_str();
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let name_end = rest.find('"').expect("name ends");
            let name = rest[..name_end].to_owned();
            let value_start = rest.find("value=\"").expect("a value") + "value=\"".len();
            let value_end = value_start + rest[value_start..].find('"').expect("value ends");
            found.push((name, unescape(&rest[value_start..value_end])));
        }
        found
    }

    /// The query parameters of the redirect.
    pub fn redirect_params(&self) -> Vec<(String, String)> {
        let location = self.location.as_deref().expect("a redirect");
        let url = reqwest::Url::parse(location).expect("an absolute URL");
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    pub fn redirect_param(&self, name: &str) -> Option<String> {
        self.redirect_params().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub async fn read(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|v| v.to_str().expect("ASCII location").to_owned());
    let html = response.text().await.expect("a body");
    Page { status, location, html }
}

/// `(name, value)` pairs as a query string or form body.
pub fn form(params: &[(&str, &str)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}
