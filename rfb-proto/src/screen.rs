//! Screens of a multi-head layout (ExtendedDesktopSize and SetDesktopSize).

use bytes::BufMut;

use crate::error::LimitExceeded;
use crate::limits::Limit;
use crate::wire::{Reader, Step};
use crate::Rect;

/// One screen (head) inside the framebuffer, as the `SCREEN` structure carries it.
///
/// ```
/// use rfb_proto::{Rect, Screen};
/// let s = Screen { id: 1, rect: Rect::new(0, 0, 1920, 1080), flags: 0 };
/// let mut w = Vec::new();
/// s.encode(&mut w);
/// assert_eq!(w, [0, 0, 0, 1, 0, 0, 0, 0, 7, 128, 4, 56, 0, 0, 0, 0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Screen {
    /// Identifier, unique within the layout and stable for the screen's lifetime.
    pub id: u32,
    /// Position and size inside the framebuffer.
    pub rect: Rect,
    /// Flags (currently unused by the spec; must be preserved).
    pub flags: u32,
}

impl Screen {
    /// Length of the structure on the wire.
    pub const LEN: usize = 16;

    pub(crate) fn read(r: &mut Reader<'_>) -> Step<Screen> {
        Ok(Screen {
            id: r.u32()?,
            rect: Rect::read(r)?,
            flags: r.u32()?,
        })
    }

    /// Appends the 16-byte structure.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u32(self.id);
        self.rect.encode(out);
        out.put_u32(self.flags);
    }

    /// Reads `count` screens after checking `count` against `max`.
    #[doc(hidden)]
    pub fn read_list(r: &mut Reader<'_>, count: u8, max: u8) -> Step<Vec<Screen>> {
        LimitExceeded::check(Limit::Screens, count.into(), max.into())?;
        r.need(usize::from(count) * Screen::LEN)?;
        (0..count).map(|_| Screen::read(r)).collect()
    }
}
