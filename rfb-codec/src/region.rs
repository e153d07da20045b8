//! Sets of pixels as non-overlapping rectangles.
//!
//! A [`Region`] is stored in *bands*: horizontal strips `[top, bottom)` that each hold a
//! sorted list of disjoint, non-touching spans `[x0, x1)`. Vertically adjacent bands
//! with identical spans are merged, so every set of pixels has exactly one
//! representation and `==` compares pixel sets. Every operation is a sweep over the band
//! boundaries of its operands, linear in the number of spans.
//!
//! Coordinates live in the plane of the largest framebuffer: edges run from 0 to
//! 65535, so every rectangle a region yields is a valid [`Rect`]. Parts of rectangles
//! beyond that (a [`Rect`] with `x + width > 65535`, or a translation past the edges)
//! are dropped.

use rfb_proto::Rect;

/// Largest edge coordinate a region can hold.
const MAX_EDGE: u32 = u16::MAX as u32;

/// One horizontal strip of a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Band {
    top: u16,
    bottom: u16,
    /// Flattened `[x0, x1)` pairs, sorted, disjoint and not touching.
    spans: Vec<u16>,
}

/// A set of pixels, kept as non-overlapping rectangles in top-to-bottom,
/// left-to-right order.
///
/// ```
/// use rfb_codec::{region::Region, Rect};
/// let mut r = Region::from(Rect::new(0, 0, 10, 10));
/// r = r.subtract(&Region::from(Rect::new(2, 2, 6, 6)));
/// assert_eq!(r.area(), 100 - 36);
/// assert_eq!(r.bounding_box(), Some(Rect::new(0, 0, 10, 10)));
/// let rects: Vec<Rect> = r.rects().collect();
/// assert_eq!(rects[0], Rect::new(0, 0, 10, 2));
/// assert_eq!(rects.len(), 4);
/// assert!(r.intersect(&Region::from(Rect::new(3, 3, 2, 2))).is_empty());
/// assert_eq!(r.translate(100, 0).bounding_box(), Some(Rect::new(100, 0, 10, 10)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Region {
    bands: Vec<Band>,
}

impl From<Rect> for Region {
    fn from(rect: Rect) -> Region {
        let x1 = rect.right().min(MAX_EDGE) as u16;
        let y1 = rect.bottom().min(MAX_EDGE) as u16;
        if rect.x >= x1 || rect.y >= y1 {
            return Region::new();
        }
        Region {
            bands: vec![Band {
                top: rect.y,
                bottom: y1,
                spans: vec![rect.x, x1],
            }],
        }
    }
}

impl FromIterator<Rect> for Region {
    /// Builds the union of many rectangles in one sweep (sorting them by top edge), much
    /// faster than adding them one by one.
    fn from_iter<I: IntoIterator<Item = Rect>>(iter: I) -> Region {
        // Clipped to the plane, as [x0, x1) x [y0, y1), non-empty only.
        let mut rects: Vec<[u16; 4]> = iter
            .into_iter()
            .filter_map(|r| {
                let x1 = r.right().min(MAX_EDGE) as u16;
                let y1 = r.bottom().min(MAX_EDGE) as u16;
                (r.x < x1 && r.y < y1).then_some([r.x, x1, r.y, y1])
            })
            .collect();
        rects.sort_unstable_by_key(|r| r[2]);
        let mut ys: Vec<u16> = rects.iter().flat_map(|r| [r[2], r[3]]).collect();
        ys.sort_unstable();
        ys.dedup();
        let mut bands = Vec::new();
        let mut active: Vec<[u16; 4]> = Vec::new();
        let mut next = 0;
        let mut xs: Vec<(u16, u16)> = Vec::new();
        for w in ys.windows(2) {
            let (y0, y1) = (w[0], w[1]);
            active.retain(|r| r[3] > y0);
            while next < rects.len() && rects[next][2] <= y0 {
                active.push(rects[next]);
                next += 1;
            }
            xs.clear();
            xs.extend(active.iter().map(|r| (r[0], r[1])));
            xs.sort_unstable();
            let mut spans: Vec<u16> = Vec::new();
            for &(x0, x1) in &xs {
                match spans.last_mut() {
                    Some(end) if *end >= x0 => *end = (*end).max(x1),
                    _ => {
                        spans.push(x0);
                        spans.push(x1);
                    }
                }
            }
            if !spans.is_empty() {
                push_band(&mut bands, y0, y1, spans);
            }
        }
        Region { bands }
    }
}

impl Region {
    /// The empty region.
    pub const fn new() -> Region {
        Region { bands: Vec::new() }
    }

    /// No pixels.
    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// Number of pixels.
    pub fn area(&self) -> u64 {
        self.bands
            .iter()
            .map(|b| {
                let h = u64::from(b.bottom - b.top);
                let w: u64 = b
                    .spans
                    .chunks_exact(2)
                    .map(|s| u64::from(s[1] - s[0]))
                    .sum();
                h * w
            })
            .sum()
    }

    /// The smallest rectangle holding every pixel, or `None` when empty.
    pub fn bounding_box(&self) -> Option<Rect> {
        let top = self.bands.first()?.top;
        let bottom = self.bands.last()?.bottom;
        let left = self.bands.iter().filter_map(|b| b.spans.first()).min()?;
        let right = self.bands.iter().filter_map(|b| b.spans.last()).max()?;
        Some(Rect::new(*left, top, right - left, bottom - top))
    }

    /// Number of rectangles [`Region::rects`] yields.
    pub fn rect_count(&self) -> usize {
        self.bands.iter().map(|b| b.spans.len() / 2).sum()
    }

    /// Whether the pixel at `(x, y)` is in the region.
    pub fn contains(&self, x: u16, y: u16) -> bool {
        self.bands
            .iter()
            .find(|b| b.top <= y && y < b.bottom)
            .is_some_and(|b| b.spans.chunks_exact(2).any(|s| s[0] <= x && x < s[1]))
    }

    /// Whether every pixel of `rect` is in the region.
    pub fn contains_rect(&self, rect: Rect) -> bool {
        Region::from(rect).subtract(self).is_empty()
    }

    /// The rectangles, top to bottom then left to right, non-overlapping.
    pub fn rects(&self) -> impl Iterator<Item = Rect> + '_ {
        self.bands.iter().flat_map(|b| {
            b.spans
                .chunks_exact(2)
                .map(move |s| Rect::new(s[0], b.top, s[1] - s[0], b.bottom - b.top))
        })
    }

    /// Adds the pixels of `rect`.
    pub fn add_rect(&mut self, rect: Rect) {
        *self = self.union(&Region::from(rect));
    }

    /// Pixels in either region.
    pub fn union(&self, other: &Region) -> Region {
        combine(self, other, |a, b| a || b)
    }

    /// Pixels in both regions.
    pub fn intersect(&self, other: &Region) -> Region {
        combine(self, other, |a, b| a && b)
    }

    /// Pixels of `self` that are not in `other`.
    pub fn subtract(&self, other: &Region) -> Region {
        combine(self, other, |a, b| a && !b)
    }

    /// The part of the region inside `rect`.
    pub fn clip(&self, rect: Rect) -> Region {
        self.intersect(&Region::from(rect))
    }

    /// The region widened so that every rectangle starts and ends on multiples of
    /// `grid` (0 or 1: unchanged): nearby small changes merge into fewer, larger
    /// rectangles, which encoders with per-rectangle costs (headers, zlib flushes, tile
    /// restarts) prefer. Clip the result to the framebuffer.
    ///
    /// ```
    /// use rfb_codec::{Rect, Region};
    /// let mut r = Region::from(Rect::new(3, 3, 2, 2));
    /// r.add_rect(Rect::new(20, 5, 3, 3));
    /// assert_eq!(r.align_to(16), Region::from(Rect::new(0, 0, 32, 16)));
    /// ```
    pub fn align_to(&self, grid: u16) -> Region {
        if grid <= 1 {
            return self.clone();
        }
        let g = u32::from(grid);
        let edge = MAX_EDGE;
        self.rects()
            .map(|r| {
                let (x0, y0) = (u32::from(r.x) / g * g, u32::from(r.y) / g * g);
                let x1 = (r.right().div_ceil(g) * g).min(edge);
                let y1 = (r.bottom().div_ceil(g) * g).min(edge);
                // x0 <= r.x < x1 <= MAX_EDGE: the sizes fit in u16.
                Rect::new(x0 as u16, y0 as u16, (x1 - x0) as u16, (y1 - y0) as u16)
            })
            .collect()
    }

    /// The region moved by `(dx, dy)`; pixels that leave the plane are dropped.
    pub fn translate(&self, dx: i32, dy: i32) -> Region {
        let shift =
            |v: u16, d: i32| (i64::from(v) + i64::from(d)).clamp(0, i64::from(MAX_EDGE)) as u16;
        let mut bands: Vec<Band> = Vec::with_capacity(self.bands.len());
        for b in &self.bands {
            let (top, bottom) = (shift(b.top, dy), shift(b.bottom, dy));
            if top >= bottom {
                continue;
            }
            let mut spans = Vec::with_capacity(b.spans.len());
            for s in b.spans.chunks_exact(2) {
                let (x0, x1) = (shift(s[0], dx), shift(s[1], dx));
                if x0 < x1 {
                    spans.push(x0);
                    spans.push(x1);
                }
            }
            if !spans.is_empty() {
                push_band(&mut bands, top, bottom, spans);
            }
        }
        Region { bands }
    }
}

/// Appends a band, merging it into the previous one when they touch and match.
fn push_band(bands: &mut Vec<Band>, top: u16, bottom: u16, spans: Vec<u16>) {
    if let Some(last) = bands.last_mut() {
        if last.bottom == top && last.spans == spans {
            last.bottom = bottom;
            return;
        }
    }
    bands.push(Band { top, bottom, spans });
}

/// Combines two sorted span lists with a pixel-wise boolean operation.
fn combine_spans(a: &[u16], b: &[u16], op: fn(bool, bool) -> bool, out: &mut Vec<u16>) {
    let (mut i, mut j) = (0, 0);
    let mut inside = false;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        while a.get(i) == Some(&x) {
            i += 1;
        }
        while b.get(j) == Some(&x) {
            j += 1;
        }
        // An odd index means we are inside a span of that list.
        let now = op(i % 2 == 1, j % 2 == 1);
        if now != inside {
            out.push(x);
            inside = now;
        }
    }
}

fn combine(a: &Region, b: &Region, op: fn(bool, bool) -> bool) -> Region {
    let mut ys: Vec<u16> = a
        .bands
        .iter()
        .chain(&b.bands)
        .flat_map(|band| [band.top, band.bottom])
        .collect();
    ys.sort_unstable();
    ys.dedup();
    let mut bands = Vec::new();
    let (mut ia, mut ib) = (0, 0);
    let mut spans = Vec::new();
    for w in ys.windows(2) {
        let (y0, y1) = (w[0], w[1]);
        while ia < a.bands.len() && a.bands[ia].bottom <= y0 {
            ia += 1;
        }
        while ib < b.bands.len() && b.bands[ib].bottom <= y0 {
            ib += 1;
        }
        let sa: &[u16] = match a.bands.get(ia) {
            Some(band) if band.top <= y0 => &band.spans,
            _ => &[],
        };
        let sb: &[u16] = match b.bands.get(ib) {
            Some(band) if band.top <= y0 => &band.spans,
            _ => &[],
        };
        spans.clear();
        combine_spans(sa, sb, op, &mut spans);
        if !spans.is_empty() {
            push_band(&mut bands, y0, y1, spans.clone());
        }
    }
    Region { bands }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    type Pixels = BTreeSet<(u16, u16)>;

    fn pixels_of_rect(r: Rect) -> Pixels {
        let mut s = Pixels::new();
        for y in r.y..r.y + r.height {
            for x in r.x..r.x + r.width {
                s.insert((x, y));
            }
        }
        s
    }

    fn pixels(r: &Region) -> Pixels {
        let mut s = Pixels::new();
        for rect in r.rects() {
            let p = pixels_of_rect(rect);
            assert!(s.is_disjoint(&p), "rectangles overlap");
            s.extend(p);
        }
        s
    }

    fn rect() -> impl Strategy<Value = Rect> {
        (0u16..24, 0u16..24, 0u16..12, 0u16..12).prop_map(|(x, y, w, h)| Rect::new(x, y, w, h))
    }

    fn region() -> impl Strategy<Value = (Region, Pixels)> {
        proptest::collection::vec(rect(), 0..6).prop_map(|rs| {
            let mut model = Pixels::new();
            for r in &rs {
                model.extend(pixels_of_rect(*r));
            }
            (rs.into_iter().collect(), model)
        })
    }

    fn check_canonical(r: &Region) {
        for w in r.bands.windows(2) {
            assert!(w[0].bottom <= w[1].top);
            assert!(
                !(w[0].bottom == w[1].top && w[0].spans == w[1].spans),
                "bands not merged"
            );
        }
        for b in &r.bands {
            assert!(b.top < b.bottom && !b.spans.is_empty() && b.spans.len() % 2 == 0);
            assert!(
                b.spans.windows(2).all(|w| w[0] < w[1]),
                "spans not strictly sorted"
            );
        }
        let order: Vec<Rect> = r.rects().collect();
        assert!(order
            .windows(2)
            .all(|w| (w[0].y, w[0].x) < (w[1].y, w[1].x)));
    }

    proptest! {
        #[test]
        fn operations_match_pixel_sets((a, pa) in region(), (b, pb) in region(), dx in -30i32..30, dy in -30i32..30) {
            prop_assert_eq!(pixels(&a), pa.clone());
            let u = a.union(&b);
            let i = a.intersect(&b);
            let s = a.subtract(&b);
            for r in [&u, &i, &s] {
                check_canonical(r);
            }
            prop_assert_eq!(pixels(&u), pa.union(&pb).copied().collect::<Pixels>());
            prop_assert_eq!(pixels(&i), pa.intersection(&pb).copied().collect::<Pixels>());
            prop_assert_eq!(pixels(&s), pa.difference(&pb).copied().collect::<Pixels>());
            prop_assert_eq!(u.area(), pa.union(&pb).count() as u64);
            prop_assert_eq!(a.is_empty(), pa.is_empty());
            // Canonical form: equal pixel sets compare equal.
            prop_assert_eq!(u.clone(), b.union(&a));
            prop_assert_eq!(s.union(&i), a.clone());
            let t = a.translate(dx, dy);
            check_canonical(&t);
            let moved: Pixels = pa
                .iter()
                .filter_map(|&(x, y)| {
                    let (nx, ny) = (i32::from(x) + dx, i32::from(y) + dy);
                    (nx >= 0 && ny >= 0).then_some((nx as u16, ny as u16))
                })
                .collect();
            prop_assert_eq!(pixels(&t), moved);
            let bb = a.bounding_box();
            match bb {
                None => prop_assert!(pa.is_empty()),
                Some(bb) => {
                    let (x0, x1) = (pa.iter().map(|p| p.0).min().unwrap(), pa.iter().map(|p| p.0).max().unwrap());
                    let (y0, y1) = (pa.iter().map(|p| p.1).min().unwrap(), pa.iter().map(|p| p.1).max().unwrap());
                    prop_assert_eq!(bb, Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1));
                }
            }
            for &(x, y) in pb.iter().take(20) {
                prop_assert_eq!(a.contains(x, y), pa.contains(&(x, y)));
            }
        }
    }

    proptest! {
        #[test]
        fn bulk_construction_equals_repeated_union(rs in proptest::collection::vec(rect(), 0..40)) {
            let bulk: Region = rs.iter().copied().collect();
            let mut one_by_one = Region::new();
            for r in &rs {
                one_by_one.add_rect(*r);
            }
            check_canonical(&bulk);
            prop_assert_eq!(bulk, one_by_one);
        }
    }

    #[test]
    fn clipped_at_the_plane_edge() {
        let r = Region::from(Rect::new(65530, 65530, 100, 100));
        assert_eq!(r.bounding_box(), Some(Rect::new(65530, 65530, 5, 5)));
        assert!(Region::from(Rect::new(5, 5, 0, 3)).is_empty());
        assert!(r.translate(10, 0).is_empty());
        assert_eq!(
            Region::from(Rect::new(0, 0, 4, 4))
                .translate(-2, -2)
                .bounding_box(),
            Some(Rect::new(0, 0, 2, 2))
        );
    }
}
