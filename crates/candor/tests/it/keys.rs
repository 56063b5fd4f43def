//! Master key rotation: every data key re-wrapped under a new master key, the blobs untouched,
//! and an interrupted rotation finished by running it again.

use crate::{both_dbs_fn, Db, TestApp};
use candor_blob::keyfile::FILE_NAME;
use candor_store::BlobRow;

async fn rotation(db: Db) {
    let Some(app) = TestApp::start(db).await else { return };
    let (state, store, org) = (&app.state, &app.store, app.state.org());
    let data_dir = state.config().data_dir.clone();
    let first_key = state.key_ring().current_id().to_owned();
    let mut blobs = vec![];
    for n in 0..5 {
        let text = format!("document {n} ").repeat(20_000);
        let b = state
            .blobs()
            .put_bytes(&state.key_ring(), text.as_bytes())
            .await
            .unwrap();
        let row = BlobRow {
            id: b.id.clone(),
            key_id: b.wrapped.key_id.clone(),
            wrapped_key: b.wrapped.sealed.clone(),
            size: b.size as i64,
            sha256: b.sha256.clone(),
        };
        store.insert_blob(org, &row).await.unwrap();
        blobs.push((b.id, text, state.blobs().read_raw(&row.id).await.unwrap()));
    }
    // Interrupted after two data keys: the key file holds both keys, everything still opens.
    let r = rotate(&app, Some(2)).await;
    assert!(r.started && r.rewrapped == 2 && r.retired.is_empty(), "{r:?}");
    let ring_text = std::fs::read_to_string(data_dir.join(FILE_NAME)).unwrap();
    assert_eq!(ring_text.lines().filter(|l| !l.starts_with('#')).count(), 2);
    assert_eq!(store.blobs_not_under(&r.current, 100).await.unwrap().len(), 3);
    assert_all_open(&app, &blobs).await;

    // Run again: resumes (no third key), finishes, retires the first key.
    let again = rotate(&app, None).await;
    assert!(!again.started, "resumed, not restarted");
    assert_eq!((again.current.as_str(), again.rewrapped), (r.current.as_str(), 3));
    assert_eq!(again.retired, vec![first_key.clone()]);
    let ring_text = std::fs::read_to_string(data_dir.join(FILE_NAME)).unwrap();
    assert!(!ring_text.contains(&first_key));
    assert!(store.blobs_not_under(&r.current, 100).await.unwrap().is_empty());
    // The running server had only the old key; it picks the new ring up from the file.
    assert_all_open(&app, &blobs).await;

    // The blobs were not rewritten: their stored bytes are the same.
    for (id, _, raw) in &blobs {
        assert_eq!(&state.blobs().read_raw(id).await.unwrap(), raw, "{id} untouched");
    }

    // Nothing to do the next time but start a new rotation.
    let third = rotate(&app, None).await;
    assert!(third.started && third.rewrapped == 5);
}
both_dbs_fn!(master_key_rotation, rotation);

/// Every blob opens, with the ring the server finds for its key, and holds its text.
async fn assert_all_open(app: &TestApp, blobs: &[(String, String, Vec<u8>)]) {
    for (id, text, _) in blobs {
        let row = app.store.blob(id).await.unwrap().unwrap();
        let ring = app.state.key_ring_for(&row.key_id).unwrap();
        let wrapped = candor_crypto::envelope::WrappedKey {
            key_id: row.key_id,
            sealed: row.wrapped_key,
        };
        let plain = app.state.blobs().read_all(&ring, id, &wrapped).await.unwrap();
        assert_eq!(plain, text.as_bytes(), "{id}");
    }
}

/// Runs (or resumes) a rotation as `candor keys rotate` does.
async fn rotate(app: &TestApp, stop_after: Option<usize>) -> candor_app::keys::Rotation {
    let actor = candor_app::Actor::Cli { os_user: "test".into() };
    app.state.app().rotate_keys(&actor, stop_after).await.unwrap().value
}
