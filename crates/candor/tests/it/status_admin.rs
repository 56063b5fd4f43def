//! The status page's back office and API over HTTP: components, groups, incidents and
//! maintenance through their forms (field errors included), who may change them, and the API a
//! deploy pipeline or an alerting system uses.

use crate::access::user_with_role;
use crate::api::create_token;
use crate::harness::Browser;
use crate::{both_dbs, TestApp};
use candor_core::access::Role;
use candor_core::status::ComponentStatus;
use serde_json::{json, Value};

/// Posts a form and returns the redirect's target, asserting it is one.
async fn post_ok(b: &Browser, path: &str, form: &[(&str, &str)]) -> String {
    let r = b.post_form(path, form).await;
    let status = r.status().as_u16();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(status, 303, "POST {path}: {}", r.text().await.unwrap());
    to
}

/// Posts a form that must be refused with field errors; returns the page.
async fn post_invalid(b: &Browser, path: &str, form: &[(&str, &str)]) -> String {
    let r = b.post_form(path, form).await;
    let status = r.status().as_u16();
    let page = r.text().await.unwrap();
    assert_eq!(status, 422, "POST {path}: {page}");
    page
}

/// The number after `prefix` in a redirect such as `/admin/status/incidents/7?notice=...`.
fn id_after(location: &str, prefix: &str) -> i64 {
    let rest = location.strip_prefix(prefix).unwrap_or_else(|| panic!("{location}"));
    rest.split(['?', '/']).next().unwrap().parse().unwrap()
}

async fn component_named(app: &TestApp, name: &str) -> candor_store::StatusComponent {
    app.store
        .status_components(app.state.org())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("component {name}"))
}

async fn names_in_order(app: &TestApp) -> Vec<String> {
    let list = app.store.status_components(app.state.org()).await.unwrap();
    list.into_iter().map(|c| c.name).collect()
}

both_dbs!(
    components_and_groups_are_managed_in_the_back_office,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let b = app.browser();
        let (_, dashboard) = b.get_text("/admin").await;
        assert!(
            dashboard.contains("href=\"/admin/status\">Status</a>"),
            "the nav links the status page"
        );

        let to = post_ok(&b, "/admin/status/groups", &[("_csrf", &csrf), ("name", "Core")]).await;
        assert_eq!(to, "/admin/status?notice=group-added");
        let group = app.store.status_groups(app.state.org()).await.unwrap()[0]
            .id
            .to_string();
        for (name, g) in [("API", group.as_str()), ("Dashboard", group.as_str()), ("Email", "")] {
            let form = [
                ("_csrf", csrf.as_str()),
                ("name", name),
                ("group", g),
                ("showcase", "1"),
            ];
            assert_eq!(
                post_ok(&b, "/admin/status/components", &form).await,
                "/admin/status?notice=component-added"
            );
        }
        let (status, page) = b.get_text("/admin/status").await;
        assert_eq!(status, 200);
        assert!(page.contains("<h2 id=\"g-") && page.contains(">Core</h2>") && page.contains(">Not in a group</h2>"));
        assert!(page.contains("All systems operational"), "{page}");

        // Field errors are shown at their fields, named as the form labels them.
        let page = post_invalid(&b, "/admin/status/components", &[("_csrf", &csrf), ("name", "  ")]).await;
        assert!(
            page.contains("<a href=\"#f-name\">Name: give the component a name of 1 to 100 characters</a>"),
            "{page}"
        );
        assert!(
            page.contains("<p class=\"field-error\" id=\"e-name\">give the component a name"),
            "{page}"
        );
        let page = post_invalid(&b, "/admin/status/groups", &[("_csrf", &csrf), ("name", "")]).await;
        assert!(page.contains("give the group a name of 1 to 100 characters"), "{page}");
        let page = post_invalid(
            &b,
            &format!("/admin/status/groups/{group}"),
            &[("_csrf", &csrf), ("name", "")],
        )
        .await;
        assert!(page.contains("Group name: give the group a name"), "{page}");

        // Reordering within the group: Dashboard goes above API.
        let dashboard_c = component_named(&app, "Dashboard").await;
        let page = b.get_text("/admin/status").await.1;
        assert!(page.contains("aria-label=\"Move Dashboard up\""), "{page}");
        let form = [("_csrf", csrf.as_str()), ("position", "1")];
        post_ok(&b, &format!("/admin/status/components/{}/move", dashboard_c.id), &form).await;
        assert_eq!(names_in_order(&app).await, ["Dashboard", "API", "Email"]);
        let form = [("_csrf", csrf.as_str()), ("position", "3")];
        post_ok(&b, &format!("/admin/status/components/{}/move", dashboard_c.id), &form).await;
        assert_eq!(names_in_order(&app).await, ["API", "Email", "Dashboard"]);
        let positions: Vec<i64> = app
            .store
            .status_components(app.state.org())
            .await
            .unwrap()
            .iter()
            .map(|c| c.position)
            .collect();
        assert_eq!(positions, [1, 2, 3], "positions are places in the list");

        // A status set by hand, shown on the overview and in the overall status.
        let api = component_named(&app, "API").await;
        let form = [("_csrf", csrf.as_str()), ("status", "major_outage")];
        assert_eq!(
            post_ok(&b, &format!("/admin/status/components/{}/status", api.id), &form).await,
            "/admin/status?notice=status-set"
        );
        assert_eq!(component_named(&app, "API").await.status, ComponentStatus::MajorOutage);
        let page = b.get_text("/admin/status?notice=status-set").await.1;
        assert!(
            page.contains("Major system outage") && page.contains("Status changed."),
            "{page}"
        );
        let form = [("_csrf", csrf.as_str()), ("status", "sideways")];
        let r = b
            .post_form(&format!("/admin/status/components/{}/status", api.id), &form)
            .await;
        assert_eq!(r.status(), 400, "a value the page never offers");

        // Edit: the form shows what it has; a rule broken shows at its field.
        let (status, page) = b.get_text(&format!("/admin/status/components/{}", api.id)).await;
        assert_eq!(status, 200);
        assert!(page.contains("value=\"API\""), "{page}");
        let long = "x".repeat(1001);
        let form = [
            ("_csrf", csrf.as_str()),
            ("name", "Public API"),
            ("description", long.as_str()),
        ];
        let page = post_invalid(&b, &format!("/admin/status/components/{}", api.id), &form).await;
        assert!(
            page.contains("Description: keep the description under 1,000 characters"),
            "{page}"
        );
        let form = [
            ("_csrf", csrf.as_str()),
            ("name", "Public API"),
            ("description", "REST and GraphQL"),
        ];
        assert_eq!(
            post_ok(&b, &format!("/admin/status/components/{}", api.id), &form).await,
            "/admin/status?notice=component-saved"
        );
        let edited = component_named(&app, "Public API").await;
        assert_eq!((edited.group_id, edited.showcase), (None, false));

        // Delete, after a confirmation page; a group's deletion keeps its components.
        let (status, page) = b.get_text(&format!("/admin/status/components/{}/delete", api.id)).await;
        assert_eq!(status, 200);
        assert!(page.contains("Delete “Public API”?"), "{page}");
        post_ok(
            &b,
            &format!("/admin/status/components/{}/delete", api.id),
            &[("_csrf", &csrf)],
        )
        .await;
        post_ok(&b, &format!("/admin/status/groups/{group}/delete"), &[("_csrf", &csrf)]).await;
        assert_eq!(names_in_order(&app).await, ["Email", "Dashboard"]);
        assert_eq!(component_named(&app, "Dashboard").await.group_id, None);
        assert_eq!(b.get_text("/admin/status/components/999999").await.0, 404);
        assert_eq!(b.get_text("/admin/status/components/nope").await.0, 404);
    }
);

both_dbs!(
    incidents_go_from_the_form_to_resolved_in_the_back_office,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let b = app.browser();
        post_ok(&b, "/admin/status/components", &[("_csrf", &csrf), ("name", "API")]).await;
        let api = component_named(&app, "API").await;
        let pick = format!("component-{}", api.id);

        let (status, page) = b.get_text("/admin/status/incidents/new").await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!("name=\"{pick}\"")), "{page}");
        let page = post_invalid(
            &b,
            "/admin/status/incidents",
            &[
                ("_csrf", &csrf),
                ("kind", "incident"),
                ("title", ""),
                ("impact", "major"),
                ("status", "investigating"),
                ("body", ""),
                (&pick, "partial_outage"),
            ],
        )
        .await;
        assert!(page.contains("Title: give a title of 1 to 200 characters"), "{page}");
        assert!(page.contains("Message: write what is happening (Markdown)"), "{page}");
        assert!(
            page.contains("<option value=\"partial_outage\" selected>"),
            "the choice is kept: {page}"
        );

        let to = post_ok(
            &b,
            "/admin/status/incidents",
            &[
                ("_csrf", &csrf),
                ("kind", "incident"),
                ("title", "API errors"),
                ("impact", "major"),
                ("status", "investigating"),
                ("body", "Requests **fail** for some customers."),
                (&pick, "partial_outage"),
            ],
        )
        .await;
        let id = id_after(&to, "/admin/status/incidents/");
        assert!(to.ends_with("?notice=incident-opened"), "{to}");
        assert_eq!(
            component_named(&app, "API").await.status,
            ComponentStatus::PartialOutage
        );
        let (status, page) = b.get_text(&to).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("<strong>fail</strong>") && page.contains("Investigating"),
            "{page}"
        );

        // A security notice, listed apart.
        let to = post_ok(
            &b,
            "/admin/status/incidents",
            &[
                ("_csrf", &csrf),
                ("kind", "advisory"),
                ("title", "OpenSSL advisory"),
                ("impact", "none"),
                ("status", "resolved"),
                ("body", "Not affected."),
            ],
        )
        .await;
        let notice = id_after(&to, "/admin/status/incidents/");
        let all = b.get_text("/admin/status/incidents").await.1;
        let (open, resolved) = all.split_once("<h2>Resolved</h2>").unwrap();
        assert!(
            open.contains("API errors") && !open.contains("OpenSSL advisory"),
            "open ones first: {all}"
        );
        assert!(resolved.contains("OpenSSL advisory"), "{all}");
        let incidents = b.get_text("/admin/status/incidents?kind=incident").await.1;
        assert!(incidents.contains("API errors") && !incidents.contains("OpenSSL advisory"));
        let notices = b.get_text("/admin/status/incidents?kind=advisory").await.1;
        assert!(!notices.contains("API errors") && notices.contains("OpenSSL advisory"));

        // Updates through to resolved; the empty message is refused at its field.
        let updates = format!("/admin/status/incidents/{id}/updates");
        let page = post_invalid(
            &b,
            &updates,
            &[("_csrf", &csrf), ("status", "identified"), ("body", " ")],
        )
        .await;
        assert!(
            page.contains("<a href=\"#u-body\">Message: write what is happening"),
            "{page}"
        );
        let form = [
            ("_csrf", csrf.as_str()),
            ("status", "identified"),
            ("body", "A bad deploy."),
            (pick.as_str(), "major_outage"),
        ];
        post_ok(&b, &updates, &form).await;
        assert_eq!(component_named(&app, "API").await.status, ComponentStatus::MajorOutage);
        let page = post_invalid(
            &b,
            &updates,
            &[("_csrf", &csrf), ("status", "investigating"), ("body", "Back?")],
        )
        .await;
        assert!(
            page.contains("Status: an incident that is identified cannot go back to investigating"),
            "{page}"
        );
        post_ok(
            &b,
            &updates,
            &[("_csrf", &csrf), ("status", "resolved"), ("body", "Rolled back.")],
        )
        .await;
        assert_eq!(component_named(&app, "API").await.status, ComponentStatus::Operational);
        let page = b.get_text(&format!("/admin/status/incidents/{id}")).await.1;
        assert!(
            page.contains("Rolled back.") && page.contains("A bad deploy.") && page.contains("Resolved"),
            "{page}"
        );

        // Title, impact and postmortem.
        let edit = format!("/admin/status/incidents/{id}");
        let page = post_invalid(
            &b,
            &edit,
            &[("_csrf", &csrf), ("title", ""), ("impact", "minor"), ("postmortem", "")],
        )
        .await;
        assert!(page.contains("<a href=\"#e-title\">Title: give a title"), "{page}");
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "API errors after a deploy"),
            ("impact", "minor"),
            ("postmortem", "We now canary."),
        ];
        assert!(post_ok(&b, &edit, &form).await.ends_with("?notice=incident-saved"));
        let saved = app.store.incident(app.state.org(), id).await.unwrap().unwrap();
        assert_eq!(saved.title, "API errors after a deploy");
        assert_eq!(saved.postmortem.as_deref(), Some("We now canary."));
        assert_eq!(saved.updates.len(), 3);

        // Deleting asks first.
        let (status, page) = b.get_text(&format!("/admin/status/incidents/{notice}/delete")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Delete “OpenSSL advisory”?"), "{page}");
        let to = post_ok(
            &b,
            &format!("/admin/status/incidents/{notice}/delete"),
            &[("_csrf", &csrf)],
        )
        .await;
        assert_eq!(to, "/admin/status/incidents?notice=incident-deleted");
        assert_eq!(b.get_text(&format!("/admin/status/incidents/{notice}")).await.0, 404);

        // On the record, as the owner.
        let created = app
            .store
            .audit_entries(
                app.state.org(),
                &candor_store::AuditFilter {
                    action: Some("status.incident".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(created.len() >= 6, "{created:?}");
        assert!(created
            .iter()
            .all(|e| e.record.actor == format!("user:{}", crate::harness::OWNER_EMAIL)));
    }
);

both_dbs!(
    maintenance_is_scheduled_updated_and_deleted_in_the_back_office,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let b = app.browser();
        post_ok(
            &b,
            "/admin/status/components",
            &[("_csrf", &csrf), ("name", "Database")],
        )
        .await;
        let db = component_named(&app, "Database").await;
        let pick = format!("component-{}", db.id);
        let (status, page) = b.get_text("/admin/status/maintenance/new").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("type=\"datetime-local\"") && page.contains("Start (UTC)"),
            "{page}"
        );

        let page = post_invalid(
            &b,
            "/admin/status/maintenance",
            &[
                ("_csrf", &csrf),
                ("title", "Upgrade"),
                ("body", "Minor version."),
                ("scheduled_for", "next tuesday"),
                ("scheduled_until", "2030-01-01T01:00"),
            ],
        )
        .await;
        assert!(
            page.contains("Start (UTC): &#34;next tuesday&#34; is not a date and time")
                || page.contains("Start (UTC): &quot;next tuesday&quot; is not a date and time"),
            "{page}"
        );
        let page = post_invalid(
            &b,
            "/admin/status/maintenance",
            &[
                ("_csrf", &csrf),
                ("title", "Upgrade"),
                ("body", "Minor version."),
                ("scheduled_for", "2030-01-01T02:00"),
                ("scheduled_until", "2030-01-01T01:00"),
            ],
        )
        .await;
        assert!(
            page.contains("End (UTC): the window must end after it starts"),
            "{page}"
        );
        assert!(
            page.contains("value=\"2030-01-01T02:00\""),
            "the times typed are kept: {page}"
        );

        let to = post_ok(
            &b,
            "/admin/status/maintenance",
            &[
                ("_csrf", &csrf),
                ("title", "Upgrade"),
                ("body", "Minor version."),
                ("scheduled_for", "2030-01-01T01:00"),
                ("scheduled_until", "2030-01-01T02:30"),
                ("auto", "1"),
                (&pick, "1"),
            ],
        )
        .await;
        let id = id_after(&to, "/admin/status/maintenance/");
        let m = app.store.maintenance(app.state.org(), id).await.unwrap().unwrap();
        assert_eq!(
            (m.scheduled_for, m.scheduled_until, m.auto),
            (1_893_459_600, 1_893_465_000, true)
        );
        assert_eq!(m.components, [db.id]);
        let list = b.get_text("/admin/status/maintenance").await.1;
        assert!(
            list.contains("Upgrade") && list.contains("2030-01-01 01:00 UTC to 2030-01-01 02:30 UTC"),
            "{list}"
        );

        let updates = format!("/admin/status/maintenance/{id}/updates");
        post_ok(
            &b,
            &updates,
            &[("_csrf", &csrf), ("status", "in_progress"), ("body", "Started early.")],
        )
        .await;
        let page = post_invalid(
            &b,
            &updates,
            &[("_csrf", &csrf), ("status", "scheduled"), ("body", "Oops.")],
        )
        .await;
        assert!(
            page.contains("Status: maintenance that is in progress cannot go back to scheduled"),
            "{page}"
        );

        // Edit: times, clock and components; the page shows what is saved.
        let edit = format!("/admin/status/maintenance/{id}");
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "Database upgrade"),
            ("scheduled_for", "2030-01-01T01:00"),
            ("scheduled_until", "2030-01-01T03:00"),
        ];
        assert!(post_ok(&b, &edit, &form).await.ends_with("?notice=maintenance-saved"));
        let m = app.store.maintenance(app.state.org(), id).await.unwrap().unwrap();
        assert_eq!(
            (m.title.as_str(), m.auto, m.components.len()),
            ("Database upgrade", false, 0)
        );
        let page = b.get_text(&edit).await.1;
        assert!(
            page.contains("value=\"2030-01-01T03:00\"") && page.contains("Started early."),
            "{page}"
        );

        assert_eq!(b.get_text(&format!("{edit}/delete")).await.0, 200);
        post_ok(&b, &format!("{edit}/delete"), &[("_csrf", &csrf)]).await;
        assert!(app.store.maintenance(app.state.org(), id).await.unwrap().is_none());
    }
);

both_dbs!(
    a_status_manager_runs_the_status_page_and_an_editor_may_not,
    |app: TestApp| async move {
        let owner = app.sign_in_owner().await;
        let manager = user_with_role(&app, &owner, Role::StatusManager).await;
        let editor = user_with_role(&app, &owner, Role::Editor).await;
        let m = crate::harness::csrf_of(&manager.get_text("/admin/status").await.1);
        post_ok(&manager, "/admin/status/components", &[("_csrf", &m), ("name", "API")]).await;
        let (_, page) = manager.get_text("/admin/status").await;
        assert!(page.contains("Add a component"), "{page}");
        // Content is not theirs.
        let r = manager
            .post_form(
                "/admin/content/faq",
                &[("_csrf", &m), ("question", "Q?"), ("answer", "A.")],
            )
            .await;
        assert_eq!(r.status(), 403);

        // An editor sees the status page but changes nothing on it; the refusal is audited.
        let e = crate::harness::csrf_of(&editor.get_text("/admin/status").await.1);
        let (status, page) = editor.get_text("/admin/status").await;
        assert_eq!(status, 200);
        assert!(page.contains("API") && !page.contains("Add a component"), "{page}");
        let r = editor
            .post_form("/admin/status/components", &[("_csrf", &e), ("name", "Sneaky")])
            .await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("Not allowed"));
        assert_eq!(editor.get("/admin/status/incidents/new").await.status(), 403);
        assert_eq!(names_in_order(&app).await, ["API"]);
        let denied = app
            .store
            .audit_entries(
                app.state.org(),
                &candor_store::AuditFilter {
                    action: Some("auth.permission.denied".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            denied.iter().any(|d| d.record.actor == "user:editor@corvellan.example"
                && d.record.target == "POST /admin/status/components"
                && d.record.details["permission"] == "ManageStatus"),
            "{denied:?}"
        );
    }
);

both_dbs!(a_pipeline_runs_an_incident_through_the_api, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let write = create_token(&app, &csrf, "read-write", "1").await;
    let read = create_token(&app, &csrf, "read", "1").await;
    let c = reqwest::Client::new();
    let api = |p: &str| app.url(&format!("/api/v1/status{p}"));
    let send = |req: reqwest::RequestBuilder, token: &str| {
        let req = req.bearer_auth(token);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let (status, comp) = send(c.post(api("/components")).json(&json!({"name": "API"})), &write).await;
    assert_eq!(status, 201, "{comp}");
    assert_eq!(
        (comp["status"].as_str(), comp["showcase"].as_bool()),
        (Some("operational"), Some(true))
    );
    let cid = comp["id"].as_i64().unwrap();

    // Open, then updates through to resolved; the component follows.
    let open = json!({"title": "Elevated errors", "impact": "major", "body": "Investigating.",
                          "components": [{"id": cid, "status": "major_outage"}]});
    let (status, incident) = send(c.post(api("/incidents")).json(&open), &write).await;
    assert_eq!(status, 201, "{incident}");
    assert_eq!(
        (incident["status"].as_str(), incident["kind"].as_str()),
        (Some("investigating"), Some("incident"))
    );
    let id = incident["id"].as_i64().unwrap();
    let component = |token: &str| send(c.get(api(&format!("/components/{cid}"))), token);
    assert_eq!(component(&read).await.1["status"], "major_outage");
    let updates = api(&format!("/incidents/{id}/updates"));
    for step in ["identified", "monitoring"] {
        let (status, i) = send(c.post(&updates).json(&json!({"status": step, "body": step})), &write).await;
        assert_eq!((status, i["status"].as_str()), (201, Some(step)), "{i}");
    }
    // Backwards is refused with the reason, at the field.
    let (status, e) = send(
        c.post(&updates).json(&json!({"status": "identified", "body": "Hm."})),
        &write,
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "validation_failed");
    assert_eq!(e["error"]["details"][0]["field"], "status");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot go back to identified"),
        "{e}"
    );
    let (status, i) = send(
        c.post(&updates).json(&json!({"status": "resolved", "body": "Fixed."})),
        &write,
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        i["resolved_at"].is_string() && i["updates"].as_array().unwrap().len() == 4,
        "{i}"
    );
    assert_eq!(component(&write).await.1["status"], "operational");

    // Edits, lists and their filters.
    let patch = json!({"title": "Elevated API errors", "postmortem": "A bad config."});
    let (status, i) = send(c.patch(api(&format!("/incidents/{id}"))).json(&patch), &write).await;
    assert_eq!(
        (status, i["title"].as_str(), i["impact"].as_str()),
        (200, Some("Elevated API errors"), Some("major"))
    );
    let (_, i) = send(
        c.patch(api(&format!("/incidents/{id}")))
            .json(&json!({"postmortem": null})),
        &write,
    )
    .await;
    assert_eq!(i["postmortem"], Value::Null);
    assert_eq!(
        send(c.get(api("/incidents?open=true")), &read).await.1["incidents"],
        json!([])
    );
    assert_eq!(
        send(c.get(api("/incidents?kind=incident")), &read).await.1["incidents"][0]["id"],
        id
    );
    assert_eq!(
        send(c.get(api("/incidents?kind=advisory")), &read).await.1["incidents"],
        json!([])
    );
    assert_eq!(send(c.get(api("/incidents?kind=outage")), &read).await.0, 400);

    // A read token reads but never writes.
    let (status, e) = send(c.post(api("/incidents")).json(&open), &read).await;
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("insufficient_scope")));
    assert_eq!(send(c.get(api(&format!("/incidents/{id}"))), &read).await.0, 200);

    // Unknown ids and fields.
    for path in [
        "/incidents/999999",
        "/incidents/abc",
        "/components/999999",
        "/maintenances/999999",
    ] {
        let (status, e) = send(c.get(api(path)), &read).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (status, _) = send(
        c.post(api("/incidents/999999/updates"))
            .json(&json!({"status": "resolved", "body": "x"})),
        &write,
    )
    .await;
    assert_eq!(status, 404);
    let (status, e) = send(
        c.post(api("/incidents")).json(&json!({"titel": "typo", "body": "x"})),
        &write,
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = e["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["titel", "title"], "{e}");

    // A component's status alone, as an alerting system sends it.
    let (status, comp) = send(
        c.put(api(&format!("/components/{cid}")))
            .json(&json!({"status": "degraded_performance"})),
        &write,
    )
    .await;
    assert_eq!(
        (status, comp["status"].as_str(), comp["name"].as_str()),
        (200, Some("degraded_performance"), Some("API"))
    );

    // Maintenance: scheduled, started, refused backwards, edited, deleted.
    let window = json!({"title": "DB upgrade", "body": "Short.", "scheduled_for": "2030-01-01T01:00:00Z",
                            "scheduled_until": "2030-01-01T02:00:00Z", "components": [cid]});
    let (status, m) = send(c.post(api("/maintenances")).json(&window), &write).await;
    assert_eq!(
        (status, m["status"].as_str(), m["auto"].as_bool()),
        (201, Some("scheduled"), Some(true)),
        "{m}"
    );
    let mid = m["id"].as_i64().unwrap();
    let m_updates = api(&format!("/maintenances/{mid}/updates"));
    let (status, m) = send(
        c.post(&m_updates)
            .json(&json!({"status": "in_progress", "body": "Go."})),
        &write,
    )
    .await;
    assert_eq!((status, m["status"].as_str()), (201, Some("in_progress")));
    let (status, _) = send(
        c.post(&m_updates)
            .json(&json!({"status": "scheduled", "body": "Back."})),
        &write,
    )
    .await;
    assert_eq!(status, 422);
    let (status, m) = send(
        c.patch(api(&format!("/maintenances/{mid}")))
            .json(&json!({"scheduled_until": "2030-01-01T03:00:00Z"})),
        &write,
    )
    .await;
    assert_eq!(
        (status, m["scheduled_until"].as_str(), m["title"].as_str()),
        (200, Some("2030-01-01T03:00:00Z"), Some("DB upgrade"))
    );
    let listed = send(c.get(api("/maintenances?unfinished=true")), &read).await.1;
    assert_eq!(listed["maintenances"][0]["id"], mid);
    let r = c
        .delete(api(&format!("/maintenances/{mid}")))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(send(c.get(api(&format!("/maintenances/{mid}"))), &read).await.0, 404);

    // The static status paths sit beside the content API's `/{kind}/{slug}`, which still works.
    assert_eq!(send(c.get(app.url("/api/v1/faq")), &read).await.0, 200);
    let r = c
        .delete(api(&format!("/components/{cid}")))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // The token is the actor on the record.
    let entries = app
        .store
        .audit_entries(
            app.state.org(),
            &candor_store::AuditFilter {
                action: Some("status.incident.create".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].record.actor.starts_with("api-token:"), "{:?}", entries[0]);
});
