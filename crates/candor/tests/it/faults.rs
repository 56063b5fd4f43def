//! Faults under the server: a file system that fills up.

use crate::TestApp;
use candor_core::Kind;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// A small tmpfs mounted for one test and unmounted when dropped. Mounting needs root; where
/// the machine refuses, the test says it skipped (under `CI=true` that is a failure).
pub struct SmallDisk {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    filler: PathBuf,
}

impl SmallDisk {
    pub fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("cannot mount a tmpfs for the disk-full test, and CI=true: run CI as root");
            }
            eprintln!("SKIPPED: cannot mount a small file system here (needs root); disk-full test skipped");
            return None;
        }
        let filler = dir.path().join("disk/filler");
        Some(SmallDisk {
            _dir: dir,
            path,
            filler,
        })
    }

    fn available(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(&self.path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Takes all the free space but `leave` bytes.
    pub fn fill_leaving(&self, leave: u64) {
        let take = self.available().saturating_sub(leave);
        std::fs::write(&self.filler, vec![0u8; take as usize]).unwrap();
    }

    /// Gives the space back.
    pub fn free(&self) {
        std::fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn faq(i: usize) -> Value {
    json!({"slug": format!("faq-{i}"), "body": {"question": format!("Question number {i}?"), "answer": "An answer. ".repeat(400)}})
}

/// With the disk full, writes are refused with 507 (API envelope, form page) and never
/// acknowledged unless durable; reads go on; once space returns, writes resume by themselves; and
/// everything acknowledged is seen by a fresh connection, with an intact audit chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_nothing_acknowledged() {
    let Some(disk) = SmallDisk::mount("6m") else { return };
    let app = TestApp::start_sqlite_in(&disk.path, false).await;
    let csrf = app.sign_in_owner().await;
    let token = crate::api::create_token(&app, &csrf, "read-write", "").await;
    let c = reqwest::Client::new();
    let api = app.url("/api/v1/faq");

    disk.fill_leaving(200 * 1024);
    let mut acknowledged = vec![];
    let mut refused = 0;
    for i in 0..400 {
        let r = c.post(&api).bearer_auth(&token).json(&faq(i)).send().await.unwrap();
        match r.status().as_u16() {
            201 => acknowledged.push(format!("faq-{i}")),
            507 => {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "storage_full", "{body}");
                refused += 1;
                if refused == 20 {
                    break;
                }
            }
            other => panic!("write {i} answered {other}: {}", r.text().await.unwrap()),
        }
    }
    assert!(
        refused >= 20,
        "the disk never filled up ({} writes acknowledged)",
        acknowledged.len()
    );

    // A form gets a page that says so; reading goes on.
    let r = app
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", ""),
                ("question", "While full?"),
                ("answer", "No."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 507);
    assert!(r.text().await.unwrap().contains("storage is full"));
    assert_eq!(app.get_text("/admin/content/faq").await.0, 200);
    assert_eq!(c.get(&api).bearer_auth(&token).send().await.unwrap().status(), 200);
    assert_eq!(app.get_text("/").await.0, 200);

    // Space returns: writes resume without a restart.
    disk.free();
    let r = c.post(&api).bearer_auth(&token).json(&faq(1000)).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    acknowledged.push("faq-1000".into());
    let r = app
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", "after-space-returned"),
                ("question", "After?"),
                ("answer", "Yes."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    acknowledged.push("after-space-returned".into());

    // A fresh connection (as after a restart) sees every acknowledged write.
    let url = app.db_url.clone();
    let org = app.state.org();
    drop(app);
    let store = candor_store::Store::open(&url).await.unwrap();
    let kept: Vec<String> = store
        .items(org, Kind::Faq)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.slug)
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|s| !kept.contains(s)).collect();
    assert!(lost.is_empty(), "acknowledged then lost: {lost:?}");
    let chain = store.audit_chain(org).await.unwrap();
    candor_core::audit::verify(&chain).expect("audit chain intact");
    store.close().await;
}
