//! The Zlib encoding (6): Raw pixels through one persistent zlib stream.
//!
//! Wire format (community RFB spec, "zlib Encoding"): `u32 length` then `length` bytes
//! of the connection's single zlib stream, which inflate to exactly the rectangle's
//! pixels as the Raw encoding sends them (`width * height * bytes-per-pixel`).
//! Rectangles must be encoded and decoded strictly in order.

use bytes::{BufMut, BytesMut};
use flate2::{Compress, Compression, FlushCompress};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::inflate::Inflater;
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// One persistent deflate stream, sync-flushed at the end of every rectangle.
pub(crate) struct Deflater {
    z: Compress,
    level: u32,
    scratch: Vec<u8>,
}

impl Deflater {
    pub(crate) fn new(level: u32) -> Deflater {
        let level = level.min(9);
        Deflater {
            z: Compress::new(Compression::new(level), true),
            level,
            scratch: Vec::new(),
        }
    }

    pub(crate) fn level(&self) -> u32 {
        self.level
    }

    /// Deflates `input` into the scratch buffer; with `sync`, ends with a sync flush so
    /// the peer can inflate everything written so far.
    pub(crate) fn deflate(&mut self, mut input: &[u8], sync: bool) -> Result<(), CodecError> {
        let flush = if sync {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        loop {
            if self.scratch.capacity() - self.scratch.len() < 64 {
                self.scratch.reserve(input.len() / 2 + 4096);
            }
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            self.z
                .compress_vec(input, &mut self.scratch, flush)
                .map_err(|e| CodecError::Inflate {
                    encoding: "deflate",
                    what: format!("deflate failed: {e}"),
                })?;
            let consumed = (self.z.total_in() - in0) as usize;
            let produced = (self.z.total_out() - out0) as usize;
            input = &input[consumed..];
            let room_left = self.scratch.len() < self.scratch.capacity();
            if input.is_empty() && (!sync || room_left) {
                return Ok(());
            }
            if consumed == 0 && produced == 0 && room_left {
                return Err(CodecError::Inflate {
                    encoding: "deflate",
                    what: "deflate made no progress".into(),
                });
            }
        }
    }

    /// Appends the compressed bytes gathered since the last call, with a `u32` length
    /// prefix, to `out`.
    pub(crate) fn take_prefixed(&mut self, out: &mut BytesMut) -> Result<(), CodecError> {
        let len = u32::try_from(self.scratch.len()).map_err(|_| CodecError::LimitExceeded {
            what: "compressed rectangle length",
            requested: self.scratch.len() as u64,
            allowed: u32::MAX.into(),
        })?;
        out.reserve(4 + self.scratch.len());
        out.put_u32(len);
        out.extend_from_slice(&self.scratch);
        self.scratch.clear();
        Ok(())
    }
}

/// Frames a `u32`-length-prefixed payload bounded by `limits.max_payload`.
pub(crate) fn frame_prefixed(buf: &[u8], limits: &CodecLimits) -> Result<Progress<()>, CodecError> {
    let Some(head) = buf.get(..4) else {
        return Ok(Progress::NeedMore { at_least: 4 });
    };
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if len > limits.max_payload {
        return Err(CodecError::LimitExceeded {
            what: "compressed rectangle length",
            requested: len.into(),
            allowed: limits.max_payload.into(),
        });
    }
    let total = 4 + len as usize;
    Ok(if buf.len() >= total {
        Progress::Done {
            item: (),
            consumed: total,
        }
    } else {
        Progress::NeedMore { at_least: total }
    })
}

/// The compressed bytes of a framed payload (after the length prefix).
pub(crate) fn prefixed_body<'a>(
    payload: &'a [u8],
    encoding: &'static str,
) -> Result<&'a [u8], CodecError> {
    let bad = || CodecError::Malformed {
        encoding,
        what: "payload does not match its length prefix".into(),
    };
    let head = payload.get(..4).ok_or_else(bad)?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let body = &payload[4..];
    if body.len() != len {
        return Err(bad());
    }
    Ok(body)
}

/// Zlib-encoding encoder: one persistent deflate stream per connection.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::zlib::{ZlibDecoder, ZlibEncoder};
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
///
/// let mut src = Framebuffer::new(8, 4, PixelFormat::RGB565);
/// src.fill(Rect::new(2, 1, 3, 2), &[0x1f, 0xf8]).unwrap();
/// let mut enc = ZlibEncoder::new(6);
/// let mut wire = BytesMut::new();
/// enc.encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
///
/// let mut dst = Framebuffer::new(8, 4, PixelFormat::RGB565);
/// ZlibDecoder::new().decode(dst.rect(), &wire, &mut dst, &CodecLimits::default()).unwrap();
/// assert_eq!(dst, src);
/// ```
pub struct ZlibEncoder {
    deflater: Deflater,
}

impl std::fmt::Debug for ZlibEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZlibEncoder")
            .field("level", &self.deflater.level())
            .finish_non_exhaustive()
    }
}

impl ZlibEncoder {
    /// A fresh stream at zlib `level` (0 = store .. 9 = best; above 9 means 9). The level
    /// cannot change once the stream has started; make a new encoder (and tell the peer
    /// to reset, which the Zlib encoding cannot) to change it.
    pub fn new(level: u32) -> ZlibEncoder {
        ZlibEncoder {
            deflater: Deflater::new(level),
        }
    }
}

impl Default for ZlibEncoder {
    /// Level 6, zlib's default.
    fn default() -> Self {
        ZlibEncoder::new(6)
    }
}

impl RectEncoder for ZlibEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::ZLIB
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        if pixels.width() == 0 || pixels.height() == 0 {
            out.put_u32(0);
            return Ok(());
        }
        for y in 0..pixels.height() {
            self.deflater.deflate(pixels.row(y), false)?;
        }
        self.deflater.deflate(&[], true)?;
        self.deflater.take_prefixed(out)
    }
}

/// Zlib-encoding decoder: one persistent inflate stream per connection.
///
/// [`RectDecoder::frame`] reads the length prefix only; [`RectDecoder::decode`] inflates
/// exactly `width * height * bytes-per-pixel` bytes straight into the framebuffer rows and
/// fails if the rectangle's data would inflate to more or less. See [`ZlibEncoder`] for
/// an example.
#[derive(Debug, Default)]
pub struct ZlibDecoder {
    inflater: Inflater,
}

impl ZlibDecoder {
    /// A decoder with a fresh stream.
    pub fn new() -> ZlibDecoder {
        ZlibDecoder::default()
    }
}

impl RectDecoder for ZlibDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::ZLIB
    }

    fn frame(
        &mut self,
        _rect: Rect,
        _format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        frame_prefixed(buf, limits)
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        _limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let body = prefixed_body(payload, "Zlib")?;
        let bpp = fb.bytes_per_pixel();
        let stride = fb.stride();
        let row_len = usize::from(rect.width) * bpp;
        let mut reader = self.inflater.reader(body, "Zlib")?;
        if row_len > 0 {
            let data = fb.data_mut();
            for y in 0..usize::from(rect.height) {
                let start = (usize::from(rect.y) + y) * stride + usize::from(rect.x) * bpp;
                reader.read_exact(&mut data[start..start + row_len])?;
            }
        }
        reader.finish()
    }
}
