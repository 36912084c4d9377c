//! Every error Roster can answer with, as RFC 9457 problem details.
//!
//! One [`Code`] per error code of the contract; the status, title and `type` URI of each
//! live here and nowhere else. A [`Problem`] is a code plus a human-readable detail (and,
//! for validation, the offending fields). Details are written for the developer calling the
//! API: they say what to do, and they never carry SQL, stack traces, tokens or secrets.

use super::scim::ScimType;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use utoipa::ToSchema;

/// Base of every problem `type` URI.
pub const TYPE_BASE: &str = "https://roster.dev/problems/";

macro_rules! codes {
    ($($variant:ident => ($code:literal, $status:literal, $title:literal),)*) => {
        /// A stable, machine-readable error code of the contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it appears in `code` and at the end of `type`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The HTTP status that carries this code.
            pub fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// A short, fixed summary of the problem type.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// Parses a code from its wire form: the first code declared with it, when two
            /// share it under different statuses.
            pub fn parse(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == s)
            }
        }
    };
}

codes! {
    InvalidRequest => ("invalid_request", 400, "The request is not valid"),
    DomainNotAllowed => ("domain_not_allowed", 400, "The domain cannot be claimed"),
    Unauthenticated => ("unauthenticated", 401, "Authentication is required"),
    InsufficientCredits => ("insufficient_credits", 402, "Not enough credits"),
    Forbidden => ("forbidden", 403, "You do not have permission to do this"),
    EmailMismatch => ("email_mismatch", 403, "This invitation was sent to another email address"),
    EmailNotVerified => ("email_not_verified", 403, "Your email address is not verified"),
    // The same code as `EmailDomainNotAllowed`: a join through an invite link is refused
    // (403), while an invitation to such an address is a conflict with the settings (409).
    EmailDomainNotAllowedToJoin => ("email_domain_not_allowed", 403, "Your email domain is not allowed here"),
    NotFound => ("not_found", 404, "Not found"),
    MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed"),
    SlugTaken => ("slug_taken", 409, "That slug is taken"),
    OwnerProtected => ("owner_protected", 409, "The owner cannot be changed this way"),
    AlreadyMember => ("already_member", 409, "Already a member"),
    InvitationPending => ("invitation_pending", 409, "An invitation is already pending"),
    RoleNotAvailable => ("role_not_available", 409, "The role is not available on this plan"),
    SeatLimitReached => ("seat_limit_reached", 409, "All seats are taken"),
    GrantExceedsRole => ("grant_exceeds_role", 409, "The grant exceeds what the member's role allows"),
    PlanDowngradeBlocked => ("plan_downgrade_blocked", 409, "The plan cannot be changed yet"),
    ExtraSeatsNotAvailable => ("extra_seats_not_available", 409, "Extra seats are not available"),
    SeatsInUse => ("seats_in_use", 409, "Those seats are in use"),
    IdempotencyKeyReused => ("idempotency_key_reused", 409, "The idempotency key was used for another request"),
    RoleKeyTaken => ("role_key_taken", 409, "That role key is taken"),
    RoleBuiltin => ("role_builtin", 409, "Built-in roles cannot be changed"),
    RoleInUse => ("role_in_use", 409, "The role is still held"),
    LimitReached => ("limit_reached", 409, "The plan's limit is reached"),
    DomainTaken => ("domain_taken", 409, "The domain is verified by another organization"),
    DomainVerificationFailed => ("domain_verification_failed", 409, "The domain's record was not found"),
    DomainNotVerified => ("domain_not_verified", 409, "The domain is not verified"),
    EmailDomainNotAllowed => ("email_domain_not_allowed", 409, "The email domain is not allowed"),
    Conflict => ("conflict", 409, "The resource changed while the request was processed"),
    InvitationExpired => ("invitation_expired", 410, "The invitation has expired"),
    InvitationCanceled => ("invitation_canceled", 410, "The invitation was canceled"),
    InvitationAlreadyUsed => ("invitation_already_used", 410, "The invitation was already used"),
    InviteLinkExpired => ("invite_link_expired", 410, "The invite link has expired"),
    InviteLinkRevoked => ("invite_link_revoked", 410, "The invite link was revoked"),
    InviteLinkExhausted => ("invite_link_exhausted", 410, "The invite link has been used up"),
    PayloadTooLarge => ("payload_too_large", 413, "The request body is too large"),
    UnsupportedMediaType => ("unsupported_media_type", 415, "The request body must be JSON"),
    RateLimited => ("rate_limited", 429, "Too many requests"),
    Internal => ("internal", 500, "Something went wrong on our side"),
    Unavailable => ("unavailable", 503, "A backing service is unavailable"),
    DnsUnavailable => ("dns_unavailable", 503, "DNS could not be asked"),
}

impl Code {
    /// Each wire code once: a code declared again under another status is left out.
    pub fn distinct() -> impl Iterator<Item = Code> {
        Code::ALL
            .iter()
            .copied()
            .filter(|c| Code::parse(c.as_str()) == Some(*c))
    }

    /// The name of the code's example in the OpenAPI document: the wire code, followed by
    /// the status for a code that shares it with an earlier one.
    pub fn example_name(self) -> String {
        if Code::parse(self.as_str()) == Some(self) {
            self.as_str().to_owned()
        } else {
            format!("{}_{}", self.as_str(), self.status())
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as the body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDetails {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: Code,
    /// The invalid fields (`invalid_request` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answer: a code, a detail for humans, and the extras some codes carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub detail: Cow<'static, str>,
    /// The fields at fault (`invalid_request` only).
    pub errors: Vec<FieldError>,
    /// Seconds until a retry may succeed (`rate_limited`): the `Retry-After` header.
    pub retry_after: Option<u64>,
    /// The methods the path supports (`method_not_allowed`): the `Allow` header.
    pub allow: Vec<&'static str>,
    /// SCIM's name for the error, when `/scim/v2` answers it (`scimType`); `None` leaves
    /// it to the code.
    pub scim_type: Option<ScimType>,
}

impl Problem {
    pub fn new(code: Code, detail: impl Into<Cow<'static, str>>) -> Self {
        Problem {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            allow: Vec::new(),
            scim_type: None,
        }
    }

    /// A problem SCIM names `scim_type`; `/v1` answers it as `code`.
    pub fn scim(code: Code, scim_type: ScimType, detail: impl Into<Cow<'static, str>>) -> Self {
        Problem {
            scim_type: Some(scim_type),
            ..Problem::new(code, detail)
        }
    }

    /// A validation failure naming every field at fault.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid; see `errors`", errors.len()),
        };
        Problem {
            errors,
            ..Problem::new(Code::InvalidRequest, detail)
        }
    }

    /// A validation failure of a single field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Problem::invalid(vec![FieldError::new(field, message)])
    }

    pub fn unauthenticated(detail: impl Into<Cow<'static, str>>) -> Self {
        Problem::new(Code::Unauthenticated, detail)
    }

    pub fn forbidden(detail: impl Into<Cow<'static, str>>) -> Self {
        Problem::new(Code::Forbidden, detail)
    }

    /// 404 for a thing that does not exist or that the caller may not know exists.
    pub fn not_found(what: &str) -> Self {
        Problem::new(Code::NotFound, format!("No such {what}."))
    }

    pub fn method_not_allowed(allow: Vec<&'static str>) -> Self {
        Problem {
            allow,
            ..Problem::new(
                Code::MethodNotAllowed,
                "This path does not support that method; see the Allow header.",
            )
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Problem {
            retry_after: Some(retry_after),
            ..Problem::new(
                Code::RateLimited,
                format!("Try again in {retry_after} seconds."),
            )
        }
    }

    /// 500 without any detail of the cause (that goes to the log, never to the client).
    pub fn internal() -> Self {
        Problem::new(
            Code::Internal,
            "The request could not be completed; it is safe to retry.",
        )
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The `type` URI of this problem.
    pub fn type_uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.code.as_str())
    }

    /// The `application/problem+json` body.
    pub fn body(&self) -> ProblemDetails {
        ProblemDetails {
            type_uri: self.type_uri(),
            title: self.code.title(),
            status: self.status(),
            detail: self.detail.to_string(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.status(),
            self.detail
        )
    }
}

impl From<Code> for Problem {
    fn from(code: Code) -> Self {
        Problem::new(code, code.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::distinct() {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
        }
        let mut examples = std::collections::HashSet::new();
        for &code in Code::ALL {
            assert!((400..600).contains(&code.status()));
            assert!(seen.contains(code.as_str()));
            assert!(
                examples.insert(code.example_name()),
                "{}",
                code.example_name()
            );
        }
        assert_eq!(Code::parse("nope"), None);
    }

    /// One wire code, two statuses: an invitation outside the allowed domains conflicts
    /// with the settings, a join through a link by such an address is refused.
    #[test]
    fn email_domain_not_allowed_has_two_statuses() {
        let invitation = Problem::from(Code::EmailDomainNotAllowed).body();
        let join = Problem::from(Code::EmailDomainNotAllowedToJoin).body();
        for body in [&invitation, &join] {
            let body = serde_json::to_value(body).unwrap();
            assert_eq!(body["code"], "email_domain_not_allowed");
            assert_eq!(
                body["type"],
                "https://roster.dev/problems/email_domain_not_allowed"
            );
        }
        assert_eq!(invitation.status, 409);
        assert_eq!(join.status, 403);
        assert_eq!(
            Code::parse("email_domain_not_allowed"),
            Some(Code::EmailDomainNotAllowedToJoin)
        );
        assert_eq!(
            Code::distinct()
                .filter(|c| c.as_str() == "email_domain_not_allowed")
                .count(),
            1
        );
        assert_eq!(
            Code::EmailDomainNotAllowed.example_name(),
            "email_domain_not_allowed_409"
        );
    }

    #[test]
    fn contract_statuses() {
        let expected = [
            ("invalid_request", 400),
            ("unauthenticated", 401),
            ("insufficient_credits", 402),
            ("forbidden", 403),
            ("email_mismatch", 403),
            ("email_not_verified", 403),
            ("not_found", 404),
            ("method_not_allowed", 405),
            ("slug_taken", 409),
            ("owner_protected", 409),
            ("already_member", 409),
            ("invitation_pending", 409),
            ("role_not_available", 409),
            ("seat_limit_reached", 409),
            ("grant_exceeds_role", 409),
            ("plan_downgrade_blocked", 409),
            ("idempotency_key_reused", 409),
            ("invitation_expired", 410),
            ("invitation_canceled", 410),
            ("invitation_already_used", 410),
            ("rate_limited", 429),
        ];
        for (code, status) in expected {
            let parsed = Code::parse(code).unwrap_or_else(|| panic!("missing {code}"));
            assert_eq!(parsed.status(), status, "{code}");
        }
    }

    #[test]
    fn body_is_rfc9457_with_code() {
        let p = Problem::new(Code::SlugTaken, "Pick another slug.");
        let body = serde_json::to_value(p.body()).unwrap();
        assert_eq!(body["type"], "https://roster.dev/problems/slug_taken");
        assert_eq!(body["status"], 409);
        assert_eq!(body["code"], "slug_taken");
        assert_eq!(body["detail"], "Pick another slug.");
        assert_eq!(body["title"], Code::SlugTaken.title());
        assert!(body.get("errors").is_none());
    }

    #[test]
    fn validation_lists_every_field() {
        let p = Problem::invalid(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("role", "must be one of admin, member, viewer"),
        ]);
        let body = serde_json::to_value(p.body()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][1]["field"], "role");
        assert!(p.detail.contains("2 fields"));
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let p = Problem::rate_limited(42);
        assert_eq!(p.retry_after, Some(42));
        assert_eq!(p.status(), 429);
    }
}
