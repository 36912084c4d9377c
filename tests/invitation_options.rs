//! Invitation options: how long an invitation lasts, where the landing page's button
//! leads, the language of the email and page, and links the product delivers itself.

mod support;

use roster::domain::Timestamp;
use serde_json::{json, Value};
use support::*;

fn invitations(slug: &str) -> String {
    format!("/v1/orgs/{slug}/invitations")
}

fn at(value: &Value) -> i64 {
    Timestamp::parse_rfc3339(value.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .0
}

fn create(owner: &User, slug: &str, body: Value) -> Value {
    post(&invitations(slug))
        .auth(owner)
        .json(&body)
        .send()
        .ok(201)
}

#[test]
fn an_invitation_lasts_as_asked_and_a_resend_as_long_again() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let invitee = User::new("Ivy Invitee");
    let invitation = create(
        &owner,
        &slug,
        json!({"email": invitee.email, "role": "member", "expires_in": 7200}),
    );
    assert_eq!(
        at(&invitation["expires_at"]) - at(&invitation["created_at"]),
        7200
    );
    let resent = post(&format!(
        "{}/{}/resend",
        invitations(&slug),
        invitation["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(200);
    let lasts = at(&resent["expires_at"]) - now();
    assert!((7190..=7210).contains(&lasts), "resend lasts {lasts}s");
}

#[test]
fn options_out_of_bounds_are_refused() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let email = User::new("Ivy Invitee").email;
    for (body, field) in [
        (json!({"expires_in": 3599}), "expires_in"),
        (json!({"expires_in": 2_592_001}), "expires_in"),
        (json!({"expires_in": "3600"}), "expires_in"),
        (json!({"locale": "it"}), "locale"),
        (json!({"locale": "DE"}), "locale"),
        (
            json!({"redirect_url": "https://evil.example.com/join"}),
            "redirect_url",
        ),
        (
            json!({"redirect_url": "http://app.test.roster/join"}),
            "redirect_url",
        ),
        (
            json!({"redirect_url": "https://app.test.roster:8443/join"}),
            "redirect_url",
        ),
        (json!({"redirect_url": "/join"}), "redirect_url"),
        (json!({"send_email": "no"}), "send_email"),
    ] {
        let mut body = body;
        body["email"] = json!(email);
        body["role"] = json!("member");
        let reply = post(&invitations(&slug))
            .auth(&owner)
            .json(&body)
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    // Nothing was created by the refused requests.
    create(&owner, &slug, json!({"email": email, "role": "member"}));
}

#[test]
fn the_landing_page_button_leads_to_the_redirect_with_the_token() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let invitee = User::new("Ivy Invitee");
    let invitation = create(
        &owner,
        &slug,
        json!({"email": invitee.email, "role": "member",
               "redirect_url": "https://app.test.roster/teams/join?from=mail"}),
    );
    assert_eq!(
        invitation["redirect_url"],
        "https://app.test.roster/teams/join?from=mail"
    );
    let token = server().mail.wait_for(&invitee.email, 1)[0].token();
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!(
        "https://app.test.roster/teams/join?from=mail&amp;token={token}"
    )));
    let plain = create(
        &owner,
        &slug,
        json!({"email": User::new("Other").email, "role": "member"}),
    );
    assert_eq!(plain["redirect_url"], Value::Null);
    assert_eq!(plain["locale"], "en");
    assert!(
        plain.get("url").is_none(),
        "the link is only for send_email: false"
    );
}

#[test]
fn a_german_invitation_is_written_in_german_email_and_page() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let invitee = User::new("Ivy Invitee");
    let invitation = create(
        &owner,
        &slug,
        json!({"email": invitee.email, "role": "admin", "locale": "de"}),
    );
    assert_eq!(invitation["locale"], "de");
    let expires = Timestamp(at(&invitation["expires_at"])).to_datetime();
    let months = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    let german_date = format!(
        "{}. {} {} um {} UTC",
        expires.format("%-d"),
        months[expires.format("%m").to_string().parse::<usize>().unwrap() - 1],
        expires.format("%Y"),
        expires.format("%H:%M"),
    );
    let email = &server().mail.wait_for(&invitee.email, 1)[0];
    assert_eq!(
        email.subject,
        format!("Olivia Owner hat Sie eingeladen, Org {slug} beizutreten")
    );
    for part in [&email.text, &email.html] {
        assert!(part.contains("als Administrator"), "{part}");
        assert!(part.contains(&german_date), "{part}");
        assert!(part.contains("Einladung"), "{part}");
    }
    assert!(email.html.contains("<html lang=\"de\">"));
    assert!(email.html.contains("Einladung annehmen"));
    let page = get(&format!("/invite/{}", email.token())).send();
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<html lang=\"de\">"));
    assert!(page.text.contains(&format!("Org {slug} beitreten")));
    assert!(page.text.contains("als Administrator"));
    assert!(page.text.contains("Einladung annehmen"));
    assert!(page.text.contains(&german_date));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .starts_with("default-src 'none'"));
}

#[test]
fn a_link_the_product_delivers_itself_is_answered_once_and_no_email_goes_out() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let invitee = User::new("Ivy Invitee");
    let invitation = create(
        &owner,
        &slug,
        json!({"email": invitee.email, "role": "member", "send_email": false}),
    );
    assert_eq!(invitation["email_delivery"], "none");
    let url = invitation["url"].as_str().expect("the link").to_owned();
    let prefix = format!("{}/invite/", server().base);
    let token = url.strip_prefix(&prefix).expect("a Roster link").to_owned();
    let id = invitation["id"].as_str().unwrap().to_owned();
    let read = get(&format!("{}/{id}", invitations(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert!(read.get("url").is_none(), "the link is answered once");
    assert_eq!(read["email_delivery"], "none");

    // A resend sends nothing either: it answers the new link.
    let resent = post(&format!("{}/{id}/resend", invitations(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(resent["email_delivery"], "none");
    let new_url = resent["url"].as_str().expect("the new link");
    assert_ne!(new_url, url);
    assert_eq!(get(&format!("/invite/{token}")).send().status, 404);
    let token = new_url.strip_prefix(&prefix).unwrap().to_owned();

    server().run_cron();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        server().mail.to(&invitee.email).is_empty(),
        "no email was sent"
    );

    assert_eq!(get(&format!("/invite/{token}")).send().status, 200);
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
    assert_eq!(member["user_id"], invitee.id);
}

#[test]
fn bulk_items_take_the_options_each_on_its_own() {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "business");
    let (fr, ja, silent, bad) = (
        User::new("Fanny"),
        User::new("Haruto"),
        User::new("Sam"),
        User::new("Bad"),
    );
    let results = post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({"invitations": [
            {"email": fr.email, "role": "member", "locale": "fr", "expires_in": 86400},
            {"email": ja.email, "role": "viewer", "locale": "ja"},
            {"email": silent.email, "role": "member", "send_email": false,
             "redirect_url": "https://app.test.roster/welcome"},
            {"email": bad.email, "role": "member", "locale": "xx"},
        ]}))
        .send()
        .ok(200)["results"]
        .clone();
    let french = &results[0]["invitation"];
    assert_eq!(french["locale"], "fr");
    assert_eq!(at(&french["expires_at"]) - at(&french["created_at"]), 86400);
    assert_eq!(results[1]["invitation"]["locale"], "ja");
    let quiet = &results[2]["invitation"];
    assert_eq!(quiet["email_delivery"], "none");
    assert_eq!(quiet["redirect_url"], "https://app.test.roster/welcome");
    assert!(quiet["url"].as_str().is_some());
    assert!(results[0]["invitation"].get("url").is_none());
    assert_eq!(results[3]["error"]["code"], "invalid_request");

    let french_mail = &server().mail.wait_for(&fr.email, 1)[0];
    assert!(french_mail.subject.contains("vous invite à rejoindre"));
    assert!(french_mail.text.contains("en tant que membre"));
    let japanese = &server().mail.wait_for(&ja.email, 1)[0];
    assert!(japanese.subject.contains("招待しました"));
    assert!(japanese.text.contains("閲覧者として"));
    let page = get(&format!("/invite/{}", japanese.token())).send();
    assert!(page.text.contains("<html lang=\"ja\">"));
    assert!(page.text.contains("に参加"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(server().mail.to(&silent.email).is_empty());
}
