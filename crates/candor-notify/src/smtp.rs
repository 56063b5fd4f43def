//! SMTP delivery with lettre.

use candor_store::OutboxEmail;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartTls {
    /// Upgrade with STARTTLS when the server offers it, otherwise send in the clear.
    Opportunistic,
    /// Refuse to send unless the STARTTLS upgrade succeeds (no downgrade).
    Required,
    /// TLS from the first byte (SMTPS, usually port 465).
    Implicit,
    /// Plain text: only for a relay on the same host or a test server.
    Off,
}

impl StartTls {
    pub fn parse(s: &str) -> Option<StartTls> {
        Some(match s {
            "opportunistic" => StartTls::Opportunistic,
            "required" => StartTls::Required,
            "implicit" => StartTls::Implicit,
            "off" => StartTls::Off,
            _ => return None,
        })
    }
}

/// Where and how to send mail.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: StartTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, `Name <address>` or a bare address.
    pub from: String,
    pub timeout: Duration,
}

/// The password never reaches logs.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: the server is down, busy, or said 4xx.
    #[error("temporary: {0}")]
    Temporary(String),
    /// Trying again cannot help: a 5xx reply, or an address that cannot exist.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A configured SMTP client.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the settings and builds the client; connects only when sending.
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, String> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            format!(
                "mail_from {:?} is not an address ({e}); write e.g. Trust Center <trust@example.com>",
                settings.from
            )
        })?;
        let params = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| format!("smtp_host {:?}: cannot set up TLS ({e})", settings.host))
        };
        let tls = match settings.tls {
            StartTls::Opportunistic => Tls::Opportunistic(params()?),
            StartTls::Required => Tls::Required(params()?),
            StartTls::Implicit => Tls::Wrapper(params()?),
            StartTls::Off => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let (Some(user), Some(pass)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one queued message.
    pub async fn send(&self, email: &OutboxEmail) -> Result<(), SendError> {
        let to: Mailbox = email
            .recipient
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient is not an address: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone());
        for (name, value) in &email.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|e| SendError::Permanent(format!("header {name:?} cannot be sent: {e}")))?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(email.body_text.clone());
        let message = match &email.body_html {
            Some(html) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone())),
            ),
            None => builder.singlepart(text),
        }
        .map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}
