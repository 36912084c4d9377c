//! `/v1/orgs`: create, list (the organization switcher), read, update, delete and restore;
//! the deleted organizations the caller can restore.

use super::auth;
use super::body::{one_of, string, Fields};
use super::invite_links::email_domains;
use super::{json, no_content, Answer, Ctx};
use crate::api::orgs::{DeletedOrganization, Org};
use crate::domain::metadata::{self, Object};
use crate::domain::plan::Plan;
use crate::domain::policy::{authorize, sees_private_metadata, Action, Actor, MetadataOf};
use crate::domain::values::{LogoUrl, Name, Role, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::store::principal::OrgRow;
use crate::store::{self, orgs::SettingsChange, Batch};

/// The organization as `actor` sees it.
pub fn org_of(row: &OrgRow, actor: &Actor) -> Result<Org, Problem> {
    let private_metadata = if sees_private_metadata(actor, MetadataOf::Org) {
        Some(row.private_metadata()?)
    } else {
        None
    };
    Ok(Org {
        id: row.id.clone(),
        slug: row.slug.clone(),
        name: row.name.clone(),
        logo_url: row.logo_url.clone(),
        plan: row.plan()?,
        created_at: Timestamp(row.created_at),
        role: actor.role().cloned(),
        permissions: actor.permissions().iter().collect(),
        metadata: row.metadata()?,
        private_metadata,
        allowed_email_domains: row.allowed_email_domains(),
    })
}

/// A request's patches of `metadata` and `private_metadata` of an organization or a member
/// (`of`): each one sent must be `actor`'s to write, and is applied to what was read. The
/// changes, `None` where a patch was not sent or changes nothing.
pub fn metadata_changes(
    actor: &Actor,
    of: MetadataOf,
    (public, private): (Option<Object>, Option<Object>),
    (read_public, read_private): (Result<Object, Problem>, Result<Object, Problem>),
) -> Result<(Option<metadata::Change>, Option<metadata::Change>), Problem> {
    for (patch, private) in [(&public, false), (&private, true)] {
        if patch.is_some() {
            authorize(actor, Action::WriteMetadata { of, private })?;
        }
    }
    Ok((
        metadata_change(read_public, public, "metadata")?,
        metadata_change(read_private, private, "private_metadata")?,
    ))
}

/// A metadata patch applied to what was read: the change, if any.
fn metadata_change(
    read: Result<Object, Problem>,
    patch: Option<Object>,
    field: &'static str,
) -> Result<Option<metadata::Change>, Problem> {
    let Some(patch) = patch else {
        return Ok(None);
    };
    let read = read?;
    let to = metadata::apply(&read, &patch).map_err(|m| Problem::invalid_field(field, m))?;
    Ok(metadata::Change::between(&read, to))
}

fn slug_taken(slug: &str) -> Problem {
    Problem::new(
        Code::SlugTaken,
        format!("The slug `{slug}` is taken; choose another."),
    )
}

/// `POST /v1/orgs` — the caller becomes the owner.
pub async fn create(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let name = body.required("name", string(Name::parse));
    let slug = body.optional("slug", string(Slug::parse));
    let plan = body.optional("plan", one_of(Plan::parse, Plan::NAMES));
    let (name, slug, plan) = body.finish((name, slug, plan))?;
    let slug = match slug {
        Some(slug) => slug,
        None => Slug::derive(name.as_str()).ok_or_else(|| {
            Problem::invalid_field(
                "slug",
                "cannot be derived from this name; choose one (3–48 characters of a-z, 0-9 and -)",
            )
        })?,
    };
    let mut batch = Batch::new();
    store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let row = store::orgs::create(
        &ctx.db,
        batch,
        &identity.user_id,
        &name,
        &slug,
        plan.unwrap_or(Plan::Free),
        ctx.now,
    )
    .await
    .map_err(|p| match p.code {
        Code::SlugTaken => slug_taken(slug.as_str()),
        _ => p,
    })?;
    let owner = Actor::member(identity.user_id.clone(), Role::Owner);
    json(201, &org_of(&row, &owner)?)
}

/// `GET /v1/orgs` — the caller's organizations with their role, in the order they joined.
pub async fn list(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let page = ctx.page()?;
    let mut batch = Batch::new();
    store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let rows = store::orgs::list_for_user(&mut batch, &identity.user_id, page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let rows = results.all(rows)?;
    json(
        200,
        &page.envelope(
            rows,
            |r| r.seq,
            |r| {
                let (role, def) = r.def.resolve(&r.role)?;
                let id = identity.user_id.clone();
                org_of(&r.org, &Actor::User { id, role, def })
            },
        )?,
    )
}

/// `GET /v1/orgs/{slug}`
pub async fn get(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    authorize(&caller.actor, Action::ViewOrg)?;
    json(200, &org_of(&caller.org, &caller.actor)?)
}

/// `PATCH /v1/orgs/{slug}` `{name?, slug?, logo_url?, metadata?, private_metadata?,
/// allowed_email_domains?}` — metadata as JSON Merge Patch.
pub async fn update(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let name = body.optional("name", string(Name::parse));
    let slug = body.optional("slug", string(Slug::parse));
    let logo_url = body.patch("logo_url", string(LogoUrl::parse));
    let public = body.optional("metadata", metadata::patch);
    let private = body.optional("private_metadata", metadata::patch);
    let domains = body.optional("allowed_email_domains", email_domains);
    let (name, slug, logo_url, (public, private), domains) =
        body.finish((name, slug, logo_url, public.zip(private), domains))?;
    let settings = name.is_some() || slug.is_some() || logo_url.is_some() || domains.is_some();
    if settings || (public.is_none() && private.is_none()) {
        authorize(&caller.actor, Action::UpdateOrg)?;
    }
    let org = &caller.org;
    let (metadata, private_metadata) = metadata_changes(
        &caller.actor,
        MetadataOf::Org,
        (public, private),
        (org.metadata(), org.private_metadata()),
    )?;
    // Only what differs is a change; asking for what is already there records nothing.
    let change = SettingsChange {
        name: name.filter(|n| n.as_str() != org.name),
        slug: slug.filter(|s| s.as_str() != org.slug),
        logo_url: logo_url.filter(|l| l.as_ref().map(LogoUrl::as_str) != org.logo_url.as_deref()),
        metadata,
        private_metadata,
        allowed_email_domains: domains.filter(|d| *d != org.allowed_email_domains()),
    };
    if change.is_empty() {
        return json(200, &org_of(org, &caller.actor)?);
    }
    let row = store::orgs::update(&ctx.db, &caller, &change, ctx.now)
        .await
        .map_err(|p| match (&p.code, &change.slug) {
            (Code::SlugTaken, Some(slug)) => slug_taken(slug.as_str()),
            _ => p,
        })?;
    json(200, &org_of(&row, &caller.actor)?)
}

/// `DELETE /v1/orgs/{slug}` — owner only. Access ends at once; pending invitations are
/// canceled and their links stop working; everything else is kept until the purge, which
/// `ORG_GRACE_SECONDS` from now removes it all.
pub async fn delete(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    authorize(&caller.actor, Action::DeleteOrg)?;
    let purge_at = ctx.now.plus(ctx.cfg.org_grace_seconds);
    let digests = store::orgs::delete(&ctx.db, &caller, purge_at, ctx.now).await?;
    ctx.kv.forget_invitations(&digests).await;
    super::invite_links::forget_previews(ctx, &caller.org.id).await;
    no_content()
}

/// `POST /v1/orgs/{slug}/restore` — the owner at deletion, until the purge. Everyone else
/// gets 404, as for an organization that does not exist. An organization already restored
/// answers as restored.
pub async fn restore(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let mut batch = Batch::new();
    store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let owned = store::orgs::owned(&mut batch, &identity.user_id, ctx.param("slug"), ctx.now);
    let owned = batch
        .run(&ctx.db)
        .await?
        .first(owned)?
        .ok_or_else(|| Problem::not_found("organization"))?;
    let owner = Actor::member(identity.user_id.clone(), Role::Owner);
    if owned.deleted_at.is_none() {
        return json(200, &org_of(&owned.org, &owner)?);
    }
    let row = store::orgs::restore(
        &ctx.db,
        Batch::new(),
        &identity.user_id,
        &owned.org,
        ctx.now,
    )
    .await?;
    json(200, &org_of(&row, &owner)?)
}

/// `GET /v1/me/deleted-organizations` — those the caller owned, until their purge.
pub async fn deleted(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let page = ctx.page()?;
    let mut batch = Batch::new();
    store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let rows = store::orgs::deleted_for_owner(
        &mut batch,
        &identity.user_id,
        ctx.now,
        page.after,
        page.fetch(),
    );
    let rows = batch.run(&ctx.db).await?.all(rows)?;
    json(
        200,
        &page.envelope(
            rows,
            |r| r.seq,
            |r| {
                Ok(DeletedOrganization {
                    id: r.id.clone(),
                    slug: r.slug.clone(),
                    name: r.name.clone(),
                    deleted_at: Timestamp(r.deleted_at),
                    purge_at: Timestamp(r.purge_at),
                })
            },
        )?,
    )
}
