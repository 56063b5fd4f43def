//! Whether a request's body was read to its end.
//!
//! A handler may answer before reading the whole body (an upload over the limit, a second file
//! part, a form refused early). The rest of that body is still on the wire, so the connection
//! cannot carry another request: hyper closes it after the answer. A client that did not expect
//! that (it had sent the whole body and pooled the connection) then fails its next request on it
//! with "connection closed before message completed". Answering such a request with
//! `Connection: close` tells the client the truth up front, as nginx does for a 413.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A request body that notes when its end has been reached.
pub(super) struct Tracked<B> {
    inner: B,
    ended: Arc<AtomicBool>,
}

/// Read after the answer is made: whether the body's end was reached.
#[derive(Clone)]
pub(super) struct Ended(Arc<AtomicBool>);

impl Ended {
    pub fn reached(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Wraps `inner`; a body that is empty from the start counts as read.
pub(super) fn track<B: Body>(inner: B) -> (Tracked<B>, Ended) {
    let ended = Arc::new(AtomicBool::new(inner.is_end_stream()));
    (
        Tracked {
            inner,
            ended: ended.clone(),
        },
        Ended(ended),
    )
}

impl<B> Body for Tracked<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.ended.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn an_empty_body_counts_as_read_and_a_full_one_once_read() {
        let (_, ended) = track(Full::new(Bytes::new()));
        assert!(ended.reached());
        let (body, ended) = track(Full::new(Bytes::from_static(b"file")));
        assert!(!ended.reached());
        body.collect().await.unwrap();
        assert!(ended.reached());
    }
}
