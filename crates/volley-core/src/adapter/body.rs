//! Reading a body within a size cap, for adapters.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, ErrorKind, Result};

/// The default maximum body size of every adapter: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Collects a response body chunk by chunk and stops with
/// [`ErrorKind::TooLarge`] as soon as it would pass `max` bytes, so a huge or
/// endless body is never buffered.
///
/// ```
/// use volley_core::{ErrorKind, adapter::BodyCollector};
/// let mut body = BodyCollector::new(8, None)?;
/// body.push(b"1234")?;
/// assert_eq!(body.push(b"56789").unwrap_err().kind(), ErrorKind::TooLarge);
/// assert!(BodyCollector::new(8, Some(1 << 30)).is_err()); // refused from Content-Length alone
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug)]
pub struct BodyCollector {
    max: u64,
    buf: BytesMut,
}

impl BodyCollector {
    /// A collector for at most `max` bytes. A declared `content_length`
    /// above `max` is refused at once; a small one sizes the buffer.
    pub fn new(max: u64, content_length: Option<u64>) -> Result<Self> {
        if let Some(len) = content_length {
            if len > max {
                return Err(too_large(max, Some(len)));
            }
        }
        let cap = content_length.unwrap_or(0).min(max).min(1 << 20) as usize;
        Ok(BodyCollector {
            max,
            buf: BytesMut::with_capacity(cap),
        })
    }

    /// Appends a chunk, or fails if the body would pass the maximum.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if self.buf.len() as u64 + chunk.len() as u64 > self.max {
            return Err(too_large(self.max, None));
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        self.buf.freeze()
    }
}

fn too_large(max: u64, declared: Option<u64>) -> Error {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        max_bytes = max,
        declared_bytes = declared,
        "response body too large"
    );
    let msg = match declared {
        Some(len) => format!(
            "the server declared {len} bytes, over the maximum of {max} (raise max_body_bytes to accept it)"
        ),
        None => format!(
            "the body passed the maximum of {max} bytes and reading stopped (raise max_body_bytes to accept it)"
        ),
    };
    Error::new(ErrorKind::TooLarge, msg)
}
