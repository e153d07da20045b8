//! CopyRect encoding (1): the rectangle is a copy of the same-sized area at
//! (`src-x-position`, `src-y-position`) of the client's framebuffer.

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::raw::{exact_len, need};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// Appends a CopyRect payload: the source position as two `U16`.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// rfb_codec::copy_rect::encode_copy_rect(258, 3, &mut out);
/// assert_eq!(&out[..], &[1, 2, 0, 3]);
/// ```
pub fn encode_copy_rect(src_x: u16, src_y: u16, out: &mut BytesMut) {
    out.put_u16(src_x);
    out.put_u16(src_y);
}

/// CopyRect as a [`RectEncoder`]: the pixels handed in are ignored, the payload is the
/// source position given at construction (the planner knows it, from move detection).
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::{copy_rect::CopyRectEncoder, Framebuffer, PixelFormat, RectEncoder};
/// let fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
/// let mut out = BytesMut::new();
/// CopyRectEncoder { src_x: 1, src_y: 2 }.encode(&fb.view(fb.rect()).unwrap(), &mut out).unwrap();
/// assert_eq!(&out[..], &[0, 1, 0, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyRectEncoder {
    /// Left edge of the source area.
    pub src_x: u16,
    /// Top edge of the source area.
    pub src_y: u16,
}

impl RectEncoder for CopyRectEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::COPY_RECT
    }

    fn encode(&mut self, _pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        encode_copy_rect(self.src_x, self.src_y, out);
        Ok(())
    }
}

/// CopyRect decoder: checks both the source and the destination against the
/// framebuffer, then copies (overlapping areas are fine).
///
/// ```
/// use rfb_codec::{copy_rect::CopyRectDecoder, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
/// let mut fb = Framebuffer::from_data(4, 1, PixelFormat::RGB332, vec![1, 2, 3, 4]).unwrap();
/// let l = CodecLimits::default();
/// CopyRectDecoder.decode(Rect::new(1, 0, 3, 1), &[0, 0, 0, 0], &mut fb, &l).unwrap();
/// assert_eq!(fb.data(), &[1, 1, 2, 3]);
/// assert!(CopyRectDecoder.decode(Rect::new(0, 0, 2, 1), &[0, 3, 0, 0], &mut fb, &l).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyRectDecoder;

impl CopyRectDecoder {
    /// Parses a CopyRect payload into the source position.
    pub fn parse(payload: &[u8]) -> Result<(u16, u16), CodecError> {
        exact_len("CopyRect", payload, 4)?;
        Ok((
            u16::from_be_bytes([payload[0], payload[1]]),
            u16::from_be_bytes([payload[2], payload[3]]),
        ))
    }
}

impl RectDecoder for CopyRectDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::COPY_RECT
    }

    fn frame(
        &mut self,
        _rect: Rect,
        _format: &PixelFormat,
        buf: &[u8],
        _limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        Ok(need(buf.len(), 4))
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        _limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        let (sx, sy) = Self::parse(payload)?;
        fb.check(rect)?;
        fb.copy_within(Rect::new(sx, sy, rect.width, rect.height), rect.x, rect.y)
    }
}
