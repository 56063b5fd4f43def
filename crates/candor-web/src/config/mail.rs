//! The outgoing-mail keys (`smtp_*`, `mail_from`).

use super::FileConfig;

/// The mail settings, when `smtp_host` is set; each problem names its key.
pub(super) fn smtp_settings(fc: &mut FileConfig, problems: &mut Vec<String>) -> Option<candor_notify::SmtpSettings> {
    let Some(host) = fc.smtp_host.take().filter(|h| !h.trim().is_empty()) else {
        for (key, set) in [
            ("smtp_port", fc.smtp_port.is_some()),
            ("smtp_username", fc.smtp_username.is_some()),
            ("smtp_password", fc.smtp_password.is_some()),
            ("mail_from", fc.mail_from.is_some()),
        ] {
            if set {
                problems.push(format!("{key} is set but smtp_host is not; set smtp_host to send mail"));
            }
        }
        return None;
    };
    let tls_text = fc.smtp_tls.take().unwrap_or_else(|| "opportunistic".into());
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
    let port = match fc.smtp_port.unwrap_or(default_port) {
        p @ 1..=65535 => p as u16,
        p => {
            problems.push(format!("smtp_port = {p} is not a port; use 1 to 65535 (usually 587)"));
            587
        }
    };
    let (username, password) = (fc.smtp_username.take(), fc.smtp_password.take());
    if username.is_some() != password.is_some() {
        problems.push(
            "smtp_username and smtp_password go together: set both, or neither for a relay without sign-in".into(),
        );
    }
    let Some(from) = fc.mail_from.take() else {
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
