//! The values given for the keys: from `candor.toml`, then from `CANDOR_*` environment variables,
//! each read as its key's [`Kind`] says. Unknown keys and values of the wrong kind become problems
//! that name the key.

use super::keys::{self, Fallback, Kind, KEYS};
use std::collections::BTreeMap;
use std::path::Path;

/// Environment variables with the `CANDOR_` prefix that are not configuration keys.
const OTHER_ENV: [&str; 3] = ["CANDOR_CONFIG", "CANDOR_TEST_POSTGRES_URL", "CANDOR_TEST_PG"];

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Text(String),
    Flag(bool),
    Number(i64),
    List(Vec<String>),
}

/// The keys that were set. The getters take a key's value out: as set, else its
/// [`Fallback::Value`]; so a key with a declared default always has one.
#[derive(Default)]
pub(super) struct Values {
    set: BTreeMap<&'static str, Value>,
}

impl Kind {
    /// Reads the environment's text form; `Err` says what is wrong with it.
    pub(super) fn parse_env(self, text: &str) -> Result<Value, &'static str> {
        match self {
            Kind::Text => Ok(Value::Text(text.to_owned())),
            Kind::Flag => match text {
                "true" | "1" | "yes" => Ok(Value::Flag(true)),
                "false" | "0" | "no" => Ok(Value::Flag(false)),
                _ => Err(self.complaint()),
            },
            Kind::Number => text.parse().map(Value::Number).map_err(|_| self.complaint()),
            Kind::List => Ok(Value::List(
                text.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            )),
        }
    }

    fn parse_toml(self, value: &toml::Value) -> Result<Value, &'static str> {
        match (self, value) {
            (Kind::Text, toml::Value::String(s)) => Ok(Value::Text(s.clone())),
            (Kind::Flag, toml::Value::Boolean(b)) => Ok(Value::Flag(*b)),
            (Kind::Number, toml::Value::Integer(n)) => Ok(Value::Number(*n)),
            (Kind::List, toml::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .map(Value::List)
                .ok_or(self.complaint()),
            _ => Err(self.complaint()),
        }
    }

    fn complaint(self) -> &'static str {
        match self {
            Kind::Text => "is not text; write it in quotes",
            Kind::Flag => "is not true or false; set it to true or false",
            Kind::Number => "is not a whole number",
            Kind::List => "is not a list of text; write it as [\"…\", \"…\"]",
        }
    }
}

impl Values {
    /// Reads a `candor.toml` text; `path` is for the messages.
    pub(super) fn read_file(&mut self, path: &Path, text: &str, problems: &mut Vec<String>) {
        let table = match toml::from_str::<toml::Table>(text) {
            Ok(t) => t,
            Err(e) => return problems.push(format!("{}: {}", path.display(), e.message())),
        };
        for (name, value) in table {
            let Some(spec) = keys::spec(&name) else {
                problems.push(format!(
                    "{}: unknown field `{name}`{}; remove it or use one of: {}",
                    path.display(),
                    did_you_mean(&name, |k| k.name.to_owned()),
                    KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            match spec.kind.parse_toml(&value) {
                Ok(v) => {
                    self.set.insert(spec.name, v);
                }
                Err(why) => problems.push(format!("{}: {name} = {value} {why}", path.display())),
            }
        }
    }

    /// Reads the `CANDOR_*` variables in `env`; they override the file.
    pub(super) fn read_env(&mut self, env: &BTreeMap<String, String>, problems: &mut Vec<String>) {
        for (name, text) in env.iter().filter(|(k, _)| k.starts_with("CANDOR_")) {
            if OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            let Some(spec) = keys::spec_for_env(name) else {
                problems.push(format!(
                    "{name} is not a Candor setting{}; remove it or use one of: {}",
                    did_you_mean(name, |k| k.env()),
                    KEYS.iter().map(|k| k.env()).collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            match spec.kind.parse_env(text) {
                Ok(v) => {
                    self.set.insert(spec.name, v);
                }
                Err(why) => problems.push(format!("{name}={text:?} {why}")),
            }
        }
    }

    /// Whether `key` was set (in the file or the environment), whatever its default.
    pub(super) fn is_set(&self, key: &str) -> bool {
        self.set.contains_key(declared(key).name)
    }

    pub(super) fn text(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            Value::Text(s) => Some(s),
            other => wrong_kind(key, &other),
        }
    }

    pub(super) fn flag(&mut self, key: &str) -> Option<bool> {
        match self.take(key)? {
            Value::Flag(b) => Some(b),
            other => wrong_kind(key, &other),
        }
    }

    pub(super) fn number(&mut self, key: &str) -> Option<i64> {
        match self.take(key)? {
            Value::Number(n) => Some(n),
            other => wrong_kind(key, &other),
        }
    }

    pub(super) fn list(&mut self, key: &str) -> Option<Vec<String>> {
        match self.take(key)? {
            Value::List(l) => Some(l),
            other => wrong_kind(key, &other),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        let spec = declared(key);
        self.set.remove(spec.name).or_else(|| match spec.fallback {
            Fallback::Value(v) => spec.kind.parse_env(v).ok(),
            Fallback::Unset(_) | Fallback::Derived(_) => None,
        })
    }
}

/// The loader asking for a key that `KEYS` does not declare is a mistake in this crate, found by
/// the first test that loads a configuration.
fn declared(key: &str) -> &'static keys::KeySpec {
    keys::spec(key).unwrap_or_else(|| panic!("configuration key `{key}` is not declared in config::keys::KEYS"))
}

fn wrong_kind<T>(key: &str, value: &Value) -> T {
    panic!("configuration key `{key}` is read as another kind than it holds ({value:?})")
}

/// ` (did you mean `X`?)` when one known name is a typo away from `given`.
fn did_you_mean(given: &str, name: impl Fn(&keys::KeySpec) -> String) -> String {
    KEYS.iter()
        .map(name)
        .map(|k| (edits(&given.to_ascii_lowercase(), &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance: how many characters to insert, delete or change to turn `a` into `b`.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
