//! Decoding a compressed response body (`Content-Encoding`) as it arrives,
//! within the size cap.

use std::fmt;
use std::io::{self, Write};

use brotli_decompressor::DecompressorWriter;
use bytes::{Bytes, BytesMut};
use flate2::write::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use crate::error::{Error, ErrorKind, Result};

/// The `Accept-Encoding` every adapter sends by default (unless the caller
/// set one, or turned decoding off with
/// [`ClientBuilder::decompress`](crate::ClientBuilder::decompress)): the
/// codings volley decodes that servers commonly offer.
pub const ACCEPT_ENCODING: &str = "gzip, br";

/// How much output the brotli decoder writes at a time.
const BROTLI_BUFFER: usize = 32 * 1024;

/// A content coding that volley decodes.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::CONTENT_ENCODING};
/// use volley_core::adapter::Coding;
/// let mut headers = HeaderMap::new();
/// assert_eq!(Coding::of(&headers), None);
/// headers.insert(CONTENT_ENCODING, HeaderValue::from_static("GZIP"));
/// assert_eq!(Coding::of(&headers), Some(Coding::Gzip));
/// headers.insert(CONTENT_ENCODING, HeaderValue::from_static("compress"));
/// assert_eq!(Coding::of(&headers), None); // unknown: handed back as it came
/// headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip, br"));
/// assert_eq!(Coding::of(&headers), None); // stacked codings are not decoded
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coding {
    /// `gzip` (and its old name `x-gzip`), every member of the stream.
    Gzip,
    /// `deflate`: zlib-wrapped as the RFC says, or raw deflate as some
    /// servers send it (told apart by the first two bytes).
    Deflate,
    /// `br`, brotli.
    Brotli,
}

impl Coding {
    /// The coding a response's `Content-Encoding` names, when it names
    /// exactly one that volley decodes (`identity` aside). `None` when there
    /// is no coding, or it is unknown (`compress`, `zstd`), or several are
    /// stacked: such a body is handed back as it came, headers intact.
    pub fn of(headers: &HeaderMap) -> Option<Coding> {
        let mut found = None;
        for value in headers.get_all(CONTENT_ENCODING) {
            let value = value.to_str().ok()?;
            for name in value.split(',').map(str::trim) {
                if name.is_empty() || name.eq_ignore_ascii_case("identity") {
                    continue;
                }
                if found.is_some() {
                    return None;
                }
                found = Some(Coding::named(name)?);
            }
        }
        found
    }

    fn named(name: &str) -> Option<Coding> {
        [
            ("gzip", Coding::Gzip),
            ("x-gzip", Coding::Gzip),
            ("deflate", Coding::Deflate),
            ("br", Coding::Brotli),
        ]
        .into_iter()
        .find(|(n, _)| name.eq_ignore_ascii_case(n))
        .map(|(_, c)| c)
    }

    /// The coding's name in `Content-Encoding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }
}

impl fmt::Display for Coding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where decoded bytes go: a buffer that refuses to grow past the cap.
struct Capped {
    buf: BytesMut,
    max: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.over || self.buf.len() as u64 + data.len() as u64 > self.max {
            self.over = true;
            return Err(io::Error::other("the decoded body passed the maximum"));
        }
        // Grown by doubling, but never past the cap: a body near the cap
        // holds at most the cap, not twice it.
        let needed = self.buf.len() + data.len();
        if self.buf.capacity() < needed {
            let max = usize::try_from(self.max).unwrap_or(usize::MAX);
            let target = needed.max(self.buf.capacity().saturating_mul(2)).min(max);
            let mut grown = BytesMut::with_capacity(target.max(needed));
            grown.extend_from_slice(&self.buf);
            self.buf = grown;
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum State {
    Gzip(MultiGzDecoder<Capped>),
    /// `deflate` before its first two bytes say whether it is zlib-wrapped.
    DeflateStart(Capped, Vec<u8>),
    Zlib(ZlibDecoder<Capped>),
    RawDeflate(DeflateDecoder<Capped>),
    Brotli(Box<DecompressorWriter<Capped>>),
    /// After an error: nothing more is decoded.
    Failed,
}

/// Decodes a body chunk by chunk as it arrives, with the decoded size held
/// to a maximum while decoding: a small compressed body that inflates past
/// the cap (a "zip bomb") stops with [`ErrorKind::TooLarge`] as soon as the
/// decoded bytes pass it, having held at most the cap and a few tens of
/// kilobytes of decoder state. Corrupt or truncated data is an
/// [`ErrorKind::Decode`] error, never a panic.
///
/// Adapters do not use it directly: [`BodyCollector`](crate::adapter::BodyCollector)
/// does, for responses whose `Content-Encoding` it decodes.
///
/// ```
/// use std::io::Write;
/// use volley_core::{ErrorKind, adapter::{Coding, Decoder}};
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
/// gz.write_all(&[0u8; 100_000]).unwrap();
/// let bomb = gz.finish().unwrap(); // about 100 bytes
///
/// let mut decoder = Decoder::new(Coding::Gzip, 1_000_000);
/// for chunk in bomb.chunks(10) {
///     decoder.push(chunk)?;
/// }
/// assert_eq!(decoder.finish()?.len(), 100_000);
///
/// let mut small = Decoder::new(Coding::Gzip, 1_000);
/// assert_eq!(small.push(&bomb).unwrap_err().kind(), ErrorKind::TooLarge);
/// # Ok::<(), volley_core::Error>(())
/// ```
pub struct Decoder {
    coding: Coding,
    max: u64,
    state: State,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("coding", &self.coding)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder of `coding` whose output may be at most `max` bytes.
    pub fn new(coding: Coding, max: u64) -> Decoder {
        let sink = Capped {
            buf: BytesMut::new(),
            max,
            over: false,
        };
        let state = match coding {
            Coding::Gzip => State::Gzip(MultiGzDecoder::new(sink)),
            Coding::Deflate => State::DeflateStart(sink, Vec::with_capacity(2)),
            Coding::Brotli => State::Brotli(Box::new(DecompressorWriter::new(sink, BROTLI_BUFFER))),
        };
        Decoder { coding, max, state }
    }

    /// The coding decoded.
    pub fn coding(&self) -> Coding {
        self.coding
    }

    /// Decodes a chunk of the body: [`ErrorKind::TooLarge`] once the decoded
    /// body passes the maximum, [`ErrorKind::Decode`] when the data is not
    /// valid in its coding. After an error, every call fails.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if let State::DeflateStart(_, start) = &mut self.state {
            let take = (2 - start.len()).min(chunk.len());
            start.extend_from_slice(&chunk[..take]);
            if start.len() < 2 {
                return Ok(());
            }
            let State::DeflateStart(sink, start) =
                std::mem::replace(&mut self.state, State::Failed)
            else {
                return Err(self.corrupt(None));
            };
            self.state = if is_zlib_header(start[0], start[1]) {
                State::Zlib(ZlibDecoder::new(sink))
            } else {
                State::RawDeflate(DeflateDecoder::new(sink))
            };
            self.write(&start)?;
            return self.write(&chunk[take..]);
        }
        self.write(chunk)
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let out = match &mut self.state {
            State::Gzip(d) => d.write_all(data),
            State::Zlib(d) => d.write_all(data),
            State::RawDeflate(d) => d.write_all(data),
            State::Brotli(d) => d.write_all(data),
            State::DeflateStart(..) | State::Failed => {
                return Err(self.corrupt(None));
            }
        };
        out.map_err(|e| self.fail(e))
    }

    /// The whole decoded body, once every chunk was pushed:
    /// [`ErrorKind::Decode`] when the stream is cut short or corrupt.
    pub fn finish(mut self) -> Result<Bytes> {
        let out = match &mut self.state {
            State::Gzip(d) => d.try_finish().map(|()| take(d.get_mut())),
            State::Zlib(d) => d.try_finish().map(|()| take(d.get_mut())),
            State::RawDeflate(d) => d.try_finish().map(|()| take(d.get_mut())),
            State::Brotli(d) => d.close().map(|()| take(d.get_mut())),
            State::DeflateStart(..) => {
                return Err(self.corrupt(Some("the body ended before its first two bytes")));
            }
            State::Failed => return Err(self.corrupt(None)),
        };
        out.map_err(|e| self.fail(e))
    }

    /// The error for `e`, and no more decoding after it.
    fn fail(&mut self, e: io::Error) -> Error {
        let over = match &mut self.state {
            State::Gzip(d) => d.get_ref().over,
            State::Zlib(d) => d.get_ref().over,
            State::RawDeflate(d) => d.get_ref().over,
            State::Brotli(d) => d.get_ref().over,
            State::DeflateStart(sink, _) => sink.over,
            State::Failed => false,
        };
        // Dropped here, not later: what a decoder does on drop (finishing
        // its stream into the full buffer) is bounded by the cap too.
        self.state = State::Failed;
        if over {
            return super::body::too_large(self.max, None);
        }
        self.corrupt(None).with_source(e)
    }

    fn corrupt(&self, why: Option<&str>) -> Error {
        let why = why.unwrap_or("corrupt or cut short");
        Error::new(
            ErrorKind::Decode,
            format!(
                "the {} body could not be decoded: {why} (turn decoding off with decompress(false) to read the raw bytes)",
                self.coding
            ),
        )
    }
}

fn take(sink: &mut Capped) -> Bytes {
    std::mem::take(&mut sink.buf).freeze()
}

/// RFC 1950: compression method 8 (deflate) with a window of at most 32K,
/// and a header whose 16 bits are a multiple of 31.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::read::{DeflateEncoder, GzEncoder, ZlibEncoder};

    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..400u32 {
            out.extend_from_slice(format!("{{\"id\":{i},\"name\":\"user {i}\"}},").as_bytes());
        }
        out
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        read_all(GzEncoder::new(data, Compression::default()))
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        read_all(ZlibEncoder::new(data, Compression::default()))
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        read_all(DeflateEncoder::new(data, Compression::default()))
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        read_all(brotli::CompressorReader::new(data, 4096, 5, 22))
    }

    /// `data` in each coding (deflate in its zlib wrapping).
    fn encodings(data: &[u8]) -> [(Coding, Vec<u8>); 3] {
        [
            (Coding::Gzip, gzip(data)),
            (Coding::Deflate, zlib(data)),
            (Coding::Brotli, brotli(data)),
        ]
    }

    fn read_all(mut encoder: impl std::io::Read) -> Vec<u8> {
        let mut out = Vec::new();
        encoder.read_to_end(&mut out).unwrap();
        out
    }

    fn decode_split(coding: Coding, data: &[u8], at: usize, max: u64) -> Result<Bytes> {
        let mut d = Decoder::new(coding, max);
        d.push(&data[..at])?;
        d.push(&data[at..])?;
        d.finish()
    }

    fn decode_chunks(coding: Coding, data: &[u8], size: usize, max: u64) -> Result<Bytes> {
        let mut d = Decoder::new(coding, max);
        for chunk in data.chunks(size) {
            d.push(chunk)?;
        }
        d.finish()
    }

    #[test]
    fn every_coding_decodes_split_at_every_byte() {
        let plain = sample();
        for (coding, encoded) in encodings(&plain)
            .into_iter()
            .chain([(Coding::Deflate, raw_deflate(&plain))])
        {
            for at in 0..=encoded.len() {
                let out = decode_split(coding, &encoded, at, 1 << 20)
                    .unwrap_or_else(|e| panic!("{coding} split at {at}: {e}"));
                assert_eq!(out, plain, "{coding} split at {at}");
            }
            let out = decode_chunks(coding, &encoded, 1, 1 << 20).unwrap();
            assert_eq!(out, plain, "{coding} a byte at a time");
        }
    }

    #[test]
    fn the_cap_is_exact_on_the_decoded_size() {
        let plain = sample();
        for (coding, encoded) in encodings(&plain) {
            let n = plain.len() as u64;
            assert_eq!(
                decode_chunks(coding, &encoded, 7, n).unwrap().len() as u64,
                n
            );
            let err = decode_chunks(coding, &encoded, 7, n - 1).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{coding}: {err}");
        }
    }

    #[test]
    fn a_bomb_stops_at_the_cap_after_little_input() {
        let zeros = vec![0u8; 10 * 1024 * 1024];
        for (coding, encoded) in encodings(&zeros) {
            assert!(encoded.len() < 64 * 1024, "{coding}: {}", encoded.len());
            let mut d = Decoder::new(coding, 1024 * 1024);
            let mut fed = 0;
            let mut err = None;
            for chunk in encoded.chunks(256) {
                fed += chunk.len();
                if let Err(e) = d.push(chunk) {
                    err = Some(e);
                    break;
                }
            }
            let err = match err {
                Some(e) => e,
                None => d.finish().unwrap_err(),
            };
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{coding}: {err}");
            // Stopped about a tenth of the way in: it never inflated the rest.
            assert!(
                fed < encoded.len() / 5 + 512,
                "{coding}: fed {fed} of {}",
                encoded.len()
            );
        }
    }

    #[test]
    fn corrupt_truncated_and_trailing_data_are_decode_errors() {
        let plain = sample();
        for (coding, encoded) in encodings(&plain) {
            let cut = &encoded[..encoded.len() / 2];
            let err = decode_chunks(coding, cut, 100, 1 << 20).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{coding} cut: {err}");

            let mut flipped = encoded.clone();
            let mid = flipped.len() / 2;
            flipped[mid] ^= 0x55;
            flipped[mid + 1] ^= 0xaa;
            let err = decode_chunks(coding, &flipped, 100, 1 << 20).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{coding} flipped: {err}");

            let mut trailing = encoded.clone();
            trailing.extend_from_slice(b"garbage");
            let err = decode_chunks(coding, &trailing, 100, 1 << 20).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{coding} trailing: {err}");
        }
        let err = decode_chunks(Coding::Gzip, b"this is not gzip at all", 5, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.to_string().contains("gzip"), "{err}");
        let err = decode_chunks(Coding::Deflate, b"x", 5, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn garbage_of_every_shape_is_an_error_or_a_value_never_a_panic() {
        let mut rng = fastrand::Rng::with_seed(18);
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli] {
            for len in [0, 1, 2, 3, 10, 100, 1000] {
                for _ in 0..50 {
                    let data: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
                    let _ = decode_chunks(coding, &data, 3, 1 << 16);
                }
            }
        }
    }

    #[test]
    fn gzip_members_are_all_decoded() {
        let mut two = gzip(b"hello ");
        two.extend_from_slice(&gzip(b"world"));
        assert_eq!(
            decode_chunks(Coding::Gzip, &two, 4, 100).unwrap(),
            "hello world"
        );
    }

    #[test]
    fn content_encoding_names_one_known_coding() {
        let of = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(CONTENT_ENCODING, v.parse().unwrap());
            }
            Coding::of(&h)
        };
        assert_eq!(of(&[]), None);
        assert_eq!(of(&["identity"]), None);
        assert_eq!(of(&[" gzip "]), Some(Coding::Gzip));
        assert_eq!(of(&["x-gzip"]), Some(Coding::Gzip));
        assert_eq!(of(&["identity, br"]), Some(Coding::Brotli));
        assert_eq!(of(&["Deflate"]), Some(Coding::Deflate));
        assert_eq!(of(&["zstd"]), None);
        assert_eq!(of(&["gzip", "gzip"]), None);
        assert_eq!(of(&["gzip, compress"]), None);
    }
}
