//! Scalar twins of the SIMD kernels: the same arithmetic, one pixel at a time. The SIMD
//! kernels call these for the pixels left over after their last full block, and the
//! differential tests compare every kernel against them.

use super::{Pack16, Shuffle32};

/// One pixel of [`Shuffle32`]: `m` is the pixel's four bytes loaded little-endian.
pub(crate) fn shuffle_one(k: &Shuffle32, m: u32) -> u32 {
    (0..3).fold(0, |acc, c| {
        acc | ((m >> k.src_pos[c]) & 0xff) << k.dst_pos[c]
    })
}

/// One pixel of [`Pack16`]: the 16-bit destination value.
pub(crate) fn pack_one(k: &Pack16, m: u32) -> u16 {
    (0..3).fold(0u32, |acc, c| {
        let v = (m >> k.src_pos[c]) & 0xff;
        acc | ((v * u32::from(k.dst_max[c]) + 127) / 255) << k.dst_shift[c]
    }) as u16
}

/// Whole-byte 32-bit to 32-bit shuffle over packed pixels.
pub(crate) fn shuffle32(k: &Shuffle32, src: &[u8], dst: &mut [u8]) {
    for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(4)) {
        let m = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        d.copy_from_slice(&shuffle_one(k, m).to_le_bytes());
    }
}

/// 32-bit whole-byte channels to 16-bit pixels.
pub(crate) fn pack16(k: &Pack16, src: &[u8], dst: &mut [u8]) {
    for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(2)) {
        let m = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let v = pack_one(k, m);
        d.copy_from_slice(&if k.dst_big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
}
