//! The console's link, as `POST /v1/orgs/{slug}/console-links` answers it.

use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A one-time link into the console's pages, for the person who asked for it.
#[derive(Serialize, ToSchema)]
pub struct ConsoleLink {
    /// `{PUBLIC_URL}/console/enter/{code}`: opens a session once, within 5 minutes.
    #[schema(format = "uri")]
    pub url: String,
    /// When the link stops working, if unused.
    pub expires_at: Timestamp,
}
