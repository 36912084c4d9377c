//! The HTTP client of the tests: requests to the server and the replies they get.

use super::fixtures::User;
use super::server::server;
use serde_json::Value;
use std::time::Duration;

/// An HTTP request to the server.
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The problem `code` of an error reply.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and, for problems, the code; returns the reply for more checks.
    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Reply {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected reply: {}",
            self.text
        );
        if status >= 400 {
            assert_eq!(
                self.header("content-type"),
                Some("application/problem+json"),
                "problems are problem+json"
            );
            assert_eq!(
                self.json["type"].as_str(),
                Some(format!("https://roster.dev/problems/{code}").as_str())
            );
            assert_eq!(self.json["status"].as_u64(), Some(status as u64));
        }
        self
    }

    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected reply: {}", self.text);
        self.json
    }

    /// The fields named in `errors` of a 400.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// D1 round trips the request cost, from `Server-Timing`.
    pub fn round_trips(&self) -> u32 {
        self.timing("d1")
    }

    /// KV reads the request cost, from `Server-Timing`.
    pub fn kv_reads(&self) -> u32 {
        self.timing("kv")
    }

    /// The count in the `desc` of `Server-Timing` entry `name`: `d1;desc="2 round trips"`.
    fn timing(&self, name: &str) -> u32 {
        self.header("server-timing")
            .and_then(|v| {
                v.split(',')
                    .map(str::trim)
                    .find(|entry| entry.starts_with(&format!("{name};")))
            })
            .and_then(|entry| entry.split('"').nth(1))
            .and_then(|desc| desc.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("server-timing names the {name} cost"))
    }
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn auth(self, user: &User) -> Request {
        self.bearer(&user.token())
    }

    pub fn json(self, body: &Value) -> Request {
        self.raw("application/json", body.to_string().into_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Request {
        self.headers
            .push(("content-type".to_string(), content_type.to_string()));
        self.body = Some(body);
        self
    }

    pub fn send(self) -> Reply {
        self.send_to(&server().base)
    }

    pub fn send_to(self, base: &str) -> Reply {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(format!("{base}{}", self.path));
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let sent = match self.body {
            Some(body) => agent.run(builder.body(body).expect("request")),
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
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }
}

pub fn get(path: &str) -> Request {
    Request::new("GET", path)
}

pub fn post(path: &str) -> Request {
    Request::new("POST", path)
}

pub fn put(path: &str) -> Request {
    Request::new("PUT", path)
}

pub fn patch(path: &str) -> Request {
    Request::new("PATCH", path)
}

pub fn delete(path: &str) -> Request {
    Request::new("DELETE", path)
}
