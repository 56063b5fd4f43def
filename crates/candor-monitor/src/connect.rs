//! Resolving a target and connecting to it: only to addresses the outbound guard allowed.

use crate::Stage;
use candor_core::outbound::refusal;
use std::io::ErrorKind;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Resolves `host`, checks every address it has, and connects to the first that answers. The
/// error says what failed, for the monitor's detail.
pub(crate) async fn open(host: &str, port: u16, allow_private: bool, stage: &mut Stage) -> Result<TcpStream, String> {
    *stage = Stage::Resolving;
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host, port)).await {
        Ok(found) => found.collect(),
        Err(e) => return Err(format!("cannot resolve {host}: {}", plain_resolve_error(&e))),
    };
    if addrs.is_empty() {
        return Err(format!("cannot resolve {host}: it has no address"));
    }
    // Any refused address refuses the target: a name that points inside is not a public service,
    // whichever address a connection would happen to use.
    for addr in &addrs {
        if let Some(why) = refusal(addr.ip(), allow_private) {
            let hint = if refusal(addr.ip(), true).is_none() {
                "; set status_monitor_allow_private to allow it"
            } else {
                ""
            };
            return Err(format!("refused: {} is {why}{hint}", addr.ip()));
        }
    }
    *stage = Stage::Connecting;
    let mut last = String::new();
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Checks send a request and wait: no point delaying the small writes.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = format!("cannot connect to {addr}: {}", plain_io_error(&e)),
        }
    }
    Err(last)
}

fn plain_resolve_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("failed to lookup address") || text.contains("Name or service not known") {
        "no such name".into()
    } else {
        text
    }
}

/// An I/O error in words, without the OS error number.
pub(crate) fn plain_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset".into(),
        ErrorKind::ConnectionAborted => "connection aborted".into(),
        ErrorKind::TimedOut => "timed out".into(),
        ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        ErrorKind::HostUnreachable => "host unreachable".into(),
        ErrorKind::NetworkUnreachable => "network unreachable".into(),
        _ => e.to_string(),
    }
}
