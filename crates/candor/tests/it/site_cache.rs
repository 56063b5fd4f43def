//! The rendered site is rebuilt when content changes, by this server or behind its back, and
//! never when nothing changed.

use crate::{Db, TestApp};
use std::time::Duration;

async fn wait_for_build(app: &TestApp, after: u64) -> u64 {
    for _ in 0..100 {
        let now = app.state.site_builds();
        if now > after {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the site was not rebuilt after a change");
}

async fn idle_server_renders_nothing(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| c.content_watch_every = Duration::from_millis(25)).await
    else {
        return;
    };
    let before = app.state.site_builds();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.state.site_builds(), before, "an idle server re-rendered its site");

    // A change made by another process (here: straight into the database) is picked up once.
    app.sql("UPDATE items SET position = position + 1 WHERE kind = 'faq'")
        .await;
    let built = wait_for_build(&app, before).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.state.site_builds(), built, "one change, one rebuild");

    // So is a change to a document's listing.
    candor_web::demo_documents::seed(&app.state).await.unwrap();
    app.sql(
        "UPDATE documents SET title = 'Security overview (2027)', updated_at = updated_at + 1 WHERE access = 'public'",
    )
    .await;
    for _ in 0..100 {
        if app.get_text("/documents").await.1.contains("Security overview (2027)") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("a document renamed behind the server's back never showed on /documents");
}
crate::both_dbs_fn!(an_idle_server_renders_nothing, idle_server_renders_nothing);
