//! FramebufferUpdateRequest (type 3).

use bytes::BufMut;

use crate::wire::{Reader, Step};
use crate::Rect;

/// Asks for an update of an area of the framebuffer.
///
/// ```
/// use rfb_proto::{client::FramebufferUpdateRequest, Rect};
/// let mut w = Vec::new();
/// FramebufferUpdateRequest { incremental: true, rect: Rect::new(0, 0, 800, 600) }.encode(&mut w);
/// assert_eq!(w, [3, 1, 0, 0, 0, 0, 3, 32, 2, 88]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FramebufferUpdateRequest {
    /// Only changes are wanted (true), or the whole area (false).
    pub incremental: bool,
    /// The area (servers crop it to the framebuffer).
    pub rect: Rect,
}

impl FramebufferUpdateRequest {
    /// Message type of FramebufferUpdateRequest.
    pub const MESSAGE_TYPE: u8 = 3;

    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        Ok(FramebufferUpdateRequest {
            incremental: r.u8()? != 0,
            rect: Rect::read(r)?,
        })
    }

    /// Appends the whole 10-byte message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(u8::from(self.incremental));
        self.rect.encode(out);
    }
}
