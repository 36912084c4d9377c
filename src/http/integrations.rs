//! Integrations: `/v1/orgs/{slug}/api-keys`, `/scim-tokens`, `/webhooks` and `/audit-log`. Owners and
//! admins only (`integrations.manage`); no API key can manage any of them.
//!
//! Reads cost one round trip: the list (or the one row a deletion names) is read in the
//! batch that authenticates, and shown only once the caller is authorized.

use super::auth;
use super::body::{names, string, Fields};
use super::{json, no_content, Answer, Ctx};
use crate::api::integrations::{
    ActorKind, ApiKey, AuditActor, AuditEntry, AuditTarget, NewApiKey, NewScimToken, NewWebhook,
    ScimToken, Webhook,
};
use crate::api::{List, WebhookEvent};
use crate::domain::event::{EventType, WEBHOOK_EVENTS};
use crate::domain::policy::{authorize, Action, Scope};
use crate::domain::secret::{ApiKeySecret, ScimSecret, WebhookSecret};
use crate::domain::values::{is_id, Name};
use crate::domain::webhook::WebhookUrl;
use crate::domain::{Problem, Timestamp};
use crate::store::api_keys::KeyRow;
use crate::store::audit::Entry;
use crate::store::principal::{parse_scopes, Caller, CallerQuery};
use crate::store::scim_tokens::TokenRow;
use crate::store::webhooks::WebhookRow;
use crate::store::{self, Batch, Results, Rows};

/// The key, never with its secret.
fn api_key_of(key: &KeyRow) -> ApiKey {
    ApiKey {
        id: key.id.clone(),
        name: key.name.clone(),
        scopes: parse_scopes(&key.scopes),
        prefix: key.prefix.clone(),
        created_at: Timestamp(key.created_at),
        last_used_at: key.last_used_at.map(Timestamp),
    }
}

/// The SCIM token, never with its secret.
fn scim_token_of(token: &TokenRow) -> ScimToken {
    ScimToken {
        id: token.id.clone(),
        name: token.name.clone(),
        created_at: Timestamp(token.created_at),
        last_used_at: token.last_used_at.map(Timestamp),
    }
}

/// The endpoint, never with its secret: a disabled endpoint says when and why.
fn webhook_of(hook: &WebhookRow) -> Result<Webhook, Problem> {
    let names: Vec<String> = serde_json::from_str(&hook.events).map_err(|_| Problem::internal())?;
    let events = names
        .iter()
        .map(|name| {
            EventType::parse(name)
                .filter(|e| e.is_webhook_event())
                .map(WebhookEvent)
                .ok_or_else(Problem::internal)
        })
        .collect::<Result<_, _>>()?;
    Ok(Webhook {
        id: hook.id.clone(),
        url: hook.url.clone(),
        events,
        created_at: Timestamp(hook.created_at),
        failure_count: hook.failure_count,
        disabled_at: hook.disabled_at.map(Timestamp),
        disabled_reason: hook.disabled_reason.clone(),
    })
}

fn audit_entry_of(entry: &Entry) -> Result<AuditEntry, Problem> {
    Ok(AuditEntry {
        id: entry.id.clone(),
        at: Timestamp(entry.at),
        actor: AuditActor {
            kind: ActorKind::parse(&entry.actor_type).ok_or_else(Problem::internal)?,
            id: entry.actor_id.clone(),
        },
        action: EventType::parse(&entry.action).ok_or_else(Problem::internal)?,
        target: AuditTarget {
            kind: entry.target_type.clone(),
            id: entry.target_id.clone(),
        },
        data: serde_json::from_str(&entry.data).map_err(|_| Problem::internal())?,
    })
}

/// Runs a batch begun by [`auth::begin`] and checks the caller may manage integrations.
async fn authorized(
    ctx: &Ctx,
    batch: Batch,
    caller: CallerQuery,
) -> Result<(Caller, Results), Problem> {
    let results = batch.run(&ctx.db).await?;
    let caller = caller.resolve(&results)?;
    authorize(&caller.actor, Action::ManageIntegrations)?;
    Ok((caller, results))
}

/// The caller, authorized to manage integrations, and the row `{id}` names in their
/// organization (read by `find` in the same round trip); 404 when there is none.
async fn caller_and_row<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    what: &str,
    find: fn(&mut Batch, &str, &str) -> Rows<T>,
) -> Result<(Caller, T), Problem> {
    let id = ctx.param("id");
    let (mut batch, caller) = auth::begin(ctx)?;
    let row = is_id(id).then(|| find(&mut batch, ctx.param("slug"), id));
    let (caller, results) = authorized(ctx, batch, caller).await?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    Ok((caller, row.ok_or_else(|| Problem::not_found(what))?))
}

/// `GET /v1/orgs/{slug}/api-keys` — live keys, in creation order.
pub async fn list_keys(ctx: &Ctx) -> Answer {
    json(200, &keys(ctx).await?.1)
}

/// The page of live keys the request asks for, with the caller who reads it.
pub async fn keys(ctx: &Ctx) -> Result<(Caller, List<ApiKey>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, caller) = auth::begin(ctx)?;
    let rows = store::api_keys::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let (caller, results) = authorized(ctx, batch, caller).await?;
    let list = page.envelope(results.all(rows)?, |k| k.seq, |k| Ok(api_key_of(k)))?;
    Ok((caller, list))
}

/// `POST /v1/orgs/{slug}/api-keys` `{name, scopes}` — the secret is in this answer only.
pub async fn create_key(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    let scope_names = Scope::ALL.map(Scope::as_str);
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let name = body.required("name", string(Name::parse));
    let scopes = body.required("scopes", names(Scope::parse, &scope_names, 0));
    let (name, scopes) = body.finish((name, scopes))?;
    authorize(&caller.actor, Action::ManageIntegrations)?;
    let secret = ApiKeySecret::generate().map_err(|_| Problem::internal())?;
    let key = store::api_keys::create(&ctx.db, &caller, &name, &scopes, &secret, ctx.now).await?;
    json(
        201,
        &NewApiKey {
            key: api_key_of(&key),
            secret: secret.expose().to_owned(),
        },
    )
}

/// `DELETE /v1/orgs/{slug}/api-keys/{id}` — the key stops working at once.
pub async fn revoke_key(ctx: &Ctx) -> Answer {
    let (caller, key) = caller_and_row(ctx, "API key", store::api_keys::find).await?;
    store::api_keys::revoke(&ctx.db, &caller, &key, ctx.now).await?;
    no_content()
}

/// `GET /v1/orgs/{slug}/scim-tokens` — live SCIM tokens, in creation order.
pub async fn list_scim_tokens(ctx: &Ctx) -> Answer {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, caller) = auth::begin(ctx)?;
    let rows = store::scim_tokens::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let (_, results) = authorized(ctx, batch, caller).await?;
    json(
        200,
        &page.envelope(results.all(rows)?, |t| t.seq, |t| Ok(scim_token_of(t)))?,
    )
}

/// `POST /v1/orgs/{slug}/scim-tokens` `{name}` — the secret is in this answer only. Plans
/// without SCIM provisioning answer `limit_reached`.
pub async fn create_scim_token(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let name = body.required("name", string(Name::parse));
    let (name,) = body.finish((name,))?;
    authorize(&caller.actor, Action::ManageIntegrations)?;
    caller.org.plan()?.require_scim()?;
    let secret = ScimSecret::generate().map_err(|_| Problem::internal())?;
    let token = store::scim_tokens::create(&ctx.db, &caller, &name, &secret, ctx.now).await?;
    json(
        201,
        &NewScimToken {
            token: scim_token_of(&token),
            secret: secret.expose().to_owned(),
        },
    )
}

/// `DELETE /v1/orgs/{slug}/scim-tokens/{id}` — the token stops working at once.
pub async fn revoke_scim_token(ctx: &Ctx) -> Answer {
    let (caller, token) = caller_and_row(ctx, "SCIM token", store::scim_tokens::find).await?;
    store::scim_tokens::revoke(&ctx.db, &caller, &token, ctx.now).await?;
    no_content()
}

/// `GET /v1/orgs/{slug}/webhooks` — endpoints, disabled ones included, in creation order.
pub async fn list_webhooks(ctx: &Ctx) -> Answer {
    json(200, &webhooks(ctx).await?.1)
}

/// The page of endpoints the request asks for, with the caller who reads it.
pub async fn webhooks(ctx: &Ctx) -> Result<(Caller, List<Webhook>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, caller) = auth::begin(ctx)?;
    let rows = store::webhooks::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let (caller, results) = authorized(ctx, batch, caller).await?;
    let list = page.envelope(results.all(rows)?, |w| w.seq, webhook_of)?;
    Ok((caller, list))
}

/// `POST /v1/orgs/{slug}/webhooks` `{url, events}` — the signing secret is in this answer
/// only.
pub async fn create_webhook(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    let event_names = WEBHOOK_EVENTS.map(EventType::as_str);
    let webhook_event = |s: &str| EventType::parse(s).filter(|e| e.is_webhook_event());
    let allow_local = ctx.cfg.allow_http_webhooks;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let url = body.required("url", string(|s| WebhookUrl::parse(s, allow_local)));
    let events = body.required("events", names(webhook_event, &event_names, 1));
    let (url, events) = body.finish((url, events))?;
    authorize(&caller.actor, Action::ManageIntegrations)?;
    let secret = WebhookSecret::generate().map_err(|_| Problem::internal())?;
    let hook = store::webhooks::create(&ctx.db, &caller, &url, &events, &secret, ctx.now).await?;
    json(
        201,
        &NewWebhook {
            webhook: webhook_of(&hook)?,
            secret: secret.expose().to_owned(),
        },
    )
}

/// `DELETE /v1/orgs/{slug}/webhooks/{id}` — deliveries still queued for it are dropped.
pub async fn delete_webhook(ctx: &Ctx) -> Answer {
    let (caller, hook) = caller_and_row(ctx, "webhook", store::webhooks::find).await?;
    store::webhooks::delete(&ctx.db, &caller, &hook, ctx.now).await?;
    no_content()
}

/// `GET /v1/orgs/{slug}/audit-log` — every change, newest first.
pub async fn audit_log(ctx: &Ctx) -> Answer {
    json(200, &audit_entries(ctx).await?.1)
}

/// The page of the audit log the request asks for, newest first, with the caller.
pub async fn audit_entries(ctx: &Ctx) -> Result<(Caller, List<AuditEntry>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, caller) = auth::begin(ctx)?;
    let rows = store::audit::list(&mut batch, ctx.param("slug"), page.before(), page.fetch());
    let (caller, results) = authorized(ctx, batch, caller).await?;
    let list = page.envelope(results.all(rows)?, |e| e.seq, audit_entry_of)?;
    Ok((caller, list))
}
