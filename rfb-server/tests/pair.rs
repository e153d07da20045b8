//! Normal-phase tests: a real `ServerConnection` (fed by a `Session`) and a real
//! `rfb_client::ClientConnection` driven against each other in memory, with a virtual
//! clock; every update is decoded with `rfb_client::RemoteFramebuffer` and compared with
//! the server's frame translated to the viewer's pixel format.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rfb_client::{ClientConfig, ClientConnection, ClientEvent, CodecFramer, RemoteFramebuffer};
use rfb_codec::{CodecLimits, Framebuffer, Palette, Translator};
use rfb_proto::client::{
    EnableContinuousUpdates, FramebufferUpdateRequest, KeyEvent, PointerEvent,
};
use rfb_proto::clipboard::ExtendedClipboard;
use rfb_proto::{
    ClientMessage, CutText, Encoding, Fence, PixelFormat, Rect, ServerInit, ServerMessage,
};
use rfb_server::{
    AuthDecision, CopyMove, Damage, ServerConfig, ServerConnection, ServerError, ServerEvent,
    Session, ViewerId,
};

const W: u16 = 200;
const H: u16 = 150;

/// A picture with gradients, solid areas and fine detail, so every sub-encoding
/// (solid, palette, raw) is exercised.
fn picture(seed: u8) -> Framebuffer {
    let mut fb = Framebuffer::new(W, H, PixelFormat::RGB888);
    let mut data = Vec::with_capacity(usize::from(W) * usize::from(H) * 4);
    for y in 0..H {
        for x in 0..W {
            let (r, g, b) = if x < 50 && y < 40 {
                (10, 200, 30) // solid block
            } else if (x / 7 + y / 5) % 3 == 0 && x > 120 {
                (255, 255, 255) // two-colour "text"
            } else {
                (
                    (x as u8).wrapping_mul(3).wrapping_add(seed),
                    (y as u8).wrapping_mul(5),
                    ((x ^ y) as u8).wrapping_add(seed),
                )
            };
            // RGB888 is little-endian 32-bit with red at shift 16: bytes B G R X.
            data.extend_from_slice(&[b, g, r, 0]);
        }
    }
    fb.put_pixels(fb.rect(), &data).unwrap();
    fb
}

fn desktop() -> ServerInit {
    ServerInit {
        width: W,
        height: H,
        pixel_format: PixelFormat::RGB888,
        name: "pair".into(),
    }
}

struct Viewer {
    id: ViewerId,
    server: ServerConnection,
    client: ClientConnection,
    fb: Option<RemoteFramebuffer>,
    server_events: Vec<ServerEvent>,
    client_messages: Vec<ServerMessage>,
    updates: usize,
    /// Encodings of every rectangle received.
    rect_encodings: Vec<Encoding>,
    rects: Vec<rfb_proto::RectHeader>,
    /// When false, the server's bytes are never taken (a viewer that never reads).
    reads: bool,
    client_error: Option<rfb_client::ClientError>,
    server_error: Option<ServerError>,
}

impl Viewer {
    fn new(session: &mut Session, config: Arc<ServerConfig>, now: Instant) -> Viewer {
        let mut client = ClientConnection::new(ClientConfig::default(), now);
        client.set_framer(Box::new(CodecFramer::new(CodecLimits::default())));
        let mut v = Viewer {
            id: session.add_viewer(),
            server: ServerConnection::new(config, desktop(), now),
            client,
            fb: None,
            server_events: Vec::new(),
            client_messages: Vec::new(),
            updates: 0,
            rect_encodings: Vec::new(),
            rects: Vec::new(),
            reads: true,
            client_error: None,
            server_error: None,
        };
        v.pump(session);
        assert!(v.fb.is_some(), "handshake did not complete");
        v
    }

    fn send(&mut self, m: ClientMessage) {
        self.client.send(&m).unwrap();
    }

    /// Moves bytes and events until nothing moves.
    fn pump(&mut self, session: &mut Session) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(ev) = self.server.poll_event() {
                moved = true;
                match ev {
                    ServerEvent::AuthRequested { .. } => {
                        self.server.decide_auth(AuthDecision::Accept).unwrap()
                    }
                    e => self.server_events.push(e),
                }
            }
            if self.server.error().is_none() && !self.server.is_handshaking() {
                if let Some(p) = session.take(self.id) {
                    self.server.add_pending(p);
                }
                match self.server.write_update(session.frame()) {
                    Ok(wrote) => moved |= wrote,
                    Err(e) => self.server_error = Some(e),
                }
            }
            if self.reads {
                while let Some(bytes) = self.server.poll_transmit() {
                    moved = true;
                    if self.client_error.is_none() {
                        if let Err(e) = self.client.handle_input(&bytes) {
                            self.client_error = Some(e);
                        }
                    }
                }
            }
            while let Some(ev) = self.client.poll_event() {
                moved = true;
                match ev {
                    ClientEvent::Connected { server_init, .. } => {
                        self.fb = Some(RemoteFramebuffer::new(
                            server_init.width,
                            server_init.height,
                            server_init.pixel_format,
                        ))
                    }
                    ClientEvent::Rect { header, payload } => {
                        self.rect_encodings.push(header.encoding);
                        self.rects.push(header);
                        let fb = self.fb.as_mut().unwrap();
                        fb.apply(&header, &payload).expect("decodable rectangle");
                    }
                    ClientEvent::UpdateEnd => self.updates += 1,
                    ClientEvent::Message(m) => self.client_messages.push(m),
                    _ => {}
                }
            }
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                if let Err(e) = self.server.handle_input(&bytes) {
                    self.server_error = Some(e);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    fn set_format(&mut self, pf: PixelFormat) {
        self.send(ClientMessage::SetPixelFormat(pf));
        self.fb.as_mut().unwrap().set_pixel_format(pf);
        self.fb
            .as_mut()
            .unwrap()
            .set_palette(Palette::for_format(&pf));
    }

    fn request(&mut self, incremental: bool) {
        self.send(ClientMessage::FramebufferUpdateRequest(
            FramebufferUpdateRequest {
                incremental,
                rect: Rect::new(0, 0, W, H),
            },
        ));
    }

    /// The client's pixels equal the server's frame translated to the client's format.
    fn assert_matches(&self, frame: &Framebuffer) {
        let fb = self.fb.as_ref().unwrap().framebuffer();
        let pf = *fb.format();
        let t =
            Translator::new(frame.format(), None, &pf, Palette::for_format(&pf).as_ref()).unwrap();
        let expected = t.translate(&frame.view(frame.rect()).unwrap()).unwrap();
        assert_eq!(fb.width(), frame.width());
        if fb.data() != &expected[..] {
            let bpp = pf.bytes_per_pixel();
            let first = fb
                .data()
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(0)
                / bpp;
            panic!(
                "pixels differ first at ({}, {})",
                first % usize::from(frame.width()),
                first / usize::from(frame.width())
            );
        }
    }
}

fn config() -> Arc<ServerConfig> {
    Arc::new(ServerConfig::no_auth())
}

#[test]
fn every_encoding_and_format_decodes_to_the_frame() {
    let encodings = [
        Encoding::RAW,
        Encoding::RRE,
        Encoding::CORRE,
        Encoding::HEXTILE,
        Encoding::ZLIB,
        Encoding::TRLE,
        Encoding::ZRLE,
    ];
    let formats = [
        PixelFormat::RGB888,
        PixelFormat::BGR888,
        PixelFormat::RGB565,
        PixelFormat::RGB555,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ];
    for enc in encodings {
        for pf in formats {
            let now = Instant::now();
            let mut session = Session::new(picture(0));
            let mut v = Viewer::new(&mut session, config(), now);
            v.set_format(pf);
            v.send(ClientMessage::SetEncodings(vec![enc, Encoding::COPY_RECT]));
            v.request(false);
            v.pump(&mut session);
            assert_eq!(v.server.update_encoding(), Some(enc));
            assert_eq!(v.updates, 1, "{enc} {pf:?}");
            v.assert_matches(session.frame());

            // A change, a move and an incremental request: only the damage travels.
            let mut next = picture(40);
            next.copy_within(Rect::new(0, 0, 50, 40), 60, 70).unwrap();
            let before = v.updates;
            v.rect_encodings.clear();
            session.update_with_move(
                next,
                CopyMove {
                    src: Rect::new(0, 0, 50, 40),
                    dst_x: 60,
                    dst_y: 70,
                },
                Damage::Everything,
            );
            v.request(true);
            v.pump(&mut session);
            assert_eq!(v.updates, before + 1);
            assert_eq!(v.rect_encodings[0], Encoding::COPY_RECT);
            assert!(v.rect_encodings[1..].iter().all(|e| *e == enc));
            v.assert_matches(session.frame());
            assert!(v.client_error.is_none() && v.server_error.is_none());
        }
    }
}

#[test]
fn incremental_request_waits_for_changes_and_sends_only_them() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
    v.request(false);
    v.pump(&mut session);
    assert_eq!(v.updates, 1);
    v.request(true);
    v.pump(&mut session);
    assert_eq!(v.updates, 1, "nothing changed: the request waits");
    let mut next = (**session.frame()).clone();
    next.fill(Rect::new(130, 100, 3, 3), &[0, 0, 255, 0])
        .unwrap();
    let changed = session.update(next, Damage::Everything);
    assert_eq!(changed.bounding_box(), Some(Rect::new(130, 100, 3, 3)));
    let sent_before = v.server.pending_transmit();
    assert_eq!(sent_before, 0);
    v.pump(&mut session);
    assert_eq!(v.updates, 2);
    v.assert_matches(session.frame());
}

#[test]
fn view_only_input_and_clipboard_are_dropped() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.server_events.clear();
    let key = ClientMessage::KeyEvent(KeyEvent {
        down: true,
        keysym: 0x61,
    });
    let pointer = ClientMessage::PointerEvent(PointerEvent {
        buttons: 1,
        x: 5,
        y: 6,
    });
    v.send(key.clone());
    v.send(pointer.clone());
    v.send(ClientMessage::ClientCutText(CutText::from_text("hello")));
    v.pump(&mut session);
    assert_eq!(
        v.server_events,
        vec![
            ServerEvent::Message(key.clone()),
            ServerEvent::Message(pointer.clone()),
            ServerEvent::ClipboardText("hello".into()),
        ]
    );
    v.server_events.clear();
    v.server.set_view_only(true).unwrap();
    v.send(key);
    v.send(pointer);
    v.send(ClientMessage::ClientCutText(CutText::from_text("secret")));
    v.pump(&mut session);
    assert!(v.server_events.is_empty(), "{:?}", v.server_events);
    // Updates still flow to a view-only viewer.
    v.request(false);
    v.pump(&mut session);
    assert_eq!(v.updates, 1);
}

#[test]
fn continuous_updates_flow_without_requests() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::ZRLE,
        Encoding::CONTINUOUS_UPDATES,
    ]));
    v.pump(&mut session);
    // The server confirms the extension with EndOfContinuousUpdates.
    assert_eq!(
        v.client_messages,
        vec![ServerMessage::EndOfContinuousUpdates]
    );
    v.request(false);
    v.send(ClientMessage::EnableContinuousUpdates(
        EnableContinuousUpdates {
            enable: true,
            rect: Rect::new(0, 0, W, H),
        },
    ));
    v.pump(&mut session);
    assert!(v.server.continuous_updates());
    let base = v.updates;
    for seed in 1..4u8 {
        session.update(picture(seed), Damage::Everything);
        v.pump(&mut session);
        assert_eq!(v.updates, base + usize::from(seed), "no request needed");
        v.assert_matches(session.frame());
    }
    v.send(ClientMessage::EnableContinuousUpdates(
        EnableContinuousUpdates {
            enable: false,
            rect: Rect::new(0, 0, W, H),
        },
    ));
    v.pump(&mut session);
    assert_eq!(
        v.client_messages.last(),
        Some(&ServerMessage::EndOfContinuousUpdates)
    );
    let before = v.updates;
    session.update(picture(9), Damage::Everything);
    v.pump(&mut session);
    assert_eq!(v.updates, before, "disabled: back to requests");
}

#[test]
fn continuous_updates_without_negotiation_is_an_error() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::EnableContinuousUpdates(
        EnableContinuousUpdates {
            enable: true,
            rect: Rect::new(0, 0, W, H),
        },
    ));
    v.pump(&mut session);
    assert!(v.server_error.is_some());
}

#[test]
fn fences_are_announced_and_answered() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::FENCE,
    ]));
    v.pump(&mut session);
    let [ServerMessage::Fence(announce)] = &v.client_messages[..] else {
        panic!("{:?}", v.client_messages)
    };
    assert!(announce.is_request());
    v.client_messages.clear();
    // Request + block-before + an unknown flag (bit 8): the answer keeps block-before,
    // clears Request and the unknown flag, and echoes the payload.
    let fence = Fence::new(Fence::REQUEST | Fence::BLOCK_BEFORE | 1 << 8, &b"xyz"[..]).unwrap();
    v.send(ClientMessage::Fence(fence));
    v.pump(&mut session);
    assert_eq!(
        v.client_messages,
        vec![ServerMessage::Fence(
            Fence::new(Fence::BLOCK_BEFORE, &b"xyz"[..]).unwrap()
        )]
    );
    // A response (no Request bit) is not answered.
    v.client_messages.clear();
    v.send(ClientMessage::Fence(Fence::new(0, &b""[..]).unwrap()));
    v.pump(&mut session);
    assert!(v.client_messages.is_empty());
}

#[test]
fn a_viewer_that_never_reads_stays_bounded_while_another_is_served() {
    let mut session = Session::new(picture(0));
    let config = config();
    let budget = config.update_budget;
    let now = Instant::now();
    let mut slow = Viewer::new(&mut session, Arc::clone(&config), now);
    let mut fast = Viewer::new(&mut session, Arc::clone(&config), now);
    for v in [&mut slow, &mut fast] {
        v.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
        v.request(false);
        v.pump(&mut session);
    }
    slow.reads = false;
    let one_update = usize::from(W) * usize::from(H) * 4 + 4 + 12 * 16;
    for seed in 1..60u8 {
        session.update(picture(seed), Damage::Everything);
        // The slow viewer keeps asking but never reads what we send.
        for _ in 0..10 {
            slow.request(true);
        }
        slow.pump(&mut session);
        fast.request(true);
        fast.pump(&mut session);
        fast.assert_matches(session.frame());
        assert!(
            slow.server.pending_transmit() <= budget + one_update,
            "{} bytes queued",
            slow.server.pending_transmit()
        );
        assert!(slow.server.memory_estimate() <= 2 * (budget + one_update) + (64 << 10));
    }
    assert!(fast.updates >= 60);
    assert!(
        slow.server.pending_transmit() > budget / 2,
        "the slow viewer did hold bytes"
    );
    assert!(slow.updates < 5);
    // Once it reads again, it catches up with the newest frame in one go.
    slow.reads = true;
    slow.request(true);
    slow.pump(&mut session);
    slow.assert_matches(session.frame());
}

#[test]
fn input_flood_is_held_back_until_events_are_taken() {
    let mut session = Session::new(picture(0));
    let cfg = config();
    let max = cfg.max_pending_events;
    let mut v = Viewer::new(&mut session, cfg, Instant::now());
    while v.server.poll_event().is_some() {}
    let mut wire = Vec::new();
    for i in 0..1000u32 {
        ClientMessage::KeyEvent(KeyEvent {
            down: true,
            keysym: i,
        })
        .encode(&mut wire);
    }
    v.server.handle_input(&wire).unwrap();
    assert!(!v.server.wants_input());
    // Events are parsed lazily as the product takes them, in order, and all arrive.
    let mut n = 0u32;
    while let Some(ev) = v.server.poll_event() {
        assert_eq!(
            ev,
            ServerEvent::Message(ClientMessage::KeyEvent(KeyEvent {
                down: true,
                keysym: n
            }))
        );
        n += 1;
    }
    assert_eq!(n, 1000);
    assert!(v.server.wants_input());
    assert!(max < 1000);
}

#[test]
fn garbage_from_one_viewer_ends_only_that_viewer() {
    let mut session = Session::new(picture(0));
    let now = Instant::now();
    let mut bad = Viewer::new(&mut session, config(), now);
    let mut good = Viewer::new(&mut session, config(), now);
    assert!(bad.server.handle_input(&[0x77, 1, 2, 3]).is_err());
    // Sticky.
    assert!(bad.server.handle_input(&[3]).is_err());
    session.remove_viewer(bad.id);
    good.request(false);
    good.pump(&mut session);
    session.update(picture(5), Damage::Everything);
    good.request(true);
    good.pump(&mut session);
    good.assert_matches(session.frame());
    assert!(good.server_error.is_none());
}

#[test]
fn resize_reaches_viewers_that_support_it() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::DESKTOP_SIZE,
    ]));
    v.request(false);
    v.pump(&mut session);
    let mut bigger = Framebuffer::new(W + 40, H + 10, PixelFormat::RGB888);
    bigger.fill(Rect::new(0, 0, 30, 30), &[1, 2, 3, 0]).unwrap();
    session.update(bigger, Damage::Everything);
    v.request(true);
    v.pump(&mut session);
    let fb = v.fb.as_ref().unwrap().framebuffer();
    assert_eq!((fb.width(), fb.height()), (W + 40, H + 10));
    v.assert_matches(session.frame());

    // A viewer without DesktopSize cannot follow a resize: it is disconnected.
    let mut session = Session::new(picture(0));
    let mut old = Viewer::new(&mut session, config(), Instant::now());
    old.request(false);
    old.pump(&mut session);
    session.update(
        Framebuffer::new(10, 10, PixelFormat::RGB888),
        Damage::Everything,
    );
    old.request(true);
    old.pump(&mut session);
    assert!(matches!(
        old.server_error,
        Some(ServerError::ClosedByServer(_))
    ));
}

#[test]
fn set_desktop_size_goes_to_the_product() {
    use rfb_proto::client::SetDesktopSize;
    use rfb_proto::server::ExtendedDesktopSize;
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::EXTENDED_DESKTOP_SIZE,
    ]));
    v.request(false);
    v.pump(&mut session);
    v.server_events.clear();
    let req = SetDesktopSize {
        width: 100,
        height: 100,
        screens: vec![rfb_proto::Screen {
            id: 0,
            rect: Rect::new(0, 0, 100, 100),
            flags: 0,
        }],
    };
    v.send(ClientMessage::SetDesktopSize(req.clone()));
    v.pump(&mut session);
    assert_eq!(
        v.server_events,
        vec![ServerEvent::DesktopSizeRequested(req)]
    );
    v.server
        .answer_desktop_size(ExtendedDesktopSize::STATUS_PROHIBITED)
        .unwrap();
    v.request(true);
    v.pump(&mut session);
    // The refusal leaves the size as it was.
    let fb = v.fb.as_ref().unwrap().framebuffer();
    assert_eq!((fb.width(), fb.height()), (W, H));
    assert!(v.server.answer_desktop_size(0).is_err(), "nothing pending");
}

#[test]
fn bell_name_and_classic_clipboard_reach_the_viewer() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
    v.pump(&mut session);
    v.server.bell().unwrap();
    assert!(v.server.send_clipboard("héllo").unwrap());
    v.pump(&mut session);
    assert_eq!(
        v.client_messages,
        vec![
            ServerMessage::Bell,
            ServerMessage::ServerCutText(CutText::Latin1(bytes::Bytes::from_static(b"h\xe9llo")))
        ]
    );
}

#[test]
fn extended_clipboard_caps_are_sent_when_listed() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::EXTENDED_CLIPBOARD,
    ]));
    v.pump(&mut session);
    let [ServerMessage::ServerCutText(CutText::Extended(ExtendedClipboard::Caps {
        formats, ..
    }))] = &v.client_messages[..]
    else {
        panic!("{:?}", v.client_messages)
    };
    assert!(formats.contains(rfb_proto::clipboard::Format::TEXT));
}

#[test]
fn handshake_deadline_still_applies() {
    let now = Instant::now();
    let mut s = ServerConnection::new(config(), desktop(), now);
    s.handle_input(b"RFB 003.008\n").unwrap();
    assert!(s.handle_timeout(now + Duration::from_secs(31)).is_err());
}

#[test]
fn pseudo_rectangles_name_cursor_and_qemu_key_confirmation() {
    use rfb_codec::cursor::CursorImage;
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::DESKTOP_NAME,
        Encoding::CURSOR,
        Encoding::QEMU_EXTENDED_KEY_EVENT,
    ]));
    v.request(false);
    v.pump(&mut session);
    // The first update confirms the QEMU extension with an empty pseudo-rectangle.
    assert_eq!(v.rect_encodings[0], Encoding::QEMU_EXTENDED_KEY_EVENT);
    v.rect_encodings.clear();
    v.server.set_desktop_name("renamed").unwrap();
    let cursor = CursorImage::new(2, 2, 1, 1, vec![255; 16]).unwrap();
    v.server.set_cursor(cursor).unwrap();
    v.request(true);
    v.pump(&mut session);
    assert_eq!(
        v.rect_encodings,
        vec![Encoding::DESKTOP_NAME, Encoding::CURSOR],
        "pseudo-rectangles go out without pixel changes"
    );
    assert_eq!(v.server.desktop().name, "renamed");
}

#[test]
fn extended_clipboard_both_ways() {
    use rfb_proto::clipboard::{Actions, Formats};
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::EXTENDED_CLIPBOARD,
    ]));
    // The viewer's caps: text, and it wants to be notified.
    v.send(ClientMessage::ClientCutText(CutText::Extended(
        ExtendedClipboard::Caps {
            formats: Formats::TEXT,
            actions: Actions::CAPS | Actions::REQUEST | Actions::NOTIFY | Actions::PROVIDE,
            max_sizes: vec![1 << 20],
        },
    )));
    v.pump(&mut session);
    v.client_messages.clear();
    // Server to viewer: Notify, then Provide on Request.
    assert!(v.server.send_clipboard("from server\n").unwrap());
    v.pump(&mut session);
    assert_eq!(
        v.client_messages,
        vec![ServerMessage::ServerCutText(CutText::Extended(
            ExtendedClipboard::Notify(Formats::TEXT)
        ))]
    );
    v.client_messages.clear();
    v.send(ClientMessage::ClientCutText(CutText::Extended(
        ExtendedClipboard::Request(Formats::TEXT),
    )));
    v.pump(&mut session);
    let [ServerMessage::ServerCutText(CutText::Extended(ExtendedClipboard::Provide {
        formats,
        zlib,
    }))] = &v.client_messages[..]
    else {
        panic!("{:?}", v.client_messages)
    };
    assert_eq!(*formats, Formats::TEXT);
    // Inflate independently and check the extension's text format: CR LF and a NUL.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&zlib[..]), &mut raw).unwrap();
    assert_eq!(raw, b"\0\0\0\x0efrom server\r\n\0");

    // Viewer to server: Notify, we Request, it Provides, the product gets the text.
    v.client_messages.clear();
    v.server_events.clear();
    v.send(ClientMessage::ClientCutText(CutText::Extended(
        ExtendedClipboard::Notify(Formats::TEXT),
    )));
    v.pump(&mut session);
    assert_eq!(
        v.client_messages,
        vec![ServerMessage::ServerCutText(CutText::Extended(
            ExtendedClipboard::Request(Formats::TEXT)
        ))]
    );
    let payload = b"\0\0\0\x08a\r\nb \xc3\xa9\0";
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, payload).unwrap();
    let zlib = z.finish().unwrap();
    v.send(ClientMessage::ClientCutText(CutText::Extended(
        ExtendedClipboard::Provide {
            formats: Formats::TEXT,
            zlib: zlib.into(),
        },
    )));
    v.pump(&mut session);
    assert_eq!(
        v.server_events,
        vec![ServerEvent::ClipboardText("a\nb é".into())]
    );
    assert!(v.server_error.is_none());
}

#[test]
fn view_only_set_before_accepting_filters_input_pipelined_behind_client_init() {
    let now = Instant::now();
    let mut s = ServerConnection::new(config(), desktop(), now);
    s.handle_input(b"RFB 003.008\n").unwrap();
    s.handle_input(&[1]).unwrap();
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::AuthRequested { .. })
    ));
    s.set_view_only(true).unwrap();
    s.decide_auth(AuthDecision::Accept).unwrap();
    // ClientInit and a key press in one segment.
    s.handle_input(&[1, 4, 1, 0, 0, 0, 0, 0, 0x61]).unwrap();
    let mut events = Vec::new();
    while let Some(e) = s.poll_event() {
        events.push(e);
    }
    assert!(
        matches!(
            events[..],
            [
                ServerEvent::Authenticated { .. },
                ServerEvent::Initialised { .. }
            ]
        ),
        "{events:?}"
    );
    assert!(s.is_view_only());
}

#[test]
fn repeated_set_encodings_keep_the_zlib_streams() {
    // Viewers resend SetEncodings when settings change; a zlib stream the viewer is
    // decoding must continue, also after switching away and back.
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    let lists = [
        vec![Encoding::ZRLE],
        vec![Encoding::ZRLE, Encoding::for_compress_level(9)],
        vec![Encoding::ZLIB],
        vec![Encoding::HEXTILE],
        vec![Encoding::ZRLE, Encoding::for_compress_level(2)],
        vec![Encoding::ZLIB, Encoding::for_compress_level(5)],
    ];
    v.send(ClientMessage::SetEncodings(lists[0].clone()));
    v.request(false);
    v.pump(&mut session);
    v.assert_matches(session.frame());
    for (i, list) in lists.iter().cycle().take(12).enumerate() {
        v.send(ClientMessage::SetEncodings(list.clone()));
        session.update(picture(i as u8 * 11 + 1), Damage::Everything);
        v.request(true);
        v.pump(&mut session);
        assert_eq!(v.server.update_encoding(), Some(list[0]));
        v.assert_matches(session.frame());
    }
    assert!(v.client_error.is_none() && v.server_error.is_none());
}

#[test]
fn cursor_set_before_the_viewer_lists_cursors_is_sent_when_it_does() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
    v.request(false);
    v.pump(&mut session);
    let shape = rfb_codec::cursor::CursorImage::new(2, 2, 0, 0, vec![255; 16]).unwrap();
    v.server.set_cursor(shape).unwrap();
    v.request(true);
    v.pump(&mut session);
    assert!(!v.rect_encodings.contains(&Encoding::CURSOR_WITH_ALPHA));
    // Now the viewer lists a cursor encoding: the shape set earlier comes with the next
    // update.
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::CURSOR_WITH_ALPHA,
    ]));
    v.request(true);
    v.pump(&mut session);
    assert!(v.rect_encodings.contains(&Encoding::CURSOR_WITH_ALPHA));
    assert!(v.client_error.is_none() && v.server_error.is_none());
}

#[test]
fn pointer_position_goes_to_viewers_that_list_pointer_pos() {
    let mut session = Session::new(picture(0));
    let mut v = Viewer::new(&mut session, config(), Instant::now());
    v.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
    v.request(false);
    v.pump(&mut session);
    v.server.set_pointer_position(5, 6).unwrap();
    v.request(true);
    v.pump(&mut session);
    assert!(!v.rect_encodings.contains(&Encoding::POINTER_POS));
    v.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::POINTER_POS,
    ]));
    v.pump(&mut session);
    v.server.set_pointer_position(7, 9).unwrap();
    v.request(true);
    v.pump(&mut session);
    let at = v
        .rects
        .iter()
        .find(|h| h.encoding == Encoding::POINTER_POS)
        .map(|h| h.rect);
    assert_eq!(at, Some(Rect::new(7, 9, 0, 0)));
    assert!(v.client_error.is_none() && v.server_error.is_none());
}
