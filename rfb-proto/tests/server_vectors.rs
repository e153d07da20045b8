//! Server-to-client messages, rectangle headers and fixed-layout pseudo-encoding
//! payloads: bytes written by hand from the community RFB specification.

use bytes::Bytes;
use rfb_proto::clipboard::{Actions, ExtendedClipboard, Formats};
use rfb_proto::server::{
    Colour, DesktopName, ExtendedDesktopSize, FramebufferUpdateHeader, SetColourMapEntries, Xvp,
};
use rfb_proto::{
    CutText, Encoding, Error, Fence, Incompatible, Limits, Malformed, Progress, Rect, RectHeader,
    Screen, ServerMessage,
};

fn check(wire: &[u8], expected: ServerMessage) {
    let limits = Limits::default();
    assert_eq!(
        ServerMessage::decode(wire, &limits),
        Ok(Progress::Done {
            item: expected.clone(),
            consumed: wire.len()
        }),
        "decoding {wire:?}"
    );
    for k in 0..wire.len() {
        match ServerMessage::decode(&wire[..k], &limits) {
            Ok(Progress::NeedMore { at_least }) => assert!(at_least > k && at_least <= wire.len()),
            other => panic!("prefix {k} of {wire:?}: {other:?}"),
        }
    }
    let mut out = Vec::new();
    expected.encode(&mut out);
    assert_eq!(out, wire, "encoding {expected:?}");
    assert_eq!(wire[0], expected.message_type());
}

#[test]
fn framebuffer_update_header() {
    check(
        &[0, 0, 0, 3],
        ServerMessage::FramebufferUpdate(FramebufferUpdateHeader { rects: 3 }),
    );
    check(
        &[0, 0, 0xff, 0xff],
        ServerMessage::FramebufferUpdate(FramebufferUpdateHeader {
            rects: FramebufferUpdateHeader::UNKNOWN_COUNT,
        }),
    );
}

#[test]
fn set_colour_map_entries() {
    // 1, padding, first 5, count 2, then red/green/blue U16 triples.
    check(
        &[
            1, 0, 0, 5, 0, 2, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x12, 0x34,
        ],
        ServerMessage::SetColourMapEntries(SetColourMapEntries {
            first: 5,
            colours: vec![
                Colour {
                    red: 0xffff,
                    green: 0,
                    blue: 0,
                },
                Colour {
                    red: 0,
                    green: 0xffff,
                    blue: 0x1234,
                },
            ],
        }),
    );
    // The whole 16-bit map: first 0, 65535 entries ends at index 65534.
    let mut wire = vec![1, 0, 0, 1, 0xff, 0xff];
    wire.resize(6 + 65535 * 6, 0);
    assert!(ServerMessage::decode(&wire, &Limits::default())
        .unwrap()
        .done()
        .is_some());
}

#[test]
fn set_colour_map_entries_past_the_end_of_the_map() {
    assert!(matches!(
        ServerMessage::decode(&[1, 0, 0xff, 0xff, 0, 2], &Limits::default()),
        Err(Error::Malformed(Malformed::InvalidValue { .. }))
    ));
}

#[test]
fn bell_and_end_of_continuous_updates() {
    check(&[2], ServerMessage::Bell);
    check(&[150], ServerMessage::EndOfContinuousUpdates);
}

#[test]
fn server_cut_text() {
    check(
        &[3, 0, 0, 0, 0, 0, 0, 2, b'a', 0xe9],
        ServerMessage::ServerCutText(CutText::Latin1(Bytes::from_static(b"a\xe9"))),
    );
    // Extended caps: length -16, flags caps|request|notify|provide + text|rtf|html,
    // then three sizes.
    check(
        &[
            3, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0, 0x1b, 0, 0, 0x07, 0, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0,
            0x10, 0,
        ],
        ServerMessage::ServerCutText(CutText::Extended(ExtendedClipboard::Caps {
            formats: Formats::TEXT | Formats::RTF | Formats::HTML,
            actions: Actions::CAPS | Actions::REQUEST | Actions::NOTIFY | Actions::PROVIDE,
            max_sizes: vec![10 << 20, 0, 4096],
        })),
    );
}

#[test]
fn server_fence() {
    check(
        &[248, 0, 0, 0, 0, 0, 0, 3, 0],
        ServerMessage::Fence(Fence::new(3, Bytes::new()).unwrap()),
    );
    check(
        &[248, 0, 0, 0, 0x80, 0, 0, 0, 1, 9],
        ServerMessage::Fence(Fence::new(Fence::REQUEST, vec![9]).unwrap()),
    );
    assert_eq!(
        ServerMessage::decode(&[248, 0, 0, 0, 0, 0, 0, 0, 200], &Limits::default()),
        Err(Malformed::FencePayload(200).into())
    );
}

#[test]
fn xvp_server_messages() {
    check(
        &[250, 0, 1, 1],
        ServerMessage::Xvp(Xvp {
            version: 1,
            code: Xvp::INIT,
        }),
    );
    check(
        &[250, 0, 1, 0],
        ServerMessage::Xvp(Xvp {
            version: 1,
            code: Xvp::FAIL,
        }),
    );
}

#[test]
fn unknown_types() {
    let l = Limits::default();
    for t in [4u8, 5, 13, 127, 173, 252, 253, 254] {
        assert_eq!(
            ServerMessage::decode(&[t, 0, 0, 0], &l),
            Err(Malformed::UnknownMessageType(t).into())
        );
    }
    assert_eq!(
        ServerMessage::decode(&[255, 1, 0], &l),
        Err(Incompatible::MessageType(255).into())
    );
    assert_eq!(
        ServerMessage::decode(&[255, 0, 0], &l),
        Err(Malformed::UnknownSubMessage {
            message: 255,
            sub: 0
        }
        .into())
    );
}

#[test]
fn rect_header() {
    // x 1, y 2, w 640, h 480, encoding 16 (ZRLE).
    let wire = [0, 1, 0, 2, 2, 128, 1, 224, 0, 0, 0, 16];
    let h = RectHeader {
        rect: Rect::new(1, 2, 640, 480),
        encoding: Encoding::ZRLE,
    };
    assert_eq!(
        RectHeader::decode(&wire),
        Ok(Progress::Done {
            item: h,
            consumed: 12
        })
    );
    assert_eq!(
        RectHeader::decode(&wire[..11]),
        Ok(Progress::NeedMore { at_least: 12 })
    );
    let mut out = Vec::new();
    h.encode(&mut out);
    assert_eq!(out, wire);
    // Negative encodings are S32: -308 = 0xfffffecc.
    let h = RectHeader::decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xcc])
        .unwrap()
        .done()
        .unwrap()
        .0;
    assert_eq!(h.encoding, Encoding::EXTENDED_DESKTOP_SIZE);
}

#[test]
fn extended_desktop_size_payload() {
    // Rect: x = reason 1 (this client), y = status 3 (invalid layout), 1024x768.
    let header = RectHeader {
        rect: Rect::new(1, 3, 1024, 768),
        encoding: Encoding::EXTENDED_DESKTOP_SIZE,
    };
    let payload = [1, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 4, 0, 3, 0, 0, 0, 0, 0];
    let eds = ExtendedDesktopSize {
        reason: ExtendedDesktopSize::REASON_CLIENT,
        status: ExtendedDesktopSize::STATUS_INVALID_LAYOUT,
        width: 1024,
        height: 768,
        screens: vec![Screen {
            id: 9,
            rect: Rect::new(0, 0, 1024, 768),
            flags: 0,
        }],
    };
    assert_eq!(
        ExtendedDesktopSize::decode(&header, &payload, &Limits::default()),
        Ok(Progress::Done {
            item: eds.clone(),
            consumed: 20
        })
    );
    assert_eq!(
        ExtendedDesktopSize::decode(&header, &payload[..3], &Limits::default()),
        Ok(Progress::NeedMore { at_least: 4 })
    );
    assert_eq!(eds.header(), header);
    let mut out = Vec::new();
    eds.encode_payload(&mut out);
    assert_eq!(out, payload);
    // Screens over the limit fail before they arrive.
    let limits = Limits {
        max_screens: 2,
        ..Limits::default()
    };
    assert!(matches!(
        ExtendedDesktopSize::decode(&header, &[3, 0, 0, 0], &limits),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn desktop_name_payload() {
    let payload = [0, 0, 0, 5, b'h', 0xc3, 0xa9, b'l', b'o'];
    assert_eq!(
        DesktopName::decode(&payload, &Limits::default()),
        Ok(Progress::Done {
            item: DesktopName {
                name: "hélo".into()
            },
            consumed: 9
        })
    );
    let mut out = Vec::new();
    DesktopName {
        name: "hélo".into(),
    }
    .encode(&mut out);
    assert_eq!(&out[..12], [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xcd]);
    assert_eq!(&out[12..], payload);
    let limits = Limits {
        max_desktop_name: 4,
        ..Limits::default()
    };
    assert!(matches!(
        DesktopName::decode(&payload[..4], &limits),
        Err(Error::LimitExceeded(_))
    ));
}
