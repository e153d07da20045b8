//! SSE2 compare kernels: equality, first and last differing byte, 16 bytes per step.
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
        if ne_mask(x, y) != 0 {
            return false;
        }
    }
    true
}

/// Bit i set when byte i of the 16-byte blocks `x` and `y` differs.
#[target_feature(enable = "sse2")]
fn ne_mask(x: &[u8], y: &[u8]) -> u32 {
    assert!(x.len() >= 16 && y.len() >= 16);
    // SAFETY: `x` and `y` hold at least 16 readable bytes (asserted); loadu has no
    // alignment requirement.
    let (vx, vy) = unsafe {
        (
            _mm_loadu_si128(x.as_ptr().cast()),
            _mm_loadu_si128(y.as_ptr().cast()),
        )
    };
    !(_mm_movemask_epi8(_mm_cmpeq_epi8(vx, vy)) as u32) & 0xffff
}

/// Index of the first differing byte of `a` and `b` (same length).
pub(crate) fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / 16 * 16;
    // SAFETY: SSE2 is part of the x86-64 baseline, so the target feature is present.
    if let Some(i) = unsafe { first_diff_blocks(&a[..n], &b[..n]) } {
        return Some(i);
    }
    scalar::first_diff(&a[n..], &b[n..]).map(|i| n + i)
}

#[target_feature(enable = "sse2")]
fn first_diff_blocks(a: &[u8], b: &[u8]) -> Option<usize> {
    for (k, (x, y)) in a.chunks_exact(16).zip(b.chunks_exact(16)).enumerate() {
        let ne = ne_mask(x, y);
        if ne != 0 {
            return Some(k * 16 + ne.trailing_zeros() as usize);
        }
    }
    None
}

/// Index of the last differing byte of `a` and `b` (same length).
pub(crate) fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let len = a.len().min(b.len());
    let head = len % 16;
    // SAFETY: SSE2 is part of the x86-64 baseline, so the target feature is present.
    if let Some(i) = unsafe { last_diff_blocks(&a[head..len], &b[head..len]) } {
        return Some(head + i);
    }
    scalar::last_diff(&a[..head], &b[..head])
}

#[target_feature(enable = "sse2")]
fn last_diff_blocks(a: &[u8], b: &[u8]) -> Option<usize> {
    for k in (0..a.len() / 16).rev() {
        let ne = ne_mask(&a[k * 16..], &b[k * 16..]);
        if ne != 0 {
            return Some(k * 16 + 31 - ne.leading_zeros() as usize);
        }
    }
    None
}
