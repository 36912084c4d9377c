//! The HTTP client of the tests: requests to the server and the replies they get. Every
//! reply is checked against the server's own `/openapi.json` before a test sees it.

use super::fixtures::User;
use super::server::server;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
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
        // Public token endpoints are limited per client address (`TOKEN_LIMITER`), and every
        // request of the tests comes from 127.0.0.1: each gets an address of its own, which
        // `wrangler dev` passes on as the client's, unless the test names one.
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("cf-connecting-ip"))
        {
            builder = builder.header("cf-connecting-ip", next_client_address());
        }
        let shared = super::server::DATABASE
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
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
        drop(shared);
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reply = Reply {
            status,
            headers,
            text,
            json,
        };
        if let Err(mismatch) = contract(base).check(&self.method, &self.path, &reply) {
            panic!("{mismatch}");
        }
        reply
    }
}

/// A client address no other request of this test binary (and so of its server) has used.
fn next_client_address() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
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

/// The OpenAPI document of one server, with every response it documents ready to check.
struct Contract {
    paths: Vec<PathItem>,
    /// `#/components/schemas/Problem`, for the answers to requests outside the API.
    problem: jsonschema::Validator,
    /// The body of each webhook event, by its type.
    webhooks: HashMap<String, jsonschema::Validator>,
}

/// A documented path and its operations.
struct PathItem {
    template: String,
    segments: Vec<Segment>,
    operations: Vec<Operation>,
}

enum Segment {
    Literal(String),
    Param,
}

struct Operation {
    /// Upper case, as sent.
    method: String,
    id: String,
    /// By the document's key: `200`, `4XX` or `default`.
    responses: Vec<(String, Response)>,
}

struct Response {
    /// By media type; the schema's validator for JSON media types.
    content: Vec<(String, Option<jsonschema::Validator>)>,
    /// `(name, required, schema)` of each documented header.
    headers: Vec<(String, bool, Value)>,
}

/// What is wrong with `body`, a webhook delivery of this binary's server, against the
/// document's webhook of its `type`.
pub fn delivery_failures(body: &str) -> Vec<String> {
    let contract = contract(&super::server().base);
    let event: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let kind = event["type"].as_str().unwrap_or("(none)");
    match contract.webhooks.get(kind) {
        Some(validator) => schema_failures(validator, body),
        None => vec![format!("event type {kind} is not documented")],
    }
}

/// The contract of each server the tests talked to, fetched and compiled on first use.
fn contract(base: &str) -> Arc<Contract> {
    static CONTRACTS: OnceLock<Mutex<HashMap<String, Arc<Contract>>>> = OnceLock::new();
    let mut contracts = CONTRACTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    contracts
        .entry(base.to_string())
        .or_insert_with(|| Arc::new(Contract::fetch(base)))
        .clone()
}

/// Compiles `schema` with the document's components beside it, so that its
/// `#/components/schemas/…` references resolve.
fn compile(schema: &Value, components: &Value, what: &str) -> jsonschema::Validator {
    let wrapper = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "allOf": [schema],
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&wrapper)
        .unwrap_or_else(|e| panic!("/openapi.json: the schema of {what} does not compile: {e}"))
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

impl Contract {
    fn fetch(base: &str) -> Contract {
        let text = ureq::get(&format!("{base}/openapi.json"))
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .unwrap_or_else(|e| panic!("fetching {base}/openapi.json: {e}"));
        let doc: Value = serde_json::from_str(&text).expect("/openapi.json is JSON");
        let components = &doc["components"];
        let mut paths = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("/openapi.json has paths") {
            let segments = template
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_string())
                    }
                })
                .collect();
            let operations = item
                .as_object()
                .expect("a path item is an object")
                .iter()
                .filter(|(key, _)| {
                    [
                        "get", "put", "post", "delete", "options", "head", "patch", "trace",
                    ]
                    .contains(&key.as_str())
                })
                .map(|(method, op)| {
                    let id = op["operationId"].as_str().unwrap_or(method).to_string();
                    let responses = op["responses"]
                        .as_object()
                        .expect("an operation has responses")
                        .iter()
                        .map(|(status, response)| {
                            let what = format!("{id} {status}");
                            let response = Response::compile(response, components, &what);
                            (status.clone(), response)
                        })
                        .collect();
                    Operation {
                        method: method.to_uppercase(),
                        id,
                        responses,
                    }
                })
                .collect();
            paths.push(PathItem {
                template: template.clone(),
                segments,
                operations,
            });
        }
        let problem = compile(
            &json!({"$ref": "#/components/schemas/Problem"}),
            components,
            "Problem",
        );
        let webhooks = doc["webhooks"]
            .as_object()
            .map(|hooks| {
                hooks
                    .iter()
                    .map(|(event, hook)| {
                        let schema =
                            &hook["post"]["requestBody"]["content"]["application/json"]["schema"];
                        (event.clone(), compile(schema, components, event))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Contract {
            paths,
            problem,
            webhooks,
        }
    }

    /// The documented path `path` (without its query) falls under: the one with the most
    /// literal segments among those that match, as `/invitations/bulk` beats
    /// `/invitations/{id}`.
    fn path_item(&self, path: &str) -> Option<&PathItem> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let segments: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .filter(|item| {
                item.segments.len() == segments.len()
                    && item.segments.iter().zip(&segments).all(|(t, s)| match t {
                        Segment::Literal(l) => l == s,
                        Segment::Param => !s.is_empty(),
                    })
            })
            .max_by_key(|item| {
                item.segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
    }

    /// Says what differs unless `reply` is one the document allows for `method path`:
    /// the operation, the response, each failure, and the reply itself. Wrangler's own
    /// `/__scheduled`, CORS preflights and the SCIM service (`/scim/v2`, whose contract is
    /// RFC 7644 and its own discovery endpoints, checked by `tests/scim.rs` and scim2-tester)
    /// are not part of the document; requests to undocumented paths must get the 404
    /// problem, undocumented methods the 405 problem with `Allow` listing the documented
    /// ones (and HEAD with GET).
    fn check(&self, method: &str, path: &str, reply: &Reply) -> Result<(), String> {
        // The console's pages are HTML for people, not operations of the API.
        if path.starts_with("/__scheduled")
            || path.starts_with("/console/")
            || roster::routes::is_scim_path(path.split('?').next().unwrap_or(path))
            || method == "OPTIONS"
        {
            return Ok(());
        }
        let Some((what, failures)) = self.failures(method, path, reply) else {
            return Ok(());
        };
        let failures: Vec<String> = failures.iter().map(|f| format!("  - {f}")).collect();
        Err(format!(
            "the reply to {method} {path} does not conform to /openapi.json: {what}\n{}\n\
             status {}, content-type {}, body:\n{}",
            failures.join("\n"),
            reply.status,
            reply.header("content-type").unwrap_or("(none)"),
            reply.text
        ))
    }

    /// What `reply` was judged as, and what is wrong with it; `None` when nothing is.
    fn failures(&self, method: &str, path: &str, reply: &Reply) -> Option<(String, Vec<String>)> {
        let Some(item) = self.path_item(path) else {
            let failures = self.problem_failures(reply, 404, method == "HEAD");
            let what = "the path is not documented: expected a 404 problem".to_string();
            return (!failures.is_empty()).then_some((what, failures));
        };
        // HEAD is answered wherever GET is: GET's status and headers, without the body.
        let head = method == "HEAD";
        let documented_as = if head { "GET" } else { method };
        let Some(operation) = item.operations.iter().find(|o| o.method == documented_as) else {
            let mut failures = self.problem_failures(reply, 405, head);
            let mut documented: Vec<&str> =
                item.operations.iter().map(|o| o.method.as_str()).collect();
            if documented.contains(&"GET") {
                documented.push("HEAD");
            }
            documented.sort_unstable();
            let mut allowed: Vec<&str> = reply
                .header("allow")
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .collect();
            allowed.sort_unstable();
            if allowed != documented {
                failures.push(format!(
                    "Allow is {:?}, the documented methods of {} are {documented:?}",
                    reply.header("allow").unwrap_or("(none)"),
                    item.template
                ));
            }
            let what = format!(
                "{method} is not documented for {}: expected a 405 problem",
                item.template
            );
            return (!failures.is_empty()).then_some((what, failures));
        };
        let what = format!("operation {} ({method} {})", operation.id, item.template);
        let status = reply.status.to_string();
        let range = format!("{}XX", &status[..1]);
        let Some((key, response)) = [status.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|key| operation.responses.iter().find(|(k, _)| k == key))
        else {
            let documented: Vec<&str> = operation
                .responses
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            let failure = format!("status {status} is not documented (documented: {documented:?})");
            return Some((what, vec![failure]));
        };
        let failures = if head {
            response.head_failures(reply)
        } else {
            response.failures(reply)
        };
        (!failures.is_empty()).then(|| (format!("{what}, response {key}"), failures))
    }

    /// What is wrong with `reply` as the problem of status `status` (without its body, for
    /// a HEAD).
    fn problem_failures(&self, reply: &Reply, status: u16, head: bool) -> Vec<String> {
        let mut failures = Vec::new();
        if reply.status != status {
            failures.push(format!("status {}, expected {status}", reply.status));
        }
        if media_type(reply).as_deref() != Some("application/problem+json") {
            failures.push("content type is not application/problem+json".to_string());
        }
        if head {
            if !reply.text.is_empty() {
                failures.push("a body in the answer to HEAD".to_string());
            }
        } else {
            failures.extend(schema_failures(&self.problem, &reply.text));
        }
        failures
    }
}

impl Response {
    fn compile(response: &Value, components: &Value, what: &str) -> Response {
        let content = response["content"]
            .as_object()
            .map(|content| {
                content
                    .iter()
                    .map(|(media_type, media)| {
                        let validator = (is_json(media_type) && media.get("schema").is_some())
                            .then(|| compile(&media["schema"], components, what));
                        (media_type.to_ascii_lowercase(), validator)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let headers = response["headers"]
            .as_object()
            .map(|headers| {
                headers
                    .iter()
                    .map(|(name, header)| {
                        let required = header["required"].as_bool().unwrap_or(false);
                        (name.clone(), required, header["schema"].clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Response { content, headers }
    }

    /// What is wrong with `reply` as this response: its content type, its body, its headers.
    fn failures(&self, reply: &Reply) -> Vec<String> {
        let mut failures = Vec::new();
        if self.content.is_empty() {
            if !reply.text.is_empty() {
                failures.push("a body where the document has none".to_string());
            }
        } else {
            let documented: Vec<&str> = self.content.iter().map(|(m, _)| m.as_str()).collect();
            let sent = media_type(reply);
            match self
                .content
                .iter()
                .find(|(m, _)| Some(m.as_str()) == sent.as_deref())
            {
                None => failures.push(format!(
                    "content type {}, the document has {documented:?}",
                    reply.header("content-type").unwrap_or("(none)")
                )),
                Some((_, Some(validator))) => {
                    failures.extend(schema_failures(validator, &reply.text))
                }
                Some((_, None)) => {}
            }
        }
        failures.extend(self.header_failures(reply));
        failures
    }

    /// What is wrong with `reply` as the answer to a HEAD of this GET response.
    fn head_failures(&self, reply: &Reply) -> Vec<String> {
        let mut failures = self.header_failures(reply);
        if !reply.text.is_empty() {
            failures.push("a body in the answer to HEAD".to_string());
        }
        failures
    }

    fn header_failures(&self, reply: &Reply) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, required, schema) in &self.headers {
            match reply.header(name) {
                None if *required => failures.push(format!("header {name} is missing")),
                None => {}
                Some(value) => {
                    let integer = schema["type"] == "integer";
                    if integer && value.parse::<i64>().is_err() {
                        failures.push(format!("header {name}: {value:?} is not an integer"));
                    }
                }
            }
        }
        failures
    }
}

/// The reply's media type, lower case, without parameters.
fn media_type(reply: &Reply) -> Option<String> {
    reply
        .header("content-type")
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

/// Where `text` is not JSON, or breaks the schema of `validator`.
fn schema_failures(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let body: Value = match serde_json::from_str(text) {
        Ok(body) => body,
        Err(e) => return vec![format!("the body is not JSON: {e}")],
    };
    validator
        .iter_errors(&body)
        .map(|e| {
            format!(
                "at body{}: {e} (schema {})",
                e.instance_path().as_str(),
                e.schema_path().as_str()
            )
        })
        .collect()
}
