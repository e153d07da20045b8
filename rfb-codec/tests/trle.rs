//! TRLE byte vectors written from RFC 6143 section 7.7.5: 16x16 tiles, ZRLE's
//! sub-encodings with CPIXELs and no zlib, plus 127 / 129 (reuse the last palette).

use rfb_codec::trle::TrleDecoder;
use rfb_codec::{CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

fn decode(fb: &mut Framebuffer, wire: &[u8]) -> Result<(), CodecError> {
    let rect = fb.rect();
    let limits = CodecLimits::default();
    let mut dec = TrleDecoder::new();
    match dec.frame(rect, fb.format(), wire, &limits) {
        Ok(Progress::Done { consumed, .. }) => assert_eq!(consumed, wire.len()),
        Ok(other) => panic!("frame: {other:?}"),
        Err(e) => {
            // decode must agree with frame that the bytes are bad.
            assert!(dec.decode(rect, wire, fb, &limits).is_err());
            return Err(e);
        }
    }
    dec.decode(rect, wire, fb, &limits)
}

#[test]
fn tiles_are_16_square() {
    // 17x17: tiles 16x16, 1x16, 16x1, 1x1; solid, COLOUR_MAP8.
    let mut fb = Framebuffer::new(17, 17, PixelFormat::COLOUR_MAP8);
    decode(&mut fb, &[1, 1, 1, 2, 1, 3, 1, 4]).unwrap();
    assert_eq!(fb.row(15)[15..], [1, 2]);
    assert_eq!(fb.row(16)[15..], [3, 4]);
}

#[test]
fn raw_solid_packed_and_rle_with_cpixels() {
    // rgb888: 3-byte CPIXELs (B G R), decoded to B G R 0.
    let mut fb = Framebuffer::new(18, 1, PixelFormat::RGB888);
    // Tile 1 (16x1): packed palette of 2, indices 0101.. -> 0x55 0x55.
    // Tile 2 (2x1): raw.
    let wire = [
        2, 1, 1, 1, 2, 2, 2, 0x55, 0x55, //
        0, 7, 8, 9, 10, 11, 12,
    ];
    decode(&mut fb, &wire).unwrap();
    let a = [1, 1, 1, 0];
    let b = [2, 2, 2, 0];
    let mut expected = Vec::new();
    for i in 0..16 {
        expected.extend(if i % 2 == 0 { a } else { b });
    }
    expected.extend([7, 8, 9, 0, 10, 11, 12, 0]);
    assert_eq!(fb.data(), &expected[..]);
}

#[test]
fn plain_and_palette_rle() {
    let mut fb = Framebuffer::new(32, 16, PixelFormat::RGB565);
    // Tile 1: plain RLE, 200 of 0x1234 (199) then 56 of 0xabcd (55).
    // Tile 2: palette RLE of 3 colours: index 2 once, index 0 for 255 (0x80, 254).
    let wire = [
        128, 0x34, 0x12, 199, 0xcd, 0xab, 55, //
        131, 1, 0, 2, 0, 3, 0, 2, 0x80, 254,
    ];
    decode(&mut fb, &wire).unwrap();
    for y in 0..16u16 {
        for x in 0..16usize {
            let i = usize::from(y) * 16 + x;
            let want = if i < 200 { [0x34, 0x12] } else { [0xcd, 0xab] };
            assert_eq!(fb.row(y)[x * 2..x * 2 + 2], want, "{x},{y}");
        }
    }
    assert_eq!(fb.row(0)[32..36], [3, 0, 1, 0]);
    assert_eq!(fb.row(15)[62..64], [1, 0]);
}

#[test]
fn reused_palettes_127_and_129() {
    // Three 16x1 tiles: packed palette {A, B}; 127 packed with the same palette;
    // 129 palette RLE with the same palette.
    let mut fb = Framebuffer::new(48, 1, PixelFormat::COLOUR_MAP8);
    let wire = [
        2, 0xa, 0xb, 0xff, 0x00, // index 1 (B) x8, index 0 (A) x8
        127, 0x0f, 0xf0, // A x4, B x8, A x4
        129, 0x80, 9, 0x81, 5, // A x10, B x6
    ];
    decode(&mut fb, &wire).unwrap();
    let row = fb.row(0);
    assert_eq!(row[..8], [0xb; 8]);
    assert_eq!(row[8..16], [0xa; 8]);
    assert_eq!(row[16..20], [0xa; 4]);
    assert_eq!(row[20..28], [0xb; 8]);
    assert_eq!(row[28..32], [0xa; 4]);
    assert_eq!(row[32..42], [0xa; 10]);
    assert_eq!(row[42..48], [0xb; 6]);
}

#[test]
fn reused_palette_survives_other_tiles_in_the_rectangle() {
    // Palette RLE {5, 6}; a solid tile; then 129 reuses {5, 6}.
    let mut fb = Framebuffer::new(3, 1, PixelFormat::COLOUR_MAP8);
    let mut fb_wide = Framebuffer::new(33, 1, PixelFormat::COLOUR_MAP8);
    decode(&mut fb, &[130, 5, 6, 0, 1, 0]).unwrap();
    assert_eq!(fb.data(), &[5, 6, 5]);
    decode(&mut fb_wide, &[130, 5, 6, 0x81, 15, 1, 7, 129, 0]).unwrap();
    assert_eq!(fb_wide.row(0)[..16], [6; 16]);
    assert_eq!(fb_wide.row(0)[16..32], [7; 16]);
    assert_eq!(fb_wide.row(0)[32], 5);
}

#[test]
fn reuse_without_a_palette_is_malformed() {
    let mut fb = Framebuffer::new(2, 1, PixelFormat::COLOUR_MAP8);
    let err = decode(&mut fb, &[127, 0]).unwrap_err();
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    let err = decode(&mut fb, &[129, 0, 0]).unwrap_err();
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    // 127 after a palette of 17 colours has no defined index width.
    let mut fb = Framebuffer::new(17, 1, PixelFormat::COLOUR_MAP8);
    let mut wire = vec![128 + 17];
    wire.extend(0..17u8);
    wire.extend(0..16u8);
    wire.extend([127, 0]);
    let err = decode(&mut fb, &wire).unwrap_err();
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
}

#[test]
fn invalid_sub_encodings_indices_and_runs() {
    let mut fb = Framebuffer::new(2, 2, PixelFormat::COLOUR_MAP8);
    // Runs of exactly 2 and 2 fill the tile.
    decode(&mut fb, &[130, 1, 2, 0x80, 1, 0x81, 1]).unwrap();
    assert_eq!(fb.data(), &[1, 1, 2, 2]);
    for wire in [
        &[17u8, 0, 0, 0, 0][..],
        &[126, 0, 0, 0, 0],
        &[3, 1, 2, 3, 0b1100_0000, 0],  // index 3 of 3 colours
        &[130, 1, 2, 5, 0, 0, 0],       // index 5 of 2
        &[128, 1, 4],                   // run of 5 in 4 pixels
        &[130, 1, 2, 0x80, 1, 0x81, 2], // runs of 2 and 3 in 4 pixels
    ] {
        let err = decode(&mut fb, wire).unwrap_err();
        assert!(
            matches!(err, CodecError::Malformed { .. }),
            "{wire:?}: {err:?}"
        );
    }
}

#[test]
fn empty_rectangle_has_no_tiles() {
    let limits = CodecLimits::default();
    let mut dec = TrleDecoder::new();
    let fmt = PixelFormat::RGB888;
    assert_eq!(
        dec.frame(Rect::new(0, 0, 0, 10), &fmt, &[1, 2, 3], &limits)
            .unwrap(),
        Progress::Done {
            item: (),
            consumed: 0
        }
    );
    let mut fb = Framebuffer::new(2, 2, fmt);
    dec.decode(Rect::new(2, 2, 0, 0), &[], &mut fb, &limits)
        .unwrap();
}

#[test]
fn framing_walks_tiles_whatever_the_split() {
    // Two 16x16 tiles and one 4x16: plain RLE with a long run, palette RLE, raw.
    let mut wire = vec![128, 0x11, 255, 0];
    wire.extend([130, 1, 2, 0x81, 254, 0]);
    wire.push(0);
    wire.extend(0..64u8);
    let rect = Rect::new(0, 0, 36, 16);
    let fmt = PixelFormat::RGB332;
    let limits = CodecLimits::default();
    let mut dec = TrleDecoder::new();
    for k in 0..wire.len() {
        match dec.frame(rect, &fmt, &wire[..k], &limits).unwrap() {
            Progress::NeedMore { at_least } => assert!(at_least > k && at_least <= wire.len()),
            done => panic!("{k}: {done:?}"),
        }
    }
    let mut longer = wire.clone();
    longer.extend([1, 2, 3]);
    assert_eq!(
        dec.frame(rect, &fmt, &longer, &limits).unwrap(),
        Progress::Done {
            item: (),
            consumed: wire.len()
        }
    );
    let mut fb = Framebuffer::new(36, 16, fmt);
    dec.decode(rect, &wire, &mut fb, &limits).unwrap();
    assert_eq!(fb.row(0)[..16], [0x11; 16]);
    assert_eq!(fb.row(15)[16..31], [2; 15]);
    assert_eq!(fb.row(15)[31], 1);
    assert_eq!(fb.row(15)[32..36], [60, 61, 62, 63]);
    // decode refuses trailing bytes.
    assert!(dec.decode(rect, &longer, &mut fb, &limits).is_err());
}

#[test]
fn framing_respects_the_payload_limit() {
    let limits = CodecLimits {
        max_payload: 100,
        ..CodecLimits::default()
    };
    // A raw 16x16 tile of rgb888 needs 1 + 768 bytes.
    let err = TrleDecoder::new()
        .frame(
            Rect::new(0, 0, 16, 16),
            &PixelFormat::RGB888,
            &[0; 50],
            &limits,
        )
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
}

#[test]
fn out_of_bounds_rectangle() {
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
    let err = TrleDecoder::new()
        .decode(
            Rect::new(0, 2, 4, 3),
            &[1, 5],
            &mut fb,
            &CodecLimits::default(),
        )
        .unwrap_err();
    assert!(matches!(err, CodecError::OutOfBounds { .. }), "{err:?}");
    assert!(fb.data().iter().all(|&b| b == 0));
}

#[test]
fn framing_a_different_payload_after_need_more_starts_over() {
    let rect = Rect::new(0, 0, 32, 16);
    let fmt = PixelFormat::COLOUR_MAP8;
    let limits = CodecLimits::default();
    let mut dec = TrleDecoder::new();
    // Payload A: a raw tile (257 bytes) then a solid one; frame only its first 260 bytes.
    let mut a = vec![0u8];
    a.extend([7u8; 256]);
    a.extend([1, 9]);
    assert_eq!(
        dec.frame(rect, &fmt, &a[..258], &limits).unwrap(),
        Progress::NeedMore { at_least: 259 }
    );
    // Payload B for a rectangle of the same geometry: two solid tiles, 4 bytes.
    let b = [1u8, 3, 1, 4, 0xee];
    assert_eq!(
        dec.frame(rect, &fmt, &b, &limits).unwrap(),
        Progress::Done {
            item: (),
            consumed: 4
        }
    );
    // And A, whole, still frames to its full length.
    assert_eq!(
        dec.frame(rect, &fmt, &a, &limits).unwrap(),
        Progress::Done {
            item: (),
            consumed: a.len()
        }
    );
}
