//! What a viewer has not been sent yet: a changed region and at most one move.

use rfb_codec::Region;
use rfb_proto::Rect;

/// A block of pixels that moved (a window drag, a scroll): the area `src` of the previous
/// frame now sits with its top-left corner at (`dst_x`, `dst_y`). Viewers that list
/// CopyRect receive it as one CopyRect rectangle instead of the pixels.
///
/// ```
/// use rfb_proto::Rect;
/// use rfb_server::CopyMove;
/// let m = CopyMove { src: Rect::new(0, 10, 100, 50), dst_x: 0, dst_y: 0 };
/// assert_eq!(m.dst(), Rect::new(0, 0, 100, 50));
/// assert_eq!(m.delta(), (0, -10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CopyMove {
    /// Where the pixels were in the previous frame.
    pub src: Rect,
    /// Left edge of where they are now.
    pub dst_x: u16,
    /// Top edge of where they are now.
    pub dst_y: u16,
}

impl CopyMove {
    /// The destination rectangle.
    pub fn dst(&self) -> Rect {
        Rect::new(self.dst_x, self.dst_y, self.src.width, self.src.height)
    }

    /// How far the pixels moved, `(dx, dy)`.
    pub fn delta(&self) -> (i32, i32) {
        (
            i32::from(self.dst_x) - i32::from(self.src.x),
            i32::from(self.dst_y) - i32::from(self.src.y),
        )
    }

    /// True if both source and destination lie inside a `width` x `height` framebuffer.
    pub fn fits_in(&self, width: u16, height: u16) -> bool {
        self.src.fits_in(width, height) && self.dst().fits_in(width, height)
    }
}

/// A damage hint from the product: what may have changed in a new frame.
///
/// ```
/// use rfb_proto::Rect;
/// use rfb_server::Damage;
/// let d = Damage::from(Rect::new(0, 0, 10, 10));
/// assert!(matches!(d, Damage::Region(r) if r.contains(9, 9) && !r.contains(10, 0)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// Anything may have changed.
    Everything,
    /// Only pixels inside this region may have changed.
    Region(Region),
}

impl From<Rect> for Damage {
    fn from(r: Rect) -> Damage {
        Damage::Region(Region::from(r))
    }
}

impl From<Region> for Damage {
    fn from(r: Region) -> Damage {
        Damage::Region(r)
    }
}

/// Changes a viewer has not been sent yet, merged rather than queued: however many
/// frames go by, it is one region (at most the whole screen), at most one move and a
/// resize flag. Its memory is bounded by the region's rectangle count, which tile-grained
/// damage keeps below one rectangle per 64x64 tile.
///
/// ```
/// use rfb_proto::Rect;
/// use rfb_server::{CopyMove, PendingUpdate};
/// let mut p = PendingUpdate::default();
/// p.add_rect(Rect::new(0, 0, 10, 10));
/// // A later move of an area that holds unsent changes carries those changes along.
/// p.add_move(CopyMove { src: Rect::new(0, 0, 20, 20), dst_x: 100, dst_y: 0 });
/// assert!(p.region.contains(105, 5));
/// assert!(p.copy.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingUpdate {
    /// Pixels to send.
    pub region: Region,
    /// A move to send first, as CopyRect.
    pub copy: Option<CopyMove>,
    /// The framebuffer changed size: everything must be sent again.
    pub resized: bool,
}

impl PendingUpdate {
    /// Nothing pending.
    pub fn is_empty(&self) -> bool {
        self.region.is_empty() && self.copy.is_none() && !self.resized
    }

    /// Marks `rect` changed.
    pub fn add_rect(&mut self, rect: Rect) {
        self.region.add_rect(rect);
    }

    /// Marks `region` changed.
    pub fn add_region(&mut self, region: &Region) {
        if !region.is_empty() {
            self.region = self.region.union(region);
        }
    }

    /// Records a move that happened after everything already pending.
    ///
    /// Unsent changes inside the source travel with it (the viewer's copy of them is
    /// stale, so their destination is stale too). Only one move is kept: a second one
    /// while the first is unsent becomes plain damage on its destination.
    pub fn add_move(&mut self, mv: CopyMove) {
        if self.resized || mv.src.is_empty() {
            return;
        }
        let (dx, dy) = mv.delta();
        let carried = self.region.clip(mv.src).translate(dx, dy);
        if self.copy.is_some() {
            self.region.add_rect(mv.dst());
            return;
        }
        // The destination now holds the moved pixels; what was pending there is
        // overwritten, except what the move itself carries in stale.
        self.region = self
            .region
            .subtract(&Region::from(mv.dst()))
            .union(&carried);
        self.copy = Some(mv);
    }

    /// Folds `later` (changes that happened after these) into `self`.
    pub fn merge(&mut self, later: PendingUpdate) {
        if later.resized {
            *self = later;
            return;
        }
        if let Some(mv) = later.copy {
            self.add_move(mv);
        }
        self.add_region(&later.region);
    }

    /// Turns the move, if any, into plain damage (for viewers without CopyRect).
    pub fn flatten_move(&mut self) {
        if let Some(mv) = self.copy.take() {
            self.region.add_rect(mv.dst());
        }
    }

    /// Takes everything, leaving nothing pending.
    pub fn take(&mut self) -> PendingUpdate {
        std::mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_move_becomes_damage() {
        let mut p = PendingUpdate::default();
        let a = CopyMove {
            src: Rect::new(0, 0, 10, 10),
            dst_x: 20,
            dst_y: 0,
        };
        let b = CopyMove {
            src: Rect::new(0, 20, 10, 10),
            dst_x: 40,
            dst_y: 40,
        };
        p.add_move(a);
        p.add_move(b);
        assert_eq!(p.copy, Some(a));
        assert!(p.region.contains_rect(b.dst()));
    }

    #[test]
    fn move_overwrites_pending_destination() {
        let mut p = PendingUpdate::default();
        p.add_rect(Rect::new(20, 0, 10, 10));
        p.add_move(CopyMove {
            src: Rect::new(0, 0, 10, 10),
            dst_x: 20,
            dst_y: 0,
        });
        assert!(p.region.is_empty());
    }

    #[test]
    fn resize_wins_over_everything() {
        let mut p = PendingUpdate::default();
        p.add_rect(Rect::new(0, 0, 5, 5));
        p.merge(PendingUpdate {
            resized: true,
            ..Default::default()
        });
        assert!(p.resized);
        assert!(p.region.is_empty());
    }
}
