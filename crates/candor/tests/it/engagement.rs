//! Engagement: page views counted in memory and flushed per page and day (no cookie, no IP kept,
//! robots and unknown paths left out), requests and downloads per company and document, the
//! back-office page, its CSV and who may see it.

use crate::access::user_with_role;
use crate::harness::Browser;
use crate::{both_dbs, TestApp};
use candor_core::access::Role;
use sqlx::{Connection, Row};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A visitor's browser: it sends a browser's user agent.
fn person() -> reqwest::Client {
    reqwest::Client::builder().user_agent(FIREFOX).build().unwrap()
}

async fn view(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.expect("request")
}

async fn flush(app: &TestApp) {
    assert!(
        candor_web::http::page_views::flush(&app.state).await,
        "the flush is written"
    );
}

/// Every row of `page_views`, as (day, page, views), and the table's column names.
async fn table(app: &TestApp) -> (Vec<(String, String, i64)>, Vec<String>) {
    let mut c = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let rows = sqlx::query("SELECT * FROM page_views ORDER BY page")
        .fetch_all(&mut c)
        .await
        .unwrap();
    let columns = rows
        .first()
        .map(|r| r.columns().iter().map(|c| sqlx::Column::name(c).to_owned()).collect())
        .unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (r.get("day"), r.get("page"), r.get("views")))
        .collect();
    (rows, columns)
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

both_dbs!(
    views_are_counted_per_page_and_day_without_cookies_or_addresses,
    |app: TestApp| async move {
        // The demo's documents, with the public security overview.
        candor_web::demo_documents::seed(&app.state)
            .await
            .expect("demo documents");
        let browser = person();
        for _ in 0..3 {
            let r = view(&app, &browser, "/").await;
            assert_eq!(r.status(), 200);
            assert!(r.headers().get("set-cookie").is_none(), "no cookie on a public page");
        }
        assert_eq!(view(&app, &browser, "/faq").await.status(), 200);
        // A returning reader's conditional request (304) is a view; HEAD is not.
        let etag = view(&app, &browser, "/faq").await.headers()["etag"].clone();
        let r = browser
            .get(app.url("/faq"))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        assert_eq!(browser.head(app.url("/faq")).send().await.unwrap().status(), 200);
        // Robots, clients without a user agent and headless browsers are not counted.
        for ua in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "curl/8.5.0",
    ] {
        let bot = reqwest::Client::builder().user_agent(ua).build().unwrap();
        assert_eq!(view(&app, &bot, "/").await.status(), 200);
    }
        assert_eq!(app.new_browser().get("/").await.status(), 200);
        // Paths the site does not serve, assets and machine-readable files are not counted.
        for path in ["/no-such-page", "/wp-login.php", "/s/made-up"] {
            assert_eq!(view(&app, &browser, path).await.status(), 404, "{path}");
        }
        assert_eq!(view(&app, &browser, "/trust.json").await.status(), 200);
        assert_eq!(view(&app, &browser, "/feed.atom").await.status(), 200);
        // A public document's download is counted under its download path; an unknown one is not.
        assert_eq!(
            view(&app, &browser, "/documents/security-overview/download")
                .await
                .status(),
            200
        );
        assert_eq!(
            view(&app, &browser, "/documents/nothing-here/download").await.status(),
            404
        );

        flush(&app).await;
        let (rows, columns) = table(&app).await;
        let day = today();
        assert_eq!(
            rows,
            vec![
                (day.clone(), "/".to_owned(), 3),
                (day.clone(), "/documents/security-overview/download".to_owned(), 1),
                (day.clone(), "/faq".to_owned(), 3),
            ]
        );
        // Nothing that could identify a visitor is stored.
        assert_eq!(columns, ["org_id", "day", "page", "views"]);

        // A second flush adds to the first; a flush with nothing counted changes nothing.
        view(&app, &browser, "/").await;
        flush(&app).await;
        flush(&app).await;
        let (rows, _) = table(&app).await;
        assert_eq!(rows[0], (day.clone(), "/".to_owned(), 4));
    }
);

/// Signs in the owner and adds an access manager and an editor.
async fn people(app: &TestApp) -> (Browser, Browser) {
    let csrf = app.sign_in_owner().await;
    let manager = user_with_role(app, &csrf, Role::AccessManager).await;
    let editor = user_with_role(app, &csrf, Role::Editor).await;
    (manager, editor)
}

both_dbs!(
    the_engagement_page_shows_companies_and_documents_and_exports_safe_csv,
    |app: TestApp| async move {
        let (manager, editor) = people(&app).await;
        let now = candor_store::now();
        // Two requests from one company (typed in two spellings), one from an address whose company
        // field is empty, and one whose company is a spreadsheet formula.
        for (email, company, docs) in [
            ("ana@fabrikam.example", "Fabrikam", r#"["soc-2-report"]"#),
            ("ben@fabrikam.example", "fabrikam ", r#"["soc-2-report","pentest"]"#),
            ("cy@tailspin.example", "", r#"["soc-2-report"]"#),
            ("eve@evil.example", "=HYPERLINK(\"http://evil.example\",\"x\")", r#"[]"#),
        ] {
            app.sql(&format!(
            "INSERT INTO access_requests (org_id, name, email, company, reason, documents, status, ip, user_agent, created_at) \
             VALUES (1, 'N', '{email}', '{}', '', '{docs}', 'pending', '', '', {now})",
            company.replace('\'', "''")
        ))
        .await;
        }
        app.sql(&format!(
            "INSERT INTO document_access_log (org_id, grant_id, email, company, document, version, action, at, ip) \
         VALUES (1, 'g1', 'ana@fabrikam.example', 'Fabrikam', 'soc-2-report', 1, 'download', {now}, '192.0.2.1')"
        ))
        .await;
        view(&app, &person(), "/").await;
        flush(&app).await;

        let (status, page) = manager.get_text("/admin/engagement").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(r#"role="img" aria-labelledby="views-chart""#));
        assert!(page.contains("Page views per day: 1 in 30 days"));
        assert!(
            page.contains("<th scope=\"row\">Fabrikam</th><td>2</td><td>1</td>"),
            "{page}"
        );
        assert!(page.contains("<th scope=\"row\">tailspin.example</th><td>1</td><td>0</td>"));
        assert!(page.contains("soc-2-report</a></th><td>3</td><td>1</td><td>0</td><td>1</td>"));
        // The visitor-typed formula is shown as text.
        assert!(page.contains("=HYPERLINK(&#34;http://evil.example&#34;") || page.contains("=HYPERLINK(&quot;"));
        assert!(!page.contains("<script"));
        let (status, page) = manager.get_text("/admin/engagement?days=90").await;
        assert_eq!(status, 200);
        assert!(page.contains("Page views per day: 1 in 90 days"));
        assert!(page.contains(r#"aria-current="page"><strong>Last 90 days"#));

        let r = manager.get("/admin/engagement?days=90&format=csv").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"engagement-"));
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "section,name,views,requests,downloads,public_downloads");
        assert_eq!(lines.iter().filter(|l| l.starts_with("\"day\"")).count(), 90);
        assert!(
            lines.contains(&format!("\"day\",\"{}\",\"1\",\"4\",\"1\",\"\"", today()).as_str()),
            "{csv}"
        );
        assert!(lines.contains(&"\"page\",\"/\",\"1\",\"\",\"\",\"\""));
        assert!(lines.contains(&"\"company\",\"Fabrikam\",\"\",\"2\",\"1\",\"\""));
        assert!(lines.contains(&"\"document\",\"soc-2-report\",\"\",\"3\",\"1\",\"0\""));
        // The formula gets a leading apostrophe and its quotes doubled.
        assert!(
            lines.contains(&"\"company\",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"\",\"1\",\"0\",\"\""),
            "{csv}"
        );
        // The export is audited.
        let (_, audit) = app.get_text("/admin/audit?action=engagement.export").await;
        assert!(audit.contains("engagement.export"), "{audit}");

        // Denials: not signed in, and a role that does not decide access.
        let r = app.new_browser().get("/admin/engagement").await;
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
        let r = app.new_browser().get("/admin/engagement?format=csv").await;
        assert_eq!(r.status(), 303);
        assert_eq!(editor.get("/admin/engagement").await.status(), 403);
        assert_eq!(editor.get("/admin/engagement?format=csv").await.status(), 403);
        let (_, dash) = editor.get_text("/admin").await;
        assert!(
            !dash.contains("/admin/engagement"),
            "no link for those who may not see it"
        );
        let (_, dash) = manager.get_text("/admin").await;
        assert!(dash.contains("href=\"/admin/engagement\""));
    }
);
