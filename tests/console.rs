//! The console over HTTP, as a browser without scripts uses it: the link and its rules,
//! the session cookie and its ends, the CSRF token, the headers and policy of every page,
//! and forms that the policy refuses changing nothing.

mod support;

use serde_json::json;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use support::*;

/// `server().sql` writes the Worker's SQLite file from outside, and a write of the Worker
/// that meets its lock fails: the tests that age rows run alone, the others together.
static STATE: RwLock<()> = RwLock::new(());

fn alone() -> RwLockWriteGuard<'static, ()> {
    STATE.write().unwrap_or_else(|p| p.into_inner())
}

fn together() -> RwLockReadGuard<'static, ()> {
    STATE.read().unwrap_or_else(|p| p.into_inner())
}

fn links(slug: &str) -> String {
    format!("/v1/orgs/{slug}/console-links")
}

#[test]
fn a_member_gets_a_one_time_link_for_five_minutes() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let viewer = add_member(&owner, &slug, "viewer");
    let link = post(&links(&slug))
        .auth(&viewer)
        .json(&json!({"return_url": "https://app.test.roster/settings"}))
        .send()
        .ok(201);
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/console/enter/", server().base)));
    let expires =
        roster::domain::Timestamp::parse_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    assert!((expires.0 - now() - 300).abs() <= 5, "{link}");
    // Without a body too.
    post(&links(&slug)).auth(&owner).send().ok(201);
}

#[test]
fn api_keys_cannot_open_a_session() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let key = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .json(&json!({"name": "server", "scopes": ["members:read"]}))
        .send()
        .ok(201);
    post(&links(&slug))
        .bearer(key["secret"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .expect(403, "forbidden");
}

#[test]
fn the_return_url_must_be_on_the_app() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    for bad in ["https://evil.test/", "javascript:alert(1)", "not a url", ""] {
        let reply = post(&links(&slug))
            .auth(&owner)
            .json(&json!({"return_url": bad}))
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["return_url"], "{bad}");
    }
    // Strangers learn nothing.
    post(&links(&slug))
        .auth(&User::new("Stranger"))
        .json(&json!({}))
        .send()
        .expect(404, "not_found");
}

#[test]
fn a_link_opens_one_session_even_under_parallel_requests() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let path = path_of(&console_link(&owner, &slug));
    let replies = in_parallel(8, |_| raw("GET", &path, None, None));
    let entered: Vec<_> = replies.iter().filter(|r| r.status == 303).collect();
    assert_eq!(
        entered.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 303 || r.status == 410));
    assert_eq!(
        entered[0].header("location"),
        Some(format!("/console/{slug}/members").as_str())
    );
    let gone = raw("GET", &path, None, None);
    assert_eq!(gone.status, 410);
    assert!(gone.text.contains("This console link cannot be used"));
    assert!(gone.header("set-cookie").is_none());
}

#[test]
fn an_expired_link_is_gone() {
    let _turn = alone();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let path = path_of(&console_link(&owner, &slug));
    server().sql(&format!(
        "UPDATE console_codes SET expires_at = {} WHERE org_id = (SELECT id FROM orgs WHERE slug = '{slug}')",
        now() - 1
    ));
    assert_eq!(raw("GET", &path, None, None).status, 410);
    assert_eq!(
        raw("GET", "/console/enter/nonsense", None, None).status,
        410
    );
}

#[test]
fn the_session_cookie_is_strict_http_only_and_stored_hashed() {
    let _turn = alone();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let entered = raw("GET", &path_of(&console_link(&owner, &slug)), None, None);
    let cookie = entered.header("set-cookie").unwrap().to_string();
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // The harness serves on http: no Secure (which https adds).
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = cookie_pair(&cookie).split_once('=').unwrap().1.to_string();
    let stored = server().sql(&format!(
        "SELECT token_hash FROM console_sessions WHERE user_id = '{}'",
        owner.id
    ));
    assert_eq!(stored.len(), 1);
    let hash = stored[0]["token_hash"].as_str().unwrap();
    assert_ne!(hash, token);
    assert_eq!(hash.len(), 64);
}

#[test]
fn pages_are_never_cached_leak_no_referrer_and_run_nothing_inline() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    for page in ["members", "invitations", "billing", "usage"] {
        let reply = session.page(page);
        assert_eq!(reply.status, 200, "{page}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        let csp = reply.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("style-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(!reply.text.contains("<script"), "{page}");
        assert!(!reply.text.contains("<style"), "{page}");
        assert!(!reply.text.contains(" style="), "{page}");
    }
    let css = raw("GET", "/console/style.css", None, None);
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}

#[test]
fn without_a_session_there_is_no_page() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let reply = raw("GET", &format!("/console/{slug}/members"), None, None);
    assert_eq!(reply.status, 401);
    assert!(reply.text.contains("Your session has ended"));
    let forged = raw(
        "GET",
        &format!("/console/{slug}/members"),
        Some("roster_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        None,
    );
    assert_eq!(forged.status, 401);
    // A session is for its own organization only.
    let other = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    let elsewhere = raw(
        "GET",
        &format!("/console/{other}/members"),
        Some(&session.cookie),
        None,
    );
    assert_eq!(elsewhere.status, 404);
}

#[test]
fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    let email = format!("{}@example.com", unique("csrf"));
    let path = format!("/console/{slug}/invitations");
    for form in [
        vec![("email", email.as_str()), ("role", "member")],
        vec![
            ("csrf", "wrong"),
            ("email", email.as_str()),
            ("role", "member"),
        ],
    ] {
        let reply = raw("POST", &path, Some(&session.cookie), Some(&form));
        assert_eq!(reply.status, 403, "{}", reply.text);
        assert!(reply.text.contains("nothing was changed"));
    }
    // Another session's token is no better.
    let other = Session::open(&owner, &slug);
    let form = [
        ("csrf", other.csrf.as_str()),
        ("email", email.as_str()),
        ("role", "member"),
    ];
    assert_eq!(
        raw("POST", &path, Some(&session.cookie), Some(&form)).status,
        403
    );
    let pending = get(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(pending["data"].as_array().unwrap().len(), 0);
    // With it, the form works.
    let reply = session.submit("invitations", &[("email", &email), ("role", "member")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(
        reply.header("location"),
        Some(format!("/console/{slug}/invitations?done=invited").as_str())
    );
}

#[test]
fn a_viewers_forged_post_is_refused_inline_and_changes_nothing() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let viewer = add_member(&owner, &slug, "viewer");
    let member = add_member(&owner, &slug, "member");
    let session = Session::open(&viewer, &slug);
    let page = session.page("invitations");
    assert!(!page.text.contains("Send invitation"), "{}", page.text);
    let members = session.page("members");
    assert!(!members.text.contains("Change role"));
    // They may leave, but remove no one else.
    assert!(!members
        .text
        .contains(&format!("/members/{}/remove", member.id)));
    assert!(members
        .text
        .contains(&format!("/members/{}/remove", viewer.id)));

    let email = format!("{}@example.com", unique("forged"));
    let reply = session.submit("invitations", &[("email", &email), ("role", "member")]);
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert!(reply.text.contains("role=\"alert\""));
    let reply = session.submit(
        &format!("members/{}/role", member.id),
        &[("role", "viewer")],
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    let reply = session.submit(&format!("members/{}/remove", member.id), &[]);
    assert_eq!(reply.status, 403, "{}", reply.text);

    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    let roles: Vec<_> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(roles.contains(&(member.id.clone(), "member".to_string())));
    let pending = get(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(pending["data"].as_array().unwrap().len(), 0);
    // Billing is not theirs to see, and it is not in their navigation.
    assert!(!page.text.contains(&format!("/console/{slug}/billing")));
    assert_eq!(session.page("billing").status, 403);
}

#[test]
fn a_session_ends_after_an_idle_hour() {
    let _turn = alone();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    server().sql(&format!(
        "UPDATE console_sessions SET last_seen_at = {} WHERE user_id = '{}'",
        now() - 3601,
        owner.id
    ));
    assert_eq!(session.page("members").status, 401);
}

#[test]
fn a_session_ends_eight_hours_after_it_began_however_busy() {
    let _turn = alone();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    server().sql(&format!(
        "UPDATE console_sessions SET created_at = {} WHERE user_id = '{}'",
        now() - 8 * 3600 - 1,
        owner.id
    ));
    assert_eq!(session.page("members").status, 401);
}

#[test]
fn signing_out_ends_the_session() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    let refused = raw("POST", "/console/logout", Some(&session.cookie), Some(&[]));
    assert_eq!(refused.status, 403);
    assert_eq!(session.page("members").status, 200);
    let out = raw(
        "POST",
        "/console/logout",
        Some(&session.cookie),
        Some(&[("csrf", session.csrf.as_str())]),
    );
    assert_eq!(out.status, 200);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(session.page("members").status, 401);
}

#[test]
fn a_removed_member_loses_the_console_at_once() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let session = Session::open(&admin, &slug);
    assert_eq!(session.page("members").status, 200);
    delete(&format!("/v1/orgs/{slug}/members/{}", admin.id))
        .auth(&owner)
        .send()
        .ok(204);
    assert_eq!(session.page("members").status, 404);
}

#[test]
fn a_full_plan_says_seat_limit_reached_and_what_to_do() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    // The free plan's one seat is the owner's.
    let slug = create_org(&owner, "free");
    let session = Session::open(&owner, &slug);
    let email = format!("{}@example.com", unique("full"));
    let reply = session.submit("invitations", &[("email", &email), ("role", "member")]);
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert!(reply.text.contains("Seat limit reached"));
    assert!(reply
        .text
        .contains(&format!("href=\"/console/{slug}/billing\"")));
}

#[test]
fn the_billing_page_shows_the_price_before_buying() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    let preview = session.page("billing?extra=3");
    assert_eq!(preview.status, 200);
    assert!(preview.text.contains("adds 3 now, for"), "{}", preview.text);
    assert!(preview.text.contains("Confirm 3 extra seats"));
    let bought = session.submit("billing/seats", &[("extra", "3")]);
    assert_eq!(bought.status, 303, "{}", bought.text);
    let billing = get(&format!("/v1/orgs/{slug}/billing"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(billing["seats"]["extra"], 3);
    let page = session.page("billing");
    assert!(page.text.contains("Ledger"));
    assert!(!page.text.contains("Nothing has been charged."));
    let refused = session.submit("billing/seats", &[("extra", "many")]);
    assert_eq!(refused.status, 400, "{}", refused.text);
}

#[test]
fn the_demo_sign_in_exists_only_in_local_development() {
    let _turn = together();
    let path = "/console/dev/accept-invite";
    assert_eq!(
        raw("GET", &format!("{path}?token=x"), None, None).status,
        404
    );
    assert_eq!(raw("POST", path, None, Some(&[("token", "x")])).status, 404);
}

#[test]
fn api_keys_are_issued_shown_once_and_revoked_from_the_console() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let session = Session::open(&owner, &slug);
    let issued = session.submit(
        "api-keys",
        &[
            ("name", "Backend"),
            ("scope", "members:read"),
            ("scope", "usage:read"),
        ],
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    assert!(issued.text.contains("shown only this once"));
    let keys = get(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .send()
        .ok(200);
    let key = &keys["data"][0];
    assert_eq!(key["name"], "Backend");
    assert_eq!(key["scopes"], json!(["members:read", "usage:read"]));
    let secret = issued
        .text
        .split("rk_")
        .nth(1)
        .map(|rest| format!("rk_{}", &rest[..43]))
        .unwrap();
    get(&format!("/v1/orgs/{slug}"))
        .bearer(&secret)
        .send()
        .ok(200);
    // Listed afterwards without the secret.
    let page = session.page("api-keys");
    assert!(page.text.contains("Backend"));
    assert!(!page.text.contains(&secret));

    let revoked = session.submit(
        &format!("api-keys/{}/revoke", key["id"].as_str().unwrap()),
        &[],
    );
    assert_eq!(revoked.status, 303, "{}", revoked.text);
    get(&format!("/v1/orgs/{slug}"))
        .bearer(&secret)
        .send()
        .expect(401, "unauthenticated");
    // A nameless key is refused inline.
    let refused = session.submit("api-keys", &[("name", "")]);
    assert_eq!(refused.status, 400);
    assert!(refused.text.contains("name:"), "{}", refused.text);
}

#[test]
fn webhooks_show_their_latest_deliveries_and_the_audit_log_its_entries() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let session = Session::open(&owner, &slug);
    let url = support::hooks::hooks().url(&unique("console"));
    let added = session.submit(
        "webhooks",
        &[
            ("url", &url),
            ("event", "member.added"),
            ("event", "member.removed"),
        ],
    );
    assert_eq!(added.status, 201, "{}", added.text);
    assert!(added.text.contains("whsec_"));
    let member = add_member(&owner, &slug, "member");
    eventually("a delivery on the page", || {
        session.page("webhooks").text.contains("member.added")
    });
    let log = session.page("audit-log");
    assert_eq!(log.status, 200);
    assert!(log.text.contains("member.added"));
    assert!(log.text.contains("webhook.created"));
    let hooks = get(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .send()
        .ok(200);
    let id = hooks["data"][0]["id"].as_str().unwrap().to_string();
    let deleted = session.submit(&format!("webhooks/{id}/delete"), &[]);
    assert_eq!(deleted.status, 303);
    assert!(session
        .page("webhooks")
        .text
        .contains("There is no webhook endpoint."));
    // Members see none of it.
    let theirs = Session::open(&member, &slug);
    let page = theirs.page("members");
    for section in ["api-keys", "webhooks", "audit-log"] {
        assert!(!page.text.contains(&format!("/console/{slug}/{section}")));
        assert_eq!(theirs.page(section).status, 403, "{section}");
    }
}

#[test]
fn teams_are_created_filled_emptied_and_deleted_from_the_console() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let session = Session::open(&owner, &slug);
    let created = session.submit("teams", &[("name", "Platform Crew")]);
    assert_eq!(created.status, 303, "{}", created.text);
    let teams = get(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .send()
        .ok(200);
    let team = teams["data"][0]["slug"].as_str().unwrap().to_string();
    assert!(session.page("teams").text.contains("Platform Crew"));

    let added = session.submit(
        &format!("teams/{team}/members"),
        &[("user_id", &member.id), ("team_role", "maintainer")],
    );
    assert_eq!(added.status, 303, "{}", added.text);
    assert_eq!(
        added.header("location"),
        Some(format!("/console/{slug}/teams/{team}?done=team-member").as_str())
    );
    let page = session.page(&format!("teams/{team}"));
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Maintainer"));
    let in_team = get(&format!("/v1/orgs/{slug}/teams/{team}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(in_team["data"][0]["user_id"], member.id.as_str());

    // Renamed, the team's page moves to its new slug; a slug another team has is refused
    // with the API's problem, and nothing changes.
    assert!(page.text.contains("Rename the team"));
    let renamed = session.submit(
        &format!("teams/{team}/rename"),
        &[("name", "Platform Guild"), ("slug", "platform-guild")],
    );
    assert_eq!(renamed.status, 303, "{}", renamed.text);
    assert_eq!(
        renamed.header("location"),
        Some(format!("/console/{slug}/teams/platform-guild?done=team-renamed").as_str())
    );
    let team = "platform-guild".to_string();
    let page = session.page(&format!("teams/{team}?done=team-renamed"));
    assert!(page.text.contains("Platform Guild"), "{}", page.text);
    assert!(page.text.contains("The team was renamed."));
    session.submit("teams", &[("name", "Other Crew")]);
    let taken = session.submit(
        &format!("teams/{team}/rename"),
        &[("name", "Platform Guild"), ("slug", "other-crew")],
    );
    assert_eq!(taken.status, 409, "{}", taken.text);
    let still = get(&format!("/v1/orgs/{slug}/teams/{team}"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(still["name"], "Platform Guild");
    session.submit("teams/other-crew/delete", &[]);

    // A plain member sees the teams but cannot create one; as maintainer they manage
    // their team's members, but neither rename it nor forge the form that does.
    let theirs = Session::open(&member, &slug);
    assert!(!theirs.page("teams").text.contains("Create team"));
    let refused = theirs.submit("teams", &[("name", "Mine")]);
    assert_eq!(refused.status, 403, "{}", refused.text);
    let their_page = theirs.page(&format!("teams/{team}"));
    assert!(their_page
        .text
        .contains(&format!("/members/{}/remove", member.id)));
    assert!(!their_page.text.contains("Rename the team"));
    let forged = theirs.submit(
        &format!("teams/{team}/rename"),
        &[("name", "Mine Now"), ("slug", "mine-now")],
    );
    assert_eq!(forged.status, 403, "{}", forged.text);

    let removed = session.submit(&format!("teams/{team}/members/{}/remove", member.id), &[]);
    assert_eq!(removed.status, 303, "{}", removed.text);
    assert!(session
        .page(&format!("teams/{team}"))
        .text
        .contains("The team has no member."));
    let deleted = session.submit(&format!("teams/{team}/delete"), &[]);
    assert_eq!(deleted.status, 303);
    assert!(session.page("teams").text.contains("There is no team."));
    assert_eq!(session.page("teams/nope").status, 404);
}

#[test]
fn custom_roles_are_created_and_deleted_from_the_console() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let session = Session::open(&owner, &slug);
    let created = session.submit(
        "roles",
        &[
            ("key", "support"),
            ("name", "Support"),
            ("permission", "members.manage"),
            ("permission", "billing.read"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.text);
    let roles = get(&format!("/v1/orgs/{slug}/roles"))
        .auth(&owner)
        .send()
        .ok(200);
    let support = roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "support")
        .cloned()
        .unwrap();
    assert_eq!(support["name"], "Support");
    assert!(support["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("members.manage")));
    let page = session.page("roles");
    assert!(page.text.contains("Support"));
    // Someone holds it: a change of its permissions is theirs on the next request.
    let holder = add_member(&owner, &slug, "support");
    assert!(page.text.contains(r#"id="edit-support-billing-read" type="checkbox" name="permission" value="billing.read" checked"#));
    get(&format!("/v1/orgs/{slug}/billing"))
        .auth(&holder)
        .send()
        .ok(200);
    let edited = session.submit(
        "roles/support/edit",
        &[("name", "Support desk"), ("permission", "members.manage")],
    );
    assert_eq!(edited.status, 303, "{}", edited.text);
    assert_eq!(
        edited.header("location"),
        Some(format!("/console/{slug}/roles?done=role-saved").as_str())
    );
    let page = session.page("roles?done=role-saved");
    assert!(page.text.contains("The role was changed."));
    assert!(page.text.contains("Support desk"));
    get(&format!("/v1/orgs/{slug}/billing"))
        .auth(&holder)
        .send()
        .expect(403, "forbidden");
    // A permission only the owner holds is refused with the API's problem.
    let refused = session.submit(
        "roles/support/edit",
        &[("name", "Support desk"), ("permission", "org.delete")],
    );
    assert_eq!(refused.status, 400, "{}", refused.text);
    // Deleting reassigns the holders.
    let taken = session.submit("roles", &[("key", "support"), ("name", "Again")]);
    assert_eq!(taken.status, 409, "{}", taken.text);
    let deleted = session.submit("roles/support/delete", &[("reassign_to", "viewer")]);
    assert_eq!(deleted.status, 303, "{}", deleted.text);
    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    let role = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == holder.id.as_str())
        .map(|m| m["role"].clone());
    assert_eq!(role, Some(json!("viewer")));
    // A viewer reads the roles but gets no form.
    let viewer = Session::open(&holder, &slug);
    let theirs = viewer.page("roles");
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert!(!theirs.text.contains("Create role"));
    assert!(!theirs.text.contains("Edit the role"));
}

#[test]
fn invite_links_are_created_shown_once_and_revoked_from_the_console() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let session = Session::open(&owner, &slug);
    let created = session.submit(
        "invite-links",
        &[
            ("role", "member"),
            ("max_uses", "3"),
            ("expires_in", "86400"),
        ],
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let url_start = created.text.find("/join/").expect("the link on the page");
    let token: String = created.text[url_start + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let joiner = User::new("Joy Joiner");
    post(&format!("/v1/invite-links/{token}/join"))
        .auth(&joiner)
        .send()
        .ok(200);
    let links = get(&format!("/v1/orgs/{slug}/invite-links"))
        .auth(&owner)
        .send()
        .ok(200);
    let link = &links["data"][0];
    assert_eq!(link["max_uses"], 3);
    assert_eq!(link["uses"], 1);
    let page = session.page("invite-links");
    assert!(page.text.contains("1 of 3"));
    assert!(!page.text.contains(&token));
    let revoked = session.submit(
        &format!("invite-links/{}/revoke", link["id"].as_str().unwrap()),
        &[],
    );
    assert_eq!(revoked.status, 303, "{}", revoked.text);
    assert!(session.page("invite-links").text.contains("revoked"));
    let refused = session.submit("invite-links", &[("role", "member"), ("expires_in", "5")]);
    assert_eq!(refused.status, 400, "{}", refused.text);
    // A member cannot invite: no page, no link.
    let theirs = Session::open(&joiner, &slug);
    assert!(!theirs.page("members").text.contains("/invite-links"));
    assert_eq!(theirs.page("invite-links").status, 403);
}

#[test]
fn domains_are_verified_opened_to_requests_and_requests_decided_from_the_console() {
    let _turn = together();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let session = Session::open(&owner, &slug);
    let domain = format!("{}.example", unique("console"));
    let added = session.submit("domains", &[("domain", &domain)]);
    assert_eq!(added.status, 303, "{}", added.text);
    let listed = get(&format!("/v1/orgs/{slug}/domains"))
        .auth(&owner)
        .send()
        .ok(200);
    let d = &listed["data"][0];
    let id = d["id"].as_str().unwrap().to_string();
    let page = session.page("domains");
    let record = d["verification"]["value"].as_str().unwrap();
    assert!(page.text.contains(record), "the record to publish is shown");
    support::dns::dns().publish(d["verification"]["name"].as_str().unwrap(), record);
    let checked = session.submit(&format!("domains/{id}/verify"), &[]);
    assert_eq!(checked.status, 303, "{}", checked.text);
    let opened = session.submit(
        &format!("domains/{id}/enrollment"),
        &[("enrollment", "request")],
    );
    assert_eq!(opened.status, 303, "{}", opened.text);
    // The role and teams people join with are chosen on the same form.
    let team = post(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .json(&json!({"name": "Support Crew"}))
        .send()
        .ok(201)["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let page = session.page("domains");
    assert!(page
        .text
        .contains(&format!(r#"name="team" value="{team}""#)));
    let chosen = session.submit(
        &format!("domains/{id}/enrollment"),
        &[
            ("enrollment", "request"),
            ("role", "viewer"),
            ("team", &team),
        ],
    );
    assert_eq!(chosen.status, 303, "{}", chosen.text);
    let saved = &get(&format!("/v1/orgs/{slug}/domains"))
        .auth(&owner)
        .send()
        .ok(200)["data"][0];
    assert_eq!(saved["role"], "viewer");
    assert_eq!(saved["teams"], json!([team]));
    let page = session.page("domains");
    assert!(page
        .text
        .contains(&format!(r#"name="team" value="{team}" checked"#)));
    assert!(
        page.text.contains(r#"<option value="viewer" selected>"#),
        "{}",
        page.text
    );
    // A team that is not there is the API's 400, and nothing changes.
    let wrong = session.submit(
        &format!("domains/{id}/enrollment"),
        &[
            ("enrollment", "request"),
            ("role", "member"),
            ("team", "no-such-team"),
        ],
    );
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    let kept = &get(&format!("/v1/orgs/{slug}/domains"))
        .auth(&owner)
        .send()
        .ok(200)["data"][0];
    assert_eq!(
        (&kept["role"], &kept["teams"]),
        (&json!("viewer"), &json!([team]))
    );

    let person = User::new("Pat Person");
    let person = person
        .clone()
        .with_email(&format!("{}@{domain}", person.id));
    post(&format!("/v1/orgs/{slug}/join"))
        .auth(&person)
        .send()
        .ok(202);
    let requests = get(&format!("/v1/orgs/{slug}/join-requests"))
        .auth(&owner)
        .send()
        .ok(200);
    let request = requests["data"][0]["id"].as_str().unwrap().to_string();
    assert!(session.page("domains").text.contains("Pat Person"));
    let approved = session.submit(&format!("domains/requests/{request}/approve"), &[]);
    assert_eq!(approved.status, 303, "{}", approved.text);
    assert!(member_ids(&owner, &slug).contains(&person.id));
    let removed = session.submit(&format!("domains/{id}/remove"), &[]);
    assert_eq!(removed.status, 303, "{}", removed.text);
    assert!(session.page("domains").text.contains("There is no domain."));
    // On a plan without domains, the page is not offered.
    let free = create_org(&owner, "free");
    let theirs = Session::open(&owner, &free);
    assert!(!theirs
        .page("members")
        .text
        .contains(&format!("/console/{free}/domains")));
    assert_eq!(theirs.page("domains").status, 409);
}
