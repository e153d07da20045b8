//! AVX2 compare kernels: equality 64 bytes per step (two 32-byte compares, one
//! branch), and the first / last differing byte, 32 bytes per step.
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

/// Index of the first differing byte of `a` and `b` (same length). Same contract as
/// [`eq`]: only called after AVX2 was detected.
pub(crate) fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / 32 * 32;
    // SAFETY: this kernel is only selected when AVX2 was detected at run time.
    if let Some(i) = unsafe { first_diff_blocks(&a[..n], &b[..n]) } {
        return Some(i);
    }
    scalar::first_diff(&a[n..], &b[n..]).map(|i| n + i)
}

#[target_feature(enable = "avx2")]
fn first_diff_blocks(a: &[u8], b: &[u8]) -> Option<usize> {
    for (k, (x, y)) in a.chunks_exact(32).zip(b.chunks_exact(32)).enumerate() {
        // SAFETY: `x` and `y` are 32 readable bytes; loadu has no alignment requirement.
        let (vx, vy) = unsafe {
            (
                _mm256_loadu_si256(x.as_ptr().cast()),
                _mm256_loadu_si256(y.as_ptr().cast()),
            )
        };
        let ne = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(vx, vy)) as u32);
        if ne != 0 {
            return Some(k * 32 + ne.trailing_zeros() as usize);
        }
    }
    None
}

/// Index of the last differing byte of `a` and `b` (same length); AVX2 detected.
pub(crate) fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let len = a.len().min(b.len());
    let head = len % 32;
    // SAFETY: this kernel is only selected when AVX2 was detected at run time.
    if let Some(i) = unsafe { last_diff_blocks(&a[head..len], &b[head..len]) } {
        return Some(head + i);
    }
    scalar::last_diff(&a[..head], &b[..head])
}

#[target_feature(enable = "avx2")]
fn last_diff_blocks(a: &[u8], b: &[u8]) -> Option<usize> {
    let blocks = a.len() / 32;
    for k in (0..blocks).rev() {
        let (x, y) = (&a[k * 32..k * 32 + 32], &b[k * 32..k * 32 + 32]);
        // SAFETY: `x` and `y` are 32 readable bytes; loadu has no alignment requirement.
        let (vx, vy) = unsafe {
            (
                _mm256_loadu_si256(x.as_ptr().cast()),
                _mm256_loadu_si256(y.as_ptr().cast()),
            )
        };
        let ne = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(vx, vy)) as u32);
        if ne != 0 {
            return Some(k * 32 + 31 - ne.leading_zeros() as usize);
        }
    }
    None
}
