//! Sending an invitation's email, the same way from a request and from the scheduled job:
//! cache the link's preview under the new token (dropping the one it replaces), compose the
//! email and hand it to the provider. A request records its first attempts here too, and
//! queues a retry of those that failed; the job and the Queue's consumer record their
//! retries against the outbox row they claimed.

use crate::config::Config;
use crate::domain::secret::InviteToken;
use crate::domain::Timestamp;
use crate::email::{self, EmailOutcome};
use crate::queue::{self, Delivery, Retry};
use crate::store::invitations::InvitationRow;
use crate::store::kv::{Kv, Preview, PreviewOrg};
use crate::store::{outbox, Db};
use std::collections::HashMap;

/// One invitation's email: the invitation as stored, its organization as the link shows
/// it, the token its link carries, and the digest of the token it replaces, if any.
pub struct InvitationMail<'a> {
    pub invitation: &'a InvitationRow,
    pub org: &'a PreviewOrg,
    pub token: &'a InviteToken,
    pub replaces: Option<&'a str>,
}

/// Caches the link's preview under the new token, dropping the one it replaces.
pub async fn cache_link(kv: &Kv, mail: &InvitationMail<'_>, now: Timestamp) {
    if let Some(replaced) = mail.replaces {
        kv.forget_invitations(&[replaced.to_owned()]).await;
    }
    let preview = Preview::new(mail.invitation, mail.org.clone(), now);
    kv.remember_invitation(&mail.token.digest(), &preview, now)
        .await;
}

/// Caches the link's preview under the new token, then composes the email in the
/// invitation's locale and sends it.
pub async fn send(
    kv: &Kv,
    cfg: &Config,
    mail: &InvitationMail<'_>,
    now: Timestamp,
) -> EmailOutcome {
    let inv = mail.invitation;
    cache_link(kv, mail, now).await;
    let Ok(role) = inv.role() else {
        return EmailOutcome::Failed(format!("invitation {} has an unknown role", inv.id));
    };
    let (message, key) = email::compose(
        &cfg.public_url,
        &inv.id,
        mail.token,
        &email::Invite {
            org_name: &mail.org.name,
            org_logo_url: mail.org.logo_url.as_deref(),
            inviter_name: inv.inviter_name.as_deref(),
            role,
            expires_at: Timestamp(inv.expires_at),
            locale: inv.locale(),
        },
    );
    email::send(&cfg.email, &inv.email, &message, &key).await
}

/// Sends the first email of each new or resent invitation during the request, and records
/// which went out; those that did not stay queued for a retry (through the `OUTBOX` Queue
/// when it is bound, else by the scheduled job). An invitation whose link the product
/// delivers itself gets no email, only its link cached. Returns each invitation's
/// `email_delivery`.
pub async fn send_first(
    kv: &Kv,
    cfg: &Config,
    db: &Db,
    mails: &[InvitationMail<'_>],
    now: Timestamp,
) -> HashMap<String, &'static str> {
    let sends = mails.iter().map(|mail| async move {
        let delivery = if mail.invitation.sends_email() {
            Some(send(kv, cfg, mail, now).await)
        } else {
            cache_link(kv, mail, now).await;
            None
        };
        (mail.invitation.id.as_str(), delivery)
    });
    let results = futures_util::future::join_all(sends).await;
    let mut outcome = HashMap::new();
    let (mut sent, mut failed, mut reason) = (Vec::new(), Vec::new(), String::new());
    for (id, delivery) in &results {
        let state = match delivery {
            None => "none",
            Some(EmailOutcome::Sent) => {
                sent.push(*id);
                "sent"
            }
            Some(EmailOutcome::Logged) => "logged",
            Some(EmailOutcome::Failed(why)) => {
                worker::console_warn!("invitation {id}: email not sent ({why}); queued for retry");
                failed.push(*id);
                why.clone_into(&mut reason);
                "queued"
            }
        };
        outcome.insert((*id).to_owned(), state);
    }
    match outbox::record_first_delivery(db, &sent, &failed, &reason, now).await {
        // Due at once: the Queue's consumer tries them next, before the job would.
        Ok(pending) => {
            let retries = pending.into_iter().map(|id| Retry {
                delivery: Delivery::Email { id },
                delay: 0,
            });
            queue::send(cfg, retries.collect()).await;
        }
        Err(e) => worker::console_error!("recording email delivery failed: {e}"),
    }
    outcome
}
