//! Extended Clipboard helpers: our caps, and text in and out of Provide messages.

use std::io::Write;

use bytes::Bytes;
use flate2::{Decompress, FlushDecompress, Status};
use rfb_proto::clipboard::{
    encode_provide_payload, parse_provide_payload, Actions, ExtendedClipboard, Format, Formats,
};
use rfb_proto::{Error as ProtoError, Limit, LimitExceeded, Limits, Malformed};

use crate::ClientError;

/// The caps this client sends: text, and every action but files.
pub(crate) fn our_caps(max_text: u32) -> ExtendedClipboard {
    ExtendedClipboard::Caps {
        formats: Formats::TEXT,
        actions: Actions::CAPS
            | Actions::REQUEST
            | Actions::PEEK
            | Actions::NOTIFY
            | Actions::PROVIDE,
        max_sizes: vec![max_text],
    }
}

/// A Provide message with `text` (UTF-8, CR LF line ends, NUL-terminated, deflated).
pub(crate) fn provide_text(text: &str) -> Result<ExtendedClipboard, ClientError> {
    let mut data = text
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    data.push(0);
    let raw = encode_provide_payload(&[(Format::TEXT, Bytes::from(data))]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let zlib = z
        .write_all(&raw)
        .and_then(|()| z.finish())
        .map_err(|_| ClientError::ApiMisuse("deflate into memory failed"))?;
    Ok(ExtendedClipboard::Provide {
        formats: Formats::TEXT,
        zlib: Bytes::from(zlib),
    })
}

/// Inflates `zlib`, refusing more than `cap` bytes of output.
pub(crate) fn inflate_capped(zlib: &[u8], cap: usize) -> Result<Vec<u8>, ClientError> {
    let mut z = Decompress::new(true);
    let mut out = Vec::with_capacity(zlib.len().saturating_mul(4).min(cap).max(64));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= cap {
                // Full: only a finished stream may stop here.
                let mut probe = [0u8; 1];
                let before = z.total_out();
                let rest = &zlib[(z.total_in() as usize).min(zlib.len())..];
                let st = z
                    .decompress(rest, &mut probe, FlushDecompress::Sync)
                    .map_err(|_| corrupt())?;
                if z.total_out() > before {
                    return Err(LimitExceeded {
                        limit: Limit::CutText,
                        requested: cap as u64 + 1,
                        allowed: cap as u64,
                    }
                    .into_client());
                }
                let _ = st;
                return Ok(out);
            }
            let grow = out.capacity().min(cap - out.len()).max(1);
            out.reserve_exact(grow);
        }
        let consumed = (z.total_in() as usize).min(zlib.len());
        let before_in = z.total_in();
        let before_out = z.total_out();
        let status = z
            .decompress_vec(&zlib[consumed..], &mut out, FlushDecompress::Sync)
            .map_err(|_| corrupt())?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
        let progressed = z.total_in() != before_in || z.total_out() != before_out;
        if !progressed && out.len() < out.capacity() {
            // All input used and no more output: a sync-flushed stream ends here.
            return Ok(out);
        }
    }
}

fn corrupt() -> ClientError {
    ProtoError::from(Malformed::ExtendedClipboard("corrupt zlib data")).into()
}

trait IntoClient {
    fn into_client(self) -> ClientError;
}

impl IntoClient for LimitExceeded {
    fn into_client(self) -> ClientError {
        ProtoError::from(self).into()
    }
}

/// The text in a Provide message, if it holds text (NUL and CR of CR LF removed).
pub(crate) fn text_of_provide(
    formats: Formats,
    zlib: &[u8],
    limits: &Limits,
) -> Result<Option<String>, ClientError> {
    let raw = inflate_capped(zlib, limits.max_cut_text as usize)?;
    let items = parse_provide_payload(&raw, formats, limits)?;
    Ok(items
        .into_iter()
        .find(|(f, _)| *f == Format::TEXT)
        .map(|(_, d)| {
            let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
            String::from_utf8_lossy(&d[..end]).replace("\r\n", "\n")
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provide_round_trip() {
        let ExtendedClipboard::Provide { formats, zlib } = provide_text("a\nb").unwrap() else {
            panic!()
        };
        let got = text_of_provide(formats, &zlib, &Limits::default()).unwrap();
        assert_eq!(got.as_deref(), Some("a\nb"));
        // Inside: U32 length 5, "a\r\nb\0".
        let raw = inflate_capped(&zlib, 100).unwrap();
        assert_eq!(raw, [0, 0, 0, 5, b'a', b'\r', b'\n', b'b', 0]);
    }

    #[test]
    fn inflate_is_capped() {
        let big = vec![b'x'; 100_000];
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&big).unwrap();
        let zlib = z.finish().unwrap();
        assert!(zlib.len() < 1000);
        assert!(matches!(
            inflate_capped(&zlib, 10_000),
            Err(ClientError::Protocol(ProtoError::LimitExceeded(_)))
        ));
        assert_eq!(inflate_capped(&zlib, 100_000).unwrap().len(), 100_000);
        assert!(inflate_capped(b"garbage!", 100).is_err());
    }
}
