//! Strings on the wire: length-prefixed, historically Latin-1, today mostly UTF-8.

use crate::error::LimitExceeded;
use crate::limits::Limit;
use crate::wire::{Reader, Step};

/// Decodes protocol text: UTF-8 when the bytes are valid UTF-8, otherwise ISO 8859-1
/// (every byte is the code point of the same value). Never fails.
///
/// ```
/// assert_eq!(rfb_proto::decode_text(b"caf\xc3\xa9"), "café");
/// assert_eq!(rfb_proto::decode_text(b"caf\xe9"), "café");
/// ```
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Encodes text as ISO 8859-1 for the classic cut-text messages: characters outside
/// Latin-1 become `?`; CR LF pairs become LF as the protocol asks.
///
/// ```
/// assert_eq!(rfb_proto::encode_latin1("café €\r\n"), b"caf\xe9 ?\n");
/// ```
pub fn encode_latin1(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(u8::try_from(u32::from(c)).unwrap_or(b'?'));
    }
    out
}

/// Reads a `U32` length and that many bytes of text, refusing lengths over `max` before
/// waiting for (or allocating) the body.
pub(crate) fn read_string(r: &mut Reader<'_>, max: u32, limit: Limit) -> Step<String> {
    let n = r.u32()?;
    LimitExceeded::check(limit, u64::from(n), u64::from(max))?;
    Ok(decode_text(r.take(n as usize)?))
}
