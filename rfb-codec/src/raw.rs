//! Raw encoding (0): `width * height` pixels, left to right, top to bottom.
//!
//! Also holds small helpers the other encodings of this crate share.

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// Raw encoder: copies the rows.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::{raw::RawEncoder, Framebuffer, PixelFormat, Rect, RectEncoder};
/// let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB332);
/// fb.fill(Rect::new(1, 0, 1, 2), &[0xe0]).unwrap();
/// let mut out = BytesMut::new();
/// RawEncoder.encode(&fb.view(fb.rect()).unwrap(), &mut out).unwrap();
/// assert_eq!(&out[..], &[0x00, 0xe0, 0x00, 0xe0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RawEncoder;

impl RectEncoder for RawEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::RAW
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        out.reserve(
            usize::from(pixels.width())
                * usize::from(pixels.height())
                * pixels.format().bytes_per_pixel(),
        );
        for row in pixels.rows() {
            out.put_slice(row);
        }
        Ok(())
    }
}

/// Raw decoder.
///
/// ```
/// use rfb_codec::{raw::RawDecoder, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
/// let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB332);
/// let rect = Rect::new(1, 0, 2, 1);
/// let limits = CodecLimits::default();
/// let (_, len) = RawDecoder.frame(rect, fb.format(), &[7, 9, 99], &limits).unwrap().done().unwrap();
/// assert_eq!(len, 2);
/// RawDecoder.decode(rect, &[7, 9], &mut fb, &limits).unwrap();
/// assert_eq!(fb.data(), &[0, 7, 9]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RawDecoder;

impl RectDecoder for RawDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::RAW
    }

    fn frame(
        &mut self,
        rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        let len = rect.area() * format.bytes_per_pixel() as u64;
        check_payload(len, limits)?;
        Ok(need(buf.len(), len as usize))
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let len = rect.area() * fb.bytes_per_pixel() as u64;
        check_payload(len, limits)?;
        exact_len("Raw", payload, len as usize)?;
        fb.put_pixels(rect, payload)
    }
}

/// A [`CodecError::Malformed`].
pub(crate) fn malformed(encoding: &'static str, what: impl Into<String>) -> CodecError {
    CodecError::Malformed {
        encoding,
        what: what.into(),
    }
}

/// [`CodecError::LimitExceeded`] unless a payload of `len` bytes is allowed.
pub(crate) fn check_payload(len: u64, limits: &CodecLimits) -> Result<(), CodecError> {
    if len > u64::from(limits.max_payload) {
        Err(CodecError::LimitExceeded {
            what: "rectangle payload bytes",
            requested: len,
            allowed: limits.max_payload.into(),
        })
    } else {
        Ok(())
    }
}

/// [`CodecError::LimitExceeded`] unless `count` sub-rectangles are allowed.
pub(crate) fn check_subrects(count: u64, limits: &CodecLimits) -> Result<(), CodecError> {
    if count > u64::from(limits.max_subrects) {
        Err(CodecError::LimitExceeded {
            what: "sub-rectangles",
            requested: count,
            allowed: limits.max_subrects.into(),
        })
    } else {
        Ok(())
    }
}

/// `Done` if `have >= len`, else `NeedMore`.
pub(crate) fn need(have: usize, len: usize) -> Progress<()> {
    if have >= len {
        Progress::Done {
            item: (),
            consumed: len,
        }
    } else {
        Progress::NeedMore { at_least: len }
    }
}

/// Malformed unless the payload is exactly `len` bytes.
pub(crate) fn exact_len(
    encoding: &'static str,
    payload: &[u8],
    len: usize,
) -> Result<(), CodecError> {
    if payload.len() == len {
        Ok(())
    } else {
        Err(malformed(
            encoding,
            format!("payload of {} bytes where {len} were framed", payload.len()),
        ))
    }
}

/// A pixel's bytes as a `u32` that identifies it (not its colour value: byte order is
/// not interpreted, so [`store`] gives back the same bytes).
pub(crate) fn load(bytes: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    let n = bytes.len().min(4);
    a[..n].copy_from_slice(&bytes[..n]);
    u32::from_le_bytes(a)
}

/// The `bpp` bytes of a pixel loaded with [`load`].
pub(crate) fn store(v: u32, bpp: usize, out: &mut BytesMut) {
    out.put_slice(&v.to_le_bytes()[..bpp.min(4)]);
}

/// Every pixel of a view, loaded with [`load`], row after row.
pub(crate) fn load_all(pixels: &PixelView<'_>) -> Vec<u32> {
    let mut v = Vec::new();
    load_into(pixels, &mut v);
    v
}

/// [`load_all`] into a reused buffer (cleared first).
pub(crate) fn load_into(pixels: &PixelView<'_>, v: &mut Vec<u32>) {
    let bpp = pixels.format().bytes_per_pixel();
    v.clear();
    for row in pixels.rows() {
        v.extend(row.chunks_exact(bpp).map(load));
    }
}

/// A sub-rectangle of one colour, relative to its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubRect {
    pub(crate) colour: u32,
    pub(crate) x: u16,
    pub(crate) y: u16,
    pub(crate) w: u16,
    pub(crate) h: u16,
}

/// Covers every pixel of `px` (a `w` x `h` grid) that is not `bg` with non-overlapping
/// single-colour rectangles: greedily, each grows right as far as the colour runs, then
/// down while whole rows match. Stops early (returning `None`) past `max` rectangles.
pub(crate) fn subrects(
    px: &[u32],
    w: usize,
    h: usize,
    bg: u32,
    max: usize,
) -> Option<Vec<SubRect>> {
    let mut covered = Vec::new();
    let mut out = Vec::new();
    subrects_into(px, w, h, bg, max, &mut covered, &mut out).then_some(out)
}

/// [`subrects`] with caller-provided scratch space (`covered` and `out` are cleared
/// first); returns false past `max` rectangles.
pub(crate) fn subrects_into(
    px: &[u32],
    w: usize,
    h: usize,
    bg: u32,
    max: usize,
    covered: &mut Vec<bool>,
    out: &mut Vec<SubRect>,
) -> bool {
    covered.clear();
    covered.resize(px.len(), false);
    out.clear();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let c = px[i];
            if c == bg || covered[i] {
                continue;
            }
            let mut x1 = x + 1;
            while x1 < w && px[y * w + x1] == c && !covered[y * w + x1] {
                x1 += 1;
            }
            let mut y1 = y + 1;
            'down: while y1 < h {
                for xx in x..x1 {
                    let j = y1 * w + xx;
                    if px[j] != c || covered[j] {
                        break 'down;
                    }
                }
                y1 += 1;
            }
            for yy in y..y1 {
                covered[yy * w + x..yy * w + x1].fill(true);
            }
            if out.len() == max {
                return false;
            }
            out.push(SubRect {
                colour: c,
                x: x as u16,
                y: y as u16,
                w: (x1 - x) as u16,
                h: (y1 - y) as u16,
            });
        }
    }
    true
}

/// The most frequent value (the smallest among equals), or `None` for no pixels.
pub(crate) fn most_frequent(px: &[u32]) -> Option<u32> {
    most_frequent_with(px, &mut Vec::new())
}

/// [`most_frequent`] with caller-provided scratch space.
pub(crate) fn most_frequent_with(px: &[u32], sorted: &mut Vec<u32>) -> Option<u32> {
    sorted.clear();
    sorted.extend_from_slice(px);
    sorted.sort_unstable();
    let mut best: Option<(usize, u32)> = None;
    for run in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(n, _)| run.len() > n) {
            best = Some((run.len(), run[0]));
        }
    }
    best.map(|(_, v)| v)
}
