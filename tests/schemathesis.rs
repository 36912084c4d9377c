//! Schemathesis against the real Worker: every operation of `/openapi.json` is called with
//! generated requests, valid and invalid, and every answer is checked against the document
//! (status, content type, headers, body schema); invalid requests must be refused, a
//! missing `Authorization` must be 401, undocumented methods 405, and no answer a 5xx.
//!
//! The server is the harness's own (fresh state, `ALLOW_HTTP_WEBHOOKS=true`). Before the
//! run, one organization is seeded with everything its paths can name — members, resources,
//! pending invitations, an API key, a SCIM token, a webhook — and every path parameter is
//! pinned to a seeded object, since random ids would only ever reach 404. Operations that would wreck
//! the seeded organization for the others (deleting it, changing its slug or plan,
//! transferring it) are pinned to organizations of their own. A few body fields that name
//! objects (`user_id`, `resource_id`) get a seeded value half of the time, and usage is
//! recorded under one fixed `Idempotency-Key`. The configuration is written to
//! `schemathesis.toml` in the server's state directory, beside the reports (JUnit, and a
//! VCR cassette of every request and answer) in `schemathesis/`.
//!
//! Schemathesis (pinned in `scripts/setup.sh`) runs from the project's `.venv`. The run is
//! reproducible (a fixed seed, one worker, no example database), bounded by the examples
//! per operation and, as a backstop, by a deadline after which it is stopped and the test
//! fails.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Examples per operation in the fuzzing phase (the coverage phase derives its own from
/// the schemas, and the stateful phase has its own bounds).
const MAX_EXAMPLES: u32 = 100;
/// The run is stopped, and the test fails, after this long.
const DEADLINE: Duration = Duration::from_secs(420);

/// The checks run on every answer: beyond conformance of the answers themselves, invalid
/// requests must be refused, a missing `Authorization` must be 401, authentication must not
/// be ignored, and methods the document does not list must get 405 with `Allow`.
/// `positive_data_acceptance` is off: it counts every 4xx to a well-formed request as a
/// failure, and here many are the contract (404 for another's id, 409 for a taken slug, 410
/// for an invitation already used by an earlier example).
const CHECKS: [&str; 10] = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
];

/// A value for one parameter of an operation: always this one, or now and then one of
/// these (for body fields, where the rest of the time the value is generated).
enum Bind {
    Always(String),
    Often(Vec<String>),
}

/// What the run may name: the seeded objects, by the parameters that reach them.
struct Seeded {
    /// The owner's JWT, sent as the bearer token.
    token: String,
    /// The defaults of `{slug}` and `{user_id}`: the seeded organization and a member of it.
    slug: String,
    member: String,
    /// `(operationId, [(parameter, value)])` for the operations that need other values;
    /// body fields are named `body.<field>`.
    pinned: Vec<(&'static str, Vec<(&'static str, Bind)>)>,
}

#[test]
fn the_api_conforms_to_its_openapi_document() {
    // Schemathesis sends every request from one address, many of them to the public token
    // endpoints: their limit is raised for this run (tests/invite_links.rs tests it).
    let server = server_with(Options {
        token_limit: Some(1_000_000),
        ..Options::default()
    });
    let schemathesis = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: run `sh scripts/setup.sh`",
        schemathesis.display()
    );
    let seeded = seed();
    let dir = server.state_dir();
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, config_toml(&seeded, &dir.join("schemathesis")))
        .expect("writing schemathesis.toml");

    let output = dir.join("schemathesis.log");
    let log = std::fs::File::create(&output).expect("schemathesis.log");
    let started = Instant::now();
    let mut child = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args(["run", "--no-color", "--checks", &CHECKS.join(",")])
        .arg(format!("{}/openapi.json", server.base))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("schemathesis.log"))
        .stderr(log)
        .spawn()
        .expect("schemathesis starts");
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for schemathesis") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let text = std::fs::read_to_string(&output).unwrap_or_default();
    println!(
        "schemathesis ran {:.0?}; configuration {}, reports in {}:\n{text}",
        started.elapsed(),
        config.display(),
        dir.join("schemathesis").display()
    );
    match status {
        Some(status) => assert!(status.success(), "schemathesis found failures (above)"),
        None => panic!("schemathesis did not finish within {DEADLINE:?} (output above)"),
    }
}

/// A token for `user` that outlives the run (the harness's expire in ten minutes).
fn lasting_token(user: &User) -> String {
    let mut claims = user.claims();
    claims["exp"] = json!(now() + 3 * 3600);
    mint(&claims)
}

fn created(path: &str, by: &User, body: Value) -> String {
    post(path).auth(by).json(&body).send().ok(201)["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// The seeded world: an owner with a business organization holding two members, two
/// resources, three pending invitations, an API key, a SCIM token and a webhook;
/// organizations of their own for the operations that would wreck it; four invitations to the owner from
/// someone else's organizations, to accept and decline by id and by token; and invite links
/// to preview, revoke, and join someone else's organization through.
fn seed() -> Seeded {
    let owner = User::new("Owner");
    let slug = create_org(&owner, "business");
    let base = format!("/v1/orgs/{slug}");
    let member = add_member(&owner, &slug, "member");
    let leaver = add_member(&owner, &slug, "member");
    let resource = created(
        &format!("{base}/resources"),
        &owner,
        json!({"name": "Site", "kind": "property"}),
    );
    let doomed_resource = created(
        &format!("{base}/resources"),
        &owner,
        json!({"name": "Old site"}),
    );
    let invitation = |role: &str| {
        let email = format!("{}@example.com", unique("invitee"));
        invite(&owner, &slug, &email, role)
    };
    let (shown, preview_token) = invitation("member");
    let (canceled, _) = invitation("viewer");
    let (resent, _) = invitation("member");
    let key = created(
        &format!("{base}/api-keys"),
        &owner,
        json!({"name": "Backend", "scopes": ["members:read"]}),
    );
    let scim_token = created(
        &format!("{base}/scim-tokens"),
        &owner,
        json!({"name": "Identity provider"}),
    );
    let hook = created(
        &format!("{base}/webhooks"),
        &owner,
        json!({"url": support::hooks::hooks().url("schemathesis"), "events": ["member.added"]}),
    );
    let own_org = |plan: &str| create_org(&owner, plan);
    let transferred = own_org("business");
    let heir = add_member(&owner, &transferred, "member");

    let other = User::new("Other owner");
    let to_owner = || {
        let org = create_org(&other, "pro");
        invite(&other, &org, &owner.email, "member")
    };
    let (by_id_accepted, _) = to_owner();
    let (by_id_declined, _) = to_owner();
    let (_, accepted_token) = to_owner();
    let (_, declined_token) = to_owner();
    let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
    let link = |by: &User, org: &str| {
        let link = post(&format!("/v1/orgs/{org}/invite-links"))
            .auth(by)
            .json(&json!({"role": "member"}))
            .send()
            .ok(201);
        let url = link["url"].as_str().expect("a url");
        let token = url.rsplit('/').next().expect("a token").to_string();
        (id(&link), token)
    };
    let (_, shown_link) = link(&owner, &slug);
    let (revoked_link, _) = link(&owner, &slug);
    let (_, joined_link) = link(&other, &create_org(&other, "pro"));

    let always = |value: &str| Bind::Always(value.to_string());
    let pinned = vec![
        ("deleteOrg", vec![("slug", always(&own_org("business")))]),
        ("updateOrg", vec![("slug", always(&own_org("business")))]),
        ("changePlan", vec![("slug", always(&own_org("business")))]),
        (
            "transferOwnership",
            vec![
                ("slug", always(&transferred)),
                ("body.user_id", Bind::Often(vec![heir.id])),
            ],
        ),
        ("removeMember", vec![("user_id", always(&leaver.id))]),
        ("getInvitation", vec![("id", always(&id(&shown)))]),
        ("cancelInvitation", vec![("id", always(&id(&canceled)))]),
        ("resendInvitation", vec![("id", always(&id(&resent)))]),
        ("getResource", vec![("id", always(&resource))]),
        ("updateResource", vec![("id", always(&resource))]),
        ("deleteResource", vec![("id", always(&doomed_resource))]),
        ("putGrant", vec![("id", always(&resource))]),
        ("deleteGrant", vec![("id", always(&resource))]),
        (
            "createInvitation",
            vec![(
                "body.grants[*].resource_id",
                Bind::Often(vec![resource.clone()]),
            )],
        ),
        (
            "authorize",
            vec![
                (
                    "body.user_id",
                    Bind::Often(vec![owner.id.clone(), member.id.clone()]),
                ),
                ("body.resource_id", Bind::Often(vec![resource.clone()])),
            ],
        ),
        (
            "recordUsage",
            vec![
                ("body.user_id", Bind::Often(vec![owner.id.clone()])),
                ("header.Idempotency-Key", always("usage-1")),
            ],
        ),
        ("revokeApiKey", vec![("id", always(&key))]),
        ("revokeScimToken", vec![("id", always(&scim_token))]),
        ("deleteWebhook", vec![("id", always(&hook))]),
        (
            "acceptMyInvitation",
            vec![("id", always(&id(&by_id_accepted)))],
        ),
        (
            "declineMyInvitation",
            vec![("id", always(&id(&by_id_declined)))],
        ),
        ("previewInvitation", vec![("token", always(&preview_token))]),
        ("invitationPage", vec![("token", always(&preview_token))]),
        ("acceptInvitation", vec![("token", always(&accepted_token))]),
        (
            "declineInvitation",
            vec![("token", always(&declined_token))],
        ),
        ("previewInviteLink", vec![("token", always(&shown_link))]),
        ("inviteLinkPage", vec![("token", always(&shown_link))]),
        ("joinByInviteLink", vec![("token", always(&joined_link))]),
        ("revokeInviteLink", vec![("id", always(&revoked_link))]),
    ];
    Seeded {
        token: lasting_token(&owner),
        slug,
        pinned,
        member: member.id,
    }
}

/// A TOML basic string.
fn toml(value: &str) -> String {
    Value::from(value).to_string()
}

fn config_toml(seeded: &Seeded, reports: &Path) -> String {
    let reports = reports.display().to_string();
    let mut config = format!(
        r#"# Written by tests/schemathesis.rs for one run against a seeded server.
seed = 1
workers = 1
continue-on-failure = true
request-timeout = 30

[reports]
directory = {reports}
junit = {{ enabled = true }}
vcr = {{ enabled = true }}

[output.sanitization]
keys-to-sanitize = ["authorization"]
sensitive-markers = ["authorization"]

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[auth.openapi.bearer]
bearer = {token}

[parameters]
slug = {slug}
user_id = {member}
"#,
        reports = toml(&reports),
        token = toml(&seeded.token),
        slug = toml(&seeded.slug),
        member = toml(&seeded.member),
    );
    let mut dictionaries = String::new();
    for (operation, parameters) in &seeded.pinned {
        let mut bound = Vec::new();
        for (name, bind) in parameters {
            let value = match bind {
                Bind::Always(value) => toml(value),
                Bind::Often(values) => {
                    let dictionary =
                        format!("{operation}-{}", name.replace(['.', '*', '[', ']'], "-"));
                    let values: Vec<String> = values.iter().map(|v| toml(v)).collect();
                    dictionaries.push_str(&format!(
                        "\n[dictionaries.{}]\nvalues = [{}]\n",
                        toml(&dictionary),
                        values.join(", ")
                    ));
                    format!(
                        "{{ dictionary = {}, probability = 0.5 }}",
                        toml(&dictionary)
                    )
                }
            };
            bound.push(format!("{} = {value}", toml(name)));
        }
        config.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = {}\nparameters = {{ {} }}\n",
            toml(operation),
            bound.join(", ")
        ));
    }
    config.push_str(&dictionaries);
    config
}
