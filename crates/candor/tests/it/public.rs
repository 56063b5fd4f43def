//! The public trust center of the demo, over HTTP.

use crate::{both_dbs, TestApp};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Internal links (`href="/..."`) and the ids of a page.
fn links_and_ids(html: &str) -> (Vec<String>, BTreeSet<String>) {
    let grab = |attr: &str| -> Vec<String> {
        html.split(attr)
            .skip(1)
            .filter_map(|rest| {
                rest.split('"')
                    .next()
                    .map(|s| s.replace("&#x2F;", "/").replace("&amp;", "&"))
            })
            .collect()
    };
    let links = grab(" href=\"")
        .into_iter()
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .collect();
    (links, grab(" id=\"").into_iter().collect())
}

both_dbs!(
    every_demo_page_renders_and_every_link_resolves,
    |app: TestApp| async move {
        let mut queue = VecDeque::from(["/".to_owned(), "/robots.txt".to_owned(), "/sitemap.xml".to_owned()]);
        let mut pages: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut fragments: Vec<(String, String, String)> = vec![];
        while let Some(path) = queue.pop_front() {
            if pages.contains_key(&path) {
                continue;
            }
            let (status, body) = app.get_text(&path).await;
            assert_eq!(status, 200, "GET {path}");
            let (links, ids) = links_and_ids(&body);
            pages.insert(path.clone(), ids);
            for link in links {
                let (target, frag) = link
                    .split_once('#')
                    .map(|(a, b)| (a.to_owned(), Some(b.to_owned())))
                    .unwrap_or((link.clone(), None));
                let target = if target.is_empty() { path.clone() } else { target };
                if let Some(f) = frag {
                    fragments.push((path.clone(), target.clone(), f));
                }
                if !target.starts_with("/search") && !pages.contains_key(&target) {
                    queue.push_back(target);
                }
            }
        }
        for (from, target, frag) in fragments {
            assert!(
                pages[&target].contains(&frag),
                "{from} links to {target}#{frag}, which has no such id"
            );
        }
        for must in [
            "/",
            "/compliance",
            "/subprocessors",
            "/policies",
            "/cookies",
            "/faq",
            "/s/encryption",
            "/p/privacy",
            "/trust.json",
            "/feed.atom",
        ] {
            assert!(pages.contains_key(must), "the crawl never reached {must}");
        }
        assert!(pages.len() > 30, "only {} pages reached", pages.len());
    }
);

both_dbs!(unknown_paths_get_a_real_404_page, |app: TestApp| async move {
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("Page not found") && body.contains("Corvellan"), "{body}");
    assert_eq!(app.get("/s/no-such-section").await.status(), 404);
});

both_dbs!(security_headers_on_every_kind_of_response, |app: TestApp| async move {
    for path in ["/", "/s/encryption", "/nope", "/search?q=x", "/healthz", "/trust.json"] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "{path}: no HSTS over plain HTTP"
        );
    }
});

both_dbs!(
    search_finds_and_highlights_published_content,
    |app: TestApp| async move {
        let (status, body) = app.get_text("/search?q=AES-256").await;
        assert_eq!(status, 200);
        assert!(body.contains("<mark>AES-256</mark>"), "{body}");
        assert!(
            body.contains("href=\"/s/encryption"),
            "an encryption control is among the results"
        );
        let (_, body) = app.get_text("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
        assert!(!body.contains("<script>alert(1)"), "the query is escaped");
        assert!(body.contains("0 results"));
    }
);

both_dbs!(machine_readable_views, |app: TestApp| async move {
    let r = app.get("/trust.json").await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["organization"]["name"], "Corvellan");
    let certs = j["certifications"].as_array().unwrap();
    assert!(
        certs.iter().any(|c| c["shown_status"] == "expired"),
        "the demo's lapsed certification shows as expired"
    );
    assert!(j["sections"].as_array().unwrap().len() >= 12);
    let (_, atom) = app.get_text("/feed.atom").await;
    assert!(
        atom.starts_with("<?xml")
            && atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
            && atom.contains("<entry>")
    );
    let (_, sitemap) = app.get_text("/sitemap.xml").await;
    assert!(sitemap.contains(&format!("<loc>{}/s/encryption</loc>", app.base)));
    let (_, robots) = app.get_text("/robots.txt").await;
    assert!(robots.contains("Disallow: /admin"));
    assert_eq!(app.get("/readyz").await.status(), 200);
});

both_dbs!(cookies_are_grouped_by_service_and_sorted, |app: TestApp| async move {
    let (_, body) = app.get_text("/cookies").await;
    let services: Vec<&str> = body
        .split("<h2 id=\"svc-")
        .skip(1)
        .map(|s| s.split('>').nth(1).unwrap().split('<').next().unwrap())
        .collect();
    let mut sorted = services.clone();
    sorted.sort();
    assert_eq!(services, sorted);
    assert!(services.len() >= 2);
    for group in body.split("<h2 id=\"svc-").skip(1) {
        let names: Vec<String> = group
            .split("<code>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_lowercase())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
});

both_dbs!(
    changes_made_by_another_process_reach_the_public_site,
    |app: TestApp| async move {
        // Straight to the database, as `candor import` or a second instance would: this process's
        // page cache is not told, so it must notice on its own.
        let org = app.state.org();
        let kind = candor_core::Kind::Faq;
        let mut body = app.store.item(org, kind, "soc-2-report").await.unwrap().unwrap().draft;
        body["question"] = "Changed elsewhere: can we read your SOC 2 report?".into();
        app.store
            .save_draft(org, kind, "soc-2-report", &body, "other process")
            .await
            .unwrap();
        app.store
            .publish(org, kind, "soc-2-report", "other process")
            .await
            .unwrap();
        let mut seen = false;
        for _ in 0..40 {
            if app.get_text("/faq").await.1.contains("Changed elsewhere") {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(seen, "the public site re-rendered within ten seconds");
    }
);
