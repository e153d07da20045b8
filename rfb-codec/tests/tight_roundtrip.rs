//! Tight encoder -> frame -> decoder: exact round trips for the lossless modes in every
//! pixel format class, JPEG within PSNR, and the encoder's choices.

use bytes::BytesMut;
use proptest::prelude::*;
use rfb_codec::pixel::{pixel_value, put_pixel_value, rgb8};
use rfb_codec::tight::{
    GradientMode, JpegSettings, Subsampling, TightConfig, TightDecoder, TightEncoder, TightMethod,
};
use rfb_codec::{
    CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder,
};
use rfb_proto::Progress;

fn formats() -> Vec<PixelFormat> {
    let mut be888 = PixelFormat::RGB888;
    be888.big_endian = true;
    let ms888 = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 16, 8);
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
        deep,
        split,
        PixelFormat::RGB565,
        be565,
        PixelFormat::RGB555,
        PixelFormat::RGB332,
        PixelFormat::COLOUR_MAP8,
        small32,
    ]
}

/// Clears bits outside the colour channels (Tight does not carry them).
fn normalise(format: &PixelFormat, pixels: &mut [u8]) {
    if !format.true_colour {
        return;
    }
    let f = format;
    let mask = (u32::from(f.red_max) << f.red_shift)
        | (u32::from(f.green_max) << f.green_shift)
        | (u32::from(f.blue_max) << f.blue_shift);
    for px in pixels.chunks_exact_mut(f.bytes_per_pixel()) {
        let v = pixel_value(px, f) & mask;
        put_pixel_value(v, f, px);
    }
}

fn encode_decode(
    enc: &mut TightEncoder,
    dec: &mut TightDecoder,
    src: &Framebuffer,
    dst: &mut Framebuffer,
    rect: Rect,
) -> usize {
    let limits = CodecLimits::default();
    let mut wire = BytesMut::new();
    enc.encode(&src.view(rect).unwrap(), &mut wire).unwrap();
    match dec.frame(rect, src.format(), &wire, &limits).unwrap() {
        Progress::Done { consumed, .. } => assert_eq!(consumed, wire.len()),
        Progress::NeedMore { .. } => panic!("own rectangle incomplete"),
    }
    dec.decode(rect, &wire, dst, &limits).unwrap();
    wire.len()
}

/// Pixels drawn from `colours` distinct random values, or fully random.
fn picture(format: PixelFormat, w: u16, h: u16, colours: usize, seed: u64) -> Framebuffer {
    let bpp = format.bytes_per_pixel();
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let pal: Vec<u64> = (0..colours.max(1)).map(|_| next()).collect();
    let mut px = vec![0u8; usize::from(w) * usize::from(h) * bpp];
    let mut cur = pal[0];
    for p in px.chunks_exact_mut(bpp) {
        if next() % 4 == 0 {
            cur = if colours == 0 {
                next()
            } else {
                pal[(next() % pal.len() as u64) as usize]
            };
        }
        p.copy_from_slice(&cur.to_le_bytes()[..bpp]);
    }
    normalise(&format, &mut px);
    let mut fb = Framebuffer::new(w, h, format);
    fb.put_pixels(fb.rect(), &px).unwrap();
    fb
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn lossless_round_trip(
        fi in 0usize..12,
        w in 1u16..80,
        h in 1u16..60,
        colours in prop::sample::select(vec![0usize, 1, 2, 3, 17, 200, 300]),
        seed in any::<u64>(),
        level in 0u8..10,
        gradient in prop::sample::select(vec![GradientMode::Never, GradientMode::Auto, GradientMode::Always]),
    ) {
        let format = formats()[fi];
        let src = picture(format, w, h, colours, seed);
        let mut dst = Framebuffer::new(w, h, format);
        let cfg = TightConfig { compress_level: level, jpeg: None, gradient };
        let mut enc = TightEncoder::new(cfg);
        let mut dec = TightDecoder::new();
        // Several rectangles on one connection, and a compress-level change midway.
        let half = h / 2;
        encode_decode(&mut enc, &mut dec, &src, &mut dst, Rect::new(0, 0, w, half));
        enc.set_config(TightConfig { compress_level: (level + 3) % 10, ..cfg });
        encode_decode(&mut enc, &mut dec, &src, &mut dst, Rect::new(0, half, w, h - half));
        encode_decode(&mut enc, &mut dec, &src, &mut dst, src.rect());
        prop_assert_eq!(&dst, &src);
    }
}

fn smooth(format: PixelFormat, w: u16, h: u16) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, format);
    let bpp = format.bytes_per_pixel();
    let mut px = vec![0u8; usize::from(w) * usize::from(h) * bpp];
    for (i, p) in px.chunks_exact_mut(bpp).enumerate() {
        let (x, y) = ((i % usize::from(w)) as f64, (i / usize::from(w)) as f64);
        let rgb = [
            (128.0 + 100.0 * (x / 13.0).sin()) as u8,
            (128.0 + 100.0 * (y / 9.0).cos()) as u8,
            ((x + y) * 255.0 / f64::from(w + h)) as u8,
        ];
        put_pixel_value(rfb_codec::pixel::from_rgb8(rgb, &format, None), &format, p);
    }
    fb.put_pixels(fb.rect(), &px).unwrap();
    fb
}

fn psnr(a: &Framebuffer, b: &Framebuffer) -> f64 {
    let f = *a.format();
    let bpp = f.bytes_per_pixel();
    let mut se = 0.0;
    let mut n = 0.0;
    for (pa, pb) in a.data().chunks_exact(bpp).zip(b.data().chunks_exact(bpp)) {
        let ca = rgb8(pixel_value(pa, &f), &f, None);
        let cb = rgb8(pixel_value(pb, &f), &f, None);
        for c in 0..3 {
            se += (f64::from(ca[c]) - f64::from(cb[c])).powi(2);
            n += 1.0;
        }
    }
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (se / n)).log10()
}

#[test]
fn jpeg_round_trip_psnr() {
    let be888 = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB888
    };
    for format in [
        PixelFormat::RGB888,
        PixelFormat::BGR888,
        be888,
        PixelFormat::RGB565,
    ] {
        for (level, min_db) in [(9u8, 40.0), (8, 35.0), (5, 30.0)] {
            let src = smooth(format, 96, 64);
            let mut dst = Framebuffer::new(96, 64, format);
            let cfg = TightConfig {
                jpeg: Some(JpegSettings::from_level(level)),
                ..TightConfig::default()
            };
            let mut enc = TightEncoder::new(cfg);
            let n = encode_decode(
                &mut enc,
                &mut TightDecoder::new(),
                &src,
                &mut dst,
                src.rect(),
            );
            if format.bits_per_pixel == 32 {
                // (16-bit smooth content has runs, so it may stay lossless.)
                assert_eq!(enc.last_method(), Some(TightMethod::Jpeg));
            }
            let q = psnr(&src, &dst);
            assert!(
                q >= min_db,
                "{format:?} level {level}: {q:.1} dB, {n} bytes"
            );
        }
    }
    // Every subsampling mode decodes (grey within a looser bound: colour is dropped).
    for sub in [
        Subsampling::None,
        Subsampling::Chroma2x,
        Subsampling::Chroma4x,
        Subsampling::Chroma8x,
        Subsampling::Chroma16x,
        Subsampling::Gray,
    ] {
        let src = smooth(PixelFormat::RGB888, 64, 48);
        let mut dst = Framebuffer::new(64, 48, PixelFormat::RGB888);
        let cfg = TightConfig {
            jpeg: Some(JpegSettings {
                quality: 90,
                subsampling: sub,
            }),
            ..TightConfig::default()
        };
        let mut enc = TightEncoder::new(cfg);
        encode_decode(
            &mut enc,
            &mut TightDecoder::new(),
            &src,
            &mut dst,
            src.rect(),
        );
        let q = psnr(&src, &dst);
        assert!(
            q >= if sub == Subsampling::Gray { 10.0 } else { 28.0 },
            "{sub:?}: {q}"
        );
    }
}

#[test]
fn encoder_picks_sub_encodings() {
    let f = PixelFormat::RGB888;
    let jpeg = TightConfig {
        jpeg: Some(JpegSettings::from_level(8)),
        ..TightConfig::default()
    };
    let cases = [
        (picture(f, 40, 40, 1, 5), TightMethod::Fill),
        (picture(f, 40, 40, 2, 5), TightMethod::Mono),
        (picture(f, 40, 40, 17, 5), TightMethod::Indexed),
        (smooth(f, 64, 64), TightMethod::Jpeg),
    ];
    for (fb, want) in cases {
        let mut enc = TightEncoder::new(jpeg);
        let mut dst = Framebuffer::new(fb.width(), fb.height(), f);
        encode_decode(&mut enc, &mut TightDecoder::new(), &fb, &mut dst, fb.rect());
        assert_eq!(enc.last_method(), Some(want));
    }
    // Lossless: by default no gradient filter (noVNC lacks it).
    let mut enc = TightEncoder::new(TightConfig::default());
    let src = smooth(f, 64, 64);
    let mut dst = Framebuffer::new(64, 64, f);
    encode_decode(
        &mut enc,
        &mut TightDecoder::new(),
        &src,
        &mut dst,
        src.rect(),
    );
    assert_eq!(enc.last_method(), Some(TightMethod::FullColour));
    // With GradientMode::Auto, smooth content uses the gradient filter, UI-like
    // many-colour content with runs the copy filter, and no JPEG.
    let mut enc = TightEncoder::new(TightConfig {
        gradient: GradientMode::Auto,
        ..TightConfig::default()
    });
    let src = smooth(f, 64, 64);
    let mut dst = Framebuffer::new(64, 64, f);
    encode_decode(
        &mut enc,
        &mut TightDecoder::new(),
        &src,
        &mut dst,
        src.rect(),
    );
    assert_eq!(enc.last_method(), Some(TightMethod::Gradient));
    assert_eq!(dst, src);
    let ui = picture(f, 64, 64, 0, 9); // random colours in runs of ~4
    let mut dst = Framebuffer::new(64, 64, f);
    encode_decode(&mut enc, &mut TightDecoder::new(), &ui, &mut dst, ui.rect());
    assert_eq!(enc.last_method(), Some(TightMethod::FullColour));
    // 8-bit formats never get JPEG or the gradient filter.
    let mut enc = TightEncoder::new(TightConfig {
        gradient: GradientMode::Always,
        ..jpeg
    });
    let src = smooth(PixelFormat::RGB332, 64, 64);
    let mut dst = Framebuffer::new(64, 64, PixelFormat::RGB332);
    encode_decode(
        &mut enc,
        &mut TightDecoder::new(),
        &src,
        &mut dst,
        src.rect(),
    );
    assert_eq!(dst, src);
}

#[test]
fn gradient_pays_on_smooth_content() {
    // The measurement behind GradientMode::Auto: on smooth content the gradient filter
    // beats the copy filter.
    let src = smooth(PixelFormat::RGB888, 128, 128);
    let size = |gradient| {
        let mut enc = TightEncoder::new(TightConfig {
            gradient,
            ..TightConfig::default()
        });
        let mut dst = Framebuffer::new(128, 128, PixelFormat::RGB888);
        encode_decode(
            &mut enc,
            &mut TightDecoder::new(),
            &src,
            &mut dst,
            Rect::new(0, 0, 128, 128),
        )
    };
    let (copy, grad) = (size(GradientMode::Never), size(GradientMode::Always));
    assert!(grad < copy, "gradient {grad} vs copy {copy}");
}

#[test]
fn compress_level_change_sends_reset_bits() {
    let src = picture(PixelFormat::RGB888, 32, 32, 2, 3);
    let mut enc = TightEncoder::new(TightConfig::default());
    let mut wire = BytesMut::new();
    enc.encode(&src.view(src.rect()).unwrap(), &mut wire)
        .unwrap();
    assert_eq!(wire[0] & 0x0f, 0, "no reset on a fresh stream");
    assert_eq!(wire[0] >> 4, 0x5, "mono: stream 1 with a filter id");
    enc.set_config(TightConfig {
        compress_level: 9,
        ..TightConfig::default()
    });
    let mut wire = BytesMut::new();
    enc.encode(&src.view(Rect::new(0, 0, 1, 1)).unwrap(), &mut wire)
        .unwrap();
    assert_eq!(wire[0], 0x80 | 0x02, "a fill carries the reset of stream 1");
    let mut wire = BytesMut::new();
    enc.encode(&src.view(src.rect()).unwrap(), &mut wire)
        .unwrap();
    assert_eq!(wire[0] & 0x0f, 0, "reset sent once");
}

#[test]
fn oversized_rectangles_are_refused() {
    let src = Framebuffer::new(2100, 40, PixelFormat::RGB565);
    let mut enc = TightEncoder::default();
    let err = enc.encode(&src.view(src.rect()).unwrap(), &mut BytesMut::new());
    assert!(matches!(err, Err(CodecError::ApiMisuse { .. })));
    let mut dst = Framebuffer::new(2100, 40, PixelFormat::RGB565);
    let mut dec = TightDecoder::new();
    for r in rfb_codec::tight::split(src.rect()) {
        encode_decode(&mut enc, &mut dec, &src, &mut dst, r);
    }
    assert_eq!(dst, src);
}

#[test]
fn from_encodings_fine_quality_and_subsampling() {
    use rfb_proto::Encoding;
    let cfg = TightConfig::from_encodings(&[
        Encoding::TIGHT,
        Encoding(-512 + 75),
        Encoding::JPEG_SUBSAMPLING_GRAY,
    ]);
    assert_eq!(
        cfg.jpeg,
        Some(JpegSettings {
            quality: 75,
            subsampling: Subsampling::Gray
        })
    );
    let cfg = TightConfig::from_encodings(&[Encoding::TIGHT, Encoding::for_compress_level(7)]);
    assert_eq!((cfg.compress_level, cfg.jpeg), (7, None));
}
