//! AVX2 twins of the scalar JPEG kernels (8 f32 lanes: one block row per register).
//! Only reached when [`Kernel::detect`](super::JpegKernel) found AVX2 at run time. Every
//! arithmetic step is the scalar twin's f32 operation in the same order, without FMA, so
//! the two produce identical coefficients.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::huffman::{encode_block, encode_blocks, BitWriter};
use super::scalar::{C0382, C0541, C0707, C1306, CBG, CBR, CRB, CRG, YB, YG, YR};
use super::tables::ZIGZAG_T;
use super::{Layout, McuOut, Quant};
use crate::PixelView;

/// `pshufb` indices that gather the zigzag order from the four 16-coefficient chunks
/// of a block's zero mask: `[half][chunk]`, 0x80 where a byte comes from another chunk.
const ZZ_SHUF: [[[u8; 32]; 4]; 2] = {
    let mut t = [[[0x80u8; 32]; 4]; 2];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG_T[k] as usize;
        t[k / 32][n / 16][k % 32] = (n % 16) as u8;
        k += 1;
    }
    t
};

fn check() {
    debug_assert!(super::JpegKernel::Avx2.available());
}

/// [`super::scan`] with the AVX2 MCU kernel, the Huffman coder compiled with BMI and
/// LZCNT.
pub(crate) fn scan(pixels: &PixelView<'_>, layout: Layout, q: &Quant, out: &mut Vec<u8>) {
    check();
    // SAFETY: a JpegEncoder selects the AVX2 kernel only after JpegKernel::available
    // found AVX2, BMI1, BMI2 and LZCNT on this CPU.
    unsafe { scan_avx2(pixels, layout, q, out) }
}

#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt")]
fn scan_avx2(pixels: &PixelView<'_>, layout: Layout, q: &Quant, out: &mut Vec<u8>) {
    super::scan(
        pixels,
        layout,
        q,
        out,
        |l, rows, off, q, o| encode_mcu_avx2(l, rows, off, q, o),
        |w, mcu, comps, prev| encode_blocks(w, mcu, comps, prev, block_bmi),
    );
}

/// [`encode_block`] compiled with BMI1/BMI2/LZCNT (found with AVX2 by
/// `JpegKernel::available`).
fn block_bmi(
    w: &mut BitWriter<'_>,
    coef: &[i16; 64],
    mask: u64,
    prev_dc: &mut i32,
    dc: &[u32; 256],
    ac: &[u32; 256],
) {
    check();
    // SAFETY: only reached through `scan`, i.e. after JpegKernel::available found AVX2,
    // BMI1, BMI2 and LZCNT on this CPU.
    unsafe { block_bmi_inner(w, coef, mask, prev_dc, dc, ac) }
}

#[inline(never)]
#[target_feature(enable = "bmi1,bmi2,lzcnt")]
fn block_bmi_inner(
    w: &mut BitWriter<'_>,
    coef: &[i16; 64],
    mask: u64,
    prev_dc: &mut i32,
    dc: &[u32; 256],
    ac: &[u32; 256],
) {
    encode_block(w, coef, mask, prev_dc, dc, ac);
}

/// [`super::scalar::ycc_row`] for a multiple of 8 pixels.
#[cfg(test)]
pub(crate) fn ycc_row(px: &[u8], off: [usize; 3], y: &mut [f32], cb: &mut [f32], cr: &mut [f32]) {
    check();
    let n = y.len();
    assert!(n % 8 == 0 && px.len() >= n * 4);
    assert!(cb.is_empty() || (cb.len() >= n && cr.len() >= n));
    // SAFETY: the tests call this only after is_x86_feature_detected!("avx2").
    unsafe { ycc_row_avx2(px, off, y, cb, cr) }
}

#[cfg(test)]
#[target_feature(enable = "avx2")]
fn ycc_row_avx2(px: &[u8], off: [usize; 3], y: &mut [f32], cb: &mut [f32], cr: &mut [f32]) {
    let sh = shifts(off);
    for i in 0..y.len() / 8 {
        let (vy, vb, vr) = ycc8(&px[i * 32..i * 32 + 32], &sh);
        // SAFETY: `y` (and `cb`, `cr` when not empty) hold at least 8 * (i + 1) floats
        // (asserted by the caller); storeu has no alignment requirement.
        unsafe {
            _mm256_storeu_ps(y.as_mut_ptr().add(i * 8), vy);
            if !cb.is_empty() {
                _mm256_storeu_ps(cb.as_mut_ptr().add(i * 8), vb);
                _mm256_storeu_ps(cr.as_mut_ptr().add(i * 8), vr);
            }
        }
    }
}

#[target_feature(enable = "avx2")]
fn shifts(off: [usize; 3]) -> [__m128i; 3] {
    off.map(|o| _mm_cvtsi32_si128((o * 8) as i32))
}

/// Y, Cb, Cr (level-shifted) of the 8 pixels in `px` (32 bytes).
#[inline]
#[target_feature(enable = "avx2")]
fn ycc8(px: &[u8], sh: &[__m128i; 3]) -> (__m256, __m256, __m256) {
    assert!(px.len() >= 32);
    // SAFETY: `px` holds at least 32 readable bytes; loadu has no alignment requirement.
    let p = unsafe { _mm256_loadu_si256(px.as_ptr().cast()) };
    let ff = _mm256_set1_epi32(0xff);
    let ch = |s: __m128i| _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(p, s), ff));
    let (r, g, b) = (ch(sh[0]), ch(sh[1]), ch(sh[2]));
    let m = |a: __m256, c: f32| _mm256_mul_ps(a, _mm256_set1_ps(c));
    let y = _mm256_sub_ps(
        _mm256_add_ps(_mm256_add_ps(m(r, YR), m(g, YG)), m(b, YB)),
        _mm256_set1_ps(128.0),
    );
    let cb = _mm256_add_ps(_mm256_add_ps(m(r, CBR), m(g, CBG)), m(b, 0.5));
    let cr = _mm256_add_ps(_mm256_add_ps(m(r, 0.5), m(g, CRG)), m(b, CRB));
    (y, cb, cr)
}

/// Pairs of lanes of `lo` (pixels 0..8) and `hi` (8..16) summed, in pixel order.
#[inline]
#[target_feature(enable = "avx2")]
fn pair_sums(lo: __m256, hi: __m256) -> __m256 {
    let h = _mm256_hadd_ps(lo, hi);
    _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(h)))
}

#[cfg(test)]
/// [`super::scalar::down_2x2`].
pub(crate) fn down_2x2(plane: &[f32; 256], out: &mut [f32; 64]) {
    check();
    // SAFETY: as in `ycc_row`.
    unsafe { down_avx2(plane, out, true) }
}

#[cfg(test)]
/// [`super::scalar::down_2x1`].
pub(crate) fn down_2x1(plane: &[f32; 256], out: &mut [f32; 64]) {
    check();
    // SAFETY: as in `ycc_row`.
    unsafe { down_avx2(plane, out, false) }
}

#[cfg(test)]
#[target_feature(enable = "avx2")]
fn down_avx2(plane: &[f32; 256], out: &mut [f32; 64], vertical: bool) {
    let ld = |i: usize| {
        // SAFETY: callers pass i <= 248, so 8 floats from `i` lie inside the 256.
        unsafe { _mm256_loadu_ps(plane.as_ptr().add(i)) }
    };
    let mut lo = [_mm256_setzero_ps(); 16];
    let mut hi = [_mm256_setzero_ps(); 16];
    for r in 0..16 {
        lo[r] = ld(r * 16);
        hi[r] = ld(r * 16 + 8);
    }
    let rows = if vertical {
        down_2x2_regs(&lo, &hi)
    } else {
        down_2x1_regs(&lo, &hi)
    };
    for (r, v) in rows.iter().enumerate() {
        // SAFETY: 8 floats at r * 8 <= 56 lie inside the 64.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(r * 8), *v) };
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn down_2x2_regs(lo: &[__m256; 16], hi: &[__m256; 16]) -> [__m256; 8] {
    let q = _mm256_set1_ps(0.25);
    std::array::from_fn(|i| {
        let l = _mm256_add_ps(lo[2 * i], lo[2 * i + 1]);
        let h = _mm256_add_ps(hi[2 * i], hi[2 * i + 1]);
        _mm256_mul_ps(pair_sums(l, h), q)
    })
}

#[inline]
#[target_feature(enable = "avx2")]
fn down_2x1_regs(lo: &[__m256; 16], hi: &[__m256; 16]) -> [__m256; 8] {
    let half = _mm256_set1_ps(0.5);
    std::array::from_fn(|i| _mm256_mul_ps(pair_sums(lo[i], hi[i]), half))
}

/// The 8-point AAN DCT across eight registers (one per input row), lane-wise.
#[inline]
#[target_feature(enable = "avx2")]
fn dct8(d: &mut [__m256; 8]) {
    let add = |a, b| _mm256_add_ps(a, b);
    let sub = |a, b| _mm256_sub_ps(a, b);
    let mul = |a, c: f32| _mm256_mul_ps(a, _mm256_set1_ps(c));
    let tmp0 = add(d[0], d[7]);
    let tmp7 = sub(d[0], d[7]);
    let tmp1 = add(d[1], d[6]);
    let tmp6 = sub(d[1], d[6]);
    let tmp2 = add(d[2], d[5]);
    let tmp5 = sub(d[2], d[5]);
    let tmp3 = add(d[3], d[4]);
    let tmp4 = sub(d[3], d[4]);
    let tmp10 = add(tmp0, tmp3);
    let tmp13 = sub(tmp0, tmp3);
    let tmp11 = add(tmp1, tmp2);
    let tmp12 = sub(tmp1, tmp2);
    d[0] = add(tmp10, tmp11);
    d[4] = sub(tmp10, tmp11);
    let z1 = mul(add(tmp12, tmp13), C0707);
    d[2] = add(tmp13, z1);
    d[6] = sub(tmp13, z1);
    let tmp10 = add(tmp4, tmp5);
    let tmp11 = add(tmp5, tmp6);
    let tmp12 = add(tmp6, tmp7);
    let z5 = mul(sub(tmp10, tmp12), C0382);
    let z2 = add(mul(tmp10, C0541), z5);
    let z4 = add(mul(tmp12, C1306), z5);
    let z3 = mul(tmp11, C0707);
    let z11 = add(tmp7, z3);
    let z13 = sub(tmp7, z3);
    d[5] = add(z13, z2);
    d[3] = sub(z13, z2);
    d[1] = add(z11, z4);
    d[7] = sub(z11, z4);
}

#[inline]
#[target_feature(enable = "avx2")]
fn transpose(r: &mut [__m256; 8]) {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    r[0] = _mm256_permute2f128_ps::<0x20>(u0, u4);
    r[1] = _mm256_permute2f128_ps::<0x20>(u1, u5);
    r[2] = _mm256_permute2f128_ps::<0x20>(u2, u6);
    r[3] = _mm256_permute2f128_ps::<0x20>(u3, u7);
    r[4] = _mm256_permute2f128_ps::<0x31>(u0, u4);
    r[5] = _mm256_permute2f128_ps::<0x31>(u1, u5);
    r[6] = _mm256_permute2f128_ps::<0x31>(u2, u6);
    r[7] = _mm256_permute2f128_ps::<0x31>(u3, u7);
}

#[cfg(test)]
/// [`super::scalar::fdct_quant`].
pub(crate) fn fdct_quant(src: &[f32], stride: usize, div: &[f32; 64], out: &mut [i16; 64]) -> u64 {
    check();
    assert!(src.len() >= 7 * stride + 8);
    // SAFETY: as in `ycc_row`.
    unsafe { fdct_quant_avx2(src, stride, div, out) }
}

#[cfg(test)]
#[target_feature(enable = "avx2")]
fn fdct_quant_avx2(src: &[f32], stride: usize, div: &[f32; 64], out: &mut [i16; 64]) -> u64 {
    let rows: [__m256; 8] = std::array::from_fn(|i| {
        // SAFETY: row i's 8 floats end at 7 * stride + 8 <= src.len() (asserted by the
        // caller); loadu has no alignment requirement.
        unsafe { _mm256_loadu_ps(src.as_ptr().add(i * stride)) }
    });
    fdct_quant_regs(rows, div, out)
}

/// The forward DCT, quantisation and zigzag mask of the block whose rows are `rows`.
#[inline]
#[target_feature(enable = "avx2")]
fn fdct_quant_regs(mut rows: [__m256; 8], div: &[f32; 64], out: &mut [i16; 64]) -> u64 {
    dct8(&mut rows);
    transpose(&mut rows);
    dct8(&mut rows);
    // rows[h] lane v: horizontal frequency h, vertical v (the transposed layout).
    let q: [__m256i; 8] = std::array::from_fn(|h| {
        // SAFETY: 8 floats at h * 8 <= 56 lie inside the 64 of `div`.
        let d = unsafe { _mm256_loadu_ps(div.as_ptr().add(h * 8)) };
        // Rounds half to even (the default MXCSR mode), like the scalar `round_even`.
        _mm256_cvtps_epi32(_mm256_mul_ps(rows[h], d))
    });
    let zero = _mm256_setzero_si256();
    let mut z = [zero; 4];
    for i in 0..4 {
        let p = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi32(q[2 * i], q[2 * i + 1]));
        // SAFETY: 16 i16 at i * 16 <= 48 lie inside the 64 of `out`.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i * 16).cast(), p) };
        z[i] = _mm256_cmpeq_epi16(p, zero);
    }
    // Zero flags as bytes, coefficient order: chunks of 16 in zb0 (0..32), zb1 (32..64).
    let zb0 = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(z[0], z[1]));
    let zb1 = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(z[2], z[3]));
    let chunks = [
        _mm256_permute2x128_si256::<0x00>(zb0, zb0),
        _mm256_permute2x128_si256::<0x11>(zb0, zb0),
        _mm256_permute2x128_si256::<0x00>(zb1, zb1),
        _mm256_permute2x128_si256::<0x11>(zb1, zb1),
    ];
    let mut mask = 0u64;
    for (half, idx) in ZZ_SHUF.iter().enumerate() {
        let mut acc = zero;
        for (c, ix) in chunks.iter().zip(idx) {
            // SAFETY: `ix` is 32 readable bytes; loadu has no alignment requirement.
            let ix = unsafe { _mm256_loadu_si256(ix.as_ptr().cast()) };
            acc = _mm256_or_si256(acc, _mm256_shuffle_epi8(*c, ix));
        }
        mask |= u64::from(_mm256_movemask_epi8(acc) as u32) << (32 * half);
    }
    !mask
}

/// [`super::scalar::encode_mcu`].
#[cfg(test)]
pub(crate) fn encode_mcu(
    layout: Layout,
    rows: &[&[u8]; 16],
    off: [usize; 3],
    q: &Quant,
    out: &mut McuOut,
) {
    check();
    // SAFETY: as in `ycc_row`.
    unsafe { encode_mcu_avx2(layout, rows, off, q, out) }
}

#[target_feature(enable = "avx2")]
fn encode_mcu_avx2(
    layout: Layout,
    rows: &[&[u8]; 16],
    off: [usize; 3],
    q: &Quant,
    out: &mut McuOut,
) {
    let sh = shifts(off);
    let zero = _mm256_setzero_ps();
    match layout {
        Layout::Gray | Layout::S444 => {
            let mut y = [zero; 8];
            let mut cb = [zero; 8];
            let mut cr = [zero; 8];
            for r in 0..8 {
                (y[r], cb[r], cr[r]) = ycc8(&rows[r][..32], &sh);
            }
            out.mask[0] = fdct_quant_regs(y, &q.luma, &mut out.coef[0]);
            if layout == Layout::S444 {
                out.mask[1] = fdct_quant_regs(cb, &q.chroma, &mut out.coef[1]);
                out.mask[2] = fdct_quant_regs(cr, &q.chroma, &mut out.coef[2]);
            }
        }
        Layout::S422 | Layout::S420 => {
            let h = layout.height();
            let mut y = [[zero; 16]; 2];
            let mut cb = [[zero; 16]; 2];
            let mut cr = [[zero; 16]; 2];
            for r in 0..h {
                let row = &rows[r][..64];
                (y[0][r], cb[0][r], cr[0][r]) = ycc8(&row[..32], &sh);
                (y[1][r], cb[1][r], cr[1][r]) = ycc8(&row[32..], &sh);
            }
            let nb = h / 4; // 2 or 4 luma blocks
            for b in 0..nb {
                let (half, top) = (b % 2, (b / 2) * 8);
                let blk: [__m256; 8] = std::array::from_fn(|i| y[half][top + i]);
                out.mask[b] = fdct_quant_regs(blk, &q.luma, &mut out.coef[b]);
            }
            for (i, c) in [&cb, &cr].into_iter().enumerate() {
                let blk = if layout == Layout::S420 {
                    down_2x2_regs(&c[0], &c[1])
                } else {
                    down_2x1_regs(&c[0], &c[1])
                };
                out.mask[nb + i] = fdct_quant_regs(blk, &q.chroma, &mut out.coef[nb + i]);
            }
        }
    }
}
