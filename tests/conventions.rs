//! The conventions every endpoint shares: authentication, problem details, body limits,
//! methods, request ids, CORS, `/health` and `/openapi.json`.

mod support;

use roster::routes::{Method, ROUTES};
use serde_json::{json, Value};
use support::*;

#[test]
fn health_reports_both_stores() {
    let reply = get("/health").send();
    assert_eq!(
        reply.ok(200),
        json!({"status": "ok", "d1": "ok", "kv": "ok"})
    );
}

#[test]
fn every_response_carries_a_request_id_and_echoes_the_callers() {
    let reply = get("/health").send();
    let generated = reply.header("x-request-id").expect("x-request-id");
    assert!(!generated.is_empty());
    let reply = get("/health").header("x-request-id", "req-abc-123").send();
    assert_eq!(reply.header("x-request-id"), Some("req-abc-123"));
    // Also on problems.
    let reply = get("/nope").header("x-request-id", "req-404").send();
    assert_eq!(reply.header("x-request-id"), Some("req-404"));
    // A request id that is not short visible ASCII is replaced.
    let reply = get("/health")
        .header("x-request-id", &"x".repeat(300))
        .send();
    assert_ne!(reply.header("x-request-id"), Some("x".repeat(300).as_str()));
}

#[test]
fn unknown_paths_are_404_problems() {
    for path in ["/", "/nope", "/v1", "/v1/orgs/acme/nonsense"] {
        get(path).send().expect(404, "not_found");
    }
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let reply = Request::new("PUT", "/v1/orgs")
        .send()
        .expect(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    let reply = post("/health").send().expect(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    let reply = post("/v1/orgs/some-org")
        .send()
        .expect(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
}

/// Sends a request with `method` as it is over a connection of its own (the harness's
/// client refuses methods it does not know), and returns the status line, the headers
/// (names lower-cased) and the body.
fn send_raw(method: &str, path: &str, user: &User) -> (String, Vec<(String, String)>, String) {
    use std::io::{Read, Write};
    let host = server().base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&host).expect("the server listens");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        user.token()
    )
    .expect("the request is sent");
    // The dev server keeps the connection open whatever the request says, so read the
    // head, then exactly the body its Content-Length announces.
    let mut reader = std::io::BufReader::new(stream);
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).expect("the server answers");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader
        .read_exact(&mut body)
        .expect("the whole body arrives");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A method the API does not know is refused on every path, never taken for another one
/// (it once was answered as a GET).
#[test]
fn unknown_methods_are_405_and_never_reach_a_handler() {
    let user = User::new("methods");
    let slug = create_org(&user, "free");
    let org = format!("/v1/orgs/{slug}");
    for method in ["QUERY", "PROPFIND", "SEARCH", "PURGE", "MKCOL"] {
        for (path, allow) in [
            ("/health", "GET, HEAD"),
            ("/v1/orgs", "GET, HEAD, POST"),
            (org.as_str(), "GET, HEAD, PATCH, DELETE"),
        ] {
            let (status, headers, body) = send_raw(method, path, &user);
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            assert!(
                status.starts_with("HTTP/1.1 405"),
                "{method} {path}: {status}\n{body}"
            );
            assert_eq!(header("allow"), Some(allow), "{method} {path}");
            assert_eq!(header("content-type"), Some("application/problem+json"));
            assert!(body.contains(r#""code":"method_not_allowed""#), "{body}");
        }
    }
    // A method the runtime itself does not recognize is refused before Roster sees it.
    let (status, _, body) = send_raw("FOO", &org, &user);
    assert!(
        status.starts_with("HTTP/1.1 405") || status.starts_with("HTTP/1.1 501"),
        "{status}\n{body}"
    );
}

/// `HEAD` is answered as `GET` is, without the body (RFC 9110 9.3.2).
#[test]
fn head_answers_like_get_without_a_body() {
    let user = User::new("head");
    let slug = create_org(&user, "free");
    let org = format!("/v1/orgs/{slug}");
    for (path, authenticated) in [
        ("/health", false),
        ("/openapi.json", false),
        (org.as_str(), true),
        ("/v1/orgs?limit=1", true),
        (org.as_str(), false),
        ("/v1/orgs/no-such-org-here", true),
    ] {
        let (mut get_request, mut head_request) = (get(path), Request::new("HEAD", path));
        if authenticated {
            get_request = get_request.auth(&user);
            head_request = head_request.auth(&user);
        }
        let got = get_request.send();
        let head = head_request.send();
        assert_eq!(head.status, got.status, "HEAD {path}");
        assert_eq!(head.text, "", "HEAD {path} has no body");
        for name in ["content-type", "cache-control", "www-authenticate", "allow"] {
            assert_eq!(head.header(name), got.header(name), "HEAD {path}: {name}");
        }
    }
    let reply = Request::new("HEAD", &format!("{org}/webhooks/x1")).send();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("DELETE"));
    assert_eq!(reply.text, "");
}

#[test]
fn missing_or_invalid_credentials_are_401_with_www_authenticate() {
    let user = User::new("auth");
    let mut claims = user.claims();
    let expired = {
        claims["exp"] = json!(now() - 120);
        mint(&claims)
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("not bearer", Some(format!("Basic {}", user.token()))),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        ("expired", Some(format!("Bearer {expired}"))),
        (
            "wrong secret",
            Some(format!(
                "Bearer {}",
                mint_with(&user.claims(), "another-secret-0123456789abcdefghijkl")
            )),
        ),
        (
            "wrong issuer",
            Some(format!(
                "Bearer {}",
                mint(&with(&user, "iss", json!("https://evil")))
            )),
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                mint(&with(&user, "aud", json!("other")))
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {}", unsigned(&user.claims()))),
        ),
        ("malformed api key", Some("Bearer rk_short".into())),
        (
            "unknown api key",
            Some("Bearer rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        ),
    ];
    for (case, header) in cases {
        let mut request = get("/v1/me");
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let reply = request.send();
        assert_eq!(reply.status, 401, "{case}: {}", reply.text);
        assert_eq!(reply.code(), "unauthenticated", "{case}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{case}"
        );
        // The detail never echoes the token.
        if let Some(header) = header {
            let token = header.split(' ').nth(1).unwrap_or("");
            assert!(
                token.len() < 8 || !reply.text.contains(token),
                "{case} leaks the token"
            );
        }
    }
}

const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Who is not authenticated learns that first: a write with an invalid body (or none) and
/// no valid credentials is 401 on every route of the table, never a 400 or 415 about the
/// body; a signed-in user who is not a member of the organization gets its 404 before that.
#[test]
fn credentials_are_judged_before_the_body_on_every_write() {
    let owner = User::new("owner");
    let stranger = User::new("stranger");
    let slug = create_org(&owner, "business");
    let bad_bodies: [(&str, &[u8]); 3] = [
        (
            "application/json",
            br#"{"bogus": true, "name": 5, "level": null}"#,
        ),
        ("application/json", b"{not json"),
        ("text/plain", b"hello"),
    ];
    let credentials = [
        None,
        Some("Bearer not.a.jwt".to_string()),
        Some("Bearer rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string()),
    ];
    let writes: Vec<_> = ROUTES
        .iter()
        .filter(|(method, _, _)| matches!(method, Method::Post | Method::Put | Method::Patch))
        .collect();
    // One thread per route keeps the run short; each thread's requests stay in order.
    in_parallel(writes.len(), |i| {
        let (method, pattern, _) = writes[i];
        let path = pattern
            .split('/')
            .map(|s| match s {
                "{slug}" => slug.as_str(),
                s if s.starts_with('{') => "zzz-not-there",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        for (content_type, body) in bad_bodies {
            for authorization in &credentials {
                let mut request = Request::new(method.as_str(), &path);
                if let Some(authorization) = authorization {
                    request = request.header("authorization", authorization);
                }
                let reply = request.raw(content_type, body.to_vec()).send();
                // The SCIM service answers in SCIM's error format, which has no `code`.
                let code = match roster::routes::is_scim_path(pattern) {
                    true if reply.json["schemas"][0] == SCIM_ERROR => "unauthenticated",
                    true => "",
                    false => reply.code(),
                };
                assert_eq!(
                    (reply.status, code),
                    (401, "unauthenticated"),
                    "{} {pattern} ({content_type}, {authorization:?}): {}",
                    method.as_str(),
                    reply.text
                );
            }
            if pattern.contains("{slug}") {
                let reply = Request::new(method.as_str(), &path)
                    .auth(&stranger)
                    .raw(content_type, body.to_vec())
                    .send();
                assert_eq!(
                    (reply.status, reply.code()),
                    (404, "not_found"),
                    "{} {pattern} ({content_type}) by a stranger: {}",
                    method.as_str(),
                    reply.text
                );
            }
        }
    });
}

/// The same for the query of a list.
#[test]
fn credentials_are_judged_before_the_query_of_a_list() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    for list in [
        "members",
        "invitations",
        "resources",
        "api-keys",
        "webhooks",
        "audit-log",
    ] {
        for query in ["limit=0", "cursor=not-a-cursor", "status=nope"] {
            let path = format!("/v1/orgs/{slug}/{list}?{query}");
            get(&path).send().expect(401, "unauthenticated");
            get(&path)
                .bearer("rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .send()
                .expect(401, "unauthenticated");
        }
    }
    get(&format!("/v1/orgs/{slug}/billing/ledger?limit=0"))
        .send()
        .expect(401, "unauthenticated");
}

fn with(user: &User, claim: &str, value: Value) -> Value {
    let mut claims = user.claims();
    claims[claim] = value;
    claims
}

fn unsigned(claims: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[test]
fn bodies_must_be_json_objects_within_64_kib() {
    let user = User::new("bodies");
    post("/v1/orgs")
        .auth(&user)
        .raw("text/plain", b"name=x".to_vec())
        .send()
        .expect(415, "unsupported_media_type");
    post("/v1/orgs")
        .auth(&user)
        .raw("application/json", b"{\"name\": ".to_vec())
        .send()
        .expect(400, "invalid_request");
    post("/v1/orgs")
        .auth(&user)
        .raw("application/json", b"[1, 2]".to_vec())
        .send()
        .expect(400, "invalid_request");
    let big = json!({"name": "x".repeat(70 * 1024)});
    post("/v1/orgs")
        .auth(&user)
        .json(&big)
        .send()
        .expect(413, "payload_too_large");
}

#[test]
fn validation_names_every_offending_field() {
    let user = User::new("fields");
    let reply = post("/v1/orgs")
        .auth(&user)
        .json(&json!({"name": 42, "slug": "-bad-", "plan": "gold", "colour": "red"}))
        .send()
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["colour", "name", "plan", "slug"]);
    let reply = post("/v1/orgs")
        .auth(&user)
        .json(&json!({}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["name"]);
}

#[test]
fn list_parameters_are_validated() {
    let user = User::new("lists");
    for query in ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor"] {
        let reply = get(&format!("/v1/orgs?{query}"))
            .auth(&user)
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields().len(), 1, "{query}");
    }
    // What a JSON Schema integer from 1 to 100 may look like in a query, and parameters
    // the API does not know, are fine.
    for query in [
        "limit=050",
        "limit=%2B5",
        "limit=5.0",
        "unknown=1&limit=2",
        "other=",
    ] {
        get(&format!("/v1/orgs?{query}")).auth(&user).send().ok(200);
    }
}

#[test]
fn server_timing_counts_d1_round_trips() {
    let reply = get("/health").send();
    assert_eq!(reply.round_trips(), 1);
    let reply = get("/nope").send();
    assert_eq!(reply.round_trips(), 0);
    let user = User::new("timing");
    let slug = create_org(&user, "free");
    let reply = get(&format!("/v1/orgs/{slug}")).auth(&user).send();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.round_trips(),
        1,
        "an authenticated read is one round trip"
    );
}

#[test]
fn every_answer_that_read_the_database_carries_a_bookmark_to_send_back() {
    let user = User::new("bookmarks");
    // A write starts at the primary; its bookmark is at least as fresh as the write.
    let created = post("/v1/orgs")
        .auth(&user)
        .json(&json!({"name": "Bookmarks", "slug": unique("bookmarks")}))
        .send();
    assert_eq!(created.status, 201);
    let written = created
        .header("roster-bookmark")
        .expect("a bookmark")
        .to_string();
    let slug = created.json["slug"].as_str().unwrap().to_string();
    // A read sent with it sees the write.
    let read = get(&format!("/v1/orgs/{slug}"))
        .auth(&user)
        .header("roster-bookmark", &written)
        .send();
    assert_eq!(read.status, 200);
    let later = read.header("roster-bookmark").expect("a bookmark");
    assert!(later >= written.as_str(), "{later} < {written}");
    // Without one, a read starts wherever is nearest, and says where it got to.
    let read = get(&format!("/v1/orgs/{slug}")).auth(&user).send();
    assert!(read.header("roster-bookmark").is_some());
    // A bookmark the database never gave is the client's mistake.
    let refused = get(&format!("/v1/orgs/{slug}"))
        .auth(&user)
        .header("roster-bookmark", "not-a-bookmark")
        .send()
        .expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["roster-bookmark"]);
    // What never reached the database has none.
    assert!(get("/nope").send().header("roster-bookmark").is_none());
}

#[test]
fn cors_is_open_to_the_app_origin_only() {
    let reply = Request::new("OPTIONS", "/v1/orgs")
        .header("origin", "https://app.test.roster")
        .header("access-control-request-method", "POST")
        .send();
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://app.test.roster")
    );
    assert!(reply
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("authorization")));
    let reply = Request::new("OPTIONS", "/v1/orgs")
        .header("origin", "https://evil.example")
        .send();
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let reply = get("/health")
        .header("origin", "https://app.test.roster")
        .send();
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://app.test.roster")
    );
}

#[test]
fn openapi_document_is_served_and_lists_the_api() {
    let doc = get("/openapi.json").send().ok(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/health", "/v1/me", "/v1/orgs", "/v1/orgs/{slug}"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}

/// Every documented operation answers with its route (not a 404 for the path or a 405),
/// whatever the credentials: the document and the router agree.
#[test]
fn every_documented_operation_is_routed() {
    let doc = get("/openapi.json").send().ok(200);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "zzz-not-there"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let reply = Request::new(&method.to_uppercase(), &concrete).send();
            assert_ne!(reply.status, 405, "{method} {path}");
            assert!(
                !reply.text.contains("No such path"),
                "{method} {path} is not routed"
            );
        }
    }
}
