//! SetDesktopSize (type 251).

use bytes::BufMut;

use crate::error::LimitExceeded;
use crate::limits::Limit;
use crate::wire::{Reader, Step};
use crate::{Limits, Screen};

/// Asks the server for a new framebuffer size and screen layout.
///
/// ```
/// use rfb_proto::{client::SetDesktopSize, Rect, Screen};
/// let msg = SetDesktopSize {
///     width: 1024,
///     height: 768,
///     screens: vec![Screen { id: 7, rect: Rect::new(0, 0, 1024, 768), flags: 0 }],
/// };
/// let mut w = Vec::new();
/// msg.encode(&mut w);
/// assert_eq!(&w[..8], [251, 0, 4, 0, 3, 0, 1, 0]);
/// assert_eq!(w.len(), 8 + 16);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetDesktopSize {
    /// Requested framebuffer width.
    pub width: u16,
    /// Requested framebuffer height.
    pub height: u16,
    /// Requested layout (at most 255 screens are written).
    pub screens: Vec<Screen>,
}

impl SetDesktopSize {
    /// Message type of SetDesktopSize.
    pub const MESSAGE_TYPE: u8 = 251;

    /// Reads the body; the screen count is checked against [`Limits::max_screens`]
    /// and the size against the framebuffer limits.
    pub(crate) fn read_body(r: &mut Reader<'_>, limits: &Limits) -> Step<Self> {
        r.skip(1)?;
        let width = r.u16()?;
        let height = r.u16()?;
        LimitExceeded::check(
            Limit::FramebufferWidth,
            width.into(),
            limits.max_framebuffer_width.into(),
        )?;
        LimitExceeded::check(
            Limit::FramebufferHeight,
            height.into(),
            limits.max_framebuffer_height.into(),
        )?;
        let n = r.u8()?;
        r.skip(1)?;
        let screens = Screen::read_list(r, n, limits.max_screens)?;
        Ok(SetDesktopSize {
            width,
            height,
            screens,
        })
    }

    /// Appends the whole message.
    pub fn encode(&self, out: &mut impl BufMut) {
        let n = self.screens.len().min(255);
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(0);
        out.put_u16(self.width);
        out.put_u16(self.height);
        out.put_u8(n as u8);
        out.put_u8(0);
        for s in &self.screens[..n] {
            s.encode(out);
        }
    }
}
