//! Shared credits: whose a consumption is, how a repeated request is recognised by its
//! idempotency key, and who sees whose usage.

use super::policy::{authorize, Action, Actor, Permission, RoleDef};
use super::problem::{Code, Problem};
use super::secret::sha256_hex;
use super::values::RoleKey;
use serde::Serialize;
use serde_json::json;

/// The header that makes `POST usage` safe to retry.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The `Idempotency-Key` of a request: required, 1–255 visible ASCII characters.
pub fn idempotency_key(header: Option<&str>) -> Result<String, Problem> {
    let field = |message: &str| Problem::invalid_field(IDEMPOTENCY_HEADER, message);
    match header.map(str::trim) {
        None | Some("") => Err(field(
            "is required: send a unique key with each usage event, and the same key to retry it",
        )),
        Some(key) if key.len() > IDEMPOTENCY_KEY_MAX => Err(field(&format!(
            "must be at most {IDEMPOTENCY_KEY_MAX} characters"
        ))),
        Some(key) if !key.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(field("must be visible ASCII characters"))
        }
        Some(key) => Ok(key.to_owned()),
    }
}

/// One consumption of credits, as a request asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumption {
    pub amount: i64,
    pub feature: String,
    /// The member it is recorded for.
    pub user_id: String,
}

impl Consumption {
    /// The digest of the request's canonical form — amount, feature, member — stored with
    /// its key: a retry must hash the same, however its JSON was spelled or ordered.
    pub fn request_hash(&self) -> String {
        let canonical = json!([self.amount, self.feature, self.user_id]).to_string();
        sha256_hex(canonical.as_bytes())
    }

    /// Whether a request under an already used key may replay the first answer: only when
    /// it asks for the very same thing.
    pub fn check_replay(&self, stored_hash: &str) -> Result<(), Problem> {
        if self.request_hash() == stored_hash {
            Ok(())
        } else {
            Err(Problem::new(
                Code::IdempotencyKeyReused,
                "This Idempotency-Key was used for a different usage event; use a new key.",
            ))
        }
    }
}

/// Whose usage a request records. A user consumes as themselves (naming themselves is
/// allowed, naming anyone else is not); an API key has no person behind it and must name
/// the member in `user_id`.
pub fn consumer(actor: &Actor, named: Option<&str>) -> Result<String, Problem> {
    match (actor, named) {
        (Actor::User { id, .. }, None) => Ok(id.clone()),
        (Actor::User { id, .. }, Some(named)) if named == id => Ok(id.clone()),
        (Actor::User { .. }, Some(_)) => Err(Problem::forbidden(
            "Users consume credits as themselves; only an API key names another member.",
        )),
        (Actor::ApiKey { .. }, Some(named)) => Ok(named.to_owned()),
        (Actor::ApiKey { .. }, None) => Err(Problem::invalid_field(
            "user_id",
            "is required when an API key records usage: name the member it is for",
        )),
    }
}

/// Refuses to record usage for a member whose role cannot consume credits (a viewer),
/// whoever asks.
pub fn require_consumer_role(key: &RoleKey, role: RoleDef) -> Result<(), Problem> {
    if role.has(Permission::UsageConsume) {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "The role {key} cannot consume credits; usage is recorded for roles with the \
             usage.consume permission."
        )))
    }
}

/// Whose rows of `GET usage` a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageView {
    /// Every member's (`usage.read_all`, or a key with `usage:read`).
    All,
    /// Only this user's own.
    Own(String),
}

/// Owners and admins (and keys with `usage:read`) see every member's usage; other members
/// see their own row; a key without the scope sees nothing.
pub fn usage_view(actor: &Actor) -> Result<UsageView, Problem> {
    match (authorize(actor, Action::ViewAllUsage), actor) {
        (Ok(()), _) => Ok(UsageView::All),
        (Err(_), Actor::User { id, .. }) => Ok(UsageView::Own(id.clone())),
        (Err(problem), Actor::ApiKey { .. }) => Err(problem),
    }
}

/// A member's credits used in the period, as `GET usage` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MemberUsage {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub used: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::Scope;
    use crate::domain::values::Role;

    fn consumption(amount: i64, feature: &str, user: &str) -> Consumption {
        Consumption {
            amount,
            feature: feature.into(),
            user_id: user.into(),
        }
    }

    #[test]
    fn keys_are_required_and_bounded() {
        assert_eq!(idempotency_key(Some(" k-1 ")).unwrap(), "k-1");
        for bad in [None, Some(""), Some("   "), Some("a b"), Some("é")] {
            let err = idempotency_key(bad).unwrap_err();
            assert_eq!(err.code, Code::InvalidRequest, "{bad:?}");
            assert_eq!(err.errors[0].field, "Idempotency-Key");
        }
        assert!(idempotency_key(Some(&"k".repeat(255))).is_ok());
        assert!(idempotency_key(Some(&"k".repeat(256))).is_err());
    }

    #[test]
    fn the_same_request_hashes_the_same_and_any_change_differs() {
        let a = consumption(10, "export", "u1");
        assert_eq!(
            a.request_hash(),
            consumption(10, "export", "u1").request_hash()
        );
        assert_eq!(a.request_hash().len(), 64);
        for other in [
            consumption(11, "export", "u1"),
            consumption(10, "exports", "u1"),
            consumption(10, "export", "u2"),
            // Fields cannot bleed into each other.
            consumption(10, "export\",\"u", "1"),
        ] {
            assert_ne!(a.request_hash(), other.request_hash(), "{other:?}");
            assert_eq!(
                other.check_replay(&a.request_hash()).unwrap_err().code,
                Code::IdempotencyKeyReused
            );
        }
        assert!(a.check_replay(&a.request_hash()).is_ok());
    }

    #[test]
    fn users_consume_as_themselves_and_keys_name_the_member() {
        let user = Actor::member("u1", Role::Member);
        assert_eq!(consumer(&user, None).unwrap(), "u1");
        assert_eq!(consumer(&user, Some("u1")).unwrap(), "u1");
        assert_eq!(
            consumer(&user, Some("u2")).unwrap_err().code,
            Code::Forbidden
        );
        let key = Actor::ApiKey {
            id: "k".into(),
            scopes: vec![],
        };
        assert_eq!(consumer(&key, Some("u2")).unwrap(), "u2");
        let err = consumer(&key, None).unwrap_err();
        assert_eq!(
            (err.code, err.errors[0].field.as_str()),
            (Code::InvalidRequest, "user_id")
        );
    }

    #[test]
    fn viewers_never_consume() {
        let consumes = |role: Role| require_consumer_role(&role.into(), RoleDef::builtin(role));
        assert!(consumes(Role::Owner).is_ok());
        assert!(consumes(Role::Admin).is_ok());
        assert!(consumes(Role::Member).is_ok());
        assert_eq!(consumes(Role::Viewer).unwrap_err().code, Code::Forbidden);
    }

    #[test]
    fn who_sees_whose_usage() {
        let user = |role| Actor::member("u1", role);
        assert_eq!(usage_view(&user(Role::Owner)).unwrap(), UsageView::All);
        assert_eq!(usage_view(&user(Role::Admin)).unwrap(), UsageView::All);
        for role in [Role::Member, Role::Viewer] {
            assert_eq!(
                usage_view(&user(role)).unwrap(),
                UsageView::Own("u1".into())
            );
        }
        let key = |scopes| Actor::ApiKey {
            id: "k".into(),
            scopes,
        };
        assert_eq!(
            usage_view(&key(vec![Scope::UsageRead])).unwrap(),
            UsageView::All
        );
        assert_eq!(
            usage_view(&key(vec![Scope::UsageWrite])).unwrap_err().code,
            Code::Forbidden
        );
    }
}
