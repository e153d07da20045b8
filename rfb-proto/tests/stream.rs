//! ServerStream and BasicFramer: updates, LastRect, pseudo-encodings, limits.

use rfb_proto::stream::{BasicFramer, OwnedServerItem, PayloadFramer};
use rfb_proto::{
    Encoding, Error, Incompatible, Limit, LimitExceeded, Limits, PixelFormat, Progress, Rect,
    RectHeader, ServerMessage, ServerStream,
};

/// Walks the whole of `wire`, returning the items, the bytes consumed and the error.
fn walk(
    wire: &[u8],
    pf: PixelFormat,
    limits: Limits,
) -> (Vec<OwnedServerItem>, usize, Option<Error>) {
    let mut s = ServerStream::new(pf, limits);
    let mut items = Vec::new();
    let mut pos = 0;
    loop {
        match s.next(&wire[pos..], &mut BasicFramer) {
            Ok(Progress::Done { item, consumed }) => {
                items.push(item.to_owned_item());
                pos += consumed;
            }
            Ok(Progress::NeedMore { .. }) => return (items, pos, None),
            Err(e) => return (items, pos, Some(e)),
        }
    }
}

fn rect(x: u16, y: u16, w: u16, h: u16, e: Encoding, payload: &[u8]) -> OwnedServerItem {
    OwnedServerItem::Rect {
        header: RectHeader {
            rect: Rect::new(x, y, w, h),
            encoding: e,
        },
        payload: bytes::Bytes::copy_from_slice(payload),
    }
}

#[test]
fn update_with_raw_and_copy_rect_then_bell() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 2,                                     // FramebufferUpdate, 2 rects
        0, 1, 0, 2, 0, 2, 0, 1, 0, 0, 0, 0,             // 2x1 at 1,2, Raw
        1, 2, 3, 4, 5, 6, 7, 8,                         // two 32-bit pixels
        0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 1,             // 4x4 at 0,0, CopyRect
        0, 10, 0, 20,                                   // from 10,20
        2,                                              // Bell
    ];
    let (items, pos, err) = walk(&wire, PixelFormat::RGB888, Limits::default());
    assert_eq!(err, None);
    assert_eq!(pos, wire.len());
    assert_eq!(
        items,
        [
            OwnedServerItem::UpdateStart { rects: 2 },
            rect(1, 2, 2, 1, Encoding::RAW, &[1, 2, 3, 4, 5, 6, 7, 8]),
            rect(0, 0, 4, 4, Encoding::COPY_RECT, &[0, 10, 0, 20]),
            OwnedServerItem::UpdateEnd,
            OwnedServerItem::Message(ServerMessage::Bell),
        ]
    );
}

#[test]
fn raw_payload_depends_on_pixel_format() {
    let wire = [
        0, 0, 0, 1, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0xa, 0xb, 0xc, 2,
    ];
    // 8 bits per pixel: 3 bytes, then Bell.
    let (items, _, err) = walk(&wire, PixelFormat::RGB332, Limits::default());
    assert_eq!(err, None);
    assert_eq!(items.len(), 4);
    // 16 bits per pixel: needs 6 bytes, only 4 are there.
    let (items, pos, err) = walk(&wire, PixelFormat::RGB565, Limits::default());
    assert_eq!((items.len(), pos, err), (1, 4, None));
}

#[test]
fn rect_is_not_yielded_until_its_payload_is_complete() {
    let mut s = ServerStream::new(PixelFormat::RGB888, Limits::default());
    let wire = [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0];
    assert!(matches!(
        s.next(&wire, &mut BasicFramer),
        Ok(Progress::Done { consumed: 4, .. })
    ));
    // Header and 15 of 16 payload bytes: nothing is consumed, 12 + 16 are needed.
    let mut buf = wire[4..].to_vec();
    buf.extend_from_slice(&[0; 15]);
    assert_eq!(
        s.next(&buf, &mut BasicFramer),
        Ok(Progress::NeedMore { at_least: 28 })
    );
    assert_eq!(
        s.next(&buf[..5], &mut BasicFramer),
        Ok(Progress::NeedMore { at_least: 12 })
    );
    buf.push(0);
    assert!(matches!(
        s.next(&buf, &mut BasicFramer),
        Ok(Progress::Done { consumed: 28, .. })
    ));
}

#[test]
fn last_rect_ends_an_update_of_65535() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0xff, 0xff,                                       // 65535 rects
        0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 0, 6,         // CopyRect
        0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x20,         // LastRect (-224)
        2,
    ];
    let (items, pos, err) = walk(&wire, PixelFormat::RGB888, Limits::default());
    assert_eq!(err, None);
    assert_eq!(pos, wire.len());
    assert_eq!(
        items,
        [
            OwnedServerItem::UpdateStart { rects: 65535 },
            rect(0, 0, 1, 1, Encoding::COPY_RECT, &[0, 5, 0, 6]),
            OwnedServerItem::UpdateEnd,
            OwnedServerItem::Message(ServerMessage::Bell),
        ]
    );
}

#[test]
fn empty_update() {
    let (items, pos, err) = walk(&[0, 0, 0, 0, 150], PixelFormat::RGB888, Limits::default());
    assert_eq!((pos, err), (5, None));
    assert_eq!(
        items,
        [
            OwnedServerItem::UpdateStart { rects: 0 },
            OwnedServerItem::UpdateEnd,
            OwnedServerItem::Message(ServerMessage::EndOfContinuousUpdates),
        ]
    );
}

#[test]
fn unknown_encoding_is_incompatible() {
    for e in [
        Encoding::ZRLE,
        Encoding::TIGHT,
        Encoding(12345),
        Encoding(-1000),
    ] {
        let mut wire = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1];
        wire.extend_from_slice(&e.0.to_be_bytes());
        wire.extend_from_slice(&[0; 64]);
        let (items, pos, err) = walk(&wire, PixelFormat::RGB888, Limits::default());
        assert_eq!(err, Some(Incompatible::Encoding(e.0).into()));
        assert_eq!(
            (items.len(), pos),
            (1, 4),
            "nothing of the rectangle is consumed"
        );
    }
}

#[test]
fn too_many_rects_per_update() {
    let limits = Limits {
        max_rects_per_update: 2,
        ..Limits::default()
    };
    let mut wire = vec![0, 0, 0, 3];
    for _ in 0..3 {
        wire.extend_from_slice(&[0, 0, 0, 0, 0, 8, 0, 8, 0xff, 0xff, 0xff, 0x21]);
        // DesktopSize
    }
    let (items, pos, err) = walk(&wire, PixelFormat::RGB888, limits.clone());
    assert_eq!(
        err,
        Some(
            LimitExceeded {
                limit: Limit::RectsPerUpdate,
                requested: 3,
                allowed: 2
            }
            .into()
        )
    );
    assert_eq!((items.len(), pos), (3, 28));
    // The same count is fine when a LastRect ends the update earlier.
    let mut wire = vec![0, 0, 0xff, 0xff];
    for _ in 0..2 {
        wire.extend_from_slice(&[0, 0, 0, 0, 0, 8, 0, 8, 0xff, 0xff, 0xff, 0x21]);
    }
    wire.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x20]);
    let (items, _, err) = walk(&wire, PixelFormat::RGB888, limits);
    assert_eq!(err, None);
    assert_eq!(items.last(), Some(&OwnedServerItem::UpdateEnd));
}

#[test]
fn raw_rect_larger_than_the_framebuffer_limit_fails_before_its_payload() {
    let limits = Limits {
        max_framebuffer_width: 100,
        ..Limits::default()
    };
    // 101 x 1 Raw: refused from the header alone.
    let wire = [0, 0, 0, 1, 0, 0, 0, 0, 0, 101, 0, 1, 0, 0, 0, 0];
    let (_, pos, err) = walk(&wire, PixelFormat::RGB888, limits);
    assert_eq!(pos, 4);
    assert!(matches!(
        err,
        Some(Error::LimitExceeded(LimitExceeded {
            limit: Limit::FramebufferWidth,
            ..
        }))
    ));
    // The largest Raw rectangle the default limits allow asks for 1 GiB, no more.
    let h = RectHeader {
        rect: Rect::new(0, 0, 16384, 16384),
        encoding: Encoding::RAW,
    };
    assert_eq!(
        BasicFramer.frame(&h, &PixelFormat::RGB888, &[], &Limits::default()),
        Ok(Progress::NeedMore { at_least: 1 << 30 })
    );
}

fn frame(e: Encoding, w: u16, h: u16, pf: PixelFormat, buf: &[u8]) -> Result<Progress<()>, Error> {
    let header = RectHeader {
        rect: Rect::new(3, 4, w, h),
        encoding: e,
    };
    BasicFramer.frame(&header, &pf, buf, &Limits::default())
}

fn done(n: usize) -> Result<Progress<()>, Error> {
    Ok(Progress::Done {
        item: (),
        consumed: n,
    })
}

fn need(n: usize) -> Result<Progress<()>, Error> {
    Ok(Progress::NeedMore { at_least: n })
}

#[test]
fn pseudo_encoding_payload_lengths() {
    let pf = PixelFormat::RGB565;
    let big = [0u8; 256];
    // No data.
    for e in [
        Encoding::DESKTOP_SIZE,
        Encoding::LAST_RECT,
        Encoding::POINTER_POS,
        Encoding::EXTENDED_MOUSE_BUTTONS,
        Encoding::QEMU_POINTER_MOTION_CHANGE,
        Encoding::QEMU_EXTENDED_KEY_EVENT,
        Encoding::VMWARE_CURSOR_POSITION,
    ] {
        assert_eq!(frame(e, 640, 480, pf, &[]), done(0), "{e}");
    }
    // Cursor 9x2 at 16 bpp: 9*2*2 pixel bytes + ((9+7)/8)*2 mask bytes.
    assert_eq!(frame(Encoding::CURSOR, 9, 2, pf, &big), done(36 + 4));
    assert_eq!(frame(Encoding::CURSOR, 9, 2, pf, &big[..39]), need(40));
    // X Cursor 9x2: 6 colour bytes + bitmap + bitmask of 4 bytes each; empty has none.
    assert_eq!(frame(Encoding::X_CURSOR, 9, 2, pf, &big), done(6 + 4 + 4));
    assert_eq!(frame(Encoding::X_CURSOR, 0, 2, pf, &big), done(0));
    // Cursor with alpha, inner Raw: 4 + 2*2 RGBA pixels.
    let mut cwa = vec![0, 0, 0, 0];
    cwa.extend_from_slice(&[0; 16]);
    assert_eq!(frame(Encoding::CURSOR_WITH_ALPHA, 2, 2, pf, &cwa), done(20));
    assert_eq!(
        frame(Encoding::CURSOR_WITH_ALPHA, 2, 2, pf, &cwa[..2]),
        need(4)
    );
    assert_eq!(
        frame(Encoding::CURSOR_WITH_ALPHA, 2, 2, pf, &[0, 0, 0, 16, 0, 0]),
        Err(Incompatible::Encoding(16).into())
    );
    // ExtendedDesktopSize with 2 screens.
    assert_eq!(
        frame(Encoding::EXTENDED_DESKTOP_SIZE, 1, 1, pf, &[2, 0, 0, 0]),
        need(36)
    );
    assert_eq!(
        frame(Encoding::EXTENDED_DESKTOP_SIZE, 1, 1, pf, &[]),
        need(4)
    );
    // DesktopName of 3 bytes.
    assert_eq!(
        frame(
            Encoding::DESKTOP_NAME,
            0,
            0,
            pf,
            &[0, 0, 0, 3, b'a', b'b', b'c', 9]
        ),
        done(7)
    );
    // QEMU LED state: one byte.
    assert_eq!(frame(Encoding::QEMU_LED_STATE, 0, 0, pf, &[0b101]), done(1));
    // VMware: cursor classic (and + xor masks) and alpha, state, key repeat, LEDs, mode.
    assert_eq!(
        frame(Encoding::VMWARE_CURSOR, 2, 2, pf, &big),
        done(2 + 2 * 2 * 2 * 2)
    );
    let mut alpha = big;
    alpha[0] = 1;
    assert_eq!(
        frame(Encoding::VMWARE_CURSOR, 2, 2, pf, &alpha),
        done(2 + 16)
    );
    alpha[0] = 2;
    assert!(matches!(
        frame(Encoding::VMWARE_CURSOR, 2, 2, pf, &alpha),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        frame(Encoding::VMWARE_CURSOR_STATE, 0, 0, pf, &big),
        done(2)
    );
    assert_eq!(frame(Encoding::VMWARE_KEY_REPEAT, 0, 0, pf, &big), done(10));
    assert_eq!(frame(Encoding::VMWARE_LED_STATE, 0, 0, pf, &big), done(4));
    assert_eq!(frame(Encoding::VMWARE_VM_STATE, 0, 0, pf, &big), done(2));
    assert_eq!(
        frame(Encoding::VMWARE_DISPLAY_MODE_CHANGE, 0, 0, pf, &big),
        done(16)
    );
}

#[test]
fn vmware_display_mode_change_switches_the_pixel_format() {
    let mut wire = vec![0, 0, 0, 2];
    wire.extend_from_slice(&[0, 0, 0, 0, 0, 8, 0, 8, 0x57, 0x4d, 0x56, 0x69]);
    PixelFormat::RGB332.encode(&mut wire);
    wire.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0xa, 0xb]); // 2x1 Raw at 8 bpp
    let (items, pos, err) = walk(&wire, PixelFormat::RGB888, Limits::default());
    assert_eq!((pos, err), (wire.len(), None));
    assert_eq!(items[2], rect(0, 0, 2, 1, Encoding::RAW, &[0xa, 0xb]));
}

#[test]
fn limits_on_pseudo_encodings_apply_in_the_stream() {
    let limits = Limits {
        max_desktop_name: 8,
        ..Limits::default()
    };
    let wire = [
        0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xcd, 0, 0, 0, 9,
    ];
    let (_, pos, err) = walk(&wire, PixelFormat::RGB888, limits);
    assert_eq!(pos, 4);
    assert!(matches!(
        err,
        Some(Error::LimitExceeded(LimitExceeded {
            limit: Limit::DesktopName,
            ..
        }))
    ));
}

#[test]
fn messages_between_updates_and_set_pixel_format() {
    let mut s = ServerStream::new(PixelFormat::RGB888, Limits::default());
    assert!(!s.in_update());
    s.set_pixel_format(PixelFormat::RGB565);
    assert_eq!(s.pixel_format(), &PixelFormat::RGB565);
    let wire = [0, 0, 0, 1];
    s.next(&wire, &mut BasicFramer).unwrap();
    assert!(s.in_update());
}

/// A framer for RRE built on BasicFramer, as a codec crate would write one.
struct RreFramer;

impl PayloadFramer for RreFramer {
    fn frame(
        &mut self,
        h: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        l: &Limits,
    ) -> Result<Progress<()>, Error> {
        if h.encoding != Encoding::RRE {
            return BasicFramer.frame(h, pf, buf, l);
        }
        if buf.len() < 4 {
            return Ok(Progress::NeedMore { at_least: 4 });
        }
        let n = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let bpp = pf.bytes_per_pixel();
        let len = 4 + bpp + n * (bpp + 8);
        Ok(if buf.len() >= len {
            Progress::Done {
                item: (),
                consumed: len,
            }
        } else {
            Progress::NeedMore { at_least: len }
        })
    }
}

#[test]
fn a_wrapping_framer_extends_basic_framer() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 2,
        0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 2,      // RRE
        0, 0, 0, 1, 7, 9, 0, 0, 0, 0, 0, 1, 0, 1, // 1 subrect, 8 bpp
        0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 5,    // Raw 1x1
    ];
    let mut s = ServerStream::new(PixelFormat::RGB332, Limits::default());
    let mut framer = RreFramer;
    let mut pos = 0;
    let mut n = 0;
    while let Progress::Done { consumed, .. } = s.next(&wire[pos..], &mut framer).unwrap() {
        pos += consumed;
        n += 1;
    }
    assert_eq!((pos, n), (wire.len(), 4));
}

#[test]
fn pixel_payloads_are_bounded_by_a_framebuffer_of_32_bit_pixels() {
    // A 16384x16384 VMware classic cursor at 32 bpp would be 2 GiB of masks: refused
    // from the header and type byte alone.
    let h = RectHeader {
        rect: Rect::new(0, 0, 16384, 16384),
        encoding: Encoding::VMWARE_CURSOR,
    };
    assert_eq!(
        BasicFramer.frame(&h, &PixelFormat::RGB888, &[0, 0], &Limits::default()),
        Err(LimitExceeded {
            limit: Limit::Other("rectangle payload size"),
            requested: 2 + 2 * (1 << 30),
            allowed: 1 << 30,
        }
        .into())
    );
}
