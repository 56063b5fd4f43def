//! Subscriptions: who is told of trust-center events, by email and webhook.

use crate::{Result, Work};
use candor_core::events::TrustEvent;

/// Queues the notices for `event` in the caller's transaction. (The subscription tables land
/// with the subscriptions work; until then there is nobody to tell.)
pub(crate) async fn fan_out(_work: &mut Work, _event: &TrustEvent) -> Result<()> {
    Ok(())
}
