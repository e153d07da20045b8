//! Diff once, fan out: the product's frames, refined damage, and each viewer's share.

use std::collections::HashMap;
use std::sync::Arc;

use rfb_codec::{Framebuffer, Region};
use rfb_proto::Rect;

use crate::{CopyMove, Damage, PendingUpdate};

/// Side of the square tiles the damage pass compares.
pub const TILE: u16 = 64;

/// Identifies one viewer inside a [`Session`].
///
/// ```
/// use rfb_server::ViewerId;
/// assert_eq!(ViewerId(3).to_string(), "#3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewerId(pub u64);

impl std::fmt::Display for ViewerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The shared screen of a server, sans-IO: the product hands over each new frame with a
/// damage hint (or a move), one damage pass refines the hint into the tiles that really
/// changed, and every viewer accumulates its own [`PendingUpdate`] until its connection
/// takes it ([`Session::take`]) and hands it to
/// [`ServerConnection::add_pending`](crate::ServerConnection::add_pending).
///
/// The pass compares 64x64 tiles ([`TILE`]) of the new frame with the previous one
/// (slice `==`, which is memcmp). Only the newest frame is kept (an `Arc`, so encoders
/// can read it while the product prepares the next): a viewer that is slow gets the
/// merged region of several frames encoded from the newest one, never a queue.
///
/// Memory: two frames (the current one and, during [`Session::update`], the new one) plus
/// one [`PendingUpdate`] per viewer.
///
/// ```
/// use rfb_codec::Framebuffer;
/// use rfb_proto::{PixelFormat, Rect};
/// use rfb_server::{Damage, Session};
///
/// let mut session = Session::new(Framebuffer::new(256, 128, PixelFormat::RGB888));
/// let viewer = session.add_viewer();
/// let mut next = (**session.frame()).clone();
/// next.fill(Rect::new(70, 10, 2, 2), &[255, 255, 255, 0]).unwrap();
/// // The hint says "anything", the pass finds the one 64x64 tile that changed.
/// let changed = session.update(next, Damage::Everything);
/// assert_eq!(changed.bounding_box(), Some(Rect::new(64, 0, 64, 64)));
/// assert_eq!(session.take(viewer).unwrap().region, changed);
/// assert!(session.take(viewer).is_none());
/// ```
#[derive(Debug)]
pub struct Session {
    frame: Arc<Framebuffer>,
    viewers: HashMap<ViewerId, PendingUpdate>,
    next_id: u64,
    serial: u64,
}

impl Session {
    /// A session showing `frame` (in the server's native pixel format).
    pub fn new(frame: Framebuffer) -> Session {
        Session {
            frame: Arc::new(frame),
            viewers: HashMap::new(),
            next_id: 1,
            serial: 0,
        }
    }

    /// The current frame.
    pub fn frame(&self) -> &Arc<Framebuffer> {
        &self.frame
    }

    /// How many frames have been handed over (a change counter).
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// Registers a viewer. It starts with nothing pending: its first (non-incremental)
    /// update request asks for the whole screen anyway.
    pub fn add_viewer(&mut self) -> ViewerId {
        let id = ViewerId(self.next_id);
        self.next_id += 1;
        self.viewers.insert(id, PendingUpdate::default());
        id
    }

    /// Forgets a viewer.
    pub fn remove_viewer(&mut self, id: ViewerId) {
        self.viewers.remove(&id);
    }

    /// The registered viewers.
    pub fn viewers(&self) -> impl Iterator<Item = ViewerId> + '_ {
        self.viewers.keys().copied()
    }

    /// Takes what `id` has not been given yet (`None` if nothing, or unknown viewer).
    pub fn take(&mut self, id: ViewerId) -> Option<PendingUpdate> {
        let p = self.viewers.get_mut(&id)?;
        (!p.is_empty()).then(|| p.take())
    }

    /// Replaces the frame. `hint` bounds what may have changed; the returned region is
    /// what really changed (tile-grained), which every viewer now has pending. A frame
    /// of a different size (or pixel format) is a resize: every viewer gets everything.
    pub fn update(&mut self, frame: Framebuffer, hint: Damage) -> Region {
        self.update_inner(frame, None, hint)
    }

    /// Like [`update`](Self::update), for a frame in which `mv` happened first (then the
    /// changes in `hint`). Viewers that list CopyRect get the move as CopyRect; the
    /// damage pass compares against the previous frame with the move applied, so the
    /// moved pixels are not sent again. A move that does not fit the frame is treated as
    /// damage on its destination.
    pub fn update_with_move(&mut self, frame: Framebuffer, mv: CopyMove, hint: Damage) -> Region {
        self.update_inner(frame, Some(mv), hint)
    }

    fn update_inner(&mut self, frame: Framebuffer, mv: Option<CopyMove>, hint: Damage) -> Region {
        self.serial += 1;
        let old = &self.frame;
        let full = Region::from(frame.rect());
        if old.width() != frame.width()
            || old.height() != frame.height()
            || old.format() != frame.format()
        {
            for p in self.viewers.values_mut() {
                p.merge(PendingUpdate {
                    region: full.clone(),
                    copy: None,
                    resized: true,
                });
            }
            self.frame = Arc::new(frame);
            return full;
        }
        let mut hint = match hint {
            Damage::Everything => full.clone(),
            Damage::Region(r) => r.clip(frame.rect()),
        };
        let (changed, mv) = match mv {
            Some(mv) if mv.fits_in(frame.width(), frame.height()) && !mv.src.is_empty() => {
                // Compare with the previous frame as the viewers will have it after the
                // CopyRect.
                let mut moved = (**old).clone();
                if moved.copy_within(mv.src, mv.dst_x, mv.dst_y).is_err() {
                    hint.add_rect(mv.dst());
                    (refine(old, &frame, &hint), None)
                } else {
                    hint.add_rect(mv.dst());
                    (refine(&moved, &frame, &hint), Some(mv))
                }
            }
            Some(mv) => {
                hint.add_rect(mv.dst().clip_to(frame.width(), frame.height()));
                (refine(old, &frame, &hint), None)
            }
            None => (refine(old, &frame, &hint), None),
        };
        for p in self.viewers.values_mut() {
            p.merge(PendingUpdate {
                region: changed.clone(),
                copy: mv,
                resized: false,
            });
        }
        self.frame = Arc::new(frame);
        changed
    }
}

/// The 64x64 tiles of `hint` whose pixels differ between `old` and `new` (same size and
/// format).
pub(crate) fn refine(old: &Framebuffer, new: &Framebuffer, hint: &Region) -> Region {
    let (w, h) = (new.width(), new.height());
    if w == 0 || h == 0 {
        return Region::new();
    }
    let tiles_x = usize::from(w).div_ceil(usize::from(TILE));
    let tiles_y = usize::from(h).div_ceil(usize::from(TILE));
    let mut seen = vec![false; tiles_x * tiles_y];
    let mut changed = Vec::new();
    let bpp = new.bytes_per_pixel();
    for r in hint.rects() {
        let r = r.clip_to(w, h);
        if r.is_empty() {
            continue;
        }
        let (tx0, ty0) = (usize::from(r.x / TILE), usize::from(r.y / TILE));
        let tx1 = (r.right() as usize - 1) / usize::from(TILE);
        let ty1 = (r.bottom() as usize - 1) / usize::from(TILE);
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                let i = ty * tiles_x + tx;
                if seen[i] {
                    continue;
                }
                seen[i] = true;
                // tx, ty < 1024 tiles of 64 fit in u16 arithmetic: x < w <= 65535.
                let x = (tx * usize::from(TILE)) as u16;
                let y = (ty * usize::from(TILE)) as u16;
                let tile = Rect::new(x, y, TILE.min(w - x), TILE.min(h - y));
                let (a, b) = (
                    usize::from(tile.x) * bpp,
                    usize::from(tile.right() as u16) * bpp,
                );
                let differs = (tile.y..tile.y + tile.height)
                    .any(|row| old.row(row)[a..b] != new.row(row)[a..b]);
                if differs {
                    changed.push(tile);
                }
            }
        }
    }
    changed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfb_proto::PixelFormat;

    fn fb() -> Framebuffer {
        Framebuffer::new(200, 100, PixelFormat::RGB888)
    }

    #[test]
    fn unchanged_frame_gives_no_damage() {
        let mut s = Session::new(fb());
        let v = s.add_viewer();
        assert!(s.update(fb(), Damage::Everything).is_empty());
        assert!(s.take(v).is_none());
    }

    #[test]
    fn hint_bounds_the_pass() {
        let mut s = Session::new(fb());
        let mut next = fb();
        next.fill(Rect::new(150, 80, 1, 1), &[1, 2, 3, 0]).unwrap();
        // The change lies outside the hint: the product said it did not change there.
        assert!(s
            .update(next.clone(), Damage::from(Rect::new(0, 0, 64, 64)))
            .is_empty());
        let mut s = Session::new(fb());
        let r = s.update(next, Damage::from(Rect::new(140, 70, 20, 20)));
        assert_eq!(r.bounding_box(), Some(Rect::new(128, 64, 64, 36)));
    }

    #[test]
    fn move_is_not_sent_as_pixels() {
        let mut first = fb();
        first.fill(Rect::new(0, 0, 64, 64), &[9, 9, 9, 0]).unwrap();
        let mut s = Session::new(first.clone());
        let v = s.add_viewer();
        let mut next = fb();
        next.fill(Rect::new(128, 0, 64, 64), &[9, 9, 9, 0]).unwrap();
        let mv = CopyMove {
            src: Rect::new(0, 0, 64, 64),
            dst_x: 128,
            dst_y: 0,
        };
        // The source area was uncovered (now black) and is damage; the destination is not.
        let changed = s.update_with_move(next, mv, Damage::from(Rect::new(0, 0, 64, 64)));
        assert_eq!(changed.bounding_box(), Some(Rect::new(0, 0, 64, 64)));
        let p = s.take(v).unwrap();
        assert_eq!(p.copy, Some(mv));
        assert!(!p.region.contains(130, 10));
    }

    #[test]
    fn resize_marks_everything() {
        let mut s = Session::new(fb());
        let v = s.add_viewer();
        s.update(
            Framebuffer::new(50, 50, PixelFormat::RGB888),
            Damage::Everything,
        );
        let p = s.take(v).unwrap();
        assert!(p.resized);
        assert_eq!(p.region.bounding_box(), Some(Rect::new(0, 0, 50, 50)));
    }
}
