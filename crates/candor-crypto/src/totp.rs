//! Time-based one-time passwords (RFC 6238) for the second sign-in factor, using totp-rs, and
//! the enrolment QR code as SVG rendered on the server.

use totp_rs::{Algorithm, Secret as TotpSecret, TOTP};

/// Seconds per code.
pub const STEP: u64 = 30;

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = TotpSecret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    // One step of skew each way: a code from the previous or next 30 s is accepted.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// A new random 160-bit secret, base32-encoded (what authenticator apps expect).
pub fn new_secret() -> String {
    TotpSecret::generate_secret().to_encoded().to_string()
}

/// The `otpauth://` URL an authenticator app scans.
pub fn otpauth_url(secret_b32: &str, issuer: &str, account: &str) -> Option<String> {
    Some(totp(secret_b32, issuer, account)?.get_url())
}

/// Checks a code at `now` (Unix seconds). Accepts the current step and one step either side, but
/// only a step later than `last_used_step`, so a code cannot be replayed. Returns the step used.
pub fn verify(secret_b32: &str, code: &str, now: u64, last_used_step: Option<u64>) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "Candor", "check")?;
    let current = now / STEP;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|last| *step > last))
        .find(|step| crate::same_secret(&t.generate(step * STEP), &code))
}

/// The code for `secret_b32` at Unix time `at` (what an authenticator app would show).
pub fn code_at(secret_b32: &str, at: u64) -> Option<String> {
    Some(totp(secret_b32, "Candor", "code")?.generate(at))
}

/// The QR code of `text` as an SVG document (no scripts, no external references).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890",
    /// eight digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890".to_vec();
        let t = TOTP::new_unchecked(Algorithm::SHA1, 8, 0, 30, secret, None, String::new());
        for (time, expected) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(t.generate(time), expected, "T = {time}");
        }
    }

    #[test]
    fn codes_verify_once_within_the_window() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let t = totp(&secret, "Candor", "a").unwrap();
        let code = t.generate(now);
        let step = verify(&secret, &code, now, None).expect("current code accepted");
        assert_eq!(step, now / STEP);
        assert_eq!(verify(&secret, &code, now, Some(step)), None, "a used code is refused");
        assert_eq!(
            verify(&secret, &code, now + 10 * STEP, None),
            None,
            "an old code is refused"
        );
        let prev = t.generate(now - STEP);
        assert!(
            verify(&secret, &prev, now, None).is_some(),
            "one step of clock skew is tolerated"
        );
        assert_eq!(verify(&secret, "12345", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
    }

    #[test]
    fn qr_is_an_svg() {
        let url = otpauth_url(&new_secret(), "Candor", "owner@example.com").unwrap();
        assert!(url.starts_with("otpauth://totp/Candor:owner%40example.com?secret="));
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
