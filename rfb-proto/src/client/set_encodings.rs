//! SetEncodings (type 2): the encodings and pseudo-encodings the client accepts.

use bytes::BufMut;

use crate::error::LimitExceeded;
use crate::limits::Limit;
use crate::wire::{Reader, Step};
use crate::{Encoding, Limits};

/// Message type of SetEncodings.
pub const MESSAGE_TYPE: u8 = 2;

/// Reads padding, count and encodings, checking the count against
/// [`Limits::max_encodings`] before waiting for the list.
pub(crate) fn read_body(r: &mut Reader<'_>, limits: &Limits) -> Step<Vec<Encoding>> {
    r.skip(1)?;
    let n = r.u16()?;
    LimitExceeded::check(Limit::Encodings, n.into(), limits.max_encodings.into())?;
    r.need(usize::from(n) * 4)?;
    (0..n).map(|_| Ok(Encoding(r.i32()?))).collect()
}

/// Appends the whole message (at most 65535 encodings are written).
pub(crate) fn encode(encodings: &[Encoding], out: &mut impl BufMut) {
    let n = encodings.len().min(usize::from(u16::MAX));
    out.put_u8(MESSAGE_TYPE);
    out.put_u8(0);
    out.put_u16(n as u16);
    for e in &encodings[..n] {
        out.put_i32(e.0);
    }
}
