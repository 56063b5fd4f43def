//! Content use cases on real databases (SQLite, and PostgreSQL at `CANDOR_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`, skipped when unreachable outside CI):
//! an item's rows, its revisions and its audit entries commit together or not at all.

use candor_app::{Action, Actor, Error, SiteChange};
use candor_core::{Kind, Slug};
use candor_store::Move;
use serde_json::json;

#[macro_use]
mod common;
use common::Db;

fn token() -> Actor {
    Actor::Token {
        id: 7,
        name: "ci".into(),
        ip: "192.0.2.1".into(),
    }
}

fn faq(answer: &str) -> serde_json::Value {
    json!({"question": "Is there an API?", "answer": answer})
}

async fn create_and_publish_is_all_or_nothing(db: &Db) {
    let (app, org) = (&db.app, db.app.org());
    let slug = Slug::parse("api").unwrap();

    // The rows are written, then the audit entry is refused: nothing of it may remain.
    db.refuse_audit().await;
    let refused = app.create(&token(), Kind::Faq, &slug, &faq("Yes."), true).await;
    assert!(matches!(refused, Err(Error::Internal(_))), "{refused:?}");
    assert_eq!(db.store.item(org, Kind::Faq, "api").await.unwrap(), None);
    assert_eq!(db.store.content_fingerprint(org).await.unwrap(), Default::default());
    let saved = app.save(&token(), Kind::Faq, "api", &faq("Yes."), false).await;
    assert!(matches!(saved, Err(Error::NotFound(_))), "{saved:?}");
    db.accept_audit().await;
    assert_eq!(db.audit().await, vec![]);

    // Accepted: the item, its two revisions and both entries, with the token as actor.
    let done = app
        .create(&token(), Kind::Faq, &slug, &faq("Yes."), true)
        .await
        .unwrap();
    assert_eq!(done.value.published.as_ref(), Some(&done.value.draft));
    assert_eq!(
        done.effects.site,
        vec![SiteChange::Item {
            kind: Kind::Faq,
            slug: "api".into()
        }]
    );
    let actions: Vec<_> = done.effects.audit.iter().map(|e| e.record.action.clone()).collect();
    assert_eq!(actions, [Action::ContentCreate.name(), Action::ContentPublish.name()]);
    let item = db.store.item(org, Kind::Faq, "api").await.unwrap().unwrap();
    let revisions = db.store.revisions(item.id).await.unwrap();
    assert_eq!(revisions.len(), 2);
    assert!(revisions.iter().all(|r| r.actor == "api-token:7 (ci)"));
    for (actor, _, target, _) in db.audit().await {
        assert_eq!((actor.as_str(), target.as_str()), ("api-token:7 (ci)", "faq/api"));
    }

    // "Save and publish" is one transaction too: a refused entry leaves draft and public alike.
    db.refuse_audit().await;
    let refused = app.save(&token(), Kind::Faq, "api", &faq("Yes, REST."), true).await;
    assert!(refused.is_err());
    db.accept_audit().await;
    let after = db.store.item(org, Kind::Faq, "api").await.unwrap().unwrap();
    assert_eq!(after, item);
    assert_eq!(db.store.revisions(item.id).await.unwrap().len(), 2);
    assert_eq!(db.audit().await.len(), 2);
}
both_dbs!(
    create_and_publish_commit_with_their_audit_entries_or_not_at_all,
    create_and_publish_is_all_or_nothing
);

async fn rules_hold_for_every_front_end(db: &Db) {
    let (app, org) = (&db.app, db.app.org());
    // A control's section must exist; the error names the field.
    let control = json!({"section": "nowhere", "title": "Encryption", "body": "AES-256."});
    let slug = Slug::parse("encryption").unwrap();
    let Err(Error::Invalid(errors)) = app.create(&token(), Kind::Control, &slug, &control, false).await else {
        panic!("a control without its section was accepted");
    };
    assert_eq!(errors[0].field, "section");
    assert!(matches!(
        app.check_body(Kind::Control, &control).await,
        Err(Error::Invalid(_))
    ));
    // Field rules, all at once.
    let Err(Error::Invalid(errors)) = app.check_body(Kind::Faq, &json!({"question": ""})).await else {
        panic!("an empty FAQ entry was accepted");
    };
    assert!(!errors.is_empty());
    // The profile keeps its slug and is never deleted.
    let other = Slug::parse("other").unwrap();
    assert!(matches!(
        app.create(&token(), Kind::Profile, &other, &json!({}), false).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        app.delete(&token(), Kind::Profile, "profile").await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(db.store.all_items(org).await.unwrap(), vec![]);
    assert_eq!(db.audit().await, vec![]);
}
both_dbs!(
    content_rules_are_checked_by_the_use_cases,
    rules_hold_for_every_front_end
);

async fn each_change_is_audited_once_with_its_details(db: &Db) {
    let (app, org) = (&db.app, db.app.org());
    let user = Actor::User {
        email: "editor@example.com".into(),
        ip: "192.0.2.9".into(),
    };
    for (slug, answer) in [("one", "1"), ("two", "2")] {
        let done = app
            .create(&user, Kind::Faq, &Slug::parse(slug).unwrap(), &faq(answer), false)
            .await
            .unwrap();
        assert!(done.value.published.is_none());
    }
    let _effects = app.move_item(&user, Kind::Faq, "two", Move::Up).await.unwrap();
    let order: Vec<_> = db
        .store
        .items(org, Kind::Faq)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.slug)
        .collect();
    assert_eq!(order, ["two", "one"]);
    let _effects = app.save(&user, Kind::Faq, "one", &faq("changed"), false).await.unwrap();
    let _effects = app.restore(&user, Kind::Faq, "one", 1).await.unwrap();
    let _effects = app.publish(&user, Kind::Faq, "one").await.unwrap();
    let _effects = app.unpublish(&user, Kind::Faq, "one").await.unwrap();
    let done = app.delete(&user, Kind::Faq, "two").await.unwrap();
    assert_eq!(
        done.effects.site,
        vec![SiteChange::Item {
            kind: Kind::Faq,
            slug: "two".into()
        }]
    );
    assert_eq!(db.store.item(org, Kind::Faq, "two").await.unwrap(), None);
    let one = db.store.item(org, Kind::Faq, "one").await.unwrap().unwrap();
    assert_eq!(one.draft, faq("1"), "the first revision was restored");
    let entries = db.audit().await;
    let seen: Vec<_> = entries
        .iter()
        .map(|(actor, action, target, details)| {
            assert_eq!(actor, "user:editor@example.com");
            (action.as_str(), target.as_str(), details.clone())
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("content.create", "faq/one", json!({})),
            ("content.create", "faq/two", json!({})),
            ("content.move", "faq/two", json!({"direction": "up"})),
            ("content.edit", "faq/one", json!({})),
            ("content.restore", "faq/one", json!({"revision": 1})),
            ("content.publish", "faq/one", json!({})),
            ("content.unpublish", "faq/one", json!({})),
            ("content.delete", "faq/two", json!({})),
        ]
    );
}
both_dbs!(
    every_content_change_has_one_audit_entry,
    each_change_is_audited_once_with_its_details
);

async fn import_and_export_are_audited_with_the_cli_user(db: &Db) {
    let (app, org) = (&db.app, db.app.org());
    let cli = Actor::Cli {
        os_user: "alice".into(),
    };
    let items = vec![candor_core::contentdir::BundleItem {
        kind: Kind::Faq,
        slug: Slug::parse("imported").unwrap(),
        position: 10,
        updated: None,
        body: faq("From a directory."),
    }];
    let done = app.import(&cli, &items, "content").await.unwrap();
    assert_eq!((done.value.created, done.value.changed), (1, 0));
    // An import may add, change, reorder and unpublish anything: the whole site is rendered.
    assert_eq!(done.effects.site, vec![SiteChange::Everything]);
    let again = app.import(&cli, &items, "content").await.unwrap();
    assert!(again.value.is_noop());
    assert!(
        again.effects.site.is_empty(),
        "an import that changes nothing re-renders nothing"
    );
    let item = db.store.item(org, Kind::Faq, "imported").await.unwrap().unwrap();
    assert_eq!(db.store.revisions(item.id).await.unwrap()[0].actor, "cli:alice");

    // An export that fails to write is not recorded.
    let failed = app.export(&cli, "out", |_| Err(anyhow::anyhow!("disk full"))).await;
    assert!(failed.is_err());
    let done = app.export(&cli, "out", |bundle| Ok(bundle.items.len())).await.unwrap();
    assert_eq!(done.value, 1);
    let entries: Vec<_> = db
        .audit()
        .await
        .into_iter()
        .map(|(actor, action, target, details)| (actor, action, target, details["created"].clone()))
        .collect();
    assert_eq!(
        entries,
        [
            (
                "cli:alice".into(),
                "content.import".into(),
                "directory/content".into(),
                json!(1)
            ),
            (
                "cli:alice".into(),
                "content.import".into(),
                "directory/content".into(),
                json!(0)
            ),
            (
                "cli:alice".into(),
                "content.export".into(),
                "directory/out".into(),
                json!(null)
            ),
        ]
    );
}
both_dbs!(
    import_and_export_are_audited,
    import_and_export_are_audited_with_the_cli_user
);
