//! Client-to-server messages: bytes written by hand from the tables of the community
//! RFB specification ("Client to Server Messages"), decoded and re-encoded.

use rfb_proto::client::{
    ClientMessage, ClientParseState, EnableContinuousUpdates, FramebufferUpdateRequest, KeyEvent,
    PointerEvent, QemuKeyEvent, SetDesktopSize, Xvp,
};
use rfb_proto::clipboard::{ExtendedClipboard, Formats};
use rfb_proto::{
    CutText, Encoding, Error, Fence, Incompatible, Limits, Malformed, PixelFormat, Progress, Rect,
    Screen,
};

const PLAIN: ClientParseState = ClientParseState {
    extended_mouse_buttons: false,
};
const EXTENDED: ClientParseState = ClientParseState {
    extended_mouse_buttons: true,
};

/// Decodes `wire` whole (must use every byte), checks every shorter prefix needs more,
/// and checks encoding gives `wire` back.
fn check(wire: &[u8], state: &ClientParseState, expected: ClientMessage) {
    let limits = Limits::default();
    assert_eq!(
        ClientMessage::decode(wire, state, &limits),
        Ok(Progress::Done {
            item: expected.clone(),
            consumed: wire.len()
        }),
        "decoding {wire:?}"
    );
    for k in 0..wire.len() {
        match ClientMessage::decode(&wire[..k], state, &limits) {
            Ok(Progress::NeedMore { at_least }) => assert!(at_least > k && at_least <= wire.len()),
            other => panic!("prefix {k} of {wire:?}: {other:?}"),
        }
    }
    // Trailing bytes belong to the next message.
    let mut longer = wire.to_vec();
    longer.extend_from_slice(&[4, 1]);
    assert_eq!(
        ClientMessage::decode(&longer, state, &limits)
            .unwrap()
            .done()
            .map(|(_, n)| n),
        Some(wire.len())
    );
    let mut out = Vec::new();
    expected.encode_for(state, &mut out);
    assert_eq!(out, wire, "encoding {expected:?}");
}

#[test]
fn set_pixel_format() {
    // 0, 3 padding, PIXEL_FORMAT: bpp 32, depth 24, little-endian, true colour,
    // maxima 255, shifts 16/8/0, 3 padding.
    let wire = [
        0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
    ];
    check(
        &wire,
        &PLAIN,
        ClientMessage::SetPixelFormat(PixelFormat::RGB888),
    );
    // 16-bit 5-6-5 big-endian.
    let wire = [
        0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0,
    ];
    let pf = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB565
    };
    check(&wire, &PLAIN, ClientMessage::SetPixelFormat(pf));
}

#[test]
fn set_pixel_format_rejects_invalid_format() {
    let wire = [
        0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
    ];
    assert!(matches!(
        ClientMessage::decode(&wire, &PLAIN, &Limits::default()),
        Err(Error::Malformed(Malformed::PixelFormat(_)))
    ));
}

#[test]
fn set_encodings() {
    // 2, padding, count 3, then S32s: 0 (Raw), 1 (CopyRect), -223 (DesktopSize).
    let wire = [2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x21];
    check(
        &wire,
        &PLAIN,
        ClientMessage::SetEncodings(vec![
            Encoding::RAW,
            Encoding::COPY_RECT,
            Encoding::DESKTOP_SIZE,
        ]),
    );
    check(&[2, 0, 0, 0], &PLAIN, ClientMessage::SetEncodings(vec![]));
}

#[test]
fn framebuffer_update_request() {
    // 3, incremental 0, x 10, y 20, w 300, h 400.
    let wire = [3, 0, 0, 10, 0, 20, 1, 44, 1, 144];
    check(
        &wire,
        &PLAIN,
        ClientMessage::FramebufferUpdateRequest(FramebufferUpdateRequest {
            incremental: false,
            rect: Rect::new(10, 20, 300, 400),
        }),
    );
}

#[test]
fn key_event() {
    check(
        &[4, 1, 0, 0, 0, 0, 0, 0x61],
        &PLAIN,
        ClientMessage::KeyEvent(KeyEvent {
            down: true,
            keysym: 0x61,
        }),
    );
    // Return released.
    check(
        &[4, 0, 0, 0, 0, 0, 0xff, 0x0d],
        &PLAIN,
        ClientMessage::KeyEvent(KeyEvent {
            down: false,
            keysym: 0xff0d,
        }),
    );
}

#[test]
fn key_event_nonzero_down_flag_means_down() {
    let (m, _) = ClientMessage::decode(&[4, 7, 0, 0, 0, 0, 0, 0x61], &PLAIN, &Limits::default())
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(
        m,
        ClientMessage::KeyEvent(KeyEvent {
            down: true,
            keysym: 0x61
        })
    );
}

#[test]
fn pointer_event_classic() {
    // Left and right down at (100, 200).
    check(
        &[5, 0b101, 0, 100, 0, 200],
        &PLAIN,
        ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::LEFT | PointerEvent::RIGHT,
            x: 100,
            y: 200,
        }),
    );
    // Without the extension, bit 7 is the back button and no byte follows.
    check(
        &[5, 0x80, 0, 1, 0, 2],
        &PLAIN,
        ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::BACK,
            x: 1,
            y: 2,
        }),
    );
}

#[test]
fn pointer_event_extended() {
    // Marker bit + left; extended mask bit 1 = forward.
    check(
        &[5, 0x81, 0, 1, 0, 2, 0b10],
        &EXTENDED,
        ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::LEFT | PointerEvent::FORWARD,
            x: 1,
            y: 2,
        }),
    );
    // Extended mask bit 0 = back (the same button as classic bit 7).
    check(
        &[5, 0x80, 0, 1, 0, 2, 0b01],
        &EXTENDED,
        ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::BACK,
            x: 1,
            y: 2,
        }),
    );
    // Without the marker, a classic message even when the extension is on.
    check(
        &[5, 0x10, 0, 1, 0, 2],
        &EXTENDED,
        ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::WHEEL_DOWN,
            x: 1,
            y: 2,
        }),
    );
}

#[test]
fn client_cut_text_classic() {
    check(
        &[6, 0, 0, 0, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'],
        &PLAIN,
        ClientMessage::ClientCutText(CutText::Latin1(bytes::Bytes::from_static(b"hello"))),
    );
    check(
        &[6, 0, 0, 0, 0, 0, 0, 0],
        &PLAIN,
        ClientMessage::ClientCutText(CutText::Latin1(Default::default())),
    );
}

#[test]
fn client_cut_text_extended() {
    // Length -4, flags notify (bit 27) + text (bit 0).
    check(
        &[6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x08, 0, 0, 1],
        &PLAIN,
        ClientMessage::ClientCutText(CutText::Extended(ExtendedClipboard::Notify(Formats::TEXT))),
    );
}

#[test]
fn enable_continuous_updates() {
    check(
        &[150, 1, 0, 0, 0, 0, 0x04, 0, 0x03, 0],
        &PLAIN,
        ClientMessage::EnableContinuousUpdates(EnableContinuousUpdates {
            enable: true,
            rect: Rect::new(0, 0, 1024, 768),
        }),
    );
    check(
        &[150, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &PLAIN,
        ClientMessage::EnableContinuousUpdates(EnableContinuousUpdates {
            enable: false,
            rect: Rect::new(0, 0, 0, 0),
        }),
    );
}

#[test]
fn client_fence() {
    // 248, 3 padding, flags Request|SyncNext, length 2, payload.
    check(
        &[248, 0, 0, 0, 0x80, 0, 0, 4, 2, 0xaa, 0xbb],
        &PLAIN,
        ClientMessage::Fence(
            Fence::new(Fence::REQUEST | Fence::SYNC_NEXT, vec![0xaa, 0xbb]).unwrap(),
        ),
    );
    // Largest allowed payload.
    let mut wire = vec![248, 0, 0, 0, 0, 0, 0, 1, 64];
    wire.extend_from_slice(&[7; 64]);
    check(
        &wire,
        &PLAIN,
        ClientMessage::Fence(Fence::new(Fence::BLOCK_BEFORE, vec![7; 64]).unwrap()),
    );
}

#[test]
fn client_fence_payload_too_long_fails_before_the_payload() {
    let wire = [248, 0, 0, 0, 0x80, 0, 0, 0, 65];
    assert_eq!(
        ClientMessage::decode(&wire, &PLAIN, &Limits::default()),
        Err(Malformed::FencePayload(65).into())
    );
}

#[test]
fn xvp() {
    for (code, c) in [(2, Xvp::SHUTDOWN), (3, Xvp::REBOOT), (4, Xvp::RESET)] {
        check(
            &[250, 0, 1, code],
            &PLAIN,
            ClientMessage::Xvp(Xvp {
                version: 1,
                code: c,
            }),
        );
    }
}

#[test]
fn set_desktop_size() {
    let wire = [
        251, 0, 0x07, 0x80, 0x04, 0x38, 2, 0, // 1920x1080, 2 screens
        0, 0, 0, 1, 0, 0, 0, 0, 0x03, 0xc0, 0x04, 0x38, 0, 0, 0, 0, // id 1: 0,0 960x1080
        0, 0, 0, 2, 0x03, 0xc0, 0, 0, 0x03, 0xc0, 0x04, 0x38, 0x80, 0, 0, 1, // id 2
    ];
    check(
        &wire,
        &PLAIN,
        ClientMessage::SetDesktopSize(SetDesktopSize {
            width: 1920,
            height: 1080,
            screens: vec![
                Screen {
                    id: 1,
                    rect: Rect::new(0, 0, 960, 1080),
                    flags: 0,
                },
                Screen {
                    id: 2,
                    rect: Rect::new(960, 0, 960, 1080),
                    flags: 0x8000_0001,
                },
            ],
        }),
    );
}

#[test]
fn qemu_extended_key_event() {
    // Examples from the spec's table: XT 0x1e = 'A' pressed; 0x9e = released (keycode
    // 0x1e, down 0); 0xe0 0x4d = Right (keycode 0xcd).
    check(
        &[255, 0, 0, 1, 0, 0, 0, 0x41, 0, 0, 0, 0x1e],
        &PLAIN,
        ClientMessage::QemuKeyEvent(QemuKeyEvent {
            down: true,
            keysym: 0x41,
            keycode: 0x1e,
        }),
    );
    check(
        &[255, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0, 0x1e],
        &PLAIN,
        ClientMessage::QemuKeyEvent(QemuKeyEvent {
            down: false,
            keysym: 0x41,
            keycode: 0x1e,
        }),
    );
    check(
        &[255, 0, 0, 0, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd],
        &PLAIN,
        ClientMessage::QemuKeyEvent(QemuKeyEvent {
            down: false,
            keysym: 0xff53,
            keycode: 0xcd,
        }),
    );
}

#[test]
fn unknown_and_unsupported_types() {
    let l = Limits::default();
    for t in [1u8, 7, 8, 127, 200, 252, 253, 254] {
        assert_eq!(
            ClientMessage::decode(&[t, 0, 0, 0, 0, 0, 0, 0], &PLAIN, &l),
            Err(Malformed::UnknownMessageType(t).into()),
            "type {t}"
        );
    }
    // QEMU audio is defined but not supported.
    assert_eq!(
        ClientMessage::decode(&[255, 1, 0, 0], &PLAIN, &l),
        Err(Incompatible::MessageType(255).into())
    );
    assert_eq!(
        ClientMessage::decode(&[255, 9, 0, 0], &PLAIN, &l),
        Err(Malformed::UnknownSubMessage {
            message: 255,
            sub: 9
        }
        .into())
    );
    assert_eq!(
        ClientMessage::decode(&[], &PLAIN, &l),
        Ok(Progress::NeedMore { at_least: 1 })
    );
}

#[test]
fn message_type_matches_first_byte() {
    let msgs: Vec<ClientMessage> = vec![
        PixelFormat::RGB888.into(),
        vec![Encoding::RAW].into(),
        KeyEvent {
            down: true,
            keysym: 1,
        }
        .into(),
        Xvp {
            version: 1,
            code: 2,
        }
        .into(),
        QemuKeyEvent {
            down: true,
            keysym: 1,
            keycode: 2,
        }
        .into(),
    ];
    for m in msgs {
        let mut w = Vec::new();
        m.encode(&mut w);
        assert_eq!(w[0], m.message_type());
    }
}
