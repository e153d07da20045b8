//! Damage refinement: from a hint ("something in here may have changed") to the exact
//! changed region, plus moved content (vertical scrolls, window drags) detected from the
//! pixels.
//!
//! [`DamageTracker`] keeps a copy of the previous frame. [`DamageTracker::refine`]
//! compares the hinted area of the new frame with it one whole row span at a time (one
//! compare per row, not per tile); in a row that differs it locates the first and last
//! differing byte of each [`TILE`]-pixel column with the kernel's first/last-difference
//! search, so each changed [`TILE`] x [`TILE`] tile shrinks to the rows and columns that
//! really changed. Then it looks for a vertical scroll and for a 2-D move (window drag)
//! in the changed area ([`Move`], sent as CopyRect), and updates its copy (without move
//! detection, each changed row span is copied as soon as it is found, while in cache).
//!
//! The compare kernel is chosen once ([`Kernel::detect`]); see `NOTES.md` beside this
//! file for the measurements behind the choice.

#[cfg(target_arch = "x86_64")]
mod x86_avx2;
#[cfg(target_arch = "x86_64")]
mod x86_sse2;

mod scalar;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

/// A window drag changes most of the box around its old and new place; changes that
/// cover less than 1 / this of their bounding box (scattered edits, a clock and a
/// cursor) are not searched for one.
const DRAG_MIN_DENSITY_DIV: u64 = 4;

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

    /// The kernel that finds difference positions for this one: itself, or for
    /// [`Kernel::Memcmp`] (`memcmp` says only "equal or not") the widest SIMD kernel.
    fn locator(self) -> Kernel {
        match self {
            Kernel::Memcmp => Kernel::simd(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if !std::arch::is_x86_feature_detected!("avx2") => Kernel::Sse2,
            k => k,
        }
    }

    /// Index of the first byte where `a` and `b` differ (`None` if equal; only the
    /// common length is compared). `self` must be a [`Kernel::locator`].
    pub(crate) fn first_diff(self, a: &[u8], b: &[u8]) -> Option<usize> {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => x86_sse2::first_diff(a, b),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86_avx2::first_diff(a, b),
            _ => scalar::first_diff(a, b),
        }
    }

    /// Index of the last byte where `a` and `b` differ (`None` if equal; only the
    /// common length is compared). `self` must be a [`Kernel::locator`].
    pub(crate) fn last_diff(self, a: &[u8], b: &[u8]) -> Option<usize> {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => x86_sse2::last_diff(a, b),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86_avx2::last_diff(a, b),
            _ => scalar::last_diff(a, b),
        }
    }
}

/// Test and fuzzing access to the difference-position kernels: the first and last
/// differing byte of `a` and `b` as `kernel` finds them (its locator for `Memcmp`).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn diff_positions(kernel: Kernel, a: &[u8], b: &[u8]) -> (Option<usize>, Option<usize>) {
    let k = kernel.locator();
    (k.first_diff(a, b), k.last_diff(a, b))
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

    /// Applies a move the host reported (a window it dragged, a scroll it performed) to
    /// the previous frame, as a viewer applies the CopyRect: the area `src` of the
    /// previous frame is copied to (`dst_x`, `dst_y`). The next [`refine`](Self::refine)
    /// then finds only what the move does not explain. A move that does not fit the
    /// frame is an [`CodecError::ApiMisuse`] and changes nothing.
    ///
    /// ```
    /// use rfb_codec::damage::DamageTracker;
    /// use rfb_codec::{Framebuffer, PixelFormat, Rect, Region};
    ///
    /// let mut fb = Framebuffer::new(64, 64, PixelFormat::RGB888);
    /// fb.fill(Rect::new(0, 0, 8, 8), &[9, 9, 9, 0]).unwrap();
    /// let mut tracker = DamageTracker::new(&fb);
    /// fb.copy_within(Rect::new(0, 0, 8, 8), 30, 30).unwrap();
    /// tracker.apply_move(Rect::new(0, 0, 8, 8), 30, 30).unwrap();
    /// let d = tracker.refine(&fb, &Region::from(fb.rect())).unwrap();
    /// assert!(d.changed.is_empty());
    /// ```
    pub fn apply_move(&mut self, src: Rect, dst_x: u16, dst_y: u16) -> Result<(), CodecError> {
        let dst = Rect::new(dst_x, dst_y, src.width, src.height);
        if !src.fits_in(self.width, self.height) || !dst.fits_in(self.width, self.height) {
            return Err(CodecError::ApiMisuse {
                what: "move outside the frame".into(),
            });
        }
        let bpp = self.format.bytes_per_pixel();
        let stride = usize::from(self.width) * bpp;
        let row_len = usize::from(src.width) * bpp;
        let mut copy_row = |i: usize| {
            let from = (usize::from(src.y) + i) * stride + usize::from(src.x) * bpp;
            let to = (usize::from(dst_y) + i) * stride + usize::from(dst_x) * bpp;
            self.prev.copy_within(from..from + row_len, to);
        };
        // Copy rows in the order that never reads a row already overwritten.
        if dst_y > src.y {
            (0..usize::from(src.height)).rev().for_each(&mut copy_row);
        } else {
            (0..usize::from(src.height)).for_each(&mut copy_row);
        }
        Ok(())
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
        let mut found = Vec::new();
        // Without move detection the old pixels are not needed after the compare, so
        // each changed row span is copied while it is in cache.
        let copy_now = !self.detect_moves;
        let mut tiles = Vec::new();
        for r in hint.clip(fb.rect()).rects() {
            diff_rect(
                self.kernel,
                &mut self.prev,
                new,
                stride,
                bpp,
                r,
                copy_now,
                &mut tiles,
                &mut found,
            );
        }
        // One sweep over all tile rectangles (adding them one by one is quadratic).
        let mut damage = Damage {
            moves: Vec::new(),
            changed: found.into_iter().collect(),
        };
        if copy_now {
            return Ok(damage);
        }
        let found = self
            .find_scroll(new, stride, bpp, &damage.changed)
            .or_else(|| self.find_drag(new, stride, bpp, &damage.changed));
        if let Some(m) = found {
            damage.changed = damage.changed.subtract(&Region::from(m.dst));
            damage.moves.push(m);
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
        let mut old: FastMap<u64, Vec<usize>> =
            FastMap::with_capacity_and_hasher(ys.len(), Default::default());
        for y in ys.clone() {
            old.entry(row_hash(seg(&self.prev, y, stride, x0, x1)))
                .or_default()
                .push(y);
        }
        let mut votes: FastMap<isize, u32> = FastMap::default();
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
            || changed.area() * DRAG_MIN_DENSITY_DIV < bb.area()
        {
            return None;
        }
        let px = |buf: &[u8], x: usize, y: usize| -> u64 {
            let o = y * stride + x * bpp;
            match buf.get(o..o + 4) {
                Some(&[a, b, c, d]) if bpp == 4 => u64::from(u32::from_be_bytes([a, b, c, d])),
                _ => buf[o..o + bpp]
                    .iter()
                    .fold(0u64, |v, &b| (v << 8) | u64::from(b)),
            }
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
        let mut features: FastMap<u64, Vec<(usize, usize)>> = FastMap::default();
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
        let mut votes: FastMap<(isize, isize), u32> = FastMap::default();
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

/// Changed pixels seen so far in one [`TILE`]-column of a band of rows.
#[derive(Debug, Clone, Copy)]
struct TileSpan {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

impl TileSpan {
    const EMPTY: TileSpan = TileSpan {
        top: usize::MAX,
        bottom: 0,
        left: usize::MAX,
        right: 0,
    };

    fn add(&mut self, y: usize, left: usize, right: usize) {
        self.top = self.top.min(y);
        self.bottom = y;
        self.left = self.left.min(left);
        self.right = self.right.max(right);
    }
}

/// Appends to `changed` the smallest rectangle holding the changed pixels of each
/// [`TILE`] x [`TILE`] tile (grid-aligned) of `r`, comparing whole row spans of `r`
/// first (one compare per row, not per tile) and locating differences with the
/// kernel's first/last-difference search. With `copy_now`, each changed row span is
/// copied from `new` into `prev` as soon as it is found.
#[allow(clippy::too_many_arguments)]
fn diff_rect(
    kernel: Kernel,
    prev: &mut [u8],
    new: &[u8],
    stride: usize,
    bpp: usize,
    r: Rect,
    copy_now: bool,
    tiles: &mut Vec<TileSpan>,
    changed: &mut Vec<Rect>,
) {
    let tile = usize::from(TILE);
    let locator = kernel.locator();
    let (rx, right) = (usize::from(r.x), r.right() as usize);
    if right <= rx {
        return;
    }
    let first_col = rx / tile;
    let cols = (right - 1) / tile - first_col + 1;
    let (x0, x1) = (rx * bpp, right * bpp);
    let mut y = usize::from(r.y);
    let bottom = r.bottom() as usize;
    while y < bottom {
        let band_end = ((y / tile + 1) * tile).min(bottom);
        tiles.clear();
        tiles.resize(cols, TileSpan::EMPTY);
        let mut any = false;
        for row in y..band_end {
            let o = row * stride;
            let (a, b) = (&prev[o + x0..o + x1], &new[o + x0..o + x1]);
            // Memcmp answers "equal?" fastest; the SIMD kernels locate directly.
            let first = if kernel == Kernel::Memcmp {
                if a == b {
                    continue;
                }
                locator.first_diff(a, b)
            } else {
                locator.first_diff(a, b)
            };
            let Some(first) = first else {
                continue;
            };
            let last = locator.last_diff(a, b).unwrap_or(first);
            // Pixel columns (absolute) of the first and last changed pixel.
            let (lo, hi) = (rx + first / bpp, rx + last / bpp);
            let (tlo, thi) = (lo / tile, hi / tile);
            for t in tlo..=thi {
                let seg0 = (t * tile).max(lo);
                let seg1 = ((t + 1) * tile).min(hi + 1);
                let span = if tlo == thi {
                    Some((lo, hi))
                } else {
                    let (s0, s1) = ((seg0 - rx) * bpp, (seg1 - rx) * bpp);
                    let (sa, sb) = (&a[s0..s1], &b[s0..s1]);
                    let n = sa.len();
                    // Busy content: the segment's end pixels differ, no search needed.
                    let f = if t == tlo {
                        Some(lo)
                    } else if sa[..bpp] != sb[..bpp] {
                        Some(seg0)
                    } else {
                        locator.first_diff(sa, sb).map(|i| seg0 + i / bpp)
                    };
                    f.map(|f| {
                        let l = if t == thi {
                            hi
                        } else if sa[n - bpp..] != sb[n - bpp..] {
                            seg1 - 1
                        } else {
                            locator.last_diff(sa, sb).map_or(f, |i| seg0 + i / bpp)
                        };
                        (f, l)
                    })
                };
                if let Some((f, l)) = span {
                    tiles[t - first_col].add(row, f, l);
                }
            }
            any = true;
            if copy_now {
                let (c0, c1) = (o + lo * bpp, o + (hi + 1) * bpp);
                prev[c0..c1].copy_from_slice(&new[c0..c1]);
            }
        }
        if any {
            for s in tiles.iter().filter(|s| s.top != usize::MAX) {
                changed.push(Rect::new(
                    s.left as u16,
                    s.top as u16,
                    (s.right - s.left + 1) as u16,
                    (s.bottom - s.top + 1) as u16,
                ));
            }
        }
        y = band_end;
    }
}

/// A fast non-cryptographic hash of one row segment.
/// A HashMap whose keys are already well mixed (row and strip hashes) or small
/// offsets: a multiply-rotate hasher instead of SipHash (these maps are private, their
/// keys come from pixel hashes, and a collision only costs a slower lookup).
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The hasher of [`FastMap`].
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn write_isize(&mut self, v: isize) {
        self.write_u64(v as u64);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &[u8], b: &[u8]) -> (Option<usize>, Option<usize>) {
        let d = |(x, y): (&u8, &u8)| x != y;
        (a.iter().zip(b).position(d), a.iter().zip(b).rposition(d))
    }

    proptest! {
        /// Every kernel's first/last-difference search agrees with a byte loop, at
        /// every offset and length (block tails included).
        #[test]
        fn diff_positions_agree(
            a in prop::collection::vec(any::<u8>(), 0..300),
            flips in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
            off in 0usize..70,
            cut in 0usize..70,
        ) {
            let mut b = a.clone();
            for f in &flips {
                if !b.is_empty() {
                    let i = f.index(b.len());
                    b[i] ^= 0x80;
                }
            }
            let off = off.min(a.len());
            let end = a.len() - cut.min(a.len() - off);
            let (x, y) = (&a[off..end], &b[off..end]);
            for k in Kernel::available() {
                prop_assert_eq!(diff_positions(k, x, y), naive(x, y), "{:?}", k);
                prop_assert_eq!(diff_positions(k, x, x), (None, None), "{:?}", k);
            }
        }
    }

    #[test]
    fn diff_positions_every_byte() {
        let a: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
        for i in 0..a.len() {
            for j in i..a.len().min(i + 70) {
                let mut b = a.clone();
                b[i] ^= 1;
                b[j] ^= 2;
                for k in Kernel::available() {
                    assert_eq!(
                        diff_positions(k, &a, &b),
                        (Some(i), Some(j)),
                        "{k:?} {i} {j}"
                    );
                }
            }
        }
    }
}
