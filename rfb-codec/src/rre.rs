//! RRE (2) and CoRRE (4): a background pixel, then single-colour sub-rectangles.
//!
//! ```text
//! U32 number-of-subrectangles, PIXEL background,
//! then per sub-rectangle: PIXEL colour, x, y, width, height
//!   (RRE: four U16; CoRRE: four U8)
//! ```
//!
//! The decoders check the count against [`CodecLimits::max_subrects`] and the payload
//! length against [`CodecLimits::max_payload`] while framing, and every sub-rectangle
//! against the rectangle before painting anything.
//!
//! The encoders take the most frequent pixel as background and cover the rest greedily
//! with non-overlapping rectangles (each grown right along its colour run, then down
//! while whole rows match).

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::raw::{
    check_payload, check_subrects, exact_len, load_all, malformed, most_frequent, need, store,
    subrects,
};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// Which of the two variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Rre,
    Corre,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Rre => "RRE",
            Variant::Corre => "CoRRE",
        }
    }

    /// Bytes of x, y, width and height.
    fn geometry_len(self) -> usize {
        match self {
            Variant::Rre => 8,
            Variant::Corre => 4,
        }
    }
}

fn encode(variant: Variant, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
    let (w, h) = (usize::from(pixels.width()), usize::from(pixels.height()));
    if variant == Variant::Corre && (w > 255 || h > 255) {
        return Err(CodecError::ApiMisuse {
            what: format!("CoRRE rectangle {w}x{h} is larger than 255x255"),
        });
    }
    let bpp = pixels.format().bytes_per_pixel();
    let px = load_all(pixels);
    let bg = most_frequent(&px).unwrap_or(0);
    let subs = subrects(&px, w, h, bg, usize::MAX).unwrap_or_default();
    let count = u32::try_from(subs.len()).map_err(|_| CodecError::ApiMisuse {
        what: "more than 2^32 sub-rectangles".into(),
    })?;
    out.reserve(4 + bpp + subs.len() * (bpp + variant.geometry_len()));
    out.put_u32(count);
    store(bg, bpp, out);
    for s in subs {
        store(s.colour, bpp, out);
        match variant {
            Variant::Rre => {
                for v in [s.x, s.y, s.w, s.h] {
                    out.put_u16(v);
                }
            }
            Variant::Corre => {
                // Fits: the rectangle is at most 255x255.
                for v in [s.x, s.y, s.w, s.h] {
                    out.put_u8(v as u8);
                }
            }
        }
    }
    Ok(())
}

fn frame(
    variant: Variant,
    format: &PixelFormat,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<()>, CodecError> {
    let bpp = format.bytes_per_pixel();
    if buf.len() < 4 {
        return Ok(Progress::NeedMore { at_least: 4 + bpp });
    }
    let count = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    check_subrects(count.into(), limits)?;
    let len = 4 + bpp as u64 + u64::from(count) * (bpp + variant.geometry_len()) as u64;
    check_payload(len, limits)?;
    Ok(need(buf.len(), len as usize))
}

fn decode(
    variant: Variant,
    rect: Rect,
    payload: &[u8],
    fb: &mut Framebuffer,
    limits: &CodecLimits,
) -> Result<(), CodecError> {
    fb.check(rect)?;
    let bpp = fb.bytes_per_pixel();
    let len = match frame(variant, fb.format(), payload, limits)? {
        Progress::Done { consumed, .. } => consumed,
        Progress::NeedMore { at_least } => {
            return Err(malformed(
                variant.name(),
                format!("payload of {} bytes, {at_least} needed", payload.len()),
            ))
        }
    };
    exact_len(variant.name(), payload, len)?;
    let body = &payload[4 + bpp..];
    let each = bpp + variant.geometry_len();
    let geometry = |s: &[u8]| -> [u16; 4] {
        let g = &s[bpp..];
        match variant {
            Variant::Rre => [0, 2, 4, 6].map(|i| u16::from_be_bytes([g[i], g[i + 1]])),
            Variant::Corre => [0, 1, 2, 3].map(|i| u16::from(g[i])),
        }
    };
    // Validate every sub-rectangle before painting anything.
    for s in body.chunks_exact(each) {
        let [x, y, w, h] = geometry(s);
        if !Rect::new(x, y, w, h).fits_in(rect.width, rect.height) {
            return Err(CodecError::OutOfBounds {
                what: "sub-rectangle",
                x: x.into(),
                y: y.into(),
                width: w.into(),
                height: h.into(),
                bound_width: rect.width.into(),
                bound_height: rect.height.into(),
            });
        }
    }
    fb.fill(rect, &payload[4..4 + bpp])?;
    for s in body.chunks_exact(each) {
        let [x, y, w, h] = geometry(s);
        // In range: x + w <= rect.width, so rect.x + x + w <= fb width <= u16::MAX.
        fb.fill(Rect::new(rect.x + x, rect.y + y, w, h), &s[..bpp])?;
    }
    Ok(())
}

/// RRE encoder.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::{rre::RreEncoder, Framebuffer, PixelFormat, Rect, RectEncoder};
/// let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
/// fb.fill(Rect::new(1, 1, 2, 2), &[0xff]).unwrap();
/// let mut out = BytesMut::new();
/// RreEncoder.encode(&fb.view(fb.rect()).unwrap(), &mut out).unwrap();
/// assert_eq!(&out[..], &[0, 0, 0, 1, 0x00, 0xff, 0, 1, 0, 1, 0, 2, 0, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RreEncoder;

impl RectEncoder for RreEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::RRE
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        encode(Variant::Rre, pixels, out)
    }
}

/// CoRRE encoder. The rectangle must be at most 255x255 (the planner splits larger
/// ones); otherwise [`CodecError::ApiMisuse`].
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::{rre::CorreEncoder, Framebuffer, PixelFormat, Rect, RectEncoder};
/// let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
/// fb.fill(Rect::new(1, 1, 2, 2), &[0xff]).unwrap();
/// let mut out = BytesMut::new();
/// CorreEncoder.encode(&fb.view(fb.rect()).unwrap(), &mut out).unwrap();
/// assert_eq!(&out[..], &[0, 0, 0, 1, 0x00, 0xff, 1, 1, 2, 2]);
/// let big = Framebuffer::new(256, 1, PixelFormat::RGB332);
/// assert!(CorreEncoder.encode(&big.view(big.rect()).unwrap(), &mut out).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorreEncoder;

impl RectEncoder for CorreEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::CORRE
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        encode(Variant::Corre, pixels, out)
    }
}

/// RRE decoder.
///
/// ```
/// use rfb_codec::{rre::RreDecoder, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
/// let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB332);
/// let payload = [0, 0, 0, 1, 5, 9, 0, 2, 0, 0, 0, 1, 0, 1];
/// RreDecoder.decode(fb.rect(), &payload, &mut fb, &CodecLimits::default()).unwrap();
/// assert_eq!(fb.data(), &[5, 5, 9]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RreDecoder;

impl RectDecoder for RreDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::RRE
    }

    fn frame(
        &mut self,
        _rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        frame(Variant::Rre, format, buf, limits)
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        decode(Variant::Rre, rect, payload, fb, limits)
    }
}

/// CoRRE decoder.
///
/// ```
/// use rfb_codec::{rre::CorreDecoder, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
/// let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB332);
/// let payload = [0, 0, 0, 1, 5, 9, 2, 0, 1, 1];
/// CorreDecoder.decode(fb.rect(), &payload, &mut fb, &CodecLimits::default()).unwrap();
/// assert_eq!(fb.data(), &[5, 5, 9]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorreDecoder;

impl RectDecoder for CorreDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::CORRE
    }

    fn frame(
        &mut self,
        _rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        frame(Variant::Corre, format, buf, limits)
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        decode(Variant::Corre, rect, payload, fb, limits)
    }
}
