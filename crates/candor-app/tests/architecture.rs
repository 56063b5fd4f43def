//! The layering rules of docs/ARCHITECTURE.md, checked on the source:
//!
//! - candor-app (the use cases) knows nothing of HTTP or HTML: no axum, askama, hyper or tower.
//! - Feature modules of candor-web never import one another; what two share lives in the HTTP
//!   kit (`http/`) or below, in candor-app and candor-core. The kit imports no feature.
//! - Front ends (candor-web, the CLI) never write through the store: transactions (`begin`, `Tx`)
//!   belong to use cases.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file below `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// Code lines only: comments are dropped, so a doc comment may name another module.
fn code(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l.split("//").next().unwrap_or("")))
}

/// The feature modules of candor-web: each directory or file directly under `src/` that is not
/// the kit or a composition root.
const FEATURES: &[&str] = &[
    "site",
    "content",
    "documents",
    "identity",
    "tokens",
    "audit",
    "outbox",
    "status",
    "monitors",
    "subscriptions",
    "ops",
    "engagement",
    "onboarding",
];

#[test]
fn the_use_cases_do_not_depend_on_the_web() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    for web in ["axum", "askama", "hyper", "tower", "candor-web"] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(web)),
            "candor-app depends on {web}: use cases must not know HTTP or HTML"
        );
    }
    for (path, text) in sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        for (n, line) in code(&text) {
            for web in ["axum::", "askama::", "candor_web::"] {
                assert!(!line.contains(web), "{}:{n} uses {web}", path.display());
            }
        }
    }
}

#[test]
fn features_do_not_import_one_another_and_the_kit_imports_none() {
    let src = root().join("crates/candor-web/src");
    let mut problems = vec![];
    for (path, text) in sources(&src) {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        let is_feature = FEATURES.contains(&module.as_str());
        let is_kit = module == "http";
        if !is_feature && !is_kit {
            continue;
        }
        for (n, line) in code(&text) {
            for other in FEATURES.iter().filter(|f| **f != module) {
                if line.contains(&format!("crate::{other}::")) || line.contains(&format!("crate::{other}}}")) {
                    problems.push(format!("{}:{n}: {module} imports the {other} feature", rel.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn front_ends_do_not_write_through_the_store() {
    let mut problems = vec![];
    for dir in ["crates/candor-web/src", "crates/candor/src"] {
        for (path, text) in sources(&root().join(dir)) {
            for (n, line) in code(&text) {
                for forbidden in [
                    ".begin()",
                    "candor_store::Tx",
                    "Tx::",
                    "append_audit(",
                    "enqueue_email(",
                ] {
                    if line.contains(forbidden) {
                        problems.push(format!("{}:{n}: `{forbidden}` in a front end", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "writes belong in candor-app's use cases:\n{}",
        problems.join("\n")
    );
}
