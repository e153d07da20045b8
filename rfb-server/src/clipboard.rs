//! Extended Clipboard text: deflate what we provide, inflate (capped) what we are given.

use std::io::Write;

use flate2::{Decompress, FlushDecompress, Status};

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
///
/// Peers differ in how they end the stream: some finish it, TigerVNC only sync-flushes
/// it; both are accepted (inflation stops when the input is used up).
pub(crate) fn read_provided_text(
    formats: Formats,
    zlib: &[u8],
    limits: &Limits,
) -> Result<Option<String>, ServerError> {
    let inflated = inflate_capped(zlib, u64::from(limits.max_cut_text) + 4 * 16)?;
    let items = parse_provide_payload(&inflated, formats, limits)?;
    Ok(items
        .into_iter()
        .find(|(f, _)| *f == Format::TEXT)
        .map(|(_, data)| {
            let data = data.strip_suffix(&[0]).unwrap_or(&data);
            String::from_utf8_lossy(data).replace("\r\n", "\n")
        }))
}

/// Inflates `input` (a zlib stream, finished or only flushed) into at most `cap` bytes.
fn inflate_capped(input: &[u8], cap: u64) -> Result<Vec<u8>, ServerError> {
    const STEP: usize = 16 << 10;
    let bad = |_| ServerError::Protocol(Malformed::ExtendedClipboard("bad zlib stream").into());
    let limit = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
    let mut d = Decompress::new(true);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() >= limit {
            break;
        }
        if out.len() == out.capacity() {
            out.reserve(STEP.min(limit - out.len()));
        }
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let used = usize::try_from(in_before)
            .unwrap_or(usize::MAX)
            .min(input.len());
        let status = d
            .decompress_vec(&input[used..], &mut out, FlushDecompress::None)
            .map_err(bad)?;
        if status == Status::StreamEnd || (d.total_in() == in_before && d.total_out() == out_before)
        {
            break;
        }
    }
    LimitExceeded::check(Limit::CutText, out.len() as u64, cap)?;
    Ok(out)
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
    fn sync_flushed_stream_is_accepted() {
        // What TigerVNC sends: the stream is flushed, never finished.
        let raw = encode_provide_payload(&[(Format::TEXT, Bytes::from_static(b"x\r\ny\0"))]);
        let mut c = flate2::Compress::new(flate2::Compression::default(), true);
        let mut z = Vec::with_capacity(256);
        c.compress_vec(&raw, &mut z, flate2::FlushCompress::Sync)
            .unwrap();
        let text = read_provided_text(Formats::TEXT, &z, &Limits::default()).unwrap();
        assert_eq!(text.as_deref(), Some("x\ny"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(
            read_provided_text(Formats::TEXT, b"\x78\x9c\xff\xff", &Limits::default()).is_err()
        );
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
