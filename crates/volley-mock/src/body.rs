//! The response body type: a whole buffer, a streamed run of filler bytes,
//! or a buffer trickled out on a timer.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Size of one chunk of a `/big` body.
const BIG_CHUNK: usize = 64 * 1024;
static FILLER: [u8; BIG_CHUNK] = [b'x'; BIG_CHUNK];

/// A response body.
pub(crate) struct MockBody(Kind);

enum Kind {
    /// One buffer, sent at once (`None` once sent).
    Full(Option<Bytes>),
    /// `remaining` filler bytes, sent in chunks of at most [`BIG_CHUNK`].
    Filler { remaining: u64 },
    /// A buffer sent in pieces spread over a time span.
    Trickle(Box<Trickle>),
}

struct Trickle {
    data: Bytes,
    pieces: usize,
    next: usize,
    start: Instant,
    span: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Trickle {
    /// Byte range of piece `i`.
    fn range(&self, i: usize) -> (usize, usize) {
        let len = self.data.len();
        (len * i / self.pieces, len * (i + 1) / self.pieces)
    }

    /// When piece `i` is due: the first at once, the last at `start + span`.
    fn due(&self, i: usize) -> Instant {
        if self.pieces <= 1 {
            return self.start;
        }
        // `pieces` is small, so these conversions never saturate.
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let steps = u32::try_from(self.pieces - 1).unwrap_or(u32::MAX);
        self.start + self.span * i / steps
    }

    fn remaining(&self) -> u64 {
        let (from, _) = self.range(self.next.min(self.pieces));
        (self.data.len() - from) as u64
    }
}

impl MockBody {
    /// A body sent as one buffer.
    pub(crate) fn full(data: impl Into<Bytes>) -> MockBody {
        let data = data.into();
        MockBody(Kind::Full((!data.is_empty()).then_some(data)))
    }

    /// An empty body.
    pub(crate) fn empty() -> MockBody {
        MockBody(Kind::Full(None))
    }

    /// `len` bytes of filler, streamed in chunks.
    pub(crate) fn filler(len: u64) -> MockBody {
        MockBody(Kind::Filler { remaining: len })
    }

    /// `data` sent in `pieces` pieces, the first now and the last after `span`.
    pub(crate) fn trickle(data: Bytes, pieces: usize, span: Duration) -> MockBody {
        let pieces = pieces.clamp(1, data.len().max(1));
        MockBody(Kind::Trickle(Box::new(Trickle {
            data,
            pieces,
            next: 0,
            start: Instant::now(),
            span,
            sleep: None,
        })))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match &mut self.get_mut().0 {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Kind::Filler { remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let n = usize::try_from(*remaining).map_or(BIG_CHUNK, |r| r.min(BIG_CHUNK));
                *remaining -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILLER[..n])))))
            }
            Kind::Trickle(t) => {
                if t.next >= t.pieces {
                    return Poll::Ready(None);
                }
                let due = t.due(t.next);
                if Instant::now() < due {
                    let sleep = t
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
                    if sleep.deadline() != due {
                        sleep.as_mut().reset(due);
                    }
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let (from, to) = t.range(t.next);
                t.next += 1;
                Poll::Ready(Some(Ok(Frame::data(t.data.slice(from..to)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(data) => data.is_none(),
            Kind::Filler { remaining } => *remaining == 0,
            Kind::Trickle(t) => t.next >= t.pieces,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Filler { remaining } => SizeHint::with_exact(*remaining),
            Kind::Trickle(t) => SizeHint::with_exact(t.remaining()),
        }
    }
}
