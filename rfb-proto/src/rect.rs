//! Rectangles in framebuffer coordinates.

use bytes::BufMut;

use crate::error::Malformed;
use crate::wire::{Reader, Step};
use crate::Error;

/// An axis-aligned rectangle as the protocol carries it: `u16` position and size.
///
/// Edge arithmetic is done in `u32` so `x + width` never overflows.
///
/// ```
/// use rfb_proto::Rect;
/// let r = Rect::new(10, 20, 30, 40);
/// assert_eq!((r.right(), r.bottom()), (40, 60));
/// assert!(r.fits_in(40, 60));
/// assert!(!r.fits_in(39, 60));
/// assert_eq!(r.intersect(&Rect::new(0, 0, 15, 25)), Some(Rect::new(10, 20, 5, 5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge.
    pub x: u16,
    /// Top edge.
    pub y: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

impl Rect {
    /// A rectangle from position and size.
    pub const fn new(x: u16, y: u16, width: u16, height: u16) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// One past the right edge.
    pub const fn right(&self) -> u32 {
        self.x as u32 + self.width as u32
    }

    /// One past the bottom edge.
    pub const fn bottom(&self) -> u32 {
        self.y as u32 + self.height as u32
    }

    /// No pixels.
    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Number of pixels.
    pub const fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Lies entirely inside a `width` x `height` framebuffer.
    pub const fn fits_in(&self, width: u16, height: u16) -> bool {
        self.right() <= width as u32 && self.bottom() <= height as u32
    }

    /// [`Malformed::RectOutOfBounds`] unless the rectangle fits in the framebuffer.
    pub fn check_within(&self, fb_width: u16, fb_height: u16) -> Result<(), Error> {
        if self.fits_in(fb_width, fb_height) {
            Ok(())
        } else {
            Err(Malformed::RectOutOfBounds {
                x: self.x,
                y: self.y,
                width: self.width,
                height: self.height,
                fb_width,
                fb_height,
            }
            .into())
        }
    }

    /// The overlap of two rectangles, if it has any pixels.
    pub fn intersect(&self, other: &Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        (u32::from(x0) < x1 && u32::from(y0) < y1).then(|| {
            Rect::new(
                x0,
                y0,
                (x1 - u32::from(x0)) as u16,
                (y1 - u32::from(y0)) as u16,
            )
        })
    }

    /// The part of the rectangle inside a `width` x `height` framebuffer (possibly empty),
    /// as the spec asks servers to crop update requests.
    pub fn clip_to(&self, width: u16, height: u16) -> Rect {
        self.intersect(&Rect::new(0, 0, width, height))
            .unwrap_or_default()
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Step<Rect> {
        Ok(Rect::new(r.u16()?, r.u16()?, r.u16()?, r.u16()?))
    }

    /// Appends x, y, width, height as four `U16`.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u16(self.x);
        out.put_u16(self.y);
        out.put_u16(self.width);
        out.put_u16(self.height);
    }
}
