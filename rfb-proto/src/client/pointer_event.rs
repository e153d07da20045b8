//! PointerEvent (type 5), classic and ExtendedMouseButtons forms.

use bytes::BufMut;

use crate::wire::{Reader, Step};

/// Pointer position and button state.
///
/// `buttons` holds one bit per button, bit *n* = button *n*+1:
///
/// | bit | button | classic message | extended message |
/// |-----|--------|-----------------|------------------|
/// | 0–6 | left, middle, right, wheel up/down/left/right | *button-mask* bits 0–6 | *button-mask* bits 0–6 |
/// | 7 | back | *button-mask* bit 7 | *extended-buttons-mask* bit 0 |
/// | 8 | forward | — | *extended-buttons-mask* bit 1 |
/// | 9–14 | reserved | — | *extended-buttons-mask* bits 2–7 |
///
/// Bit 15 is never set by decoding and is dropped by encoding. Once ExtendedMouseButtons
/// is negotiated, bit 7 of *button-mask* is the marker of the extended form rather than
/// the back button (see [`ClientParseState`](crate::client::ClientParseState)).
///
/// ```
/// use rfb_proto::client::PointerEvent;
/// let mut w = Vec::new();
/// PointerEvent { buttons: PointerEvent::LEFT, x: 1, y: 2 }.encode(&mut w);
/// assert_eq!(w, [5, 1, 0, 1, 0, 2]);
/// w.clear();
/// // With the extension, "forward" needs the extended form: marker bit + extra byte.
/// PointerEvent { buttons: PointerEvent::FORWARD, x: 1, y: 2 }.encode_extended(&mut w);
/// assert_eq!(w, [5, 0x80, 0, 1, 0, 2, 0b10]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PointerEvent {
    /// Button state, one bit per button (see the table above).
    pub buttons: u16,
    /// Pointer x position (or delta, in QEMU relative mode).
    pub x: u16,
    /// Pointer y position (or delta, in QEMU relative mode).
    pub y: u16,
}

impl PointerEvent {
    /// Message type of PointerEvent.
    pub const MESSAGE_TYPE: u8 = 5;
    /// Button 1.
    pub const LEFT: u16 = 1 << 0;
    /// Button 2.
    pub const MIDDLE: u16 = 1 << 1;
    /// Button 3.
    pub const RIGHT: u16 = 1 << 2;
    /// Button 4 (one wheel step up is a press and a release).
    pub const WHEEL_UP: u16 = 1 << 3;
    /// Button 5.
    pub const WHEEL_DOWN: u16 = 1 << 4;
    /// Button 6.
    pub const WHEEL_LEFT: u16 = 1 << 5;
    /// Button 7.
    pub const WHEEL_RIGHT: u16 = 1 << 6;
    /// Button 8, back.
    pub const BACK: u16 = 1 << 7;
    /// Button 9, forward (extended form only).
    pub const FORWARD: u16 = 1 << 8;

    /// Reads the body; with `extended` set, a set marker bit means one more byte.
    pub(crate) fn read_body(r: &mut Reader<'_>, extended: bool) -> Step<Self> {
        let mask = r.u8()?;
        let x = r.u16()?;
        let y = r.u16()?;
        let buttons = if extended && mask & 0x80 != 0 {
            u16::from(mask & 0x7f) | (u16::from(r.u8()?) << 7)
        } else {
            u16::from(mask)
        };
        Ok(PointerEvent { buttons, x, y })
    }

    /// Appends the classic 6-byte message, for a server that has not confirmed
    /// ExtendedMouseButtons: bits 0–7 of `buttons` (bit 7 is back); bits 8 and up are
    /// not expressible and are dropped.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(self.buttons as u8); // bits 0..=7, as documented
        out.put_u16(self.x);
        out.put_u16(self.y);
    }

    /// Appends the message for a server that has confirmed ExtendedMouseButtons: the
    /// classic form if only buttons 1–7 are involved, the 7-byte extended form
    /// otherwise.
    pub fn encode_extended(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        if self.buttons & !0x7f == 0 {
            out.put_u8(self.buttons as u8);
            out.put_u16(self.x);
            out.put_u16(self.y);
        } else {
            out.put_u8(0x80 | (self.buttons & 0x7f) as u8);
            out.put_u16(self.x);
            out.put_u16(self.y);
            out.put_u8((self.buttons >> 7) as u8); // bits 7..=14; bit 15 dropped
        }
    }
}
