//! ServerCutText (type 3); the body is shared with ClientCutText ([`CutText`]).

use bytes::BufMut;

use crate::wire::{Reader, Step};
use crate::{CutText, Limits};

/// Message type of ServerCutText.
pub const MESSAGE_TYPE: u8 = 3;

pub(crate) fn read_body(r: &mut Reader<'_>, limits: &Limits) -> Step<CutText> {
    r.skip(3)?;
    CutText::read_body(r, limits)
}

pub(crate) fn encode(text: &CutText, out: &mut impl BufMut) {
    out.put_u8(MESSAGE_TYPE);
    out.put_slice(&[0, 0, 0]);
    text.encode_body(out);
}
