//! EnableContinuousUpdates (type 150).

use bytes::BufMut;

use crate::wire::{Reader, Step};
use crate::Rect;

/// Switches continuous updates on for an area, or off.
///
/// ```
/// use rfb_proto::{client::EnableContinuousUpdates, Rect};
/// let mut w = Vec::new();
/// EnableContinuousUpdates { enable: true, rect: Rect::new(1, 2, 3, 4) }.encode(&mut w);
/// assert_eq!(w, [150, 1, 0, 1, 0, 2, 0, 3, 0, 4]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnableContinuousUpdates {
    /// Start (true) or stop (false) continuous updates.
    pub enable: bool,
    /// The area to keep up to date.
    pub rect: Rect,
}

impl EnableContinuousUpdates {
    /// Message type of EnableContinuousUpdates.
    pub const MESSAGE_TYPE: u8 = 150;

    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        Ok(EnableContinuousUpdates {
            enable: r.u8()? != 0,
            rect: Rect::read(r)?,
        })
    }

    /// Appends the whole 10-byte message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(u8::from(self.enable));
        self.rect.encode(out);
    }
}
