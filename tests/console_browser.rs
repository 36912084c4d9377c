//! The console in a real Chromium, as people use it: entering through a link, inviting one
//! person and then a pasted list, resending and canceling, an acceptance showing up among
//! the members, changing a role, removing a member, a full plan, a viewer's page and a
//! forged form, a used link, the whole invitation flow with the keyboard alone, and the
//! demo sign-in of local development. Each main page is saved as a screenshot under
//! `target/console-screenshots/`.
//!
//! Browsers run one at a time (`support::browser`); each command is bounded in time.

mod support;

use serde_json::json;
use support::browser::{Browser, Element};
use support::*;

/// The server of these tests, with the demo sign-in of local development on. Every test
/// asks for it first, so that the server starts with it whichever test runs first.
fn serve() {
    server_with(Options {
        vars: vec![("DEV_SIGN_IN".into(), "1".into())],
        ..Options::default()
    });
}

/// Opens `slug`'s console as `user` in `browser`, through a fresh link.
fn enter(browser: &Browser, user: &User, slug: &str) {
    browser.goto(&console_link(user, slug));
    assert!(
        browser.url().ends_with(&format!("/console/{slug}/members")),
        "{}",
        browser.url()
    );
}

fn page(browser: &Browser, slug: &str, section: &str) {
    browser.goto(&format!("{}/console/{slug}/{section}", server().base));
}

/// The emails of the pending invitations table.
fn pending(browser: &Browser) -> Vec<String> {
    browser
        .all("tbody th[scope=row]")
        .iter()
        .map(Element::text)
        .collect()
}

fn address(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

#[test]
fn invite_one_then_a_pasted_list_resend_and_cancel() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    browser.find("nav a[href$='/invitations']").click();
    browser.wait_for("Pending invitations");
    assert_eq!(browser.find("h1").text(), "Invitations");

    let one = address("one");
    browser.find("#invite-email").type_text(&one);
    browser.find("#invite-role").select("member");
    browser.find("form[action$='/invitations'] button").click();
    browser.wait_for("The invitation was sent.");
    assert_eq!(pending(&browser), [one.as_str()]);

    let five: Vec<String> = (0..5).map(|i| address(&format!("list{i}"))).collect();
    browser.find("#bulk-emails").type_text(&format!(
        "{}, {}\n{}; {} {}",
        five[0], five[1], five[2], five[3], five[4]
    ));
    browser
        .find("form[action$='/invitations/bulk'] button")
        .click();
    browser.wait_for("5 of 5 invitations sent.");
    let listed = pending(&browser);
    for email in five.iter().chain([&one]) {
        assert!(listed.contains(email), "{email} in {listed:?}");
    }
    browser.screenshot("invitations");

    let before = server().mail.to(&five[0]).len();
    // The rows are in creation order: the first is `one`, the second `five[0]`.
    browser.all("form[action$='/resend'] button")[1].click();
    browser.wait_for("The invitation was sent again.");
    server().mail.wait_for(&five[0], before + 1);

    browser.all("form[action$='/cancel'] button")[2].click();
    browser.wait_for("The invitation was canceled.");
    let listed = pending(&browser);
    assert!(!listed.contains(&five[1]), "{listed:?}");
    assert_eq!(listed.len(), 5);
}

#[test]
fn an_accepted_invitation_becomes_a_member_whose_role_changes_and_who_is_removed() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let invitee = User::new("Ivy Invitee");
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    page(&browser, &slug, "invitations");
    browser.find("#invite-email").type_text(&invitee.email);
    browser.find("#invite-role").select("viewer");
    browser.find("form[action$='/invitations'] button").click();
    let token = server().mail.wait_for(&invitee.email, 1)[0].token();
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);

    page(&browser, &slug, "members");
    browser.wait_for("Ivy Invitee");
    browser.wait_for("Viewer");
    browser.screenshot("members");

    let select = browser.find(&format!("select[id='role-{}']", invitee.id));
    select.select("admin");
    browser
        .find(&format!(
            "form[action$='/members/{}/role'] button",
            invitee.id
        ))
        .click();
    browser.wait_for("The role was changed.");
    let member = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == invitee.id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(member["role"], "admin");

    browser
        .find(&format!(
            "form[action$='/members/{}/remove'] button",
            invitee.id
        ))
        .click();
    browser.wait_for("The member was removed.");
    assert!(!browser.text().contains("Ivy Invitee"));
    assert!(!member_ids(&owner, &slug).contains(&invitee.id));
}

#[test]
fn a_full_plan_says_seat_limit_reached() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "free");
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    page(&browser, &slug, "invitations");
    browser.find("#invite-email").type_text(&address("full"));
    browser.find("form[action$='/invitations'] button").click();
    browser.wait_for("Seat limit reached");
    let alert = browser.find("[role=alert]").text();
    assert!(alert.contains("Seat limit reached"), "{alert}");
    assert!(browser
        .find("[role=alert] a")
        .attribute("href")
        .unwrap()
        .ends_with(&format!("/console/{slug}/billing")));
    browser.screenshot("seat-limit");
}

#[test]
fn a_viewer_sees_no_invite_form_and_their_forged_post_is_refused() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let viewer = add_member(&owner, &slug, "viewer");
    let browser = Browser::new();
    enter(&browser, &viewer, &slug);
    page(&browser, &slug, "invitations");
    assert!(browser.all("#invite-email").is_empty());
    assert!(!browser.text().contains("Send invitation"));
    assert!(browser.all("nav a[href$='/billing']").is_empty());

    // A form forged with the viewer's own session and its valid token.
    let cookie = format!(
        "roster_console={}",
        browser.cookie("roster_console").unwrap()
    );
    let csrf = csrf_of(&browser.source()).unwrap();
    let email = address("forged");
    let reply = raw(
        "POST",
        &format!("/console/{slug}/invitations"),
        Some(&cookie),
        Some(&[("csrf", &csrf), ("email", &email), ("role", "member")]),
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    let invitations = get(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .send()
        .ok(200);
    assert!(invitations["data"].as_array().unwrap().is_empty());
}

#[test]
fn a_form_without_or_with_a_wrong_csrf_token_is_refused() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    let cookie = format!(
        "roster_console={}",
        browser.cookie("roster_console").unwrap()
    );
    let email = address("csrf");
    for csrf in [None, Some("0".repeat(64))] {
        let mut form = vec![("email", email.as_str()), ("role", "member")];
        if let Some(csrf) = &csrf {
            form.push(("csrf", csrf));
        }
        let reply = raw(
            "POST",
            &format!("/console/{slug}/invitations"),
            Some(&cookie),
            Some(&form),
        );
        assert_eq!(reply.status, 403);
    }
    page(&browser, &slug, "invitations");
    browser.wait_for("No invitation is pending.");
}

#[test]
fn a_used_link_shows_the_gone_page() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let link = console_link(&owner, &slug);
    let browser = Browser::new();
    browser.goto(&link);
    assert!(browser.url().ends_with("/members"));
    browser.goto(&link);
    assert_eq!(
        browser.find("h1").text(),
        "This console link cannot be used"
    );
    browser.screenshot("link-used");
}

#[test]
fn billing_usage_and_integrations_pages_show_what_they_hold() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    for (who, amount) in [(&owner, 120), (&member, 45)] {
        post(&format!("/v1/orgs/{slug}/usage"))
            .auth(who)
            .header("idempotency-key", &unique("usage"))
            .json(&json!({"amount": amount, "feature": "export"}))
            .send()
            .ok(201);
    }
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    page(&browser, &slug, "billing");
    browser.find("#extra").clear();
    browser.find("#extra").type_text("2");
    browser.find("form[method=get] button").click();
    browser.wait_for("adds 2 now, for");
    browser.screenshot("billing");
    browser
        .find("form[action$='/billing/seats'] button")
        .click();
    browser.wait_for("The extra seats were set.");
    browser.wait_for("2 extra");

    page(&browser, &slug, "usage");
    assert_eq!(browser.all("ul.bars meter").len(), 2);
    browser.wait_for("165 of 2000 credits used");
    browser.screenshot("usage");
    for section in [
        "invite-links",
        "teams",
        "roles",
        "domains",
        "api-keys",
        "webhooks",
        "audit-log",
    ] {
        page(&browser, &slug, section);
        browser.wait_for("Sign out");
        browser.screenshot(section);
    }
    // A phone's width.
    browser.set_width(390, 844);
    page(&browser, &slug, "members");
    browser.screenshot("members-phone");
}

#[test]
fn the_whole_invite_flow_works_with_the_keyboard_alone() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let browser = Browser::new();
    enter(&browser, &owner, &slug);
    let id = |el: &Element<'_>| el.attribute("id").unwrap_or_default();
    let href = |el: &Element<'_>| el.attribute("href").unwrap_or_default();

    // The skip link comes first.
    browser.keys("\u{E004}");
    assert_eq!(browser.focused().text(), "Skip to content");
    browser.tab_to("the Invitations link", |el| {
        href(el).ends_with("/invitations")
    });
    browser.keys("\u{E007}");
    browser.wait_for("Pending invitations");
    assert_eq!(browser.find("h1").text(), "Invitations");

    let email = address("keyboard");
    browser.tab_to("the email field", |el| id(el) == "invite-email");
    browser.keys(&email);
    browser.tab_to("the role", |el| id(el) == "invite-role");
    browser.tab_to("the send button", |el| {
        el.tag() == "button" && el.text() == "Send invitation"
    });
    browser.keys("\u{E007}");
    browser.wait_for("The invitation was sent.");
    assert_eq!(pending(&browser), [email.as_str()]);

    browser.tab_to("the resend button", |el| el.text().starts_with("Resend"));
    browser.keys("\u{E007}");
    browser.wait_for("The invitation was sent again.");
    browser.tab_to("the cancel button", |el| el.text().starts_with("Cancel"));
    browser.keys("\u{E007}");
    browser.wait_for("The invitation was canceled.");
    assert!(pending(&browser).is_empty());
}

#[test]
fn the_demo_sign_in_accepts_an_invitation_and_opens_the_console() {
    serve();
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let email = address("demo");
    let (_, token) = invite(&owner, &slug, &email, "member");
    let browser = Browser::new();
    browser.goto(&format!(
        "{}/console/dev/accept-invite?token={token}",
        server().base
    ));
    browser.find("#dev-email").type_text(&email);
    browser.find("#dev-name").type_text("Dana Demo");
    browser.find("form button").click();
    browser.wait_for("Dana Demo (you)");
    assert!(browser.url().ends_with(&format!("/console/{slug}/members")));
    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    assert!(members["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["email"] == email.as_str()));
}
