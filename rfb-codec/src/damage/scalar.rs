//! Scalar twin of the compare kernels: eight bytes at a time, then bytes.

/// Whether `a` and `b` (same length) hold the same bytes.
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x = u64::from_ne_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_ne_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        if x != y {
            return false;
        }
    }
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .all(|(x, y)| x == y)
}

#[inline(always)]
fn word(x: &[u8]) -> u64 {
    u64::from_le_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]])
}

/// Index of the first byte where `a` and `b` (same length) differ, if any.
pub(crate) fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (i, (x, y)) in (&mut ca).zip(&mut cb).enumerate() {
        let d = word(x) ^ word(y);
        if d != 0 {
            // Little-endian load: the lowest set byte is the first difference.
            return Some(i * 8 + (d.trailing_zeros() / 8) as usize);
        }
    }
    let base = a.len() / 8 * 8;
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .position(|(x, y)| x != y)
        .map(|i| base + i)
}

/// Index of the last byte where `a` and `b` (same length) differ, if any.
pub(crate) fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len());
    let mut ca = a[..n].rchunks_exact(8);
    let mut cb = b[..n].rchunks_exact(8);
    for (i, (x, y)) in (&mut ca).zip(&mut cb).enumerate() {
        let d = word(x) ^ word(y);
        if d != 0 {
            // The highest set byte is the last difference of this word.
            return Some(n - (i + 1) * 8 + 7 - (d.leading_zeros() / 8) as usize);
        }
    }
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .rposition(|(x, y)| x != y)
}
