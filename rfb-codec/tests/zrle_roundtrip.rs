//! proptest round trips encoder -> frame -> decoder for Zlib, ZRLE and TRLE in every pixel
//! format class, with several rectangles on one connection (persistent zlib streams).

use bytes::BytesMut;
use proptest::prelude::*;
use rfb_codec::trle::{TrleDecoder, TrleEncoder};
use rfb_codec::zlib::{ZlibDecoder, ZlibEncoder};
use rfb_codec::zrle::{ZrleDecoder, ZrleEncoder};
use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
use rfb_proto::Progress;

fn formats() -> Vec<PixelFormat> {
    let mut be888 = PixelFormat::RGB888;
    be888.big_endian = true;
    let ms888 = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 16, 8);
    let mut ms888_be = ms888;
    ms888_be.big_endian = true;
    let mut deep = PixelFormat::RGB888;
    deep.depth = 32;
    let split = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 8, 0);
    let mut be565 = PixelFormat::RGB565;
    be565.big_endian = true;
    let small32 = PixelFormat::true_colour(32, 16, true, 31, 63, 31, 11, 5, 0);
    vec![
        PixelFormat::RGB888,
        PixelFormat::BGR888,
        be888,
        ms888,
        ms888_be,
        deep,
        split,
        PixelFormat::RGB565,
        be565,
        PixelFormat::RGB555,
        PixelFormat::RGB332,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
        small32,
    ]
}

/// The bytes of a pixel made of channel values in `fmt` (unused bits zero); a colour-map
/// index for colour-map formats.
fn pixel(fmt: &PixelFormat, seed: u32) -> Vec<u8> {
    let value = if fmt.true_colour {
        let r = seed & u32::from(fmt.red_max);
        let g = (seed >> 8) & u32::from(fmt.green_max);
        let b = (seed >> 16) & u32::from(fmt.blue_max);
        (r << fmt.red_shift) | (g << fmt.green_shift) | (b << fmt.blue_shift)
    } else {
        seed & 0xff
    };
    let bytes = fmt.bytes_per_pixel();
    if fmt.big_endian {
        value.to_be_bytes()[4 - bytes..].to_vec()
    } else {
        value.to_le_bytes()[..bytes].to_vec()
    }
}

/// A picture with runs, few-colour areas and noise, from proptest's choices.
fn picture(fmt: &PixelFormat, w: u16, h: u16, colours: &[u32], choices: &[u8]) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, *fmt);
    let mut data = Vec::with_capacity(fb.data().len());
    let mut c = choices.iter().cycle();
    let mut run = 0;
    let mut px = pixel(fmt, colours[0]);
    for _ in 0..usize::from(w) * usize::from(h) {
        if run == 0 {
            let b = *c.next().unwrap_or(&0);
            run = usize::from(b >> 3) + 1;
            px = pixel(fmt, colours[usize::from(b) % colours.len()]);
        }
        run -= 1;
        data.extend_from_slice(&px);
    }
    let r = fb.rect();
    fb.put_pixels(r, &data).unwrap();
    fb
}

fn roundtrip(
    enc: &mut dyn RectEncoder,
    dec: &mut dyn RectDecoder,
    src: &Framebuffer,
    rects: &[Rect],
    chunk: usize,
) {
    let limits = CodecLimits::default();
    let mut dst = Framebuffer::new(src.width(), src.height(), *src.format());
    for &rect in rects {
        let mut wire = BytesMut::new();
        enc.encode(&src.view(rect).unwrap(), &mut wire).unwrap();
        // Frame from growing prefixes, as bytes arrive in chunks.
        let mut have = chunk.min(wire.len());
        loop {
            match dec
                .frame(rect, src.format(), &wire[..have], &limits)
                .unwrap()
            {
                Progress::Done { consumed, .. } => {
                    assert_eq!(consumed, wire.len());
                    break;
                }
                Progress::NeedMore { at_least } => {
                    assert!(at_least > have && at_least <= wire.len());
                    have = (have + chunk).min(wire.len());
                }
            }
        }
        dec.decode(rect, &wire, &mut dst, &limits).unwrap();
    }
    for &rect in rects {
        let (a, b) = (src.view(rect).unwrap(), dst.view(rect).unwrap());
        for y in 0..rect.height {
            assert_eq!(a.row(y), b.row(y), "{rect:?} row {y}");
        }
    }
}

/// Format index, width, height, colours, run choices, rectangles, framing chunk size.
type Case = (
    usize,
    u16,
    u16,
    Vec<u32>,
    Vec<u8>,
    Vec<(u16, u16, u16, u16)>,
    usize,
);

fn case() -> impl Strategy<Value = Case> {
    (
        0..formats().len(),
        1u16..150,
        1u16..100,
        prop::collection::vec(any::<u32>(), 1..40),
        prop::collection::vec(any::<u8>(), 1..300),
        prop::collection::vec((0u16..150, 0u16..100, 0u16..150, 0u16..100), 1..4),
        prop_oneof![Just(1usize), Just(7), Just(1 << 20)],
    )
}

fn rects(w: u16, h: u16, raw: &[(u16, u16, u16, u16)]) -> Vec<Rect> {
    raw.iter()
        .map(|&(x, y, rw, rh)| {
            let x = x % w;
            let y = y % h;
            Rect::new(x, y, rw % (w - x + 1), rh % (h - y + 1))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn zrle_roundtrip((f, w, h, colours, choices, raw, chunk) in case(), level in 0u32..10) {
        let fmt = formats()[f];
        let src = picture(&fmt, w, h, &colours, &choices);
        let mut rs = rects(w, h, &raw);
        rs.push(src.rect());
        roundtrip(&mut ZrleEncoder::new(level), &mut ZrleDecoder::new(), &src, &rs, chunk);
    }

    #[test]
    fn trle_roundtrip((f, w, h, colours, choices, raw, chunk) in case()) {
        let fmt = formats()[f];
        let src = picture(&fmt, w, h, &colours, &choices);
        let mut rs = rects(w, h, &raw);
        rs.push(src.rect());
        roundtrip(&mut TrleEncoder::new(), &mut TrleDecoder::new(), &src, &rs, chunk);
    }

    #[test]
    fn zlib_roundtrip((f, w, h, colours, choices, raw, chunk) in case(), level in 0u32..10) {
        let fmt = formats()[f];
        let src = picture(&fmt, w, h, &colours, &choices);
        let mut rs = rects(w, h, &raw);
        rs.push(src.rect());
        roundtrip(&mut ZlibEncoder::new(level), &mut ZlibDecoder::new(), &src, &rs, chunk);
    }
}

/// Pictures built to make each sub-encoding the smallest, so every encoder path runs.
#[test]
fn every_sub_encoding_is_chosen_and_decodes() {
    for fmt in formats() {
        let (w, h) = (64u16, 64u16);
        // Column bands of 2, 4, 16, 100 colours; one solid band; noise.
        let mut fb = Framebuffer::new(w * 6, h, fmt);
        let mut data = Vec::new();
        let mut noise = 0x9e37_79b9u32;
        for y in 0..h {
            for x in 0..w * 6 {
                let band = x / w;
                let lx = u32::from(x % w) + u32::from(y) * 7;
                let seed = match band {
                    0 => lx % 2,
                    1 => (lx / 3) % 4,
                    2 => lx % 16,
                    3 => (u32::from(x) / 9 + u32::from(y) / 5) % 100,
                    4 => 42,
                    _ => {
                        noise ^= noise << 13;
                        noise ^= noise >> 17;
                        noise ^= noise << 5;
                        noise
                    }
                };
                data.extend(pixel(
                    &fmt,
                    seed.wrapping_mul(0x0101_0101)
                        .wrapping_add(seed.wrapping_mul(40)),
                ));
            }
        }
        let r = fb.rect();
        fb.put_pixels(r, &data).unwrap();
        let rs = [r, Rect::new(3, 5, 200, 50), Rect::new(64, 0, 1, 64)];
        roundtrip(
            &mut ZrleEncoder::new(6),
            &mut ZrleDecoder::new(),
            &fb,
            &rs,
            usize::MAX,
        );
        roundtrip(
            &mut TrleEncoder::new(),
            &mut TrleDecoder::new(),
            &fb,
            &rs,
            usize::MAX,
        );
    }
}

/// Same pixels, whether bytes arrive whole, one at a time, or in odd chunks.
#[test]
fn split_input_gives_the_same_pixels() {
    let fmt = PixelFormat::RGB565;
    let src = picture(
        &fmt,
        40,
        30,
        &[1, 2, 3, 0xffff, 77],
        &[3, 200, 17, 9, 90, 250],
    );
    for chunk in [1usize, 2, 3, 13, 1 << 20] {
        roundtrip(
            &mut TrleEncoder::new(),
            &mut TrleDecoder::new(),
            &src,
            &[src.rect()],
            chunk,
        );
        roundtrip(
            &mut ZrleEncoder::new(1),
            &mut ZrleDecoder::new(),
            &src,
            &[src.rect()],
            chunk,
        );
    }
}
