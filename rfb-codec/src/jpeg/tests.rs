//! Differential tests: every AVX2 kernel against its scalar twin (bit-exact), and the
//! scalar DCT against a direct evaluation of the DCT formula.

use proptest::prelude::*;

use super::tables::{divisors, scaled_quant, CHROMA_QUANT, LUMA_QUANT, ZIGZAG};
use super::{scalar, Layout, McuOut, Quant};

fn quant(q: u8) -> Quant {
    Quant {
        luma: divisors(&scaled_quant(&LUMA_QUANT, q)),
        chroma: divisors(&scaled_quant(&CHROMA_QUANT, q)),
    }
}

/// Pixel bytes biased towards the extremes 0 and 255.
fn pixel_bytes(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(0u8), Just(255u8), any::<u8>()], n)
}

#[test]
fn scalar_dct_matches_the_dct_formula() {
    // Quality 100 (all-ones table): the quantised coefficients are the rounded DCT.
    let q = quant(100);
    let mut src = [0f32; 64];
    for (i, v) in src.iter_mut().enumerate() {
        *v = ((i * 37 + (i / 8) * 11) % 256) as f32 - 128.0;
    }
    let mut out = [0i16; 64];
    scalar::fdct_quant(&src, 8, &q.luma, &mut out);
    let c = |k: usize| {
        if k == 0 {
            std::f64::consts::FRAC_1_SQRT_2
        } else {
            1.0
        }
    };
    for u in 0..8 {
        for v in 0..8 {
            let mut s = 0.0;
            for y in 0..8 {
                for x in 0..8 {
                    s += f64::from(src[y * 8 + x])
                        * (((2 * y + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos()
                        * (((2 * x + 1) * v) as f64 * std::f64::consts::PI / 16.0).cos();
                }
            }
            let want = 0.25 * c(u) * c(v) * s;
            let got = f64::from(out[v * 8 + u]); // transposed layout
            assert!((got - want).abs() <= 0.51, "({u},{v}): {got} vs {want}");
        }
    }
}

#[test]
fn zigzag_mask_marks_non_zero_positions() {
    let mut coef = [0i16; 64];
    // Natural (row 1, column 0) is zigzag position 2; in the transposed layout it is
    // index 0 * 8 + 1.
    coef[1] = 5;
    assert_eq!(ZIGZAG[2], 8);
    assert_eq!(scalar::zigzag_mask(&coef), 1 << 2);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use crate::jpeg::x86_avx2;

    fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    proptest! {
        #[test]
        fn ycc_rows_agree(px in pixel_bytes(16 * 4), o in 0usize..6, luma_only: bool) {
            if !has_avx2() { return Ok(()); }
            let off = [[0, 1, 2], [2, 1, 0], [1, 2, 3], [3, 2, 1], [0, 2, 1], [3, 1, 0]][o];
            let (mut y0, mut b0, mut r0) = ([0f32; 16], [0f32; 16], [0f32; 16]);
            let (mut y1, mut b1, mut r1) = ([0f32; 16], [0f32; 16], [0f32; 16]);
            if luma_only {
                scalar::ycc_row(&px, off, &mut y0, &mut [], &mut []);
                x86_avx2::ycc_row(&px, off, &mut y1, &mut [], &mut []);
            } else {
                scalar::ycc_row(&px, off, &mut y0, &mut b0, &mut r0);
                x86_avx2::ycc_row(&px, off, &mut y1, &mut b1, &mut r1);
            }
            prop_assert_eq!(y0.map(f32::to_bits), y1.map(f32::to_bits));
            prop_assert_eq!(b0.map(f32::to_bits), b1.map(f32::to_bits));
            prop_assert_eq!(r0.map(f32::to_bits), r1.map(f32::to_bits));
        }

        #[test]
        fn downsampling_agrees(v in prop::collection::vec(-128f32..128.0, 256)) {
            if !has_avx2() { return Ok(()); }
            let plane: [f32; 256] = v.try_into().unwrap();
            for vertical in [false, true] {
                let (mut a, mut b) = ([0f32; 64], [0f32; 64]);
                if vertical {
                    scalar::down_2x2(&plane, &mut a);
                    x86_avx2::down_2x2(&plane, &mut b);
                } else {
                    scalar::down_2x1(&plane, &mut a);
                    x86_avx2::down_2x1(&plane, &mut b);
                }
                prop_assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
            }
        }

        #[test]
        fn fdct_quant_agrees(
            v in prop::collection::vec(prop_oneof![Just(-128f32), Just(127f32), -128f32..128.0], 64),
            q in 1u8..=100,
        ) {
            if !has_avx2() { return Ok(()); }
            let qt = quant(q);
            for div in [&qt.luma, &qt.chroma] {
                let (mut a, mut b) = ([0i16; 64], [0i16; 64]);
                let ma = scalar::fdct_quant(&v, 8, div, &mut a);
                let mb = x86_avx2::fdct_quant(&v, 8, div, &mut b);
                prop_assert_eq!(a, b);
                prop_assert_eq!(ma, mb);
                prop_assert_eq!(ma, scalar::zigzag_mask(&a));
            }
        }

        #[test]
        fn whole_mcus_agree(px in pixel_bytes(16 * 16 * 4), q in 1u8..=100, l in 0usize..4) {
            if !has_avx2() { return Ok(()); }
            let layout = [Layout::Gray, Layout::S444, Layout::S422, Layout::S420][l];
            let rows: [&[u8]; 16] = std::array::from_fn(|i| &px[i * 64..i * 64 + 64]);
            let qt = quant(q);
            let (mut a, mut b) = (McuOut::default(), McuOut::default());
            scalar::encode_mcu(layout, &rows, [2, 1, 0], &qt, &mut a);
            x86_avx2::encode_mcu(layout, &rows, [2, 1, 0], &qt, &mut b);
            let n = layout.blocks().len();
            prop_assert_eq!(&a.coef[..n], &b.coef[..n]);
            prop_assert_eq!(&a.mask[..n], &b.mask[..n]);
        }
    }

    #[test]
    fn extreme_blocks_agree() {
        if !has_avx2() {
            return;
        }
        // Flat black, flat white, and a full-swing checkerboard at every quality.
        for q in 1..=100 {
            let qt = quant(q);
            let blocks: [[f32; 64]; 3] = [
                [-128.0; 64],
                [127.0; 64],
                std::array::from_fn(|i| if (i + i / 8) % 2 == 0 { 127.0 } else { -128.0 }),
            ];
            for blk in &blocks {
                let (mut a, mut b) = ([0i16; 64], [0i16; 64]);
                let ma = scalar::fdct_quant(blk, 8, &qt.luma, &mut a);
                let mb = x86_avx2::fdct_quant(blk, 8, &qt.luma, &mut b);
                assert_eq!((a, ma), (b, mb), "quality {q}");
            }
        }
    }
}
