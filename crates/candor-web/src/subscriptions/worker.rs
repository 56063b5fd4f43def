//! The webhook worker: delivers due webhooks whenever a use case queued one (the state's
//! webhook wake-up) and otherwise every poll interval, and applies the effects of the endpoints
//! it disabled (their audit entries, the mail to the owners).

use crate::AppState;
use candor_notify::webhook::WebhookSender;

/// Runs until the task is dropped.
pub async fn run(state: AppState) {
    let policy = state.config().webhooks;
    let sender = WebhookSender::new(&policy);
    let wake = state.webhook_wake();
    loop {
        state.metrics().job_ran("webhooks", policy.retry.poll);
        match state.app().deliver_webhooks(&sender, &policy).await {
            Ok(done) => state.apply(done.effects).await,
            Err(e) => tracing::error!(error = %e, "webhooks: could not read or update the deliveries"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(policy.retry.poll) => {}
        }
    }
}
