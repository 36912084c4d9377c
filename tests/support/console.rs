//! The console as a browser without scripts meets it: links asked for through the API,
//! the session cookie, pages read and forms posted with (or without) the CSRF token. No
//! redirect is followed, so that tests see each 303.

use super::client::{post, Reply};
use super::fixtures::User;
use super::server::server;
use serde_json::{json, Value};
use std::time::Duration;

/// A console link for `user` into `slug`.
pub fn console_link(user: &User, slug: &str) -> String {
    post(&format!("/v1/orgs/{slug}/console-links"))
        .auth(user)
        .json(&json!({}))
        .send()
        .ok(201)["url"]
        .as_str()
        .expect("a url")
        .to_string()
}

/// The path of a URL of the server.
pub fn path_of(url: &str) -> String {
    url.strip_prefix(&server().base)
        .unwrap_or_else(|| panic!("{url} is not the server's"))
        .to_string()
}

/// `method path`, with `cookie` and a urlencoded `form`, without following redirects.
pub fn raw(method: &str, path: &str, cookie: Option<&str>, form: Option<&[(&str, &str)]>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", server().base));
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    let sent = match form {
        Some(form) => {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            agent.run(
                builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.into_bytes())
                    .expect("request"),
            )
        }
        None => agent.run(builder.body(()).expect("request")),
    };
    let mut response = sent.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        text,
        json: Value::Null,
    }
}

/// A console session: its cookie, and the CSRF token its pages carry.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub slug: String,
}

/// The `name=value` of a `Set-Cookie` header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The CSRF token in a page's forms.
pub fn csrf_of(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

impl Session {
    /// Enters `slug`'s console as `user` through a fresh link.
    pub fn open(user: &User, slug: &str) -> Session {
        let entered = raw("GET", &path_of(&console_link(user, slug)), None, None);
        assert_eq!(entered.status, 303, "{}", entered.text);
        let cookie = cookie_pair(entered.header("set-cookie").expect("a cookie"));
        let page = raw(
            "GET",
            &format!("/console/{slug}/members"),
            Some(&cookie),
            None,
        );
        assert_eq!(page.status, 200, "{}", page.text);
        Session {
            csrf: csrf_of(&page.text).expect("a csrf token"),
            cookie,
            slug: slug.to_string(),
        }
    }

    /// `GET /console/{slug}/{page}`
    pub fn page(&self, page: &str) -> Reply {
        raw(
            "GET",
            &format!("/console/{}/{page}", self.slug),
            Some(&self.cookie),
            None,
        )
    }

    /// Posts `form` and this session's CSRF token to `/console/{slug}/{action}`.
    pub fn submit(&self, action: &str, form: &[(&str, &str)]) -> Reply {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        raw(
            "POST",
            &format!("/console/{}/{action}", self.slug),
            Some(&self.cookie),
            Some(&fields),
        )
    }
}
