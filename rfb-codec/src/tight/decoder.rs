//! Tight decoder.

use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::inflate::Inflater;
use crate::{CodecError, CodecLimits, Framebuffer, RectDecoder};

use super::filters::gradient_decode;
use super::{
    jpeg, malformed, read_compact_len, rgb_capable, TpixelFormat, FILL, FILTER_COPY,
    FILTER_GRADIENT, FILTER_PALETTE, JPEG, MIN_TO_COMPRESS, NAME, NO_ZLIB, NO_ZLIB_FILTER,
    READ_FILTER,
};

/// How the data of a basic-compression rectangle was filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Copy,
    /// Palette of `n` colours (1..=256), TPIXELs at `at` in the payload.
    Palette {
        n: usize,
        at: usize,
    },
    Gradient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// TPIXEL at payload offset 1.
    Fill,
    Jpeg,
    Basic {
        /// zlib stream, or `None` for basic compression without zlib.
        stream: Option<usize>,
        filter: Filter,
        /// Filtered (uncompressed) data size.
        raw_len: usize,
        /// The data is a compact length plus zlib bytes (else raw bytes).
        compressed: bool,
    },
}

/// The parsed framing of one rectangle.
#[derive(Debug, Clone, Copy)]
struct Header {
    resets: u8,
    method: Method,
    /// Offset and length of the data (JPEG, zlib or raw bytes) in the payload.
    data_at: usize,
    data_len: usize,
}

fn need(at_least: usize) -> Result<Progress<Header>, CodecError> {
    Ok(Progress::NeedMore { at_least })
}

fn check_len(len: u64, limits: &CodecLimits, what: &'static str) -> Result<usize, CodecError> {
    if len > u64::from(limits.max_payload) {
        return Err(CodecError::LimitExceeded {
            what,
            requested: len,
            allowed: limits.max_payload.into(),
        });
    }
    Ok(len as usize)
}

/// Parses the framing of one Tight rectangle from the start of `buf`. Reads no
/// compressed data and changes no state.
fn parse(
    rect: Rect,
    format: &PixelFormat,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<Header>, CodecError> {
    let Some(&ctrl) = buf.first() else {
        return need(1);
    };
    let tf = TpixelFormat::new(format);
    let tpx = tf.bytes();
    let resets = ctrl & 0x0f;
    let kind = ctrl >> 4;
    let (w, h) = (u64::from(rect.width), u64::from(rect.height));
    if kind == FILL {
        return Ok(if buf.len() < 1 + tpx {
            Progress::NeedMore { at_least: 1 + tpx }
        } else {
            Progress::Done {
                item: Header {
                    resets,
                    method: Method::Fill,
                    data_at: 1,
                    data_len: tpx,
                },
                consumed: 1 + tpx,
            }
        });
    }
    if kind == JPEG {
        if !rgb_capable(format) {
            return Err(malformed(
                "JPEG needs a true-colour format of 16 or 32 bits per pixel",
            ));
        }
        let Some((len, n)) = read_compact_len(&buf[1..]) else {
            return need(buf.len() + 1);
        };
        let len = check_len(len.into(), limits, "Tight JPEG length")?;
        let total = 1 + n + len;
        return if buf.len() < total {
            need(total)
        } else {
            Ok(Progress::Done {
                item: Header {
                    resets,
                    method: Method::Jpeg,
                    data_at: 1 + n,
                    data_len: len,
                },
                consumed: total,
            })
        };
    }
    let (stream, has_filter) = match kind {
        0..=7 => (Some(usize::from(kind & 3)), ctrl & READ_FILTER != 0),
        NO_ZLIB => (None, false),
        NO_ZLIB_FILTER => (None, true),
        _ => {
            return Err(malformed(format!(
                "invalid compression control {ctrl:#04x}"
            )))
        }
    };
    let mut at = 1;
    let filter_id = if has_filter {
        let Some(&id) = buf.get(at) else {
            return need(at + 1);
        };
        at += 1;
        id
    } else {
        FILTER_COPY
    };
    let (filter, raw_len) = match filter_id {
        FILTER_COPY => (Filter::Copy, w * h * tpx as u64),
        FILTER_PALETTE => {
            let Some(&count) = buf.get(at) else {
                return need(at + 1);
            };
            let n = usize::from(count) + 1;
            let pal_at = at + 1;
            at = pal_at + n * tpx;
            if buf.len() < at {
                return need(at);
            }
            let len = if n == 2 { w.div_ceil(8) * h } else { w * h };
            (Filter::Palette { n, at: pal_at }, len)
        }
        FILTER_GRADIENT => {
            if !rgb_capable(format) {
                return Err(malformed(
                    "gradient filter needs a true-colour format of 16 or 32 bits per pixel",
                ));
            }
            (Filter::Gradient, w * h * tpx as u64)
        }
        id => return Err(malformed(format!("invalid filter id {id}"))),
    };
    let raw_len = check_len(raw_len, limits, "Tight filtered data")?;
    let compressed = stream.is_some() && raw_len >= MIN_TO_COMPRESS;
    let (data_at, data_len) = if compressed {
        let Some((len, n)) = read_compact_len(&buf[at..]) else {
            return need(buf.len() + 1);
        };
        (at + n, check_len(len.into(), limits, "Tight zlib length")?)
    } else {
        (at, raw_len)
    };
    let total = data_at + data_len;
    if buf.len() < total {
        return need(total);
    }
    Ok(Progress::Done {
        item: Header {
            resets,
            method: Method::Basic {
                stream,
                filter,
                raw_len,
                compressed,
            },
            data_at,
            data_len,
        },
        consumed: total,
    })
}

/// Tight decoder: four persistent inflate streams.
///
/// [`RectDecoder::frame`] parses the compression-control byte, filter, palette and
/// compact length without inflating anything. [`RectDecoder::decode`] resets the
/// streams the rectangle asks for, then inflates **exactly** the filtered size the
/// rectangle needs (an error if the data holds more or less), checks every palette index,
/// and checks a JPEG's size against the rectangle, before painting. A refused
/// rectangle paints nothing. Rectangles of any width are decoded (the spec's 2048 limit
/// binds encoders).
///
/// ```
/// use rfb_codec::tight::TightDecoder;
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
///
/// // A fill: compression control 0x80, then one 3-byte TPIXEL (red, green, blue).
/// let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
/// let wire = [0x80, 0x12, 0x34, 0x56];
/// TightDecoder::new().decode(Rect::new(1, 1, 2, 2), &wire, &mut fb, &CodecLimits::default()).unwrap();
/// assert_eq!(&fb.row(1)[4..8], &[0x56, 0x34, 0x12, 0]); // little-endian 0x00123456
/// ```
#[derive(Debug, Default)]
pub struct TightDecoder {
    streams: [Inflater; 4],
    /// Inflated (filtered) data.
    raw: Vec<u8>,
    /// The rectangle's pixels, packed, before painting.
    pixels: Vec<u8>,
}

impl TightDecoder {
    /// A decoder with four fresh streams.
    pub fn new() -> TightDecoder {
        TightDecoder::default()
    }
}

impl RectDecoder for TightDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::TIGHT
    }

    fn frame(
        &mut self,
        rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        Ok(match parse(rect, format, buf, limits)? {
            Progress::Done { consumed, .. } => Progress::Done { item: (), consumed },
            Progress::NeedMore { at_least } => Progress::NeedMore { at_least },
        })
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let format = *fb.format();
        let hdr = match parse(rect, &format, payload, limits)? {
            Progress::Done { item, consumed } if consumed == payload.len() => item,
            _ => return Err(malformed("payload does not match its framing")),
        };
        for (i, s) in self.streams.iter_mut().enumerate() {
            if hdr.resets & (1 << i) != 0 {
                s.reset();
            }
        }
        let tf = TpixelFormat::new(&format);
        let bpp = tf.pixel_bytes();
        let data = &payload[hdr.data_at..hdr.data_at + hdr.data_len];
        let (w, h) = (usize::from(rect.width), usize::from(rect.height));
        match hdr.method {
            Method::Fill => {
                let mut px = [0u8; 4];
                tf.from_tpixel(data, &mut px[..bpp]);
                fb.fill(rect, &px[..bpp])
            }
            Method::Jpeg => {
                jpeg::decode(data, rect.width, rect.height, &format, &mut self.pixels)?;
                fb.put_pixels(rect, &self.pixels)
            }
            Method::Basic {
                stream,
                filter,
                raw_len,
                compressed,
            } => {
                let raw: &[u8] = match stream {
                    Some(s) if compressed => {
                        self.raw.clear();
                        self.raw.resize(raw_len, 0);
                        self.streams[s].inflate_exact(data, &mut self.raw, NAME)?;
                        &self.raw
                    }
                    _ => data,
                };
                self.pixels.clear();
                self.pixels.resize(w * h * bpp, 0);
                let tpx = tf.bytes();
                match filter {
                    Filter::Copy => {
                        for (t, px) in raw.chunks_exact(tpx).zip(self.pixels.chunks_exact_mut(bpp))
                        {
                            tf.from_tpixel(t, px);
                        }
                    }
                    Filter::Gradient => gradient_decode(&tf, w, h, raw, &mut self.pixels),
                    Filter::Palette { n, at } => {
                        let mut pal = [0u8; 256 * 4];
                        for (i, t) in payload[at..at + n * tpx].chunks_exact(tpx).enumerate() {
                            tf.from_tpixel(t, &mut pal[i * bpp..(i + 1) * bpp]);
                        }
                        if n == 2 {
                            let row_bytes = w.div_ceil(8);
                            for y in 0..h {
                                let bits = &raw[y * row_bytes..(y + 1) * row_bytes];
                                let out = &mut self.pixels[y * w * bpp..(y + 1) * w * bpp];
                                for (x, px) in out.chunks_exact_mut(bpp).enumerate() {
                                    let i = usize::from((bits[x / 8] >> (7 - x % 8)) & 1);
                                    px.copy_from_slice(&pal[i * bpp..(i + 1) * bpp]);
                                }
                            }
                        } else {
                            for (&i, px) in raw.iter().zip(self.pixels.chunks_exact_mut(bpp)) {
                                let i = usize::from(i);
                                if i >= n {
                                    return Err(malformed(format!(
                                        "palette index {i} with {n} colours"
                                    )));
                                }
                                px.copy_from_slice(&pal[i * bpp..(i + 1) * bpp]);
                            }
                        }
                    }
                }
                fb.put_pixels(rect, &self.pixels)
            }
        }
    }
}
