//! Reading a body within a size cap, decoding it on the way, for adapters.

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use http::{HeaderMap, StatusCode, Uri};

use crate::adapter::decode::{Coding, Decoder};
use crate::error::{Error, ErrorKind, Result};
use crate::response::Response;

/// The default maximum body size of every adapter: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// How an adapter reads response bodies, from its
/// [`ClientConfig`](crate::adapter::ClientConfig): the size cap, and
/// whether a body with a `Content-Encoding` volley knows is decoded.
///
/// ```
/// use volley_core::adapter::{BodyRules, ClientConfig};
/// let rules = ClientConfig::default().body_rules();
/// assert_eq!(rules, BodyRules { max_bytes: 64 * 1024 * 1024, decompress: true });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRules {
    /// The largest body read, after decoding (and before: the bytes
    /// received count against it too).
    pub max_bytes: u64,
    /// Whether `gzip`, `deflate` and `br` bodies are decoded.
    pub decompress: bool,
}

impl BodyRules {
    /// A collector for the body of a response with `headers`, which
    /// declared `content_length` bytes (see [`BodyCollector::for_response`]).
    pub fn collector(
        &self,
        content_length: Option<u64>,
        headers: &HeaderMap,
    ) -> Result<BodyCollector> {
        BodyCollector::for_response(self.max_bytes, content_length, headers, self.decompress)
    }
}

/// Collects a response body chunk by chunk and stops with
/// [`ErrorKind::TooLarge`] as soon as it would pass `max` bytes, so a huge or
/// endless body is never buffered.
///
/// Made by [`for_response`](BodyCollector::for_response) with decoding on,
/// a body whose `Content-Encoding` is `gzip`, `deflate` or `br` is decoded
/// as it arrives ([`Decoder`]), and the cap holds for the decoded bytes
/// while decoding: a gzip bomb stops at the cap without being inflated
/// further. The bytes received count against the cap as well.
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
    received: u64,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Raw(BytesMut),
    Decoding(Box<Decoder>),
}

impl BodyCollector {
    /// A collector for at most `max` bytes, kept as they come. A declared
    /// `content_length` above `max` is refused at once; a small one sizes
    /// the buffer.
    pub fn new(max: u64, content_length: Option<u64>) -> Result<Self> {
        if let Some(len) = content_length {
            if len > max {
                return Err(too_large(max, Some(len)));
            }
        }
        let cap = content_length.unwrap_or(0).min(max).min(1 << 20) as usize;
        Ok(BodyCollector {
            max,
            received: 0,
            sink: Sink::Raw(BytesMut::with_capacity(cap)),
        })
    }

    /// A collector for the body of a response with `headers`: with
    /// `decompress`, and a `Content-Encoding` naming one coding volley
    /// decodes ([`Coding::of`]), the body is decoded as it arrives;
    /// otherwise it is kept as it comes (an unknown coding included). The
    /// cap and `content_length` are as for [`new`](BodyCollector::new).
    ///
    /// ```
    /// use std::io::Write;
    /// use http::{HeaderMap, HeaderValue, StatusCode, Uri};
    /// use volley_core::adapter::BodyCollector;
    ///
    /// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// gz.write_all(br#"{"id":1}"#).unwrap();
    /// let gzipped = gz.finish().unwrap();
    /// let mut headers = HeaderMap::new();
    /// headers.insert("content-encoding", HeaderValue::from_static("gzip"));
    /// headers.insert("content-length", HeaderValue::from(gzipped.len()));
    ///
    /// let mut body = BodyCollector::for_response(1024, Some(gzipped.len() as u64), &headers, true)?;
    /// for chunk in gzipped.chunks(3) {
    ///     body.push(chunk)?;
    /// }
    /// let resp = body.into_response(StatusCode::OK, Uri::from_static("/users/1"), headers)?;
    /// assert_eq!(resp.json::<serde_json::Value>()?["id"], 1);
    /// assert!(resp.headers().get("content-encoding").is_none()); // decoded: dropped
    /// assert!(resp.headers().get("content-length").is_none());
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn for_response(
        max: u64,
        content_length: Option<u64>,
        headers: &HeaderMap,
        decompress: bool,
    ) -> Result<Self> {
        let mut collector = BodyCollector::new(max, content_length)?;
        if decompress {
            if let Some(coding) = Coding::of(headers) {
                collector.sink = Sink::Decoding(Box::new(Decoder::new(coding, max)));
            }
        }
        Ok(collector)
    }

    /// Appends a chunk (decoding it, if the body is decoded), or fails if
    /// the body would pass the maximum ([`ErrorKind::TooLarge`]) or cannot
    /// be decoded ([`ErrorKind::Decode`]).
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if self.received + chunk.len() as u64 > self.max {
            return Err(too_large(self.max, None));
        }
        self.received += chunk.len() as u64;
        match &mut self.sink {
            Sink::Raw(buf) => {
                buf.extend_from_slice(chunk);
                Ok(())
            }
            Sink::Decoding(decoder) => decoder.push(chunk),
        }
    }

    /// Bytes received so far, before any decoding.
    pub fn len(&self) -> usize {
        usize::try_from(self.received).unwrap_or(usize::MAX)
    }

    /// True when nothing was received.
    pub fn is_empty(&self) -> bool {
        self.received == 0
    }

    /// The coding the body is decoded from, if it is decoded.
    pub fn coding(&self) -> Option<Coding> {
        match &self.sink {
            Sink::Raw(_) => None,
            Sink::Decoding(d) => Some(d.coding()),
        }
    }

    /// The whole body, decoded if it is decoded: [`ErrorKind::Decode`]
    /// when a compressed body ended short or was corrupt. An empty body
    /// (a HEAD response's) is empty, whatever its `Content-Encoding`.
    pub fn finish(self) -> Result<Bytes> {
        match self.sink {
            Sink::Raw(buf) => Ok(buf.freeze()),
            Sink::Decoding(_) if self.received == 0 => Ok(Bytes::new()),
            Sink::Decoding(decoder) => decoder.finish(),
        }
    }

    /// The response, with the body [`finish`](BodyCollector::finish)ed and
    /// `headers`; when the body was decoded, its `Content-Encoding` and
    /// `Content-Length` are removed from them, since they describe the
    /// bytes on the wire, not the body handed back (as reqwest does).
    pub fn into_response(
        self,
        status: StatusCode,
        url: Uri,
        mut headers: HeaderMap,
    ) -> Result<Response> {
        let decoded = self.coding().is_some() && !self.is_empty();
        let body = self.finish()?;
        if decoded {
            headers.remove(CONTENT_ENCODING);
            headers.remove(CONTENT_LENGTH);
        }
        Ok(Response::new(status, url, body).with_headers(headers))
    }
}

pub(crate) fn too_large(max: u64, declared: Option<u64>) -> Error {
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use http::HeaderValue;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn headers(encoding: &str, len: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_str(encoding).unwrap());
        h.insert(CONTENT_LENGTH, HeaderValue::from(len));
        h
    }

    fn collect(body: &[u8], h: HeaderMap, decompress: bool, max: u64) -> Result<Response> {
        let mut c = BodyCollector::for_response(max, Some(body.len() as u64), &h, decompress)?;
        for chunk in body.chunks(5) {
            c.push(chunk)?;
        }
        c.into_response(StatusCode::OK, Uri::from_static("/x"), h)
    }

    #[test]
    fn decoded_bodies_lose_their_encoding_headers_raw_ones_keep_them() {
        let gz = gzip(b"hello hello hello");
        let resp = collect(&gz, headers("gzip", gz.len()), true, 100).unwrap();
        assert_eq!(resp.bytes(), "hello hello hello");
        assert!(resp.headers().get(CONTENT_ENCODING).is_none());
        assert!(resp.headers().get(CONTENT_LENGTH).is_none());

        let resp = collect(&gz, headers("gzip", gz.len()), false, 100).unwrap();
        assert_eq!(resp.bytes(), &gz[..]);
        assert_eq!(resp.headers()[CONTENT_ENCODING], "gzip");
        assert_eq!(
            resp.headers()[CONTENT_LENGTH],
            gz.len().to_string().as_str()
        );

        let resp = collect(b"\x1f\x9d raw", headers("compress", 7), true, 100).unwrap();
        assert_eq!(resp.bytes(), &b"\x1f\x9d raw"[..]);
        assert_eq!(resp.headers()[CONTENT_ENCODING], "compress");
    }

    #[test]
    fn an_empty_encoded_body_is_empty_with_headers_kept() {
        let resp = collect(b"", headers("gzip", 0), true, 100).unwrap();
        assert!(resp.bytes().is_empty());
        assert_eq!(resp.headers()[CONTENT_ENCODING], "gzip");
    }

    #[test]
    fn the_cap_counts_received_and_decoded_bytes() {
        let gz = gzip(&[b'a'; 5000]);
        let err = collect(&gz, headers("gzip", gz.len()), true, 4999).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert_eq!(
            collect(&gz, headers("gzip", gz.len()), true, 5000)
                .unwrap()
                .bytes()
                .len(),
            5000
        );
        let err =
            BodyCollector::for_response(10, Some(11), &headers("gzip", 11), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
    }

    #[test]
    fn a_corrupt_encoded_body_is_a_decode_error() {
        let err = collect(b"not gzip", headers("gzip", 8), true, 100).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }
}
