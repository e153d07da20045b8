//! Byte vectors written by hand from the community RFB spec (rfbproto.rst, sections
//! "Raw", "CopyRect", "RRE", "CoRRE", "Hextile" and the cursor pseudo-encodings):
//! wire bytes in, exact pixels out. Every pixel format class appears: 8/16/32 bits per
//! pixel, big- and little-endian, true colour and colour map.

use rfb_codec::copy_rect::CopyRectDecoder;
use rfb_codec::cursor::{decode_alpha_cursor, decode_cursor, decode_x_cursor, frame_x_cursor};
use rfb_codec::hextile::HextileDecoder;
use rfb_codec::pixel::rgb8;
use rfb_codec::raw::RawDecoder;
use rfb_codec::rre::{CorreDecoder, RreDecoder};
use rfb_codec::{CodecError, CodecLimits, Framebuffer, Palette, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

const RGB888_BE: PixelFormat = PixelFormat {
    big_endian: true,
    ..PixelFormat::RGB888
};
const RGB565_BE: PixelFormat = PixelFormat {
    big_endian: true,
    ..PixelFormat::RGB565
};
const MAP16_BE: PixelFormat = PixelFormat {
    bits_per_pixel: 16,
    depth: 16,
    big_endian: true,
    ..PixelFormat::COLOUR_MAP8
};

fn limits() -> CodecLimits {
    CodecLimits::default()
}

/// Frames `payload` (which must be framed exactly) and decodes it into `fb`.
fn run(
    dec: &mut dyn RectDecoder,
    rect: Rect,
    payload: &[u8],
    fb: &mut Framebuffer,
) -> Result<(), CodecError> {
    let mut with_tail = payload.to_vec();
    with_tail.extend_from_slice(&[0xee; 7]);
    if let Progress::Done { consumed, .. } =
        dec.frame(rect, &fb.format().clone(), &with_tail, &limits())?
    {
        assert_eq!(consumed, payload.len(), "framed length");
    }
    dec.decode(rect, payload, fb, &limits())
}

/// A framebuffer of `w` x `h` in `format` where every byte is `fill`.
fn fb_filled(w: u16, h: u16, format: PixelFormat, fill: u8) -> Framebuffer {
    let len = usize::from(w) * usize::from(h) * format.bytes_per_pixel();
    Framebuffer::from_data(w, h, format, vec![fill; len]).unwrap()
}

/// The bytes of framebuffer pixel (x, y).
fn px(fb: &Framebuffer, x: u16, y: u16) -> Vec<u8> {
    let bpp = fb.bytes_per_pixel();
    fb.row(y)[usize::from(x) * bpp..(usize::from(x) + 1) * bpp].to_vec()
}

// ---------------------------------------------------------------- Raw

#[test]
fn raw_32bpp_little_endian() {
    let mut fb = fb_filled(3, 2, PixelFormat::RGB888, 0);
    // Two pixels: value 0x00332211 and 0x00665544, little-endian.
    run(
        &mut RawDecoder,
        Rect::new(1, 1, 2, 1),
        &[0x11, 0x22, 0x33, 0, 0x44, 0x55, 0x66, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.row(0), &[0; 12]);
    assert_eq!(
        fb.row(1),
        &[0, 0, 0, 0, 0x11, 0x22, 0x33, 0, 0x44, 0x55, 0x66, 0]
    );
    // RGB888 has red at shift 16.
    assert_eq!(rgb8(0x0033_2211, fb.format(), None), [0x33, 0x22, 0x11]);
}

#[test]
fn raw_32bpp_big_endian() {
    let mut fb = fb_filled(1, 1, RGB888_BE, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 1, 1),
        &[0, 0xff, 0x80, 0x01],
        &mut fb,
    )
    .unwrap();
    let v = rfb_codec::pixel::pixel_value(fb.data(), fb.format());
    assert_eq!(rgb8(v, fb.format(), None), [0xff, 0x80, 0x01]);
}

#[test]
fn raw_16bpp_both_byte_orders() {
    // Pure red in 5-6-5 is 0xf800.
    let mut le = fb_filled(2, 1, PixelFormat::RGB565, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 2, 1),
        &[0x00, 0xf8, 0xe0, 0x07],
        &mut le,
    )
    .unwrap();
    let mut be = fb_filled(2, 1, RGB565_BE, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 2, 1),
        &[0xf8, 0x00, 0x07, 0xe0],
        &mut be,
    )
    .unwrap();
    for fb in [&le, &be] {
        let bpp = 2;
        let colours: Vec<[u8; 3]> = fb
            .data()
            .chunks(bpp)
            .map(|p| {
                rgb8(
                    rfb_codec::pixel::pixel_value(p, fb.format()),
                    fb.format(),
                    None,
                )
            })
            .collect();
        assert_eq!(colours, [[255, 0, 0], [0, 255, 0]]);
    }
}

#[test]
fn raw_8bpp_colour_map_and_true_colour() {
    let mut fb = fb_filled(4, 1, PixelFormat::COLOUR_MAP8, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 4, 1),
        &[3, 1, 4, 1],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[3, 1, 4, 1]);
    let cube = Palette::colour_cube();
    assert_eq!(
        rgb8(251, &PixelFormat::COLOUR_MAP8, Some(&cube)),
        [255, 255, 255]
    );
    let mut tc = fb_filled(1, 1, PixelFormat::RGB332, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 1, 1),
        &[0b1110_0011],
        &mut tc,
    )
    .unwrap();
    assert_eq!(
        rgb8(u32::from(tc.data()[0]), tc.format(), None),
        [255, 0, 255]
    );
}

#[test]
fn raw_16bpp_colour_map_big_endian() {
    let mut fb = fb_filled(2, 1, MAP16_BE, 0);
    run(
        &mut RawDecoder,
        Rect::new(0, 0, 2, 1),
        &[0x01, 0x02, 0x00, 0x07],
        &mut fb,
    )
    .unwrap();
    assert_eq!(
        rfb_codec::pixel::pixel_value(&fb.data()[..2], fb.format()),
        0x0102
    );
}

#[test]
fn raw_empty_rectangles() {
    let mut fb = fb_filled(2, 2, PixelFormat::RGB888, 9);
    for rect in [
        Rect::new(1, 1, 0, 1),
        Rect::new(0, 0, 2, 0),
        Rect::new(2, 2, 0, 0),
    ] {
        assert_eq!(
            RawDecoder.frame(rect, fb.format(), &[], &limits()).unwrap(),
            Progress::Done {
                item: (),
                consumed: 0
            }
        );
        RawDecoder.decode(rect, &[], &mut fb, &limits()).unwrap();
    }
    assert!(fb.data().iter().all(|&b| b == 9));
}

// ---------------------------------------------------------------- CopyRect

#[test]
fn copy_rect_copies_from_the_source_position() {
    let data: Vec<u8> = (0..16).collect();
    let mut fb = Framebuffer::from_data(4, 4, PixelFormat::RGB332, data).unwrap();
    // Copy the 2x2 at (0,0) to (2,2): payload is src-x, src-y as U16.
    run(
        &mut CopyRectDecoder,
        Rect::new(2, 2, 2, 2),
        &[0, 0, 0, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.row(2), &[8, 9, 0, 1]);
    assert_eq!(fb.row(3), &[12, 13, 4, 5]);
    // Overlapping, downwards: rows 0-1 to rows 1-2 must copy like memmove.
    let data: Vec<u8> = (0..16).collect();
    let mut fb = Framebuffer::from_data(4, 4, PixelFormat::RGB332, data).unwrap();
    run(
        &mut CopyRectDecoder,
        Rect::new(0, 1, 4, 2),
        &[0, 0, 0, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(
        fb.data(),
        &[0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]
    );
}

#[test]
fn copy_rect_16bpp_and_empty() {
    let mut fb = Framebuffer::from_data(2, 1, RGB565_BE, vec![0xab, 0xcd, 0, 0]).unwrap();
    run(
        &mut CopyRectDecoder,
        Rect::new(1, 0, 1, 1),
        &[0, 0, 0, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[0xab, 0xcd, 0xab, 0xcd]);
    run(
        &mut CopyRectDecoder,
        Rect::new(0, 0, 0, 0),
        &[0, 1, 0, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[0xab, 0xcd, 0xab, 0xcd]);
}

// ---------------------------------------------------------------- RRE / CoRRE

#[test]
fn rre_32bpp_big_endian() {
    let mut fb = fb_filled(6, 4, RGB888_BE, 0xaa);
    let bg = [0, 0x10, 0x20, 0x30];
    let red = [0, 0xff, 0, 0];
    let blue = [0, 0, 0, 0xff];
    let mut p = vec![0, 0, 0, 2];
    p.extend_from_slice(&bg);
    p.extend_from_slice(&red);
    p.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1]); // (0,0) 2x1
    p.extend_from_slice(&blue);
    p.extend_from_slice(&[0, 3, 0, 1, 0, 1, 0, 2]); // (3,1) 1x2
    run(&mut RreDecoder, Rect::new(1, 1, 4, 3), &p, &mut fb).unwrap();
    assert_eq!(px(&fb, 0, 1), [0xaa; 4], "outside the rectangle");
    assert_eq!(px(&fb, 1, 1), red);
    assert_eq!(px(&fb, 2, 1), red);
    assert_eq!(px(&fb, 3, 1), bg);
    assert_eq!(px(&fb, 4, 1), bg);
    assert_eq!(px(&fb, 4, 2), blue);
    assert_eq!(px(&fb, 4, 3), blue);
    assert_eq!(px(&fb, 1, 3), bg);
    assert_eq!(px(&fb, 5, 3), [0xaa; 4]);
    assert_eq!(fb.row(0), &[0xaa; 24]);
}

#[test]
fn rre_no_subrects_and_empty_rectangle() {
    let mut fb = fb_filled(2, 2, PixelFormat::RGB332, 0);
    run(
        &mut RreDecoder,
        Rect::new(0, 0, 2, 2),
        &[0, 0, 0, 0, 7],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[7; 4]);
    // An empty rectangle still carries the header (count and background).
    run(
        &mut RreDecoder,
        Rect::new(1, 1, 0, 0),
        &[0, 0, 0, 0, 9],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[7; 4]);
}

#[test]
fn corre_16bpp_little_endian() {
    let mut fb = fb_filled(4, 2, PixelFormat::RGB565, 0);
    // bg 0x1234 (LE 34 12), one sub-rectangle 0xf800 at (2,0) 2x2.
    let p = [0, 0, 0, 1, 0x34, 0x12, 0x00, 0xf8, 2, 0, 2, 2];
    run(&mut CorreDecoder, Rect::new(0, 0, 4, 2), &p, &mut fb).unwrap();
    assert_eq!(fb.row(0), &[0x34, 0x12, 0x34, 0x12, 0x00, 0xf8, 0x00, 0xf8]);
    assert_eq!(fb.row(1), fb.row(0));
}

#[test]
fn corre_8bpp_colour_map() {
    let mut fb = fb_filled(3, 3, PixelFormat::COLOUR_MAP8, 0);
    let p = [0, 0, 0, 2, 5, 6, 1, 1, 1, 1, 7, 0, 2, 3, 1];
    run(&mut CorreDecoder, Rect::new(0, 0, 3, 3), &p, &mut fb).unwrap();
    assert_eq!(fb.data(), &[5, 5, 5, 5, 6, 5, 7, 7, 7]);
}

// ---------------------------------------------------------------- Hextile

#[test]
fn hextile_raw_tile_16bpp_big_endian() {
    let mut fb = fb_filled(2, 2, RGB565_BE, 0);
    let p = [1, 0xf8, 0x00, 0x07, 0xe0, 0x00, 0x1f, 0xff, 0xff];
    run(&mut HextileDecoder, Rect::new(0, 0, 2, 2), &p, &mut fb).unwrap();
    assert_eq!(fb.data(), &p[1..]);
}

#[test]
fn hextile_raw_bit_ignores_other_bits() {
    let mut fb = fb_filled(1, 1, PixelFormat::RGB332, 0);
    run(
        &mut HextileDecoder,
        Rect::new(0, 0, 1, 1),
        &[0xff, 42],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), &[42]);
}

#[test]
fn hextile_background_only_32bpp() {
    let mut fb = fb_filled(3, 2, PixelFormat::RGB888, 0);
    run(
        &mut HextileDecoder,
        Rect::new(0, 0, 3, 2),
        &[2, 1, 2, 3, 0],
        &mut fb,
    )
    .unwrap();
    assert_eq!(fb.data(), [1, 2, 3, 0].repeat(6));
}

#[test]
fn hextile_tiles_in_order_and_background_carried_over() {
    // 17x17 is four tiles: 16x16, 1x16, then 16x1, 1x1.
    let mut fb = fb_filled(17, 17, PixelFormat::RGB332, 0);
    let p = [2, 10, 0, 2, 20, 0];
    run(&mut HextileDecoder, Rect::new(0, 0, 17, 17), &p, &mut fb).unwrap();
    assert_eq!(px(&fb, 0, 0), [10]);
    assert_eq!(px(&fb, 15, 15), [10]);
    assert_eq!(
        px(&fb, 16, 0),
        [10],
        "second tile carries the background over"
    );
    assert_eq!(px(&fb, 16, 15), [10]);
    assert_eq!(px(&fb, 0, 16), [20]);
    assert_eq!(px(&fb, 15, 16), [20]);
    assert_eq!(
        px(&fb, 16, 16),
        [20],
        "last tile carries the background over"
    );
}

#[test]
fn hextile_foreground_subrects_8bpp() {
    let mut fb = fb_filled(4, 4, PixelFormat::RGB332, 0xaa);
    // bg 1, fg 9, two sub-rectangles: (0,0) 1x1 and (2,1) 2x3.
    let p = [2 | 4 | 8, 1, 9, 2, 0x00, 0x00, 0x21, 0x12];
    run(&mut HextileDecoder, Rect::new(0, 0, 4, 4), &p, &mut fb).unwrap();
    assert_eq!(fb.data(), &[9, 1, 1, 1, 1, 1, 9, 9, 1, 1, 9, 9, 1, 1, 9, 9]);
}

#[test]
fn hextile_foreground_carried_over() {
    // Two 16x1 tiles: tile 1 sets bg 1 and fg 9 with a sub-rectangle at x 0;
    // tile 2 has only AnySubrects: bg and fg both carry over.
    let mut fb = fb_filled(32, 1, PixelFormat::RGB332, 0);
    let p = [2 | 4 | 8, 1, 9, 1, 0x00, 0x00, 8, 1, 0xf0, 0x00];
    run(&mut HextileDecoder, Rect::new(0, 0, 32, 1), &p, &mut fb).unwrap();
    let mut want = [1u8; 32];
    want[0] = 9;
    want[31] = 9;
    assert_eq!(fb.data(), &want[..]);
}

#[test]
fn hextile_foreground_survives_a_solid_tile() {
    // Tile 1 sets fg 9; tile 2 is solid (AnySubrects clear); tile 3 uses fg 9.
    let mut fb = fb_filled(48, 1, PixelFormat::RGB332, 0);
    let p = [2 | 4 | 8, 1, 9, 0, 2, 3, 8, 1, 0x50, 0x00];
    run(&mut HextileDecoder, Rect::new(0, 0, 48, 1), &p, &mut fb).unwrap();
    assert_eq!(&fb.data()[..16], &[1; 16]);
    assert_eq!(&fb.data()[16..32], &[3; 16]);
    assert_eq!(fb.data()[32 + 5], 9);
    assert_eq!(fb.data()[32 + 4], 3);
}

#[test]
fn hextile_coloured_subrects_32bpp_big_endian() {
    let mut fb = fb_filled(3, 2, RGB888_BE, 0);
    let bg = [0, 1, 1, 1];
    let a = [0, 0xff, 0, 0];
    let b = [0, 0, 0xff, 0];
    let mut p = vec![2 | 8 | 16];
    p.extend_from_slice(&bg);
    p.push(2);
    p.extend_from_slice(&a);
    p.extend_from_slice(&[0x00, 0x01]); // (0,0) 1x2
    p.extend_from_slice(&b);
    p.extend_from_slice(&[0x21, 0x00]); // (2,1) 1x1
    run(&mut HextileDecoder, Rect::new(0, 0, 3, 2), &p, &mut fb).unwrap();
    assert_eq!(px(&fb, 0, 0), a);
    assert_eq!(px(&fb, 0, 1), a);
    assert_eq!(px(&fb, 1, 0), bg);
    assert_eq!(px(&fb, 2, 0), bg);
    assert_eq!(px(&fb, 2, 1), b);
}

#[test]
fn hextile_empty_rectangle_has_no_tiles() {
    let mut fb = fb_filled(2, 2, PixelFormat::RGB565, 3);
    run(&mut HextileDecoder, Rect::new(0, 0, 0, 2), &[], &mut fb).unwrap();
    assert!(fb.data().iter().all(|&b| b == 3));
}

#[test]
fn hextile_rules_on_carrying_colours() {
    let mut fb = fb_filled(32, 1, PixelFormat::RGB332, 0);
    let r = Rect::new(0, 0, 32, 1);
    // First non-raw tile without BackgroundSpecified.
    assert!(matches!(
        HextileDecoder.decode(r, &[0, 0], &mut fb, &limits()),
        Err(CodecError::Malformed { .. })
    ));
    // Background not carried over a raw tile.
    let mut p = vec![1];
    p.extend_from_slice(&[5; 16]);
    p.push(0);
    assert!(matches!(
        HextileDecoder.decode(r, &p, &mut fb, &limits()),
        Err(CodecError::Malformed { .. })
    ));
    // Foreground not carried over a tile with coloured sub-rectangles.
    let p = [2 | 8 | 16, 1, 1, 7, 0x00, 0x00, 8, 1, 0x00, 0x00];
    assert!(matches!(
        HextileDecoder.decode(r, &p, &mut fb, &limits()),
        Err(CodecError::Malformed { .. })
    ));
    // Unknown bits on a non-raw tile.
    assert!(matches!(
        HextileDecoder.decode(r, &[0x22, 1, 2, 1], &mut fb, &limits()),
        Err(CodecError::Malformed { .. })
    ));
    assert_eq!(fb.data(), &[0; 32], "nothing painted");
}

#[test]
fn hextile_subrect_outside_its_tile() {
    let mut fb = fb_filled(20, 4, PixelFormat::RGB332, 0);
    // Second tile is 4x4; a sub-rectangle at x 3 of width 2 leaves it.
    let p = [2, 1, 4 | 8, 9, 1, 0x30, 0x10];
    let err = HextileDecoder
        .decode(Rect::new(0, 0, 20, 4), &p, &mut fb, &limits())
        .unwrap_err();
    assert!(
        matches!(err, CodecError::OutOfBounds { bound_width: 4, .. }),
        "{err:?}"
    );
    assert_eq!(fb.data(), &[0; 80], "validated before painting");
}

// ---------------------------------------------------------------- cursors

#[test]
fn cursor_16bpp_big_endian_with_padded_mask() {
    // 9x2: each mask row is 2 bytes. Row 0: pixel 0 and pixel 8 opaque; row 1: none.
    let mut p = Vec::new();
    for i in 0..18u16 {
        p.extend_from_slice(&if i % 2 == 0 {
            [0xf8, 0x00]
        } else {
            [0x00, 0x1f]
        });
    }
    p.extend_from_slice(&[0b1000_0000, 0b1000_0000, 0, 0]);
    let img = decode_cursor(Rect::new(4, 5, 9, 2), &RGB565_BE, None, &p, &limits()).unwrap();
    assert_eq!(img.hotspot(), (4, 5));
    assert_eq!(img.pixel(0, 0), [255, 0, 0, 255]);
    assert_eq!(img.pixel(1, 0), [0, 0, 0, 0]);
    assert_eq!(img.pixel(8, 0), [255, 0, 0, 255]);
    assert!((0..9).all(|x| img.pixel(x, 1) == [0, 0, 0, 0]));
}

#[test]
fn cursor_colour_map_needs_the_palette() {
    let pal = Palette::from_rgb16(vec![[0, 0, 0], [0, 65535, 0]]).unwrap();
    let img = decode_cursor(
        Rect::new(0, 0, 1, 1),
        &PixelFormat::COLOUR_MAP8,
        Some(&pal),
        &[1, 0x80],
        &limits(),
    )
    .unwrap();
    assert_eq!(img.pixel(0, 0), [0, 255, 0, 255]);
    assert!(decode_cursor(
        Rect::new(0, 0, 1, 1),
        &PixelFormat::COLOUR_MAP8,
        None,
        &[1, 0x80],
        &limits()
    )
    .is_err());
}

#[test]
fn x_cursor_vectors() {
    // 10x1: primary red, secondary blue; bitmap 1100000000, mask 1110000001.
    let p = [
        255,
        0,
        0,
        0,
        0,
        255,
        0b1100_0000,
        0,
        0b1110_0000,
        0b0100_0000,
    ];
    let img = decode_x_cursor(Rect::new(0, 0, 10, 1), &p, &limits()).unwrap();
    assert_eq!(img.pixel(0, 0), [255, 0, 0, 255]);
    assert_eq!(img.pixel(1, 0), [255, 0, 0, 255]);
    assert_eq!(img.pixel(2, 0), [0, 0, 255, 255]);
    assert_eq!(img.pixel(3, 0), [0, 0, 0, 0]);
    assert_eq!(img.pixel(9, 0), [0, 0, 255, 255]);
    // Empty size: no data at all.
    assert_eq!(
        frame_x_cursor(Rect::new(3, 3, 0, 0), &[], &limits()).unwrap(),
        Progress::Done {
            item: (),
            consumed: 0
        }
    );
    assert_eq!(
        decode_x_cursor(Rect::new(3, 3, 0, 0), &[], &limits())
            .unwrap()
            .rgba(),
        &[] as &[u8]
    );
}

#[test]
fn alpha_cursor_raw_rgba() {
    // Encoding 0 (Raw), then R G B A premultiplied.
    let p = [0, 0, 0, 0, 10, 20, 30, 40, 255, 255, 255, 255];
    let img = decode_alpha_cursor(Rect::new(1, 0, 2, 1), &p, &limits()).unwrap();
    assert_eq!(img.rgba(), &p[4..]);
    let other = [0, 0, 0, 5, 0, 0, 0, 0];
    assert!(matches!(
        decode_alpha_cursor(Rect::new(0, 0, 1, 1), &other, &limits()),
        Err(CodecError::UnsupportedFormat { .. })
    ));
}
