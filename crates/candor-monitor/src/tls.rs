//! TLS for checks: whom they trust (the Mozilla roots and any extra root from the
//! configuration), the minimum protocol version, the handshake's failures in words, and the
//! certificate's expiry.

use candor_core::status::monitor::TlsVersion;
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, Error as TlsError, PeerIncompatible, RootCertStore};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Why the checks' TLS settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the extra root certificate file holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    #[error("the extra root certificate is not usable: {0}")]
    BadCertificate(String),
    #[error("TLS settings: {0}")]
    Tls(String),
}

/// One client configuration per minimum version, with and without HTTP's ALPN.
pub(crate) struct Configs {
    /// Indexed by [`index`].
    all: [Arc<ClientConfig>; 4],
}

fn index(min: TlsVersion, http: bool) -> usize {
    (min as usize) * 2 + usize::from(http)
}

impl Configs {
    pub(crate) fn new(extra_roots_pem: Option<&[u8]>) -> Result<Configs, GuardError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_roots_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| GuardError::BadCertificate(e.to_string()))?;
                roots.add(cert).map_err(|e| GuardError::BadCertificate(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(GuardError::NoCertificate);
            }
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let make = |min: TlsVersion, http: bool| -> Result<Arc<ClientConfig>, GuardError> {
            let versions: &[&'static rustls::SupportedProtocolVersion] = match min {
                TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
                TlsVersion::V1_3 => &[&rustls::version::TLS13],
            };
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions)
                .map_err(|e| GuardError::Tls(e.to_string()))?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            // Every check does a full handshake, so it sees (and verifies) the certificate the
            // server presents now, not the one of a resumed session.
            config.resumption = Resumption::disabled();
            if http {
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
            }
            Ok(Arc::new(config))
        };
        Ok(Configs {
            all: [
                make(TlsVersion::V1_2, false)?,
                make(TlsVersion::V1_2, true)?,
                make(TlsVersion::V1_3, false)?,
                make(TlsVersion::V1_3, true)?,
            ],
        })
    }

    /// A verified TLS session with `host` (a name or an address) over `tcp`, at `min` or newer.
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        host: &str,
        min: TlsVersion,
        http: bool,
    ) -> Result<TlsStream<TcpStream>, String> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| format!("{host} is not a name TLS can check"))?;
        let connector = TlsConnector::from(self.all[index(min, http)].clone());
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| handshake_error(&e, host, min))
    }
}

/// A failed handshake in words.
fn handshake_error(e: &std::io::Error, host: &str, min: TlsVersion) -> String {
    let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>()) else {
        return format!("TLS handshake failed: {}", crate::connect::plain_io_error(e));
    };
    let too_old = || format!("the server does not speak {} or later", crate::tls_name(min));
    match tls {
        TlsError::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "certificate has expired".into(),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate is not valid yet".into()
            }
            CertificateError::UnknownIssuer => {
                "certificate is not trusted: unknown issuer (for an internal CA, set status_monitor_extra_root)".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("certificate is not valid for {host}")
            }
            CertificateError::Revoked => "certificate is revoked".into(),
            other => format!("certificate is not valid: {other:?}"),
        },
        TlsError::AlertReceived(AlertDescription::ProtocolVersion) => too_old(),
        TlsError::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => too_old(),
        other => format!("TLS handshake failed: {other}"),
    }
}

/// A note when the server's certificate expires within `warn_days`.
pub(crate) fn expiry_note(stream: &TlsStream<TcpStream>, warn_days: Option<u32>) -> Option<String> {
    let warn_days = i64::from(warn_days?);
    let cert = stream.get_ref().1.peer_certificates()?.first()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let not_after = parsed.validity().not_after.timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = (not_after - now).div_euclid(86_400);
    (days < warn_days).then(|| match days {
        0 => "certificate expires within a day".to_owned(),
        1 => "certificate expires in 1 day".to_owned(),
        d => format!("certificate expires in {d} days"),
    })
}
