//! AVX2 compare kernel: 64 bytes per step (two 32-byte compares, one branch).
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::scalar;

/// Callers must have checked that the CPU has AVX2 ([`super::Kernel::Avx2`] is only
/// chosen after `is_x86_feature_detected!("avx2")`).
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len()) / 64 * 64;
    // SAFETY: this kernel is only selected when AVX2 was detected at run time.
    unsafe { eq_blocks(&a[..n], &b[..n]) && scalar::eq(&a[n..], &b[n..]) }
}

#[target_feature(enable = "avx2")]
fn eq_blocks(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.chunks_exact(64).zip(b.chunks_exact(64)) {
        // SAFETY: `x` and `y` are 64 readable bytes; loadu has no alignment requirement.
        let (x0, x1, y0, y1) = unsafe {
            (
                _mm256_loadu_si256(x.as_ptr().cast()),
                _mm256_loadu_si256(x.as_ptr().add(32).cast()),
                _mm256_loadu_si256(y.as_ptr().cast()),
                _mm256_loadu_si256(y.as_ptr().add(32).cast()),
            )
        };
        let e = _mm256_and_si256(_mm256_cmpeq_epi8(x0, y0), _mm256_cmpeq_epi8(x1, y1));
        if _mm256_movemask_epi8(e) != -1 {
            return false;
        }
    }
    true
}
