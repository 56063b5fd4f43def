//! The outgoing-mail keys (`smtp_*`, `mail_from`).

use super::values::Values;

/// The mail settings, when `smtp_host` is set; each problem names its key.
pub(super) fn smtp_settings(v: &mut Values, problems: &mut Vec<String>) -> Option<candor_notify::SmtpSettings> {
    let Some(host) = v.text("smtp_host").filter(|h| !h.trim().is_empty()) else {
        for key in ["smtp_port", "smtp_username", "smtp_password", "mail_from"] {
            if v.is_set(key) {
                problems.push(format!("{key} is set but smtp_host is not; set smtp_host to send mail"));
            }
        }
        return None;
    };
    let tls_text = v.text("smtp_tls").unwrap_or_default();
    let tls = candor_notify::StartTls::parse(&tls_text).unwrap_or_else(|| {
        problems.push(format!(
            "smtp_tls = {tls_text:?} is not known; use opportunistic, required, implicit or off"
        ));
        candor_notify::StartTls::Required
    });
    let default_port = if tls == candor_notify::StartTls::Implicit {
        465
    } else {
        587
    };
    let port = match v.number("smtp_port").unwrap_or(default_port) {
        p @ 1..=65535 => p as u16,
        p => {
            problems.push(format!("smtp_port = {p} is not a port; use 1 to 65535 (usually 587)"));
            587
        }
    };
    let (username, password) = (v.text("smtp_username"), v.text("smtp_password"));
    if username.is_some() != password.is_some() {
        problems.push(
            "smtp_username and smtp_password go together: set both, or neither for a relay without sign-in".into(),
        );
    }
    let Some(from) = v.text("mail_from") else {
        problems.push(
            "mail_from is not set; with smtp_host, set the sender, e.g. Corvellan Trust <trust@corvellan.example>"
                .into(),
        );
        return None;
    };
    let settings = candor_notify::SmtpSettings {
        host,
        port,
        tls,
        username,
        password,
        from,
        timeout: std::time::Duration::from_secs(30),
    };
    if let Err(why) = candor_notify::Mailer::new(&settings) {
        problems.push(why);
    }
    Some(settings)
}

/// `smtp_tls`'s value for `tls`.
pub(super) fn tls_name(tls: candor_notify::StartTls) -> &'static str {
    match tls {
        candor_notify::StartTls::Opportunistic => "opportunistic",
        candor_notify::StartTls::Required => "required",
        candor_notify::StartTls::Implicit => "implicit",
        candor_notify::StartTls::Off => "off",
    }
}
