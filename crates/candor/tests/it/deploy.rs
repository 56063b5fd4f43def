//! The deployment examples in deploy/ are checked by the tools that will read them: the alert
//! rules by promtool (syntax and unit tests), the systemd unit by systemd-analyze (and its
//! sandboxing by its exposure score), the nginx and Caddy examples by nginx -t and caddy. A tool
//! that is not installed skips its test outside CI (`.ci/run` installs them all).

use crate::metrics::tool;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn alert_rules_load_and_fire_when_they_should() {
    let Some(promtool) = tool("promtool", "prometheus") else {
        return;
    };
    let dir = deploy().join("prometheus");
    let out = Command::new(&promtool)
        .args(["check", "rules", "candor-alerts.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "promtool check rules:\n{}", said(&out));
    assert!(said(&out).contains("SUCCESS"), "{}", said(&out));
    // Each alert the unit tests expect must fire at the stated time and not before.
    let out = Command::new(&promtool)
        .args(["test", "rules", "candor-alerts.test.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "promtool test rules:\n{}", said(&out));
}

#[test]
fn every_metric_an_alert_reads_is_one_candor_exports() {
    let rules = std::fs::read_to_string(deploy().join("prometheus/candor-alerts.yml")).unwrap();
    let exported = include_str!("../../../candor-web/src/ops/mod.rs").to_owned()
        + include_str!("../../../candor-web/src/http/metrics.rs");
    let mut read = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if let Some(name) = word.strip_prefix("candor_") {
            let family = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            let pieces = family.split('_').collect::<Vec<_>>();
            // Queue families are named with the queue in between (`candor_{queue}_pending`).
            let generic = format!("candor_{{queue}}_{}", pieces[1..].join("_"));
            assert!(
                exported.contains(&format!("\"candor_{family}\"")) || exported.contains(&generic),
                "candor-alerts.yml reads candor_{name}, which /metrics does not export"
            );
            read += 1;
        }
    }
    assert!(read >= 10, "the rules read Candor's metrics");
}

#[test]
fn systemd_unit_verifies_and_stays_sandboxed() {
    let Some(analyze) = tool("systemd-analyze", "systemd") else {
        return;
    };
    let unit = std::fs::read_to_string(deploy().join("systemd/candor.service")).unwrap();
    // `verify` checks that ExecStart's program exists: point it at the binary just built.
    assert!(unit.contains("ExecStart=/usr/local/bin/candor "));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("candor.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/candor", env!("CARGO_BIN_EXE_candor")),
    )
    .unwrap();
    let out = Command::new(&analyze).arg("verify").arg(&path).output().unwrap();
    assert!(
        out.status.success() && said(&out).trim().is_empty(),
        "systemd-analyze verify:\n{}",
        said(&out)
    );
    // systemd's exposure score of the sandboxing (0 = locked down, 10 = none): at most 2.0.
    let out = Command::new(&analyze)
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "systemd-analyze security:\n{}", said(&out));
}

#[test]
fn nginx_example_passes_nginx_t() {
    let Some(nginx) = tool("nginx", "nginx") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    // A throw-away certificate where the example expects Let's Encrypt's, and logs in the
    // temporary directory; everything else is the example as shipped.
    let cert = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=trust.example.com",
        ])
        .arg("-keyout")
        .arg(dir.path().join("privkey.pem"))
        .arg("-out")
        .arg(dir.path().join("fullchain.pem"))
        .output()
        .unwrap();
    assert!(cert.status.success(), "openssl:\n{}", said(&cert));
    let site = std::fs::read_to_string(deploy().join("nginx/candor.conf"))
        .unwrap()
        .replace("/etc/letsencrypt/live/trust.example.com", &d)
        .replace("/var/log/nginx", &d);
    std::fs::write(dir.path().join("candor.conf"), site).unwrap();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n    include {d}/candor.conf;\n}}\n"
        ),
    )
    .unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-p")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && said(&out).contains("test is successful"),
        "nginx -t:\n{}",
        said(&out)
    );
}

#[test]
fn caddy_example_validates() {
    let Some(caddy) = tool("caddy", "caddy") else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Caddyfile");
    let text = std::fs::read_to_string(deploy().join("caddy/Caddyfile"))
        .unwrap()
        .replace("/var/log/caddy", &dir.path().display().to_string());
    std::fs::write(&file, text).unwrap();
    let out = Command::new(caddy)
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && said(&out).contains("Valid configuration"),
        "caddy validate:\n{}",
        said(&out)
    );
}
