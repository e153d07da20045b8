//! KeyEvent (type 4).

use bytes::BufMut;

use crate::wire::{Reader, Step};

/// A key press or release, as an X keysym.
///
/// ```
/// use rfb_proto::client::KeyEvent;
/// let mut w = Vec::new();
/// KeyEvent { down: true, keysym: 'a' as u32 }.encode(&mut w);
/// assert_eq!(w, [4, 1, 0, 0, 0, 0, 0, 0x61]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// Pressed (true) or released (false).
    pub down: bool,
    /// The X keysym.
    pub keysym: u32,
}

impl KeyEvent {
    /// Message type of KeyEvent.
    pub const MESSAGE_TYPE: u8 = 4;

    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        let down = r.u8()? != 0;
        r.skip(2)?;
        Ok(KeyEvent {
            down,
            keysym: r.u32()?,
        })
    }

    /// Appends the whole 8-byte message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(u8::from(self.down));
        out.put_u16(0);
        out.put_u32(self.keysym);
    }
}
