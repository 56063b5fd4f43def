//! The checks against real servers on loopback: a small HTTP server, TLS servers with
//! certificates from a test CA (made with rcgen), a TLS 1.2-only server, a closed port.

use bytes::Bytes;
use candor_core::status::monitor::{MonitorForm, MonitorSpec};
use candor_monitor::{run_check, CheckStatus, Guard, Outcome};
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The test server's routes.
async fn route(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match req.uri().path() {
        "/ok" => (200, "all good"),
        "/fail" => (503, "down for now"),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            (200, "slow but fine")
        }
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (200, "too late")
        }
        "/moved" => (301, ""),
        "/status" => (200, "{\"status\": \"green\", \"version\": 7}"),
        _ => (404, "no such page"),
    };
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    if status == 301 {
        res.headers_mut()
            .insert("location", hyper::header::HeaderValue::from_static("/ok"));
    }
    Ok(res)
}

/// Serves the routes on a loopback port, over TLS when `tls` is given. Runs until the test ends.
async fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(route);
                let http = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    Some(a) => {
                        // A failed handshake is what some tests are about; the server just moves on.
                        if let Ok(stream) = a.accept(tcp).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    addr
}

/// A test CA, and server certificates it signs.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Candor test CA");
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server configuration for `localhost` and 127.0.0.1 whose certificate is valid from
    /// `from_days` to `until_days` from now, speaking the given TLS versions.
    fn server(
        &self,
        from_days: i64,
        until_days: i64,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ServerConfig> {
        self.server_for(&["localhost", "127.0.0.1"], from_days, until_days, versions)
    }

    fn server_for(
        &self,
        names: &[&str],
        from_days: i64,
        until_days: i64,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(from_days);
        params.not_after = now + time::Duration::days(until_days) + time::Duration::hours(1);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }
}

const BOTH: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

fn spec(fields: &[(&str, &str)]) -> MonitorSpec {
    let mut form = MonitorForm::blank();
    form.name = "test".into();
    form.component = "1".into();
    form.timeout_ms = "3000".into();
    for (k, v) in fields {
        match *k {
            "kind" => form.kind = (*v).into(),
            "target" => form.target = (*v).into(),
            "method" => form.method = (*v).into(),
            "expected_status" => form.expected_status = (*v).into(),
            "body_contains" => form.body_contains = (*v).into(),
            "latency_ms" => form.latency_ms = (*v).into(),
            "cert_expiry_days" => form.cert_expiry_days = (*v).into(),
            "min_tls" => form.min_tls = (*v).into(),
            "timeout_ms" => form.timeout_ms = (*v).into(),
            other => panic!("no field {other}"),
        }
    }
    form.parse().unwrap().spec
}

fn loopback_guard(ca: Option<&Ca>) -> Guard {
    Guard::new(true, ca.map(|c| c.pem.as_bytes())).unwrap()
}

async fn check(fields: &[(&str, &str)], guard: &Guard) -> Outcome {
    run_check(&spec(fields), guard).await
}

fn assert_outcome(o: &Outcome, status: CheckStatus, detail: &str) {
    assert_eq!(o.status, status, "{o:?}");
    assert!(o.detail.contains(detail), "expected {detail:?} in {o:?}");
}

#[tokio::test]
async fn http_status_body_latency_and_timeout() {
    let addr = serve(None).await;
    let g = loopback_guard(None);
    let url = |p: &str| format!("http://{addr}{p}");

    let o = check(&[("target", &url("/ok"))], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");
    assert_eq!(o.detail, "");

    let o = check(&[("target", &url("/fail"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "expected 200, got 503 Service Unavailable");

    // Redirects are not followed: a 301 is compared with the expected status.
    let o = check(&[("target", &url("/moved"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "expected 200, got 301");
    let o = check(&[("target", &url("/moved")), ("expected_status", "301")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");

    let o = check(&[("target", &url("/status")), ("body_contains", "\"green\"")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");
    let o = check(&[("target", &url("/status")), ("body_contains", "red")], &g).await;
    assert_outcome(&o, CheckStatus::Down, "the body does not contain \"red\"");

    let o = check(&[("target", &url("/ok")), ("method", "HEAD")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");

    let o = check(&[("target", &url("/slow")), ("latency_ms", "100")], &g).await;
    assert_outcome(&o, CheckStatus::Degraded, "slow: ");
    assert!(o.detail.contains("(threshold 100 ms)"), "{o:?}");
    assert!(o.latency_ms >= 400, "{o:?}");

    let o = check(&[("target", &url("/hang")), ("timeout_ms", "300")], &g).await;
    assert_outcome(
        &o,
        CheckStatus::Down,
        "no answer within 300 ms (waiting for the answer)",
    );

    // A name, resolved by the checker.
    let o = check(&[("target", &format!("http://localhost:{}/ok", addr.port()))], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");
}

#[tokio::test]
async fn tcp_connects_or_says_why_not() {
    let addr = serve(None).await;
    let g = loopback_guard(None);
    let o = check(&[("kind", "tcp"), ("target", &addr.to_string())], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let o = check(&[("kind", "tcp"), ("target", &closed.to_string())], &g).await;
    assert_outcome(
        &o,
        CheckStatus::Down,
        &format!("cannot connect to {closed}: connection refused"),
    );
    let o = check(&[("target", &format!("http://{closed}/"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "connection refused");

    let o = check(&[("kind", "tcp"), ("target", "no-such-host.invalid:80")], &g).await;
    assert_outcome(&o, CheckStatus::Down, "cannot resolve no-such-host.invalid");
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let addr = serve(None).await;
    let strict = Guard::new(false, None).unwrap();
    let hint = "set status_monitor_allow_private to allow it";
    for fields in [
        vec![("target", format!("http://{addr}/ok"))],
        vec![("target", format!("http://localhost:{}/ok", addr.port()))],
        vec![("kind", "tcp".into()), ("target", addr.to_string())],
        vec![("kind", "tls".into()), ("target", addr.to_string())],
        vec![("kind", "tcp".into()), ("target", "10.0.0.5:443".into())],
        vec![("target", "http://[::1]:9/".into())],
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = check(&fields, &strict).await;
        assert_outcome(&o, CheckStatus::Down, "refused: ");
        assert!(o.detail.ends_with(hint), "{o:?}");
    }
    let o = check(&[("kind", "tcp"), ("target", "10.0.0.5:443")], &strict).await;
    assert_eq!(
        o.detail,
        "refused: 10.0.0.5 is a private or internal address; set status_monitor_allow_private to allow it"
    );
    // Never a target, even when private ones are allowed.
    let o = check(&[("kind", "tcp"), ("target", "0.0.0.0:80")], &loopback_guard(None)).await;
    assert_outcome(
        &o,
        CheckStatus::Down,
        "refused: 0.0.0.0 is not an address a service can listen on",
    );
    assert!(!o.detail.contains("allow_private"), "{o:?}");
}

#[tokio::test]
async fn https_and_tls_verify_the_certificate_and_its_expiry() {
    let ca = Ca::new();
    let g = loopback_guard(Some(&ca));
    let good = serve(Some(ca.server(-1, 90, BOTH))).await;
    let https = |addr: SocketAddr, p: &str| format!("https://localhost:{}{p}", addr.port());

    let o = check(&[("target", &https(good, "/ok")), ("cert_expiry_days", "14")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");
    let o = check(&[("target", &https(good, "/fail"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "expected 200, got 503");
    let o = check(
        &[("kind", "tls"), ("target", &format!("localhost:{}", good.port()))],
        &g,
    )
    .await;
    assert_outcome(&o, CheckStatus::Up, "");
    // By address: the certificate names 127.0.0.1 too.
    let o = check(
        &[("kind", "tls"), ("target", &good.to_string()), ("min_tls", "1.3")],
        &g,
    )
    .await;
    assert_outcome(&o, CheckStatus::Up, "");

    // Without the extra root the test CA is unknown.
    let o = check(&[("target", &https(good, "/ok"))], &loopback_guard(None)).await;
    assert_outcome(&o, CheckStatus::Down, "certificate is not trusted: unknown issuer");

    let soon = serve(Some(ca.server(-30, 3, BOTH))).await;
    let o = check(&[("target", &https(soon, "/ok")), ("cert_expiry_days", "14")], &g).await;
    assert_outcome(&o, CheckStatus::Degraded, "certificate expires in 3 days");
    let o = check(
        &[
            ("kind", "tls"),
            ("target", &format!("localhost:{}", soon.port())),
            ("cert_expiry_days", "7"),
        ],
        &g,
    )
    .await;
    assert_outcome(&o, CheckStatus::Degraded, "certificate expires in 3 days");
    let o = check(&[("target", &https(soon, "/ok")), ("cert_expiry_days", "2")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");

    let expired = serve(Some(ca.server(-90, -2, BOTH))).await;
    let o = check(&[("target", &https(expired, "/ok"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "certificate has expired");

    // A certificate for another name.
    let other = serve(Some(ca.server_for(&["other.example"], -1, 90, BOTH))).await;
    let o = check(&[("target", &https(other, "/ok"))], &g).await;
    assert_outcome(&o, CheckStatus::Down, "certificate is not valid for localhost");
}

#[tokio::test]
async fn a_tls_1_2_server_fails_a_minimum_of_1_3() {
    let ca = Ca::new();
    let g = loopback_guard(Some(&ca));
    let old = serve(Some(ca.server(-1, 90, &[&rustls::version::TLS12]))).await;
    let target = format!("localhost:{}", old.port());
    let o = check(&[("kind", "tls"), ("target", &target), ("min_tls", "1.2")], &g).await;
    assert_outcome(&o, CheckStatus::Up, "");
    let o = check(&[("kind", "tls"), ("target", &target), ("min_tls", "1.3")], &g).await;
    assert_outcome(&o, CheckStatus::Down, "the server does not speak TLS 1.3 or later");
    let url = format!("https://localhost:{}/ok", old.port());
    let o = check(&[("target", &url), ("min_tls", "1.3")], &g).await;
    assert_outcome(&o, CheckStatus::Down, "the server does not speak TLS 1.3 or later");
}

#[test]
fn an_extra_root_must_be_a_certificate() {
    assert!(Guard::new(true, Some(b"not pem")).is_err());
    let ca = Ca::new();
    assert!(Guard::new(false, Some(ca.pem.as_bytes())).is_ok());
}
