//! Approves a reader of NDA documents in a Candor database, as an access manager's decision does
//! (a signed request, its grant for thirty days and a sign-in link), and prints the link's path
//! (`/viewer/login/TOKEN`) for a browser to follow. Used by the browser tests, which have no mail
//! server to read the approval mail from.
//!
//!     cargo run --example viewer_seed -- sqlite:///path/to/candor.db EMAIL [DOCUMENT...]
//!
//! Without documents the grant covers every NDA document. Rows are written through the store
//! directly: the use cases reach this state only through emailed links.

use candor_core::requests::RequestStatus;
use candor_store::{NewGrant, NewLink, NewRequest, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: viewer_seed DATABASE_URL EMAIL [DOCUMENT...]");
    let url = args.next().ok_or_else(usage)?;
    let email = args.next().ok_or_else(usage)?;
    let documents: Vec<String> = args.collect();
    let store = Store::open(&url).await?;
    let org = store.ensure_org("default").await?;
    let token = candor_crypto::random_token();
    let now = candor_store::now();
    let mut tx = store.begin().await?;
    let request = NewRequest {
        name: "Browser Test Reader".into(),
        email: email.clone(),
        company: "Browser Test Buyer".into(),
        reason: "Vendor due diligence".into(),
        documents,
        status: RequestStatus::Signed,
        ip: "127.0.0.1".into(),
        user_agent: "viewer_seed".into(),
    };
    let id = tx.create_access_request(org, &request).await?;
    let grant = NewGrant {
        public_id: format!("seed-{id}-{now}"),
        expires_at: now + 30 * 86_400,
    };
    let link = NewLink {
        token_hash: candor_crypto::token_digest(token.expose()),
        purpose: "viewer",
        email,
        expires_at: now + 900,
    };
    anyhow::ensure!(
        tx.decide_request(org, id, "viewer_seed", "", Some((&grant, &link)))
            .await?,
        "the request could not be approved"
    );
    tx.commit().await?;
    store.close().await;
    println!("/viewer/login/{}", token.expose());
    Ok(())
}
