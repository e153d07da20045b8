use super::*;
use crate::Framebuffer;
use proptest::prelude::*;

const NAMED: [PixelFormat; 7] = [
    PixelFormat::RGB888,
    PixelFormat::BGR888,
    PixelFormat::RGB565,
    PixelFormat::RGB555,
    PixelFormat::RGB332,
    PixelFormat::BGR233,
    PixelFormat::COLOUR_MAP8,
];

/// A valid true-colour format: channels of 1.. bits in any order, packed from `offset`.
fn true_colour_format() -> impl Strategy<Value = PixelFormat> {
    (
        prop_oneof![Just(8u8), Just(16u8), Just(32u8)],
        any::<bool>(),
        [1u8..=10, 1u8..=10, 1u8..=10],
        0usize..6,
        0u8..8,
    )
        .prop_filter_map("channels too wide", |(bpp, be, bits, order, offset)| {
            let total: u8 = bits.iter().sum();
            if total + offset > bpp {
                return None;
            }
            let perm = [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
            ][order];
            let mut shifts = [0u8; 3];
            let mut at = offset;
            for &c in &perm {
                shifts[c] = at;
                at += bits[c];
            }
            let max = |b: u8| ((1u32 << b) - 1) as u16;
            let pf = PixelFormat::true_colour(
                bpp,
                bpp,
                be,
                max(bits[0]),
                max(bits[1]),
                max(bits[2]),
                shifts[0],
                shifts[1],
                shifts[2],
            );
            pf.validate().ok().map(|_| pf)
        })
}

/// A whole-byte 32-bit format (what the SIMD kernels accept as a source).
fn byte_format() -> impl Strategy<Value = PixelFormat> {
    (any::<bool>(), 0usize..24).prop_map(|(be, p)| {
        let mut bytes = vec![0u8, 1, 2, 3];
        let mut shifts = [0u8; 3];
        let mut k = p;
        for s in &mut shifts {
            let i = k % bytes.len();
            k /= bytes.len();
            *s = bytes.remove(i) * 8;
        }
        PixelFormat::true_colour(32, 24, be, 255, 255, 255, shifts[0], shifts[1], shifts[2])
    })
}

fn any_format() -> impl Strategy<Value = (PixelFormat, Option<Palette>)> {
    prop_oneof![
        true_colour_format().prop_map(|f| (f, None)),
        byte_format().prop_map(|f| (f, None)),
        (0usize..NAMED.len()).prop_map(|i| {
            let f = NAMED[i];
            (f, Palette::for_format(&f))
        }),
        any::<bool>().prop_map(|be| {
            let f = PixelFormat {
                bits_per_pixel: 16,
                depth: 16,
                big_endian: be,
                ..PixelFormat::COLOUR_MAP8
            };
            (f, Some(Palette::grey(300).unwrap()))
        }),
        Just((
            PixelFormat::COLOUR_MAP8,
            Some(Palette::from_rgb16(vec![[0, 0, 0], [65535, 0, 0], [0, 40000, 65535]]).unwrap())
        )),
    ]
}

/// The definition every kernel must match: via [`convert_one`], pixel by pixel.
fn reference(
    src: &PixelFormat,
    sp: Option<&Palette>,
    dst: &PixelFormat,
    dp: Option<&Palette>,
    data: &[u8],
) -> Vec<u8> {
    let (sb, db) = (src.bytes_per_pixel(), dst.bytes_per_pixel());
    let mut out = vec![0; data.len() / sb * db];
    for (s, d) in data.chunks_exact(sb).zip(out.chunks_exact_mut(db)) {
        let mut v = pixel_value(s, src);
        if src.true_colour {
            // Bits outside the channels are ignored.
            let keep = (u32::from(src.red_max) << src.red_shift)
                | (u32::from(src.green_max) << src.green_shift)
                | (u32::from(src.blue_max) << src.blue_shift);
            v &= keep;
        }
        let out = if src == dst && (src.true_colour || sp == dp) {
            pixel_value(s, src)
        } else {
            convert_one(v, src, sp, dst, dp)
        };
        put_pixel_value(out, dst, d);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_kernel_matches_the_reference(
        (src, sp) in any_format(),
        (dst, dp) in any_format(),
        data in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let data = &data[..data.len() / src.bytes_per_pixel() * src.bytes_per_pixel()];
        let want = reference(&src, sp.as_ref(), &dst, dp.as_ref(), data);
        for isa in Isa::available() {
            let t = Translator::with_isa(&src, sp.as_ref(), &dst, dp.as_ref(), isa).unwrap();
            let mut got = vec![0; want.len()];
            t.translate_row(data, &mut got).unwrap();
            prop_assert_eq!(&got, &want, "{:?} via {:?}", t.kernel(), isa);
        }
    }

    /// SIMD kernels against their scalar twins on the formats they are chosen for.
    #[test]
    fn simd_equals_scalar(
        src in byte_format(),
        dst in prop_oneof![byte_format(), true_colour_format().prop_filter("16 bpp", |f| f.bits_per_pixel == 16 && f.red_max <= 255 && f.green_max <= 255 && f.blue_max <= 255)],
        data in proptest::collection::vec(any::<u8>(), 0..1000),
    ) {
        let data = &data[..data.len() / 4 * 4];
        let scalar = Translator::with_isa(&src, None, &dst, None, Isa::Scalar).unwrap();
        prop_assert!(matches!(scalar.kernel().0, "shuffle32" | "pack16" | "copy"), "{:?}", scalar.kernel());
        let mut want = vec![0; data.len() / 4 * dst.bytes_per_pixel()];
        scalar.translate_row(data, &mut want).unwrap();
        for isa in Isa::available() {
            let t = Translator::with_isa(&src, None, &dst, None, isa).unwrap();
            let mut got = vec![0; want.len()];
            t.translate_row(data, &mut got).unwrap();
            prop_assert_eq!(&got, &want, "{:?}", isa);
        }
    }
}

#[test]
fn pack16_every_channel_value() {
    // All 2^24 colours would be slow in debug; every value of each channel is enough
    // because channels are independent.
    let src = PixelFormat::RGB888;
    let mut data = Vec::new();
    for v in 0..=255u8 {
        data.extend_from_slice(&[v, 255 - v, v / 2, 0xaa]);
    }
    for dst in [
        PixelFormat::RGB565,
        PixelFormat::RGB555,
        PixelFormat {
            big_endian: true,
            ..PixelFormat::RGB565
        },
    ] {
        let want = reference(&src, None, &dst, None, &data);
        for isa in Isa::available() {
            let t = Translator::with_isa(&src, None, &dst, None, isa).unwrap();
            assert_eq!(t.kernel().0, "pack16");
            let mut got = vec![0; want.len()];
            t.translate_row(&data, &mut got).unwrap();
            assert_eq!(got, want, "{isa:?}");
        }
    }
}

#[test]
fn known_values() {
    // RGB888 (bytes B G R x) pure red, green, blue, white.
    let src = [0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0];
    let conv = |dst: PixelFormat, dp: Option<&Palette>| {
        let t = Translator::new(&PixelFormat::RGB888, None, &dst, dp).unwrap();
        let mut out = vec![0; 4 * dst.bytes_per_pixel()];
        t.translate_row(&src, &mut out).unwrap();
        out
    };
    assert_eq!(
        conv(PixelFormat::BGR888, None),
        [255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 0]
    );
    let be888 = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB888
    };
    assert_eq!(
        conv(be888, None),
        [0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255]
    );
    // 5-6-5 little-endian: red 0xf800, green 0x07e0, blue 0x001f.
    assert_eq!(
        conv(PixelFormat::RGB565, None),
        [0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00, 0xff, 0xff]
    );
    let be565 = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB565
    };
    assert_eq!(
        conv(be565, None),
        [0xf8, 0x00, 0x07, 0xe0, 0x00, 0x1f, 0xff, 0xff]
    );
    assert_eq!(conv(PixelFormat::RGB332, None), [0xe0, 0x1c, 0x03, 0xff]);
    assert_eq!(conv(PixelFormat::BGR233, None), [0x07, 0x38, 0xc0, 0xff]);
    // 6x7x6 cube: index = (r * 7 + g) * 6 + b.
    let cube = Palette::colour_cube();
    assert_eq!(
        conv(PixelFormat::COLOUR_MAP8, Some(&cube)),
        [5 * 42, 6 * 6, 5, 251]
    );
    let grey = Palette::grey(256).unwrap();
    // BT.601-ish weights 77/150/29 of 256.
    assert_eq!(
        conv(PixelFormat::COLOUR_MAP8, Some(&grey)),
        [77, 149, 29, 255]
    );
    // Rounding when widening: 5-bit 16 -> 8-bit 132 (16 * 255 / 31 = 131.6).
    let t = Translator::new(&PixelFormat::RGB565, None, &PixelFormat::BGR888, None).unwrap();
    let mut out = [0u8; 4];
    t.translate_row(&[0x00, 0x80], &mut out).unwrap();
    assert_eq!(out, [132, 0, 0, 0]);
}

#[test]
fn colour_map_source_uses_its_palette() {
    let pal = Palette::from_rgb16(vec![[0, 0, 0], [65535, 32768, 0]]).unwrap();
    let t = Translator::new(
        &PixelFormat::COLOUR_MAP8,
        Some(&pal),
        &PixelFormat::BGR888,
        None,
    )
    .unwrap();
    let mut out = [0u8; 12];
    t.translate_row(&[1, 0, 7], &mut out).unwrap();
    // Index 7 is past the palette: black.
    assert_eq!(out, [255, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(Translator::new(&PixelFormat::COLOUR_MAP8, None, &PixelFormat::BGR888, None).is_err());
    let big = Palette::grey(300).unwrap();
    assert!(Translator::new(
        &PixelFormat::RGB888,
        None,
        &PixelFormat::COLOUR_MAP8,
        Some(&big)
    )
    .is_err());
}

#[test]
fn custom_palette_finds_the_nearest_entry() {
    let pal = Palette::from_rgb16(vec![
        [0, 0, 0],
        [65535, 65535, 65535],
        [65535, 0, 0],
        [0, 0, 65535],
    ])
    .unwrap();
    assert_eq!(pal.lookup([10, 10, 10]), 0);
    assert_eq!(pal.lookup([240, 250, 230]), 1);
    assert_eq!(pal.lookup([200, 30, 20]), 2);
    assert_eq!(pal.lookup([20, 30, 200]), 3);
}

#[test]
fn presets_are_valid() {
    for p in ColourPreset::ALL {
        let f = p.pixel_format();
        f.validate().unwrap();
        let pal = p.palette();
        assert_eq!(pal.is_some(), !f.true_colour);
        Translator::new(&PixelFormat::RGB888, None, &f, pal.as_ref()).unwrap();
    }
}

#[test]
fn strided_views() {
    let mut fb = Framebuffer::new(5, 3, PixelFormat::RGB888);
    for (i, b) in fb.data_mut().iter_mut().enumerate() {
        *b = i as u8;
    }
    let v = fb.view(crate::Rect::new(1, 1, 3, 2)).unwrap();
    let t = Translator::new(&PixelFormat::RGB888, None, &PixelFormat::RGB888, None).unwrap();
    assert_eq!(t.kernel().0, "copy");
    assert_eq!(t.translate(&v).unwrap(), v.to_packed());
    let wrong = Translator::new(&PixelFormat::RGB565, None, &PixelFormat::RGB888, None).unwrap();
    assert!(wrong.translate(&v).is_err());
}
