//! SSE2 compare kernel: 16 bytes per step.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::scalar;

pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len()) / 16 * 16;
    // SAFETY: SSE2 is part of the x86-64 baseline, so the target feature is present.
    unsafe { eq_blocks(&a[..n], &b[..n]) && scalar::eq(&a[n..], &b[n..]) }
}

#[target_feature(enable = "sse2")]
fn eq_blocks(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        // SAFETY: `x` and `y` are 16 readable bytes; loadu has no alignment requirement.
        let (vx, vy) = unsafe {
            (
                _mm_loadu_si128(x.as_ptr().cast()),
                _mm_loadu_si128(y.as_ptr().cast()),
            )
        };
        if _mm_movemask_epi8(_mm_cmpeq_epi8(vx, vy)) != 0xffff {
            return false;
        }
    }
    true
}
