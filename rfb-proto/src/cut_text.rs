//! The body of ClientCutText and ServerCutText, classic or extended.

use bytes::{BufMut, Bytes};

use crate::clipboard::ExtendedClipboard;
use crate::error::LimitExceeded;
use crate::limits::Limit;
use crate::wire::{Reader, Step};
use crate::Limits;

/// The payload of a ClientCutText (type 6) or ServerCutText (type 3) message.
///
/// The length field is read as a signed `S32`: zero or positive means classic Latin-1
/// text of that many bytes; negative means an [`ExtendedClipboard`] message of
/// `abs(length)` bytes. Either way the length is checked against
/// [`Limits::max_cut_text`] before the body is waited for.
///
/// ```
/// use rfb_proto::{ClientMessage, CutText};
/// let mut wire = Vec::new();
/// ClientMessage::ClientCutText(CutText::from_text("hé")).encode(&mut wire);
/// assert_eq!(wire, [6, 0, 0, 0, 0, 0, 0, 2, b'h', 0xe9]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CutText {
    /// Classic ISO 8859-1 text (line ends are LF alone).
    Latin1(Bytes),
    /// An Extended Clipboard message (only once the extension was negotiated).
    Extended(ExtendedClipboard),
}

impl CutText {
    /// Classic text from a string: characters outside Latin-1 become `?` and CR LF
    /// becomes LF (see [`encode_latin1`](crate::encode_latin1)).
    pub fn from_text(text: &str) -> CutText {
        CutText::Latin1(crate::encode_latin1(text).into())
    }

    /// The classic text as a string (UTF-8 if valid, else Latin-1, see
    /// [`decode_text`](crate::decode_text)); `None` for an extended message.
    pub fn text(&self) -> Option<String> {
        match self {
            CutText::Latin1(b) => Some(crate::decode_text(b)),
            CutText::Extended(_) => None,
        }
    }

    /// Reads length and body (after the message type and padding).
    pub(crate) fn read_body(r: &mut Reader<'_>, limits: &Limits) -> Step<CutText> {
        let length = r.i32()?;
        let n = length.unsigned_abs();
        LimitExceeded::check(Limit::CutText, n.into(), limits.max_cut_text.into())?;
        let body = r.take(n as usize)?;
        if length >= 0 {
            Ok(CutText::Latin1(Bytes::copy_from_slice(body)))
        } else {
            Ok(CutText::Extended(ExtendedClipboard::decode(body, limits)?))
        }
    }

    /// Appends the length and the body. Bodies longer than `i32::MAX` bytes cannot be
    /// expressed; keep them within [`Limits::max_cut_text`].
    pub fn encode_body(&self, out: &mut impl BufMut) {
        const MAX: usize = i32::MAX as usize;
        match self {
            CutText::Latin1(b) => {
                let n = b.len().min(MAX);
                out.put_i32(n as i32);
                out.put_slice(&b[..n]);
            }
            CutText::Extended(e) => {
                let n = e.encoded_len().min(MAX);
                out.put_i32(-(n as i32));
                e.encode(out);
            }
        }
    }
}
