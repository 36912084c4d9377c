//! A deployment that upgrades keeps working: an organization created before custom roles,
//! teams and the ways of joining existed (its data written under the schema of migration
//! 0006) is read, changed and joined as before once the later migrations have run.

mod support;

use roster::domain::secret::InviteToken;
use serde_json::{json, Value};
use std::sync::OnceLock;
use support::*;

/// The migrations the earlier version had applied.
const EARLIER: usize = 6;

/// The people of the seeded organization.
struct Seeded {
    slug: String,
    owner: User,
    admin: User,
    member: User,
    viewer: User,
    resource: String,
    /// Invited (as a viewer, with `read` on the resource) before the upgrade.
    invitee: User,
    token: String,
}

fn seeded() -> &'static Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let seeded = Seeded {
            slug: unique("before"),
            owner: User::new("owner"),
            admin: User::new("admin"),
            member: User::new("member"),
            viewer: User::new("viewer"),
            resource: "1b5f2d4e-0000-4000-8000-000000000001".into(),
            invitee: User::new("invitee"),
            token: InviteToken::generate()
                .expect("a token")
                .expose()
                .to_owned(),
        };
        server_with(Options {
            upgrade: Some(Upgrade {
                applied: EARLIER,
                seed: seed_sql(&seeded),
            }),
            ..Options::default()
        });
        seeded
    })
}

/// The organization as the earlier schema stored it.
fn seed_sql(s: &Seeded) -> String {
    let now = now();
    let org = "0a1b2c3d-0000-4000-8000-000000000001";
    let digest = InviteToken::parse(&s.token).expect("a token").digest();
    let mut sql = vec![format!(
        "INSERT INTO orgs (id, slug, name, plan, period_anchor, period_start, period_end,
                           created_at, updated_at)
         VALUES ('{org}', '{slug}', 'Before', 'business', {now}, {now}, {end}, {now}, {now});",
        slug = s.slug,
        end = now + 30 * 86_400,
    )];
    for (user, role, invitation) in [
        (&s.owner, "owner", "NULL"),
        (&s.admin, "admin", "'seed-1'"),
        (&s.member, "member", "'seed-2'"),
        (&s.viewer, "viewer", "'seed-3'"),
    ] {
        sql.push(format!(
            "INSERT INTO users (id, email, email_verified, name, created_at, last_active_at)
             VALUES ('{id}', '{email}', 1, '{role}', {now}, {now});
             INSERT INTO memberships (org_id, user_id, role, invitation_id, joined_at)
             VALUES ('{org}', '{id}', '{role}', {invitation}, {now});",
            id = user.id,
            email = user.email,
        ));
    }
    sql.push(format!(
        "INSERT INTO resources (id, org_id, name, created_by, created_at, updated_at)
         VALUES ('{r}', '{org}', 'Docs', '{owner}', {now}, {now});
         INSERT INTO grants (org_id, resource_id, user_id, level, created_at)
         VALUES ('{org}', '{r}', '{member}', 2, {now}), ('{org}', '{r}', '{viewer}', 1, {now});
         INSERT INTO invitations (id, org_id, email, role, grants, status, token_hash,
                                  inviter_user_id, inviter_name, inviter_email, email_delivery,
                                  created_at, expires_at)
         VALUES ('inv-before', '{org}', '{invitee}', 'viewer',
                 '[{{\"resource_id\":\"{r}\",\"level\":1}}]', 'pending', '{digest}',
                 '{owner}', 'owner', '{owner_email}', 'sent', {now}, {expires});",
        r = s.resource,
        owner = s.owner.id,
        owner_email = s.owner.email,
        member = s.member.id,
        viewer = s.viewer.id,
        invitee = s.invitee.email,
        expires = now + 86_400,
    ));
    sql.join("\n")
}

fn org_path(s: &Seeded) -> String {
    format!("/v1/orgs/{}", s.slug)
}

fn level_of(user: &User, s: &Seeded) -> Value {
    post(&format!("{}/authorize", org_path(s)))
        .auth(user)
        .json(&json!({"resource_id": s.resource}))
        .send()
        .ok(200)["level"]
        .clone()
}

/// One organization lives through the steps in order, as a deployment's would.
#[test]
fn an_organization_from_before_keeps_working() {
    let s = seeded();
    members_keep_their_roles_grants_and_permissions(s);
    an_invitation_sent_before_is_accepted_after(s);
    the_organization_takes_custom_roles_and_teams(s);
}

fn members_keep_their_roles_grants_and_permissions(s: &Seeded) {
    let org = get(&org_path(s)).auth(&s.owner).send().ok(200);
    assert_eq!(org["role"], "owner");
    assert_eq!(org["permissions"].as_array().unwrap().len(), 13);
    let members = get(&format!("{}/members", org_path(s)))
        .auth(&s.admin)
        .send()
        .ok(200);
    let seen: Vec<(String, String, String)> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
                m["joined_via"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        (&s.owner, "owner", "created"),
        (&s.admin, "admin", "invitation"),
        (&s.member, "member", "invitation"),
        (&s.viewer, "viewer", "invitation"),
    ]
    .iter()
    .map(|(u, r, j)| (u.id.clone(), r.to_string(), j.to_string()))
    .collect();
    assert_eq!(seen, expected);
    assert_eq!(level_of(&s.owner, s), "admin");
    assert_eq!(level_of(&s.member, s), "write");
    assert_eq!(level_of(&s.viewer, s), "read");
    let roles = get(&format!("{}/roles", org_path(s)))
        .auth(&s.viewer)
        .send()
        .ok(200);
    let counts: Vec<i64> = roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["members_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 1, 1]);
}

fn an_invitation_sent_before_is_accepted_after(s: &Seeded) {
    let preview = get(&format!("/v1/invitations/{}", s.token)).send().ok(200);
    assert_eq!(preview["role"], "viewer");
    let member = post(&format!("/v1/invitations/{}/accept", s.token))
        .auth(&s.invitee)
        .send()
        .ok(200);
    assert_eq!(member["role"], "viewer");
    assert_eq!(member["joined_via"], "invitation");
    assert_eq!(member["teams"], json!([]));
    assert_eq!(
        member["grants"],
        json!([{"resource_id": s.resource, "level": "read"}])
    );
}

fn the_organization_takes_custom_roles_and_teams(s: &Seeded) {
    post(&format!("{}/roles", org_path(s)))
        .auth(&s.admin)
        .json(&json!({"key": "support", "name": "Support", "permissions": ["usage.read_all"]}))
        .send()
        .ok(201);
    let team = post(&format!("{}/teams", org_path(s)))
        .auth(&s.admin)
        .json(&json!({"name": "Writers"}))
        .send()
        .ok(201);
    put(&format!(
        "{}/teams/{}/members/{}",
        org_path(s),
        team["slug"].as_str().unwrap(),
        s.viewer.id
    ))
    .auth(&s.admin)
    .json(&json!({"team_role": "member"}))
    .send()
    .ok(200);
    patch(&format!("{}/members/{}", org_path(s), s.member.id))
        .auth(&s.admin)
        .json(&json!({"role": "support"}))
        .send()
        .ok(200);
    create_invitation(&s.admin, &s.slug, &User::new("new").email, "support");
}
