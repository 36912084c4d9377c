//! The console's pages: an organization's team management, hosted by Roster, rendered
//! purely from what the API's own handlers answer. Templates are `maud`'s, which escapes
//! every value unless told otherwise (nothing here tells it otherwise). The pages work
//! without scripts: every action is a form posted with the session's CSRF token, answered
//! with a redirect (or the page again, with the problem, when it was refused).

use crate::api::billing::{Billing, LedgerEntry, Usage};
use crate::api::domains::{Domain, JoinRequest};
use crate::api::integrations::{ActorKind, ApiKey, AuditEntry, Webhook};
use crate::api::invitations::Invitation;
use crate::api::invite_links::InviteLink;
use crate::api::orgs::Member;
use crate::api::roles::Role as RoleObject;
use crate::api::teams::{Team, TeamMember};
use crate::domain::event::WEBHOOK_EVENTS;
use crate::domain::locale::Locale;
use crate::domain::plan::{proration_cents, Plan, SEAT_PRICE_CENTS};
use crate::domain::policy::{Permission, Scope, TeamRole};
use crate::domain::values::{Role, RoleKey, Slug};
use crate::domain::{Code, Timestamp};
use crate::i18n::strings;
use maud::{html, Markup, DOCTYPE};

/// The console's style sheet, served as `/console/style.css` (the policy allows no inline
/// style).
pub const STYLE: &str = include_str!("console.css");

/// The Content-Security-Policy of every console page: nothing but the console's own style
/// sheet loads, no script runs, forms post only to Roster, and only `frame_ancestors` may
/// frame it.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// The pages of the navigation, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Members,
    Invitations,
    InviteLinks,
    Billing,
    Usage,
    Teams,
    Roles,
    Domains,
    ApiKeys,
    Webhooks,
    AuditLog,
}

impl Section {
    pub const ALL: [Section; 11] = [
        Section::Members,
        Section::Invitations,
        Section::InviteLinks,
        Section::Billing,
        Section::Usage,
        Section::Teams,
        Section::Roles,
        Section::Domains,
        Section::ApiKeys,
        Section::Webhooks,
        Section::AuditLog,
    ];

    /// The path segment after `/console/{slug}/`.
    pub fn path(self) -> &'static str {
        match self {
            Section::Members => "members",
            Section::Invitations => "invitations",
            Section::InviteLinks => "invite-links",
            Section::Billing => "billing",
            Section::Usage => "usage",
            Section::Teams => "teams",
            Section::Roles => "roles",
            Section::Domains => "domains",
            Section::ApiKeys => "api-keys",
            Section::Webhooks => "webhooks",
            Section::AuditLog => "audit-log",
        }
    }

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|section| section.path() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Members => "Members",
            Section::Invitations => "Invitations",
            Section::InviteLinks => "Invite links",
            Section::Billing => "Billing",
            Section::Usage => "Usage",
            Section::Teams => "Teams",
            Section::Roles => "Roles",
            Section::Domains => "Domains",
            Section::ApiKeys => "API keys",
            Section::Webhooks => "Webhooks",
            Section::AuditLog => "Audit log",
        }
    }
}

/// What every page of a session shows around its content.
pub struct Frame<'a> {
    pub org_name: &'a str,
    pub slug: &'a str,
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
    /// "Back to the app".
    pub return_url: Option<&'a str>,
    /// The sections the person may open.
    pub sections: Vec<Section>,
}

/// A message above a page's content: what was done, or why it was refused.
pub enum Notice<'a> {
    Done(&'a str),
    /// A secret just issued (`what` names it), shown this once.
    Secret {
        what: &'a str,
        secret: &'a str,
    },
    Problem {
        code: Code,
        detail: &'a str,
        /// What the person can do about a full plan: go to billing (the owner) or ask.
        seat_advice: Option<SeatAdvice>,
    },
}

/// Who can add seats when the plan is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatAdvice {
    /// The person manages billing: link to it.
    Billing,
    /// Someone else does: ask the owner.
    AskOwner,
}

fn date(at: Timestamp) -> String {
    strings(Locale::En).date(at)
}

/// A role as the pages name it: the built-in ones by their name, custom ones by key.
fn role_name(role: &RoleKey) -> &str {
    match role.builtin() {
        Some(Role::Owner) => "Owner",
        Some(Role::Admin) => "Admin",
        Some(Role::Member) => "Member",
        Some(Role::Viewer) => "Viewer",
        None => role.as_str(),
    }
}

/// `1234` cents as `$12.34`.
pub fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// How a one-button form looks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Button {
    Plain,
    /// For what removes, revokes or refuses something.
    Danger,
}

/// A form of one button posting to `action` with the session's CSRF token: `label` shown,
/// and `hidden` after it for screen readers only (what the button acts on, as a row's
/// other buttons would otherwise read the same).
fn post_button(
    frame: &Frame<'_>,
    action: &str,
    label: &str,
    hidden: Markup,
    kind: Button,
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(frame.csrf))
            button class=[(kind == Button::Danger).then_some("danger")] type="submit" {
                (label)
                @if !hidden.0.is_empty() { span.hidden { (hidden) } }
            }
        }
    }
}

/// A page of a session: the navigation, the notice and `content` under the section's
/// title.
fn page(
    frame: &Frame<'_>,
    current: Section,
    notice: Option<&Notice<'_>>,
    content: Markup,
) -> String {
    titled(frame, current, current.title(), notice, content)
}

/// A page of a session under `title`, in the navigation's `current` section.
fn titled(
    frame: &Frame<'_>,
    current: Section,
    title: &str,
    notice: Option<&Notice<'_>>,
    content: Markup,
) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · " (frame.org_name) }
                link rel="stylesheet" href="/console/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    p.org { (frame.org_name) }
                    nav aria-label="Team management" {
                        ul {
                            @for section in &frame.sections {
                                li {
                                    a href=(format!("/console/{}/{}", frame.slug, section.path()))
                                        aria-current=[(*section == current).then_some("page")] {
                                        (section.title())
                                    }
                                }
                            }
                        }
                    }
                    div.session {
                        @if let Some(url) = frame.return_url {
                            a href=(url) { "Back to the app" }
                        }
                        form method="post" action="/console/logout" {
                            (csrf_field(frame.csrf))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    @if let Some(notice) = notice { (notice_markup(frame, notice)) }
                    (content)
                }
            }
        }
    }
    .into_string()
}

fn notice_markup(frame: &Frame<'_>, notice: &Notice<'_>) -> Markup {
    match notice {
        Notice::Done(text) => html! { div.notice.done role="status" { p { (text) } } },
        Notice::Secret { what, secret } => html! {
            div.notice.done role="status" {
                h2 { (what) " created" }
                p { "Copy it now: it is shown only this once." }
                p { code.secret { (secret) } }
            }
        },
        Notice::Problem {
            code,
            detail,
            seat_advice,
        } => html! {
            div.notice.problem role="alert" {
                // A full plan is named as people say it; any other problem by its title.
                h2 { @if seat_advice.is_some() { "Seat limit reached" } @else { (code.title()) } }
                p { (detail) }
                @match seat_advice {
                    Some(SeatAdvice::Billing) => {
                        p {
                            "Buy extra seats or upgrade the plan on the "
                            a href=(format!("/console/{}/billing", frame.slug)) { "Billing page" }
                            ", or remove a member."
                        }
                    },
                    Some(SeatAdvice::AskOwner) => {
                        p { "Ask the owner of " (frame.org_name) " to add seats." }
                    },
                    None => {}
                }
            }
        },
    }
}

/// A member as the members page shows them, with what the person may do to them.
pub struct MemberView<'a> {
    pub member: &'a Member,
    /// The roles the person may give this member (empty: the role cannot be changed).
    pub roles: Vec<RoleKey>,
    pub removable: bool,
    pub is_self: bool,
}

/// `/console/{slug}/members`
pub fn members(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    rows: &[MemberView<'_>],
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        table {
            caption.hidden { "Members of " (frame.org_name) }
            thead { tr { th scope="col" { "Member" } th scope="col" { "Role" } th scope="col" { "Last active" } th scope="col" { "Actions" } } }
            tbody {
                @for row in rows {
                    @let m = row.member;
                    @let who = m.name.clone().or_else(|| m.email.clone()).unwrap_or_else(|| m.user_id.clone());
                    tr {
                        th scope="row" {
                            span.name { (who) @if row.is_self { " (you)" } }
                            @if let Some(email) = &m.email { br; span.email { (email) } }
                        }
                        td {
                            (role_name(&m.role))
                            @if m.suspended_at.is_some() { br; span.email { "Suspended by the identity provider" } }
                        }
                        td { (date(m.last_active_at)) }
                        td.actions {
                            @if !row.roles.is_empty() {
                                @let id = format!("role-{}", m.user_id);
                                form.inline method="post" action=(format!("/console/{}/members/{}/role", frame.slug, encode_segment(&m.user_id))) {
                                    (csrf_field(frame.csrf))
                                    label.hidden for=(id) { "Role for " (who) }
                                    select id=(id) name="role" {
                                        @for role in &row.roles {
                                            option value=(role.as_str()) selected[*role == m.role] { (role_name(role)) }
                                        }
                                    }
                                    button type="submit" { "Change role" span.hidden { " of " (who) } }
                                }
                            }
                            @if row.removable {
                                @let remove = format!("/console/{}/members/{}/remove", frame.slug, encode_segment(&m.user_id));
                                @if row.is_self {
                                    (post_button(frame, &remove, "Leave", html! {}, Button::Danger))
                                } @else {
                                    (post_button(frame, &remove, "Remove", html! { " " (who) }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = next_cursor {
            p { a href=(format!("/console/{}/members?cursor={}", frame.slug, encode_segment(cursor))) { "Next page" } }
        }
    };
    page(frame, Section::Members, notice, content)
}

/// What the invitations page offers the person.
pub struct InvitationsView<'a> {
    /// Roles the person may invite as; empty when they may not invite.
    pub roles: Vec<RoleKey>,
    /// Whether they may resend and cancel.
    pub manage: bool,
    pub pending: &'a [Invitation],
    pub next_cursor: Option<&'a str>,
    /// The outcome of each address of a list just sent.
    pub bulk: Vec<BulkOutcome>,
}

/// One address of an invitation list, invited or not.
pub struct BulkOutcome {
    pub email: String,
    /// Why it was not invited.
    pub refused: Option<String>,
}

fn role_select(id: &str, roles: &[RoleKey], selected: &str) -> Markup {
    html! {
        select id=(id) name="role" {
            @for role in roles {
                option value=(role.as_str()) selected[role.as_str() == selected] { (role_name(role)) }
            }
        }
    }
}

/// `/console/{slug}/invitations`
pub fn invitations(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    view: &InvitationsView<'_>,
) -> String {
    let content = html! {
        @if !view.bulk.is_empty() {
            section aria-labelledby="bulk-results" {
                h2 id="bulk-results" { "The list you sent" }
                ul.outcomes {
                    @for outcome in &view.bulk {
                        li {
                            (outcome.email) ": "
                            @match &outcome.refused {
                                Some(why) => { strong { "not invited" } " — " (why) },
                                None => { "invited" },
                            }
                        }
                    }
                }
            }
        }
        @if !view.roles.is_empty() {
            div.forms {
                form.card method="post" action=(format!("/console/{}/invitations", frame.slug)) {
                    h2 { "Invite someone" }
                    (csrf_field(frame.csrf))
                    label for="invite-email" { "Email address" }
                    input id="invite-email" type="email" name="email" required autocomplete="off";
                    label for="invite-role" { "Role" }
                    (role_select("invite-role", &view.roles, "member"))
                    button type="submit" { "Send invitation" }
                }
                form.card method="post" action=(format!("/console/{}/invitations/bulk", frame.slug)) {
                    h2 { "Invite several people" }
                    (csrf_field(frame.csrf))
                    label for="bulk-emails" { "Email addresses" }
                    p.hint id="bulk-hint" { "One per line, or separated by commas or spaces; at most 100." }
                    textarea id="bulk-emails" name="emails" rows="5" required aria-describedby="bulk-hint" {}
                    label for="bulk-role" { "Role" }
                    (role_select("bulk-role", &view.roles, "member"))
                    button type="submit" { "Send invitations" }
                }
            }
        }
        h2 { "Pending invitations" }
        @if view.pending.is_empty() {
            p { "No invitation is pending." }
        } @else {
            table {
                thead { tr { th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Expires" } @if view.manage { th scope="col" { "Actions" } } } }
                tbody {
                    @for invitation in view.pending {
                        tr {
                            th scope="row" { (invitation.email) }
                            td { (role_name(&invitation.role)) }
                            td { (date(invitation.expires_at)) }
                            @if view.manage {
                                td.actions {
                                    (post_button(frame, &format!("/console/{}/invitations/{}/resend", frame.slug, encode_segment(&invitation.id)), "Resend", html! { " to " (invitation.email) }, Button::Plain))
                                    (post_button(frame, &format!("/console/{}/invitations/{}/cancel", frame.slug, encode_segment(&invitation.id)), "Cancel", html! { " the invitation of " (invitation.email) }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = view.next_cursor {
            p { a href=(format!("/console/{}/invitations?cursor={}", frame.slug, encode_segment(cursor))) { "Next page" } }
        }
    };
    page(frame, Section::Invitations, notice, content)
}

/// What the billing page shows: the billing, its ledger, and for the person who manages
/// billing the form for extra seats, with the price of `preview` when one was asked for.
pub struct BillingView<'a> {
    pub billing: &'a Billing,
    pub ledger: &'a [LedgerEntry],
    pub manage: bool,
    /// The extra seats asked about, before buying.
    pub preview: Option<i64>,
    pub now: Timestamp,
}

/// `/console/{slug}/billing`
pub fn billing(frame: &Frame<'_>, notice: Option<&Notice<'_>>, view: &BillingView<'_>) -> String {
    let b = view.billing;
    let seats = &b.seats;
    let content = html! {
        dl.facts {
            dt { "Plan" } dd { (plan_name(b.plan)) }
            dt { "This period" } dd { (date(b.period_start)) " to " (date(b.period_end)) }
            dt { "Seats" } dd { (seats.used) " used of " (seats.total) " (" (seats.included) " included, " (seats.extra) " extra)" }
            dt { "Pending invitations" } dd { (seats.pending_invitations) }
            @if let Some(next) = seats.extra_next_period {
                dt { "Extra seats next period" } dd { (next) }
            }
            dt { "Credits" } dd { (b.credits.used) " used of " (b.credits.included) }
        }
        @if view.manage && b.plan != Plan::Free {
            section.card aria-labelledby="extra-seats" {
                h2 id="extra-seats" { "Extra seats" }
                p { "Each extra seat costs " (dollars(SEAT_PRICE_CENTS)) " a period. Seats added now are charged pro rata for the rest of this period; fewer seats take effect from the next period." }
                form method="get" action=(format!("/console/{}/billing", frame.slug)) {
                    label for="extra" { "Extra seats wanted" }
                    input id="extra" type="number" name="extra" min="0" max="10000" required value=(view.preview.unwrap_or(seats.extra));
                    button type="submit" { "Show the price" }
                }
                @if let Some(extra) = view.preview {
                    @let added = extra - seats.extra;
                    div.preview role="status" {
                        @if added > 0 {
                            p { "Going from " (seats.extra) " to " (extra) " extra seats adds " (added) " now, for "
                                strong { (dollars(proration_cents(added, view.now, b.period_start, b.period_end))) }
                                " until " (date(b.period_end)) "; then " (dollars(SEAT_PRICE_CENTS * extra)) " a period." }
                        } @else if added < 0 {
                            p { "Going from " (seats.extra) " to " (extra) " extra seats takes effect when the next period starts, on " (date(b.period_end)) ". Nothing is charged." }
                        } @else {
                            p { "You have " (extra) " extra seats already." }
                        }
                        @if added != 0 {
                            form method="post" action=(format!("/console/{}/billing/seats", frame.slug)) {
                                (csrf_field(frame.csrf))
                                input type="hidden" name="extra" value=(extra);
                                button type="submit" { "Confirm " (extra) " extra seats" }
                            }
                        }
                    }
                }
            }
        } @else if b.plan == Plan::Free && view.manage {
            p { "The free plan has no extra seats; upgrade the plan in the app to add seats." }
        }
        h2 { "Ledger" }
        @if view.ledger.is_empty() {
            p { "Nothing has been charged." }
        } @else {
            table {
                thead { tr { th scope="col" { "Date" } th scope="col" { "Charge" } th scope="col" { "Seats" } th scope="col" { "Amount" } } }
                tbody {
                    @for entry in view.ledger {
                        tr {
                            td { (date(entry.at)) }
                            th scope="row" { (entry.description) }
                            td { (entry.quantity) }
                            td.number { (dollars(entry.amount_cents)) }
                        }
                    }
                }
            }
        }
    };
    page(frame, Section::Billing, notice, content)
}

fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Free => "Free",
        Plan::Pro => "Pro",
        Plan::Business => "Business",
    }
}

/// `/console/{slug}/usage`: the period's credits, and who used them as bars.
pub fn usage(frame: &Frame<'_>, notice: Option<&Notice<'_>>, usage: &Usage) -> String {
    let most = usage
        .by_member
        .iter()
        .map(|m| m.used)
        .max()
        .unwrap_or(0)
        .max(1);
    let content = html! {
        p { (usage.used) " of " (usage.included) " credits used from " (date(usage.period_start)) " to " (date(usage.period_end)) "; " (usage.remaining) " left." }
        label for="credits-used" { "Credits used this period" }
        meter id="credits-used" min="0" max=(usage.included.max(1)) value=(usage.used) { (usage.used) " of " (usage.included) }
        h2 { "By member" }
        @if usage.by_member.is_empty() {
            p { "No credits used yet this period." }
        } @else {
            ul.bars {
                @for (i, m) in usage.by_member.iter().enumerate() {
                    @let id = format!("usage-{i}");
                    @let who = m.email.clone().unwrap_or_else(|| m.user_id.clone());
                    li {
                        label for=(id) { (who) ": " (m.used) }
                        meter id=(id) min="0" max=(most) value=(m.used) { (m.used) }
                    }
                }
            }
        }
        @if let Some(cursor) = &usage.next_cursor {
            p { a href=(format!("/console/{}/usage?cursor={}", frame.slug, encode_segment(cursor))) { "Next page" } }
        }
    };
    page(frame, Section::Usage, notice, content)
}

/// `/console/{slug}/api-keys`: live keys, a form for a new one, and revoking.
pub fn api_keys(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    keys: &[ApiKey],
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        form.card method="post" action=(format!("/console/{}/api-keys", frame.slug)) {
            h2 { "Create an API key" }
            (csrf_field(frame.csrf))
            label for="key-name" { "Name" }
            input id="key-name" type="text" name="name" required maxlength="100";
            fieldset {
                legend { "Scopes" }
                p.hint { "A key without scopes can read the organization and nothing else." }
                (checkboxes("scope", "scope", Scope::ALL.iter().map(|s| s.as_str()), |_| false))
            }
            button type="submit" { "Create key" }
        }
        h2 { "Keys" }
        @if keys.is_empty() {
            p { "There is no API key." }
        } @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Scopes" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "Actions" } } }
                tbody {
                    @for key in keys {
                        tr {
                            th scope="row" { (key.name) br; span.email { code { (key.prefix) "…" } } }
                            td { @if key.scopes.is_empty() { "none" } @else { (key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) } }
                            td { (date(key.created_at)) }
                            td { @match key.last_used_at { Some(at) => (date(at)), None => "never" } }
                            td.actions {
                                (post_button(frame, &format!("/console/{}/api-keys/{}/revoke", frame.slug, encode_segment(&key.id)), "Revoke", html! { " " (key.name) }, Button::Danger))
                            }
                        }
                    }
                }
            }
        }
        (next_page(frame, Section::ApiKeys, next_cursor))
    };
    page(frame, Section::ApiKeys, notice, content)
}

/// `/console/{slug}/teams`: the teams, and for whoever manages them, creating and deleting.
pub fn teams(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    teams: &[Team],
    manage: bool,
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        @if manage {
            form.card method="post" action=(format!("/console/{}/teams", frame.slug)) {
                h2 { "Create a team" }
                (csrf_field(frame.csrf))
                label for="team-name" { "Name" }
                input id="team-name" type="text" name="name" required maxlength="100";
                button type="submit" { "Create team" }
            }
        }
        h2 { "Teams" }
        @if teams.is_empty() {
            p { "There is no team." }
        } @else {
            table {
                thead { tr { th scope="col" { "Team" } th scope="col" { "Members" } th scope="col" { "Created" } @if manage { th scope="col" { "Actions" } } } }
                tbody {
                    @for team in teams {
                        tr {
                            th scope="row" { a href=(format!("/console/{}/teams/{}", frame.slug, encode_segment(&team.slug))) { (team.name) } }
                            td.number { (team.members_count) }
                            td { (date(team.created_at)) }
                            @if manage {
                                td.actions {
                                    (post_button(frame, &format!("/console/{}/teams/{}/delete", frame.slug, encode_segment(&team.slug)), "Delete", html! { " " (team.name) }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
        (next_page(frame, Section::Teams, next_cursor))
    };
    page(frame, Section::Teams, notice, content)
}

/// What a team's page offers: its members, and for whoever manages them the members of
/// the organization who can be added.
pub struct TeamView<'a> {
    pub team: &'a Team,
    pub members: &'a [TeamMember],
    /// Whether the viewer manages the team's members (a maintainer of it does).
    pub manage: bool,
    /// Whether the viewer may rename the team (those who manage all teams).
    pub rename: bool,
    /// `(user_id, name)` of the organization's members not in the team.
    pub addable: Vec<(String, String)>,
}

/// `/console/{slug}/teams/{team}`
pub fn team(frame: &Frame<'_>, notice: Option<&Notice<'_>>, view: &TeamView<'_>) -> String {
    let team_path = format!(
        "/console/{}/teams/{}",
        frame.slug,
        encode_segment(&view.team.slug)
    );
    let content = html! {
        p { a href=(format!("/console/{}/teams", frame.slug)) { "All teams" } }
        @if view.rename {
            form.card method="post" action=(format!("{team_path}/rename")) {
                h2 { "Rename the team" }
                (csrf_field(frame.csrf))
                label for="team-rename" { "Name" }
                input id="team-rename" type="text" name="name" required maxlength="100" value=(view.team.name);
                label for="team-slug" { "Slug" }
                input id="team-slug" type="text" name="slug" required maxlength=(Slug::MAX_LEN) value=(view.team.slug) aria-describedby="team-slug-hint";
                p.hint id="team-slug-hint" { "Lowercase letters, digits and hyphens; the team's address in the API and here." }
                button type="submit" { "Save" }
            }
        }
        @if view.manage && !view.addable.is_empty() {
            form.card method="post" action=(format!("{team_path}/members")) {
                h2 { "Add a member" }
                (csrf_field(frame.csrf))
                label for="team-member" { "Member" }
                select id="team-member" name="user_id" {
                    @for (id, name) in &view.addable { option value=(id) { (name) } }
                }
                label for="team-role" { "Team role" }
                select id="team-role" name="team_role" {
                    option value="member" selected { "Member" }
                    option value="maintainer" { "Maintainer" }
                }
                button type="submit" { "Add to team" }
            }
        }
        h2 { "Members" }
        @if view.members.is_empty() {
            p { "The team has no member." }
        } @else {
            table {
                thead { tr { th scope="col" { "Member" } th scope="col" { "Team role" } th scope="col" { "Added" } @if view.manage { th scope="col" { "Actions" } } } }
                tbody {
                    @for m in view.members {
                        @let who = m.name.clone().or_else(|| m.email.clone()).unwrap_or_else(|| m.user_id.clone());
                        tr {
                            th scope="row" { (who) }
                            td { @if m.team_role == TeamRole::Maintainer { "Maintainer" } @else { "Member" } }
                            td { (date(m.added_at)) }
                            @if view.manage {
                                td.actions {
                                    (post_button(frame, &format!("{team_path}/members/{}/remove", encode_segment(&m.user_id)), "Remove", html! { " " (who) " from the team" }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    titled(frame, Section::Teams, &view.team.name, notice, content)
}

/// How long a new invite link may last, as the form offers it: `(seconds, label)`.
const LINK_LIFETIMES: [(i64, &str); 4] = [
    (86_400, "1 day"),
    (604_800, "7 days"),
    (2_592_000, "30 days"),
    (7_776_000, "90 days"),
];

/// `/console/{slug}/invite-links`: the links, one to create (with the roles the person
/// may invite as), and revoking.
pub fn invite_links(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    links: &[InviteLink],
    roles: &[RoleKey],
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        form.card method="post" action=(format!("/console/{}/invite-links", frame.slug)) {
            h2 { "Create an invite link" }
            p.hint { "Anyone with the link can join, with a verified email address, while it lasts." }
            (csrf_field(frame.csrf))
            label for="link-role" { "Role" }
            (role_select("link-role", roles, "member"))
            label for="link-uses" { "Most uses (empty: no limit)" }
            input id="link-uses" type="number" name="max_uses" min="1" max="10000";
            label for="link-lasts" { "Lasts" }
            select id="link-lasts" name="expires_in" {
                @for (seconds, label) in LINK_LIFETIMES {
                    option value=(seconds) selected[seconds == 604_800] { (label) }
                }
            }
            button type="submit" { "Create link" }
        }
        h2 { "Links" }
        @if links.is_empty() {
            p { "There is no invite link." }
        } @else {
            table {
                thead { tr { th scope="col" { "Role" } th scope="col" { "Uses" } th scope="col" { "Expires" } th scope="col" { "Status" } th scope="col" { "Actions" } } }
                tbody {
                    @for link in links {
                        tr {
                            th scope="row" { (role_name(&link.role)) }
                            td { (link.uses) @if let Some(max) = link.max_uses { " of " (max) } }
                            td { (date(link.expires_at)) }
                            td { (link.status.as_str()) }
                            td.actions {
                                @if link.revoked_at.is_none() {
                                    (post_button(frame, &format!("/console/{}/invite-links/{}/revoke", frame.slug, encode_segment(&link.id)), "Revoke", html! { " the link created " (date(link.created_at)) }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
        (next_page(frame, Section::InviteLinks, next_cursor))
    };
    page(frame, Section::InviteLinks, notice, content)
}

/// What the domains page offers; `None` for what the person may not see.
pub struct DomainsView<'a> {
    /// The verified domains, for whoever manages them.
    pub domains: Option<&'a [Domain]>,
    /// The join requests, for whoever decides them.
    pub requests: Option<&'a [JoinRequest]>,
    /// The roles people joining by a domain can be given by this person.
    pub roles: Vec<RoleKey>,
    /// The slugs of the teams they can join (the first hundred).
    pub teams: Vec<String>,
}

/// `/console/{slug}/domains`: verified domains (with the record to publish, checking it,
/// how people join by it — off, by request or automatically, with a role and teams — and
/// removal), and join requests.
pub fn domains(frame: &Frame<'_>, notice: Option<&Notice<'_>>, view: &DomainsView<'_>) -> String {
    let base = format!("/console/{}/domains", frame.slug);
    let content = html! {
        @if let Some(domains) = view.domains {
            form.card method="post" action=(base) {
                h2 { "Add a domain" }
                p.hint { "People with a verified address on a verified domain can join or ask to join." }
                (csrf_field(frame.csrf))
                label for="domain-name" { "Domain" }
                input id="domain-name" type="text" name="domain" required maxlength="253" placeholder="example.com";
                button type="submit" { "Add domain" }
            }
            h2 { "Domains" }
            @if domains.is_empty() {
                p { "There is no domain." }
            }
            @for d in domains {
                section.card aria-label=(format!("Domain {}", d.domain)) {
                    h3 { (d.domain) " — " (d.status.as_str()) }
                    @if d.verified_at.is_none() {
                        p { "Publish this TXT record, then check it:" }
                        dl.facts {
                            dt { "Name" } dd { code.secret { (d.verification.name) } }
                            dt { "Value" } dd { code.secret { (d.verification.value) } }
                        }
                        (post_button(frame, &format!("{base}/{}/verify", encode_segment(&d.id)), "Check the record", html! { " of " (d.domain) }, Button::Plain))
                    } @else {
                        @let id = format!("enrollment-{}", d.id);
                        form method="post" action=(format!("{base}/{}/enrollment", encode_segment(&d.id))) {
                            (csrf_field(frame.csrf))
                            label for=(id) { "Joining" }
                            select id=(id) name="enrollment" {
                                @for (value, label) in [("off", "Off"), ("request", "By request"), ("auto_join", "Automatic")] {
                                    option value=(value) selected[d.enrollment.as_str() == value] { (label) }
                                }
                            }
                            label for=(format!("domain-role-{}", d.id)) { "Role" }
                            (role_select(&format!("domain-role-{}", d.id), &view.roles, d.role.as_str()))
                            // The domain's own teams are offered even beyond the page of teams.
                            @let beyond: Vec<&String> = d.teams.iter().filter(|t| !view.teams.contains(t)).collect();
                            @if !view.teams.is_empty() || !beyond.is_empty() {
                                fieldset {
                                    legend { "Teams they join" }
                                    (checkboxes(
                                        &format!("domain-{}-team", d.id),
                                        "team",
                                        view.teams.iter().chain(beyond).map(String::as_str),
                                        |team| d.teams.iter().any(|t| t == team),
                                    ))
                                }
                            }
                            button type="submit" { "Save" span.hidden { " joining for " (d.domain) } }
                        }
                    }
                    (post_button(frame, &format!("{base}/{}/remove", encode_segment(&d.id)), "Remove", html! { " " (d.domain) }, Button::Danger))
                }
            }
        }
        @if let Some(requests) = view.requests {
            h2 { "Join requests" }
            @if requests.is_empty() {
                p { "No one is waiting to join." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Person" } th scope="col" { "Asked" } th scope="col" { "Actions" } } }
                    tbody {
                        @for r in requests {
                            @let who = r.name.clone().unwrap_or_else(|| r.email.clone());
                            tr {
                                th scope="row" { (who) br; span.email { (r.email) } }
                                td { (date(r.created_at)) }
                                td.actions {
                                    (post_button(frame, &format!("{base}/requests/{}/approve", encode_segment(&r.id)), "Approve", html! { " " (who) }, Button::Plain))
                                    (post_button(frame, &format!("{base}/requests/{}/deny", encode_segment(&r.id)), "Deny", html! { " " (who) }, Button::Danger))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(frame, Section::Domains, notice, content)
}

/// What the roles page offers: every role, and for whoever may manage custom roles (on a
/// plan that has them), creating and deleting them.
pub struct RolesView<'a> {
    pub roles: &'a [RoleObject],
    pub manage: bool,
}

/// The permissions a custom role can hold (never `org.delete`, `billing.manage` or
/// `admins.manage`; `org.read` always).
const CUSTOM_PERMISSIONS: [Permission; 9] = [
    Permission::OrgUpdate,
    Permission::MembersManage,
    Permission::BillingRead,
    Permission::UsageConsume,
    Permission::UsageReadAll,
    Permission::ResourcesCreate,
    Permission::IntegrationsManage,
    Permission::RolesManage,
    Permission::TeamsManage,
];

/// A checkbox named `name` for each of `values`, those `ticked` checked; each one's id is
/// `prefix`, a hyphen and the value with its punctuation as hyphens.
fn checkboxes<'v>(
    prefix: &str,
    name: &str,
    values: impl IntoIterator<Item = &'v str>,
    ticked: impl Fn(&str) -> bool,
) -> Markup {
    html! {
        ul.choices {
            @for value in values {
                @let id = format!("{prefix}-{}", value.replace(['.', ':'], "-"));
                li {
                    input id=(id) type="checkbox" name=(name) value=(value) checked[ticked(value)];
                    label.inline for=(id) { code { (value) } }
                }
            }
        }
    }
}

/// A checkbox for each permission a custom role can hold, those of `held` ticked; their
/// ids start with `prefix`.
fn permission_choices(prefix: &str, held: &[Permission]) -> Markup {
    html! {
        fieldset {
            legend { "Permissions" }
            (checkboxes(
                prefix,
                "permission",
                CUSTOM_PERMISSIONS.iter().map(|p| p.as_str()),
                |name| held.iter().any(|p| p.as_str() == name),
            ))
        }
    }
}

/// `/console/{slug}/roles`
pub fn roles(frame: &Frame<'_>, notice: Option<&Notice<'_>>, view: &RolesView<'_>) -> String {
    let custom: Vec<&RoleObject> = view.roles.iter().filter(|r| !r.builtin).collect();
    let content = html! {
        @if view.manage {
            form.card method="post" action=(format!("/console/{}/roles", frame.slug)) {
                h2 { "Create a custom role" }
                (csrf_field(frame.csrf))
                label for="role-key" { "Key" }
                p.hint id="role-key-hint" { "3 to 32 lower-case letters, digits and hyphens." }
                input id="role-key" type="text" name="key" required pattern="[a-z0-9-]{3,32}" aria-describedby="role-key-hint";
                label for="role-name" { "Name" }
                input id="role-name" type="text" name="name" required maxlength="100";
                (permission_choices("permission", &[]))
                button type="submit" { "Create role" }
            }
        }
        @if view.manage {
            @for role in &custom {
                @let key = role.key.as_str();
                details.card {
                    summary { "Edit the role " (role.name) }
                    form method="post" action=(format!("/console/{}/roles/{}/edit", frame.slug, encode_segment(key))) {
                        (csrf_field(frame.csrf))
                        label for=(format!("edit-{key}-name")) { "Name" }
                        input id=(format!("edit-{key}-name")) type="text" name="name" required maxlength="100" value=(role.name);
                        (permission_choices(&format!("edit-{key}"), &role.permissions))
                        button type="submit" { "Save" span.hidden { " the role " (role.name) } }
                    }
                }
            }
        }
        h2 { "Roles" }
        table {
            thead { tr { th scope="col" { "Role" } th scope="col" { "Permissions" } th scope="col" { "Members" } @if view.manage && !custom.is_empty() { th scope="col" { "Actions" } } } }
            tbody {
                @for role in view.roles {
                    tr {
                        th scope="row" { (role.name) br; span.email { code { (role.key.as_str()) } } }
                        td { (role.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")) }
                        td.number { (role.members_count) }
                        @if view.manage && !custom.is_empty() {
                            td.actions {
                                @if !role.builtin {
                                    @let id = format!("reassign-{}", role.key.as_str());
                                    form.inline method="post" action=(format!("/console/{}/roles/{}/delete", frame.slug, encode_segment(role.key.as_str()))) {
                                        (csrf_field(frame.csrf))
                                        label for=(id) { "Holders become" }
                                        select id=(id) name="reassign_to" {
                                            @for other in view.roles.iter().filter(|o| o.key != role.key && o.key.builtin() != Some(Role::Owner)) {
                                                option value=(other.key.as_str()) selected[other.key.builtin() == Some(Role::Member)] { (other.name) }
                                            }
                                        }
                                        button.danger type="submit" { "Delete" span.hidden { " the role " (role.name) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(frame, Section::Roles, notice, content)
}

/// A delivery to an endpoint, as the webhooks page lists it.
pub struct Delivery {
    pub event: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub at: Timestamp,
}

/// `/console/{slug}/webhooks`: endpoints with their latest deliveries, a form for a new
/// one, and deleting.
pub fn webhooks(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    hooks: &[(Webhook, Vec<Delivery>)],
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        form.card method="post" action=(format!("/console/{}/webhooks", frame.slug)) {
            h2 { "Add an endpoint" }
            (csrf_field(frame.csrf))
            label for="hook-url" { "URL" }
            input id="hook-url" type="url" name="url" required placeholder="https://";
            fieldset {
                legend { "Events" }
                (checkboxes("event", "event", WEBHOOK_EVENTS.iter().map(|e| e.as_str()), |_| false))
            }
            button type="submit" { "Add endpoint" }
        }
        h2 { "Endpoints" }
        @if hooks.is_empty() {
            p { "There is no webhook endpoint." }
        }
        @for (hook, deliveries) in hooks {
            section.card aria-label=(format!("Endpoint {}", hook.url)) {
                h3 { code { (hook.url) } }
                p { (hook.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")) }
                @if let Some(at) = hook.disabled_at {
                    p.warning { "Disabled on " (date(at)) @if let Some(why) = &hook.disabled_reason { ": " (why) } }
                }
                @if deliveries.is_empty() {
                    p.hint { "Nothing delivered yet." }
                } @else {
                    table {
                        caption { "Latest deliveries" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" { "Attempts" } } }
                        tbody {
                            @for d in deliveries {
                                tr {
                                    td { (date(d.at)) }
                                    th scope="row" { (d.event.as_deref().unwrap_or("—")) }
                                    td { (d.status) @if let Some(e) = &d.last_error { br; span.email { (e) } } }
                                    td.number { (d.attempts) }
                                }
                            }
                        }
                    }
                }
                (post_button(frame, &format!("/console/{}/webhooks/{}/delete", frame.slug, encode_segment(&hook.id)), "Delete", html! { " the endpoint " (hook.url) }, Button::Danger))
            }
        }
        (next_page(frame, Section::Webhooks, next_cursor))
    };
    page(frame, Section::Webhooks, notice, content)
}

/// `/console/{slug}/audit-log`: every change, newest first.
pub fn audit_log(
    frame: &Frame<'_>,
    notice: Option<&Notice<'_>>,
    entries: &[AuditEntry],
    next_cursor: Option<&str>,
) -> String {
    let content = html! {
        @if entries.is_empty() {
            p { "Nothing has been recorded." }
        } @else {
            table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "By" } th scope="col" { "On" } } }
                tbody {
                    @for entry in entries {
                        tr {
                            td { (date(entry.at)) }
                            th scope="row" { code { (entry.action.as_str()) } }
                            td { (actor_name(entry.actor.kind)) @if let Some(id) = &entry.actor.id { " " span.email { (id) } } }
                            td { (entry.target.kind.as_deref().unwrap_or("")) @if let Some(id) = &entry.target.id { " " span.email { (id) } } }
                        }
                    }
                }
            }
        }
        (next_page(frame, Section::AuditLog, next_cursor))
    };
    page(frame, Section::AuditLog, notice, content)
}

fn actor_name(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::User => "user",
        ActorKind::ApiKey => "API key",
        ActorKind::ScimToken => "SCIM token",
        ActorKind::System => "Roster",
    }
}

fn next_page(frame: &Frame<'_>, section: Section, cursor: Option<&str>) -> Markup {
    html! {
        @if let Some(cursor) = cursor {
            p { a href=(format!("/console/{}/{}?cursor={}", frame.slug, section.path(), encode_segment(cursor))) { "Next page" } }
        }
    }
}

/// A page outside a session: a link that cannot be used, a session that ended, a page
/// that does not exist.
pub fn message(title: &str, text: &str) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="stylesheet" href="/console/style.css";
            }
            body { main id="main" { h1 { (title) } p { (text) } } }
        }
    }
    .into_string()
}

/// The demo sign-in of local development (`DEV_SIGN_IN=1`): who accepts invitation
/// `token`.
pub fn dev_sign_in(token: &str) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { "Demo sign-in" }
                link rel="stylesheet" href="/console/style.css";
            }
            body {
                main id="main" {
                    h1 { "Demo sign-in" }
                    p { "Local development only: sign in as the invited address, accept the invitation, and open the console." }
                    form.card method="post" action="/console/dev/accept-invite" {
                        input type="hidden" name="token" value=(token);
                        label for="dev-email" { "Email address" }
                        input id="dev-email" type="email" name="email" required;
                        label for="dev-name" { "Name" }
                        input id="dev-name" type="text" name="name";
                        button type="submit" { "Sign in and accept" }
                    }
                }
            }
        }
    }
    .into_string()
}

/// Percent-encodes a path segment or query value: everything but unreserved characters.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The addresses of a pasted list: separated by new lines, commas, semicolons or spaces.
pub fn split_addresses(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::orgs::Member;
    use crate::domain::joining::JoinedVia;

    fn frame(sections: Vec<Section>) -> Frame<'static> {
        Frame {
            org_name: "<b>Acme</b>",
            slug: "acme",
            csrf: "token-1",
            return_url: Some("https://app.test/x?a=1&b=\"2\""),
            sections,
        }
    }

    fn member(name: &str) -> Member {
        Member {
            user_id: "u/1".into(),
            email: Some("a@example.com".into()),
            name: Some(name.into()),
            role: Role::Member.into(),
            joined_at: Timestamp(1_795_428_000),
            joined_via: JoinedVia::Invitation,
            last_active_at: Timestamp(1_795_428_000),
            suspended_at: None,
            grants: Vec::new(),
            teams: Vec::new(),
            metadata: Default::default(),
            private_metadata: None,
        }
    }

    #[test]
    fn pages_escape_what_they_show() {
        let m = member("<script>alert(1)</script>");
        let html = members(
            &frame(vec![Section::Members]),
            None,
            &[MemberView {
                member: &m,
                roles: vec![Role::Viewer.into(), Role::Member.into()],
                removable: true,
                is_self: false,
            }],
            None,
        );
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<b>Acme"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("href=\"https://app.test/x?a=1&amp;b=&quot;2&quot;\""));
        assert!(html.contains("/console/acme/members/u%2F1/role"));
        assert!(html.contains("<option value=\"member\" selected>"));
    }

    #[test]
    fn every_form_carries_the_csrf_token() {
        let m = member("Ann");
        let html = members(
            &frame(Section::ALL.to_vec()),
            Some(&Notice::Done("Done.")),
            &[MemberView {
                member: &m,
                roles: vec![Role::Viewer.into()],
                removable: true,
                is_self: true,
            }],
            Some("c1"),
        );
        let forms = html.matches("<form method=\"post\"").count()
            + html
                .matches("<form class=\"inline\" method=\"post\"")
                .count();
        assert_eq!(forms, 3);
        assert_eq!(
            html.matches("<input type=\"hidden\" name=\"csrf\" value=\"token-1\">")
                .count(),
            3
        );
        assert!(html.contains("Leave"));
        assert!(html.contains("aria-current=\"page\""));
    }

    #[test]
    fn the_navigation_lists_only_the_allowed_sections() {
        let html = members(
            &frame(vec![Section::Members, Section::Invitations]),
            None,
            &[],
            None,
        );
        assert!(html.contains("/console/acme/invitations"));
        assert!(!html.contains("/console/acme/billing"));
        assert!(!html.contains("/console/acme/usage"));
    }

    #[test]
    fn a_viewer_gets_no_invitation_forms() {
        let view = InvitationsView {
            roles: Vec::new(),
            manage: false,
            pending: &[],
            next_cursor: None,
            bulk: Vec::new(),
        };
        let html = invitations(&frame(vec![Section::Invitations]), None, &view);
        assert!(!html.contains("Send invitation"));
        assert!(!html.contains("<form method=\"post\" action=\"/console/acme/invitations\""));
    }

    #[test]
    fn a_full_plan_says_what_to_do() {
        let view = InvitationsView {
            roles: vec![Role::Member.into()],
            manage: true,
            pending: &[],
            next_cursor: None,
            bulk: Vec::new(),
        };
        let problem = |seat_advice| Notice::Problem {
            code: Code::SeatLimitReached,
            detail: "All seats are taken.",
            seat_advice,
        };
        let owner = invitations(
            &frame(vec![Section::Invitations]),
            Some(&problem(Some(SeatAdvice::Billing))),
            &view,
        );
        assert!(owner.contains("Seat limit reached"));
        assert!(owner.contains("href=\"/console/acme/billing\""));
        let admin = invitations(
            &frame(vec![Section::Invitations]),
            Some(&problem(Some(SeatAdvice::AskOwner))),
            &view,
        );
        assert!(admin.contains("Ask the owner of &lt;b&gt;Acme&lt;/b&gt; to add seats."));
    }

    #[test]
    fn pasted_lists_split_on_any_separator() {
        assert_eq!(
            split_addresses("a@x.test, b@x.test\nc@x.test;d@x.test  e@x.test\r\n"),
            ["a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test"]
        );
        assert!(split_addresses(" \n ").is_empty());
    }

    #[test]
    fn money_and_segments() {
        assert_eq!(dollars(1234), "$12.34");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(encode_segment("a b/ü"), "a%20b%2F%C3%BC");
    }

    #[test]
    fn the_policy_has_no_inline_script_or_style() {
        let csp = content_security_policy("'none'");
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe"));
        assert!(!csp.contains("script-src"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
        let html = message("Gone", "This link was used.");
        assert!(!html.contains("<style"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("style=\""));
    }
}
