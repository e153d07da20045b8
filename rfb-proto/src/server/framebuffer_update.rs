//! FramebufferUpdate (type 0): the header and the rectangle headers that follow it.

use bytes::BufMut;

use crate::wire::{run, Reader, Step};
use crate::{Encoding, Error, Progress, Rect};

/// The 4-byte FramebufferUpdate header; `rects` rectangles follow, each a
/// [`RectHeader`] and a payload.
///
/// ```
/// use rfb_proto::server::FramebufferUpdateHeader;
/// let mut w = Vec::new();
/// FramebufferUpdateHeader { rects: 2 }.encode(&mut w);
/// assert_eq!(w, [0, 0, 0, 2]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FramebufferUpdateHeader {
    /// Number of rectangles, or [`FramebufferUpdateHeader::UNKNOWN_COUNT`] when the update
    /// ends with a LastRect rectangle.
    pub rects: u16,
}

impl FramebufferUpdateHeader {
    /// Message type of FramebufferUpdate.
    pub const MESSAGE_TYPE: u8 = 0;
    /// The count servers send when they end the update with LastRect.
    pub const UNKNOWN_COUNT: u16 = u16::MAX;

    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        r.skip(1)?;
        Ok(FramebufferUpdateHeader { rects: r.u16()? })
    }

    /// Appends the 4-byte header.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(0);
        out.put_u16(self.rects);
    }
}

/// The 12-byte header of one rectangle of a FramebufferUpdate: position, size and
/// encoding. Its payload (whose length depends on the encoding) follows.
///
/// ```
/// use rfb_proto::{Encoding, Rect, RectHeader};
/// let h = RectHeader { rect: Rect::new(1, 2, 3, 4), encoding: Encoding::LAST_RECT };
/// let mut w = Vec::new();
/// h.encode(&mut w);
/// assert_eq!(w, [0, 1, 0, 2, 0, 3, 0, 4, 0xff, 0xff, 0xff, 0x20]);
/// assert_eq!(RectHeader::decode(&w).unwrap().done(), Some((h, 12)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RectHeader {
    /// Position and size (pseudo-encodings give these other meanings).
    pub rect: Rect,
    /// The encoding or pseudo-encoding of the payload.
    pub encoding: Encoding,
}

impl RectHeader {
    /// Length on the wire.
    pub const LEN: usize = 12;

    /// Parses the 12-byte header.
    pub fn decode(buf: &[u8]) -> Result<Progress<RectHeader>, Error> {
        run(buf, Self::read)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Step<Self> {
        r.need(Self::LEN)?;
        Ok(RectHeader {
            rect: Rect::read(r)?,
            encoding: Encoding(r.i32()?),
        })
    }

    /// Appends the 12-byte header.
    pub fn encode(&self, out: &mut impl BufMut) {
        self.rect.encode(out);
        out.put_i32(self.encoding.0);
    }
}
