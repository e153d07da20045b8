//! Extended Clipboard text: deflate what we provide, inflate (capped) what we are given.

use std::io::{Read, Write};

use bytes::Bytes;
use rfb_proto::clipboard::{
    encode_provide_payload, parse_provide_payload, ExtendedClipboard, Format, Formats,
};
use rfb_proto::{Limit, LimitExceeded, Limits, Malformed};

use crate::ServerError;

/// A Provide message carrying `text` (UTF-8, CR LF line ends, NUL-terminated, as the
/// extension wants), deflated into its own zlib stream.
pub(crate) fn provide_text(text: &str) -> ExtendedClipboard {
    let mut data = text
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    data.push(0);
    let raw = encode_provide_payload(&[(Format::TEXT, Bytes::from(data))]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let zlib: Vec<u8> = z
        .write_all(&raw)
        .and_then(|()| z.finish())
        .unwrap_or_default();
    ExtendedClipboard::Provide {
        formats: Formats::TEXT,
        zlib: zlib.into(),
    }
}

/// The text of a Provide message, inflated with a cap of [`Limits::max_cut_text`]:
/// `None` if it carries no text. Line ends become LF and the terminating NUL goes.
pub(crate) fn read_provided_text(
    formats: Formats,
    zlib: &[u8],
    limits: &Limits,
) -> Result<Option<String>, ServerError> {
    let cap = u64::from(limits.max_cut_text) + 4 * 16;
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(zlib)
        .take(cap + 1)
        .read_to_end(&mut inflated)
        .map_err(|_| {
            ServerError::Protocol(Malformed::ExtendedClipboard("bad zlib stream").into())
        })?;
    LimitExceeded::check(Limit::CutText, inflated.len() as u64, cap)?;
    let items = parse_provide_payload(&inflated, formats, limits)?;
    Ok(items
        .into_iter()
        .find(|(f, _)| *f == Format::TEXT)
        .map(|(_, data)| {
            let data = data.strip_suffix(&[0]).unwrap_or(&data);
            String::from_utf8_lossy(data).replace("\r\n", "\n")
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provide_round_trip() {
        let ExtendedClipboard::Provide { formats, zlib } = provide_text("a\nb") else {
            panic!("not a provide")
        };
        let text = read_provided_text(formats, &zlib, &Limits::default()).unwrap();
        assert_eq!(text.as_deref(), Some("a\nb"));
    }

    #[test]
    fn inflate_is_capped() {
        let limits = Limits {
            max_cut_text: 100,
            ..Limits::default()
        };
        let ExtendedClipboard::Provide { formats, zlib } = provide_text(&"x".repeat(10_000)) else {
            panic!("not a provide")
        };
        assert!(read_provided_text(formats, &zlib, &limits).is_err());
    }
}
