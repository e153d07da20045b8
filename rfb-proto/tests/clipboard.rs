//! Extended Clipboard bodies and Provide payloads, from the spec's flag table.

use bytes::Bytes;
use rfb_proto::clipboard::{
    encode_provide_payload, parse_provide_payload, Actions, ExtendedClipboard, Format, Formats,
};
use rfb_proto::{Error, Limit, LimitExceeded, Limits, Malformed};

fn round_trip(body: &[u8], expected: ExtendedClipboard) {
    assert_eq!(
        ExtendedClipboard::decode(body, &Limits::default()),
        Ok(expected.clone())
    );
    let mut out = Vec::new();
    expected.encode(&mut out);
    assert_eq!(out, body);
    assert_eq!(expected.encoded_len(), body.len());
}

fn malformed(body: &[u8]) {
    assert!(
        matches!(
            ExtendedClipboard::decode(body, &Limits::default()),
            Err(Error::Malformed(Malformed::ExtendedClipboard(_)))
        ),
        "{body:?}"
    );
}

#[test]
fn actions() {
    // request (bit 25) of text
    round_trip(
        &[0x02, 0, 0, 0x01],
        ExtendedClipboard::Request(Formats::TEXT),
    );
    // peek (bit 26)
    round_trip(&[0x04, 0, 0, 0], ExtendedClipboard::Peek);
    // notify (bit 27) of text + html
    round_trip(
        &[0x08, 0, 0, 0x05],
        ExtendedClipboard::Notify(Formats::TEXT | Formats::HTML),
    );
    // provide (bit 28) of text, followed by the zlib stream (opaque here)
    round_trip(
        &[0x10, 0, 0, 0x01, 0x78, 0x9c, 1, 2, 3],
        ExtendedClipboard::Provide {
            formats: Formats::TEXT,
            zlib: Bytes::from_static(&[0x78, 0x9c, 1, 2, 3]),
        },
    );
    // caps (bit 24) with dib (bit 3) and files (bit 4): two sizes.
    round_trip(
        &[0x01, 0, 0, 0x18, 0, 0, 1, 0, 0, 0, 0, 0],
        ExtendedClipboard::Caps {
            formats: Formats::DIB | Formats::FILES,
            actions: Actions::CAPS,
            max_sizes: vec![256, 0],
        },
    );
}

#[test]
fn reserved_bits_16_to_23_are_ignored() {
    assert_eq!(
        ExtendedClipboard::decode(&[0x08, 0xff, 0, 0x01], &Limits::default()),
        Ok(ExtendedClipboard::Notify(Formats::TEXT))
    );
}

#[test]
fn invalid_bodies() {
    malformed(&[]);
    malformed(&[0x08, 0, 0]);
    malformed(&[0, 0, 0, 1]); // no action
    malformed(&[0x0a, 0, 0, 1]); // request + notify
    malformed(&[0x20, 0, 0, 1]); // reserved action bit 29
    malformed(&[0x01, 0, 0, 0x03, 0, 0, 0, 1]); // caps: 2 formats, 1 size
    malformed(&[0x01, 0, 0, 0x01, 0, 0, 0, 1, 0, 0, 0, 2]); // caps: 1 format, 2 sizes
    malformed(&[0x02, 0, 0, 0x01, 0]); // request with data
}

#[test]
fn body_over_the_limit() {
    let limits = Limits {
        max_cut_text: 8,
        ..Limits::default()
    };
    assert!(matches!(
        ExtendedClipboard::decode(&[0x10, 0, 0, 1, 0, 0, 0, 0, 0], &limits),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn provide_payload() {
    // text "hi\0" then html "<b>"
    let inflated = [0, 0, 0, 3, b'h', b'i', 0, 0, 0, 0, 3, b'<', b'b', b'>'];
    let items = parse_provide_payload(&inflated, Formats::TEXT | Formats::HTML, &Limits::default())
        .unwrap();
    assert_eq!(
        items,
        [
            (Format::TEXT, Bytes::from_static(b"hi\0")),
            (Format::HTML, Bytes::from_static(b"<b>"))
        ]
    );
    assert_eq!(encode_provide_payload(&items), inflated);
    // Truncated data.
    assert!(matches!(
        parse_provide_payload(
            &inflated[..10],
            Formats::TEXT | Formats::HTML,
            &Limits::default()
        ),
        Err(Error::Malformed(Malformed::ExtendedClipboard(_)))
    ));
    // A size over the limit is refused before its data is looked for.
    let limits = Limits {
        max_cut_text: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse_provide_payload(&inflated[..4], Formats::TEXT, &limits),
        Err(LimitExceeded {
            limit: Limit::CutText,
            requested: 3,
            allowed: 2
        }
        .into())
    );
    // No formats: nothing.
    assert_eq!(
        parse_provide_payload(&[], Formats(0), &Limits::default()),
        Ok(vec![])
    );
}
