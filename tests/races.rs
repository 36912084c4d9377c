//! Identical requests at once, for every write of the route table: ten copies of one request
//! are released together, a few rounds over, and every answer must be one that a request
//! arriving just after the winner could get — the contract's code for the state it lost to,
//! never a 404 for something that still exists, never a 500 — while the state, the audit log
//! and the webhook deliveries are those a single request leaves.
//!
//! `RACES` is the table: for each write route, what the copies may be answered, which audit
//! entries they leave, and how the scene is set and the state checked. A route of
//! `roster::routes::ROUTES` that changes state and has no row fails
//! `every_write_route_has_a_race`.

mod support;

use roster::routes::{Method, RouteId, ROUTES};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::hooks::hooks;
use support::scim::{okta_user, patch_op, provision, scim, scim_token, scim_with};
use support::*;

/// Copies of one request released together.
const AT_ONCE: usize = 10;
/// Races run per route, each on a fresh organization.
const ROUNDS: usize = 3;
/// Routes raced at the same time (each race is `AT_ONCE` requests).
const LANES: usize = 3;

/// What the copies of one request may be answered.
#[derive(Debug, Clone, Copy)]
enum Answers {
    /// Every copy succeeds with this status: the write is idempotent (the losers find done
    /// what they asked for), it is a read, or each copy creates a thing of its own.
    Every(u16),
    /// One copy succeeds with `won`; every other finds the state the winner left and is
    /// answered `lost`, a status and its problem code.
    One { won: u16, lost: (u16, &'static str) },
}

/// One row of the table.
struct Row {
    route: RouteId,
    /// The plan of the organization the race runs in.
    plan: &'static str,
    answers: Answers,
    /// The audit entries the copies leave together, by action.
    records: &'static [(&'static str, usize)],
    /// Sets the scene: makes what the request acts on, and says how to check the result.
    arrange: fn(&Scene) -> Race,
}

/// A fresh organization, its owner, and an endpoint of the local receiver subscribed to
/// every webhook event there.
struct Scene {
    owner: User,
    slug: String,
    hook: String,
}

impl Scene {
    fn path(&self, rest: &str) -> String {
        format!("/v1/orgs/{}{rest}", self.slug)
    }
}

/// Whose audit log holds what a race recorded.
enum Audit {
    /// The scene's organization, read by its owner.
    Scene,
    /// Another organization, read by this user.
    Of(User, String),
    /// None: the race deleted the organization, which can no longer be read; only the news
    /// of its deletion is delivered.
    Gone,
}

/// A check of what a race left, given its answers.
type Check = Box<dyn Fn(&[Reply])>;

/// A race ready to run.
struct Race {
    /// The request every copy sends.
    request: Box<dyn Fn() -> Request + Sync>,
    /// Checks the state after the race, and whatever the answers carry beyond their status.
    settled: Check,
    audit: Audit,
    /// A step taken once the state before the race has been read, just before the race.
    then: Option<Box<dyn Fn()>>,
}

impl Race {
    fn new(
        request: impl Fn() -> Request + Sync + 'static,
        settled: impl Fn(&[Reply]) + 'static,
    ) -> Race {
        Race {
            request: Box::new(request),
            settled: Box::new(settled),
            audit: Audit::Scene,
            then: None,
        }
    }

    fn then(mut self, step: impl Fn() + 'static) -> Race {
        self.then = Some(Box::new(step));
        self
    }

    fn audit(mut self, audit: Audit) -> Race {
        self.audit = audit;
        self
    }
}

use Answers::{Every, One};
use RouteId::*;

const RACES: &[Row] = &[
    // Slugs are unique: one organization, and the others are told the slug is taken.
    Row {
        route: CreateOrg,
        plan: "free",
        answers: One {
            won: 201,
            lost: (409, "slug_taken"),
        },
        records: &[("organization.created", 1)],
        arrange: create_org_race,
    },
    Row {
        route: UpdateOrg,
        plan: "business",
        answers: Every(200),
        records: &[("organization.updated", 1)],
        arrange: update_org_race,
    },
    // Gone after the first: the organization truly does not exist any more.
    Row {
        route: DeleteOrg,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[],
        arrange: delete_org_race,
    },
    // Restored by the first; the others find it restored. The deletion just before the race
    // is recorded (and delivered) too.
    Row {
        route: RestoreOrg,
        plan: "business",
        answers: Every(200),
        records: &[("organization.deleted", 1), ("organization.restored", 1)],
        arrange: restore_org_race,
    },
    // Keys are unique: one role, and the others are told the key is taken.
    Row {
        route: CreateRole,
        plan: "business",
        answers: One {
            won: 201,
            lost: (409, "role_key_taken"),
        },
        records: &[("role.created", 1)],
        arrange: create_role_race,
    },
    Row {
        route: UpdateRole,
        plan: "business",
        answers: Every(200),
        records: &[("role.updated", 1)],
        arrange: update_role_race,
    },
    Row {
        route: DeleteRole,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("role.deleted", 1)],
        arrange: delete_role_race,
    },
    // After the first, the caller is no longer the owner.
    Row {
        route: TransferOwnership,
        plan: "business",
        answers: One {
            won: 200,
            lost: (403, "forbidden"),
        },
        records: &[
            ("member.role_changed", 2),
            ("organization.ownership_transferred", 1),
        ],
        arrange: transfer_ownership_race,
    },
    Row {
        route: UpdateMember,
        plan: "business",
        answers: Every(200),
        records: &[("member.role_changed", 1), ("member.updated", 1)],
        arrange: update_member_race,
    },
    // The membership is gone after the first.
    Row {
        route: RemoveMember,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("member.removed", 1)],
        arrange: remove_member_race,
    },
    Row {
        route: CreateInvitation,
        plan: "business",
        answers: One {
            won: 201,
            lost: (409, "invitation_pending"),
        },
        records: &[("invitation.created", 1)],
        arrange: create_invitation_race,
    },
    // Each item is judged on its own: one answer invites each address, the others say it
    // is pending.
    Row {
        route: BulkInvitations,
        plan: "business",
        answers: Every(200),
        records: &[("invitation.created", 2)],
        arrange: bulk_invitations_race,
    },
    // The invitation still exists, canceled.
    Row {
        route: CancelInvitation,
        plan: "business",
        answers: One {
            won: 204,
            lost: (410, "invitation_canceled"),
        },
        records: &[("invitation.canceled", 1)],
        arrange: cancel_invitation_race,
    },
    // The invitation still exists, just resent.
    Row {
        route: ResendInvitation,
        plan: "business",
        answers: One {
            won: 200,
            lost: (429, "rate_limited"),
        },
        records: &[("invitation.resent", 1)],
        arrange: resend_invitation_race,
    },
    // Not idempotent: each copy creates a resource.
    Row {
        route: CreateResource,
        plan: "business",
        answers: Every(201),
        records: &[("resource.created", AT_ONCE)],
        arrange: create_resource_race,
    },
    Row {
        route: UpdateResource,
        plan: "business",
        answers: Every(200),
        records: &[("resource.updated", 1)],
        arrange: update_resource_race,
    },
    Row {
        route: DeleteResource,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("resource.deleted", 1)],
        arrange: delete_resource_race,
    },
    Row {
        route: PutGrant,
        plan: "business",
        answers: Every(200),
        records: &[("grant.set", 1)],
        arrange: put_grant_race,
    },
    Row {
        route: DeleteGrant,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("grant.removed", 1)],
        arrange: delete_grant_race,
    },
    // Team slugs are unique in an organization: one team, and the others are told so.
    Row {
        route: CreateTeam,
        plan: "pro",
        answers: One {
            won: 201,
            lost: (409, "slug_taken"),
        },
        records: &[("team.created", 1)],
        arrange: create_team_race,
    },
    Row {
        route: UpdateTeam,
        plan: "business",
        answers: Every(200),
        records: &[("team.updated", 1)],
        arrange: update_team_race,
    },
    Row {
        route: DeleteTeam,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("team.deleted", 1)],
        arrange: delete_team_race,
    },
    Row {
        route: PutTeamMember,
        plan: "business",
        answers: Every(200),
        records: &[("team.member_added", 1)],
        arrange: put_team_member_race,
    },
    Row {
        route: RemoveTeamMember,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("team.member_removed", 1)],
        arrange: remove_team_member_race,
    },
    Row {
        route: PutTeamGrant,
        plan: "business",
        answers: Every(200),
        records: &[("team_grant.set", 1)],
        arrange: put_team_grant_race,
    },
    Row {
        route: DeleteTeamGrant,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("team_grant.removed", 1)],
        arrange: delete_team_grant_race,
    },
    // A read: the same answer for all, nothing recorded.
    Row {
        route: Authorize,
        plan: "business",
        answers: Every(200),
        records: &[],
        arrange: authorize_race,
    },
    Row {
        route: ChangePlan,
        plan: "pro",
        answers: Every(200),
        records: &[("billing.plan_changed", 1), ("seats.changed", 1)],
        arrange: change_plan_race,
    },
    // One copy buys the seats; the others find them bought and pay nothing.
    Row {
        route: SetExtraSeats,
        plan: "pro",
        answers: Every(200),
        records: &[("seats.changed", 1)],
        arrange: set_extra_seats_race,
    },
    // One Idempotency-Key: every copy answers the first answer.
    Row {
        route: RecordUsage,
        plan: "pro",
        answers: Every(201),
        records: &[("usage.recorded", 1)],
        arrange: record_usage_race,
    },
    Row {
        route: AcceptInvitation,
        plan: "business",
        answers: One {
            won: 200,
            lost: (410, "invitation_already_used"),
        },
        records: &[("member.added", 1), ("invitation.accepted", 1)],
        arrange: accept_by_token_race,
    },
    // Not idempotent: each copy makes a link of its own.
    Row {
        route: CreateInviteLink,
        plan: "business",
        answers: Every(201),
        records: &[("invite_link.created", AT_ONCE)],
        arrange: create_invite_link_race,
    },
    // Revoking a revoked link changes nothing and records nothing.
    Row {
        route: RevokeInviteLink,
        plan: "business",
        answers: Every(204),
        records: &[("invite_link.revoked", 1)],
        arrange: revoke_invite_link_race,
    },
    // One membership and one use; the others find the joiner a member.
    Row {
        route: JoinByInviteLink,
        plan: "business",
        answers: One {
            won: 200,
            lost: (409, "already_member"),
        },
        records: &[("member.added", 1)],
        arrange: join_by_invite_link_race,
    },
    Row {
        route: DeclineInvitation,
        plan: "business",
        answers: One {
            won: 204,
            lost: (410, "invitation_already_used"),
        },
        records: &[("invitation.declined", 1)],
        arrange: decline_by_token_race,
    },
    Row {
        route: AcceptMyInvitation,
        plan: "business",
        answers: One {
            won: 200,
            lost: (410, "invitation_already_used"),
        },
        records: &[("member.added", 1), ("invitation.accepted", 1)],
        arrange: accept_by_id_race,
    },
    Row {
        route: DeclineMyInvitation,
        plan: "business",
        answers: One {
            won: 204,
            lost: (410, "invitation_already_used"),
        },
        records: &[("invitation.declined", 1)],
        arrange: decline_by_id_race,
    },
    // Not idempotent: each copy issues a link of its own; none is audited (a link changes
    // nothing until it is used, and then only opens a session).
    Row {
        route: CreateConsoleLink,
        plan: "pro",
        answers: Every(201),
        records: &[],
        arrange: create_console_link_race,
    },
    // Not idempotent: each copy issues a key.
    Row {
        route: CreateApiKey,
        plan: "business",
        answers: Every(201),
        records: &[("api_key.created", AT_ONCE)],
        arrange: create_api_key_race,
    },
    // A revoked key is gone for the API: it is listed nowhere and authenticates nothing.
    Row {
        route: RevokeApiKey,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("api_key.revoked", 1)],
        arrange: revoke_api_key_race,
    },
    // Not idempotent: each copy issues a token of its own.
    Row {
        route: CreateScimToken,
        plan: "business",
        answers: Every(201),
        records: &[("scim_token.created", AT_ONCE)],
        arrange: create_scim_token_race,
    },
    // A revoked token is listed nowhere and authenticates nothing.
    Row {
        route: RevokeScimToken,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("scim_token.revoked", 1)],
        arrange: revoke_scim_token_race,
    },
    // The SCIM service: one User or Group per address or name; the others are told it is
    // taken (`uniqueness`), or find it gone.
    // Searches write nothing: every copy gets the same page.
    Row {
        route: ScimSearchUsers,
        plan: "business",
        answers: Every(200),
        records: &[],
        arrange: scim_search_users_race,
    },
    Row {
        route: ScimSearchGroups,
        plan: "business",
        answers: Every(200),
        records: &[],
        arrange: scim_search_groups_race,
    },
    // Not offered: a search across resource types is 501, however often it is asked.
    Row {
        route: ScimSearch,
        plan: "business",
        answers: Every(501),
        records: &[],
        arrange: scim_search_all_race,
    },
    Row {
        route: ScimCreateUser,
        plan: "business",
        answers: One {
            won: 201,
            lost: (409, "uniqueness"),
        },
        records: &[("member.added", 1)],
        arrange: scim_create_user_race,
    },
    Row {
        route: ScimReplaceUser,
        plan: "business",
        answers: Every(200),
        records: &[("member.suspended", 1)],
        arrange: scim_replace_user_race,
    },
    Row {
        route: ScimPatchUser,
        plan: "business",
        answers: Every(200),
        records: &[("member.suspended", 1)],
        arrange: scim_patch_user_race,
    },
    Row {
        route: ScimDeleteUser,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, ""),
        },
        records: &[("member.removed", 1)],
        arrange: scim_delete_user_race,
    },
    Row {
        route: ScimCreateGroup,
        plan: "business",
        answers: One {
            won: 201,
            lost: (409, "uniqueness"),
        },
        records: &[("team.created", 1)],
        arrange: scim_create_group_race,
    },
    Row {
        route: ScimReplaceGroup,
        plan: "business",
        answers: Every(200),
        records: &[("team.updated", 1)],
        arrange: scim_replace_group_race,
    },
    Row {
        route: ScimPatchGroup,
        plan: "business",
        answers: Every(200),
        records: &[("team.member_added", 1)],
        arrange: scim_patch_group_race,
    },
    Row {
        route: ScimDeleteGroup,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, ""),
        },
        records: &[("team.deleted", 1)],
        arrange: scim_delete_group_race,
    },
    // Not idempotent: each copy adds an endpoint.
    Row {
        route: CreateWebhook,
        plan: "business",
        answers: Every(201),
        records: &[("webhook.created", AT_ONCE)],
        arrange: create_webhook_race,
    },
    Row {
        route: DeleteWebhook,
        plan: "business",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("webhook.deleted", 1)],
        arrange: delete_webhook_race,
    },
    // A domain added once; the others find it there and are answered with it.
    Row {
        route: AddDomain,
        plan: "pro",
        answers: One {
            won: 201,
            lost: (200, ""),
        },
        records: &[("domain.added", 1)],
        arrange: add_domain_race,
    },
    Row {
        route: VerifyDomain,
        plan: "pro",
        answers: Every(200),
        records: &[("domain.verified", 1)],
        arrange: verify_domain_race,
    },
    Row {
        route: UpdateDomain,
        plan: "business",
        answers: Every(200),
        records: &[("domain.updated", 1)],
        arrange: update_domain_race,
    },
    Row {
        route: RemoveDomain,
        plan: "pro",
        answers: One {
            won: 204,
            lost: (404, "not_found"),
        },
        records: &[("domain.removed", 1)],
        arrange: remove_domain_race,
    },
    // One membership per person, however many times they press the button.
    Row {
        route: JoinOrg,
        plan: "business",
        answers: One {
            won: 200,
            lost: (409, "already_member"),
        },
        records: &[("member.added", 1)],
        arrange: join_org_race,
    },
    Row {
        route: ApproveJoinRequest,
        plan: "business",
        answers: Every(200),
        records: &[("member.added", 1), ("join_request.approved", 1)],
        arrange: approve_join_request_race,
    },
    Row {
        route: DenyJoinRequest,
        plan: "business",
        answers: Every(204),
        records: &[("join_request.denied", 1)],
        arrange: deny_join_request_race,
    },
];

fn create_org_race(_: &Scene) -> Race {
    let founder = User::new("founder");
    let slug = unique("race");
    let body = json!({"name": "Race", "slug": slug});
    let by = founder.clone();
    Race::new(move || post("/v1/orgs").auth(&by).json(&body), {
        let (founder, slug) = (founder.clone(), slug.clone());
        move |_| {
            let orgs = list(&founder, "/v1/orgs");
            assert_eq!(orgs.len(), 1, "{orgs:?}");
            assert_eq!(orgs[0]["slug"], slug.as_str());
        }
    })
    .audit(Audit::Of(founder, slug))
}

fn update_org_race(scene: &Scene) -> Race {
    let body = json!({
        "name": "Renamed",
        "logo_url": "https://cdn.example.com/logo.png",
        "metadata": {"tier": "gold", "limits": {"seats": 9}},
    });
    let (owner, path) = (scene.owner.clone(), scene.path(""));
    Race::new(move || patch(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path(""));
        move |replies| {
            same_bodies(replies);
            let org = get(&path).auth(&owner).send().ok(200);
            assert_eq!(org["name"], "Renamed");
            assert_eq!(
                org["metadata"],
                json!({"tier": "gold", "limits": {"seats": 9}})
            );
            assert_eq!(org["logo_url"], "https://cdn.example.com/logo.png");
        }
    })
}

fn delete_org_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path(""));
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, path) = (scene.owner.clone(), scene.path(""));
        move |_| {
            get(&path).auth(&owner).send().expect(404, "not_found");
            assert!(list(&owner, "/v1/orgs").is_empty());
        }
    })
    .audit(Audit::Gone)
}

fn restore_org_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/restore"));
    let deleted = (scene.owner.clone(), scene.path(""));
    Race::new(move || post(&path).auth(&owner), {
        let (owner, path) = (scene.owner.clone(), scene.path(""));
        move |_| {
            get(&path).auth(&owner).send().ok(200);
            assert!(list(&owner, "/v1/me/deleted-organizations").is_empty());
        }
    })
    .then(move || {
        delete(&deleted.1).auth(&deleted.0).send().ok(204);
    })
}

/// The keys of the organization's custom roles.
fn custom_roles(by: &User, roles_path: &str) -> Vec<String> {
    list(by, roles_path)
        .into_iter()
        .filter(|r| r["builtin"] == false)
        .filter_map(|r| r["key"].as_str().map(str::to_string))
        .collect()
}

fn create_role_race(scene: &Scene) -> Race {
    let body = json!({"key": "support", "name": "Support", "permissions": ["usage.read_all"]});
    let (owner, path) = (scene.owner.clone(), scene.path("/roles"));
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/roles"));
        move |_| assert_eq!(custom_roles(&owner, &path), ["support"])
    })
}

/// Creates the custom role `support` in the scene's organization.
fn support_role(scene: &Scene) {
    post(&scene.path("/roles"))
        .auth(&scene.owner)
        .json(&json!({"key": "support", "name": "Support", "permissions": []}))
        .send()
        .ok(201);
}

fn update_role_race(scene: &Scene) -> Race {
    support_role(scene);
    let body = json!({"name": "Customer support", "permissions": ["usage.read_all"],
                      "resource_cap": "write"});
    let (owner, path) = (scene.owner.clone(), scene.path("/roles/support"));
    Race::new(move || patch(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/roles"));
        move |replies| {
            same_bodies(replies);
            let role = list(&owner, &path)
                .into_iter()
                .find(|r| r["key"] == "support")
                .expect("the role");
            assert_eq!(role["name"], "Customer support");
            assert_eq!(role["resource_cap"], "write");
        }
    })
}

fn delete_role_race(scene: &Scene) -> Race {
    support_role(scene);
    let (owner, path) = (scene.owner.clone(), scene.path("/roles/support"));
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, path) = (scene.owner.clone(), scene.path("/roles"));
        move |_| assert!(custom_roles(&owner, &path).is_empty())
    })
}

fn transfer_ownership_race(scene: &Scene) -> Race {
    let heir = add_member(&scene.owner, &scene.slug, "member");
    let body = json!({"user_id": heir.id});
    let (owner, path) = (scene.owner.clone(), scene.path("/transfer-ownership"));
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/members?limit=100"));
        move |_| {
            let roles = roles(&owner, &path);
            assert_eq!(roles[&heir.id], "owner");
            assert_eq!(roles[&owner.id], "admin");
        }
    })
}

fn update_member_race(scene: &Scene) -> Race {
    let member = add_member(&scene.owner, &scene.slug, "member");
    let (owner, path) = (
        scene.owner.clone(),
        scene.path(&format!("/members/{}", member.id)),
    );
    Race::new(
        move || {
            let body = json!({"role": "viewer", "metadata": {"team": "a", "tags": {"x": 1}}});
            patch(&path).auth(&owner).json(&body)
        },
        {
            let (owner, path) = (scene.owner.clone(), scene.path("/members?limit=100"));
            move |replies| {
                same_bodies(replies);
                assert_eq!(roles(&owner, &path)[&member.id], "viewer");
                assert_eq!(
                    replies[0].json["metadata"],
                    json!({"team": "a", "tags": {"x": 1}})
                );
            }
        },
    )
}

fn remove_member_race(scene: &Scene) -> Race {
    let member = add_member(&scene.owner, &scene.slug, "member");
    let (owner, path) = (
        scene.owner.clone(),
        scene.path(&format!("/members/{}", member.id)),
    );
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, slug) = (scene.owner.clone(), scene.slug.clone());
        move |_| assert_eq!(member_ids(&owner, &slug), std::slice::from_ref(&owner.id))
    })
}

fn create_invitation_race(scene: &Scene) -> Race {
    let email = User::new("invitee").email;
    let body = json!({"email": email, "role": "member"});
    let (owner, path) = (scene.owner.clone(), scene.path("/invitations"));
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/invitations?limit=100"));
        move |_| {
            let pending = list(&owner, &path);
            assert_eq!(pending.len(), 1, "{pending:?}");
            assert_eq!(pending[0]["email"], email.as_str());
            assert_eq!(server().mail.to(&email).len(), 1, "one email");
        }
    })
}

fn bulk_invitations_race(scene: &Scene) -> Race {
    let emails = [User::new("first").email, User::new("second").email];
    let body = json!({"invitations": [
        {"email": emails[0], "role": "member"},
        {"email": emails[1], "role": "viewer"},
    ]});
    let (owner, path) = (scene.owner.clone(), scene.path("/invitations/bulk"));
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/invitations?limit=100"));
        move |replies| {
            for email in &emails {
                let results: Vec<&Value> = replies
                    .iter()
                    .flat_map(|r| r.json["results"].as_array().into_iter().flatten())
                    .filter(|r| r["email"] == email.as_str())
                    .collect();
                assert_eq!(results.len(), AT_ONCE, "{results:?}");
                let invited = results.iter().filter(|r| r["invitation"].is_object());
                assert_eq!(invited.count(), 1, "{results:?}");
                for refused in results.iter().filter(|r| !r["invitation"].is_object()) {
                    assert_eq!(refused["error"]["code"], "invitation_pending", "{refused}");
                }
                assert_eq!(server().mail.to(email).len(), 1, "one email to {email}");
            }
            assert_eq!(list(&owner, &path).len(), 2);
        }
    })
}

fn cancel_invitation_race(scene: &Scene) -> Race {
    let invitation = create_invitation(&scene.owner, &scene.slug, &User::new("x").email, "member");
    let path = scene.path(&format!(
        "/invitations/{}",
        invitation["id"].as_str().unwrap()
    ));
    let (owner, target) = (scene.owner.clone(), path.clone());
    Race::new(move || delete(&target).auth(&owner), {
        let owner = scene.owner.clone();
        move |_| assert_eq!(get(&path).auth(&owner).send().ok(200)["status"], "canceled")
    })
}

fn resend_invitation_race(scene: &Scene) -> Race {
    let email = User::new("again").email;
    let invitation = create_invitation(&scene.owner, &scene.slug, &email, "member");
    server().mail.wait_for(&email, 1);
    let path = scene.path(&format!(
        "/invitations/{}",
        invitation["id"].as_str().unwrap()
    ));
    let (owner, resend) = (scene.owner.clone(), format!("{path}/resend"));
    Race::new(move || post(&resend).auth(&owner), {
        let owner = scene.owner.clone();
        move |_| {
            assert_eq!(get(&path).auth(&owner).send().ok(200)["status"], "pending");
            assert_eq!(server().mail.to(&email).len(), 2, "one email more");
            // The link of the resent email is the one that works.
            let token = server().mail.last(&email).token();
            let preview = get(&format!("/v1/invitations/{token}")).send().ok(200);
            assert_eq!(preview["status"], "pending");
        }
    })
}

fn create_resource_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/resources"));
    Race::new(
        move || post(&path).auth(&owner).json(&json!({"name": "Shared"})),
        {
            let (owner, path) = (scene.owner.clone(), scene.path("/resources?limit=100"));
            move |replies| assert_eq!(ids(&list(&owner, &path)), reply_ids(replies))
        },
    )
}

fn resource(scene: &Scene) -> String {
    post(&scene.path("/resources"))
        .auth(&scene.owner)
        .json(&json!({"name": "Target", "kind": "folder"}))
        .send()
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn update_resource_race(scene: &Scene) -> Race {
    let path = scene.path(&format!("/resources/{}", resource(scene)));
    let body = json!({"name": "Renamed", "kind": "report"});
    let (owner, target) = (scene.owner.clone(), path.clone());
    Race::new(move || patch(&target).auth(&owner).json(&body), {
        let owner = scene.owner.clone();
        move |replies| {
            same_bodies(replies);
            let now = get(&path).auth(&owner).send().ok(200);
            assert_eq!(
                (&now["name"], &now["kind"]),
                (&json!("Renamed"), &json!("report"))
            );
        }
    })
}

fn delete_resource_race(scene: &Scene) -> Race {
    let path = scene.path(&format!("/resources/{}", resource(scene)));
    let (owner, target) = (scene.owner.clone(), path.clone());
    Race::new(move || delete(&target).auth(&owner), {
        let owner = scene.owner.clone();
        move |_| {
            get(&path).auth(&owner).send().expect(404, "not_found");
        }
    })
}

/// The grants of member `user_id`, as the members list shows them.
fn grants(scene_owner: &User, members_path: &str, user_id: &str) -> Value {
    list(scene_owner, members_path)
        .into_iter()
        .find(|m| m["user_id"] == user_id)
        .map(|m| m["grants"].clone())
        .unwrap_or(Value::Null)
}

fn put_grant_race(scene: &Scene) -> Race {
    let id = resource(scene);
    let member = add_member(&scene.owner, &scene.slug, "member");
    let path = scene.path(&format!("/resources/{id}/grants/{}", member.id));
    let owner = scene.owner.clone();
    Race::new(
        move || put(&path).auth(&owner).json(&json!({"level": "write"})),
        {
            let (owner, members) = (scene.owner.clone(), scene.path("/members?limit=100"));
            move |replies| {
                same_bodies(replies);
                assert_eq!(
                    grants(&owner, &members, &member.id),
                    json!([{"resource_id": id, "level": "write"}])
                );
            }
        },
    )
}

fn delete_grant_race(scene: &Scene) -> Race {
    let id = resource(scene);
    let member = add_member(&scene.owner, &scene.slug, "member");
    let path = scene.path(&format!("/resources/{id}/grants/{}", member.id));
    put(&path)
        .auth(&scene.owner)
        .json(&json!({"level": "write"}))
        .send()
        .ok(200);
    let owner = scene.owner.clone();
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, members) = (scene.owner.clone(), scene.path("/members?limit=100"));
        move |_| assert_eq!(grants(&owner, &members, &member.id), json!([]))
    })
}

fn authorize_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/authorize"));
    Race::new(
        move || {
            post(&path)
                .auth(&owner)
                .json(&json!({"permission": "org.update"}))
        },
        |replies| {
            same_bodies(replies);
            assert_eq!(
                replies[0].json,
                json!({"allowed": true, "role": "owner", "level": null})
            );
        },
    )
}

fn change_plan_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/billing/plan"));
    Race::new(
        move || put(&path).auth(&owner).json(&json!({"plan": "business"})),
        {
            let (owner, path) = (scene.owner.clone(), scene.path("/billing"));
            move |replies| {
                same_bodies(replies);
                assert_eq!(get(&path).auth(&owner).send().ok(200)["plan"], "business");
            }
        },
    )
}

fn set_extra_seats_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/billing/seats"));
    Race::new(
        move || put(&path).auth(&owner).json(&json!({"extra": 2})),
        {
            let (owner, billing, ledger) = (
                scene.owner.clone(),
                scene.path("/billing"),
                scene.path("/billing/ledger"),
            );
            move |replies| {
                let charged: Vec<i64> = replies
                    .iter()
                    .filter_map(|r| r.json["charge_cents"].as_i64())
                    .filter(|c| *c > 0)
                    .collect();
                assert_eq!(charged.len(), 1, "one charge: {replies:?}");
                let seats = &get(&billing).auth(&owner).send().ok(200)["seats"];
                assert_eq!(seats["extra"], 2);
                let entries = list(&owner, &ledger);
                assert_eq!(entries.len(), 1, "{entries:?}");
                assert_eq!(entries[0]["amount_cents"], charged[0]);
            }
        },
    )
}

fn record_usage_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/usage"));
    let key = unique("key");
    Race::new(
        move || {
            post(&path)
                .auth(&owner)
                .header("idempotency-key", &key)
                .json(&json!({"amount": 5, "feature": "race"}))
        },
        {
            let (owner, path) = (scene.owner.clone(), scene.path("/usage"));
            move |replies| {
                same_bodies(replies);
                assert_eq!(get(&path).auth(&owner).send().ok(200)["used"], 5);
            }
        },
    )
}

/// An invitation to a new person: the person, the invitation and the token of its link.
fn invitee(scene: &Scene) -> (User, Value, String) {
    let person = User::new("invitee");
    let (invitation, token) = invite(&scene.owner, &scene.slug, &person.email, "member");
    (person, invitation, token)
}

fn answer_race(scene: &Scene, path: String, by: User, invitation: &Value, accepted: bool) -> Race {
    let invitee = by.clone();
    let status = scene.path(&format!(
        "/invitations/{}",
        invitation["id"].as_str().unwrap()
    ));
    Race::new(move || post(&path).auth(&by), {
        let (owner, slug) = (scene.owner.clone(), scene.slug.clone());
        move |_| {
            let members = member_ids(&owner, &slug);
            assert_eq!(members.contains(&invitee.id), accepted, "{members:?}");
            assert_eq!(members.len(), if accepted { 2 } else { 1 }, "{members:?}");
            let now = get(&status).auth(&owner).send().ok(200)["status"].clone();
            assert_eq!(now, if accepted { "accepted" } else { "declined" });
        }
    })
}

fn accept_by_token_race(scene: &Scene) -> Race {
    let (person, invitation, token) = invitee(scene);
    let path = format!("/v1/invitations/{token}/accept");
    answer_race(scene, path, person, &invitation, true)
}

fn decline_by_token_race(scene: &Scene) -> Race {
    let (person, invitation, token) = invitee(scene);
    let path = format!("/v1/invitations/{token}/decline");
    answer_race(scene, path, person, &invitation, false)
}

fn accept_by_id_race(scene: &Scene) -> Race {
    let (person, invitation, _) = invitee(scene);
    let id = invitation["id"].as_str().unwrap();
    let path = format!("/v1/me/invitations/{id}/accept");
    answer_race(scene, path, person, &invitation, true)
}

fn decline_by_id_race(scene: &Scene) -> Race {
    let (person, invitation, _) = invitee(scene);
    let id = invitation["id"].as_str().unwrap();
    let path = format!("/v1/me/invitations/{id}/decline");
    answer_race(scene, path, person, &invitation, false)
}

fn create_invite_link_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/invite-links"));
    let body = json!({"role": "member", "max_uses": 5});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/invite-links?limit=100"));
        move |replies| assert_eq!(ids(&list(&owner, &path)), reply_ids(replies))
    })
}

/// A link of the scene's organization, and its token.
fn invite_link(scene: &Scene) -> (String, String) {
    let link = post(&scene.path("/invite-links"))
        .auth(&scene.owner)
        .json(&json!({"role": "member"}))
        .send()
        .ok(201);
    let token = link["url"].as_str().unwrap().rsplit('/').next().unwrap();
    (link["id"].as_str().unwrap().to_string(), token.to_string())
}

fn revoke_invite_link_race(scene: &Scene) -> Race {
    let (id, token) = invite_link(scene);
    let (owner, path) = (
        scene.owner.clone(),
        scene.path(&format!("/invite-links/{id}")),
    );
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, links) = (scene.owner.clone(), scene.path("/invite-links"));
        move |_| {
            assert_eq!(list(&owner, &links)[0]["status"], "revoked");
            post(&format!("/v1/invite-links/{token}/join"))
                .auth(&User::new("late"))
                .send()
                .expect(410, "invite_link_revoked");
        }
    })
}

fn join_by_invite_link_race(scene: &Scene) -> Race {
    let (_, token) = invite_link(scene);
    let joiner = User::new("joiner");
    let path = format!("/v1/invite-links/{token}/join");
    Race::new(move || post(&path).auth(&joiner), {
        let (owner, slug, links) = (
            scene.owner.clone(),
            scene.slug.clone(),
            scene.path("/invite-links"),
        );
        move |_| {
            assert_eq!(member_ids(&owner, &slug).len(), 2);
            assert_eq!(list(&owner, &links)[0]["uses"], 1);
        }
    })
}

fn create_console_link_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/console-links"));
    Race::new(move || post(&path).auth(&owner).json(&json!({})), {
        move |replies| {
            let urls: HashSet<&str> = replies
                .iter()
                .filter_map(|r| r.json["url"].as_str())
                .collect();
            assert_eq!(urls.len(), AT_ONCE);
            // Each opens a session of its own.
            for url in urls {
                assert_eq!(raw("GET", &path_of(url), None, None).status, 303, "{url}");
            }
        }
    })
}

fn create_api_key_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/api-keys"));
    let body = json!({"name": "Backend", "scopes": ["members:read"]});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/api-keys?limit=100"));
        move |replies| assert_eq!(ids(&list(&owner, &path)), reply_ids(replies))
    })
}

fn revoke_api_key_race(scene: &Scene) -> Race {
    let key = post(&scene.path("/api-keys"))
        .auth(&scene.owner)
        .json(&json!({"name": "Backend", "scopes": ["members:read"]}))
        .send()
        .ok(201);
    let secret = key["secret"].as_str().unwrap().to_string();
    let path = scene.path(&format!("/api-keys/{}", key["id"].as_str().unwrap()));
    let owner = scene.owner.clone();
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, keys, org) = (scene.owner.clone(), scene.path("/api-keys"), scene.path(""));
        move |_| {
            assert!(list(&owner, &keys).is_empty());
            get(&org)
                .bearer(&secret)
                .send()
                .expect(401, "unauthenticated");
        }
    })
}

fn create_scim_token_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/scim-tokens"));
    let body = json!({"name": "Okta"});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/scim-tokens?limit=100"));
        move |replies| assert_eq!(ids(&list(&owner, &path)), reply_ids(replies))
    })
}

fn revoke_scim_token_race(scene: &Scene) -> Race {
    let token = post(&scene.path("/scim-tokens"))
        .auth(&scene.owner)
        .json(&json!({"name": "Okta"}))
        .send()
        .ok(201);
    let secret = token["secret"].as_str().unwrap().to_string();
    let path = scene.path(&format!("/scim-tokens/{}", token["id"].as_str().unwrap()));
    let owner = scene.owner.clone();
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, tokens) = (scene.owner.clone(), scene.path("/scim-tokens"));
        move |_| {
            assert!(list(&owner, &tokens).is_empty());
            assert_eq!(scim("GET", "/Users", &secret).send().status, 401);
        }
    })
}

fn scim_search_race(scene: &Scene, path: &'static str) -> Race {
    let (token, _) = scim_user(scene);
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 10});
    Race::new(move || scim_with("POST", path, &token, &body), same_bodies)
}

fn scim_search_users_race(scene: &Scene) -> Race {
    scim_search_race(scene, "/Users/.search")
}

fn scim_search_groups_race(scene: &Scene) -> Race {
    scim_search_race(scene, "/Groups/.search")
}

fn scim_search_all_race(scene: &Scene) -> Race {
    scim_search_race(scene, "/.search")
}

fn scim_create_user_race(scene: &Scene) -> Race {
    let token = scim_token(&scene.owner, &scene.slug);
    let address = format!("{}@example.com", unique("ana"));
    let body = okta_user(&address);
    Race::new(move || scim_with("POST", "/Users", &token, &body), {
        let (owner, slug) = (scene.owner.clone(), scene.slug.clone());
        move |_| assert_eq!(member_ids(&owner, &slug).len(), 2)
    })
}

/// A token of the scene's organization and a User it provisioned: the token and the id.
fn scim_user(scene: &Scene) -> (String, String) {
    let token = scim_token(&scene.owner, &scene.slug);
    let address = format!("{}@example.com", unique("ana"));
    let id = provision(&token, &address)["id"]
        .as_str()
        .unwrap()
        .to_string();
    (token, id)
}

fn scim_active(token: &str, id: &str) -> Value {
    scim("GET", &format!("/Users/{id}"), token).send().ok(200)["active"].clone()
}

fn scim_replace_user_race(scene: &Scene) -> Race {
    let (token, id) = scim_user(scene);
    let user = scim("GET", &format!("/Users/{id}"), &token).send().ok(200);
    let body =
        json!({"schemas": [support::scim::USER], "userName": user["userName"], "active": false});
    let path = format!("/Users/{id}");
    Race::new(
        {
            let token = token.clone();
            move || scim_with("PUT", &path, &token, &body)
        },
        move |replies| {
            same_bodies(replies);
            assert_eq!(scim_active(&token, &id), false);
        },
    )
}

fn scim_patch_user_race(scene: &Scene) -> Race {
    let (token, id) = scim_user(scene);
    let body = patch_op(json!([{"op": "replace", "value": {"active": false}}]));
    let path = format!("/Users/{id}");
    Race::new(
        {
            let token = token.clone();
            move || scim_with("PATCH", &path, &token, &body)
        },
        move |replies| {
            same_bodies(replies);
            assert_eq!(scim_active(&token, &id), false);
        },
    )
}

fn scim_delete_user_race(scene: &Scene) -> Race {
    let (token, id) = scim_user(scene);
    let path = format!("/Users/{id}");
    Race::new(move || scim("DELETE", &path, &token), {
        let (owner, slug) = (scene.owner.clone(), scene.slug.clone());
        move |_| assert_eq!(member_ids(&owner, &slug), std::slice::from_ref(&owner.id))
    })
}

fn scim_create_group_race(scene: &Scene) -> Race {
    let token = scim_token(&scene.owner, &scene.slug);
    let body = json!({"schemas": [support::scim::GROUP], "displayName": unique("Sales")});
    Race::new(move || scim_with("POST", "/Groups", &token, &body), {
        let (owner, teams) = (scene.owner.clone(), scene.path("/teams"));
        move |_| assert_eq!(list(&owner, &teams).len(), 1)
    })
}

/// A token, a Group it created and a User it provisioned: the token, the Group's id and
/// the User's.
fn scim_group(scene: &Scene) -> (String, String, String) {
    let (token, user) = scim_user(scene);
    let group = scim_with(
        "POST",
        "/Groups",
        &token,
        &json!({"schemas": [support::scim::GROUP], "displayName": unique("Sales")}),
    )
    .send()
    .ok(201);
    (token, group["id"].as_str().unwrap().to_string(), user)
}

fn scim_replace_group_race(scene: &Scene) -> Race {
    let (token, id, _) = scim_group(scene);
    let name = unique("Platform");
    let body = json!({"schemas": [support::scim::GROUP], "displayName": name});
    let path = format!("/Groups/{id}");
    Race::new(
        {
            let (token, path) = (token.clone(), path.clone());
            move || scim_with("PUT", &path, &token, &body)
        },
        move |replies| {
            same_bodies(replies);
            let group = scim("GET", &path, &token).send().ok(200);
            assert_eq!(group["displayName"], name);
        },
    )
}

fn scim_patch_group_race(scene: &Scene) -> Race {
    let (token, id, user) = scim_group(scene);
    let body = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    let path = format!("/Groups/{id}");
    Race::new(
        {
            let (token, path) = (token.clone(), path.clone());
            move || scim_with("PATCH", &path, &token, &body)
        },
        move |replies| {
            same_bodies(replies);
            let group = scim("GET", &path, &token).send().ok(200);
            assert_eq!(group["members"].as_array().unwrap().len(), 1);
        },
    )
}

fn scim_delete_group_race(scene: &Scene) -> Race {
    let (token, id, _) = scim_group(scene);
    let path = format!("/Groups/{id}");
    Race::new(move || scim("DELETE", &path, &token), {
        let (owner, teams) = (scene.owner.clone(), scene.path("/teams"));
        move |_| assert!(list(&owner, &teams).is_empty())
    })
}

fn create_webhook_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/webhooks"));
    let body = json!({"url": hooks().url("created"), "events": ["member.added"]});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path, scene_hook) = (
            scene.owner.clone(),
            scene.path("/webhooks?limit=100"),
            scene.hook.clone(),
        );
        move |replies| {
            let hooks: Vec<Value> = list(&owner, &path)
                .into_iter()
                .filter(|h| h["url"] != scene_hook.as_str())
                .collect();
            assert_eq!(ids(&hooks), reply_ids(replies));
        }
    })
}

fn delete_webhook_race(scene: &Scene) -> Race {
    let hook = post(&scene.path("/webhooks"))
        .auth(&scene.owner)
        .json(&json!({"url": hooks().url("doomed"), "events": ["member.added"]}))
        .send()
        .ok(201);
    let path = scene.path(&format!("/webhooks/{}", hook["id"].as_str().unwrap()));
    let owner = scene.owner.clone();
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, path, scene_hook) = (
            scene.owner.clone(),
            scene.path("/webhooks"),
            scene.hook.clone(),
        );
        move |_| {
            let urls: Vec<Value> = list(&owner, &path)
                .iter()
                .map(|h| h["url"].clone())
                .collect();
            assert_eq!(urls, [json!(scene_hook)]);
        }
    })
}

/// A team of the scene's organization, with slug `team`.
fn team(scene: &Scene, team: &str) -> String {
    post(&scene.path("/teams"))
        .auth(&scene.owner)
        .json(&json!({"name": "Target", "slug": team}))
        .send()
        .ok(201);
    scene.path(&format!("/teams/{team}"))
}

fn create_team_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/teams"));
    let body = json!({"name": "Platform"});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/teams?limit=100"));
        move |replies| {
            let teams = list(&owner, &path);
            assert_eq!(teams.len(), 1, "{teams:?}");
            assert_eq!(teams[0]["slug"], "platform");
            let created: Vec<&Value> = replies
                .iter()
                .filter(|r| r.status == 201)
                .map(|r| &r.json["id"])
                .collect();
            assert_eq!(created, [&teams[0]["id"]]);
        }
    })
}

fn update_team_race(scene: &Scene) -> Race {
    let path = team(scene, "target");
    let (owner, target) = (scene.owner.clone(), path.clone());
    Race::new(
        move || {
            patch(&target)
                .auth(&owner)
                .json(&json!({"name": "Renamed"}))
        },
        {
            let owner = scene.owner.clone();
            move |replies| {
                same_bodies(replies);
                assert_eq!(get(&path).auth(&owner).send().ok(200)["name"], "Renamed");
            }
        },
    )
}

fn delete_team_race(scene: &Scene) -> Race {
    let path = team(scene, "target");
    let (owner, target) = (scene.owner.clone(), path.clone());
    Race::new(move || delete(&target).auth(&owner), {
        let owner = scene.owner.clone();
        move |_| {
            get(&path).auth(&owner).send().expect(404, "not_found");
        }
    })
}

/// The members of a team and their team roles.
fn team_roles(by: &User, team_path: &str) -> BTreeMap<String, String> {
    list(by, &format!("{team_path}/members?limit=100"))
        .iter()
        .map(|m| {
            let field = |name: &str| m[name].as_str().unwrap_or_default().to_string();
            (field("user_id"), field("team_role"))
        })
        .collect()
}

fn put_team_member_race(scene: &Scene) -> Race {
    let path = team(scene, "target");
    let member = add_member(&scene.owner, &scene.slug, "member");
    let (owner, target) = (scene.owner.clone(), format!("{path}/members/{}", member.id));
    Race::new(
        move || {
            put(&target)
                .auth(&owner)
                .json(&json!({"team_role": "maintainer"}))
        },
        {
            let owner = scene.owner.clone();
            move |replies| {
                same_bodies(replies);
                let roles = team_roles(&owner, &path);
                assert_eq!(roles.len(), 1, "{roles:?}");
                assert_eq!(roles[&member.id], "maintainer");
            }
        },
    )
}

fn remove_team_member_race(scene: &Scene) -> Race {
    let path = team(scene, "target");
    let member = add_member(&scene.owner, &scene.slug, "member");
    let target = format!("{path}/members/{}", member.id);
    put(&target)
        .auth(&scene.owner)
        .json(&json!({"team_role": "member"}))
        .send()
        .ok(200);
    let owner = scene.owner.clone();
    Race::new(move || delete(&target).auth(&owner), {
        let owner = scene.owner.clone();
        move |_| assert!(team_roles(&owner, &path).is_empty())
    })
}

/// A domain of the scene's organization, added and (unless `pending`) verified against the
/// DNS stand-in: its name and id.
fn scene_domain(scene: &Scene, pending: bool) -> (String, String) {
    let domain = format!("{}.example", unique("race"));
    let added = post(&scene.path("/domains"))
        .auth(&scene.owner)
        .json(&json!({"domain": domain}))
        .send()
        .ok(201);
    let id = added["id"].as_str().unwrap().to_string();
    support::dns::dns().publish(
        added["verification"]["name"].as_str().unwrap(),
        added["verification"]["value"].as_str().unwrap(),
    );
    if !pending {
        post(&scene.path(&format!("/domains/{id}/verify")))
            .auth(&scene.owner)
            .send()
            .ok(200);
    }
    (domain, id)
}

/// A verified domain with `enrollment`, and someone whose email is on it.
fn enrolled(scene: &Scene, enrollment: &str) -> User {
    let (domain, id) = scene_domain(scene, false);
    patch(&scene.path(&format!("/domains/{id}")))
        .auth(&scene.owner)
        .json(&json!({"enrollment": enrollment}))
        .send()
        .ok(200);
    let person = User::new("joiner");
    let email = format!("{}@{domain}", person.id);
    person.with_email(&email)
}

fn add_domain_race(scene: &Scene) -> Race {
    let (owner, path) = (scene.owner.clone(), scene.path("/domains"));
    let body = json!({"domain": format!("{}.example", unique("race"))});
    Race::new(move || post(&path).auth(&owner).json(&body), {
        let (owner, path) = (scene.owner.clone(), scene.path("/domains"));
        move |replies| {
            let domains = list(&owner, &path);
            assert_eq!(domains.len(), 1, "{domains:?}");
            assert!(replies.iter().all(|r| r.json["id"] == domains[0]["id"]));
        }
    })
}

fn verify_domain_race(scene: &Scene) -> Race {
    let (_, id) = scene_domain(scene, true);
    let (owner, path) = (
        scene.owner.clone(),
        scene.path(&format!("/domains/{id}/verify")),
    );
    Race::new(
        move || post(&path).auth(&owner),
        |replies| {
            assert!(replies.iter().all(|r| r.json["status"] == "verified"));
            same_bodies(replies);
        },
    )
}

fn update_domain_race(scene: &Scene) -> Race {
    let (_, id) = scene_domain(scene, false);
    let (owner, path) = (scene.owner.clone(), scene.path(&format!("/domains/{id}")));
    Race::new(
        move || {
            patch(&path)
                .auth(&owner)
                .json(&json!({"enrollment": "request", "role": "viewer"}))
        },
        |replies| {
            same_bodies(replies);
            assert_eq!(replies[0].json["enrollment"], "request");
        },
    )
}

fn remove_domain_race(scene: &Scene) -> Race {
    let (_, id) = scene_domain(scene, true);
    let (owner, path) = (scene.owner.clone(), scene.path(&format!("/domains/{id}")));
    Race::new(move || delete(&path).auth(&owner), {
        let (owner, path) = (scene.owner.clone(), scene.path("/domains"));
        move |_| assert!(list(&owner, &path).is_empty())
    })
}

fn join_org_race(scene: &Scene) -> Race {
    let person = enrolled(scene, "auto_join");
    let path = scene.path("/join");
    let who = person.clone();
    Race::new(move || post(&path).auth(&who), {
        let (owner, members) = (scene.owner.clone(), scene.path("/members?limit=100"));
        move |_| assert_eq!(roles(&owner, &members)[&person.id], "member")
    })
}

/// A pending join request of someone on a verified domain: its path.
fn pending_request(scene: &Scene) -> (User, String) {
    let person = enrolled(scene, "request");
    let request = post(&scene.path("/join")).auth(&person).send().ok(202);
    let id = request["id"].as_str().unwrap().to_string();
    (person, scene.path(&format!("/join-requests/{id}")))
}

fn approve_join_request_race(scene: &Scene) -> Race {
    let (person, request) = pending_request(scene);
    let (owner, path) = (scene.owner.clone(), format!("{request}/approve"));
    Race::new(move || post(&path).auth(&owner), {
        let (owner, members) = (scene.owner.clone(), scene.path("/members?limit=100"));
        move |replies| {
            same_bodies(replies);
            assert_eq!(replies[0].json["joined_via"], "join_request");
            assert_eq!(roles(&owner, &members)[&person.id], "member");
        }
    })
}

fn deny_join_request_race(scene: &Scene) -> Race {
    let (_, request) = pending_request(scene);
    let (owner, path) = (scene.owner.clone(), format!("{request}/deny"));
    Race::new(move || post(&path).auth(&owner), {
        let (owner, path) = (
            scene.owner.clone(),
            scene.path("/join-requests?status=denied"),
        );
        move |_| assert_eq!(list(&owner, &path).len(), 1)
    })
}

/// The level `authorize` (at `path`) gives `member` on `resource`.
fn level_of(path: &str, member: &User, resource: &str) -> Value {
    post(path)
        .auth(member)
        .json(&json!({"resource_id": resource}))
        .send()
        .ok(200)["level"]
        .clone()
}

/// A resource, and a team with one member: the path of the team's grant on it.
fn team_grant_scene(scene: &Scene) -> (String, User, String) {
    let id = resource(scene);
    let team_path = team(scene, "target");
    let member = add_member(&scene.owner, &scene.slug, "member");
    put(&format!("{team_path}/members/{}", member.id))
        .auth(&scene.owner)
        .json(&json!({"team_role": "member"}))
        .send()
        .ok(200);
    let grant = scene.path(&format!("/resources/{id}/team-grants/target"));
    (id, member, grant)
}

fn put_team_grant_race(scene: &Scene) -> Race {
    let (id, member, grant) = team_grant_scene(scene);
    let owner = scene.owner.clone();
    Race::new(
        move || put(&grant).auth(&owner).json(&json!({"level": "write"})),
        {
            let authorize = scene.path("/authorize");
            move |replies| {
                same_bodies(replies);
                assert_eq!(level_of(&authorize, &member, &id), "write");
            }
        },
    )
}

fn delete_team_grant_race(scene: &Scene) -> Race {
    let (id, member, grant) = team_grant_scene(scene);
    put(&grant)
        .auth(&scene.owner)
        .json(&json!({"level": "write"}))
        .send()
        .ok(200);
    let authorize = scene.path("/authorize");
    assert_eq!(level_of(&authorize, &member, &id), "write");
    let owner = scene.owner.clone();
    Race::new(
        move || delete(&grant).auth(&owner),
        move |_| assert_eq!(level_of(&authorize, &member, &id), Value::Null),
    )
}

fn list(by: &User, path: &str) -> Vec<Value> {
    let page = get(path).auth(by).send().ok(200);
    page["data"].as_array().cloned().unwrap_or_default()
}

/// Members' roles by user id.
fn roles(by: &User, members_path: &str) -> BTreeMap<String, String> {
    list(by, members_path)
        .iter()
        .map(|m| {
            let field = |name: &str| m[name].as_str().unwrap_or_default().to_string();
            (field("user_id"), field("role"))
        })
        .collect()
}

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

/// The ids the successful answers created, all distinct.
fn reply_ids(replies: &[Reply]) -> HashSet<String> {
    let ids: HashSet<String> = replies
        .iter()
        .filter_map(|r| r.json["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        ids.len(),
        replies.len(),
        "one thing per request: {replies:?}"
    );
    ids
}

#[track_caller]
fn same_bodies(replies: &[Reply]) {
    for reply in replies {
        assert_eq!(reply.json, replies[0].json, "the same answer for all");
    }
}

/// The operation of `route` in the served OpenAPI document.
fn operation(route: RouteId) -> Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| get("/openapi.json").send().ok(200));
    let (method, pattern, _) = ROUTES
        .iter()
        .find(|(_, _, id)| *id == route)
        .expect("a routed id");
    document["paths"][*pattern][method.as_str().to_ascii_lowercase()].clone()
}

/// Checks the answers of one race against the row and the document.
fn judge(row: &Row, replies: &[Reply]) {
    if is_scim(row.route) {
        return judge_scim(row, replies);
    }
    let answers: Vec<(u16, &str)> = replies.iter().map(|r| (r.status, r.code())).collect();
    let operation = operation(row.route);
    for reply in replies {
        let response = &operation["responses"][reply.status.to_string()];
        assert!(
            response.is_object(),
            "{} is not documented: {}",
            reply.status,
            reply.text
        );
        if reply.status >= 400 {
            let examples = &response["content"]["application/problem+json"]["examples"];
            assert!(
                examples.get(reply.code()).is_some(),
                "`{}` is not documented for {}",
                reply.code(),
                reply.status
            );
        }
        if reply.status == 429 {
            let wait: u64 = reply
                .header("retry-after")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("429 without Retry-After: {reply:?}"));
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
        }
    }
    expect_answers(row, &answers);
}

/// Whether `route` is one of the SCIM service's, which answers in SCIM's format (RFC 7644)
/// instead of the OpenAPI document's.
fn is_scim(route: RouteId) -> bool {
    ROUTES
        .iter()
        .any(|(_, pattern, id)| *id == route && roster::routes::is_scim_path(pattern))
}

/// Checks the answers of a SCIM race: errors in SCIM's format, judged by their `scimType`
/// (empty for a 404).
fn judge_scim(row: &Row, replies: &[Reply]) {
    for reply in replies.iter().filter(|r| r.status >= 400) {
        assert_eq!(
            reply.json["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{}",
            reply.text
        );
        assert_eq!(reply.json["status"], reply.status.to_string());
    }
    let answers: Vec<(u16, &str)> = replies
        .iter()
        .map(|r| (r.status, r.json["scimType"].as_str().unwrap_or("")))
        .collect();
    expect_answers(row, &answers);
}

fn expect_answers(row: &Row, answers: &[(u16, &str)]) {
    match row.answers {
        Every(status) => {
            assert!(answers.iter().all(|a| *a == (status, "")), "{answers:?}");
        }
        One { won, lost } => {
            let winners = answers.iter().filter(|a| **a == (won, "")).count();
            let losers = answers.iter().filter(|a| **a == lost).count();
            assert_eq!((winners, losers), (1, AT_ONCE - 1), "{answers:?}");
        }
    }
}

/// Checks what the race recorded, and that each webhook event among it was delivered to the
/// scene's endpoint exactly once.
fn check_records(row: &Row, scene: &Scene, race: &Race, before: &HashSet<String>) {
    let (reader, slug) = match &race.audit {
        Audit::Scene => (&scene.owner, &scene.slug),
        Audit::Of(user, slug) => (user, slug),
        Audit::Gone => {
            let deadline = Instant::now() + Duration::from_secs(10);
            while hooks().delivered(&scene.hook).len() <= before_hits(scene, before)
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(300));
            let late: Vec<Value> = hooks()
                .delivered(&scene.hook)
                .into_iter()
                .filter(|h| !before.contains(h.event_id.as_deref().unwrap_or_default()))
                .map(|h| h.json["type"].clone())
                .collect();
            assert_eq!(
                late,
                ["organization.deleted"],
                "deliveries after the deletion"
            );
            return;
        }
    };
    let new: Vec<Value> = audit_log(reader, slug)
        .into_iter()
        .filter(|e| !before.contains(e["id"].as_str().unwrap_or_default()))
        .collect();
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &new {
        *counted
            .entry(entry["action"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = row.records.iter().copied().collect();
    assert_eq!(counted, expected, "audit entries");

    let events: HashSet<String> = new
        .iter()
        .filter(|e| WEBHOOK_EVENTS.contains(&e["action"].as_str().unwrap_or_default()))
        .filter(|_| matches!(race.audit, Audit::Scene))
        .filter_map(|e| e["id"].as_str().map(str::to_string))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let sent = loop {
        let sent: Vec<String> = delivered(&scene.hook)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        if events.iter().all(|e| sent.contains(e)) || Instant::now() > deadline {
            break sent;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut once: Vec<&String> = sent.iter().collect();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), sent.len(), "an event delivered twice: {sent:?}");
    assert_eq!(
        sent.into_iter().collect::<HashSet<_>>(),
        events,
        "deliveries of the race's events"
    );
}

/// How many deliveries to the scene's endpoint came before the race.
fn before_hits(scene: &Scene, before: &HashSet<String>) -> usize {
    hooks()
        .delivered(&scene.hook)
        .iter()
        .filter(|h| before.contains(h.event_id.as_deref().unwrap_or_default()))
        .count()
}

/// Event ids delivered to `url` so far.
fn delivered(url: &str) -> Vec<String> {
    hooks()
        .delivered(url)
        .into_iter()
        .filter_map(|h| h.event_id)
        .collect()
}

/// One round of `row`: a fresh scene, the copies at once, and every check.
fn round(row: &Row) {
    let owner = User::new("owner");
    let slug = create_org(&owner, row.plan);
    let hook = hooks().url("race");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": hook, "events": WEBHOOK_EVENTS}))
        .send()
        .ok(201);
    let scene = Scene { owner, slug, hook };
    let race = (row.arrange)(&scene);
    let mut before: HashSet<String> = audit_log(&scene.owner, &scene.slug)
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_string))
        .collect();
    before.extend(delivered(&scene.hook));
    if let Some(step) = &race.then {
        step();
    }
    let replies = in_parallel(AT_ONCE, |_| (race.request)().send());
    judge(row, &replies);
    (race.settled)(&replies);
    check_records(row, &scene, &race, &before);
}

#[test]
fn every_write_route_has_a_race() {
    let mut raced: Vec<RouteId> = RACES.iter().map(|r| r.route).collect();
    let writes: Vec<RouteId> = ROUTES
        .iter()
        .filter(|(method, _, _)| *method != Method::Get)
        .map(|(_, _, id)| *id)
        .collect();
    for id in &writes {
        assert!(raced.contains(id), "{id:?} has no row in RACES");
    }
    let count = raced.len();
    raced.dedup();
    assert_eq!(raced.len(), count, "a route has two rows");
    assert!(
        raced.iter().all(|id| writes.contains(id)),
        "a row for a read"
    );
}

#[test]
fn identical_writes_at_once_are_answered_as_if_one_came_after_another() {
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    in_parallel(LANES, |_| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(row) = RACES.get(i / ROUNDS) else {
            break;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| round(row)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.lock().unwrap().push(format!(
                "{:?} round {}: {message}",
                row.route,
                i % ROUNDS + 1
            ));
        }
    });
    eprintln!(
        "{} races of {AT_ONCE} requests in {:.1} s",
        RACES.len() * ROUNDS,
        started.elapsed().as_secs_f64()
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The seats counted on each organization are its members, after every race.
    let drifted = server().sql(
        "SELECT slug, members_count,
                (SELECT count(*) FROM memberships m WHERE m.org_id = o.id) AS members
           FROM orgs o
          WHERE members_count <> (SELECT count(*) FROM memberships m WHERE m.org_id = o.id)",
    );
    assert!(drifted.is_empty(), "{drifted:?}");
    // And the pending invitations counted on each are its pending invitations.
    let drifted = server().sql(
        "SELECT slug, pending_invitations_count FROM orgs o
          WHERE pending_invitations_count <> (SELECT count(*) FROM invitations i
                                               WHERE i.org_id = o.id AND i.status = 'pending')",
    );
    assert!(drifted.is_empty(), "{drifted:?}");
    // And the members counted per role are those holding it.
    let drifted = server().sql(
        "SELECT org_id, role, n FROM role_counts r
          WHERE n <> (SELECT count(*) FROM memberships m
                       WHERE m.org_id = r.org_id AND m.role = r.role)",
    );
    assert!(drifted.is_empty(), "{drifted:?}");
    // And each team's members counted are its members.
    let drifted = server().sql(
        "SELECT slug, members_count FROM teams t
          WHERE members_count <> (SELECT count(*) FROM team_members tm WHERE tm.team_id = t.id)",
    );
    assert!(drifted.is_empty(), "{drifted:?}");
    let counted = server().sql("SELECT count(*) AS n FROM orgs WHERE members_count > 1");
    assert!(
        counted[0]["n"].as_i64() > Some(0),
        "no organization was counted"
    );
}
