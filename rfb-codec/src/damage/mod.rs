//! Damage refinement: from a hint ("something in here may have changed") to the exact
//! changed region, plus moved content (vertical scrolls, window drags) detected from the
//! pixels.
//!
//! [`DamageTracker`] keeps a copy of the previous frame. [`DamageTracker::refine`]
//! compares the hinted area of the new frame with it in [`TILE`] x [`TILE`] tiles, shrinks
//! each changed tile to the rows and columns that really changed, looks for a vertical
//! scroll and then for a 2-D move (window drag) in the changed area ([`Move`], sent as
//! CopyRect), and updates its copy.
//!
//! The compare kernel is chosen once ([`Kernel::detect`]); see `NOTES.md` beside this
//! file for the measurements behind the choice.

#[cfg(target_arch = "x86_64")]
mod x86_avx2;
#[cfg(target_arch = "x86_64")]
mod x86_sse2;

mod scalar;

use std::collections::HashMap;

use rfb_proto::{PixelFormat, Rect};

use crate::{CodecError, Framebuffer, Region};

/// Side of the square tiles compared.
pub const TILE: u16 = 64;

/// Fewest rows a scroll must move to be reported (smaller moves cost less to encode
/// than to look for).
pub const MIN_SCROLL_ROWS: u16 = 16;

/// Rows whose content appears more often than this in the old frame's searched area
/// (blank lines, rules) do not vote for a scroll offset.
const MAX_VOTING_TWINS: usize = 8;

/// Width (pixels) of the strips matched between frames to find a window drag.
pub const DRAG_STRIP: u16 = 16;

/// Largest changed bounding box (pixels) searched for a window drag (the search reads
/// the whole box of the old frame once).
pub const MAX_DRAG_SEARCH_AREA: u64 = 1_000_000;

/// Feature strips are taken every this many rows ...
const DRAG_FEATURE_STEP_Y: usize = 8;
/// ... and columns.
const DRAG_FEATURE_STEP_X: u16 = 16;
/// Most feature strips per search.
const DRAG_MAX_FEATURES: usize = 512;
/// Fewest agreeing strips for a drag offset.
const DRAG_MIN_VOTES: usize = 4;

/// Narrowest changed area searched for a scroll.
pub const MIN_SCROLL_WIDTH: u16 = 32;

/// A byte-compare kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Slice `==` (the C library's optimised `memcmp`).
    Memcmp,
    /// Portable eight-bytes-at-a-time loop (the scalar twin).
    Scalar,
    /// SSE2, 16 bytes per step.
    Sse2,
    /// AVX2, 64 bytes per step.
    Avx2,
}

impl Kernel {
    /// The kernel used by default: slice `==` (`memcmp`). It measured as fast as or
    /// faster than the hand-written AVX2 and SSE2 kernels on whole 1080p frames here (see
    /// `NOTES.md`), so the SIMD kernels stay as tested alternatives ([`Kernel::simd`]).
    pub fn detect() -> Kernel {
        Kernel::Memcmp
    }

    /// The widest SIMD kernel this CPU runs (chosen with `is_x86_feature_detected!`),
    /// or the scalar twin elsewhere.
    pub fn simd() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return Kernel::Avx2;
            }
            return Kernel::Sse2;
        }
        #[allow(unreachable_code)]
        Kernel::Scalar
    }

    /// Every kernel this CPU can run.
    pub fn available() -> Vec<Kernel> {
        let mut v = vec![Kernel::Memcmp, Kernel::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            v.push(Kernel::Sse2);
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(Kernel::Avx2);
            }
        }
        v
    }

    /// Whether `a` and `b` hold the same bytes (different lengths are never equal).
    /// A kernel this CPU cannot run falls back to `memcmp`.
    ///
    /// ```
    /// use rfb_codec::damage::Kernel;
    /// for k in Kernel::available() {
    ///     assert!(k.eq(&[1; 100], &[1; 100]));
    ///     assert!(!k.eq(&[1; 100], &[[1; 99].as_slice(), &[2]].concat()));
    /// }
    /// ```
    pub fn eq(self, a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        match self {
            Kernel::Memcmp => a == b,
            Kernel::Scalar => scalar::eq(a, b),
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => x86_sse2::eq(a, b),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if std::arch::is_x86_feature_detected!("avx2") => x86_avx2::eq(a, b),
            #[allow(unreachable_patterns)]
            _ => a == b,
        }
    }
}

/// Content moved within the frame: send as CopyRect (`dst`, from `src_x`, `src_y`) before
/// the other rectangles of the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// Where the content is now.
    pub dst: Rect,
    /// Left edge of where it was.
    pub src_x: u16,
    /// Top edge of where it was.
    pub src_y: u16,
}

/// What changed between two frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Damage {
    /// Moves, relative to the previous frame (at most one: a scroll or a drag, so no
    /// CopyRect reads what another one of the same update wrote).
    pub moves: Vec<Move>,
    /// The changed pixels the moves do not explain.
    pub changed: Region,
}

/// Refines damage hints against a copy of the previous frame.
///
/// ```
/// use rfb_codec::damage::DamageTracker;
/// use rfb_codec::{Framebuffer, PixelFormat, Rect, Region};
///
/// let mut fb = Framebuffer::new(256, 128, PixelFormat::RGB888);
/// let mut tracker = DamageTracker::new(&fb);
/// fb.fill(Rect::new(70, 10, 3, 2), &[1, 2, 3, 0]).unwrap();
/// // The host only says "the top half may have changed".
/// let damage = tracker.refine(&fb, &Region::from(Rect::new(0, 0, 256, 64))).unwrap();
/// assert_eq!(damage.changed, Region::from(Rect::new(70, 10, 3, 2)));
/// assert!(damage.moves.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct DamageTracker {
    width: u16,
    height: u16,
    format: PixelFormat,
    prev: Vec<u8>,
    kernel: Kernel,
    detect_moves: bool,
}

impl DamageTracker {
    /// A tracker whose previous frame is a copy of `fb`, with [`Kernel::detect`] and
    /// scroll detection on.
    pub fn new(fb: &Framebuffer) -> DamageTracker {
        DamageTracker {
            width: fb.width(),
            height: fb.height(),
            format: *fb.format(),
            prev: fb.data().to_vec(),
            kernel: Kernel::detect(),
            detect_moves: true,
        }
    }

    /// Uses `kernel` to compare.
    pub fn set_kernel(&mut self, kernel: Kernel) {
        self.kernel = kernel;
    }

    /// The compare kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Turns scroll detection on or off.
    pub fn set_detect_moves(&mut self, on: bool) {
        self.detect_moves = on;
    }

    /// Starts again from `fb` (after a resize or pixel-format change).
    pub fn reset(&mut self, fb: &Framebuffer) {
        *self = DamageTracker {
            kernel: self.kernel,
            detect_moves: self.detect_moves,
            ..DamageTracker::new(fb)
        };
    }

    /// The exact changed region inside `hint` between the previous frame and `fb`, with
    /// any scroll found; then `fb` becomes the previous frame (in the changed area; the
    /// caller promises nothing changed outside the hint). `fb` must have the size and
    /// format of the previous frame ([`CodecError::ApiMisuse`] otherwise: call
    /// [`DamageTracker::reset`]).
    pub fn refine(&mut self, fb: &Framebuffer, hint: &Region) -> Result<Damage, CodecError> {
        if (fb.width(), fb.height(), *fb.format()) != (self.width, self.height, self.format) {
            return Err(CodecError::ApiMisuse {
                what: "frame size or format differs from the tracker's; reset it".into(),
            });
        }
        let bpp = self.format.bytes_per_pixel();
        let stride = usize::from(self.width) * bpp;
        let new = fb.data();
        let mut changed = Region::new();
        for r in hint.clip(fb.rect()).rects() {
            let mut ty = r.y / TILE * TILE;
            while u32::from(ty) < r.bottom() {
                let mut tx = r.x / TILE * TILE;
                while u32::from(tx) < r.right() {
                    let tile = Rect::new(tx, ty, TILE, TILE);
                    if let Some(sub) = r.intersect(&tile) {
                        if let Some(c) = self.diff_rect(new, stride, bpp, sub) {
                            changed.add_rect(c);
                        }
                    }
                    tx = tx.saturating_add(TILE);
                    if tx == u16::MAX {
                        break;
                    }
                }
                ty = ty.saturating_add(TILE);
                if ty == u16::MAX {
                    break;
                }
            }
        }
        let mut damage = Damage {
            moves: Vec::new(),
            changed,
        };
        if self.detect_moves {
            let found = self
                .find_scroll(new, stride, bpp, &damage.changed)
                .or_else(|| self.find_drag(new, stride, bpp, &damage.changed));
            if let Some(m) = found {
                damage.changed = damage.changed.subtract(&Region::from(m.dst));
                damage.moves.push(m);
            }
        }
        // Take the new pixels of everything that changed (moves included).
        let mut taken = damage.changed.clone();
        for m in &damage.moves {
            taken.add_rect(m.dst);
        }
        for r in taken.rects() {
            let (x0, x1) = (usize::from(r.x) * bpp, r.right() as usize * bpp);
            for y in usize::from(r.y)..r.bottom() as usize {
                let o = y * stride;
                self.prev[o + x0..o + x1].copy_from_slice(&new[o + x0..o + x1]);
            }
        }
        Ok(damage)
    }

    /// The smallest rectangle inside `r` holding every changed pixel, if any.
    fn diff_rect(&self, new: &[u8], stride: usize, bpp: usize, r: Rect) -> Option<Rect> {
        let (x0, x1) = (usize::from(r.x) * bpp, r.right() as usize * bpp);
        let row = |y: usize| {
            (
                &self.prev[y * stride + x0..y * stride + x1],
                &new[y * stride + x0..y * stride + x1],
            )
        };
        let ys = usize::from(r.y)..r.bottom() as usize;
        let first = ys.clone().find(|&y| {
            let (a, b) = row(y);
            !self.kernel.eq(a, b)
        })?;
        let last = ys.rev().find(|&y| {
            let (a, b) = row(y);
            !self.kernel.eq(a, b)
        })?;
        let (mut lo, mut hi) = (usize::MAX, 0usize);
        for y in first..=last {
            let (a, b) = row(y);
            let pa = a.chunks_exact(bpp).zip(b.chunks_exact(bpp));
            if let Some(i) = pa.clone().position(|(p, q)| p != q) {
                lo = lo.min(i);
                let j = pa.rev().position(|(p, q)| p != q).unwrap_or(0);
                hi = hi.max(a.len() / bpp - 1 - j);
            }
        }
        Some(Rect::new(
            r.x + lo as u16,
            first as u16,
            (hi - lo + 1) as u16,
            (last - first + 1) as u16,
        ))
    }

    /// Looks for one vertical scroll inside the bounding box of `changed`: row hashes
    /// of the old and new frame vote for an offset, and the longest run of rows that
    /// match exactly at that offset is the move.
    fn find_scroll(&self, new: &[u8], stride: usize, bpp: usize, changed: &Region) -> Option<Move> {
        let bb = changed.bounding_box()?;
        if bb.height < MIN_SCROLL_ROWS || bb.width < MIN_SCROLL_WIDTH {
            return None;
        }
        let (x0, x1) = (usize::from(bb.x) * bpp, bb.right() as usize * bpp);
        fn seg(buf: &[u8], y: usize, stride: usize, x0: usize, x1: usize) -> &[u8] {
            &buf[y * stride + x0..y * stride + x1]
        }
        let ys = usize::from(bb.y)..bb.bottom() as usize;
        // Old row hash -> the rows that have it. Rows shared by many (blank lines) do
        // not vote; rows shared by a few (a text line's repeated rows) vote for each.
        let mut old: HashMap<u64, Vec<usize>> = HashMap::with_capacity(ys.len());
        for y in ys.clone() {
            old.entry(row_hash(seg(&self.prev, y, stride, x0, x1)))
                .or_default()
                .push(y);
        }
        let mut votes: HashMap<isize, u32> = HashMap::new();
        for y in ys.clone() {
            if let Some(srcs) = old.get(&row_hash(seg(new, y, stride, x0, x1))) {
                if srcs.len() <= MAX_VOTING_TWINS {
                    for &src in srcs {
                        if src != y {
                            *votes.entry(y as isize - src as isize).or_default() += 1;
                        }
                    }
                }
            }
        }
        let (&dy, &n) = votes.iter().max_by_key(|(dy, n)| (**n, -dy.abs()))?;
        if n < u32::from(MIN_SCROLL_ROWS) / 2 {
            return None;
        }
        // Longest run of rows y with new[y] == old[y - dy] (source inside the frame).
        let (mut best, mut start, mut len) = ((0usize, 0usize), 0usize, 0usize);
        for y in ys {
            let src = y as isize - dy;
            let ok = src >= 0
                && (src as usize) < usize::from(self.height)
                && self.kernel.eq(
                    seg(&self.prev, src as usize, stride, x0, x1),
                    seg(new, y, stride, x0, x1),
                );
            if ok {
                if len == 0 {
                    start = y;
                }
                len += 1;
                if len > best.1 {
                    best = (start, len);
                }
            } else {
                len = 0;
            }
        }
        if best.1 < usize::from(MIN_SCROLL_ROWS) {
            return None;
        }
        Some(Move {
            dst: Rect::new(bb.x, best.0 as u16, bb.width, best.1 as u16),
            src_x: bb.x,
            src_y: (best.0 as isize - dy) as u16,
        })
    }
}

impl DamageTracker {
    /// Looks for one 2-D move (a window drag) inside the bounding box of `changed`:
    /// detailed [`DRAG_STRIP`]-pixel strips of the new frame are looked up among all
    /// strips of the old frame (rolling hash), the most voted offset is verified pixel by
    /// pixel, and the largest rectangle that matches exactly becomes the move.
    fn find_drag(&self, new: &[u8], stride: usize, bpp: usize, changed: &Region) -> Option<Move> {
        let bb = changed.bounding_box()?;
        let strip = usize::from(DRAG_STRIP);
        if bb.width < MIN_SCROLL_WIDTH
            || bb.height < MIN_SCROLL_ROWS
            || bb.area() > MAX_DRAG_SEARCH_AREA
        {
            return None;
        }
        let px = |buf: &[u8], x: usize, y: usize| -> u64 {
            let o = y * stride + x * bpp;
            buf[o..o + bpp]
                .iter()
                .fold(0u64, |v, &b| (v << 8) | u64::from(b))
        };
        let (x0, x1) = (usize::from(bb.x), bb.right() as usize);
        let (y0, y1) = (usize::from(bb.y), bb.bottom() as usize);
        // Polynomial rolling hash over pixel values.
        const B: u64 = 0x100_0000_01b3;
        let b_pow = (1..strip).fold(1u64, |p, _| p.wrapping_mul(B));
        let hash_at = |buf: &[u8], x: usize, y: usize| -> u64 {
            (x..x + strip).fold(0u64, |h, i| {
                h.wrapping_mul(B).wrapping_add(px(buf, i, y) + 1)
            })
        };
        // Features: detailed strips of the new frame that changed.
        let mut features: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
        let mut filter = vec![0u64; 1024];
        let mut count = 0;
        'rows: for y in (y0..y1).step_by(DRAG_FEATURE_STEP_Y) {
            let mut x = x0;
            while x + strip <= x1 {
                let first = px(new, x, y);
                let detailed = (x + 1..x + strip)
                    .filter(|&i| px(new, i, y) != first)
                    .count()
                    >= strip / 4;
                let o = y * stride;
                let (a, b) = (o + x * bpp, o + (x + strip) * bpp);
                if detailed && new[a..b] != self.prev[a..b] {
                    let h = hash_at(new, x, y);
                    features.entry(h).or_default().push((x, y));
                    filter[(h as usize >> 6) & 1023] |= 1 << (h & 63);
                    count += 1;
                    if count >= DRAG_MAX_FEATURES {
                        break 'rows;
                    }
                }
                x += usize::from(DRAG_FEATURE_STEP_X);
            }
        }
        if count < DRAG_MIN_VOTES {
            return None;
        }
        let mut votes: HashMap<(isize, isize), u32> = HashMap::new();
        for y in y0..y1 {
            if x0 + strip > x1 {
                break;
            }
            let mut h = hash_at(&self.prev, x0, y);
            let mut x = x0;
            loop {
                if filter[(h as usize >> 6) & 1023] & (1 << (h & 63)) != 0 {
                    if let Some(list) = features.get(&h) {
                        for &(fx, fy) in list.iter().take(4) {
                            let d = (fx as isize - x as isize, fy as isize - y as isize);
                            if d != (0, 0) {
                                *votes.entry(d).or_default() += 1;
                            }
                        }
                    }
                }
                if x + strip >= x1 {
                    break;
                }
                let out = px(&self.prev, x, y) + 1;
                let inn = px(&self.prev, x + strip, y) + 1;
                h = h
                    .wrapping_sub(out.wrapping_mul(b_pow))
                    .wrapping_mul(B)
                    .wrapping_add(inn);
                x += 1;
            }
        }
        let (&(dx, dy), &n) = votes
            .iter()
            .max_by_key(|(d, n)| (**n, -(d.0.abs() + d.1.abs())))?;
        if (n as usize) < DRAG_MIN_VOTES {
            return None;
        }
        // Per row of the box: the longest run of pixels equal to the old frame at the
        // offset.
        let (w, hgt) = (usize::from(self.width), usize::from(self.height));
        let runs: Vec<(usize, usize)> = (y0..y1)
            .map(|y| {
                let sy = y as isize - dy;
                if sy < 0 || sy as usize >= hgt {
                    return (0, 0);
                }
                let (mut best, mut start, mut len) = ((0, 0), 0, 0);
                for x in x0..x1 {
                    let sx = x as isize - dx;
                    let ok = sx >= 0
                        && (sx as usize) < w
                        && px(new, x, y) == px(&self.prev, sx as usize, sy as usize);
                    if ok {
                        if len == 0 {
                            start = x;
                        }
                        len += 1;
                        if len > best.1 - best.0 {
                            best = (start, start + len);
                        }
                    } else {
                        len = 0;
                    }
                }
                best
            })
            .collect();
        // Largest rectangle of consecutive rows whose runs share a span at least
        // MIN_SCROLL_WIDTH wide.
        let min_w = usize::from(MIN_SCROLL_WIDTH);
        let mut best: Option<(usize, usize, usize, usize)> = None; // (a, b, top, rows)
        for top in 0..runs.len() {
            let (mut a, mut b) = runs[top];
            let mut rows = 0;
            for r in &runs[top..] {
                let (na, nb) = (a.max(r.0), b.min(r.1));
                if nb < na + min_w {
                    break;
                }
                (a, b) = (na, nb);
                rows += 1;
                let area = (b - a) * rows;
                if best.is_none_or(|(ba, bb2, _, br)| area > (bb2 - ba) * br) {
                    best = Some((a, b, top, rows));
                }
            }
        }
        let (a, b, top, rows) = best?;
        if rows < usize::from(MIN_SCROLL_ROWS) {
            return None;
        }
        let y = y0 + top;
        Some(Move {
            dst: Rect::new(a as u16, y as u16, (b - a) as u16, rows as u16),
            src_x: (a as isize - dx) as u16,
            src_y: (y as isize - dy) as u16,
        })
    }
}

/// A fast non-cryptographic hash of one row segment.
fn row_hash(b: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ b.len() as u64;
    let mut c = b.chunks_exact(8);
    for w in &mut c {
        let v = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    for &x in c.remainder() {
        h = (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}
