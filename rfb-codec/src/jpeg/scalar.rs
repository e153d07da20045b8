//! Scalar twins of the JPEG kernels: colour conversion, chroma downsampling, forward
//! DCT with quantisation, and the zigzag non-zero mask. The AVX2 kernels perform the same
//! f32 operations in the same order (no FMA), so both produce identical coefficients.

use super::tables::ZIGZAG_T;
use super::{Layout, McuOut, Quant};

// BT.601 full-range RGB -> YCbCr (JFIF), with the level shift folded in: Y - 128,
// Cb - 128 and Cr - 128 are what the DCT consumes.
pub(crate) const YR: f32 = 0.299;
pub(crate) const YG: f32 = 0.587;
pub(crate) const YB: f32 = 0.114;
pub(crate) const CBR: f32 = -0.168_735_9;
pub(crate) const CBG: f32 = -0.331_264_1;
pub(crate) const CRG: f32 = -0.418_687_6;
pub(crate) const CRB: f32 = -0.081_312_4;
// AAN constants.
pub(crate) const C0707: f32 = 0.707_106_77;
pub(crate) const C0382: f32 = 0.382_683_43;
pub(crate) const C0541: f32 = 0.541_196_1;
pub(crate) const C1306: f32 = 1.306_563;

/// Converts `y.len()` pixels of `px` (4 bytes each, red/green/blue at byte offsets
/// `off`) to level-shifted Y, Cb and Cr (`cb`/`cr` may be empty for luma only).
pub(crate) fn ycc_row(px: &[u8], off: [usize; 3], y: &mut [f32], cb: &mut [f32], cr: &mut [f32]) {
    let chroma = !cb.is_empty();
    for (i, p) in px.chunks_exact(4).take(y.len()).enumerate() {
        let r = f32::from(p[off[0]]);
        let g = f32::from(p[off[1]]);
        let b = f32::from(p[off[2]]);
        y[i] = ((r * YR + g * YG) + b * YB) - 128.0;
        if chroma {
            cb[i] = (r * CBR + g * CBG) + b * 0.5;
            cr[i] = (r * 0.5 + g * CRG) + b * CRB;
        }
    }
}

/// Averages each 2x2 square of a 16x16 plane (row stride 16) into an 8x8 block.
pub(crate) fn down_2x2(plane: &[f32; 256], out: &mut [f32; 64]) {
    for oy in 0..8 {
        let (r0, r1) = (
            &plane[oy * 32..oy * 32 + 16],
            &plane[oy * 32 + 16..oy * 32 + 32],
        );
        let mut s = [0f32; 16];
        for x in 0..16 {
            s[x] = r0[x] + r1[x];
        }
        for ox in 0..8 {
            out[oy * 8 + ox] = (s[2 * ox] + s[2 * ox + 1]) * 0.25;
        }
    }
}

/// Averages each horizontal pair of a 16x8 plane (row stride 16) into an 8x8 block.
pub(crate) fn down_2x1(plane: &[f32; 256], out: &mut [f32; 64]) {
    for oy in 0..8 {
        let r = &plane[oy * 16..oy * 16 + 16];
        for ox in 0..8 {
            out[oy * 8 + ox] = (r[2 * ox] + r[2 * ox + 1]) * 0.5;
        }
    }
}

/// Eight f32 lanes: one block row. Plain element-wise arithmetic (which the compiler
/// may vectorise without changing any result), so the DCT below performs exactly the
/// AVX2 kernel's operations lane for lane.
#[derive(Debug, Clone, Copy)]
struct V8([f32; 8]);

impl std::ops::Add for V8 {
    type Output = V8;
    #[inline(always)]
    fn add(self, o: V8) -> V8 {
        V8(std::array::from_fn(|i| self.0[i] + o.0[i]))
    }
}

impl std::ops::Sub for V8 {
    type Output = V8;
    #[inline(always)]
    fn sub(self, o: V8) -> V8 {
        V8(std::array::from_fn(|i| self.0[i] - o.0[i]))
    }
}

impl std::ops::Mul<f32> for V8 {
    type Output = V8;
    #[inline(always)]
    fn mul(self, c: f32) -> V8 {
        V8(self.0.map(|v| v * c))
    }
}

/// The 8-point AAN forward DCT (unscaled outputs) across eight rows, lane-wise, in place.
#[inline(always)]
fn dct8(d: &mut [V8; 8]) {
    let tmp0 = d[0] + d[7];
    let tmp7 = d[0] - d[7];
    let tmp1 = d[1] + d[6];
    let tmp6 = d[1] - d[6];
    let tmp2 = d[2] + d[5];
    let tmp5 = d[2] - d[5];
    let tmp3 = d[3] + d[4];
    let tmp4 = d[3] - d[4];
    // Even part.
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;
    d[0] = tmp10 + tmp11;
    d[4] = tmp10 - tmp11;
    let z1 = (tmp12 + tmp13) * C0707;
    d[2] = tmp13 + z1;
    d[6] = tmp13 - z1;
    // Odd part.
    let tmp10 = tmp4 + tmp5;
    let tmp11 = tmp5 + tmp6;
    let tmp12 = tmp6 + tmp7;
    let z5 = (tmp10 - tmp12) * C0382;
    let z2 = tmp10 * C0541 + z5;
    let z4 = tmp12 * C1306 + z5;
    let z3 = tmp11 * C0707;
    let z11 = tmp7 + z3;
    let z13 = tmp7 - z3;
    d[5] = z13 + z2;
    d[3] = z13 - z2;
    d[1] = z11 + z4;
    d[7] = z11 - z4;
}

/// Forward DCT of the 8x8 block at `src` (row stride `stride`), quantised with `div`
/// (transposed layout, see [`super::tables::divisors`]) and rounded half to even, into
/// `out` (transposed layout: `horizontal * 8 + vertical` frequency). Returns the mask
/// of non-zero coefficients in zigzag order (bit k = zigzag position k).
pub(crate) fn fdct_quant(src: &[f32], stride: usize, div: &[f32; 64], out: &mut [i16; 64]) -> u64 {
    // Pass 1: down each column (lane x), giving rows of vertical frequencies.
    let mut r: [V8; 8] = std::array::from_fn(|i| V8(std::array::from_fn(|x| src[i * stride + x])));
    dct8(&mut r);
    // Transpose: r[x] lane u = vertical frequency u of column x.
    let t: [V8; 8] = std::array::from_fn(|x| V8(std::array::from_fn(|u| r[u].0[x])));
    r = t;
    // Pass 2: along the rows, giving r[h] lane u = (horizontal h, vertical u).
    dct8(&mut r);
    for (h, row) in r.iter().enumerate() {
        for (u, &v) in row.0.iter().enumerate() {
            out[h * 8 + u] = round_even(v * div[h * 8 + u]);
        }
    }
    zigzag_mask(out)
}

/// 1.5 * 2^23: adding it leaves a sum whose unit in the last place is 1.
const ROUNDER: f32 = 12_582_912.0;

/// `x` rounded half to even, as the AVX2 kernel's `cvtps_epi32` does, for |x| < 2^22
/// (quantised coefficients of 8-bit samples stay below 2^11). Adding 1.5 * 2^23 rounds
/// to an integer in the current (nearest-even) mode, with the parity of the result
/// unchanged because the constant is even; subtracting it again is exact. This avoids
/// a `rintf` call on x86-64 without SSE4.1.
#[inline(always)]
fn round_even(x: f32) -> i16 {
    ((x + ROUNDER) - ROUNDER) as i16
}

/// The zigzag-order non-zero mask of a block in the transposed layout.
pub(crate) fn zigzag_mask(coef: &[i16; 64]) -> u64 {
    let mut m = 0u64;
    for (k, &t) in ZIGZAG_T.iter().enumerate() {
        m |= u64::from(coef[usize::from(t)] != 0) << k;
    }
    m
}

/// Converts, transforms and quantises one MCU. `rows[i]` holds pixel row `i` of the MCU
/// (at least `layout.width() * 4` bytes, 4-byte pixels with channels at `off`).
pub(crate) fn encode_mcu(
    layout: Layout,
    rows: &[&[u8]; 16],
    off: [usize; 3],
    q: &Quant,
    out: &mut McuOut,
) {
    let (w, h) = (layout.width(), layout.height());
    let mut y = [0f32; 256];
    let mut cb = [0f32; 256];
    let mut cr = [0f32; 256];
    let gray = layout == Layout::Gray;
    for r in 0..h {
        let (cbr, crr): (&mut [f32], &mut [f32]) = if gray {
            (&mut [], &mut [])
        } else {
            (&mut cb[r * w..r * w + w], &mut cr[r * w..r * w + w])
        };
        ycc_row(&rows[r][..w * 4], off, &mut y[r * w..r * w + w], cbr, crr);
    }
    match layout {
        Layout::Gray => {
            out.mask[0] = fdct_quant(&y, 8, &q.luma, &mut out.coef[0]);
        }
        Layout::S444 => {
            out.mask[0] = fdct_quant(&y, 8, &q.luma, &mut out.coef[0]);
            out.mask[1] = fdct_quant(&cb, 8, &q.chroma, &mut out.coef[1]);
            out.mask[2] = fdct_quant(&cr, 8, &q.chroma, &mut out.coef[2]);
        }
        Layout::S422 | Layout::S420 => {
            let nb = if layout == Layout::S420 { 4 } else { 2 };
            for b in 0..nb {
                let at = (b / 2) * 128 + (b % 2) * 8;
                out.mask[b] = fdct_quant(&y[at..], 16, &q.luma, &mut out.coef[b]);
            }
            let mut blk = [0f32; 64];
            for (i, plane) in [&cb, &cr].into_iter().enumerate() {
                if layout == Layout::S420 {
                    down_2x2(plane, &mut blk);
                } else {
                    down_2x1(plane, &mut blk);
                }
                out.mask[nb + i] = fdct_quant(&blk, 8, &q.chroma, &mut out.coef[nb + i]);
            }
        }
    }
}
