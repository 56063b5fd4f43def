//! Serving HTTPS directly with rustls: TLS 1.2 and 1.3 only, AEAD cipher suites only (rustls
//! offers nothing else), and an optional plain-HTTP listener that only redirects to HTTPS.

use crate::AppState;
use axum::response::{IntoResponse, Redirect};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

/// Loads a certificate chain and private key (PEM) into a server configuration.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use anyhow::Context;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "{} holds no certificate; it must start with -----BEGIN CERTIFICATE-----",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a PEM private key from {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and private key do not belong together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the application over TLS until `shutdown`; requests in flight then get the configured
/// grace period. Slow clients are bounded as on plain HTTP, and a TLS handshake gets the header
/// timeout.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    crate::serve_with_tls(listener, state, Some(acceptor), shutdown).await
}

/// A plain-HTTP listener whose only answer is a permanent redirect to the same path over HTTPS.
/// It has the same protections against slow clients as the application's listener.
pub async fn serve_redirect(
    listener: tokio::net::TcpListener,
    public_url: String,
    limits: crate::config::HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let target = format!(
            "{}{}",
            public_url,
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        );
        async move { Redirect::permanent(&target).into_response() }
    });
    let served = crate::server::Listener {
        app,
        limits,
        tls: None,
        header_block: bytes::Bytes::new(),
        direct: None,
    };
    crate::server::run(listener, served, shutdown).await
}
