//! SetPixelFormat (type 0): the format the client wants pixels in.

use bytes::BufMut;

use crate::wire::{Reader, Step};
use crate::PixelFormat;

/// Message type of SetPixelFormat.
pub const MESSAGE_TYPE: u8 = 0;

/// Reads padding and the (validated) pixel format after the type byte.
pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<PixelFormat> {
    r.skip(3)?;
    PixelFormat::read(r)
}

/// Appends the whole 20-byte message.
pub(crate) fn encode(pf: &PixelFormat, out: &mut impl BufMut) {
    out.put_u8(MESSAGE_TYPE);
    out.put_slice(&[0, 0, 0]);
    pf.encode(out);
}
