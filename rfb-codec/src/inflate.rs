//! Capped inflation of the persistent zlib streams of RFB (Zlib, ZRLE, ...).
//!
//! An RFB zlib stream lives as long as the connection: each rectangle carries the next
//! piece of one deflate stream, ended by a sync flush. [`Inflater`] holds that stream
//! and hands out an [`InflateReader`] per rectangle, which inflates **only** the bytes
//! the rectangle's grammar asks for and then checks, in [`InflateReader::finish`], that
//! the rectangle's compressed bytes produce nothing more. A stream that would inflate
//! past the rectangle, that ends short, or that is corrupt gives
//! [`CodecError::Inflate`]; nothing is ever written past the caller's buffer, and the
//! only memory is the zlib window plus a fixed read-ahead buffer of
//! [`InflateReader::MAX_NEED`] bytes.
//!
//! After an error the stream is out of step with the peer's deflater, so the
//! inflater is *poisoned*: every later call fails until [`Inflater::reset`].

use flate2::{Decompress, FlushDecompress, Status};

use crate::CodecError;

/// One persistent zlib (RFC 1950) inflate stream.
///
/// ```
/// use std::io::Write;
/// use rfb_codec::inflate::Inflater;
///
/// let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
/// z.write_all(b"hello").unwrap();
/// z.flush().unwrap(); // sync flush, as RFB servers do per rectangle
/// let wire = z.get_ref().clone();
///
/// let mut inflater = Inflater::new();
/// let mut out = [0u8; 5];
/// inflater.inflate_exact(&wire, &mut out, "zlib").unwrap();
/// assert_eq!(&out, b"hello");
///
/// // Asking for fewer bytes than the data holds is an error, not a silent truncation.
/// let mut inflater = Inflater::new();
/// let mut short = [0u8; 4];
/// assert!(inflater.inflate_exact(&wire, &mut short, "zlib").is_err());
/// ```
pub struct Inflater {
    z: Decompress,
    /// The stream sent its end marker (RFB streams never should; nothing may follow).
    ended: bool,
    /// A previous error left the stream out of step.
    poisoned: bool,
    /// Read-ahead buffer for [`InflateReader::need`], allocated on first use.
    buf: Vec<u8>,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("total_in", &self.z.total_in())
            .field("total_out", &self.z.total_out())
            .field("ended", &self.ended)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
    }
}

impl Inflater {
    /// A fresh stream (expects the 2-byte zlib header first).
    pub fn new() -> Inflater {
        Inflater {
            z: Decompress::new(true),
            ended: false,
            poisoned: false,
            buf: Vec::new(),
        }
    }

    /// Starts a fresh stream (as after a reconnect or a Tight stream reset).
    pub fn reset(&mut self) {
        self.z.reset(true);
        self.ended = false;
        self.poisoned = false;
    }

    /// Total compressed bytes consumed by the stream so far.
    pub fn total_in(&self) -> u64 {
        self.z.total_in()
    }

    /// Total bytes produced by the stream so far.
    pub fn total_out(&self) -> u64 {
        self.z.total_out()
    }

    /// Inflates the whole compressed piece `input` of one rectangle into exactly
    /// `out.len()` bytes. Errors if the piece produces fewer or more bytes, or is corrupt.
    pub fn inflate_exact(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        encoding: &'static str,
    ) -> Result<(), CodecError> {
        let mut r = self.reader(input, encoding)?;
        r.read_exact(out)?;
        r.finish()
    }

    /// A reader over the compressed piece `input` of one rectangle.
    pub fn reader<'a>(
        &'a mut self,
        input: &'a [u8],
        encoding: &'static str,
    ) -> Result<InflateReader<'a>, CodecError> {
        if self.poisoned {
            return Err(CodecError::Inflate {
                encoding,
                what: "stream unusable after an earlier error".into(),
            });
        }
        if self.buf.len() != InflateReader::MAX_NEED {
            self.buf = vec![0; InflateReader::MAX_NEED];
        }
        Ok(InflateReader {
            inf: self,
            input,
            pos: 0,
            rpos: 0,
            wpos: 0,
            encoding,
        })
    }
}

/// Inflates one rectangle's compressed bytes on demand; see [`Inflater::reader`].
///
/// Drop without [`InflateReader::finish`] leaves the stream in an unknown place: callers
/// that stop early (on an error) must treat the connection as failed.
#[derive(Debug)]
pub struct InflateReader<'a> {
    inf: &'a mut Inflater,
    input: &'a [u8],
    /// Compressed bytes consumed from `input`.
    pos: usize,
    /// Unread inflated bytes are `inf.buf[rpos..wpos]`.
    rpos: usize,
    wpos: usize,
    encoding: &'static str,
}

impl InflateReader<'_> {
    /// The most bytes one [`InflateReader::need`] call may ask for (and the size of the
    /// read-ahead buffer): a raw 64x64 tile of 4-byte pixels plus slack.
    pub const MAX_NEED: usize = 64 * 64 * 4 + 4096;

    fn fail(&mut self, what: String) -> CodecError {
        self.inf.poisoned = true;
        CodecError::Inflate {
            encoding: self.encoding,
            what,
        }
    }

    /// One decompress call: returns (consumed, produced).
    fn step(&mut self, out: &mut [u8]) -> Result<(usize, usize), CodecError> {
        let z = &mut self.inf.z;
        let (in0, out0) = (z.total_in(), z.total_out());
        let res = z.decompress(&self.input[self.pos..], out, FlushDecompress::None);
        let consumed = (z.total_in() - in0) as usize;
        let produced = (z.total_out() - out0) as usize;
        match res {
            Ok(Status::StreamEnd) => self.inf.ended = true,
            Ok(Status::Ok | Status::BufError) => {}
            Err(e) => return Err(self.fail(format!("corrupt data: {e}"))),
        }
        self.pos += consumed;
        Ok((consumed, produced))
    }

    /// Inflates into `out` until it is full; an error if the rectangle's compressed bytes
    /// run out (or stop making progress) first.
    fn inflate_into(&mut self, out: &mut [u8], at_least: usize) -> Result<usize, CodecError> {
        let mut filled = 0;
        while filled < at_least {
            if self.inf.ended {
                return Err(self.fail("stream ended before the rectangle was complete".into()));
            }
            let (consumed, produced) = self.step(&mut out[filled..])?;
            filled += produced;
            if consumed == 0 && produced == 0 {
                let short = at_least - filled;
                return Err(if self.pos == self.input.len() {
                    self.fail(format!(
                        "data ends {short} or more bytes short of the rectangle"
                    ))
                } else {
                    self.fail("stream makes no progress".into())
                });
            }
        }
        Ok(filled)
    }

    /// Fills `out` with the next `out.len()` inflated bytes.
    pub fn read_exact(&mut self, out: &mut [u8]) -> Result<(), CodecError> {
        let buffered = (self.wpos - self.rpos).min(out.len());
        out[..buffered].copy_from_slice(&self.inf.buf[self.rpos..self.rpos + buffered]);
        self.rpos += buffered;
        let rest = &mut out[buffered..];
        let n = rest.len();
        self.inflate_into(rest, n)?;
        Ok(())
    }

    /// The next `n` inflated bytes (`n` at most [`InflateReader::MAX_NEED`]), borrowed from
    /// the read-ahead buffer. May inflate ahead, never past the buffer's size.
    pub fn need(&mut self, n: usize) -> Result<&[u8], CodecError> {
        if self.wpos - self.rpos < n {
            if n > Self::MAX_NEED {
                return Err(self.fail(format!("internal: {n} bytes asked for at once")));
            }
            let mut buf = std::mem::take(&mut self.inf.buf);
            buf.copy_within(self.rpos..self.wpos, 0);
            self.wpos -= self.rpos;
            self.rpos = 0;
            let want = n - self.wpos;
            let res = self.inflate_into(&mut buf[self.wpos..], want);
            self.inf.buf = buf;
            self.wpos += res?;
        }
        let s = &self.inf.buf[self.rpos..self.rpos + n];
        self.rpos += n;
        Ok(s)
    }

    /// Ends the rectangle: consumes the rest of its compressed bytes and fails if they
    /// (or bytes already inflated ahead) hold anything the rectangle did not use.
    pub fn finish(mut self) -> Result<(), CodecError> {
        if self.rpos != self.wpos {
            let extra = self.wpos - self.rpos;
            return Err(self.fail(format!(
                "{extra} inflated bytes past the end of the rectangle"
            )));
        }
        let mut scratch = [0u8; 1];
        loop {
            if self.pos == self.input.len() {
                // Output still held inside the inflater also counts.
                let (_, produced) = self.step(&mut scratch)?;
                if produced > 0 {
                    return Err(self.fail("inflates past the end of the rectangle".into()));
                }
                return Ok(());
            }
            if self.inf.ended {
                let extra = self.input.len() - self.pos;
                return Err(self.fail(format!("{extra} bytes after the end of the zlib stream")));
            }
            let (consumed, produced) = self.step(&mut scratch)?;
            if produced > 0 {
                return Err(self.fail("inflates past the end of the rectangle".into()));
            }
            if consumed == 0 {
                return Err(self.fail("stream makes no progress".into()));
            }
        }
    }
}
