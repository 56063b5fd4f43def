//! The connection as the HTTP engine sees it, with two jobs hyper does not do for us:
//!
//! * **Timeouts on the client, not on the application.** While no request of the connection is
//!   being handled by the application, the client must deliver the next request head in time:
//!   within `header_timeout` of its first byte (or of the connection opening, for the first
//!   request), and an idle kept-alive connection is closed after `idle_timeout`. Whenever the
//!   client does not take what we write for `idle_timeout`, the connection is closed too. hyper's
//!   own `header_read_timeout` starts when the previous response ends, so it cannot tell an idle
//!   kept-alive connection from a slow header; this can, because the service marks when the
//!   application holds a request ([`Activity`]).
//! * **Security headers on the responses hyper writes itself.** A request hyper cannot parse
//!   (a malformed request line, headers over the size limit) never reaches the application, so
//!   the security-header middleware never sees its 400 or 431; hyper writes a bare response head
//!   and closes. hyper offers no hook for those responses, so this writer adds the header block to
//!   a response head written while nothing from the application is pending: every byte of every
//!   earlier response has been flushed and no request is in the application, so the bytes can
//!   only be such an error response (application responses always carry the headers already).

use bytes::Bytes;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What the application is doing with one connection's requests, shared between the service
/// (which marks requests in and out) and the connection's reader and writer.
#[derive(Clone)]
pub(crate) struct Activity(Arc<Mutex<ActivityState>>);

struct ActivityState {
    /// Requests handed to the application whose response body has not been dropped yet.
    in_app: usize,
    /// When the connection last had no request in the application (or opened).
    waiting_since: Instant,
    /// No request has been handed to the application yet.
    fresh: bool,
    /// Everything the application produced has been flushed to the socket.
    settled: bool,
    /// The reader parked while the application held a request, with no timer armed: woken when
    /// the last request leaves so that the waiting period's timer starts.
    parked_reader: Option<std::task::Waker>,
}

/// How the connection stands, as far as the timeouts care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// The application holds a request: the client owes us nothing.
    InApp,
    /// Waiting for the client's next request.
    Waiting { since: Instant, fresh: bool },
}

/// Held from the moment a request enters the application until its response body is dropped.
pub(crate) struct InApp(Activity);

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity(Arc::new(Mutex::new(ActivityState {
            in_app: 0,
            waiting_since: Instant::now(),
            fresh: true,
            settled: true,
            parked_reader: None,
        })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut ActivityState) -> R) -> R {
        // The state stays consistent even if a holder panicked, so a poisoned lock is usable.
        let mut state = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// Marks a request as handed to the application.
    pub(crate) fn enter(&self) -> InApp {
        self.with(|s| {
            s.in_app += 1;
            s.fresh = false;
            s.settled = false;
        });
        InApp(self.clone())
    }

    /// The phase; while the application holds a request, `reader` is woken when it leaves.
    fn phase_or_park(&self, reader: &std::task::Waker) -> Phase {
        self.with(|s| match s.in_app {
            0 => Phase::Waiting {
                since: s.waiting_since,
                fresh: s.fresh,
            },
            _ => {
                s.parked_reader = Some(reader.clone());
                Phase::InApp
            }
        })
    }

    fn phase(&self) -> Phase {
        self.with(|s| match s.in_app {
            0 => Phase::Waiting {
                since: s.waiting_since,
                fresh: s.fresh,
            },
            _ => Phase::InApp,
        })
    }

    fn flushed(&self) {
        self.with(|s| {
            if s.in_app == 0 {
                s.settled = true;
            }
        })
    }

    fn settled(&self) -> bool {
        self.with(|s| s.in_app == 0 && s.settled)
    }
}

impl Drop for InApp {
    fn drop(&mut self) {
        let parked = self.0.with(|s| {
            s.in_app = s.in_app.saturating_sub(1);
            if s.in_app == 0 {
                s.waiting_since = Instant::now();
                s.parked_reader.take()
            } else {
                None
            }
        });
        if let Some(reader) = parked {
            reader.wake();
        }
    }
}

/// The timeouts a [`GuardedIo`] enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

pub(crate) struct GuardedIo<T> {
    inner: T,
    activity: Activity,
    timeouts: Timeouts,
    /// `Some(true)` once the client's first bytes were the HTTP/2 preface.
    http2: Option<bool>,
    /// The waiting period (by its start) in which the client began sending a request head, and
    /// when.
    head_started: Option<(Instant, Instant)>,
    read_timer: Pin<Box<Sleep>>,
    read_deadline: Option<Instant>,
    write_timer: Pin<Box<Sleep>>,
    write_stalled_since: Option<Instant>,
    /// `name: value\r\n` lines added to response heads hyper writes itself; empty adds nothing.
    header_block: Bytes,
    /// A rewritten response head (and whatever followed it) not yet handed to the socket.
    pending: Vec<u8>,
    pending_from: usize,
}

impl<T> GuardedIo<T> {
    pub(crate) fn new(inner: T, activity: Activity, timeouts: Timeouts, header_block: Bytes) -> GuardedIo<T> {
        let now = Instant::now();
        GuardedIo {
            inner,
            activity,
            timeouts,
            http2: None,
            head_started: None,
            read_timer: Box::pin(tokio::time::sleep_until(now + timeouts.idle)),
            read_deadline: None,
            write_timer: Box::pin(tokio::time::sleep_until(now + timeouts.idle)),
            write_stalled_since: None,
            header_block,
            pending: Vec::new(),
            pending_from: 0,
        }
    }

    /// When the client must have sent something more, and what for; `None` while the
    /// application holds a request.
    fn read_deadline(&self, reader: &std::task::Waker) -> Option<(Instant, &'static str)> {
        let Phase::Waiting { since, fresh } = self.activity.phase_or_park(reader) else {
            return None;
        };
        if fresh {
            // A new connection must deliver its first request promptly, whatever the protocol.
            let started = self.head_started.map(|(_, at)| at).unwrap_or(since);
            return Some((started + self.timeouts.header, "request head"));
        }
        match self.head_started {
            // HTTP/2 frames between requests (pings, window updates) are not a request head, so
            // an HTTP/2 connection only gets the idle timeout.
            Some((period, at)) if period == since && self.http2 != Some(true) => {
                Some((at + self.timeouts.header, "request head"))
            }
            _ => Some((since + self.timeouts.idle, "idle connection")),
        }
    }

    fn note_bytes_in(&mut self, first_bytes: &[u8]) {
        if self.http2.is_none() {
            self.http2 = Some(first_bytes.starts_with(b"PRI * HTTP/2.0"));
        }
        if let Phase::Waiting { since, .. } = self.activity.phase() {
            if self.head_started.map(|(period, _)| period) != Some(since) {
                self.head_started = Some((since, Instant::now()));
            }
        }
    }

    /// Called when the client has not sent anything: arms the timer and fails once it fires.
    fn poll_read_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((deadline, what)) = self.read_deadline(cx.waker()) else {
            return Poll::Pending;
        };
        if self.read_deadline != Some(deadline) {
            self.read_timer.as_mut().reset(deadline);
            self.read_deadline = Some(deadline);
        }
        ready!(self.read_timer.as_mut().poll(cx));
        tracing::debug!(waited_for = what, "closing a connection: the client took too long");
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the client took too long to send the {what}"),
        )))
    }

    /// Called when the client does not take what we write: fails after the idle timeout.
    fn poll_write_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.write_stalled_since.is_none() {
            let now = Instant::now();
            self.write_stalled_since = Some(now);
            self.write_timer.as_mut().reset(now + self.timeouts.idle);
        }
        ready!(self.write_timer.as_mut().poll(cx));
        tracing::debug!("closing a connection: the client stopped reading");
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading the response",
        )))
    }

    /// A response head that hyper wrote on its own (see the module comment), with the header
    /// block added before its blank line; `None` for anything else.
    fn with_security_headers(&self, buf: &[u8]) -> Option<Vec<u8>> {
        if self.header_block.is_empty() || !buf.starts_with(b"HTTP/1.") || !self.activity.settled() {
            return None;
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = buf[..end].to_ascii_lowercase();
        if head.windows(23).any(|w| w == b"x-content-type-options:") {
            return None;
        }
        let mut out = Vec::with_capacity(buf.len() + self.header_block.len());
        out.extend_from_slice(&buf[..end + 2]);
        out.extend_from_slice(&self.header_block);
        out.extend_from_slice(&buf[end + 2..]);
        Some(out)
    }
}

impl<T: AsyncWrite + Unpin> GuardedIo<T> {
    /// Hands the rewritten bytes still held to the socket.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending_from < self.pending.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.pending_from..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending_from += n;
                    self.write_stalled_since = None;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    ready!(self.poll_write_stall(cx))?;
                }
            }
        }
        self.pending.clear();
        self.pending_from = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.note_bytes_in(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_read_deadline(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if let Some(rewritten) = this.with_security_headers(buf) {
            this.pending = rewritten;
            this.pending_from = 0;
            // Whatever the socket takes now; the rest goes out with the next write or flush.
            return match this.poll_drain(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.write_stalled_since = None;
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_write_stall(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &**b).unwrap_or(&[]);
        if !this.pending.is_empty() || this.with_security_headers(first).is_some() {
            return Pin::new(this).poll_write(cx, first);
        }
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.write_stalled_since = None;
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_write_stall(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                this.write_stalled_since = None;
                this.activity.flushed();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_write_stall(cx).map_ok(|_| ()),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.poll_write_stall(cx).map_ok(|_| ()),
            done => done,
        }
    }
}
