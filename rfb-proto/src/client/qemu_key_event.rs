//! QEMU Extended Key Event (type 255, sub-type 0).

use bytes::BufMut;

use crate::wire::{Reader, Step};

/// A key event carrying the XT keycode as well as the keysym.
///
/// ```
/// use rfb_proto::client::QemuKeyEvent;
/// let mut w = Vec::new();
/// // XT 0xe0 0x4d (Right arrow) is keycode 0xcd.
/// QemuKeyEvent { down: true, keysym: 0xff53, keycode: 0xcd }.encode(&mut w);
/// assert_eq!(w, [255, 0, 0, 1, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QemuKeyEvent {
    /// Pressed (true) or released (false); the wire field is a `U16`.
    pub down: bool,
    /// The X keysym (0 if unknown).
    pub keysym: u32,
    /// The XT keycode (0xe0-prefixed scancodes have bit 7 set).
    pub keycode: u32,
}

impl QemuKeyEvent {
    /// Message type of QEMU client messages.
    pub const MESSAGE_TYPE: u8 = 255;
    /// Sub-message type of the extended key event.
    pub const SUBMESSAGE_TYPE: u8 = 0;

    /// Reads down-flag, keysym and keycode (after type and sub-type).
    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        Ok(QemuKeyEvent {
            down: r.u16()? != 0,
            keysym: r.u32()?,
            keycode: r.u32()?,
        })
    }

    /// Appends the whole 12-byte message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(Self::SUBMESSAGE_TYPE);
        out.put_u16(u16::from(self.down));
        out.put_u32(self.keysym);
        out.put_u32(self.keycode);
    }
}
