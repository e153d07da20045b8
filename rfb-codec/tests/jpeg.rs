//! Our baseline JPEG encoder ([`rfb_codec::jpeg`]): streams decode with zune-jpeg to the
//! right size, quality (PSNR) is at least jpeg-encoder's at the same settings, every
//! kernel produces the same bytes, odd sizes and pixel formats work, bad calls fail
//! with typed errors.

use rfb_codec::jpeg::{JpegEncoder, JpegKernel, JpegSampling};
use rfb_codec::{CodecError, Framebuffer, PixelFormat, PixelView, Rect};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

const SAMPLINGS: [JpegSampling; 4] = [
    JpegSampling::Yuv444,
    JpegSampling::Yuv422,
    JpegSampling::Yuv420,
    JpegSampling::Gray,
];

/// A photo-like RGB image: smooth gradients, a few edges and deterministic noise.
fn photo(w: usize, h: usize) -> Vec<u8> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 17) as f64 - 8.0;
            let (fx, fy) = (x as f64, y as f64);
            let edge = if (x / 37 + y / 23) % 3 == 0 {
                60.0
            } else {
                0.0
            };
            let r = 128.0 + 80.0 * (fx / 19.0).sin() * (fy / 31.0).cos() + n + edge;
            let g = 100.0 + 60.0 * ((fx + fy) / 27.0).cos() + n * 0.7;
            let b = 140.0 + 90.0 * (fy / 13.0).sin() - edge + n;
            rgb.extend([r, g, b].map(|v| v.clamp(0.0, 255.0) as u8));
        }
    }
    rgb
}

/// `rgb` as a framebuffer of `format` (byte-aligned 32-bit formats only here).
fn framebuffer(rgb: &[u8], w: u16, h: u16, format: PixelFormat) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, format);
    let bpp = format.bytes_per_pixel();
    for (i, c) in rgb.chunks_exact(3).enumerate() {
        let v = (u32::from(c[0]) * u32::from(format.red_max) / 255) << format.red_shift
            | (u32::from(c[1]) * u32::from(format.green_max) / 255) << format.green_shift
            | (u32::from(c[2]) * u32::from(format.blue_max) / 255) << format.blue_shift;
        let px = &mut fb.data_mut()[i * bpp..i * bpp + bpp];
        for (k, b) in px.iter_mut().enumerate() {
            let shift = if format.big_endian {
                8 * (bpp - 1 - k)
            } else {
                8 * k
            };
            *b = (v >> shift) as u8;
        }
    }
    fb
}

/// Decodes with zune-jpeg to RGB, checking the dimensions.
fn decode(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let opts = DecoderOptions::default()
        .set_max_width(65535)
        .set_max_height(65535)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = JpegDecoder::new_with_options(ZCursor::new(jpeg), opts);
    let rgb = d.decode().expect("zune-jpeg decodes our stream");
    let info = d.info().unwrap();
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!(rgb.len(), usize::from(w) * usize::from(h) * 3);
    rgb
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let b: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
    psnr_f(a, &b)
}

/// PSNR against an exact (unrounded) reference.
fn psnr_f(a: &[u8], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).powi(2))
        .sum();
    let mse = se / a.len() as f64;
    if mse == 0.0 {
        return 99.0;
    }
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Exact BT.601 luma of an RGB image, as three equal channels (what a grayscale JPEG
/// decodes to).
fn luma_of(rgb: &[u8]) -> Vec<f64> {
    rgb.chunks_exact(3)
        .flat_map(|c| {
            [0.299 * f64::from(c[0]) + 0.587 * f64::from(c[1]) + 0.114 * f64::from(c[2]); 3]
        })
        .collect()
}

/// The luma rounded to bytes.
fn gray_of(rgb: &[u8]) -> Vec<u8> {
    luma_of(rgb).iter().map(|y| y.round() as u8).collect()
}

/// The reference a decoded image of sampling `s` is compared with.
fn reference(rgb: &[u8], s: JpegSampling) -> Vec<f64> {
    if s == JpegSampling::Gray {
        luma_of(rgb)
    } else {
        rgb.iter().map(|&v| f64::from(v)).collect()
    }
}

fn ours(view: &PixelView<'_>, q: u8, s: JpegSampling) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new().encode(view, q, s, &mut out).unwrap();
    out
}

fn theirs(rgb: &[u8], w: u16, h: u16, q: u8, s: JpegSampling) -> Vec<u8> {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, q);
    e.set_sampling_factor(match s {
        JpegSampling::Yuv422 => SamplingFactor::R_4_2_2,
        JpegSampling::Yuv420 => SamplingFactor::R_4_2_0,
        _ => SamplingFactor::R_4_4_4,
    });
    if s == JpegSampling::Gray {
        // jpeg-encoder takes luma bytes (the rounding is part of its cost).
        let y: Vec<u8> = gray_of(rgb).chunks_exact(3).map(|c| c[0]).collect();
        e.encode(&y, w, h, ColorType::Luma).unwrap();
    } else {
        e.encode(rgb, w, h, ColorType::Rgb).unwrap();
    }
    out
}

/// PSNR (and size) of ours against jpeg-encoder's on one RGB image, for every quality
/// and sampling the task names.
fn compare_with_jpeg_encoder(rgb: &[u8], w: u16, h: u16, label: &str) {
    let fb = framebuffer(rgb, w, h, PixelFormat::RGB888);
    let view = fb.view(fb.rect()).unwrap();
    for s in SAMPLINGS {
        let reference = reference(rgb, s);
        for q in [50, 75, 92, 100] {
            let a = ours(&view, q, s);
            let b = theirs(rgb, w, h, q, s);
            let pa = psnr_f(&decode(&a, w, h), &reference);
            let pb = psnr_f(&decode(&b, w, h), &reference);
            println!(
                "{label} {s:?} q{q}: ours {pa:.2} dB {} B, jpeg-encoder {pb:.2} dB {} B",
                a.len(),
                b.len()
            );
            assert!(
                pa >= pb - 0.3,
                "{label} {s:?} q{q}: {pa:.2} dB < {pb:.2} - 0.3"
            );
            // Same tables: sizes stay close (ours rounds colour less, so it can differ a
            // little either way).
            assert!(
                (a.len() as f64) < b.len() as f64 * 1.08,
                "{label} {s:?} q{q}: {} bytes vs {}",
                a.len(),
                b.len()
            );
        }
    }
}

#[test]
fn quality_at_least_jpeg_encoders_on_a_photo_like_image() {
    let (w, h) = (200u16, 120u16);
    compare_with_jpeg_encoder(&photo(200, 120), w, h, "synthetic");
}

#[test]
fn every_kernel_produces_the_same_bytes() {
    let (w, h) = (77u16, 45u16);
    let rgb = photo(77, 45);
    let fb = framebuffer(&rgb, w, h, PixelFormat::RGB888);
    let view = fb.view(fb.rect()).unwrap();
    let kernels: Vec<JpegEncoder> = [JpegKernel::Scalar, JpegKernel::Avx2]
        .into_iter()
        .filter_map(JpegEncoder::with_kernel)
        .collect();
    for s in SAMPLINGS {
        for q in [1, 30, 75, 92, 100] {
            let outs: Vec<Vec<u8>> = kernels
                .iter()
                .map(|k| {
                    let mut out = Vec::new();
                    k.clone().encode(&view, q, s, &mut out).unwrap();
                    out
                })
                .collect();
            assert!(outs.windows(2).all(|p| p[0] == p[1]), "{s:?} q{q}");
        }
    }
}

#[test]
fn odd_sizes_decode_with_edges_repeated() {
    for (w, h) in [
        (1u16, 1u16),
        (7, 9),
        (8, 8),
        (17, 33),
        (2048, 8),
        (9, 17),
        (31, 2),
        (16, 15),
    ] {
        let rgb = photo(w.into(), h.into());
        let fb = framebuffer(&rgb, w, h, PixelFormat::RGB888);
        let view = fb.view(fb.rect()).unwrap();
        for s in SAMPLINGS {
            let a = ours(&view, 92, s);
            let dec = decode(&a, w, h);
            let p = psnr_f(&dec, &reference(&rgb, s));
            // Noisy content at quality 92 stays above 30 dB in every sampling mode.
            assert!(p > 30.0, "{w}x{h} {s:?}: {p:.2} dB");
        }
    }
}

#[test]
fn flat_colours_come_back_within_rounding() {
    // A flat colour is all DC: at quality 100 it must come back within 1-2 levels.
    for colour in [[0u8, 0, 0], [255, 255, 255], [255, 0, 0], [12, 200, 99]] {
        let rgb: Vec<u8> = colour.repeat(24 * 16);
        let fb = framebuffer(&rgb, 24, 16, PixelFormat::RGB888);
        let view = fb.view(fb.rect()).unwrap();
        for s in [JpegSampling::Yuv444, JpegSampling::Yuv420] {
            let dec = decode(&ours(&view, 100, s), 24, 16);
            for (a, b) in dec.iter().zip(&rgb) {
                assert!(a.abs_diff(*b) <= 2, "{colour:?} {s:?}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn pixel_formats_and_strided_views_agree() {
    let (w, h) = (40u16, 24u16);
    let rgb = photo(40, 24);
    let base = {
        let fb = framebuffer(&rgb, w, h, PixelFormat::RGB888);
        ours(&fb.view(fb.rect()).unwrap(), 92, JpegSampling::Yuv444)
    };
    // Other byte orders of the same 24-bit colours: identical streams.
    let bgr = framebuffer(&rgb, w, h, PixelFormat::BGR888);
    assert_eq!(
        ours(&bgr.view(bgr.rect()).unwrap(), 92, JpegSampling::Yuv444),
        base
    );
    let be = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB888
    };
    let fb = framebuffer(&rgb, w, h, be);
    assert_eq!(
        ours(&fb.view(fb.rect()).unwrap(), 92, JpegSampling::Yuv444),
        base
    );
    // A sub-view of a larger framebuffer (stride > width) encodes the same pixels.
    let mut big = Framebuffer::new(w + 13, h + 5, PixelFormat::RGB888);
    big.put_pixels(
        Rect::new(13, 5, w, h),
        fb_bytes(&rgb, PixelFormat::RGB888).as_slice(),
    )
    .unwrap();
    let sub = big.view(Rect::new(13, 5, w, h)).unwrap();
    assert_eq!(ours(&sub, 92, JpegSampling::Yuv444), base);
    // 16-bit colour goes through the per-pixel path and still decodes closely.
    let fb = framebuffer(&rgb, w, h, PixelFormat::RGB565);
    let out = ours(&fb.view(fb.rect()).unwrap(), 92, JpegSampling::Yuv444);
    let p = psnr(&decode(&out, w, h), &rgb);
    assert!(p > 28.0, "RGB565: {p:.2} dB");
}

fn fb_bytes(rgb: &[u8], f: PixelFormat) -> Vec<u8> {
    let fb = framebuffer(rgb, (rgb.len() / 3) as u16, 1, f);
    fb.data().to_vec()
}

#[test]
fn headers_carry_the_chosen_tables_and_sampling() {
    let rgb = photo(16, 16);
    let fb = framebuffer(&rgb, 16, 16, PixelFormat::RGB888);
    let view = fb.view(fb.rect()).unwrap();
    let a = ours(&view, 50, JpegSampling::Yuv420);
    // SOI, then APP0 "JFIF\0" (T.81 / JFIF 1.02: FFE0, length 16).
    assert_eq!(
        &a[..11],
        &[0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0]
    );
    // DQT at quality 50 holds the Annex K tables themselves: luma DC 16, first AC 11.
    let dqt = a.windows(2).position(|p| p == [0xff, 0xdb]).unwrap();
    assert_eq!(&a[dqt + 4..dqt + 7], &[0, 16, 11]);
    // SOF0: 8 bits, 16x16, three components, luma 2x2, chroma 1x1.
    let sof = a.windows(2).position(|p| p == [0xff, 0xc0]).unwrap();
    assert_eq!(
        &a[sof + 4..sof + 19],
        &[8, 0, 16, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
    );
    assert_eq!(&a[a.len() - 2..], &[0xff, 0xd9]);
    // Grayscale: one component and one table of each kind.
    let g = ours(&view, 92, JpegSampling::Gray);
    let sof = g.windows(2).position(|p| p == [0xff, 0xc0]).unwrap();
    assert_eq!(
        &g[sof + 2..sof + 13],
        &[0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0]
    );
    let mut d = JpegDecoder::new(ZCursor::new(&g));
    d.decode_headers().unwrap();
    assert_eq!(d.info().unwrap().components, 1);
}

#[test]
fn bad_calls_are_typed_errors() {
    let fb = Framebuffer::new(8, 8, PixelFormat::RGB888);
    let mut e = JpegEncoder::new();
    let mut out = vec![1, 2, 3];
    let empty = fb.view(Rect::new(0, 0, 8, 0)).unwrap();
    assert!(matches!(
        e.encode(&empty, 92, JpegSampling::Yuv444, &mut out),
        Err(CodecError::ApiMisuse { .. })
    ));
    let view = fb.view(fb.rect()).unwrap();
    for q in [0, 101, 255] {
        assert!(matches!(
            e.encode(&view, q, JpegSampling::Yuv444, &mut out),
            Err(CodecError::ApiMisuse { .. })
        ));
    }
    let cmap = Framebuffer::new(8, 8, PixelFormat::COLOUR_MAP8);
    assert!(matches!(
        e.encode(
            &cmap.view(cmap.rect()).unwrap(),
            92,
            JpegSampling::Yuv444,
            &mut out
        ),
        Err(CodecError::UnsupportedFormat { .. })
    ));
    assert_eq!(out, [1, 2, 3], "nothing appended on error");
    // Quality 1 and 100 are both fine; the stream is appended after what was there.
    e.encode(&view, 1, JpegSampling::Yuv444, &mut out).unwrap();
    assert_eq!(&out[..5], &[1, 2, 3, 0xff, 0xd8]);
}

#[test]
fn the_largest_sizes_work() {
    // 65535 x 1 and 1 x 65535: the u16 extremes.
    for (w, h) in [(65535u16, 1u16), (1, 65535)] {
        let fb = Framebuffer::new(w, h, PixelFormat::RGB888);
        let view = fb.view(fb.rect()).unwrap();
        let out = ours(&view, 92, JpegSampling::Yuv420);
        let dec = decode(&out, w, h);
        assert!(dec.iter().all(|&v| v <= 1));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any size, content, quality, sampling and true-colour format gives a stream that
    /// zune-jpeg decodes to the right size, and every kernel gives the same bytes.
    #[test]
    fn any_image_encodes_to_a_decodable_stream(
        w in 1u16..40,
        h in 1u16..40,
        q in 1u8..=100,
        s in 0usize..4,
        f in 0usize..4,
        seed: u64,
    ) {
        let format = [
            PixelFormat::RGB888,
            PixelFormat::BGR888,
            PixelFormat::RGB565,
            PixelFormat::RGB332,
        ][f];
        let mut fb = Framebuffer::new(w + 3, h + 2, format);
        let mut x = seed | 1;
        for b in fb.data_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
        let view = fb.view(Rect::new(3, 2, w, h)).unwrap();
        let outs: Vec<Vec<u8>> = [JpegKernel::Scalar, JpegKernel::Avx2]
            .into_iter()
            .filter_map(JpegEncoder::with_kernel)
            .map(|mut e| {
                let mut out = Vec::new();
                e.encode(&view, q, SAMPLINGS[s], &mut out).unwrap();
                out
            })
            .collect();
        proptest::prop_assert!(outs.windows(2).all(|p| p[0] == p[1]));
        decode(&outs[0], w, h);
    }
}
