//! AVX2 kernels: 8 pixels per step for the shuffle, 16 for the 16-bit packing. Only
//! reached when [`Isa::detect`](super::Isa::detect) found AVX2 at run time. Leftover
//! pixels go to the scalar twins.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{scalar, Pack16, Shuffle32};

pub(crate) fn shuffle32(k: &Shuffle32, src: &[u8], dst: &mut [u8]) {
    let blocks = (src.len() / 4).min(dst.len() / 4) / 8;
    let (s, st) = src.split_at(blocks * 32);
    let (d, dt) = dst.split_at_mut(blocks * 32);
    debug_assert!(std::arch::is_x86_feature_detected!("avx2"));
    // SAFETY: a Translator selects Isa::Avx2 only when Isa::available() lists it, i.e.
    // after is_x86_feature_detected!("avx2") returned true on this CPU.
    unsafe { shuffle32_blocks(k, s, d) };
    scalar::shuffle32(k, st, dt);
}

#[target_feature(enable = "avx2")]
fn shuffle32_blocks(k: &Shuffle32, src: &[u8], dst: &mut [u8]) {
    let ff = _mm256_set1_epi32(0xff);
    let sp = k.src_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    let dp = k.dst_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    for (s, d) in src.chunks_exact(32).zip(dst.chunks_exact_mut(32)) {
        // SAFETY: `s` is 32 readable bytes; loadu has no alignment requirement.
        let m = unsafe { _mm256_loadu_si256(s.as_ptr().cast()) };
        let mut acc = _mm256_setzero_si256();
        for c in 0..3 {
            let ch = _mm256_and_si256(_mm256_srl_epi32(m, sp[c]), ff);
            acc = _mm256_or_si256(acc, _mm256_sll_epi32(ch, dp[c]));
        }
        // SAFETY: `d` is 32 writable bytes; storeu has no alignment requirement.
        unsafe { _mm256_storeu_si256(d.as_mut_ptr().cast(), acc) };
    }
}

pub(crate) fn pack16(k: &Pack16, src: &[u8], dst: &mut [u8]) {
    let blocks = (src.len() / 4).min(dst.len() / 2) / 16;
    let (s, st) = src.split_at(blocks * 64);
    let (d, dt) = dst.split_at_mut(blocks * 32);
    debug_assert!(std::arch::is_x86_feature_detected!("avx2"));
    // SAFETY: a Translator selects Isa::Avx2 only when Isa::available() lists it, i.e.
    // after is_x86_feature_detected!("avx2") returned true on this CPU.
    unsafe { pack16_blocks(k, s, d) };
    scalar::pack16(k, st, dt);
}

#[target_feature(enable = "avx2")]
fn pack16_blocks(k: &Pack16, src: &[u8], dst: &mut [u8]) {
    let ff = _mm256_set1_epi32(0xff);
    let one = _mm256_set1_epi16(1);
    let half = _mm256_set1_epi16(127);
    let sp = k.src_pos.map(|p| _mm_cvtsi32_si128(p as i32));
    let ds = k.dst_shift.map(|p| _mm_cvtsi32_si128(p as i32));
    let max = k.dst_max.map(|m| _mm256_set1_epi16(m as i16));
    for (s, d) in src.chunks_exact(64).zip(dst.chunks_exact_mut(32)) {
        // SAFETY: `s` is 64 readable bytes; both loads are unaligned loads inside it.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(s.as_ptr().cast()),
                _mm256_loadu_si256(s.as_ptr().add(32).cast()),
            )
        };
        let mut acc = _mm256_setzero_si256();
        for c in 0..3 {
            let ca = _mm256_and_si256(_mm256_srl_epi32(a, sp[c]), ff);
            let cb = _mm256_and_si256(_mm256_srl_epi32(b, sp[c]), ff);
            // Values are 0..=255, so the signed saturating pack is exact. It packs per
            // 128-bit lane: qwords come out as a0-3, b0-3, a4-7, b4-7 (fixed below).
            let v = _mm256_packs_epi32(ca, cb);
            // x = v * max + 127 <= 65152; x / 255 == (x + 1 + (x >> 8)) >> 8 there.
            let x = _mm256_add_epi16(_mm256_mullo_epi16(v, max[c]), half);
            let q = _mm256_srli_epi16(
                _mm256_add_epi16(_mm256_add_epi16(x, one), _mm256_srli_epi16(x, 8)),
                8,
            );
            acc = _mm256_or_si256(acc, _mm256_sll_epi16(q, ds[c]));
        }
        if k.dst_big_endian {
            acc = _mm256_or_si256(_mm256_slli_epi16(acc, 8), _mm256_srli_epi16(acc, 8));
        }
        // Restore pixel order: qwords 0, 2, 1, 3.
        acc = _mm256_permute4x64_epi64(acc, 0b11_01_10_00);
        // SAFETY: `d` is 32 writable bytes; storeu has no alignment requirement.
        unsafe { _mm256_storeu_si256(d.as_mut_ptr().cast(), acc) };
    }
}
