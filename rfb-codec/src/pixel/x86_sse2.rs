//! SSE2 kernels (x86-64 baseline): 4 pixels per step for the shuffle, 8 for the 16-bit
//! packing. Leftover pixels go to the scalar twins.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{scalar, Pack16, Shuffle32};

pub(crate) fn shuffle32(k: &Shuffle32, src: &[u8], dst: &mut [u8]) {
    let blocks = (src.len() / 4).min(dst.len() / 4) / 4;
    let (s, st) = src.split_at(blocks * 16);
    let (d, dt) = dst.split_at_mut(blocks * 16);
    // SAFETY: SSE2 is part of the x86-64 baseline, so the target feature is present.
    unsafe { shuffle32_blocks(k, s, d) };
    scalar::shuffle32(k, st, dt);
}

#[target_feature(enable = "sse2")]
fn shuffle32_blocks(k: &Shuffle32, src: &[u8], dst: &mut [u8]) {
    let ff = _mm_set1_epi32(0xff);
    let sp = k.src_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    let dp = k.dst_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    for (s, d) in src.chunks_exact(16).zip(dst.chunks_exact_mut(16)) {
        // SAFETY: `s` is 16 readable bytes; loadu has no alignment requirement.
        let m = unsafe { _mm_loadu_si128(s.as_ptr().cast()) };
        let mut acc = _mm_setzero_si128();
        for c in 0..3 {
            let ch = _mm_and_si128(_mm_srl_epi32(m, sp[c]), ff);
            acc = _mm_or_si128(acc, _mm_sll_epi32(ch, dp[c]));
        }
        // SAFETY: `d` is 16 writable bytes; storeu has no alignment requirement.
        unsafe { _mm_storeu_si128(d.as_mut_ptr().cast(), acc) };
    }
}

pub(crate) fn pack16(k: &Pack16, src: &[u8], dst: &mut [u8]) {
    let blocks = (src.len() / 4).min(dst.len() / 2) / 8;
    let (s, st) = src.split_at(blocks * 32);
    let (d, dt) = dst.split_at_mut(blocks * 16);
    // SAFETY: SSE2 is part of the x86-64 baseline, so the target feature is present.
    unsafe { pack16_blocks(k, s, d) };
    scalar::pack16(k, st, dt);
}

#[target_feature(enable = "sse2")]
fn pack16_blocks(k: &Pack16, src: &[u8], dst: &mut [u8]) {
    let ff = _mm_set1_epi32(0xff);
    let one = _mm_set1_epi16(1);
    let half = _mm_set1_epi16(127);
    let sp = k.src_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    let ds = k.dst_shift.map(|p| _mm_cvtsi32_si128(p as i32));
    let max = k.dst_max.map(|m| _mm_set1_epi16(m as i16));
    for (s, d) in src.chunks_exact(32).zip(dst.chunks_exact_mut(16)) {
        // SAFETY: `s` is 32 readable bytes; both loads are unaligned loads inside it.
        let (a, b) = unsafe {
            (
                _mm_loadu_si128(s.as_ptr().cast()),
                _mm_loadu_si128(s.as_ptr().add(16).cast()),
            )
        };
        let mut acc = _mm_setzero_si128();
        for c in 0..3 {
            let ca = _mm_and_si128(_mm_srl_epi32(a, sp[c]), ff);
            let cb = _mm_and_si128(_mm_srl_epi32(b, sp[c]), ff);
            // Values are 0..=255, so the signed saturating pack is exact.
            let v = _mm_packs_epi32(ca, cb);
            // x = v * max + 127 <= 65152; x / 255 == (x + 1 + (x >> 8)) >> 8 there.
            let x = _mm_add_epi16(_mm_mullo_epi16(v, max[c]), half);
            let q = _mm_srli_epi16(
                _mm_add_epi16(_mm_add_epi16(x, one), _mm_srli_epi16(x, 8)),
                8,
            );
            acc = _mm_or_si128(acc, _mm_sll_epi16(q, ds[c]));
        }
        if k.dst_big_endian {
            acc = _mm_or_si128(_mm_slli_epi16(acc, 8), _mm_srli_epi16(acc, 8));
        }
        // SAFETY: `d` is 16 writable bytes; storeu has no alignment requirement.
        unsafe { _mm_storeu_si128(d.as_mut_ptr().cast(), acc) };
    }
}
