//! The loader's behaviour, and [`KEYS`] against the loader, `Debug` and the docs.

use super::*;

use super::keys::{Fallback, KeySpec, Secret};
use super::values::Value;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A file name of this test's own under the temporary directory.
fn temp_file(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("candor-cfg-{}-{test}", std::process::id()))
}

#[test]
fn defaults() {
    let c = Config::load(None, &env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite://./candor-data/candor.db");
    assert!(!c.secure_cookies);
}

#[test]
fn every_problem_is_named() {
    let e = Config::load(
        None,
        &env(&[
            ("CANDOR_LISTEN", "nowhere"),
            ("CANDOR_DEMO", "maybe"),
            ("CANDOR_COLOUR", "red"),
            ("CANDOR_DATABASE_URL", "mysql://x"),
        ]),
    )
    .unwrap_err();
    let all = e.0.join("\n");
    assert!(all.contains("CANDOR_DEMO=\"maybe\" is not true or false"), "{all}");
    assert!(all.contains("CANDOR_COLOUR is not a Candor setting"), "{all}");
    assert!(all.contains("listen = \"nowhere\" is not an address"), "{all}");
    assert!(all.contains("database_url = \"mysql://x\" is not supported"), "{all}");
}

/// Each key has its row in the docs' table, with its environment variable, its default and (as
/// the row's first words) its one-line description; and each row is a key.
#[test]
fn every_key_is_documented() {
    let doc = include_str!("../../../../docs/CONFIGURATION.md");
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| key | environment | default | meaning |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_start_matches("| ")
                .trim_end_matches(" |")
                .splitn(4, " | ")
                .collect()
        })
        .collect();
    assert!(rows.len() >= KEYS.len(), "the docs' table of keys was not found");
    for key in KEYS {
        let name = format!("`{}`", key.name);
        let found: Vec<_> = rows.iter().filter(|r| r[0] == name).collect();
        assert_eq!(found.len(), 1, "docs/CONFIGURATION.md should have one row for {name}");
        let [_, env_cell, default, meaning] = found[0][..] else {
            panic!("the row for {name} should have four columns")
        };
        assert_eq!(env_cell, format!("`{}`", key.env()), "environment form of {name}");
        assert_eq!(default, key.fallback.doc(), "default of {name}");
        assert!(
            meaning.starts_with(key.doc),
            "the docs' line for {name} should start with the key's doc: {:?}",
            key.doc
        );
    }
    for row in &rows {
        assert!(
            KEYS.iter().any(|k| row[0] == format!("`{}`", k.name)),
            "docs/CONFIGURATION.md documents {}, which is not a key",
            row[0]
        );
    }
}

#[test]
fn http_limits_have_defaults_and_are_checked() {
    let c = Config::load(None, &env(&[])).unwrap();
    assert_eq!(c.http, HttpLimits::default());
    let c = Config::load(
        None,
        &env(&[("CANDOR_HEADER_TIMEOUT_SECONDS", "3"), ("CANDOR_MAX_CONNECTIONS", "50")]),
    )
    .unwrap();
    assert_eq!(c.http.header_timeout, std::time::Duration::from_secs(3));
    assert_eq!(c.http.max_connections, 50);
    let e = Config::load(
        None,
        &env(&[
            ("CANDOR_MAX_CONNECTIONS", "0"),
            ("CANDOR_IDLE_TIMEOUT_SECONDS", "0"),
            ("CANDOR_SHUTDOWN_GRACE_SECONDS", "soon"),
        ]),
    )
    .unwrap_err();
    let all = e.0.join("\n");
    assert!(
        all.contains("max_connections = 0 must be between 1 and 1000000"),
        "{all}"
    );
    assert!(
        all.contains("idle_timeout_seconds = 0 must be between 1 and 3600"),
        "{all}"
    );
    assert!(
        all.contains("CANDOR_SHUTDOWN_GRACE_SECONDS=\"soon\" is not a whole number"),
        "{all}"
    );
}

#[test]
fn address_ranges() {
    let n = IpNet::parse("10.0.0.0/8").unwrap();
    assert!(n.contains("10.1.2.3".parse().unwrap()) && !n.contains("11.0.0.1".parse().unwrap()));
    assert!(IpNet::parse("127.0.0.1")
        .unwrap()
        .contains("::ffff:127.0.0.1".parse().unwrap()));
    assert!(IpNet::parse("::1").unwrap().contains("::1".parse().unwrap()));
    assert!(IpNet::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    assert!(IpNet::parse("10.0.0.0/33").is_none() && IpNet::parse("proxy").is_none());
}

#[test]
fn tls_keys_go_together() {
    let e = Config::load(None, &env(&[("CANDOR_TLS_CERT_FILE", "/x.pem")])).unwrap_err();
    assert!(e.0.join("").contains("tls_cert_file and tls_key_file go together"));
    let c = Config::load(
        None,
        &env(&[("CANDOR_TLS_CERT_FILE", "/c"), ("CANDOR_TLS_KEY_FILE", "/k")]),
    )
    .unwrap();
    assert_eq!(c.public_url, "https://127.0.0.1:8080");
    assert!(c.secure_cookies, "TLS turns on Secure cookies and HSTS");
}

#[test]
fn debug_output_masks_the_database_password() {
    let c = Config::for_tests("postgres://candor:hunter2@db/candor", Path::new("/nonexistent"));
    let shown = format!("{c:?}");
    assert!(
        shown.contains("postgres://candor:***@db/candor") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[test]
fn file_keys_are_checked() {
    let dir = temp_file("file_keys_are_checked");
    std::fs::write(&dir, "listen = \"0.0.0.0:9000\"\nlisen = \"x\"\n").unwrap();
    let e = Config::load(Some(&dir), &env(&[])).unwrap_err();
    assert!(
        e.0[0].contains("unknown field `lisen` (did you mean `listen`?)"),
        "{:?}",
        e.0
    );
    assert!(
        e.0[0].contains("use one of: listen, data_dir, database_url"),
        "{:?}",
        e.0
    );
    std::fs::write(
        &dir,
        "listen = \"0.0.0.0:9000\"\npublic_url = \"https://trust.example.com/\"\n",
    )
    .unwrap();
    let c = Config::load(Some(&dir), &env(&[])).unwrap();
    assert_eq!(c.public_url, "https://trust.example.com");
    assert!(c.secure_cookies);
    std::fs::remove_file(dir).unwrap();
}

/// Every key's example, split in two loads because `storage_dir` only applies to local storage
/// while the `s3_*` keys only apply to `storage = "s3"`.
fn example_sets() -> [Vec<&'static KeySpec>; 2] {
    let (local, rest) = KEYS.iter().partition(|k| k.name == "storage_dir");
    [rest, local]
}

fn example(key: &KeySpec) -> Value {
    key.kind
        .parse_env(key.example)
        .unwrap_or_else(|why| panic!("the example of `{}` {why}", key.name))
}

fn toml_text(keys: &[&KeySpec]) -> String {
    let mut table = toml::Table::new();
    for key in keys {
        let value = match example(key) {
            Value::Text(s) => toml::Value::String(s),
            Value::Flag(b) => toml::Value::Boolean(b),
            Value::Number(n) => toml::Value::Integer(n),
            Value::List(l) => toml::Value::Array(l.into_iter().map(toml::Value::String).collect()),
        };
        table.insert(key.name.to_owned(), value);
    }
    toml::to_string(&table).unwrap()
}

fn env_of(keys: &[&KeySpec]) -> BTreeMap<String, String> {
    keys.iter().map(|k| (k.env(), k.example.to_owned())).collect()
}

fn load_file(test: &str, text: &str) -> Result<Config, ConfigError> {
    let path = temp_file(test);
    std::fs::write(&path, text).unwrap();
    let loaded = Config::load(Some(&path), &env(&[]));
    std::fs::remove_file(path).unwrap();
    loaded
}

/// Each example is a valid value of its kind and not the default, so that seeing it in a loaded
/// configuration shows the key was read; each declared default is a valid value of its kind.
#[test]
fn keys_are_declared_once_with_usable_examples() {
    let unset = Config::load(None, &env(&[])).unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        assert!(
            KEYS[..i].iter().all(|k| k.name != key.name),
            "`{}` is declared twice",
            key.name
        );
        example(key);
        if let Fallback::Value(v) = key.fallback {
            assert!(
                key.kind.parse_env(v).is_ok(),
                "the default of `{}` is not valid",
                key.name
            );
        }
        assert_ne!(
            (key.value)(&unset).as_deref(),
            Some(key.example),
            "the example of `{}` is what an unset key gives",
            key.name
        );
    }
}

fn assert_every_example_arrived(c: &Config, keys: &[&KeySpec], how: &str) {
    for key in keys {
        assert_eq!(
            (key.value)(c).as_deref(),
            Some(key.example),
            "`{}` set {how} did not arrive in Config",
            key.name
        );
    }
}

#[test]
fn every_key_set_in_the_file_arrives() {
    for keys in example_sets() {
        let text = toml_text(&keys);
        let c = load_file("every_key_set_in_the_file_arrives", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_every_example_arrived(&c, &keys, "in the file");
    }
}

#[test]
fn every_key_set_in_the_environment_arrives() {
    for keys in example_sets() {
        let c = Config::load(Some(Path::new("/dev/null")), &env_of(&keys)).unwrap();
        assert_every_example_arrived(&c, &keys, "in the environment");
    }
}

#[test]
fn the_environment_overrides_the_file() {
    let path = temp_file("the_environment_overrides_the_file");
    std::fs::write(&path, "listen = \"0.0.0.0:9000\"\ndemo = false\n").unwrap();
    let c = Config::load(Some(&path), &env(&[("CANDOR_LISTEN", "127.0.0.1:9001")])).unwrap();
    std::fs::remove_file(path).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
    assert!(!c.demo, "a key set only in the file stays");
}

/// The defaults in `KEYS` (and so in the docs) are what the loaded configuration holds when a key
/// is not set, also where another module applies them (single sign-on, HTTP limits). Keys that
/// only matter in company (`smtp_*`, `oidc_*`, `s3_*`) are checked with that company set.
#[test]
fn declared_defaults_are_what_an_unset_key_gives() {
    let company = [
        "smtp_host",
        "mail_from",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
        "storage",
        "s3_bucket",
        "s3_access_key_id",
        "s3_secret_access_key",
    ];
    let company: Vec<&KeySpec> = company.iter().map(|n| keys::spec(n).unwrap()).collect();
    let alone = Config::load(None, &env(&[])).unwrap();
    let together = Config::load(None, &env_of(&company)).unwrap();
    for key in KEYS {
        let mut seen = vec![(key.value)(&alone)];
        if !company.iter().any(|k| k.name == key.name) {
            seen.push((key.value)(&together));
        }
        match key.fallback {
            Fallback::Value(v) => assert!(
                seen.iter().all(|s| s.is_none() || s.as_deref() == Some(v)) && seen.contains(&Some(v.to_owned())),
                "`{}` declares the default {v:?}, the loader gave {seen:?}",
                key.name
            ),
            Fallback::Unset(_) => assert!(
                seen.iter().all(Option::is_none),
                "`{}` is declared unset by default, the loader gave {seen:?}",
                key.name
            ),
            Fallback::Derived(_) => {}
        }
    }
}

/// No secret of any key marked secret appears in `Debug` output, of the configuration or of its
/// parts; every other example does appear (the output is made from `KEYS`).
#[test]
fn debug_output_shows_no_secret() {
    for keys in example_sets() {
        let c = Config::load(None, &env_of(&keys)).unwrap();
        let shown = [
            format!("{c:?}"),
            format!("{:?}", c.smtp),
            format!("{:?}", c.oidc),
            format!("{:?}", c.storage),
            format!("{:?}", c.metrics),
        ]
        .join("\n");
        for key in &keys {
            let secret = match key.secret {
                Secret::No => {
                    assert!(shown.contains(key.example), "`{}` is not in {shown}", key.name);
                    continue;
                }
                Secret::Yes => key.example.to_owned(),
                Secret::InUrl => url::Url::parse(key.example).unwrap().password().unwrap().to_owned(),
            };
            assert!(!shown.contains(&secret), "the secret of `{}` is in {shown}", key.name);
            assert!(
                (key.value)(&c).is_some_and(|v| v.contains(&secret)),
                "`{}` did not arrive, so its masking was not tested",
                key.name
            );
        }
    }
    let marked: Vec<&str> = KEYS.iter().filter(|k| k.secret != Secret::No).map(|k| k.name).collect();
    assert_eq!(
        marked,
        [
            "database_url",
            "metrics_token",
            "smtp_password",
            "oidc_client_secret",
            "s3_secret_access_key",
            "master_key"
        ]
    );
}

#[test]
fn values_of_the_wrong_kind_in_the_file_are_named() {
    let e = load_file(
        "values_of_the_wrong_kind_in_the_file_are_named",
        "demo = \"maybe\"\nmax_connections = \"many\"\ntrusted_proxies = \"10.0.0.1\"\nlisten = 8080\nlog_formt = \"json\"\n",
    )
    .unwrap_err();
    let all = e.0.join("\n");
    assert!(all.contains("demo = \"maybe\" is not true or false"), "{all}");
    assert!(
        all.contains("max_connections = \"many\" is not a whole number"),
        "{all}"
    );
    assert!(
        all.contains("trusted_proxies = \"10.0.0.1\" is not a list of text"),
        "{all}"
    );
    assert!(all.contains("listen = 8080 is not text; write it in quotes"), "{all}");
    assert!(
        all.contains("unknown field `log_formt` (did you mean `log_format`?)"),
        "{all}"
    );
    assert_eq!(e.0.len(), 5, "every problem in the file is reported: {all}");
}

#[test]
fn an_unknown_variable_gets_a_suggestion() {
    let e = Config::load(None, &env(&[("CANDOR_SMTP_PASWORD", "x")])).unwrap_err();
    assert!(
        e.0[0].starts_with(
            "CANDOR_SMTP_PASWORD is not a Candor setting (did you mean `CANDOR_SMTP_PASSWORD`?); remove it or use one of: CANDOR_LISTEN, "
        ),
        "{:?}",
        e.0
    );
}

#[test]
fn monitor_settings_have_defaults_and_are_checked() {
    let c = Config::load(None, &env(&[])).unwrap();
    assert_eq!(c.monitors, super::MonitorSettings::default());
    let e = Config::load(
        None,
        &env(&[
            ("CANDOR_STATUS_RESULTS_RETENTION_DAYS", "0"),
            ("CANDOR_STATUS_MONITOR_CONCURRENCY", "0"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("status_results_retention_days = 0 must be between 1 and 366"),
        "{e}"
    );
    assert!(
        e.contains("status_monitor_concurrency = 0 must be between 1 and 4096"),
        "{e}"
    );
}
