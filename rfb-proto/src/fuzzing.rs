//! Entry points for cargo-fuzz targets (not a stable API).
//!
//! Each function must not panic on any input; a panic means a bug (a round trip that
//! does not give the same message back, or two ways of feeding the same bytes giving
//! different results).

use crate::client::{ClientMessage, ClientParseState};
use crate::clipboard::{encode_provide_payload, parse_provide_payload, ExtendedClipboard, Formats};
use crate::stream::{BasicFramer, OwnedServerItem, ServerStream};
use crate::{Error, Limits, PixelFormat, Progress};

/// Small limits so the fuzzer reaches them.
fn fuzz_limits() -> Limits {
    Limits {
        max_cut_text: 1 << 16,
        max_encodings: 64,
        max_colour_map_entries: 256,
        max_framebuffer_width: 256,
        max_framebuffer_height: 256,
        max_rects_per_update: 64,
        max_desktop_name: 256,
        max_reason: 256,
        max_screens: 8,
    }
}

/// Decodes client messages until an error or the end of the data, under both parse
/// states, and checks that every message survives encode → decode.
pub fn client_stream(data: &[u8]) {
    let limits = fuzz_limits();
    for extended_mouse_buttons in [false, true] {
        let state = ClientParseState {
            extended_mouse_buttons,
        };
        let mut pos = 0;
        while let Ok(Progress::Done { item, consumed }) =
            ClientMessage::decode(&data[pos..], &state, &limits)
        {
            assert!(consumed > 0 && consumed <= data.len() - pos);
            pos += consumed;
            let mut wire = Vec::new();
            item.encode_for(&state, &mut wire);
            let again = ClientMessage::decode(&wire, &state, &limits);
            assert_eq!(
                again,
                Ok(Progress::Done {
                    item: item.clone(),
                    consumed: wire.len()
                }),
                "round trip of {item:?}"
            );
        }
    }
}

/// Walks the data with a [`ServerStream`] and [`BasicFramer`], whole and split in two
/// at `data[0]`, and checks both give the same items and the same error; re-encodes
/// each non-update message and decodes it again.
///
/// The pixel format is chosen by `data[1] % 3`: RGB332, RGB565 or RGB888. (In a stream
/// that starts with a FramebufferUpdate, `data[0]` is its type 0 and `data[1]` its
/// padding byte, so seeds can pick the format freely.)
pub fn server_stream(data: &[u8]) {
    let limits = fuzz_limits();
    let pf = match data.get(1).map(|b| b % 3) {
        Some(0) => PixelFormat::RGB332,
        Some(1) => PixelFormat::RGB565,
        _ => PixelFormat::RGB888,
    };
    let whole = walk(data, &[data.len()], pf, &limits);
    let split = usize::from(data.first().copied().unwrap_or(0)).min(data.len());
    let chunked = walk(data, &[split, data.len()], pf, &limits);
    assert_eq!(whole, chunked, "split at {split}");
    for item in &whole.0 {
        if let OwnedServerItem::Message(m) = item {
            let mut wire = Vec::new();
            m.encode(&mut wire);
            assert_eq!(
                crate::ServerMessage::decode(&wire, &limits),
                Ok(Progress::Done {
                    item: m.clone(),
                    consumed: wire.len()
                }),
                "round trip of {m:?}"
            );
        }
    }
}

/// Feeds `data` to a fresh stream, making only `data[..ends[i]]` visible in turn.
/// Returns the items, the bytes consumed and the error (if any).
fn walk(
    data: &[u8],
    ends: &[usize],
    pf: PixelFormat,
    limits: &Limits,
) -> (Vec<OwnedServerItem>, usize, Option<Error>) {
    let mut s = ServerStream::new(pf, limits.clone());
    let mut items = Vec::new();
    let mut pos = 0;
    // A bound on the iterations: each item consumes bytes, except an UpdateEnd after
    // a count ran out, which is always preceded by one that did.
    let mut budget = 2 * data.len() + 2;
    for &end in ends {
        loop {
            if budget == 0 {
                panic!("server stream made no progress");
            }
            budget -= 1;
            match s.next(&data[pos..end], &mut BasicFramer) {
                Ok(Progress::Done { item, consumed }) => {
                    assert!(consumed <= end - pos);
                    items.push(item.to_owned_item());
                    pos += consumed;
                }
                Ok(Progress::NeedMore { at_least }) => {
                    assert!(
                        at_least > end - pos,
                        "NeedMore {at_least} with {} bytes",
                        end - pos
                    );
                    break;
                }
                Err(e) => return (items, pos, Some(e)),
            }
        }
    }
    (items, pos, None)
}

/// Parses the data as an Extended Clipboard body and as an inflated Provide stream
/// (with the formats from its first two bytes), checking both round trips.
pub fn extended_clipboard(data: &[u8]) {
    let limits = fuzz_limits();
    if let Ok(m) = ExtendedClipboard::decode(data, &limits) {
        let mut wire = Vec::new();
        m.encode(&mut wire);
        assert_eq!(wire.len(), m.encoded_len());
        assert_eq!(ExtendedClipboard::decode(&wire, &limits), Ok(m));
    }
    if data.len() >= 2 {
        let formats = Formats(u16::from_be_bytes([data[0], data[1]]));
        if let Ok(items) = parse_provide_payload(&data[2..], formats, &limits) {
            assert_eq!(items.len(), formats.len());
            let wire = encode_provide_payload(&items);
            assert!(data[2..].starts_with(&wire));
            assert_eq!(parse_provide_payload(&wire, formats, &limits), Ok(items));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_accept_odd_inputs() {
        for data in [
            &[][..],
            &[0],
            &[5, 0x80, 0, 0, 0, 0],
            &[0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 9],
            &[6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x10, 0, 0, 0],
            &[3, 0, 0, 0, 0x80, 0, 0, 0],
        ] {
            client_stream(data);
            server_stream(data);
            extended_clipboard(data);
        }
    }

    proptest::proptest! {
        #[test]
        fn hooks_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            client_stream(&data);
            server_stream(&data);
            extended_clipboard(&data);
        }

        #[test]
        fn hooks_on_plausible_streams(
            data in proptest::collection::vec(
                proptest::sample::select(vec![0u8, 1, 2, 3, 4, 5, 6, 8, 0x10, 0x80, 150, 248, 250, 251, 255]),
                0..400,
            )
        ) {
            client_stream(&data);
            server_stream(&data);
            extended_clipboard(&data);
        }
    }
}
