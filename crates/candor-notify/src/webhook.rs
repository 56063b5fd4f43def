//! Webhooks: signing per the Standard Webhooks specification, a sender that calls only the
//! addresses it checked, and the worker that delivers the webhook outbox.
//!
//! Signature: `webhook-signature: v1,BASE64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))`,
//! where the key is the base64 text after the secret's `whsec_` prefix, decoded. Receivers
//! verify with any Standard Webhooks library (the tests use the PyPI package).
//!
//! Delivery: a 2xx answer delivers; 410 Gone disables the endpoint at once; anything else (an
//! error status, no answer, a refused address) is retried with growing waits, and after
//! [`WebhookPolicy::max_attempts`] the delivery is given up and its endpoint disabled. What
//! disabling means beyond the database (the audit entry, the mail to the owners) is the host's
//! ([`WebhookHost`]), which lives in the use-case layer.

use crate::RetryPolicy;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use candor_store::{AttemptOutcome, DueDelivery, Store, StoreResult, WebhookAttempt};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the operating system's random source works");
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value for one message: `v1,` and the base64 HMAC-SHA256 of
/// `id.timestamp.body` under the secret's key. `Err` when the secret is not `whsec_` base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| "the webhook secret is not base64 after whsec_".to_owned())?;
    if key.is_empty() {
        return Err("the webhook secret is empty".into());
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

/// How webhooks are sent and how patiently.
#[derive(Clone, Copy, Debug)]
pub struct WebhookPolicy {
    /// Waits between attempts, and how often the worker looks for due deliveries.
    pub retry: RetryPolicy,
    /// Attempts before a delivery is given up and its endpoint disabled.
    pub max_attempts: i64,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
    /// Whether receivers on loopback, private and link-local addresses are allowed.
    pub allow_private: bool,
}

impl Default for WebhookPolicy {
    /// A minute, doubling up to four hours: fourteen attempts span about a day.
    fn default() -> Self {
        WebhookPolicy {
            retry: RetryPolicy {
                first_retry: Duration::from_secs(60),
                max_retry: Duration::from_secs(4 * 3600),
                poll: Duration::from_secs(5),
            },
            max_attempts: 14,
            timeout: Duration::from_secs(10),
            allow_private: false,
        }
    }
}

/// Why a URL is not a usable receiver: the scheme, a missing host, credentials in it, or (for an
/// address written as such) an address Candor does not call. Names are checked when sending.
pub fn url_problem(url: &str, allow_private: bool) -> Option<String> {
    let parsed = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            return Some(format!(
                "not a URL ({e}); write it like https://hooks.example.com/candor"
            ))
        }
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("use an http:// or https:// URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("leave credentials out of the URL; the signature authenticates Candor".into());
    }
    match parsed.host() {
        None => Some("the URL has no host".into()),
        Some(url::Host::Ipv4(ip)) => refused(IpAddr::V4(ip), allow_private),
        Some(url::Host::Ipv6(ip)) => refused(IpAddr::V6(ip), allow_private),
        Some(url::Host::Domain(_)) => None,
    }
}

fn refused(ip: IpAddr, allow_private: bool) -> Option<String> {
    candor_core::outbound::refusal(ip, allow_private).map(|why| format!("{ip} is {why}; Candor does not send there"))
}

/// Posts signed webhooks over HTTP(S): resolves the receiver's name itself, refuses addresses
/// that [`candor_core::outbound::refusal`] refuses, connects only to the addresses it checked,
/// follows no redirect and ignores proxy settings (a proxy would connect elsewhere).
#[derive(Clone, Debug)]
pub struct WebhookSender {
    allow_private: bool,
    timeout: Duration,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostResult {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer: the address was refused, the name did not resolve, the connection failed or
    /// timed out.
    NoAnswer(String),
}

impl WebhookSender {
    pub fn new(policy: &WebhookPolicy) -> WebhookSender {
        WebhookSender {
            allow_private: policy.allow_private,
            timeout: policy.timeout,
        }
    }

    /// Sends `body` as JSON with `headers` to `url`.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> PostResult {
        match tokio::time::timeout(self.timeout, self.try_post(url, headers, body)).await {
            Ok(Ok(status)) => PostResult::Answered(status),
            Ok(Err(why)) => PostResult::NoAnswer(why),
            Err(_) => PostResult::NoAnswer(format!("no answer within {} s", self.timeout.as_secs())),
        }
    }

    async fn try_post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
        if let Some(problem) = url_problem(url, self.allow_private) {
            return Err(problem);
        }
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .user_agent(concat!("Candor-Webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(name)) = parsed.host() {
            let addrs = self.checked_addresses(name, port).await?;
            builder = builder.resolve_to_addrs(name, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let mut request = client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }

    /// The addresses `name` resolves to that Candor may call; an error naming the refusal when
    /// there are none.
    async fn checked_addresses(&self, name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("cannot resolve {name}: {e}"))?
            .collect();
        let mut first_refusal = None;
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|a| match refused(a.ip(), self.allow_private) {
                Some(why) => {
                    first_refusal.get_or_insert(why);
                    false
                }
                None => true,
            })
            .collect();
        if allowed.is_empty() {
            return Err(match first_refusal {
                Some(why) => format!("refused: {name} resolves to {why}"),
                None => format!("{name} resolves to no address"),
            });
        }
        Ok(allowed)
    }
}

/// An error without the URL (which may hold a token of the receiver's).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

/// What the worker needs from the layer above: the endpoints' secrets (sealed under the master
/// key) and what disabling an endpoint means (an audit entry, mail to the owners).
pub trait WebhookHost: Sync {
    /// The endpoint's signing secret, opened.
    fn secret(&self, delivery: &DueDelivery) -> Result<String, String>;
    /// Stops deliveries to the endpoint until a person enables it again, and says so.
    fn disable(&self, org: i64, endpoint: i64, reason: String) -> impl Future<Output = Result<(), String>> + Send;
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookRound {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Endpoints disabled in this round.
    pub disabled: usize,
}

const LEASE_SECS: i64 = 120;
const BATCH: i64 = 20;

/// Delivers every due delivery of an enabled endpoint.
pub async fn deliver_due(
    store: &Store,
    sender: &WebhookSender,
    policy: &WebhookPolicy,
    host: &impl WebhookHost,
) -> StoreResult<WebhookRound> {
    let mut round = WebhookRound::default();
    // Endpoints disabled in this round: their other claimed deliveries wait for re-enabling.
    let mut gone: Vec<i64> = vec![];
    loop {
        let batch = store.claim_due_webhooks(BATCH, LEASE_SECS).await?;
        if batch.is_empty() {
            return Ok(round);
        }
        for delivery in batch {
            if gone.contains(&delivery.endpoint_id) {
                continue;
            }
            let (attempt, status) = attempt(sender, host, &delivery).await;
            let attempts = delivery.attempts + 1;
            let (outcome, disable) = match status {
                Some(s) if (200..300).contains(&s) => (AttemptOutcome::Delivered, None),
                Some(410) => (
                    AttemptOutcome::GaveUp,
                    Some("the receiver answered 410 Gone: it no longer takes these events".to_owned()),
                ),
                _ if attempts >= policy.max_attempts => {
                    let hours = (candor_store::now() - delivery.created_at) / 3600;
                    let last = attempt.error.clone().unwrap_or_default();
                    (
                        AttemptOutcome::GaveUp,
                        Some(format!(
                            "{attempts} attempts over {hours} hours failed; the last: {last}"
                        )),
                    )
                }
                _ => {
                    let wait = policy.retry.delay_after(attempts);
                    (
                        AttemptOutcome::RetryAt(candor_store::now() + wait.as_secs().max(1) as i64),
                        None,
                    )
                }
            };
            // The endpoint is disabled before the attempt is recorded, so whoever sees the
            // delivery given up also sees its endpoint disabled.
            if let Some(reason) = disable {
                tracing::error!(webhook.endpoint = delivery.endpoint_id, reason = %reason, "disabling webhook endpoint");
                gone.push(delivery.endpoint_id);
                match host.disable(delivery.org_id, delivery.endpoint_id, reason).await {
                    Ok(()) => round.disabled += 1,
                    Err(e) => {
                        tracing::error!(webhook.endpoint = delivery.endpoint_id, error = %e, "could not disable the webhook endpoint")
                    }
                }
            }
            store.record_webhook_attempt(&delivery, &attempt, outcome).await?;
            match outcome {
                AttemptOutcome::Delivered => {
                    tracing::info!(webhook.delivery = delivery.id, webhook.endpoint = delivery.endpoint_id, webhook.event = %delivery.event_type, "webhook delivered");
                    round.delivered += 1;
                }
                AttemptOutcome::RetryAt(at) => {
                    tracing::warn!(
                        webhook.delivery = delivery.id,
                        webhook.endpoint = delivery.endpoint_id,
                        retry_in_s = at - candor_store::now(),
                        error = attempt.error.as_deref().unwrap_or(""),
                        "webhook not delivered; will retry"
                    );
                    round.retrying += 1;
                }
                AttemptOutcome::GaveUp => round.failed += 1,
            }
        }
    }
}

/// One attempt: signs with a fresh timestamp and posts. Returns the log entry and the status.
async fn attempt(sender: &WebhookSender, host: &impl WebhookHost, d: &DueDelivery) -> (WebhookAttempt, Option<u16>) {
    let started = Instant::now();
    let at = candor_store::now();
    let result = match host
        .secret(d)
        .and_then(|secret| sign(&secret, &d.message_id, at, &d.payload))
    {
        Ok(signature) => {
            let headers = [
                ("webhook-id", d.message_id.clone()),
                ("webhook-timestamp", at.to_string()),
                ("webhook-signature", signature),
            ];
            sender.post(&d.url, &headers, &d.payload).await
        }
        Err(why) => PostResult::NoAnswer(format!("cannot sign: {why}")),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    let (status, error) = match result {
        PostResult::Answered(s) if (200..300).contains(&s) => (Some(s), None),
        PostResult::Answered(s) => (Some(s), Some(format!("the receiver answered {s}"))),
        PostResult::NoAnswer(why) => (None, Some(why)),
    };
    let log = WebhookAttempt {
        at,
        status: status.map(i64::from),
        error,
        duration_ms,
    };
    (log, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_like_the_specification() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(sign("whsec_not base64!", "m", 1, "b").is_err());
    }

    #[test]
    fn new_secrets_are_prefixed_base64_of_32_bytes() {
        let s = new_secret();
        let raw = STANDARD.decode(s.strip_prefix(SECRET_PREFIX).unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(new_secret(), s);
    }

    #[test]
    fn urls_are_checked() {
        assert!(url_problem("https://hooks.example.com/x", false).is_none());
        assert!(url_problem("ftp://hooks.example.com/x", false).is_some());
        assert!(url_problem("https://u:p@hooks.example.com/x", false).is_some());
        assert!(url_problem("http://127.0.0.1:9/x", false).unwrap().contains("loopback"));
        assert!(url_problem("http://127.0.0.1:9/x", true).is_none());
        assert!(url_problem("http://[::1]/x", false).is_some());
        assert!(url_problem("http://10.0.0.8/x", false).is_some());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_without_connecting() {
        let sender = WebhookSender::new(&WebhookPolicy::default());
        match sender.post("http://localhost:9/hook", &[], "{}").await {
            PostResult::NoAnswer(why) => assert!(why.starts_with("refused"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
