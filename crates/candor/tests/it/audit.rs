//! The tamper-evident audit log: what gets recorded, filters, exports, and tamper detection by
//! the back office and by `candor audit verify`.

use crate::harness::{csrf_of, OWNER_EMAIL};
use crate::{both_dbs, TestApp};
use candor_core::audit::AuditEntry;

fn verify_cli(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(["audit", "verify"])
        .env_clear()
        .env("CANDOR_DATABASE_URL", &app.db_url)
        .env("CANDOR_DATA_DIR", std::env::temp_dir())
        .output()
        .unwrap()
}

both_dbs!(
    actions_are_chained_filtered_exported_and_tampering_is_caught,
    |app: TestApp| async move {
        // A failed sign-in, the owner's setup and sign-in, a publish, an API token and its use.
        let (_, login) = app.get_text("/admin/login").await;
        app.post_form(
            "/admin/login",
            &[
                ("_csrf", &csrf_of(&login)),
                ("email", OWNER_EMAIL),
                ("password", "wrong password!!"),
            ],
        )
        .await;
        let csrf = app.sign_in_owner().await;
        assert_eq!(
            app.post_form("/admin/content/faq/soc-2-report/unpublish", &[("_csrf", &csrf)])
                .await
                .status(),
            303
        );
        let r = app
            .post_form(
                "/admin/tokens",
                &[
                    ("_csrf", &csrf),
                    ("name", "sync"),
                    ("scope", "read"),
                    ("expires_days", ""),
                ],
            )
            .await;
        let page = r.text().await.unwrap();
        let token = crate::harness::shown_once(&page);
        reqwest::Client::new()
            .get(app.url("/api/v1/faq"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        let (status, page) = app.get_text("/admin/audit").await;
        assert_eq!(status, 200);
        assert!(page.contains("Hash chain verified"), "{page}");
        for action in [
            "auth.login.failed",
            "auth.password.set",
            "auth.login",
            "content.unpublish",
            "api_token.create",
            "api.request",
        ] {
            assert!(page.contains(&format!("<code>{action}</code>")), "{action} is recorded");
        }
        // Filter by action prefix.
        let (_, auth_only) = app.get_text("/admin/audit?action=auth").await;
        assert!(auth_only.contains("<code>auth.login</code>") && !auth_only.contains("<code>content.unpublish</code>"));
        let (status, bad) = app.get_text("/admin/audit?from=yesterday").await;
        assert_eq!(status, 200);
        assert!(bad.contains("is not a date; use YYYY-MM-DD"));

        // Exports: JSON Lines verify on their own; CSV has a header and one line per entry.
        let jsonl = app.get_text("/admin/audit/export?format=jsonl").await.1;
        let entries: Vec<AuditEntry> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(entries.len() >= 6);
        assert_eq!(candor_core::audit::verify(&entries), Ok(entries.len()));
        let r = app.get("/admin/audit/export?format=csv").await;
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("candor-audit.csv"));
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("seq,at,actor,action,target,ip,details,prev_hash,hash\n"));
        assert!(
            csv.lines().count() > entries.len(),
            "every entry, plus the export itself, plus the header"
        );

        // The CLI agrees the chain is intact.
        let out = verify_cli(&app);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        // Someone with database access rewrites who did entry 3.
        app.sql("UPDATE audit_log SET actor = 'user:someone-else@corvellan.example' WHERE seq = 3")
            .await;
        let out = verify_cli(&app);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("entry 3") && err.contains("contents were changed"),
            "{err}"
        );
        let page = app.get_text("/admin/audit").await.1;
        assert!(page.contains("Hash chain BROKEN: audit log entry 3"), "{page}");
    }
);
