//! DamageTracker: differential kernel tests, exact refinement, scroll detection.

use proptest::prelude::*;
use rfb_codec::damage::{Damage, DamageTracker, Kernel};
use rfb_codec::{Framebuffer, PixelFormat, Rect, Region};

/// Applies `damage` (moves first, as CopyRect comes first) to a copy of `old`.
fn replay(old: &Framebuffer, new: &Framebuffer, damage: &Damage) -> Framebuffer {
    let mut fb = old.clone();
    for m in &damage.moves {
        fb.copy_within(
            Rect::new(m.src_x, m.src_y, m.dst.width, m.dst.height),
            m.dst.x,
            m.dst.y,
        )
        .unwrap();
    }
    for r in damage.changed.rects() {
        fb.put_pixels(r, &new.view(r).unwrap().to_packed()).unwrap();
    }
    fb
}

/// A frame of distinct-looking text-like rows.
fn textured(w: u16, h: u16, seed: u32) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, PixelFormat::RGB888);
    let mut s = seed | 1;
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if s % 5 == 0 {
                fb.fill(
                    Rect::new(x, y, 1, 1),
                    &[s as u8, (s >> 8) as u8, y as u8, 0],
                )
                .unwrap();
            }
        }
    }
    fb
}

proptest! {
    #[test]
    fn kernels_agree_with_memcmp(a in prop::collection::vec(any::<u8>(), 0..300), flip in any::<prop::sample::Index>(), off in 0usize..70) {
        let mut b = a.clone();
        if !b.is_empty() {
            let i = flip.index(b.len());
            b[i] ^= 1;
        }
        let off = off.min(a.len());
        for k in Kernel::available() {
            prop_assert!(k.eq(&a[off..], &a[off..]));
            prop_assert_eq!(k.eq(&a[off..], &b[off..]), a[off..] == b[off..], "{:?}", k);
        }
    }

    #[test]
    fn refine_replays_exactly(
        seed in any::<u32>(),
        edits in prop::collection::vec((0u16..200, 0u16..150, 1u16..50, 1u16..50, any::<u8>()), 0..6),
        scroll in 0u16..=30,
        kernel in 0usize..4,
    ) {
        let old = textured(200, 150, seed);
        let mut new = old.clone();
        if scroll > 0 {
            new.copy_within(Rect::new(10, 20 + scroll, 150, 100), 10, 20).unwrap();
        }
        let mut hint = Region::new();
        for (x, y, w, h, v) in edits {
            let r = Rect::new(x, y, w, h).clip_to(200, 150);
            new.fill(r, &[v, v, v, 0]).unwrap();
            hint.add_rect(r);
        }
        hint.add_rect(Rect::new(10, 20, 150, 100 + scroll));
        let mut t = DamageTracker::new(&old);
        let ks = Kernel::available();
        t.set_kernel(ks[kernel % ks.len()]);
        let d = t.refine(&new, &hint).unwrap();
        prop_assert_eq!(replay(&old, &new, &d), new.clone());
        // The tracker now holds `new`: nothing changed any more.
        let again = t.refine(&new, &Region::from(new.rect())).unwrap();
        prop_assert!(again.changed.is_empty() && again.moves.is_empty());
    }
}

/// Per hint rectangle and 64x64 grid tile, the bounding box of the pixels that differ
/// (a plain pixel loop: the reference `refine` without move detection must match).
fn naive_damage(old: &Framebuffer, new: &Framebuffer, hint: &Region) -> Region {
    let bpp = old.format().bytes_per_pixel();
    let w = usize::from(old.width());
    let mut out = Region::new();
    for r in hint.clip(old.rect()).rects() {
        let (x0, x1, y0, y1) = (
            usize::from(r.x),
            r.right() as usize,
            usize::from(r.y),
            r.bottom() as usize,
        );
        for ty in (y0 / 64 * 64..y1).step_by(64) {
            for tx in (x0 / 64 * 64..x1).step_by(64) {
                let mut bb: Option<(usize, usize, usize, usize)> = None;
                for y in ty.max(y0)..(ty + 64).min(y1) {
                    for x in tx.max(x0)..(tx + 64).min(x1) {
                        let o = (y * w + x) * bpp;
                        if old.data()[o..o + bpp] != new.data()[o..o + bpp] {
                            bb = Some(bb.map_or((x, y, x, y), |(a, b, c, d)| {
                                (a.min(x), b.min(y), c.max(x), d.max(y))
                            }));
                        }
                    }
                }
                if let Some((a, b, c, d)) = bb {
                    out.add_rect(Rect::new(
                        a as u16,
                        b as u16,
                        (c - a + 1) as u16,
                        (d - b + 1) as u16,
                    ));
                }
            }
        }
    }
    out
}

proptest! {
    /// Without move detection, `refine` (row compares, difference search, in-place copy)
    /// finds exactly the per-tile bounding boxes of a pixel loop, with every kernel and
    /// arbitrary unaligned hints, and keeps an exact copy of the frame.
    #[test]
    fn refine_matches_pixel_loop(
        seed in any::<u32>(),
        edits in prop::collection::vec((0u16..200, 0u16..150, 1u16..70, 1u16..70, any::<u8>()), 0..6),
        dots in prop::collection::vec((0u16..200, 0u16..150), 0..8),
        hints in prop::collection::vec((0u16..200, 0u16..150, 1u16..200, 1u16..150), 1..4),
        kernel in 0usize..4,
    ) {
        let old = textured(200, 150, seed);
        let mut new = old.clone();
        for (x, y, w, h, v) in edits {
            new.fill(Rect::new(x, y, w, h).clip_to(200, 150), &[v, v ^ 1, v, 0]).unwrap();
        }
        for (x, y) in dots {
            new.fill(Rect::new(x, y, 1, 1), &[1, 2, 3, 0]).unwrap();
        }
        let mut hint = Region::new();
        for (x, y, w, h) in hints {
            hint.add_rect(Rect::new(x, y, w, h).clip_to(200, 150));
        }
        let ks = Kernel::available();
        let mut t = DamageTracker::new(&old);
        t.set_kernel(ks[kernel % ks.len()]);
        t.set_detect_moves(false);
        let d = t.refine(&new, &hint).unwrap();
        prop_assert!(d.moves.is_empty());
        prop_assert_eq!(&d.changed, &naive_damage(&old, &new, &hint));
        // Inside the hint the tracker now holds `new`.
        let again = t.refine(&new, &hint).unwrap();
        prop_assert!(again.changed.is_empty());
    }
}

#[test]
fn scroll_is_detected() {
    let old = textured(640, 480, 7);
    let mut new = old.clone();
    // A window's content (x 50..550, y 40..440) scrolls up by 37 rows; new text appears
    // at the bottom.
    new.copy_within(Rect::new(50, 77, 500, 363), 50, 40)
        .unwrap();
    new.fill(Rect::new(50, 403, 500, 37), &[9, 9, 9, 0])
        .unwrap();
    let mut t = DamageTracker::new(&old);
    let d = t.refine(&new, &Region::from(new.rect())).unwrap();
    assert_eq!(d.moves.len(), 1, "{d:?}");
    let m = d.moves[0];
    assert_eq!(m.src_y, m.dst.y + 37);
    assert_eq!((m.dst.x, m.dst.width), (50, 500));
    assert!(m.dst.height >= 300, "{m:?}");
    // What is left is (about) the newly exposed strip.
    assert!(
        d.changed.area() <= 500 * 40 + 500 * 2,
        "{}",
        d.changed.area()
    );
    assert_eq!(replay(&old, &new, &d), new);
}

#[test]
fn scroll_down_and_no_false_moves() {
    let old = textured(320, 240, 3);
    let mut new = old.clone();
    new.copy_within(Rect::new(0, 0, 320, 200), 0, 40).unwrap();
    let mut t = DamageTracker::new(&old);
    let d = t.refine(&new, &Region::from(new.rect())).unwrap();
    assert_eq!(d.moves.len(), 1);
    assert_eq!(d.moves[0].dst.y, d.moves[0].src_y + 40);
    assert_eq!(replay(&old, &new, &d), new);
    // Unrelated new content: no move.
    let other = textured(320, 240, 99);
    let mut t = DamageTracker::new(&old);
    let d = t.refine(&other, &Region::from(other.rect())).unwrap();
    assert!(d.moves.is_empty());
    assert_eq!(d.changed, Region::from(other.rect()));
}

#[test]
fn refine_ignores_unhinted_changes_and_checks_size() {
    let old = Framebuffer::new(128, 128, PixelFormat::RGB565);
    let mut new = old.clone();
    new.fill(Rect::new(100, 100, 5, 5), &[1, 1]).unwrap();
    let mut t = DamageTracker::new(&old);
    let d = t
        .refine(&new, &Region::from(Rect::new(0, 0, 64, 64)))
        .unwrap();
    assert!(d.changed.is_empty());
    let other = Framebuffer::new(64, 64, PixelFormat::RGB565);
    assert!(t.refine(&other, &Region::new()).is_err());
}

/// Throughput of each kernel over a 1080p frame pair (not a timed assertion; run with
/// `cargo test --release -p rfb-codec --test damage -- --ignored --nocapture`).
#[test]
#[ignore]
fn kernel_throughput() {
    let (w, h) = (1920u16, 1080u16);
    let old = textured(w, h, 1);
    let new = old.clone();
    let bytes = old.data().len() as f64;
    for k in Kernel::available() {
        let mut t = DamageTracker::new(&old);
        t.set_kernel(k);
        t.set_detect_moves(false);
        let hint = Region::from(new.rect());
        let n = 40;
        let start = std::time::Instant::now();
        for _ in 0..n {
            let d = t.refine(&new, &hint).unwrap();
            assert!(d.changed.is_empty());
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "{k:?}: {:.2} GB/s (both frames read: {:.2} GB/s)",
            bytes * f64::from(n) / s / 1e9,
            2.0 * bytes * f64::from(n) / s / 1e9
        );
    }
}

#[test]
fn window_drag_is_detected() {
    let bg = textured(640, 480, 11);
    let window = textured(200, 150, 42);
    let paste = |fb: &mut Framebuffer, x: u16, y: u16| {
        fb.put_pixels(
            Rect::new(x, y, 200, 150),
            &window.view(window.rect()).unwrap().to_packed(),
        )
        .unwrap();
    };
    let mut old = bg.clone();
    paste(&mut old, 50, 40);
    let mut new = bg.clone();
    paste(&mut new, 130, 90);
    let mut t = DamageTracker::new(&old);
    let d = t.refine(&new, &Region::from(new.rect())).unwrap();
    assert_eq!(d.moves.len(), 1, "{d:?}");
    let m = d.moves[0];
    assert_eq!((m.dst.x - m.src_x, m.dst.y - m.src_y), (80, 50), "{m:?}");
    assert!(m.dst.area() >= 190 * 140, "{m:?}");
    // Left to encode: about the uncovered background, not the window.
    assert!(
        d.changed.area() < 2 * 200 * 150 - 190 * 140,
        "{}",
        d.changed.area()
    );
    assert_eq!(replay(&old, &new, &d), new);
}

/// Cost of move detection when a whole 1080p frame changes to unrelated content (the
/// worst case for the search; not a timed assertion; run with `--ignored --nocapture`).
#[test]
#[ignore]
fn move_search_cost() {
    for (w, h, detect) in [
        (1920, 1080, false),
        (1920, 1080, true),
        (1280, 900, false),
        (1280, 900, true),
    ] {
        let old = textured(w, h, 1);
        let new = textured(w, h, 2);
        let start = std::time::Instant::now();
        let n = 10;
        for _ in 0..n {
            let mut t = DamageTracker::new(&old);
            t.set_detect_moves(detect);
            let d = t.refine(&new, &Region::from(new.rect())).unwrap();
            assert!(d.moves.is_empty());
        }
        println!(
            "detect_moves {detect}: {:.1} ms per frame",
            start.elapsed().as_secs_f64() * 1e3 / f64::from(n)
        );
    }
}

/// `refine` (no move detection) against slice `==` of two equal frames, when a share of
/// the frame changes every time (frames alternate between two versions). Not a timed
/// assertion; run with `cargo test --release -p rfb-codec --test damage -- --ignored
/// --nocapture refine_vs_memcmp`.
#[test]
#[ignore]
fn refine_vs_memcmp() {
    let (w, h) = (1280u16, 720u16);
    let a = textured(w, h, 1);
    for changed_rows in [0u16, 8, 240, 540, 720] {
        let mut b = a.clone();
        let other = textured(w, changed_rows.max(1), 2);
        if changed_rows > 0 {
            b.put_pixels(
                Rect::new(0, 0, w, changed_rows),
                &other.view(other.rect()).unwrap().to_packed(),
            )
            .unwrap();
        }
        let mut t = DamageTracker::new(&a);
        t.set_detect_moves(false);
        let hint = Region::from(a.rect());
        let n = 200;
        let start = std::time::Instant::now();
        for i in 0..n {
            let f = if i % 2 == 0 { &b } else { &a };
            std::hint::black_box(t.refine(f, &hint).unwrap());
        }
        let refine = start.elapsed().as_secs_f64();
        let (x, y) = (a.data().to_vec(), a.data().to_vec());
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(std::hint::black_box(x.as_slice()) == std::hint::black_box(y.as_slice()));
        }
        let memcmp = start.elapsed().as_secs_f64();
        // The copy a tracker must make of what changed: memcpy of the changed rows.
        let mut z = a.data().to_vec();
        let len = usize::from(changed_rows) * usize::from(w) * 4;
        let start = std::time::Instant::now();
        for i in 0..n {
            let f = if i % 2 == 0 { &b } else { &a };
            z[..len].copy_from_slice(&f.data()[..len]);
            std::hint::black_box(&z);
        }
        let memcpy = start.elapsed().as_secs_f64();
        let gbps = |s: f64| a.data().len() as f64 * f64::from(n) / s / 1e9;
        println!(
            "{changed_rows} of {h} rows changed: refine {:.2} GB/s, memcmp {:.2} GB/s ({:.0} %); memcpy of the changed rows alone {:.2} GB/s",
            gbps(refine),
            gbps(memcmp),
            100.0 * memcmp / refine,
            gbps(memcpy)
        );
    }
}
