//! Diff once, fan out: the product's frames, refined damage, and each viewer's share.

use std::collections::HashMap;
use std::sync::Arc;

use rfb_codec::damage::DamageTracker;
use rfb_codec::{Framebuffer, Region};
use rfb_proto::Rect;

use crate::{CopyMove, Damage, PendingUpdate};

/// Side of the square tiles the damage pass compares before narrowing each changed
/// tile to its changed rows and columns.
pub const TILE: u16 = rfb_codec::damage::TILE;

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
/// The pass is rfb-codec's [`DamageTracker`]: it compares 64x64 tiles ([`TILE`]) of the
/// new frame with the previous one (SIMD where the CPU has it), narrows each changed
/// tile to the rows and columns that really changed, and finds content that moved
/// (a scroll, a window drag) even when the product did not say so: that becomes the
/// viewers' CopyRect. Only the newest frame is kept for encoding (an `Arc`, so encoders
/// can read it while the product prepares the next): a viewer that is slow gets the
/// merged region of several frames encoded from the newest one, never a queue.
///
/// Memory: the current frame, the tracker's copy of it, the new frame during
/// [`Session::update`], and one [`PendingUpdate`] per viewer.
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
/// // The hint says "anything", the pass finds the 2x2 pixels that changed.
/// let changed = session.update(next, Damage::Everything);
/// assert_eq!(changed.bounding_box(), Some(Rect::new(70, 10, 2, 2)));
/// assert_eq!(session.take(viewer).unwrap().region, changed);
/// assert!(session.take(viewer).is_none());
/// ```
#[derive(Debug)]
pub struct Session {
    frame: Arc<Framebuffer>,
    tracker: DamageTracker,
    viewers: HashMap<ViewerId, PendingUpdate>,
    next_id: u64,
    serial: u64,
}

impl Session {
    /// A session showing `frame` (in the server's native pixel format).
    pub fn new(frame: Framebuffer) -> Session {
        Session {
            tracker: DamageTracker::new(&frame),
            frame: Arc::new(frame),
            viewers: HashMap::new(),
            next_id: 1,
            serial: 0,
        }
    }

    /// Turns the recognition of moved content (scrolls, window drags) on or off
    /// (default on). Off, the pass only compares and narrows, several times cheaper on
    /// busy screens, and moved content is sent as pixels unless the product reports the
    /// move ([`Session::update_with_move`]).
    pub fn set_detect_moves(&mut self, on: bool) {
        self.tracker.set_detect_moves(on);
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
    /// what really changed (pixel-exact within each 64x64 tile, moved content that the
    /// pass recognised excluded), which every viewer now has pending together with that
    /// move. A frame of a different size (or pixel format) is a resize: every viewer
    /// gets everything.
    pub fn update(&mut self, frame: Framebuffer, hint: Damage) -> Region {
        self.update_inner(frame, None, hint)
    }

    /// Like [`update`](Self::update), for a frame in which `mv` happened first (then the
    /// changes in `hint`). Viewers that list CopyRect get the move as CopyRect; the
    /// damage pass compares against the previous frame with the move applied, so the
    /// moved pixels are not sent again. A move that does not fit the frame is treated as
    /// damage on its destination. (The pass may find a further move in what is left:
    /// a viewer with an unsent move gets that one as pixels.)
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
            self.tracker.reset(&frame);
            self.frame = Arc::new(frame);
            return full;
        }
        let mut hint = match hint {
            Damage::Everything => full,
            Damage::Region(r) => r.clip(frame.rect()),
        };
        let mv = mv.filter(|m| !m.src.is_empty());
        let applied = match mv {
            // The tracker's copy becomes the previous frame as the viewers will have it
            // after the CopyRect.
            Some(m) => self.tracker.apply_move(m.src, m.dst_x, m.dst_y).is_ok(),
            None => false,
        };
        if let Some(m) = mv {
            hint.add_rect(m.dst().clip_to(frame.width(), frame.height()));
        }
        let (changed, found) = match self.tracker.refine(&frame, &hint) {
            Ok(d) => {
                let found = d.moves.first().map(|m| CopyMove {
                    src: Rect::new(m.src_x, m.src_y, m.dst.width, m.dst.height),
                    dst_x: m.dst.x,
                    dst_y: m.dst.y,
                });
                (d.changed, found)
            }
            // Size and format were checked above; should the tracker still refuse,
            // start it again and send everything hinted.
            Err(_) => {
                self.tracker.reset(&frame);
                (hint, None)
            }
        };
        // A move that does not fit was not applied: the pass compared its destination
        // with the unmoved frame, so its pixels are in `changed`.
        let given = if applied { mv } else { None };
        for p in self.viewers.values_mut() {
            if let Some(m) = given {
                p.add_move(m);
            }
            if let Some(m) = found {
                p.add_move(m);
            }
            p.add_region(&changed);
        }
        self.frame = Arc::new(frame);
        changed
    }
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
        assert_eq!(r.bounding_box(), Some(Rect::new(150, 80, 1, 1)));
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
    fn scroll_is_found_without_a_hint() {
        // Rows of distinct colours, scrolled up by 20 rows: the viewers get a CopyRect
        // and only the newly exposed rows as pixels.
        let mut first = fb();
        for y in 0..100u16 {
            let c = [y as u8, (y * 7) as u8, (y * 13) as u8, 0];
            first.fill(Rect::new(0, y, 200, 1), &c).unwrap();
        }
        let mut next = first.clone();
        next.copy_within(Rect::new(0, 20, 200, 80), 0, 0).unwrap();
        next.fill(Rect::new(0, 80, 200, 20), &[1, 1, 1, 0]).unwrap();
        let mut s = Session::new(first);
        let v = s.add_viewer();
        s.update(next, Damage::Everything);
        let p = s.take(v).unwrap();
        let mv = p.copy.expect("a scroll");
        assert_eq!(mv.delta(), (0, -20));
        assert!(mv.dst().height >= 60);
        assert!(!p.region.contains(100, 10));
        assert!(p.region.contains(100, 90));
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
