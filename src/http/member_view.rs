//! How members are shown: [`member_of`] renders one member from its row, and
//! [`page_body`] wraps a page SQLite has already rendered (`store::members::rendered_page`)
//! in the list envelope, adding `private_metadata` for a caller who sees it. The tests run
//! both renderings on the same rows in SQLite and require the same JSON.

use super::paging::envelope_text;
use crate::api::orgs::{Grant, Member, MemberTeam};
use crate::domain::policy::{sees_private_metadata, Actor, MetadataOf, TeamRole};
use crate::domain::values::Level;
use crate::domain::{Problem, Timestamp};
use crate::store::members::{MemberRow, RenderedPage};
use serde_json::value::RawValue;

/// The member as `viewer` sees them.
pub fn member_of(row: &MemberRow, viewer: &Actor) -> Result<Member, Problem> {
    let of = MetadataOf::Member {
        is_self: viewer.user_id() == Some(row.user_id.as_str()),
    };
    let private_metadata = if sees_private_metadata(viewer, of) {
        Some(row.private_metadata()?)
    } else {
        None
    };
    Ok(Member {
        user_id: row.user_id.clone(),
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role()?.0,
        joined_at: Timestamp(row.joined_at),
        joined_via: row.joined_via()?,
        last_active_at: Timestamp(row.last_active_at),
        suspended_at: row.suspended_at.map(Timestamp),
        grants: grants(row.grants()),
        teams: row
            .teams()
            .into_iter()
            .map(|(slug, team_role)| {
                let team_role = TeamRole::parse(&team_role).ok_or_else(Problem::internal)?;
                Ok(MemberTeam { slug, team_role })
            })
            .collect::<Result<_, Problem>>()?,
        metadata: row.metadata()?,
        private_metadata,
    })
}

pub fn grants(grants: Vec<(String, Level)>) -> Vec<Grant> {
    grants
        .into_iter()
        .map(|(resource_id, level)| Grant { resource_id, level })
        .collect()
}

/// The list of members `page` holds, as `viewer` sees it: the JSON of a `List<Member>`.
/// Whether `private_metadata` shows is the viewer's standing alone, the same for every
/// member, so the page's text passes through untouched unless it does.
pub fn page_body(page: RenderedPage, viewer: &Actor) -> Result<String, Problem> {
    let of = MetadataOf::Member { is_self: false };
    let data = if sees_private_metadata(viewer, of) {
        with_private_metadata(&page.data, &page.private)?
    } else {
        page.data
    };
    Ok(envelope_text(&data, page.next_after))
}

/// The JSON array of objects `members` with each one's `private_metadata` (the same
/// position of the array `private`) added as its last field.
fn with_private_metadata(members: &str, private: &str) -> Result<String, Problem> {
    let malformed = |_| Problem::internal();
    let members: Vec<&RawValue> = serde_json::from_str(members).map_err(malformed)?;
    let private: Vec<&RawValue> = serde_json::from_str(private).map_err(malformed)?;
    if members.len() != private.len() {
        return Err(Problem::internal());
    }
    let field = ",\"private_metadata\":";
    let mut out = String::with_capacity(
        members
            .iter()
            .chain(&private)
            .map(|v| v.get().len() + field.len())
            .sum::<usize>()
            + 2,
    );
    out.push('[');
    for (i, (member, private)) in members.iter().zip(&private).enumerate() {
        let open = member
            .get()
            .strip_suffix('}')
            .filter(|open| open.len() > 1)
            .ok_or_else(Problem::internal)?;
        if i > 0 {
            out.push(',');
        }
        out.push_str(open);
        out.push_str(field);
        out.push_str(private.get());
        out.push('}');
    }
    out.push(']');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::Scope;
    use crate::domain::values::Role;
    use crate::http::paging::Page;
    use crate::store::members;
    use crate::store::plans::{migrated, rows};
    use crate::store::{Batch, FromColumns};
    use rusqlite::Connection;
    use serde_json::Value;

    /// Two organizations; `acme`'s five members hold built-in and custom roles, one is
    /// suspended, and their names, metadata, grants and teams need escaping and ordering.
    const SEED: &str = r#"
        INSERT INTO orgs (id, slug, name, plan, period_anchor, period_start, period_end,
                          created_at, updated_at)
        VALUES ('o-acme', 'acme', 'Acme', 'business', 0, 0, 100, 1, 1),
               ('o-other', 'other', 'Other', 'free', 0, 0, 100, 1, 1);
        INSERT INTO users (id, email, email_verified, name, created_at, last_active_at)
        VALUES ('u1', 'ada@acme.test', 1, 'Ada "the" Owner', 1, 1795428000),
               ('u2', 'bo@acme.test', 1, NULL, 1, 1795428060),
               ('u3', NULL, 0, 'Cy', 1, 1700000000),
               ('u4', 'zoe@acme.test', 1, 'Zoë \ Ünïcödé ✓', 1, 0),
               ('u5', 'eve@acme.test', 1, 'Eve', 1, 1795428120),
               ('u9', 'other@other.test', 1, 'Other', 1, 1);
        INSERT INTO roles (org_id, key, name, permissions, resource_floor, resource_cap,
                           created_at, updated_at)
        VALUES ('o-acme', 'support', 'Support', '["org.read","members.manage"]', 1, 2, 1, 1);
        INSERT INTO memberships (seq, org_id, user_id, role, joined_at, joined_via, metadata,
                                 private_metadata, suspended_at)
        VALUES (1, 'o-acme', 'u1', 'owner', 1795000000, 'created', '{}', '{}', NULL),
               (2, 'o-acme', 'u2', 'member', 1795000100, 'invitation',
                '{"a":1,"b":{"c":[1,2.5,null]}}', '{"tier":"gold"}', NULL),
               (3, 'o-acme', 'u3', 'support', 1795000200, 'scim', '{}', '{"x":"y"}',
                1795000300),
               (4, 'o-other', 'u9', 'owner', 1795000250, 'created', '{}', '{}', NULL),
               (5, 'o-acme', 'u4', 'viewer', 1795000400, 'domain', '{"s":"\n\"q\""}', '{}',
                NULL),
               (6, 'o-acme', 'u5', 'admin', 1795000500, 'invite_link', '{}', '{"n":[]}', NULL);
        INSERT INTO resources (id, org_id, name, created_at, updated_at)
        VALUES ('r-b', 'o-acme', 'B', 1, 1), ('r-a', 'o-acme', 'A', 1, 1),
               ('r-c', 'o-acme', 'C', 1, 1);
        INSERT INTO grants (org_id, resource_id, user_id, level, created_at)
        VALUES ('o-acme', 'r-b', 'u2', 1, 1), ('o-acme', 'r-a', 'u2', 3, 1),
               ('o-acme', 'r-c', 'u2', 2, 1), ('o-acme', 'r-a', 'u4', 2, 1);
        INSERT INTO teams (id, org_id, slug, name, created_at, updated_at)
        VALUES ('t-z', 'o-acme', 'zeta', 'Zeta', 1, 1), ('t-a', 'o-acme', 'alpha', 'Alpha', 1, 1);
        INSERT INTO team_members (team_id, org_id, user_id, team_role, added_at)
        VALUES ('t-z', 'o-acme', 'u2', 'maintainer', 1), ('t-a', 'o-acme', 'u2', 'member', 1),
               ('t-a', 'o-acme', 'u3', 'maintainer', 1);
    "#;

    fn seeded() -> Connection {
        let db = migrated();
        db.execute_batch(SEED).expect("the seed applies");
        db
    }

    /// The page as the typed rows and `member_of` render it.
    fn typed(db: &Connection, slug: &str, page: &Page, viewer: &Actor) -> Value {
        let mut batch = Batch::new();
        let handle = members::list(&mut batch, slug, page.after, page.fetch());
        let packed = rows(db, &batch, &handle);
        let text = packed[0]["rows"].as_str().expect("a packed page is text");
        let rows: Vec<MemberRow> = serde_json::from_str(text).expect("the rows deserialize");
        let list = page
            .envelope(rows, |r| r.seq, |r| member_of(r, viewer))
            .expect("every row renders");
        serde_json::to_value(list).expect("a list serializes")
    }

    /// The page as SQLite renders it and `page_body` passes it on.
    fn rendered(db: &Connection, slug: &str, page: &Page, viewer: &Actor) -> Value {
        let mut batch = Batch::new();
        let handle = members::rendered_page(&mut batch, slug, page.after, page.limit);
        let answered = rows(db, &batch, &handle);
        assert_eq!(answered.len(), 1, "a rendered page is one row");
        let rendered = RenderedPage::from_columns(&answered[0]).expect("the columns read");
        let body = page_body(rendered, viewer).expect("the page renders");
        serde_json::from_str(&body).expect("the body is JSON")
    }

    fn viewers() -> Vec<Actor> {
        vec![
            Actor::member("u1", Role::Owner),
            Actor::member("u5", Role::Admin),
            Actor::member("u2", Role::Member),
            Actor::member("u4", Role::Viewer),
            Actor::ApiKey {
                id: "k1".into(),
                scopes: vec![Scope::MetadataRead],
            },
            Actor::ApiKey {
                id: "k2".into(),
                scopes: vec![],
            },
        ]
    }

    #[test]
    fn sqlite_renders_every_page_as_member_of_does() {
        let db = seeded();
        for viewer in viewers() {
            for limit in 1..=6 {
                for after in [0, 1, 2, 3, 5, 6, 99] {
                    let page = Page { limit, after };
                    assert_eq!(
                        rendered(&db, "acme", &page, &viewer),
                        typed(&db, "acme", &page, &viewer),
                        "{viewer:?}, limit {limit} after {after}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_rendered_page_holds_what_the_seed_says() {
        let db = seeded();
        let page = Page { limit: 3, after: 0 };
        let owner = rendered(&db, "acme", &page, &Actor::member("u1", Role::Owner));
        let data = owner["data"].as_array().unwrap();
        let ids: Vec<&str> = data
            .iter()
            .map(|m| m["user_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["u1", "u2", "u3"]);
        assert_eq!(data[0]["joined_at"], "2026-11-18T11:06:40Z");
        assert_eq!(data[1]["last_active_at"], "2026-11-23T10:01:00Z");
        assert_eq!(data[1]["private_metadata"]["tier"], "gold");
        assert_eq!(
            data[1]["grants"][0],
            serde_json::json!({"resource_id": "r-a", "level": "admin"})
        );
        assert_eq!(data[1]["teams"][0]["slug"], "alpha");
        assert_eq!(data[2]["role"], "support");
        assert_eq!(data[2]["suspended_at"], "2026-11-18T11:11:40Z");
        assert!(owner["next_cursor"].is_string());

        let member = rendered(&db, "acme", &page, &Actor::member("u2", Role::Member));
        assert!(member["data"][1].get("private_metadata").is_none());
        let last = rendered(
            &db,
            "acme",
            &Page { limit: 9, after: 3 },
            &Actor::member("u2", Role::Member),
        );
        assert_eq!(last["data"].as_array().unwrap().len(), 2);
        assert!(last["next_cursor"].is_null());
        let gone = rendered(&db, "nobody", &page, &Actor::member("u1", Role::Owner));
        assert_eq!(gone, serde_json::json!({"data": [], "next_cursor": null}));
    }

    #[test]
    fn private_metadata_is_added_to_each_member_last() {
        let members = r#"[{"user_id":"a","metadata":{}},{"user_id":"b","metadata":{"x":"}"}}]"#;
        let private = r#"[{"p":1},{}]"#;
        assert_eq!(
            with_private_metadata(members, private).unwrap(),
            r#"[{"user_id":"a","metadata":{},"private_metadata":{"p":1}},{"user_id":"b","metadata":{"x":"}"},"private_metadata":{}}]"#
        );
        assert_eq!(with_private_metadata("[]", "[]").unwrap(), "[]");
        assert!(with_private_metadata("[{}]", "[{}]").is_err());
        assert!(with_private_metadata(r#"[{"a":1}]"#, "[]").is_err());
        assert!(with_private_metadata("[1", "[]").is_err());
    }
}
