//! `/v1/me`: the signed-in user and the organizations they belong to.

use super::{auth, json, Answer, Ctx};
use crate::api::orgs::{Me, MyOrganization};
use crate::domain::Problem;
use crate::store::{self, Batch};

/// How many organizations `/v1/me` lists; `GET /v1/orgs` pages through all of them.
const ME_ORGS_LIMIT: i64 = 100;

/// `GET /v1/me`
pub async fn get(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let mut batch = Batch::new();
    store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let orgs = store::orgs::list_for_user(&mut batch, &identity.user_id, 0, ME_ORGS_LIMIT);
    let results = batch.run(&ctx.db).await?;
    let organizations = results
        .all(orgs)?
        .into_iter()
        .map(|r| {
            Ok(MyOrganization {
                role: r.def.resolve(&r.role)?.0,
                slug: r.org.slug,
                name: r.org.name,
            })
        })
        .collect::<Result<_, Problem>>()?;
    json(
        200,
        &Me {
            user_id: identity.user_id,
            email: identity.email,
            email_verified: identity.email_verified,
            name: identity.name,
            organizations,
        },
    )
}
