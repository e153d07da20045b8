//! The normal phase of [`Viewer`] against a scripted server: the server's bytes are
//! written here from the RFB specification (RFC 6143 and the community spec), and the
//! client's messages are checked as bytes or decoded with rfb-proto.

use std::io::Write;
use std::time::{Duration, Instant};

use rfb_client::{
    ClientError, DesktopSizeStatus, EncodingPreference, LinkClass, Viewer, ViewerConfig,
    ViewerEvent,
};
use rfb_codec::ColourPreset;
use rfb_proto::client::{ClientMessage, ClientParseState};
use rfb_proto::{Encoding, Error as ProtoError, Limits, Progress, Rect};

/// PIXEL_FORMAT for 32 bpp, depth 24, little-endian, true colour, max 255, shifts 16/8/0.
const RGB888: [u8; 16] = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

/// ServerInit for a `w` x `h` RGB888 desktop named "t".
fn server_init(w: u16, h: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&RGB888);
    v.extend_from_slice(&[0, 0, 0, 1, b't']);
    v
}

/// Runs a 3.8 handshake with security None and returns the viewer and the client's
/// first normal-phase messages.
fn connect(config: ViewerConfig, w: u16, h: u16) -> (Viewer, Vec<ClientMessage>) {
    let now = Instant::now();
    let mut v = Viewer::new(config, now);
    v.handle_input(b"RFB 003.008\n", now).unwrap();
    v.handle_input(&[1, 1], now).unwrap();
    v.handle_input(&[0, 0, 0, 0], now).unwrap();
    while v.poll_transmit().is_some() {}
    v.handle_input(&server_init(w, h), now).unwrap();
    match v.poll_event() {
        Some(ViewerEvent::Connected {
            width,
            height,
            name,
            ..
        }) => {
            assert_eq!((width, height, name.as_str()), (w, h, "t"));
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    let sent = sent(&mut v);
    (v, sent)
}

/// Everything the client queued, decoded.
fn sent(v: &mut Viewer) -> Vec<ClientMessage> {
    let mut bytes = Vec::new();
    while let Some(b) = v.poll_transmit() {
        bytes.extend_from_slice(&b);
    }
    let mut out = Vec::new();
    let mut pos = 0;
    let ext = ClientParseState {
        extended_mouse_buttons: v.capabilities().extended_mouse_buttons,
    };
    while pos < bytes.len() {
        match ClientMessage::decode(&bytes[pos..], &ext, &Limits::default()).unwrap() {
            Progress::Done { item, consumed } => {
                out.push(item);
                pos += consumed;
            }
            Progress::NeedMore { .. } => panic!("client sent a partial message"),
        }
    }
    out
}

fn raw_bytes(v: &mut Viewer) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Some(b) = v.poll_transmit() {
        bytes.extend_from_slice(&b);
    }
    bytes
}

fn events(v: &mut Viewer) -> Vec<ViewerEvent> {
    std::iter::from_fn(|| v.poll_event()).collect()
}

fn requests(msgs: &[ClientMessage]) -> Vec<(bool, Rect)> {
    msgs.iter()
        .filter_map(|m| match m {
            ClientMessage::FramebufferUpdateRequest(r) => Some((r.incremental, r.rect)),
            _ => None,
        })
        .collect()
}

/// A FramebufferUpdate header (type 0, padding, count).
fn update(rects: u16) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(&rects.to_be_bytes());
    v
}

/// A rectangle header.
fn rect(x: u16, y: u16, w: u16, h: u16, enc: i32) -> Vec<u8> {
    let mut v = Vec::new();
    for n in [x, y, w, h] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v.extend_from_slice(&enc.to_be_bytes());
    v
}

/// A Raw RGB888 rectangle of one colour (pixels as B G R 0 in memory).
fn raw_rect(x: u16, y: u16, w: u16, h: u16, rgb: [u8; 3]) -> Vec<u8> {
    let mut v = rect(x, y, w, h, 0);
    for _ in 0..usize::from(w) * usize::from(h) {
        v.extend_from_slice(&[rgb[2], rgb[1], rgb[0], 0]);
    }
    v
}

fn now() -> Instant {
    Instant::now()
}

#[test]
fn setup_asks_for_format_encodings_and_pipelined_updates() {
    let (_, msgs) = connect(ViewerConfig::default(), 4, 2);
    assert!(
        matches!(msgs[0], ClientMessage::SetPixelFormat(pf) if pf == rfb_proto::PixelFormat::RGB888)
    );
    let ClientMessage::SetEncodings(encs) = &msgs[1] else {
        panic!("{msgs:?}")
    };
    // Automatic choice starts from the fast class: ZRLE first, compression 1, quality 8.
    assert_eq!(encs[0], Encoding::ZRLE);
    for e in [
        Encoding(-255),
        Encoding(-24),
        Encoding::LAST_RECT,
        Encoding::FENCE,
        Encoding::CONTINUOUS_UPDATES,
        Encoding::EXTENDED_DESKTOP_SIZE,
        Encoding::QEMU_EXTENDED_KEY_EVENT,
        Encoding::EXTENDED_CLIPBOARD,
        Encoding::CURSOR,
    ] {
        assert!(encs.contains(&e), "{e} missing from {encs:?}");
    }
    // A full request, then one incremental: two outstanding.
    let full = Rect::new(0, 0, 4, 2);
    assert_eq!(requests(&msgs), [(false, full), (true, full)]);
}

#[test]
fn raw_update_is_decoded_and_each_update_end_tops_up_one_request() {
    let config = ViewerConfig {
        pipeline_depth: 3,
        ..Default::default()
    };
    let (mut v, msgs) = connect(config, 2, 2);
    assert_eq!(requests(&msgs).len(), 3);
    assert_eq!(v.outstanding_requests(), 3);
    let mut wire = update(2);
    wire.extend(raw_rect(0, 0, 2, 1, [255, 0, 0]));
    wire.extend(raw_rect(0, 1, 2, 1, [0, 0, 255]));
    // Byte at a time: the split must not matter.
    for b in &wire {
        v.handle_input(std::slice::from_ref(b), now()).unwrap();
    }
    assert_eq!(
        events(&mut v),
        [ViewerEvent::Updated {
            rects: vec![Rect::new(0, 0, 2, 1), Rect::new(0, 1, 2, 1)]
        }]
    );
    assert_eq!(
        v.framebuffer().unwrap().to_rgb(),
        [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]
    );
    assert_eq!(requests(&sent(&mut v)), [(true, Rect::new(0, 0, 2, 2))]);
    assert_eq!(v.outstanding_requests(), 3);
}

#[test]
fn tight_fill_is_decoded() {
    let (mut v, _) = connect(ViewerConfig::default(), 2, 2);
    let mut wire = update(1);
    // Tight: compression control 0x80 = FillCompression, then a TPIXEL (R G B for a
    // 24-bit depth 32 bpp format).
    wire.extend(rect(0, 0, 2, 2, Encoding::TIGHT.0));
    wire.extend([0x80, 0x12, 0x34, 0x56]);
    v.handle_input(&wire, now()).unwrap();
    assert_eq!(
        v.framebuffer().unwrap().to_rgb(),
        [0x12, 0x34, 0x56].repeat(4)
    );
}

#[test]
fn server_fence_is_answered_and_continuous_updates_enabled() {
    let (mut v, _) = connect(ViewerConfig::default(), 8, 4);
    // ServerFence: type 248, 3 padding, flags = Request | BlockBefore, length 2, "ab".
    v.handle_input(&[248, 0, 0, 0, 0x80, 0, 0, 1, 2, b'a', b'b'], now())
        .unwrap();
    // ClientFence response: Request cleared, known flags kept, payload echoed.
    assert_eq!(raw_bytes(&mut v), [248, 0, 0, 0, 0, 0, 0, 1, 2, b'a', b'b']);
    assert!(v.capabilities().fence);
    // EndOfContinuousUpdates announces support: the client enables them for the screen.
    v.handle_input(&[150], now()).unwrap();
    assert_eq!(raw_bytes(&mut v), [150, 1, 0, 0, 0, 0, 0, 8, 0, 4]);
    assert!(v.continuous_updates());
    // Updates now come unasked: no more requests.
    let mut wire = update(1);
    wire.extend(raw_rect(0, 0, 1, 1, [1, 2, 3]));
    v.handle_input(&wire, now()).unwrap();
    assert!(raw_bytes(&mut v).is_empty());
    // A resize re-arms continuous updates for the new size.
    let mut wire = update(1);
    wire.extend(rect(0, 0, 16, 8, Encoding::DESKTOP_SIZE.0));
    v.handle_input(&wire, now()).unwrap();
    assert_eq!(raw_bytes(&mut v), [150, 1, 0, 0, 0, 0, 0, 16, 0, 8]);
    assert!(events(&mut v).iter().any(|e| matches!(
        e,
        ViewerEvent::Resized {
            width: 16,
            height: 8,
            ..
        }
    )));
}

#[test]
fn colour_change_with_fences_switches_exactly_at_the_fence_response() {
    let config = ViewerConfig {
        continuous_updates: false,
        ..Default::default()
    };
    let (mut v, _) = connect(config, 2, 1);
    v.handle_input(&[248, 0, 0, 0, 0x80, 0, 0, 0, 0], now())
        .unwrap();
    let _ = raw_bytes(&mut v);
    v.set_colour(ColourPreset::More16).unwrap();
    let msgs = sent(&mut v);
    let ClientMessage::Fence(f) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(
        f.flags,
        0x8000_0000 | 0b101,
        "Request | SyncNext | BlockBefore"
    );
    let payload = f.payload.clone();
    // RGB565: 16 bpp, depth 16, little-endian, max 31/63/31, shifts 11/5/0.
    assert!(matches!(&msgs[1], ClientMessage::SetPixelFormat(pf)
        if pf.bits_per_pixel == 16 && pf.red_shift == 11 && pf.green_max == 63));
    // Updates still in the old format arrive before the fence response: Raw, and ZRLE
    // (one solid tile: sub-encoding 1, then a 3-byte CPIXEL, red = 00 00 ff).
    let mut z = Zrle::new();
    let mut wire = update(2);
    wire.extend(raw_rect(0, 0, 2, 1, [0, 255, 0]));
    wire.extend(rect(0, 0, 2, 1, 16));
    wire.extend(z.rect(&[1, 0, 0, 0xff]));
    // The fence response (flags BlockBefore|SyncNext, Request clear) echoes the payload.
    wire.extend([248, 0, 0, 0, 0, 0, 0, 0b101, payload.len() as u8]);
    wire.extend_from_slice(&payload);
    // Then an update in RGB565: white (0xffff) and pure blue (0x001f), little-endian.
    wire.extend(update(1));
    wire.extend(rect(0, 0, 2, 1, 0));
    wire.extend([0xff, 0xff, 0x1f, 0x00]);
    v.handle_input(&wire, now()).unwrap();
    let evs = events(&mut v);
    assert!(
        evs.contains(&ViewerEvent::ColourChanged(ColourPreset::More16)),
        "{evs:?}"
    );
    assert_eq!(v.colour(), ColourPreset::More16);
    assert_eq!(
        v.framebuffer().unwrap().to_rgb(),
        [255, 255, 255, 0, 0, 255]
    );
    // ZRLE goes on in the same zlib stream, now with 2-byte pixels: solid blue 0x001f.
    let mut wire = update(1);
    wire.extend(rect(0, 0, 2, 1, 16));
    wire.extend(z.rect(&[1, 0x1f, 0x00]));
    v.handle_input(&wire, now()).unwrap();
    assert_eq!(v.framebuffer().unwrap().to_rgb(), [0, 0, 255, 0, 0, 255]);
}

#[test]
fn colour_change_without_fences_waits_for_outstanding_updates() {
    let (mut v, _) = connect(ViewerConfig::default(), 1, 1);
    assert_eq!(v.outstanding_requests(), 2);
    v.set_colour(ColourPreset::Few8).unwrap();
    assert!(
        sent(&mut v).is_empty(),
        "nothing may change while updates are in flight"
    );
    let mut one = update(1);
    one.extend(raw_rect(0, 0, 1, 1, [9, 9, 9]));
    v.handle_input(&one, now()).unwrap();
    assert!(
        requests(&sent(&mut v)).is_empty(),
        "no new requests while waiting"
    );
    v.handle_input(&one, now()).unwrap();
    let msgs = sent(&mut v);
    assert!(matches!(&msgs[0], ClientMessage::SetPixelFormat(pf) if pf.bits_per_pixel == 8));
    assert_eq!(requests(&msgs)[0], (false, Rect::new(0, 0, 1, 1)));
    // RGB332 red = 0b111_000_00.
    let mut wire = update(1);
    wire.extend(rect(0, 0, 1, 1, 0));
    wire.push(0xe0);
    v.handle_input(&wire, now()).unwrap();
    assert_eq!(v.framebuffer().unwrap().to_rgb(), [255, 0, 0]);
}

#[test]
fn pseudo_encodings_and_messages_become_events() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    let mut wire = update(5);
    wire.extend(rect(0, 0, 0, 0, Encoding::QEMU_EXTENDED_KEY_EVENT.0));
    wire.extend(rect(0, 0, 0, 0, Encoding::EXTENDED_MOUSE_BUTTONS.0));
    // DesktopName: U32 length, name.
    wire.extend(rect(0, 0, 0, 0, Encoding::DESKTOP_NAME.0));
    wire.extend([0, 0, 0, 2, b'h', b'i']);
    // A 1x1 rich cursor with hotspot (0, 0): one RGB888 pixel, one mask byte.
    wire.extend(rect(0, 0, 1, 1, Encoding::CURSOR.0));
    wire.extend([0, 0, 255, 0, 0x80]);
    wire.extend(rect(2, 3, 0, 0, Encoding::POINTER_POS.0));
    wire.push(2); // Bell
    wire.extend([3, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', 0xe9]); // ServerCutText "abé"
    v.handle_input(&wire, now()).unwrap();
    let evs = events(&mut v);
    assert!(
        evs.contains(&ViewerEvent::DesktopName("hi".into())),
        "{evs:?}"
    );
    assert!(evs.contains(&ViewerEvent::CursorMoved { x: 2, y: 3 }));
    assert!(evs.contains(&ViewerEvent::Bell));
    assert!(evs.contains(&ViewerEvent::CutText("abé".into())));
    let cursor = evs.iter().find_map(|e| match e {
        ViewerEvent::CursorShape(c) => Some(c.clone()),
        _ => None,
    });
    assert_eq!(cursor.unwrap().rgba(), [255, 0, 0, 255]);
    assert!(v.capabilities().qemu_extended_key && v.capabilities().extended_mouse_buttons);
    let _ = raw_bytes(&mut v);
    // QEMU extended key event: 255, sub-type 0, down-flag U16, keysym U32, keycode U32.
    v.key(0x61, true, Some(0x1e)).unwrap();
    assert_eq!(
        raw_bytes(&mut v),
        [255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e]
    );
    // Extended pointer event: mask bit 7 set, then a byte with the higher buttons.
    v.pointer(1, 2, rfb_proto::client::PointerEvent::BACK)
        .unwrap();
    assert_eq!(raw_bytes(&mut v), [5, 0x80, 0, 1, 0, 2, 0x01]);
    // The position is clamped to the framebuffer.
    v.pointer(100, 100, 1).unwrap();
    assert_eq!(raw_bytes(&mut v), [5, 0x01, 0, 3, 0, 3]);
    // View-only drops input.
    v.set_view_only(true);
    v.key(0x61, true, None).unwrap();
    assert!(raw_bytes(&mut v).is_empty());
}

#[test]
fn classic_key_and_ctrl_alt_del_without_qemu_keys() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    v.send_ctrl_alt_del().unwrap();
    let b = raw_bytes(&mut v);
    // KeyEvent: 4, down-flag, 2 padding, keysym U32.
    let expect: Vec<u8> = [
        (1, 0xffe3u32),
        (1, 0xffe9),
        (1, 0xffff),
        (0, 0xffff),
        (0, 0xffe9),
        (0, 0xffe3),
    ]
    .iter()
    .flat_map(|&(d, k)| {
        let mut m = vec![4, d, 0, 0];
        m.extend_from_slice(&k.to_be_bytes());
        m
    })
    .collect();
    assert_eq!(b, expect);
    v.cut_text("x\u{20ac}").unwrap();
    // Classic ClientCutText is Latin-1: the euro sign cannot be sent.
    assert_eq!(raw_bytes(&mut v), [6, 0, 0, 0, 0, 0, 0, 2, b'x', b'?']);
}

/// One connection's ZRLE zlib stream: each rectangle is a sync-flushed piece.
struct Zrle(flate2::Compress);

impl Zrle {
    fn new() -> Zrle {
        Zrle(flate2::Compress::new(flate2::Compression::default(), true))
    }

    /// A ZRLE payload: U32 length, then the compressed piece of `data`.
    fn rect(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        self.0
            .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        let mut v = (out.len() as u32).to_be_bytes().to_vec();
        v.extend(out);
        v
    }
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// A ServerCutText with an extended (negative) length.
fn extended_cut_text(body: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0, 0, 0];
    v.extend_from_slice(&(-(body.len() as i32)).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn extended_clipboard_caps_notify_request_provide() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    // Caps: flags = caps bit 24 | request 25 | notify 27 | provide 28 | text bit 0,
    // then one max size for text.
    let mut caps = vec![0x1b, 0, 0, 0x01];
    caps.extend_from_slice(&1_000_000u32.to_be_bytes());
    v.handle_input(&extended_cut_text(&caps), now()).unwrap();
    let b = raw_bytes(&mut v);
    // Our caps: ClientCutText type 6, length -8, flags (caps|request|peek|notify|provide, text).
    assert_eq!(
        &b[..12],
        [6, 0, 0, 0, 0xff, 0xff, 0xff, 0xf8, 0x1f, 0, 0, 0x01]
    );
    // Notify(text) from the server: we request it.
    v.handle_input(&extended_cut_text(&[0x08, 0, 0, 0x01]), now())
        .unwrap();
    assert_eq!(
        raw_bytes(&mut v),
        [6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x02, 0, 0, 0x01]
    );
    // Provide(text): zlib of U32 size + "hi\r\nyou\0".
    let text = b"hi\r\nyou\0";
    let mut inner = (text.len() as u32).to_be_bytes().to_vec();
    inner.extend_from_slice(text);
    let mut body = vec![0x10, 0, 0, 0x01];
    body.extend(zlib(&inner));
    v.handle_input(&extended_cut_text(&body), now()).unwrap();
    assert!(events(&mut v).contains(&ViewerEvent::CutText("hi\nyou".into())));
    // Our own clipboard is announced with Notify, and provided on request.
    v.cut_text("up").unwrap();
    assert_eq!(
        raw_bytes(&mut v),
        [6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x08, 0, 0, 0x01]
    );
    v.handle_input(&extended_cut_text(&[0x02, 0, 0, 0x01]), now())
        .unwrap();
    let msgs = sent(&mut v);
    let ClientMessage::ClientCutText(rfb_proto::CutText::Extended(
        rfb_proto::clipboard::ExtendedClipboard::Provide { zlib: z, .. },
    )) = &msgs[0]
    else {
        panic!("{msgs:?}")
    };
    let mut d = flate2::read::ZlibDecoder::new(&z[..]);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut d, &mut out).unwrap();
    assert_eq!(out, [0, 0, 0, 3, b'u', b'p', 0]);
}

#[test]
fn a_clipboard_bomb_is_refused() {
    let config = ViewerConfig {
        client: rfb_client::ClientConfig {
            limits: Limits {
                max_cut_text: 4096,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let (mut v, _) = connect(config, 4, 4);
    let mut inner = 1_000_000u32.to_be_bytes().to_vec();
    inner.extend(vec![b'x'; 1_000_000]);
    let mut body = vec![0x10, 0, 0, 0x01];
    body.extend(zlib(&inner));
    assert!(body.len() < 4096);
    let err = v
        .handle_input(&extended_cut_text(&body), now())
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Protocol(ProtoError::LimitExceeded(_))),
        "{err}"
    );
}

#[test]
fn hostile_resize_is_refused_before_allocating() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    let mut wire = update(1);
    wire.extend(rect(0, 0, 65535, 65535, Encoding::DESKTOP_SIZE.0));
    let err = v.handle_input(&wire, now()).unwrap_err();
    assert!(
        matches!(err, ClientError::Protocol(ProtoError::LimitExceeded(_))),
        "{err}"
    );
    // Sticky.
    assert_eq!(v.handle_input(&[2], now()), Err(err.clone()));
    assert_eq!(v.key(1, true, None), Err(err));
}

#[test]
fn rect_outside_the_framebuffer_fails_on_its_header() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    let mut wire = update(1);
    // A 4096x4096 Raw rectangle would need 64 MiB of payload; the header alone fails.
    wire.extend(rect(0, 0, 4096, 4096, 0));
    let err = v.handle_input(&wire, now()).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Protocol(ProtoError::Malformed(
                rfb_proto::Malformed::RectOutOfBounds { .. }
            ))
        ),
        "{err}"
    );
}

#[test]
fn garbage_and_unrequested_encodings_are_typed_errors() {
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    assert!(matches!(
        v.handle_input(&[99], now()),
        Err(ClientError::Protocol(ProtoError::Malformed(_)))
    ));
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    let mut wire = update(1);
    wire.extend(rect(0, 0, 1, 1, 9)); // Ultra: never asked for, not decodable
    wire.extend([0; 16]);
    assert!(v.handle_input(&wire, now()).is_err());
    // ZRLE with a corrupt zlib stream.
    let (mut v, _) = connect(ViewerConfig::default(), 4, 4);
    let mut wire = update(1);
    wire.extend(rect(0, 0, 4, 4, 16));
    wire.extend([0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef]);
    let err = v.handle_input(&wire, now()).unwrap_err();
    assert!(
        matches!(err, ClientError::Decode(_) | ClientError::Protocol(_)),
        "{err}"
    );
}

#[test]
fn endless_updates_hit_the_rectangle_limit() {
    let config = ViewerConfig {
        client: rfb_client::ClientConfig {
            limits: Limits {
                max_rects_per_update: 100,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let (mut v, _) = connect(config, 4, 4);
    // 65535 announced rectangles that never end with LastRect.
    let mut wire = update(65535);
    for _ in 0..200 {
        wire.extend(rect(0, 0, 1, 1, 1));
        wire.extend([0, 0, 0, 0]);
    }
    let err = v.handle_input(&wire, now()).unwrap_err();
    assert!(
        matches!(err, ClientError::Protocol(ProtoError::LimitExceeded(_))),
        "{err}"
    );
}

#[test]
fn a_slow_link_lowers_compression_and_colour() {
    let (mut v, _) = connect(ViewerConfig::default(), 256, 256);
    assert_eq!(v.link_class(), LinkClass::Fast);
    let start = Instant::now();
    // A full Raw update of 256 KiB arriving over 10 s: about 210 kbit/s.
    let mut wire = update(1);
    wire.extend(raw_rect(0, 0, 256, 256, [7, 7, 7]));
    let (head, tail) = wire.split_at(1000);
    v.handle_input(head, start).unwrap();
    v.handle_input(tail, start + Duration::from_secs(10))
        .unwrap();
    let evs = events(&mut v);
    assert!(
        evs.iter().any(|e| matches!(
            e,
            ViewerEvent::LinkClassChanged {
                class: LinkClass::Slow,
                ..
            }
        )),
        "{evs:?}"
    );
    let msgs = sent(&mut v);
    let encs = msgs.iter().find_map(|m| match m {
        ClientMessage::SetEncodings(e) => Some(e.clone()),
        _ => None,
    });
    assert!(encs.unwrap().contains(&Encoding::for_compress_level(9)));
    // The colour drop waits for the other outstanding request (no fences here).
    let mut one = update(0);
    one.truncate(4);
    v.handle_input(&one, start + Duration::from_secs(11))
        .unwrap();
    assert!(events(&mut v).contains(&ViewerEvent::ColourChanged(ColourPreset::Few8)));
}

#[test]
fn a_fixed_encoding_is_not_overridden() {
    let config = ViewerConfig {
        encodings: EncodingPreference {
            preferred: Some(Encoding::HEXTILE),
            quality: Some(3),
            compress: Some(2),
        },
        ..Default::default()
    };
    let (_, msgs) = connect(config, 4, 4);
    let ClientMessage::SetEncodings(encs) = &msgs[1] else {
        panic!()
    };
    assert_eq!(encs[0], Encoding::HEXTILE);
    assert!(encs.contains(&Encoding::for_quality_level(3)));
    assert!(encs.contains(&Encoding::for_compress_level(2)));
    // A chosen encoding without a quality sends no quality level: no JPEG.
    let config = ViewerConfig {
        encodings: EncodingPreference {
            preferred: Some(Encoding::TIGHT),
            ..Default::default()
        },
        ..Default::default()
    };
    let (_, msgs) = connect(config, 4, 4);
    let ClientMessage::SetEncodings(encs) = &msgs[1] else {
        panic!()
    };
    assert_eq!(encs[0], Encoding::TIGHT);
    assert!(
        !encs.iter().any(|e| e.quality_level().is_some()),
        "{encs:?}"
    );
}

#[test]
fn input_before_connecting_is_api_misuse() {
    let mut v = Viewer::new(ViewerConfig::default(), now());
    assert!(matches!(
        v.key(1, true, None),
        Err(ClientError::ApiMisuse(_))
    ));
}

#[test]
fn colour_change_without_fences_goes_ahead_when_requests_are_idle() {
    let (mut v, _) = connect(ViewerConfig::default(), 1, 1);
    let t0 = now();
    let mut one = update(1);
    one.extend(raw_rect(0, 0, 1, 1, [9, 9, 9]));
    v.handle_input(&one, t0).unwrap();
    let _ = sent(&mut v);
    v.set_colour(ColourPreset::More16).unwrap();
    assert!(sent(&mut v).is_empty());
    // Two requests stay outstanding on an idle screen: after 300 ms of quiet the switch
    // goes ahead.
    let deadline = v.poll_timeout().expect("a deadline for the pending change");
    assert_eq!(deadline, t0 + Duration::from_millis(300));
    v.handle_timeout(t0 + Duration::from_millis(100)).unwrap();
    assert!(sent(&mut v).is_empty(), "not before the deadline");
    v.handle_timeout(deadline).unwrap();
    let msgs = sent(&mut v);
    assert!(matches!(&msgs[0], ClientMessage::SetPixelFormat(pf) if pf.bits_per_pixel == 16));
    assert_eq!(requests(&msgs), [(false, Rect::new(0, 0, 1, 1))]);
    assert_eq!(v.colour(), ColourPreset::More16);
    assert_eq!(v.poll_timeout(), None);
}

/// An ExtendedDesktopSize rectangle (x = reason, y = status) with its payload: U8
/// number-of-screens, 3 padding, then per screen U32 id, U16 x, y, width, height, U32
/// flags.
fn eds(reason: u16, status: u16, w: u16, h: u16, screens: &[(u32, [u16; 4])]) -> Vec<u8> {
    let mut v = rect(reason, status, w, h, Encoding::EXTENDED_DESKTOP_SIZE.0);
    v.extend([screens.len() as u8, 0, 0, 0]);
    for (id, r) in screens {
        v.extend(id.to_be_bytes());
        for n in r {
            v.extend(n.to_be_bytes());
        }
        v.extend([0, 0, 0, 0]);
    }
    v
}

/// The events other than `Updated` (every update ends with one).
fn layout_events(v: &mut Viewer) -> Vec<ViewerEvent> {
    events(v)
        .into_iter()
        .filter(|e| !matches!(e, ViewerEvent::Updated { .. }))
        .collect()
}

#[test]
fn set_desktop_size_and_its_answers() {
    let (mut v, _) = connect(ViewerConfig::default(), 8, 4);
    // Not before the server has sent an ExtendedDesktopSize rectangle.
    assert!(matches!(
        v.request_desktop_size(16, 4, v.single_screen_layout(16, 4)),
        Err(ClientError::ApiMisuse(_))
    ));
    assert!(v.error().is_none(), "a refused command is not sticky");
    // The initial layout (reason 0): one screen, id 7.
    let mut wire = update(1);
    wire.extend(eds(0, 0, 8, 4, &[(7, [0, 0, 8, 4])]));
    v.handle_input(&wire, now()).unwrap();
    assert!(v.capabilities().extended_desktop_size);
    assert_eq!(v.screens().len(), 1);
    let _ = layout_events(&mut v);
    let _ = raw_bytes(&mut v);
    // The one-screen layout keeps the screen's id.
    let layout = v.single_screen_layout(16, 6);
    assert_eq!(layout[0].id, 7);
    let first = v.request_desktop_size(16, 6, layout).unwrap();
    // SetDesktopSize: 251, padding, width, height, number-of-screens, padding, SCREENs.
    assert_eq!(
        raw_bytes(&mut v),
        [
            251, 0, 0, 16, 0, 6, 1, 0, //
            0, 0, 0, 7, 0, 0, 0, 0, 0, 16, 0, 6, 0, 0, 0, 0
        ]
    );
    // A second request, for an invalid layout (a screen outside the framebuffer).
    let bad = vec![rfb_proto::Screen {
        id: 7,
        rect: Rect::new(10, 0, 16, 6),
        flags: 0,
    }];
    let second = v.request_desktop_size(16, 6, bad).unwrap();
    assert_ne!(first, second);
    // The answers, in order: success (reason 1, status 0, the layout as asked) ...
    let mut wire = update(1);
    wire.extend(eds(1, 0, 16, 6, &[(7, [0, 0, 16, 6])]));
    v.handle_input(&wire, now()).unwrap();
    let evs = layout_events(&mut v);
    let resized = evs
        .iter()
        .position(|e| matches!(e, ViewerEvent::Resized { width: 16, height: 6, screens } if screens.len() == 1));
    let result = evs.iter().position(|e| {
        *e == ViewerEvent::DesktopSizeResult {
            request: first,
            status: DesktopSizeStatus::Success,
        }
    });
    assert!(resized.is_some() && result > resized, "{evs:?}");
    assert_eq!(v.size(), Some((16, 6)));
    // ... then status 3, invalid screen layout: the size stays.
    let mut wire = update(1);
    wire.extend(eds(1, 3, 0, 0, &[]));
    v.handle_input(&wire, now()).unwrap();
    assert_eq!(
        layout_events(&mut v),
        [ViewerEvent::DesktopSizeResult {
            request: second,
            status: DesktopSizeStatus::InvalidLayout
        }]
    );
    assert_eq!(v.size(), Some((16, 6)));
    // The same layout repeated (reason 0, as after a non-incremental request) is no
    // resize; a change made by another client (reason 2) is.
    let mut wire = update(1);
    wire.extend(eds(0, 0, 16, 6, &[(7, [0, 0, 16, 6])]));
    v.handle_input(&wire, now()).unwrap();
    assert!(layout_events(&mut v).is_empty());
    let mut wire = update(1);
    wire.extend(eds(2, 0, 16, 6, &[(7, [0, 0, 8, 6]), (8, [8, 0, 8, 6])]));
    v.handle_input(&wire, now()).unwrap();
    assert!(matches!(
        &layout_events(&mut v)[..],
        [ViewerEvent::Resized { width: 16, height: 6, screens }] if screens.len() == 2
    ));
    // An unsolicited failure answer (nothing pending) is ignored.
    let mut wire = update(1);
    wire.extend(eds(1, 1, 0, 0, &[]));
    v.handle_input(&wire, now()).unwrap();
    assert!(layout_events(&mut v).is_empty());
    assert_eq!(v.screens().len(), 2);
}

#[test]
fn idle_timeout_is_off_by_default() {
    let (v, _) = connect(ViewerConfig::default(), 4, 4);
    assert_eq!(v.poll_timeout(), None);
}

#[test]
fn idle_timeout_probes_then_gives_up() {
    let n = Duration::from_secs(10);
    let config = ViewerConfig {
        idle_timeout: Some(n),
        ..Default::default()
    };
    // `connect` feeds everything at `now()`; the fake clock starts there.
    let t0 = now();
    let (mut v, _) = connect(config, 4, 4);
    let first = v.poll_timeout().unwrap();
    assert!(
        first >= t0 + n,
        "the first deadline is a full period after the last byte"
    );
    // Before the deadline: nothing happens.
    v.handle_timeout(first - Duration::from_secs(1)).unwrap();
    assert!(raw_bytes(&mut v).is_empty());
    // At the deadline: a probe the server must answer (no fences seen: a non-incremental
    // FramebufferUpdateRequest for one pixel).
    v.handle_timeout(first).unwrap();
    assert_eq!(
        raw_bytes(&mut v),
        [3, 0, 0, 0, 0, 0, 0, 1, 0, 1],
        "FramebufferUpdateRequest: type 3, incremental 0, x, y, width 1, height 1"
    );
    assert_eq!(v.poll_timeout(), Some(first + n));
    // The server answers (an empty update): the clock restarts from that byte.
    let answered = first + Duration::from_secs(3);
    v.handle_input(&update(0), answered).unwrap();
    let _ = raw_bytes(&mut v);
    assert_eq!(v.poll_timeout(), Some(answered + n));
    // It falls silent: probe, then give up a period after the probe.
    v.handle_timeout(answered + n).unwrap();
    assert!(!raw_bytes(&mut v).is_empty());
    let err = v.handle_timeout(answered + n + n).unwrap_err();
    assert_eq!(err, ClientError::TimedOut { silent_for: n + n });
    // Sticky, no more deadlines, nothing more to send.
    assert_eq!(v.error(), Some(&err));
    assert_eq!(v.poll_timeout(), None);
    assert!(v.handle_input(&update(0), answered + n + n).is_err());
}

#[test]
fn idle_timeout_probes_with_a_fence_when_the_server_has_fences() {
    let n = Duration::from_secs(5);
    let config = ViewerConfig {
        idle_timeout: Some(n),
        continuous_updates: false,
        ..Default::default()
    };
    let (mut v, _) = connect(config, 4, 4);
    // A server fence request (flags = Request, no payload) shows fence support.
    let t1 = now() + Duration::from_secs(1);
    v.handle_input(&[248, 0, 0, 0, 0x80, 0, 0, 0, 0], t1)
        .unwrap();
    let _ = raw_bytes(&mut v);
    assert_eq!(v.poll_timeout(), Some(t1 + n));
    v.handle_timeout(t1 + n).unwrap();
    // ClientFence: type 248, 3 padding, flags U32 = Request (bit 31), length U8, payload.
    let bytes = raw_bytes(&mut v);
    assert_eq!(bytes[..8], [248, 0, 0, 0, 0x80, 0, 0, 0]);
    assert_eq!(usize::from(bytes[8]), bytes.len() - 9);
    // The server's fence response (Request cleared, payload echoed) counts as an answer.
    let mut response = bytes.clone();
    response[4] = 0;
    let t2 = t1 + n + Duration::from_millis(20);
    v.handle_input(&response, t2).unwrap();
    assert!(v.error().is_none());
    assert_eq!(v.poll_timeout(), Some(t2 + n));
}
