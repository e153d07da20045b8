//! Property tests: round trips, no panics on arbitrary bytes, and independence from
//! where the input is split.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use rfb_proto::client::{
    EnableContinuousUpdates, FramebufferUpdateRequest, KeyEvent, PointerEvent, QemuKeyEvent,
    SetDesktopSize, Xvp,
};
use rfb_proto::clipboard::{parse_provide_payload, Actions, ExtendedClipboard, Formats};
use rfb_proto::server::{
    Colour, DesktopName, ExtendedDesktopSize, FramebufferUpdateHeader, SetColourMapEntries,
};
use rfb_proto::stream::{BasicFramer, OwnedServerItem};
use rfb_proto::{
    ClientMessage, ClientParseState, CutText, Encoding, Error, Fence, Limits, PixelFormat,
    Progress, Rect, RectHeader, Screen, ServerMessage, ServerStream,
};

fn pixel_format() -> impl Strategy<Value = PixelFormat> {
    (
        prop::sample::select(vec![
            PixelFormat::RGB888,
            PixelFormat::BGR888,
            PixelFormat::RGB565,
            PixelFormat::RGB555,
            PixelFormat::RGB332,
            PixelFormat::BGR233,
            PixelFormat::COLOUR_MAP8,
        ]),
        any::<bool>(),
    )
        .prop_map(|(pf, big_endian)| PixelFormat { big_endian, ..pf })
}

fn rect() -> impl Strategy<Value = Rect> {
    (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>())
        .prop_map(|(x, y, w, h)| Rect::new(x, y, w, h))
}

fn screens(max: usize) -> impl Strategy<Value = Vec<Screen>> {
    vec(
        (any::<u32>(), rect(), any::<u32>()).prop_map(|(id, rect, flags)| Screen {
            id,
            rect,
            flags,
        }),
        0..max,
    )
}

fn extended_clipboard() -> impl Strategy<Value = ExtendedClipboard> {
    prop_oneof![
        (any::<u16>(), any::<u8>()).prop_flat_map(|(f, a)| {
            vec(any::<u32>(), f.count_ones() as usize).prop_map(move |max_sizes| {
                ExtendedClipboard::Caps {
                    formats: Formats(f),
                    actions: Actions(a | Actions::CAPS.0),
                    max_sizes,
                }
            })
        }),
        any::<u16>().prop_map(|f| ExtendedClipboard::Request(Formats(f))),
        Just(ExtendedClipboard::Peek),
        any::<u16>().prop_map(|f| ExtendedClipboard::Notify(Formats(f))),
        (any::<u16>(), vec(any::<u8>(), 0..64)).prop_map(|(f, z)| ExtendedClipboard::Provide {
            formats: Formats(f),
            zlib: z.into(),
        }),
    ]
}

fn cut_text() -> impl Strategy<Value = CutText> {
    prop_oneof![
        vec(any::<u8>(), 0..64).prop_map(|b| CutText::Latin1(b.into())),
        extended_clipboard().prop_map(CutText::Extended),
    ]
}

fn fence() -> impl Strategy<Value = Fence> {
    (any::<u32>(), vec(any::<u8>(), 0..=64)).prop_map(|(flags, p)| Fence::new(flags, p).unwrap())
}

/// Any client message; `max_buttons` bounds PointerEvent buttons (0xff for the classic
/// form, 0x7fff with ExtendedMouseButtons).
fn client_message(max_buttons: u16) -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        pixel_format().prop_map(ClientMessage::SetPixelFormat),
        vec(any::<i32>().prop_map(Encoding), 0..40).prop_map(ClientMessage::SetEncodings),
        (any::<bool>(), rect()).prop_map(|(incremental, rect)| FramebufferUpdateRequest {
            incremental,
            rect
        }
        .into()),
        (any::<bool>(), any::<u32>()).prop_map(|(down, keysym)| KeyEvent { down, keysym }.into()),
        (0..=max_buttons, any::<u16>(), any::<u16>()).prop_map(|(buttons, x, y)| PointerEvent {
            buttons,
            x,
            y
        }
        .into()),
        cut_text().prop_map(ClientMessage::ClientCutText),
        (any::<bool>(), rect())
            .prop_map(|(enable, rect)| EnableContinuousUpdates { enable, rect }.into()),
        fence().prop_map(ClientMessage::Fence),
        (any::<u8>(), any::<u8>()).prop_map(|(version, code)| Xvp { version, code }.into()),
        (0..=16384u16, 0..=16384u16, screens(10)).prop_map(|(width, height, screens)| {
            SetDesktopSize {
                width,
                height,
                screens,
            }
            .into()
        }),
        (any::<bool>(), any::<u32>(), any::<u32>()).prop_map(|(down, keysym, keycode)| {
            QemuKeyEvent {
                down,
                keysym,
                keycode,
            }
            .into()
        }),
    ]
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        any::<u16>().prop_map(|rects| FramebufferUpdateHeader { rects }.into()),
        (
            0..=65000u16,
            vec((any::<u16>(), any::<u16>(), any::<u16>()), 0..40)
        )
            .prop_map(|(first, c)| {
                SetColourMapEntries {
                    first,
                    colours: c
                        .into_iter()
                        .map(|(red, green, blue)| Colour { red, green, blue })
                        .collect(),
                }
                .into()
            }),
        Just(ServerMessage::Bell),
        cut_text().prop_map(ServerMessage::ServerCutText),
        Just(ServerMessage::EndOfContinuousUpdates),
        fence().prop_map(ServerMessage::Fence),
        (any::<u8>(), any::<u8>()).prop_map(|(version, code)| Xvp { version, code }.into()),
    ]
}

/// Decodes client messages from `wire`, with only `wire[..end]` visible for each
/// `end` in turn. Returns the messages and the bytes consumed.
fn decode_client(
    wire: &[u8],
    ends: &[usize],
    state: &ClientParseState,
) -> (Vec<ClientMessage>, usize) {
    let limits = Limits::default();
    let mut out = Vec::new();
    let mut pos = 0;
    for &end in ends {
        while let Progress::Done { item, consumed } =
            ClientMessage::decode(&wire[pos..end], state, &limits).unwrap()
        {
            out.push(item);
            pos += consumed;
        }
    }
    (out, pos)
}

/// Walks a server stream the same way.
fn walk_server(wire: &[u8], ends: &[usize]) -> (Vec<OwnedServerItem>, usize) {
    let mut s = ServerStream::new(PixelFormat::RGB888, Limits::default());
    let mut out = Vec::new();
    let mut pos = 0;
    for &end in ends {
        while let Progress::Done { item, consumed } =
            s.next(&wire[pos..end], &mut BasicFramer).unwrap()
        {
            out.push(item.to_owned_item());
            pos += consumed;
        }
    }
    (out, pos)
}

/// One rectangle that BasicFramer can frame, with its payload.
fn framed_rect() -> impl Strategy<Value = (RectHeader, Vec<u8>)> {
    let h = |x, y, w, hh, e| RectHeader {
        rect: Rect::new(x, y, w, hh),
        encoding: e,
    };
    prop_oneof![
        (0..5u16, 0..5u16).prop_flat_map(move |(w, hh)| {
            vec(any::<u8>(), usize::from(w * hh * 4))
                .prop_map(move |p| (h(1, 2, w, hh, Encoding::RAW), p))
        }),
        (any::<u16>(), any::<u16>()).prop_map(move |(sx, sy)| (
            h(0, 0, 8, 8, Encoding::COPY_RECT),
            [sx.to_be_bytes(), sy.to_be_bytes()].concat()
        )),
        (1..2000u16, 1..2000u16)
            .prop_map(move |(w, hh)| (h(0, 0, w, hh, Encoding::DESKTOP_SIZE), vec![])),
        "[a-zé]{0,12}".prop_map(move |name| {
            let mut p = Vec::new();
            DesktopName { name }.encode_payload(&mut p);
            (DesktopName::HEADER, p)
        }),
        (screens(4), 0..3u16, 0..5u16).prop_map(move |(screens, reason, status)| {
            let eds = ExtendedDesktopSize {
                reason,
                status,
                width: 640,
                height: 480,
                screens,
            };
            let mut p = Vec::new();
            eds.encode_payload(&mut p);
            (eds.header(), p)
        }),
        (0..10u16, 0..10u16).prop_flat_map(move |(w, hh)| {
            let n = usize::from(w * hh * 4 + w.div_ceil(8) * hh);
            vec(any::<u8>(), n).prop_map(move |p| (h(1, 1, w, hh, Encoding::CURSOR), p))
        }),
    ]
}

/// A server stream: messages and updates (some ended by LastRect), with the items a
/// walker must yield.
fn server_stream() -> impl Strategy<Value = (Vec<u8>, Vec<OwnedServerItem>)> {
    let part = prop_oneof![
        server_message()
            .prop_filter("updates are built below", |m| !matches!(
                m,
                ServerMessage::FramebufferUpdate(_)
            ))
            .prop_map(|m| (None, Some(m))),
        (vec(framed_rect(), 0..5), any::<bool>())
            .prop_map(|(rects, last)| (Some((rects, last)), None)),
    ];
    vec(part, 0..8).prop_map(|parts| {
        let mut wire = Vec::new();
        let mut items = Vec::new();
        for part in parts {
            match part {
                (_, Some(m)) => {
                    m.encode(&mut wire);
                    items.push(OwnedServerItem::Message(m));
                }
                (Some((rects, last)), None) => {
                    let count = if last { u16::MAX } else { rects.len() as u16 };
                    FramebufferUpdateHeader { rects: count }.encode(&mut wire);
                    items.push(OwnedServerItem::UpdateStart { rects: count });
                    for (header, payload) in rects {
                        header.encode(&mut wire);
                        wire.extend_from_slice(&payload);
                        items.push(OwnedServerItem::Rect {
                            header,
                            payload: Bytes::from(payload),
                        });
                    }
                    if last {
                        RectHeader {
                            rect: Rect::default(),
                            encoding: Encoding::LAST_RECT,
                        }
                        .encode(&mut wire);
                    }
                    items.push(OwnedServerItem::UpdateEnd);
                }
                (None, None) => unreachable!(),
            }
        }
        (wire, items)
    })
}

proptest! {
    #[test]
    fn client_round_trip_classic(m in client_message(0xff)) {
        let st = ClientParseState::default();
        let mut w = Vec::new();
        m.encode(&mut w);
        prop_assert_eq!(ClientMessage::decode(&w, &st, &Limits::default()), Ok(Progress::Done { item: m, consumed: w.len() }));
    }

    #[test]
    fn client_round_trip_extended_buttons(m in client_message(0x7fff)) {
        let st = ClientParseState { extended_mouse_buttons: true };
        let mut w = Vec::new();
        m.encode_for(&st, &mut w);
        prop_assert_eq!(ClientMessage::decode(&w, &st, &Limits::default()), Ok(Progress::Done { item: m, consumed: w.len() }));
    }

    #[test]
    fn server_round_trip(m in server_message()) {
        let mut w = Vec::new();
        m.encode(&mut w);
        prop_assert_eq!(ServerMessage::decode(&w, &Limits::default()), Ok(Progress::Done { item: m, consumed: w.len() }));
    }

    #[test]
    fn extended_clipboard_round_trip(m in extended_clipboard()) {
        let mut w = Vec::new();
        m.encode(&mut w);
        prop_assert_eq!(w.len(), m.encoded_len());
        prop_assert_eq!(ExtendedClipboard::decode(&w, &Limits::default()), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..300)) {
        let limits = Limits { max_cut_text: 100, max_rects_per_update: 5, max_framebuffer_width: 64, max_framebuffer_height: 64, ..Limits::default() };
        for extended_mouse_buttons in [false, true] {
            let st = ClientParseState { extended_mouse_buttons };
            let _ = ClientMessage::decode(&data, &st, &limits);
        }
        let _ = ServerMessage::decode(&data, &limits);
        let _ = RectHeader::decode(&data);
        let _ = ExtendedClipboard::decode(&data, &limits);
        let _ = parse_provide_payload(&data, Formats(0xffff), &limits);
        let mut s = ServerStream::new(PixelFormat::RGB565, limits.clone());
        let mut pos = 0;
        for _ in 0..=2 * data.len() + 2 {
            match s.next(&data[pos..], &mut BasicFramer) {
                Ok(Progress::Done { consumed, .. }) => pos += consumed,
                Ok(Progress::NeedMore { at_least }) => { prop_assert!(at_least > data.len() - pos); break }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn arbitrary_client_streams_split_anywhere(data in vec(any::<u8>(), 0..200), split in any::<prop::sample::Index>()) {
        // Whatever the bytes, decoding in two chunks gives the same as decoding whole,
        // up to the first error.
        let st = ClientParseState::default();
        let k = split.index(data.len() + 1);
        let limits = Limits::default();
        let run = |ends: &[usize]| {
            let mut out = Vec::new();
            let mut pos = 0;
            for &end in ends {
                loop {
                    match ClientMessage::decode(&data[pos..end], &st, &limits) {
                        Ok(Progress::Done { item, consumed }) => { out.push(Ok(item)); pos += consumed; }
                        Ok(Progress::NeedMore { .. }) => break,
                        Err(e) => { out.push(Err(e)); return out; }
                    }
                }
            }
            out
        };
        let whole: Vec<Result<ClientMessage, Error>> = run(&[data.len()]);
        prop_assert_eq!(whole, run(&[k, data.len()]));
    }

    #[test]
    fn client_streams_split_at_every_byte(msgs in vec(client_message(0xff), 1..12)) {
        let st = ClientParseState::default();
        let mut wire = Vec::new();
        for m in &msgs { m.encode(&mut wire); }
        prop_assert_eq!(decode_client(&wire, &[wire.len()], &st), (msgs.clone(), wire.len()));
        for k in 0..=wire.len() {
            prop_assert_eq!(decode_client(&wire, &[k, wire.len()], &st), (msgs.clone(), wire.len()));
        }
        let ends: Vec<usize> = (0..=wire.len()).collect();
        prop_assert_eq!(decode_client(&wire, &ends, &st), (msgs, wire.len()));
    }

    #[test]
    fn server_streams_split_at_every_byte((wire, items) in server_stream()) {
        prop_assert_eq!(walk_server(&wire, &[wire.len()]), (items.clone(), wire.len()));
        for k in 0..=wire.len() {
            prop_assert_eq!(walk_server(&wire, &[k, wire.len()]), (items.clone(), wire.len()));
        }
        let ends: Vec<usize> = (0..=wire.len()).collect();
        prop_assert_eq!(walk_server(&wire, &ends), (items, wire.len()));
    }
}
