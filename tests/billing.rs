//! Plans, seats and shared credits over HTTP: who may see and change them, extra seats
//! bought and lowered, downgrades, the ledger, consuming credits under idempotency keys,
//! and the races around all of them.
//!
//! The server's clock cannot be moved from here, so periods ending and rolling are proven
//! by the unit tests of `domain::plan`; these tests hold to what one period shows.

mod support;

use serde_json::{json, Value};
use std::collections::HashSet;
use support::*;

fn path(slug: &str, rest: &str) -> String {
    format!("/v1/orgs/{slug}/{rest}")
}

fn billing(by: &User, slug: &str) -> Reply {
    get(&path(slug, "billing")).auth(by).send()
}

fn set_plan(by: &User, slug: &str, plan: &str) -> Reply {
    put(&path(slug, "billing/plan"))
        .auth(by)
        .json(&json!({"plan": plan}))
        .send()
}

fn set_extra(by: &User, slug: &str, extra: i64) -> Reply {
    put(&path(slug, "billing/seats"))
        .auth(by)
        .json(&json!({"extra": extra}))
        .send()
}

fn consume(by: &User, slug: &str, key: &str, body: Value) -> Reply {
    post(&path(slug, "usage"))
        .auth(by)
        .header("idempotency-key", key)
        .json(&body)
        .send()
}

fn usage(by: &User, slug: &str) -> Value {
    get(&path(slug, "usage")).auth(by).send().ok(200)
}

fn ledger(by: &User, slug: &str) -> Vec<Value> {
    get(&path(slug, "billing/ledger")).auth(by).send().ok(200)["data"]
        .as_array()
        .expect("a list")
        .clone()
}

fn seconds(value: &Value) -> i64 {
    roster::domain::Timestamp::parse_rfc3339(value.as_str().expect("a time"))
        .expect("RFC 3339")
        .0
}

/// The contract's proration, computed here on its own: 500 cents per seat per period,
/// for what is left of it, rounded up.
fn prorated(n: i64, now: i64, start: i64, end: i64) -> i64 {
    let numerator = 500 * n * (end - now);
    let length = end - start;
    (numerator + length - 1) / length
}

/// The pending invitations billing reports: those that can still be accepted, however the
/// others ended (accepted, declined, canceled, past their time before or after the scheduled
/// job marked them expired).
#[test]
fn pending_invitations_are_those_that_can_still_be_accepted() {
    let _turn = take_turn();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let pending = |expected: i64| {
        let b = billing(&owner, &slug).ok(200);
        assert_eq!(b["seats"]["pending_invitations"], expected, "{b}");
    };
    let users: Vec<User> = (0..5).map(|i| User::new(&format!("p{i}"))).collect();
    let invited: Vec<(Value, String)> = users
        .iter()
        .map(|u| invite(&owner, &slug, &u.email, "member"))
        .collect();
    pending(5);
    post(&format!("/v1/invitations/{}/accept", invited[0].1))
        .auth(&users[0])
        .send()
        .ok(200);
    post(&format!("/v1/invitations/{}/decline", invited[1].1))
        .auth(&users[1])
        .send()
        .ok(204);
    let id = invited[2].0["id"].as_str().expect("id");
    delete(&format!("/v1/orgs/{slug}/invitations/{id}"))
        .auth(&owner)
        .send()
        .ok(204);
    pending(2);
    let late = invited[3].0["id"].as_str().expect("id");
    server().sql(&format!(
        "UPDATE invitations SET expires_at = 1 WHERE id = '{late}'"
    ));
    pending(1);
    server().run_cron();
    assert_eq!(invitation_of(&owner, &slug, late)["status"], "expired");
    pending(1);
    let counted = server().sql(&format!(
        "SELECT pending_invitations_count AS n FROM orgs WHERE slug = '{slug}'"
    ));
    assert_eq!(
        counted[0]["n"], 1,
        "the job's expiry took it off the counter"
    );
}

#[test]
fn billing_shows_the_plan_seats_period_and_credits() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    add_member(&owner, &slug, "member");
    invite(&owner, &slug, &User::new("pending").email, "member");
    let before = now();
    let reply = billing(&owner, &slug);
    assert_eq!(
        reply.round_trips(),
        1,
        "the caller and the seats in one batch"
    );
    let b = reply.ok(200);
    assert_eq!(b["plan"], "pro");
    assert_eq!(
        b["seats"],
        json!({"included": 5, "extra": 0, "total": 5, "used": 2, "available": 3,
               "pending_invitations": 1, "extra_next_period": null})
    );
    assert_eq!(
        b["credits"],
        json!({"included": 2000, "used": 0, "remaining": 2000})
    );
    // A new organization's period starts when it was created and lasts a calendar month.
    let (start, end) = (seconds(&b["period_start"]), seconds(&b["period_end"]));
    assert!(start <= before && before < end, "{b}");
    assert!(before - start < 120, "anchored at creation: {b}");
    assert!((28 * 86_400..=31 * 86_400).contains(&(end - start)), "{b}");
}

#[test]
fn owners_and_admins_see_billing_members_and_viewers_do_not() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    assert_eq!(billing(&admin, &slug).ok(200)["seats"]["used"], 4);
    get(&path(&slug, "billing/ledger"))
        .auth(&admin)
        .send()
        .ok(200);
    for who in [&member, &viewer] {
        billing(who, &slug).expect(403, "forbidden");
        get(&path(&slug, "billing/ledger"))
            .auth(who)
            .send()
            .expect(403, "forbidden");
    }
    let stranger = User::new("stranger");
    billing(&stranger, &slug).expect(404, "not_found");
    get(&path(&slug, "billing/ledger"))
        .auth(&stranger)
        .send()
        .expect(404, "not_found");
    billing(&owner, "no-such-org-here").expect(404, "not_found");
}

#[test]
fn only_the_owner_changes_the_plan_or_the_seats() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    for who in [&admin, &member] {
        set_plan(who, &slug, "pro").expect(403, "forbidden");
        set_extra(who, &slug, 1).expect(403, "forbidden");
    }
    let stranger = User::new("stranger");
    set_plan(&stranger, &slug, "pro").expect(404, "not_found");
    set_extra(&stranger, &slug, 1).expect(404, "not_found");
    // Nothing changed, and nothing was charged.
    let b = billing(&owner, &slug).ok(200);
    assert_eq!(
        (b["plan"].as_str(), b["seats"]["extra"].as_i64()),
        (Some("business"), Some(0))
    );
    assert!(ledger(&owner, &slug).is_empty());

    // Bodies are validated, every field named.
    let reply = set_plan(&owner, &slug, "gold").expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["plan"]);
    for bad in [
        json!({"extra": -1}),
        json!({"extra": "2"}),
        json!({"extra": 1.5}),
        json!({}),
        json!({"extra": 1, "more": true}),
    ] {
        let reply = put(&path(&slug, "billing/seats"))
            .auth(&owner)
            .json(&bad)
            .send()
            .expect(400, "invalid_request");
        assert!(!reply.error_fields().is_empty(), "{bad}");
    }
}

#[test]
fn buying_an_extra_seat_lets_a_blocked_invitation_through() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    for _ in 0..4 {
        add_member(&owner, &slug, "member");
    }
    // Five of five seats taken: no invitation can be created.
    let newcomer = User::new("newcomer");
    post(&path(&slug, "invitations"))
        .auth(&owner)
        .json(&json!({"email": newcomer.email, "role": "member"}))
        .send()
        .expect(409, "seat_limit_reached");

    let b = billing(&owner, &slug).ok(200);
    let (start, end) = (seconds(&b["period_start"]), seconds(&b["period_end"]));
    let before = now();
    let bought = set_extra(&owner, &slug, 1).ok(200);
    let after = now();
    let charge = bought["charge_cents"].as_i64().unwrap();
    // Charged for what is left of the period, at the instant the server saw.
    assert!(charge > 0);
    assert!(
        (prorated(1, after + 1, start, end)..=prorated(1, before - 1, start, end))
            .contains(&charge),
        "{charge} for one seat from {before}..{after} in {start}..{end}"
    );
    assert_eq!(
        bought["seats"],
        json!({"included": 5, "extra": 1, "total": 6, "used": 5, "available": 1,
               "pending_invitations": 0, "extra_next_period": null})
    );
    let entries = ledger(&owner, &slug);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "extra_seats");
    assert_eq!(entries[0]["quantity"], 1);
    assert_eq!(entries[0]["amount_cents"], charge);
    assert!(entries[0]["description"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    assert!(seconds(&entries[0]["at"]) >= before - 1);
    assert!(entries[0]["id"].as_str().is_some_and(|id| !id.is_empty()));

    // The seat is usable at once: invite and accept.
    let (_, token) = invite(&owner, &slug, &newcomer.email, "member");
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&newcomer)
        .send()
        .ok(200);
    assert_eq!(billing(&owner, &slug).ok(200)["seats"]["available"], 0);

    // Accepting honours extra seats too: an invitation made while a seat was free cannot
    // be accepted once the seats are full, and can be after one more is bought.
    set_extra(&owner, &slug, 2).ok(200);
    let (first, second) = (User::new("first"), User::new("second"));
    let (_, first_token) = invite(&owner, &slug, &first.email, "member");
    let (_, second_token) = invite(&owner, &slug, &second.email, "member");
    post(&format!("/v1/invitations/{first_token}/accept"))
        .auth(&first)
        .send()
        .ok(200);
    post(&format!("/v1/invitations/{second_token}/accept"))
        .auth(&second)
        .send()
        .expect(409, "seat_limit_reached");
    let third = set_extra(&owner, &slug, 3).ok(200);
    assert_eq!(third["seats"]["total"], 8);
    post(&format!("/v1/invitations/{second_token}/accept"))
        .auth(&second)
        .send()
        .ok(200);
    let entries = ledger(&owner, &slug);
    assert_eq!(entries.len(), 3, "one entry per purchase");
    assert_eq!(entries[2]["amount_cents"], third["charge_cents"]);
}

#[test]
fn extra_seats_are_not_available_on_free() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    set_extra(&owner, &slug, 1).expect(409, "extra_seats_not_available");
    // Asking for none is no change, and free of charge.
    let none = set_extra(&owner, &slug, 0).ok(200);
    assert_eq!(none["charge_cents"], 0);
    assert_eq!(none["seats"]["total"], 1);
    assert!(ledger(&owner, &slug).is_empty());
}

#[test]
fn lowering_extra_seats_waits_for_the_next_period_and_never_goes_below_used() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    assert!(set_extra(&owner, &slug, 2).ok(200)["charge_cents"].as_i64() > Some(0));
    let members: Vec<User> = (0..6)
        .map(|_| add_member(&owner, &slug, "member"))
        .collect();
    // 7 of 7 seats used: 5 + 1 would not hold them.
    let refused = set_extra(&owner, &slug, 1).expect(409, "seats_in_use");
    assert!(refused.json["detail"]
        .as_str()
        .is_some_and(|d| d.contains('7')));
    delete(&path(&slug, &format!("members/{}", members[0].id)))
        .auth(&owner)
        .send()
        .ok(204);

    let lowered = set_extra(&owner, &slug, 1).ok(200);
    assert_eq!(lowered["charge_cents"], 0);
    // The seats paid for this period stay; the next period starts with fewer.
    assert_eq!(lowered["seats"]["extra"], 2);
    assert_eq!(lowered["seats"]["total"], 7);
    assert_eq!(lowered["seats"]["extra_next_period"], 1);
    assert_eq!(billing(&owner, &slug).ok(200)["seats"], lowered["seats"]);

    // Asking for the current count again cancels the decrease, at no charge.
    let kept = set_extra(&owner, &slug, 2).ok(200);
    assert_eq!(kept["charge_cents"], 0);
    assert_eq!(kept["seats"]["extra_next_period"], Value::Null);
    assert_eq!(
        ledger(&owner, &slug).len(),
        1,
        "lowering and keeping cost nothing"
    );
}

#[test]
fn downgrades_wait_until_members_and_roles_fit() {
    // Roles: business → pro is blocked while an admin or a viewer is there.
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let reply = set_plan(&owner, &slug, "pro").expect(409, "plan_downgrade_blocked");
    assert!(reply.json["detail"]
        .as_str()
        .is_some_and(|d| d.contains("admin")));
    patch(&path(&slug, &format!("members/{}", admin.id)))
        .auth(&owner)
        .json(&json!({"role": "member"}))
        .send()
        .ok(200);
    let pro = set_plan(&owner, &slug, "pro").ok(200);
    assert_eq!(pro["plan"], "pro");
    assert_eq!(pro["seats"]["included"], 5);
    assert_eq!(pro["credits"]["included"], 2000);
    assert_eq!(
        get(&format!("/v1/orgs/{slug}")).auth(&owner).send().ok(200)["plan"],
        "pro"
    );

    // Seats: pro → free is blocked while more than one seat is used.
    set_plan(&owner, &slug, "free").expect(409, "plan_downgrade_blocked");
    delete(&path(&slug, &format!("members/{}", admin.id)))
        .auth(&owner)
        .send()
        .ok(204);
    let free = set_plan(&owner, &slug, "free").ok(200);
    assert_eq!(free["plan"], "free");
    assert_eq!(free["seats"]["total"], 1);
    // Upgrading is always allowed; the same plan again changes nothing.
    assert_eq!(
        set_plan(&owner, &slug, "business").ok(200)["seats"]["included"],
        20
    );
    assert_eq!(
        set_plan(&owner, &slug, "business").ok(200)["plan"],
        "business"
    );
}

#[test]
fn moving_to_free_drops_extra_seats_without_a_refund() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    set_extra(&owner, &slug, 2).ok(200);
    let free = set_plan(&owner, &slug, "free").ok(200);
    assert_eq!(free["seats"]["extra"], 0);
    assert_eq!(free["seats"]["total"], 1);
    let entries = ledger(&owner, &slug);
    assert_eq!(
        entries.len(),
        1,
        "only the purchase; no refund entry: {entries:?}"
    );
    // Back on pro the seats are not there any more.
    assert_eq!(set_plan(&owner, &slug, "pro").ok(200)["seats"]["extra"], 0);
}

#[test]
fn consuming_credits_follows_the_roles() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    let mut left = 10_000;
    for (who, amount) in [(&owner, 5), (&admin, 7), (&member, 11)] {
        left -= amount;
        let reply = consume(
            who,
            &slug,
            &unique("k"),
            json!({"amount": amount, "feature": "export"}),
        );
        assert_eq!(reply.round_trips(), 2, "a read, then one guarded write");
        let recorded = reply.ok(201);
        assert_eq!(recorded["amount"], amount);
        assert_eq!(recorded["remaining"], left);
        assert!(recorded["id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    consume(
        &viewer,
        &slug,
        &unique("k"),
        json!({"amount": 1, "feature": "export"}),
    )
    .expect(403, "forbidden");
    // Users consume as themselves: naming oneself is fine, naming another member is not.
    consume(
        &member,
        &slug,
        &unique("k"),
        json!({"amount": 1, "feature": "x", "user_id": member.id}),
    )
    .ok(201);
    consume(
        &member,
        &slug,
        &unique("k"),
        json!({"amount": 1, "feature": "x", "user_id": owner.id}),
    )
    .expect(403, "forbidden");
    consume(
        &User::new("stranger"),
        &slug,
        &unique("k"),
        json!({"amount": 1, "feature": "x"}),
    )
    .expect(404, "not_found");

    // The key is required, and named when missing; every bad field is named.
    let reply = post(&path(&slug, "usage"))
        .auth(&owner)
        .json(&json!({"amount": 1, "feature": "export"}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["Idempotency-Key"]);
    let reply = post(&path(&slug, "usage"))
        .auth(&owner)
        .json(&json!({"amount": 0, "feature": "", "extra": 1}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(
        reply.error_fields(),
        ["amount", "feature", "Idempotency-Key", "extra"]
    );

    assert_eq!(usage(&owner, &slug)["used"], 5 + 7 + 11 + 1);
}

#[test]
fn insufficient_credits_record_nothing() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    consume(
        &owner,
        &slug,
        "k-1",
        json!({"amount": 101, "feature": "export"}),
    )
    .expect(402, "insufficient_credits");
    let u = usage(&owner, &slug);
    assert_eq!(
        (u["used"].as_i64(), u["remaining"].as_i64()),
        (Some(0), Some(100))
    );
    // Nothing was recorded under the key either: it is free for another request.
    assert_eq!(
        consume(
            &owner,
            &slug,
            "k-1",
            json!({"amount": 100, "feature": "export"})
        )
        .ok(201)["remaining"],
        0
    );
    consume(
        &owner,
        &slug,
        "k-2",
        json!({"amount": 1, "feature": "export"}),
    )
    .expect(402, "insufficient_credits");
    let u = usage(&owner, &slug);
    assert_eq!(
        (u["used"].as_i64(), u["remaining"].as_i64()),
        (Some(100), Some(0))
    );
    assert_eq!(
        u["by_member"],
        json!([{"user_id": owner.id, "email": owner.email, "used": 100}])
    );
}

#[test]
fn the_same_key_replays_the_first_answer_and_charges_once() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    let body = json!({"amount": 25, "feature": "render"});
    let first = consume(&owner, &slug, "same-key", body.clone());
    assert_eq!(first.status, 201);
    let again = consume(&owner, &slug, "same-key", body.clone());
    assert_eq!((again.status, &again.json), (201, &first.json));
    // Spelled differently, the same request is still the same request.
    let reordered = post(&path(&slug, "usage"))
        .auth(&owner)
        .header("idempotency-key", "same-key")
        .raw(
            "application/json",
            br#"{ "feature": "render", "amount": 25 }"#.to_vec(),
        )
        .send();
    assert_eq!((reordered.status, &reordered.json), (201, &first.json));
    assert_eq!(usage(&owner, &slug)["used"], 25);

    // The key names one request: another amount, feature or member is refused.
    for (who, other) in [
        (&owner, json!({"amount": 26, "feature": "render"})),
        (&owner, json!({"amount": 25, "feature": "export"})),
        (&member, json!({"amount": 25, "feature": "render"})),
    ] {
        consume(who, &slug, "same-key", other).expect(409, "idempotency_key_reused");
    }
    assert_eq!(usage(&owner, &slug)["used"], 25);
}

#[test]
fn fifty_parallel_consumptions_never_overdraw_the_balance() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    // 100 credits: ten consumptions of 10 fit exactly.
    let replies = in_parallel(50, |i| {
        let reply = consume(
            &owner,
            &slug,
            &format!("parallel-{i}"),
            json!({"amount": 10, "feature": "burst"}),
        );
        (
            reply.status,
            reply.code().to_string(),
            reply.json["remaining"].as_i64(),
        )
    });
    let ok: Vec<_> = replies.iter().filter(|r| r.0 == 201).collect();
    let refused: Vec<_> = replies.iter().filter(|r| r.0 != 201).collect();
    assert_eq!(ok.len(), 10, "{replies:?}");
    assert_eq!(refused.len(), 40, "{replies:?}");
    for r in &refused {
        assert_eq!((r.0, r.1.as_str()), (402, "insufficient_credits"));
    }
    // Each success saw its own balance: 90, 80, … 0, one each.
    let remaining: HashSet<i64> = ok.iter().filter_map(|r| r.2).collect();
    assert_eq!(remaining, (0..10).map(|k| k * 10).collect());
    let u = usage(&owner, &slug);
    assert_eq!(
        (u["used"].as_i64(), u["remaining"].as_i64()),
        (Some(100), Some(0))
    );
    assert_eq!(u["by_member"][0]["used"], 100);
}

#[test]
fn twenty_parallel_replays_of_one_key_charge_once() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let replies = in_parallel(20, |_| {
        let reply = consume(
            &owner,
            &slug,
            "one-key",
            json!({"amount": 7, "feature": "replay"}),
        );
        (reply.status, reply.json)
    });
    let first = &replies[0].1;
    for (status, body) in &replies {
        assert_eq!((*status, body), (201, first), "{replies:?}");
    }
    assert_eq!(first["remaining"], 2000 - 7);
    assert_eq!(usage(&owner, &slug)["used"], 7);
}

#[test]
fn members_see_only_their_own_usage_row() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let alice = add_member(&owner, &slug, "member");
    let bob = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    for (who, amount) in [(&alice, 3), (&bob, 4), (&alice, 5)] {
        consume(
            who,
            &slug,
            &unique("k"),
            json!({"amount": amount, "feature": "f"}),
        )
        .ok(201);
    }
    let reply = get(&path(&slug, "usage")).auth(&owner).send();
    assert_eq!(reply.round_trips(), 1);
    let all = reply.ok(200);
    assert_eq!(
        (
            all["included"].as_i64(),
            all["used"].as_i64(),
            all["remaining"].as_i64()
        ),
        (Some(10_000), Some(12), Some(9_988))
    );
    let rows: Vec<(String, i64)> = all["by_member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().unwrap().to_string(),
                r["used"].as_i64().unwrap(),
            )
        })
        .collect();
    // Those who used credits, most first.
    assert_eq!(rows, [(alice.id.clone(), 8), (bob.id.clone(), 4)]);
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(usage(&admin, &slug)["by_member"], all["by_member"]);
    // A page at a time.
    let first = get(&format!("{}?limit=1", path(&slug, "usage")))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(first["by_member"][0]["user_id"], alice.id);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = get(&format!("{}?limit=1&cursor={cursor}", path(&slug, "usage")))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(second["by_member"][0]["user_id"], bob.id);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(second["used"], 12);
    get(&format!("{}?limit=0", path(&slug, "usage")))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    let start_end = |u: &Value| (u["period_start"].clone(), u["period_end"].clone());
    let b = billing(&owner, &slug).ok(200);
    assert_eq!(
        start_end(&all),
        (b["period_start"].clone(), b["period_end"].clone())
    );

    // Members see the organization's totals and their own row only.
    let mine = usage(&alice, &slug);
    assert_eq!(mine["used"], 12);
    assert_eq!(
        mine["by_member"],
        json!([{"user_id": alice.id, "email": alice.email, "used": 8}])
    );
    // Who used nothing has no row.
    assert_eq!(usage(&viewer, &slug)["by_member"], json!([]));
    assert_eq!(
        usage(&admin, &slug)["by_member"].as_array().unwrap().len(),
        2
    );
    get(&path(&slug, "usage"))
        .auth(&User::new("stranger"))
        .send()
        .expect(404, "not_found");

    // A member who leaves keeps counting towards the period's usage.
    delete(&path(&slug, &format!("members/{}", bob.id)))
        .auth(&bob)
        .send()
        .ok(204);
    let after = usage(&owner, &slug);
    assert_eq!(after["used"], 12);
    assert_eq!(
        after["by_member"].as_array().unwrap().last().unwrap()["user_id"],
        bob.id
    );
}

#[test]
fn parallel_seat_purchases_charge_once() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let replies = in_parallel(5, |_| {
        let reply = set_extra(&owner, &slug, 1);
        (
            reply.status,
            reply.code().to_string(),
            reply.json["charge_cents"].as_i64(),
        )
    });
    // One request buys the seat; the others find it bought (those that lost the race
    // decide again on what the winner left) and answer it without a charge.
    assert!(replies.iter().all(|r| r.0 == 200), "{replies:?}");
    let charged: Vec<_> = replies.iter().filter(|r| r.2 > Some(0)).collect();
    assert_eq!(charged.len(), 1, "{replies:?}");
    assert_eq!(ledger(&owner, &slug).len(), 1);
    assert_eq!(billing(&owner, &slug).ok(200)["seats"]["extra"], 1);
}

#[test]
fn a_downgrade_and_an_accept_racing_never_leave_members_over_the_seats() {
    // On pro with only the owner, someone accepts an invitation while the owner moves to
    // free (one seat): whichever lands first, the other is refused.
    for round in 0..4 {
        let owner = User::new("owner");
        let slug = create_org(&owner, "pro");
        let invitee = User::new("invitee");
        let (_, token) = invite(&owner, &slug, &invitee.email, "member");
        let replies = in_parallel(2, |i| {
            let reply = if i == 0 {
                post(&format!("/v1/invitations/{token}/accept"))
                    .auth(&invitee)
                    .send()
            } else {
                set_plan(&owner, &slug, "free")
            };
            (reply.status, reply.code().to_string())
        });
        let b = billing(&owner, &slug).ok(200);
        let members = member_ids(&owner, &slug).len() as i64;
        assert!(
            members <= b["seats"]["total"].as_i64().unwrap(),
            "round {round}: {replies:?} {b}"
        );
        assert_eq!(
            replies.iter().filter(|r| r.0 == 200).count(),
            1,
            "round {round}: {replies:?}"
        );
        assert_eq!(b["plan"], if replies[1].0 == 200 { "free" } else { "pro" });
    }
}

#[test]
fn running_the_scheduled_job_twice_changes_nothing_more() {
    // What this proves: the job leaves an organization whose period is still running as it
    // is (credits, seats, a scheduled decrease), and a second run is no different from the
    // first. That an ended period rolls — credits reset, the decrease applied, once — is
    // proven by the unit tests of `domain::plan`, which can move the clock.
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    set_extra(&owner, &slug, 2).ok(200);
    set_extra(&owner, &slug, 1).ok(200);
    consume(
        &owner,
        &slug,
        "before-cron",
        json!({"amount": 40, "feature": "f"}),
    )
    .ok(201);
    let before = (
        billing(&owner, &slug).ok(200),
        usage(&owner, &slug),
        ledger(&owner, &slug),
    );
    assert_eq!(before.0["seats"]["extra_next_period"], 1);
    server().run_cron();
    let once = (
        billing(&owner, &slug).ok(200),
        usage(&owner, &slug),
        ledger(&owner, &slug),
    );
    server().run_cron();
    let twice = (
        billing(&owner, &slug).ok(200),
        usage(&owner, &slug),
        ledger(&owner, &slug),
    );
    assert_eq!(once, before);
    assert_eq!(twice, once);
}
