//! Encoder -> decoder round trips for every encoding of this file's set x every pixel
//! format class, and split-input framing (whole, byte at a time, random chunks).

use bytes::BytesMut;
use proptest::prelude::*;
use rfb_codec::cursor::{
    decode_alpha_cursor, decode_cursor, decode_x_cursor, encode_alpha_cursor, encode_cursor,
    encode_x_cursor, frame_alpha_cursor, frame_cursor, frame_x_cursor, CursorImage,
};
use rfb_codec::hextile::{HextileDecoder, HextileEncoder};
use rfb_codec::raw::{RawDecoder, RawEncoder};
use rfb_codec::rre::{CorreDecoder, CorreEncoder, RreDecoder, RreEncoder};
use rfb_codec::{CodecLimits, Framebuffer, Palette, PixelFormat, Rect, RectDecoder, RectEncoder};
use rfb_proto::Progress;

const FORMATS: [PixelFormat; 8] = [
    PixelFormat::RGB888,
    PixelFormat {
        big_endian: true,
        ..PixelFormat::BGR888
    },
    PixelFormat::RGB565,
    PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB565
    },
    PixelFormat::RGB555,
    PixelFormat::BGR233,
    PixelFormat::COLOUR_MAP8,
    PixelFormat {
        bits_per_pixel: 16,
        depth: 16,
        big_endian: true,
        ..PixelFormat::COLOUR_MAP8
    },
];

#[derive(Debug, Clone, Copy)]
enum Enc {
    Raw,
    Rre,
    Corre,
    Hextile,
}

fn pair(e: Enc) -> (Box<dyn RectEncoder>, Box<dyn RectDecoder>) {
    match e {
        Enc::Raw => (Box::new(RawEncoder), Box::new(RawDecoder)),
        Enc::Rre => (Box::new(RreEncoder), Box::new(RreDecoder)),
        Enc::Corre => (Box::new(CorreEncoder), Box::new(CorreDecoder)),
        Enc::Hextile => (Box::new(HextileEncoder), Box::new(HextileDecoder)),
    }
}

fn enc() -> impl Strategy<Value = Enc> {
    prop_oneof![
        Just(Enc::Raw),
        Just(Enc::Rre),
        Just(Enc::Corre),
        Just(Enc::Hextile)
    ]
}

/// A framebuffer whose pixels come from `colours` random pixel values, laid out as
/// random runs (so there is structure for the RRE family to find).
fn picture() -> impl Strategy<Value = Framebuffer> {
    (
        0..FORMATS.len(),
        1u16..50,
        1u16..40,
        1usize..6,
        any::<u64>(),
    )
        .prop_map(|(f, w, h, colours, seed)| {
            let format = FORMATS[f];
            let bpp = format.bytes_per_pixel();
            let mut state = seed | 1;
            let mut rnd = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let palette: Vec<Vec<u8>> = (0..colours)
                .map(|_| (0..bpp).map(|_| rnd() as u8).collect())
                .collect();
            let mut fb = Framebuffer::new(w, h, format);
            let mut current = 0;
            for px in fb.data_mut().chunks_exact_mut(bpp) {
                if rnd() % 5 == 0 {
                    current = rnd() as usize % colours;
                }
                px.copy_from_slice(&palette[current]);
            }
            fb
        })
}

/// A sub-rectangle of `fb` (possibly empty).
fn inner(fb: &Framebuffer, a: u16, b: u16, c: u16, d: u16) -> Rect {
    let x = a % (fb.width() + 1);
    let y = b % (fb.height() + 1);
    Rect::new(x, y, c % (fb.width() - x + 1), d % (fb.height() - y + 1))
}

fn encode(e: Enc, fb: &Framebuffer, rect: Rect) -> Vec<u8> {
    let mut out = BytesMut::new();
    pair(e).0.encode(&fb.view(rect).unwrap(), &mut out).unwrap();
    out.to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_gives_the_pixels_back(
        e in enc(),
        src in picture(),
        (a, b, c, d) in (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>()),
    ) {
        let rect = inner(&src, a, b, c, d);
        let wire = encode(e, &src, rect);
        let (_, mut dec) = pair(e);
        let limits = CodecLimits::default();
        prop_assert_eq!(dec.frame(rect, src.format(), &wire, &limits).unwrap(), Progress::Done { item: (), consumed: wire.len() });
        // The destination differs from the source only inside the rectangle.
        let mut dst = src.clone();
        let bpp = dst.bytes_per_pixel();
        if !rect.is_empty() {
            dst.fill(rect, &vec![0x5a; bpp]).unwrap();
        }
        dec.decode(rect, &wire, &mut dst, &limits).unwrap();
        prop_assert!(dst.data() == src.data(), "{:?} {:?} {:?}", e, src.format(), rect);
    }

    #[test]
    fn framing_does_not_care_where_input_splits(
        e in enc(),
        src in picture(),
        chunks in proptest::collection::vec(1usize..40, 1..50),
    ) {
        let rect = src.rect();
        let wire = encode(e, &src, rect);
        let (_, mut dec) = pair(e);
        let limits = CodecLimits::default();
        let format = *src.format();
        // Every proper prefix needs more, and says so consistently.
        for n in 0..wire.len() {
            match dec.frame(rect, &format, &wire[..n], &limits).unwrap() {
                Progress::NeedMore { at_least } => prop_assert!(at_least > n && at_least <= wire.len()),
                done => prop_assert!(false, "prefix {} of {} framed as {:?}", n, wire.len(), done),
            }
        }
        // Random chunks arriving in a buffer: the first Done has the whole length.
        let mut buf = Vec::new();
        let mut rest = &wire[..];
        let mut chunk_sizes = chunks.iter().cycle();
        loop {
            if let Progress::Done { consumed, .. } = dec.frame(rect, &format, &buf, &limits).unwrap() {
                prop_assert_eq!(consumed, wire.len());
                break;
            }
            prop_assert!(!rest.is_empty(), "framing never completed");
            let n = (*chunk_sizes.next().unwrap()).min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
        // Trailing bytes of the next rectangle are not consumed.
        let mut more = wire.clone();
        more.extend_from_slice(&[1, 2, 3]);
        prop_assert_eq!(dec.frame(rect, &format, &more, &limits).unwrap(), Progress::Done { item: (), consumed: wire.len() });
    }

    #[test]
    fn cursor_round_trips(
        w in 0u16..20, h in 0u16..12, hx in 0u16..20, hy in 0u16..20,
        f in 0..FORMATS.len(),
        seed in any::<u64>(),
    ) {
        let format = FORMATS[f];
        let palette = Palette::for_format(&format);
        let mut state = seed | 1;
        // Opaque colours exactly representable in the format (chosen from its own
        // pixel values), or fully transparent pixels.
        let mut rgba = Vec::new();
        let mut two = Vec::new();
        for _ in 0..usize::from(w) * usize::from(h) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            let v = (state >> 8) as u32 & ((1u64 << format.depth.min(format.bits_per_pixel)) - 1) as u32;
            let v = if format.true_colour { v } else { v % palette.as_ref().unwrap().len() as u32 };
            let [r, g, b] = rfb_codec::pixel::rgb8(v, &format, palette.as_ref());
            if state % 3 == 0 {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
                two.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                rgba.extend_from_slice(&[r, g, b, 255]);
                two.extend_from_slice(&if state % 3 == 1 { [10, 20, 30, 255] } else { [250, 240, 230, 255] });
            }
        }
        let limits = CodecLimits::default();
        let img = CursorImage::new(w, h, hx, hy, rgba).unwrap();
        let rect = img.rect();

        let mut out = BytesMut::new();
        encode_cursor(&img, &format, palette.as_ref(), &mut out).unwrap();
        prop_assert_eq!(frame_cursor(rect, &format, &out, &limits).unwrap(), Progress::Done { item: (), consumed: out.len() });
        prop_assert_eq!(decode_cursor(rect, &format, palette.as_ref(), &out, &limits).unwrap(), img.clone());

        let mut out = BytesMut::new();
        encode_alpha_cursor(&img, &mut out);
        prop_assert_eq!(frame_alpha_cursor(rect, &out, &limits).unwrap(), Progress::Done { item: (), consumed: out.len() });
        prop_assert_eq!(decode_alpha_cursor(rect, &out, &limits).unwrap(), img);

        let img2 = CursorImage::new(w, h, hx, hy, two).unwrap();
        let mut out = BytesMut::new();
        encode_x_cursor(&img2, &mut out);
        prop_assert_eq!(frame_x_cursor(rect, &out, &limits).unwrap(), Progress::Done { item: (), consumed: out.len() });
        prop_assert_eq!(decode_x_cursor(rect, &out, &limits).unwrap(), img2);
    }
}

#[test]
fn hextile_encoder_chooses_per_tile() {
    let f = PixelFormat::RGB888;
    // Tile 1 solid, tile 2 two colours, tile 3 three colours in few rectangles, tile 4 noise.
    let mut fb = Framebuffer::new(64, 16, f);
    fb.fill(Rect::new(0, 0, 16, 16), &[1, 1, 1, 0]).unwrap();
    fb.fill(Rect::new(16, 0, 16, 16), &[1, 1, 1, 0]).unwrap();
    fb.fill(Rect::new(20, 4, 3, 3), &[2, 2, 2, 0]).unwrap();
    fb.fill(Rect::new(32, 0, 16, 16), &[1, 1, 1, 0]).unwrap();
    fb.fill(Rect::new(33, 1, 2, 2), &[3, 3, 3, 0]).unwrap();
    fb.fill(Rect::new(40, 8, 4, 4), &[4, 4, 4, 0]).unwrap();
    let mut seed = 7u32;
    for y in 0..16 {
        for x in 48..64 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (seed >> 16) as u8;
            fb.fill(Rect::new(x, y, 1, 1), &[b, b.wrapping_mul(3), b ^ 0x55, 0])
                .unwrap();
        }
    }
    let mut out = BytesMut::new();
    HextileEncoder
        .encode(&fb.view(fb.rect()).unwrap(), &mut out)
        .unwrap();
    let w = &out[..];
    // Tile 1: BackgroundSpecified + pixel.
    assert_eq!(&w[..5], &[2, 1, 1, 1, 0]);
    // Tile 2: background carries over; foreground + one sub-rectangle (4,4) 3x3.
    assert_eq!(&w[5..12], &[4 | 8, 2, 2, 2, 0, 1, 0x44]);
    assert_eq!(w[12], 0x22);
    // Tile 3: coloured sub-rectangles, background carried over.
    assert_eq!(&w[13..15], &[8 | 16, 2]);
    assert_eq!(&w[15..21], &[3, 3, 3, 0, 0x11, 0x11]);
    assert_eq!(&w[21..27], &[4, 4, 4, 0, 0x88, 0x33]);
    // Tile 4: raw.
    assert_eq!(w[27], 1);
    assert_eq!(w.len(), 28 + 16 * 16 * 4);
}

#[test]
fn pseudo_payload_framing_does_not_care_where_input_splits() {
    use rfb_codec::pseudo::{encode_desktop_name, frame_desktop_name, ExtendedDesktopSize};
    let limits = CodecLimits::default();
    let plimits = rfb_proto::Limits::default();
    let img = CursorImage::new(11, 3, 1, 2, [200, 100, 50, 255].repeat(33)).unwrap();
    let rect = img.rect();
    let f = PixelFormat::RGB565;
    type Framer<'a> = Box<dyn Fn(&[u8]) -> Progress<()> + 'a>;
    let mut cases: Vec<(Vec<u8>, Framer<'_>)> = Vec::new();
    let mut out = BytesMut::new();
    encode_cursor(&img, &f, None, &mut out).unwrap();
    cases.push((
        out.to_vec(),
        Box::new(|b: &[u8]| frame_cursor(rect, &f, b, &limits).unwrap()),
    ));
    let mut out = BytesMut::new();
    encode_x_cursor(&img, &mut out);
    cases.push((
        out.to_vec(),
        Box::new(|b: &[u8]| frame_x_cursor(rect, b, &limits).unwrap()),
    ));
    let mut out = BytesMut::new();
    encode_alpha_cursor(&img, &mut out);
    cases.push((
        out.to_vec(),
        Box::new(|b: &[u8]| frame_alpha_cursor(rect, b, &limits).unwrap()),
    ));
    let mut out = BytesMut::new();
    encode_desktop_name("desk ✓", &mut out);
    cases.push((
        out.to_vec(),
        Box::new(|b: &[u8]| frame_desktop_name(b, &plimits).unwrap()),
    ));
    let eds = ExtendedDesktopSize {
        reason: 1,
        status: 0,
        width: 100,
        height: 50,
        screens: vec![
            rfb_proto::Screen {
                id: 1,
                rect: Rect::new(0, 0, 100, 50),
                flags: 0
            };
            2
        ],
    };
    let mut out = BytesMut::new();
    eds.encode(&mut out);
    cases.push((
        out.to_vec(),
        Box::new(|b: &[u8]| ExtendedDesktopSize::frame(b, &plimits).unwrap()),
    ));
    for (wire, frame) in &cases {
        for n in 0..wire.len() {
            match frame(&wire[..n]) {
                Progress::NeedMore { at_least } => assert!(at_least > n && at_least <= wire.len()),
                done => panic!("prefix {n} of {} framed as {done:?}", wire.len()),
            }
        }
        let mut more = wire.clone();
        more.push(0);
        assert_eq!(
            frame(&more),
            Progress::Done {
                item: (),
                consumed: wire.len()
            }
        );
    }
}
