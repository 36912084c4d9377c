//! The route table: every path and method Roster answers, in one list.
//!
//! This is the first file to read. Resolution is pure (tested natively, and checked against
//! `openapi.json` so that the document cannot drift from the code); `http::router`
//! dispatches each [`RouteId`] to its handler with an exhaustive `match`.

/// HTTP methods Roster routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

macro_rules! routes {
    ($($id:ident => $method:ident $pattern:literal,)*) => {
        /// One route: a method on a path pattern.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RouteId { $($id,)* }

        /// `(method, pattern, id)`; `{name}` segments are parameters.
        pub const ROUTES: &[(Method, &str, RouteId)] = &[
            $((Method::$method, $pattern, RouteId::$id),)*
        ];
    };
}

routes! {
    Health => Get "/health",
    OpenApi => Get "/openapi.json",

    InvitePage => Get "/invite/{token}",
    InviteLinkPage => Get "/join/{token}",

    Me => Get "/v1/me",
    MyInvitations => Get "/v1/me/invitations",
    DeletedOrgs => Get "/v1/me/deleted-organizations",
    AcceptMyInvitation => Post "/v1/me/invitations/{id}/accept",
    DeclineMyInvitation => Post "/v1/me/invitations/{id}/decline",

    ListOrgs => Get "/v1/orgs",
    CreateOrg => Post "/v1/orgs",
    GetOrg => Get "/v1/orgs/{slug}",
    UpdateOrg => Patch "/v1/orgs/{slug}",
    DeleteOrg => Delete "/v1/orgs/{slug}",
    TransferOwnership => Post "/v1/orgs/{slug}/transfer-ownership",
    RestoreOrg => Post "/v1/orgs/{slug}/restore",

    ListRoles => Get "/v1/orgs/{slug}/roles",
    CreateRole => Post "/v1/orgs/{slug}/roles",
    UpdateRole => Patch "/v1/orgs/{slug}/roles/{key}",
    DeleteRole => Delete "/v1/orgs/{slug}/roles/{key}",

    ListMembers => Get "/v1/orgs/{slug}/members",
    UpdateMember => Patch "/v1/orgs/{slug}/members/{user_id}",
    RemoveMember => Delete "/v1/orgs/{slug}/members/{user_id}",

    ListInvitations => Get "/v1/orgs/{slug}/invitations",
    CreateInvitation => Post "/v1/orgs/{slug}/invitations",
    BulkInvitations => Post "/v1/orgs/{slug}/invitations/bulk",
    GetInvitation => Get "/v1/orgs/{slug}/invitations/{id}",
    CancelInvitation => Delete "/v1/orgs/{slug}/invitations/{id}",
    ResendInvitation => Post "/v1/orgs/{slug}/invitations/{id}/resend",

    ListResources => Get "/v1/orgs/{slug}/resources",
    CreateResource => Post "/v1/orgs/{slug}/resources",
    GetResource => Get "/v1/orgs/{slug}/resources/{id}",
    UpdateResource => Patch "/v1/orgs/{slug}/resources/{id}",
    DeleteResource => Delete "/v1/orgs/{slug}/resources/{id}",
    PutGrant => Put "/v1/orgs/{slug}/resources/{id}/grants/{user_id}",
    DeleteGrant => Delete "/v1/orgs/{slug}/resources/{id}/grants/{user_id}",
    Authorize => Post "/v1/orgs/{slug}/authorize",

    ListTeams => Get "/v1/orgs/{slug}/teams",
    CreateTeam => Post "/v1/orgs/{slug}/teams",
    GetTeam => Get "/v1/orgs/{slug}/teams/{team}",
    UpdateTeam => Patch "/v1/orgs/{slug}/teams/{team}",
    DeleteTeam => Delete "/v1/orgs/{slug}/teams/{team}",
    ListTeamMembers => Get "/v1/orgs/{slug}/teams/{team}/members",
    PutTeamMember => Put "/v1/orgs/{slug}/teams/{team}/members/{user_id}",
    RemoveTeamMember => Delete "/v1/orgs/{slug}/teams/{team}/members/{user_id}",
    PutTeamGrant => Put "/v1/orgs/{slug}/resources/{id}/team-grants/{team}",
    DeleteTeamGrant => Delete "/v1/orgs/{slug}/resources/{id}/team-grants/{team}",

    ListDomains => Get "/v1/orgs/{slug}/domains",
    AddDomain => Post "/v1/orgs/{slug}/domains",
    UpdateDomain => Patch "/v1/orgs/{slug}/domains/{id}",
    RemoveDomain => Delete "/v1/orgs/{slug}/domains/{id}",
    VerifyDomain => Post "/v1/orgs/{slug}/domains/{id}/verify",
    JoinOrg => Post "/v1/orgs/{slug}/join",
    ListJoinRequests => Get "/v1/orgs/{slug}/join-requests",
    ApproveJoinRequest => Post "/v1/orgs/{slug}/join-requests/{id}/approve",
    DenyJoinRequest => Post "/v1/orgs/{slug}/join-requests/{id}/deny",
    SuggestedOrgs => Get "/v1/me/suggested-organizations",

    GetBilling => Get "/v1/orgs/{slug}/billing",
    ChangePlan => Put "/v1/orgs/{slug}/billing/plan",
    SetExtraSeats => Put "/v1/orgs/{slug}/billing/seats",
    ListLedger => Get "/v1/orgs/{slug}/billing/ledger",
    RecordUsage => Post "/v1/orgs/{slug}/usage",
    GetUsage => Get "/v1/orgs/{slug}/usage",

    PreviewInvitation => Get "/v1/invitations/{token}",
    AcceptInvitation => Post "/v1/invitations/{token}/accept",
    DeclineInvitation => Post "/v1/invitations/{token}/decline",

    ListInviteLinks => Get "/v1/orgs/{slug}/invite-links",
    CreateInviteLink => Post "/v1/orgs/{slug}/invite-links",
    RevokeInviteLink => Delete "/v1/orgs/{slug}/invite-links/{id}",
    PreviewInviteLink => Get "/v1/invite-links/{token}",
    JoinByInviteLink => Post "/v1/invite-links/{token}/join",

    ListApiKeys => Get "/v1/orgs/{slug}/api-keys",
    CreateApiKey => Post "/v1/orgs/{slug}/api-keys",
    RevokeApiKey => Delete "/v1/orgs/{slug}/api-keys/{id}",
    ListScimTokens => Get "/v1/orgs/{slug}/scim-tokens",
    CreateScimToken => Post "/v1/orgs/{slug}/scim-tokens",
    RevokeScimToken => Delete "/v1/orgs/{slug}/scim-tokens/{id}",
    ListWebhooks => Get "/v1/orgs/{slug}/webhooks",
    CreateWebhook => Post "/v1/orgs/{slug}/webhooks",
    DeleteWebhook => Delete "/v1/orgs/{slug}/webhooks/{id}",
    AuditLog => Get "/v1/orgs/{slug}/audit-log",

    CreateConsoleLink => Post "/v1/orgs/{slug}/console-links",
    ScimServiceProviderConfig => Get "/scim/v2/ServiceProviderConfig",
    ScimResourceTypes => Get "/scim/v2/ResourceTypes",
    ScimResourceType => Get "/scim/v2/ResourceTypes/{id}",
    ScimSchemas => Get "/scim/v2/Schemas",
    ScimSchema => Get "/scim/v2/Schemas/{id}",
    ScimSearch => Post "/scim/v2/.search",
    ScimListUsers => Get "/scim/v2/Users",
    ScimSearchUsers => Post "/scim/v2/Users/.search",
    ScimCreateUser => Post "/scim/v2/Users",
    ScimGetUser => Get "/scim/v2/Users/{id}",
    ScimReplaceUser => Put "/scim/v2/Users/{id}",
    ScimPatchUser => Patch "/scim/v2/Users/{id}",
    ScimDeleteUser => Delete "/scim/v2/Users/{id}",
    ScimListGroups => Get "/scim/v2/Groups",
    ScimSearchGroups => Post "/scim/v2/Groups/.search",
    ScimCreateGroup => Post "/scim/v2/Groups",
    ScimGetGroup => Get "/scim/v2/Groups/{id}",
    ScimReplaceGroup => Put "/scim/v2/Groups/{id}",
    ScimPatchGroup => Patch "/scim/v2/Groups/{id}",
    ScimDeleteGroup => Delete "/scim/v2/Groups/{id}",
}

/// Where the SCIM 2.0 service lives. Its paths answer in SCIM's own format (RFC 7644) and
/// are described by its discovery endpoints, not by the OpenAPI document.
pub const SCIM_BASE: &str = "/scim/v2";

/// Whether `path` is one of the SCIM service's.
pub fn is_scim_path(path: &str) -> bool {
    path == SCIM_BASE || path.starts_with(&format!("{SCIM_BASE}/"))
}

impl RouteId {
    /// Whether the route is reached with a token from an email or a shared link, without
    /// credentials: these are limited per client address, since guessing a token or
    /// hammering a preview costs nothing else.
    pub fn takes_public_token(self) -> bool {
        use RouteId::*;
        matches!(
            self,
            InvitePage
                | InviteLinkPage
                | PreviewInvitation
                | AcceptInvitation
                | DeclineInvitation
                | PreviewInviteLink
                | JoinByInviteLink
        )
    }
}

/// Path parameters of a resolved route, in pattern order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The value of `{name}`; empty when the pattern has no such parameter.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The outcome of looking a request up in [`ROUTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Found(RouteId, Params),
    /// The path exists but not with this method: these are the ones it has.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

/// Matches `path` against `pattern`, capturing `{name}` segments (percent-decoded). Every
/// request is held against every route, so the shape is checked first, without allocating.
fn matches(pattern: &'static str, path: &str) -> Option<Params> {
    if !fits(pattern, path) {
        return None;
    }
    let params = pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, s)| Some((param_name(p)?, s)))
        .map(|(name, s)| Some((name, percent_decode(s)?)))
        .collect::<Option<_>>()?;
    Some(Params(params))
}

/// Whether `path` has `pattern`'s segments: as many, its literal ones, and a non-empty one
/// for each `{name}`. Counting slashes first turns most routes away in one pass over bytes.
fn fits(pattern: &str, path: &str) -> bool {
    let slashes = |s: &str| s.bytes().filter(|b| *b == b'/').count();
    slashes(pattern) == slashes(path)
        && pattern
            .split('/')
            .zip(path.split('/'))
            .all(|(p, s)| match param_name(p) {
                Some(_) => !s.is_empty(),
                None => p == s,
            })
}

/// The name of a pattern's `{name}` segment; `None` for a literal one.
fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Literal segments count for more than parameters, so `/invitations/bulk` wins over
/// `/invitations/{id}`.
fn specificity(pattern: &str) -> usize {
    pattern.split('/').filter(|s| !s.starts_with('{')).count()
}

/// Finds the route for `method` on `path`. `HEAD` finds the `GET` route (RFC 9110 9.3.2:
/// the same answer without its body), so it is allowed wherever `GET` is.
pub fn resolve(method: &str, path: &str) -> Resolved {
    let method = if method == "HEAD" { "GET" } else { method };
    let candidates: Vec<_> = ROUTES
        .iter()
        .filter_map(|(m, pattern, id)| matches(pattern, path).map(|p| (*m, *pattern, *id, p)))
        .collect();
    let Some(best) = candidates.iter().map(|c| specificity(c.1)).max() else {
        return Resolved::NotFound;
    };
    let mut allow = Vec::new();
    for (m, pattern, id, params) in candidates {
        if specificity(pattern) != best {
            continue;
        }
        if Some(m) == Method::parse(method) {
            return Resolved::Found(id, params);
        }
        allow.push(m.as_str());
        if m == Method::Get {
            allow.push("HEAD");
        }
    }
    Resolved::MethodNotAllowed(allow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    #[test]
    fn resolves_with_params() {
        match resolve("GET", "/v1/orgs/acme") {
            Resolved::Found(RouteId::GetOrg, params) => assert_eq!(params.get("slug"), "acme"),
            other => panic!("{other:?}"),
        }
        match resolve("GET", "/v1/orgs/ac%2Dme") {
            Resolved::Found(_, params) => assert_eq!(params.get("slug"), "ac-me"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        assert_eq!(
            resolve("PUT", "/v1/orgs"),
            Resolved::MethodNotAllowed(vec!["GET", "HEAD", "POST"])
        );
        assert_eq!(
            resolve("POST", "/health"),
            Resolved::MethodNotAllowed(vec!["GET", "HEAD"])
        );
        assert_eq!(
            resolve("HEAD", "/v1/orgs/acme/webhooks/x1"),
            Resolved::MethodNotAllowed(vec!["DELETE"])
        );
    }

    #[test]
    fn head_finds_the_get_route() {
        match resolve("HEAD", "/v1/orgs/acme") {
            Resolved::Found(RouteId::GetOrg, params) => assert_eq!(params.get("slug"), "acme"),
            other => panic!("{other:?}"),
        }
    }

    /// Methods are case-sensitive (RFC 9110 9.1) and those the table lacks are refused,
    /// never taken for another.
    #[test]
    fn unknown_methods_are_not_allowed() {
        for method in ["QUERY", "FOO", "get", "patch", "TRACE", "CONNECT", ""] {
            assert_eq!(
                resolve(method, "/v1/orgs"),
                Resolved::MethodNotAllowed(vec!["GET", "HEAD", "POST"]),
                "{method}"
            );
        }
    }

    #[test]
    fn unknown_paths() {
        for path in [
            "/",
            "/v1",
            "/v1/orgs/",
            "/v1/orgs/acme/nope",
            "/health/x",
            "/v1/orgs/%zz",
        ] {
            assert_eq!(resolve("GET", path), Resolved::NotFound, "{path}");
        }
    }

    #[test]
    fn every_route_is_reachable_and_unique() {
        let mut seen = BTreeSet::new();
        for (method, pattern, id) in ROUTES {
            assert!(
                seen.insert((method.as_str(), *pattern)),
                "duplicate {pattern}"
            );
            let concrete = pattern
                .split('/')
                .map(|s| if s.starts_with('{') { "x1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            match resolve(method.as_str(), &concrete) {
                Resolved::Found(found, _) => assert_eq!(found, *id, "{pattern}"),
                other => panic!("{pattern}: {other:?}"),
            }
        }
    }

    /// Exactly the routes with a `{token}` are limited per client address.
    #[test]
    fn public_token_routes_are_those_with_a_token() {
        for (_, pattern, id) in ROUTES {
            assert_eq!(
                id.takes_public_token(),
                pattern.contains("{token}"),
                "{pattern}"
            );
        }
    }

    /// The OpenAPI document lists exactly the routes of this table.
    #[test]
    fn openapi_document_matches_the_routes() {
        let doc: Value = crate::openapi::document();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let routed: BTreeSet<_> = ROUTES
            .iter()
            .filter(|(_, p, _)| !is_scim_path(p))
            .map(|(m, p, _)| (m.as_str().to_string(), p.to_string()))
            .collect();
        let missing: Vec<_> = routed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(
            missing.is_empty(),
            "routes missing from openapi.json: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "openapi.json documents routes that do not exist: {extra:?}"
        );
    }
}
