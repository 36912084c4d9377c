//! The `INVITES` KV namespace: `invite:<sha256 hex of the token>` → the invitation's public
//! summary, expiring with the invitation.
//!
//! KV is a cache in front of D1 for the invitation link, read at the edge nearest the
//! invitee. It is eventually consistent, so D1 decides anything that matters (accepting),
//! and a missing or stale entry only costs a D1 read.

use worker::{Env, KvStore};

const BINDING: &str = "INVITES";

fn key(digest: &str) -> String {
    format!("invite:{digest}")
}

fn namespace(env: &Env) -> Option<KvStore> {
    env.kv(BINDING)
        .map_err(|e| worker::console_error!("kv binding: {e}"))
        .ok()
}

/// Drops the cached summaries of invitations that are no longer pending.
pub async fn forget_invitations(env: &Env, digests: &[String]) {
    let Some(kv) = namespace(env) else { return };
    for digest in digests {
        if let Err(e) = kv.delete(&key(digest)).await {
            worker::console_error!("kv delete failed: {e}");
        }
    }
}

/// Whether the namespace answers (for `/health`).
pub async fn ping(env: &Env) -> bool {
    match namespace(env) {
        Some(kv) => kv.get("health:ping").text().await.is_ok(),
        None => false,
    }
}
