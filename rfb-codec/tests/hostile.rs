//! Hostile payloads: every decoder answers with a `CodecError` (never a panic, never a
//! huge allocation) and paints nothing when it refuses.

use proptest::prelude::*;
use rfb_codec::copy_rect::CopyRectDecoder;
use rfb_codec::cursor::{
    decode_alpha_cursor, decode_cursor, decode_x_cursor, frame_alpha_cursor, frame_cursor,
    MAX_CURSOR_SIDE,
};
use rfb_codec::hextile::HextileDecoder;
use rfb_codec::pseudo::{decode_desktop_name, frame_desktop_name, ExtendedDesktopSize};
use rfb_codec::raw::RawDecoder;
use rfb_codec::rre::{CorreDecoder, RreDecoder};
use rfb_codec::{CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

fn limits() -> CodecLimits {
    CodecLimits::default()
}

fn decoders() -> Vec<Box<dyn RectDecoder>> {
    vec![
        Box::new(RawDecoder),
        Box::new(CopyRectDecoder),
        Box::new(RreDecoder),
        Box::new(CorreDecoder),
        Box::new(HextileDecoder),
    ]
}

#[test]
fn rectangle_outside_the_framebuffer() {
    let mut fb = Framebuffer::new(8, 8, PixelFormat::RGB332);
    let rect = Rect::new(6, 6, 4, 1);
    let payloads: [&[u8]; 5] = [
        &[1, 2, 3, 4],
        &[0, 0, 0, 0],
        &[0, 0, 0, 0, 1],
        &[0, 0, 0, 0, 1],
        &[2, 1],
    ];
    for (mut d, p) in decoders().into_iter().zip(payloads) {
        let err = d.decode(rect, p, &mut fb, &limits()).unwrap_err();
        assert!(
            matches!(err, CodecError::OutOfBounds { .. }),
            "{:?}: {err:?}",
            d.encoding()
        );
    }
    // Edges at u16::MAX do not overflow, neither while framing (the rectangle is not
    // checked yet) nor while decoding.
    let far = Rect::new(u16::MAX - 3, u16::MAX - 3, 40, 40);
    let tiles: Vec<u8> = [2u8, 1]
        .into_iter()
        .chain(std::iter::repeat_n(0u8, 8))
        .collect();
    for mut d in decoders() {
        let _ = d.frame(far, fb.format(), &tiles, &limits());
        assert!(d.decode(far, &[], &mut fb, &limits()).is_err());
        assert!(d.decode(far, &tiles, &mut fb, &limits()).is_err());
    }
    assert_eq!(fb.data(), &[0; 64]);
}

#[test]
fn copy_rect_source_outside() {
    let mut fb = Framebuffer::new(8, 8, PixelFormat::RGB888);
    for src in [[0, 7, 0, 0], [0, 0, 0, 7], [0xff, 0xff, 0xff, 0xff]] {
        let err = CopyRectDecoder
            .decode(Rect::new(0, 0, 2, 2), &src, &mut fb, &limits())
            .unwrap_err();
        assert!(matches!(err, CodecError::OutOfBounds { .. }), "{err:?}");
    }
    assert!(CopyRectDecoder
        .decode(Rect::new(0, 0, 2, 2), &[0, 0, 0], &mut fb, &limits())
        .is_err());
}

#[test]
fn huge_counts_and_sizes_hit_limits_while_framing() {
    let f = PixelFormat::RGB888;
    let huge = [0xff, 0xff, 0xff, 0xff];
    for mut d in [
        Box::new(RreDecoder) as Box<dyn RectDecoder>,
        Box::new(CorreDecoder),
    ] {
        let err = d
            .frame(Rect::new(0, 0, 10, 10), &f, &huge, &limits())
            .unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::LimitExceeded {
                    what: "sub-rectangles",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // Within max_subrects but beyond max_payload.
    let tight = CodecLimits {
        max_payload: 1000,
        max_subrects: 1 << 20,
    };
    let err = RreDecoder
        .frame(Rect::new(0, 0, 10, 10), &f, &[0, 1, 0, 0], &tight)
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
    // Raw of 65535x65535x4 bytes.
    let err = RawDecoder
        .frame(Rect::new(0, 0, u16::MAX, u16::MAX), &f, &[], &limits())
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
    // Hextile: raw tiles of a huge rectangle run into max_payload, not memory.
    let mut raw_tiles = Vec::new();
    for _ in 0..20 {
        raw_tiles.push(1);
        raw_tiles.extend_from_slice(&[0; 16 * 16 * 4]);
    }
    let err = HextileDecoder
        .frame(Rect::new(0, 0, u16::MAX, u16::MAX), &f, &raw_tiles, &tight)
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
}

#[test]
fn rre_subrect_outside_the_rectangle_paints_nothing() {
    let mut fb = Framebuffer::new(8, 8, PixelFormat::RGB332);
    let rect = Rect::new(2, 2, 4, 4);
    // Second sub-rectangle (3,3) 2x1 leaves the 4x4 rectangle.
    let p = [
        0, 0, 0, 2, 1, 9, 0, 0, 0, 0, 0, 1, 0, 1, 9, 0, 3, 0, 3, 0, 2, 0, 1,
    ];
    let err = RreDecoder.decode(rect, &p, &mut fb, &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::OutOfBounds {
                what: "sub-rectangle",
                ..
            }
        ),
        "{err:?}"
    );
    let p = [0, 0, 0, 1, 1, 9, 0xff, 0xff, 0xff, 0xff];
    assert!(CorreDecoder.decode(rect, &p, &mut fb, &limits()).is_err());
    assert_eq!(fb.data(), &[0; 64]);
}

#[test]
fn wrong_payload_lengths() {
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
    let r = Rect::new(0, 0, 2, 2);
    assert!(RawDecoder.decode(r, &[0; 3], &mut fb, &limits()).is_err());
    assert!(RawDecoder.decode(r, &[0; 5], &mut fb, &limits()).is_err());
    assert!(RreDecoder
        .decode(r, &[0, 0, 0, 0], &mut fb, &limits())
        .is_err());
    assert!(RreDecoder
        .decode(r, &[0, 0, 0, 0, 1, 2], &mut fb, &limits())
        .is_err());
    assert!(HextileDecoder.decode(r, &[2], &mut fb, &limits()).is_err());
    assert!(HextileDecoder
        .decode(r, &[2, 1, 0], &mut fb, &limits())
        .is_err());
}

#[test]
fn cursors_too_big_or_unsupported() {
    let big = Rect::new(0, 0, MAX_CURSOR_SIDE + 1, 1);
    let f = PixelFormat::RGB888;
    assert!(matches!(
        frame_cursor(big, &f, &[], &limits()),
        Err(CodecError::LimitExceeded { .. })
    ));
    assert!(decode_cursor(big, &f, None, &[], &limits()).is_err());
    assert!(decode_x_cursor(big, &[], &limits()).is_err());
    assert!(matches!(
        frame_alpha_cursor(Rect::new(0, 0, 1, 1), &[0, 0, 0, 16], &limits()),
        Err(CodecError::UnsupportedFormat { .. })
    ));
    assert!(decode_alpha_cursor(Rect::new(0, 0, 1, 1), &[0, 0, 0, 0, 1], &limits()).is_err());
}

#[test]
fn pseudo_payload_limits() {
    let l = rfb_proto::Limits::default();
    assert!(frame_desktop_name(&[0, 0x10, 0, 1], &l).is_err());
    assert!(decode_desktop_name(&[0, 0, 0, 5, b'a'], &l).is_err());
    let few = rfb_proto::Limits {
        max_screens: 2,
        ..Default::default()
    };
    assert!(ExtendedDesktopSize::frame(&[3, 0, 0, 0], &few).is_err());
    assert_eq!(
        ExtendedDesktopSize::frame(&[2, 0, 0, 0], &few).unwrap(),
        Progress::NeedMore { at_least: 36 }
    );
}

/// Mostly small coordinates, sometimes near the end of the u16 range.
fn coord() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 0u16..40, 1 => (u16::MAX - 40)..=u16::MAX]
}

proptest! {
    /// Any bytes, any rectangle, any format: an answer, never a panic, and a decode of
    /// what was framed either succeeds or fails cleanly.
    #[test]
    fn arbitrary_payloads(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        (x, y, w, h) in (coord(), coord(), 0u16..40, 0u16..40),
        f in 0usize..4,
    ) {
        let format = [PixelFormat::RGB888, PixelFormat::RGB565, PixelFormat::RGB332, PixelFormat { big_endian: true, ..PixelFormat::RGB565 }][f];
        let rect = Rect::new(x, y, w, h);
        for mut d in decoders() {
            let mut fb = Framebuffer::new(32, 32, format);
            match d.frame(rect, &format, &bytes, &limits()) {
                Ok(Progress::Done { consumed, .. }) => {
                    prop_assert!(consumed <= bytes.len());
                    let _ = d.decode(rect, &bytes[..consumed], &mut fb, &limits());
                }
                Ok(Progress::NeedMore { at_least }) => prop_assert!(at_least > bytes.len()),
                Err(_) => {}
            }
            let _ = d.decode(rect, &bytes, &mut fb, &limits());
        }
        let _ = decode_cursor(rect, &format, None, &bytes, &limits());
        let _ = decode_x_cursor(rect, &bytes, &limits());
        let _ = decode_alpha_cursor(rect, &bytes, &limits());
    }
}
