//! Authentication: the bearer token of a request, verified into a [`Principal`], and the
//! caller's standing in the organization a path names.

use super::Ctx;
use crate::domain::jwt::Identity;
use crate::domain::secret::ApiKeySecret;
use crate::domain::values::Slug;
use crate::domain::Problem;
use crate::store::principal::{self, Caller, CallerQuery, Principal};
use crate::store::{Batch, Results};

/// The caller, from `Authorization: Bearer …`: a JWT (verified here, without I/O) or an
/// organization API key (checked against the store by the batch that follows). A console
/// request names the person of its session instead, who is then treated as any user.
pub fn principal(ctx: &Ctx) -> Result<Principal, Problem> {
    if let Some(person) = &ctx.person {
        return Ok(Principal::User(person.clone()));
    }
    let header = ctx.header("authorization").ok_or_else(|| {
        Problem::unauthenticated("Send `Authorization: Bearer <token>` with a JWT or an API key.")
    })?;
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            Problem::unauthenticated("The Authorization header must be `Bearer <token>`.")
        })?;
    if token.starts_with(ApiKeySecret::PREFIX) {
        let key = ApiKeySecret::parse(token)
            .ok_or_else(|| Problem::unauthenticated("The API key is malformed."))?;
        return Ok(Principal::ApiKey {
            digest: key.digest(),
        });
    }
    let verifier = ctx.cfg.jwt.as_ref().map_err(|_| Problem::internal())?;
    verifier
        .verify(token, ctx.now)
        .map(Principal::User)
        .map_err(|e| Problem::unauthenticated(e.message()))
}

/// The signed-in user, for endpoints that act for a person (`/v1/me`, creating an
/// organization, accepting an invitation). An API key gets 401 when invalid and 404 when
/// valid: keys act only under their own organization's paths.
pub async fn user(ctx: &Ctx) -> Result<Identity, Problem> {
    match principal(ctx)? {
        Principal::User(identity) => Ok(identity),
        Principal::ApiKey { digest } => {
            let mut batch = Batch::new();
            let key = principal::key_outside_org(&mut batch, &digest);
            let results = batch.run(&ctx.db).await?;
            Err(match results.first(key)? {
                Some(_) => Problem::not_found("route for an API key"),
                None => Problem::unauthenticated("The API key is unknown or has been revoked."),
            })
        }
    }
}

/// Starts the batch of a request inside organization `{slug}`: authentication and the
/// caller's standing come first, the handler adds its own statements after them.
pub fn begin(ctx: &Ctx) -> Result<(Batch, CallerQuery), Problem> {
    let principal = principal(ctx)?;
    let slug = Slug::parse(ctx.param("slug")).map_err(|_| Problem::not_found("organization"))?;
    let mut batch = Batch::new();
    let query = principal::caller(&mut batch, &principal, slug.as_str(), ctx.now);
    Ok((batch, query))
}

/// The caller's standing, when the handler needs nothing else from the store to decide.
pub async fn caller(ctx: &Ctx) -> Result<Caller, Problem> {
    let (batch, query) = begin(ctx)?;
    let results: Results = batch.run(&ctx.db).await?;
    query.resolve(&results)
}

/// `input` (the request's body or query, parsed) of a request inside `{slug}`, once it is
/// known to be valid. Invalid input is refused only after the caller has been read: who is
/// not authenticated (401) or not a member (404) learns that before anything about their
/// input (400). Handlers can so check their input before building the one batch that reads
/// the caller with what the input names; only invalid input costs a round trip here.
pub async fn valid<T>(ctx: &Ctx, input: Result<T, Problem>) -> Result<T, Problem> {
    match input {
        Ok(input) => Ok(input),
        Err(problem) => {
            caller(ctx).await?;
            Err(problem)
        }
    }
}
