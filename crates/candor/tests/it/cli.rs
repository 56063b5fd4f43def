//! The `candor` binary as a separate process: import, export, check and serve.

use crate::harness::fresh_pg_database;
use crate::Db;
use std::path::Path;
use std::process::{Command, Output};

/// A database for CLI runs: a temporary SQLite file or a fresh PostgreSQL database.
pub(crate) struct CliEnv {
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
}

impl CliEnv {
    pub(crate) async fn new(db: Db) -> Option<CliEnv> {
        let dir = tempfile::tempdir().unwrap();
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", dir.path().join("candor.db").display()),
            Db::Postgres => fresh_pg_database().await?.1,
        };
        Some(CliEnv { url, dir })
    }

    pub(crate) fn candor(&self, args: &[&str]) -> Output {
        self.candor_with(args, &[])
    }

    /// Runs `candor` with these environment variables besides the database's.
    fn candor_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_candor"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CANDOR_DATABASE_URL", &self.url)
            .env("CANDOR_DATA_DIR", self.dir.path().join("data"))
            .envs(vars.iter().copied())
            .output()
            .expect("candor runs")
    }

    fn path(&self, p: &str) -> String {
        self.dir.path().join(p).display().to_string()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for e in walk(dir) {
        out.push((
            e.strip_prefix(dir).unwrap().display().to_string(),
            std::fs::read(&e).unwrap(),
        ));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

macro_rules! cli_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(CliEnv::new(Db::Sqlite).await.unwrap());
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(env) = CliEnv::new(Db::Postgres).await {
                    tokio::task::spawn_blocking(move || ($body)(env)).await.unwrap();
                }
            }
        }
    };
}

cli_both!(
    export_import_export_is_byte_identical_and_reimport_changes_nothing,
    |env: CliEnv| {
        let out = env.candor(&["init"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("/admin/setup/"),
            "init prints the setup link"
        );
        let out = env.candor(&["export", &env.path("a")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = env.candor(&["import", &env.path("a")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let summary = text(&out.stdout);
        assert!(
            summary.contains(": 0 created, 0 changed,") && summary.contains("0 unpublished"),
            "{summary}"
        );
        let out = env.candor(&["export", &env.path("b")]);
        assert!(out.status.success());
        let (a, b) = (
            read_tree(Path::new(&env.path("a"))),
            read_tree(Path::new(&env.path("b"))),
        );
        assert!(a.len() > 30);
        assert_eq!(a, b);
        // The export is itself a valid content directory.
        let out = env.candor(&["check", &env.path("a")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
);

cli_both!(import_errors_name_file_and_line_and_change_nothing, |env: CliEnv| {
    assert!(env.candor(&["init"]).status.success());
    assert!(env.candor(&["export", &env.path("before")]).status.success());
    // A copy of the demo with one good change and three mistakes.
    assert!(env.candor(&["export", &env.path("bad")]).status.success());
    let bad = Path::new(&env.path("bad")).to_path_buf();
    let faq = std::fs::read_to_string(bad.join("faq.toml")).unwrap();
    std::fs::write(
        bad.join("faq.toml"),
        faq.replacen("question = \"", "question = \"CHANGED ", 1),
    )
    .unwrap();
    let certs = std::fs::read_to_string(bad.join("certifications.toml")).unwrap();
    let line = certs.lines().position(|l| l == "status = \"certified\"").unwrap() + 1;
    std::fs::write(
        bad.join("certifications.toml"),
        certs.replacen("status = \"certified\"", "status = \"certifed\"", 1),
    )
    .unwrap();
    std::fs::write(bad.join("pages/broken.md"), "+++\ntitle = \"Broken\"\n").unwrap();
    std::fs::write(
        bad.join("sections/encryption.md"),
        std::fs::read_to_string(bad.join("sections/encryption.md")).unwrap() + "\n## A control without a slug\nBody.\n",
    )
    .unwrap();
    let out = env.candor(&["import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("certifications.toml:{line}: ")) && err.contains("status: unknown variant `certifed`"),
        "{err}"
    );
    assert!(err.contains("pages/broken.md:1: has no front matter"), "{err}");
    assert!(
        err.contains("sections/encryption.md:") && err.contains("control heading has no {#slug}"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    // Nothing changed, not even the valid FAQ edit.
    assert!(env.candor(&["export", &env.path("after")]).status.success());
    assert_eq!(
        read_tree(Path::new(&env.path("before"))),
        read_tree(Path::new(&env.path("after")))
    );
});

cli_both!(import_refuses_symbolic_links_to_files_and_folders, |env: CliEnv| {
    assert!(env.candor(&["init"]).status.success());
    assert!(env.candor(&["export", &env.path("before")]).status.success());
    assert!(env.candor(&["export", &env.path("content")]).status.success());
    let content = Path::new(&env.path("content")).to_path_buf();
    // A file outside the content directory, linked in as a page.
    std::fs::write(
        env.path("outside.md"),
        "+++\ntitle = \"Not meant to be published\"\n+++\nPrivate notes.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(env.path("outside.md"), content.join("pages/leak.md")).unwrap();
    let out = env.candor(&["import", content.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "pages/leak.md: is a symbolic link (to {})",
            env.path("outside.md")
        )),
        "{err}"
    );
    std::fs::remove_file(content.join("pages/leak.md")).unwrap();
    // A whole folder replaced by a link to one elsewhere.
    std::fs::rename(content.join("policies"), env.path("elsewhere")).unwrap();
    std::os::unix::fs::symlink(env.path("elsewhere"), content.join("policies")).unwrap();
    let out = env.candor(&["import", content.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("policies: is a symbolic link (to "), "{err}");
    // Nothing was imported either time.
    assert!(env.candor(&["export", &env.path("after")]).status.success());
    assert_eq!(
        read_tree(Path::new(&env.path("before"))),
        read_tree(Path::new(&env.path("after")))
    );
});

cli_both!(import_names_file_and_line_of_hostile_text, |env: CliEnv| {
    assert!(env.candor(&["init"]).status.success());
    assert!(env.candor(&["export", &env.path("content")]).status.success());
    let content = Path::new(&env.path("content")).to_path_buf();
    // A control character (written as a TOML escape) in a FAQ question.
    let faq = std::fs::read_to_string(content.join("faq.toml")).unwrap();
    let line = faq.lines().position(|l| l.starts_with("question = \"")).unwrap() + 1;
    std::fs::write(
        content.join("faq.toml"),
        faq.replacen("question = \"", "question = \"\\u001b[2J", 1),
    )
    .unwrap();
    // Markdown nested 1,000 quotes deep.
    std::fs::write(
        content.join("pages/deep.md"),
        format!("+++\ntitle = \"Deep\"\n+++\n{} x\n", ">".repeat(1000)),
    )
    .unwrap();
    let out = env.candor(&["import", content.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("faq.toml:{line}: "))
            && err.contains("question: contains the invisible control character U+001B"),
        "{err}"
    );
    assert!(
        err.contains("pages/deep.md:")
            && err.contains("body: nests quotes, lists or emphasis more than 40 levels deep"),
        "{err}"
    );
    // A file that is not UTF-8: the line of the first bad byte.
    let mut bytes = b"+++\ntitle = \"Latin-1\"\n+++\nFirst line.\nCaf".to_vec();
    bytes.extend([0xE9, b'\n']);
    std::fs::write(content.join("pages/latin1.md"), bytes).unwrap();
    let out = env.candor(&["import", content.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("pages/latin1.md:5: is not UTF-8 text: byte 4 of line 5 (0xE9)"),
        "{err}"
    );
});

#[test]
fn bad_configuration_stops_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("candor.toml"),
        "listen = \"nowhere\"\nlog_formt = \"json\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("check")
        .current_dir(dir.path())
        .env_clear()
        .env("CANDOR_SESSION_IDLE_MINUTES", "forever")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown field `log_formt`"), "{err}");
    assert!(
        err.contains("CANDOR_SESSION_IDLE_MINUTES=\"forever\" is not a whole number"),
        "{err}"
    );
}

#[test]
fn serve_starts_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("CANDOR_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = raw_http::blocking_get(&format!("{base}/readyz")) {
            up = r == 200;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "the server became ready");
    assert!(
        dir.path().join("candor-data/candor.db").exists(),
        "the default SQLite database is in ./candor-data"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{base}/admin/setup/")), "{stdout}");
    let logs = text(&out.stderr);
    assert!(logs.lines().all(|l| l.starts_with('{')), "JSON logs: {logs}");
    assert!(logs.contains("\"startup_ms\"") && logs.contains("stopped"), "{logs}");
    assert!(!logs.contains("/admin/setup/"), "the setup token is not logged");
}

mod raw_http {
    /// A tiny blocking GET over a std TCP stream, returning the status code.
    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let mut s = std::net::TcpStream::connect(host)?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_are_copied_to_stdout_for_a_siem() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("CANDOR_AUDIT_STDOUT", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = ::reqwest::Client::builder().cookie_store(true).build().unwrap();
    let mut page = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/admin/login")).send().await {
            page = Some(r.text().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = page.expect("server up");
    let r = client
        .post(format!("{base}/admin/login"))
        .header("Origin", &base)
        .form(&[
            ("_csrf", crate::harness::csrf_of(&page).as_str()),
            ("email", "nobody@example.com"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    let entry: serde_json::Value = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .find(|e: &serde_json::Value| e["action"] == "auth.login.failed")
        .unwrap_or_else(|| panic!("no audit line on stdout: {stdout}"));
    assert_eq!(entry["target"], "user/nobody@example.com");
    assert_eq!(entry["hash"].as_str().unwrap().len(), 64);
}

/// Environment variables for one run.
type EnvVars = [(&'static str, &'static str)];

cli_both!(
    command_line_actions_are_audited_with_their_target_and_os_user,
    |env: CliEnv| {
        let out = env.candor(&["init"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let alice = [("USER", "alice")];
        let runs: [(&[&str], &EnvVars); 5] = [
            (&["user", "add", "bob@corvellan.example", "--role", "editor"], &alice),
            (
                &["user", "reset-password", "bob@corvellan.example"],
                &[("LOGNAME", "logname-user")],
            ),
            (&["user", "disable", "bob@corvellan.example"], &[]),
            (&["export", "exported"], &alice),
            (&["import", "exported"], &alice),
        ];
        for (args, vars) in runs {
            let out = env.candor_with(args, vars);
            assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        }
        let out = env.candor(&["audit", "export"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let entries: Vec<serde_json::Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let entry = |action: &str| {
            entries
                .iter()
                .find(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("no {action} entry in {entries:?}"))
                .clone()
        };
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").unwrap().uid();
        let exported = format!("directory/{}", Path::new("exported").display());
        for (action, actor, target) in [
            ("user.invite", "cli:alice".to_owned(), "user/bob@corvellan.example"),
            (
                "user.reset_link",
                "cli:logname-user".to_owned(),
                "user/bob@corvellan.example",
            ),
            ("user.disable", format!("cli:uid:{uid}"), "user/bob@corvellan.example"),
            ("content.export", "cli:alice".to_owned(), exported.as_str()),
            ("content.import", "cli:alice".to_owned(), exported.as_str()),
        ] {
            let e = entry(action);
            assert_eq!(e["actor"], actor, "{e}");
            assert_eq!(e["target"], target, "{e}");
        }
    }
);

cli_both!(
    import_and_export_print_their_audit_lines_when_audit_stdout_is_on,
    |env: CliEnv| {
        assert!(env.candor(&["init"]).status.success());
        let vars = [("CANDOR_AUDIT_STDOUT", "true"), ("USER", "carol")];
        let printed = |out: &Output, action: &str| -> serde_json::Value {
            assert!(out.status.success(), "{}", text(&out.stderr));
            let stdout = text(&out.stdout);
            stdout
                .lines()
                .filter(|l| l.starts_with('{'))
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .find(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("no {action} line on stdout: {stdout}"))
        };
        let out = env.candor_with(&["export", "exported"], &vars);
        let export = printed(&out, "content.export");
        assert_eq!(
            (export["actor"].as_str(), export["target"].as_str()),
            (Some("cli:carol"), Some("directory/exported"))
        );
        let out = env.candor_with(&["import", "exported"], &vars);
        let import = printed(&out, "content.import");
        assert_eq!(import["actor"], "cli:carol");
        assert_eq!(import["details"]["created"], 0);
        assert_eq!(import["seq"].as_i64(), export["seq"].as_i64().map(|s| s + 1));
        // Off by default: only the summary is printed.
        let out = env.candor(&["import", "exported"]);
        assert!(out.status.success());
        assert!(!text(&out.stdout).contains("content.import"), "{}", text(&out.stdout));
    }
);
