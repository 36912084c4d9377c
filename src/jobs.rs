//! The scheduled job (cron, every 15 minutes): expire invitations, drain the outbox, roll
//! billing periods. Every step is idempotent: running it twice changes nothing more.

use crate::domain::Timestamp;
use crate::webhooks;
use worker::{Date, Env};

pub async fn run(env: &Env) {
    let now = Timestamp::from_millis(Date::now().as_millis());
    worker::console_log!("scheduled job at {now}");
    // Last, so that the events the steps before it record go out in the same run.
    webhooks::deliver_due(env).await;
}
