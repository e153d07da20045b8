//! Fixed tables of baseline JPEG: the zigzag order, the example quantisation tables of
//! ITU-T T.81 Annex K.1 (scaled by the IJG quality formula) and the example Huffman
//! tables of Annex K.3, turned into (code, length) pairs at compile time.

/// Natural (row-major) index of the coefficient at each zigzag position (T.81 figure 5).
pub(crate) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Index, in the kernels' transposed coefficient layout (`horizontal * 8 + vertical`
/// frequency), of the coefficient at each zigzag position.
pub(crate) const ZIGZAG_T: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG[k];
        t[k] = (n % 8) * 8 + n / 8;
        k += 1;
    }
    t
};

/// Annex K table K.1: luminance quantisation table, natural order.
pub(crate) const LUMA_QUANT: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99,
];

/// Annex K table K.2: chrominance quantisation table, natural order.
pub(crate) const CHROMA_QUANT: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99,
];

/// `base` scaled for `quality` (1..=100) by the IJG formula (what libjpeg's
/// `jpeg_set_quality` does with `force_baseline`): scale = 5000 / q below 50, else
/// 200 - 2q; entry = (base * scale + 50) / 100, clamped to 1..=255.
pub(crate) fn scaled_quant(base: &[u8; 64], quality: u8) -> [u8; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    base.map(|b| ((u32::from(b) * scale + 50) / 100).clamp(1, 255) as u8)
}

/// The AAN DCT's output scale of frequency `k` (cos(k pi / 16) * sqrt 2, 1 for k = 0).
fn aan_scale(k: usize) -> f64 {
    if k == 0 {
        1.0
    } else {
        (k as f64 * std::f64::consts::PI / 16.0).cos() * std::f64::consts::SQRT_2
    }
}

/// Multipliers that turn the unscaled AAN DCT output into quantised coefficients, in
/// the kernels' transposed layout: entry `h * 8 + v` is
/// `1 / (q[v][h] * aan(v) * aan(h) * 8)`, computed in f64 and rounded once to f32.
pub(crate) fn divisors(quant: &[u8; 64]) -> [f32; 64] {
    let mut d = [0f32; 64];
    for h in 0..8 {
        for v in 0..8 {
            let q = f64::from(quant[v * 8 + h]);
            d[h * 8 + v] = (1.0 / (q * aan_scale(v) * aan_scale(h) * 8.0)) as f32;
        }
    }
    d
}

/// Annex K.3.3.1, table K.3: luminance DC code lengths (count of codes of length 1..=16).
pub(crate) const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
/// Luminance DC symbols (categories), in code order.
pub(crate) const DC_LUMA_VALS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/// Table K.4: chrominance DC code lengths.
pub(crate) const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
/// Chrominance DC symbols.
pub(crate) const DC_CHROMA_VALS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// Table K.5: luminance AC code lengths.
pub(crate) const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
/// Luminance AC symbols (run << 4 | size), in code order.
pub(crate) const AC_LUMA_VALS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// Table K.6: chrominance AC code lengths.
pub(crate) const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
/// Chrominance AC symbols, in code order.
pub(crate) const AC_CHROMA_VALS: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// Canonical Huffman codes (T.81 Annex C) for `bits`/`vals`, per symbol:
/// `code << 8 | length`, 0 for symbols without a code.
const fn codes(bits: &[u8; 16], vals: &[u8]) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut code = 0u32;
    let mut k = 0;
    let mut len = 1;
    while len <= 16 {
        let mut n = 0;
        while n < bits[len - 1] {
            table[vals[k] as usize] = (code << 8) | len as u32;
            code += 1;
            k += 1;
            n += 1;
        }
        code <<= 1;
        len += 1;
    }
    table
}

/// Luminance DC codes by category.
pub(crate) const DC_LUMA: [u32; 256] = codes(&DC_LUMA_BITS, &DC_LUMA_VALS);
/// Chrominance DC codes by category.
pub(crate) const DC_CHROMA: [u32; 256] = codes(&DC_CHROMA_BITS, &DC_CHROMA_VALS);
/// Luminance AC codes by symbol.
pub(crate) const AC_LUMA: [u32; 256] = codes(&AC_LUMA_BITS, &AC_LUMA_VALS);
/// Chrominance AC codes by symbol.
pub(crate) const AC_CHROMA: [u32; 256] = codes(&AC_CHROMA_BITS, &AC_CHROMA_VALS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_is_a_permutation_walking_antidiagonals() {
        let mut seen = [false; 64];
        for (k, &n) in ZIGZAG.iter().enumerate() {
            assert!(!seen[usize::from(n)]);
            seen[usize::from(n)] = true;
            if k > 0 {
                let (r0, c0) = (ZIGZAG[k - 1] / 8, ZIGZAG[k - 1] % 8);
                let (r1, c1) = (n / 8, n % 8);
                // Each step moves to a neighbouring cell (8-connected).
                assert!(r0.abs_diff(r1) <= 1 && c0.abs_diff(c1) <= 1, "step {k}");
            }
        }
    }

    #[test]
    fn symbol_counts_match_the_code_length_counts() {
        let sum = |b: &[u8; 16]| b.iter().map(|&x| usize::from(x)).sum::<usize>();
        assert_eq!(sum(&DC_LUMA_BITS), DC_LUMA_VALS.len());
        assert_eq!(sum(&DC_CHROMA_BITS), DC_CHROMA_VALS.len());
        assert_eq!(sum(&AC_LUMA_BITS), AC_LUMA_VALS.len());
        assert_eq!(sum(&AC_CHROMA_BITS), AC_CHROMA_VALS.len());
        // Every AC symbol a baseline encoder can emit has a code.
        for t in [AC_LUMA, AC_CHROMA] {
            for run in 0..16u32 {
                for size in 1..=10u32 {
                    assert_ne!(t[(run << 4 | size) as usize] & 0xff, 0);
                }
            }
            assert_ne!(t[0x00] & 0xff, 0);
            assert_ne!(t[0xf0] & 0xff, 0);
        }
    }

    #[test]
    fn quality_scaling_follows_the_ijg_formula() {
        // Quality 50 is the table itself; 100 is all ones; quality 1 clamps at 255.
        assert_eq!(scaled_quant(&LUMA_QUANT, 50), LUMA_QUANT);
        assert_eq!(scaled_quant(&LUMA_QUANT, 100), [1; 64]);
        assert_eq!(scaled_quant(&CHROMA_QUANT, 1)[63], 255);
        // Quality 92 (Tight level 8): scale 16, so 16 -> (16 * 16 + 50) / 100 = 3.
        assert_eq!(scaled_quant(&LUMA_QUANT, 92)[0], 3);
        // Quality 75: scale 50, so 11 -> (550 + 50) / 100 = 6.
        assert_eq!(scaled_quant(&LUMA_QUANT, 75)[1], 6);
    }
}
