//! The password policy for back-office accounts.

use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 1024;

static COMMON: &str = include_str!("../data/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().collect())
}

/// Checks a new password; the error says what to change.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "use at least {MIN_LEN} characters (a passphrase of several words works well)"
        ));
    }
    if password.len() > MAX_LEN {
        return Err(format!("use at most {MAX_LEN} characters"));
    }
    let lower = password.to_lowercase();
    if common().contains(lower.as_str()) {
        return Err(
            "this password is on a list of commonly used passwords that attackers try first; choose another".into(),
        );
    }
    let first = lower.chars().next().unwrap_or_default();
    if lower.chars().all(|c| c == first) {
        return Err("a single repeated character is too easy to guess; choose another".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_common_passwords() {
        assert!(check_new_password("short").unwrap_err().contains("at least 12"));
        assert!(check_new_password("qwerty123456")
            .unwrap_err()
            .contains("commonly used"));
        assert!(
            check_new_password("QWERTY123456")
                .unwrap_err()
                .contains("commonly used"),
            "case-insensitive"
        );
        assert!(check_new_password("aaaaaaaaaaaaaaaa").is_err());
        assert!(check_new_password("correct horse battery staple").is_ok());
        assert!(common().len() > 45_000);
    }
}
