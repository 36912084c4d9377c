//! The `INVITES` KV namespace: `invite:<sha256 hex of the token>` → the invitation's public
//! summary, expiring with the invitation; `link:<sha256 hex>` → an invite link's preview.
//!
//! KV is a cache in front of D1 for the invitation link, read at the edge nearest the
//! invitee. It is eventually consistent, so D1 decides anything that matters (accepting),
//! and a missing or stale entry only costs a D1 read.

use super::invitations::InvitationRow;
use super::invitee::InviteeView;
use super::principal::OrgRow;
use crate::domain::invitation::Status;
use crate::domain::locale::Locale;
use crate::domain::values::Email;
use crate::domain::Timestamp;
use serde::{Deserialize, Serialize};

#[cfg(target_arch = "wasm32")]
pub use namespace::Kv;

/// What the invitation link shows before anyone signs in; cached in KV under the token's
/// digest until the invitation expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preview {
    pub invitation_id: String,
    pub organization: PreviewOrg,
    pub role: String,
    pub invited_by: PreviewInviter,
    pub email_hint: String,
    pub status: String,
    pub expires_at: String,
    /// The language of the landing page (absent from entries cached before it existed).
    #[serde(default)]
    pub locale: String,
    /// Where the landing page's button leads, when not to the app's accept page.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewOrg {
    pub slug: String,
    pub name: String,
    pub logo_url: Option<String>,
}

impl From<&OrgRow> for PreviewOrg {
    fn from(org: &OrgRow) -> PreviewOrg {
        PreviewOrg {
            slug: org.slug.clone(),
            name: org.name.clone(),
            logo_url: org.logo_url.clone(),
        }
    }
}

impl From<&InviteeView> for PreviewOrg {
    fn from(view: &InviteeView) -> PreviewOrg {
        PreviewOrg {
            slug: view.org_slug.clone(),
            name: view.org_name.clone(),
            logo_url: view.org_logo_url.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewInviter {
    pub name: Option<String>,
}

impl Preview {
    pub fn new(row: &InvitationRow, org: PreviewOrg, now: Timestamp) -> Preview {
        Preview {
            invitation_id: row.id.clone(),
            organization: org,
            role: row.role.clone(),
            invited_by: PreviewInviter {
                name: row.inviter_name.clone(),
            },
            email_hint: Email::parse(&row.email)
                .map(|e| e.hint())
                .unwrap_or_else(|_| "***".into()),
            status: row
                .status_at(now)
                .map_or(row.status.clone(), |s| s.as_str().to_owned()),
            expires_at: Timestamp(row.expires_at).to_rfc3339(),
            locale: row.locale.clone(),
            redirect_url: row.redirect_url.clone(),
        }
    }

    /// The language of the landing page.
    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or_default()
    }

    pub fn expires_at(&self) -> Timestamp {
        Timestamp::parse_rfc3339(&self.expires_at).unwrap_or(Timestamp(0))
    }

    /// The status as it stands at `now` (a cached pending preview may have expired since).
    pub fn status_at(&self, now: Timestamp) -> Option<Status> {
        Status::parse(&self.status).map(|s| s.at(self.expires_at(), now))
    }
}

/// The namespace itself, which only the Worker has.
#[cfg(target_arch = "wasm32")]
mod namespace {
    use super::Preview;
    use crate::config::KV_MIN_TTL_SECONDS;
    use crate::domain::Timestamp;
    use serde::Serialize;
    use std::cell::Cell;
    use worker::{Env, KvStore};

    const BINDING: &str = "INVITES";

    fn key(digest: &str) -> String {
        format!("invite:{digest}")
    }

    /// The key of an invite link's preview.
    fn link_key(digest: &str) -> String {
        format!("link:{digest}")
    }

    /// The `INVITES` namespace of one request (or job run), counting its reads for
    /// `Server-Timing`.
    pub struct Kv {
        namespace: Option<KvStore>,
        reads: Cell<u32>,
    }

    impl Kv {
        pub fn new(env: &Env) -> Kv {
            let namespace = env
                .kv(BINDING)
                .map_err(|e| worker::console_error!("kv binding: {e}"))
                .ok();
            Kv {
                namespace,
                reads: Cell::new(0),
            }
        }

        pub fn reads(&self) -> u32 {
            self.reads.get()
        }

        fn read(&self) -> Option<&KvStore> {
            self.reads.set(self.reads.get() + 1);
            self.namespace.as_ref()
        }

        /// Caches an invitation's summary until it expires (KV's minimum TTL is 60 seconds).
        /// Failures are logged, not raised: the D1 fallback keeps the link working.
        pub async fn remember_invitation(&self, digest: &str, preview: &Preview, now: Timestamp) {
            let Some(kv) = &self.namespace else { return };
            let ttl = (preview.expires_at().0 - now.0).max(KV_MIN_TTL_SECONDS) as u64;
            let put = match kv.put(
                &key(digest),
                serde_json::to_string(preview).unwrap_or_default(),
            ) {
                Ok(builder) => builder.expiration_ttl(ttl).execute().await,
                Err(e) => Err(e),
            };
            if let Err(e) = put {
                worker::console_error!("kv put failed: {e}");
            }
        }

        /// The cached summary of an invitation, if KV has one.
        pub async fn recall_invitation(&self, digest: &str) -> Option<Preview> {
            self.read()?
                .get(&key(digest))
                .json::<Preview>()
                .await
                .map_err(|e| worker::console_error!("kv get failed: {e}"))
                .ok()
                .flatten()
        }

        /// Drops the cached summaries of invitations that are no longer pending.
        pub async fn forget_invitations(&self, digests: &[String]) {
            let Some(kv) = &self.namespace else { return };
            for digest in digests {
                if let Err(e) = kv.delete(&key(digest)).await {
                    worker::console_error!("kv delete failed: {e}");
                }
            }
        }

        /// Caches an invite link's preview under `link:<digest>` until `until` (the link's
        /// expiry; at least KV's minimum TTL). Failures are logged: D1 answers instead.
        pub async fn remember_link(
            &self,
            digest: &str,
            preview: &impl Serialize,
            until: Timestamp,
            now: Timestamp,
        ) {
            let Some(kv) = &self.namespace else { return };
            let ttl = (until.0 - now.0).max(KV_MIN_TTL_SECONDS) as u64;
            let put = match kv.put(
                &link_key(digest),
                serde_json::to_string(preview).unwrap_or_default(),
            ) {
                Ok(builder) => builder.expiration_ttl(ttl).execute().await,
                Err(e) => Err(e),
            };
            if let Err(e) = put {
                worker::console_error!("kv put failed: {e}");
            }
        }

        /// The cached preview of an invite link, if KV has one.
        pub async fn recall_link<T: serde::de::DeserializeOwned>(&self, digest: &str) -> Option<T> {
            self.read()?
                .get(&link_key(digest))
                .json::<T>()
                .await
                .map_err(|e| worker::console_error!("kv get failed: {e}"))
                .ok()
                .flatten()
        }

        /// Drops the cached preview of an invite link (revoked, or used once more).
        pub async fn forget_link(&self, digest: &str) {
            let Some(kv) = &self.namespace else { return };
            if let Err(e) = kv.delete(&link_key(digest)).await {
                worker::console_error!("kv delete failed: {e}");
            }
        }

        /// Whether the namespace answers (for `/health`).
        pub async fn ping(&self) -> bool {
            match self.read() {
                Some(kv) => kv.get("health:ping").text().await.is_ok(),
                None => false,
            }
        }
    }
}
