//! The ExtendedDesktopSize pseudo-encoding's rectangle and payload.

use bytes::BufMut;

use crate::wire::run;
use crate::{Encoding, Error, Limits, Progress, Rect, RectHeader, Screen};

/// A framebuffer size and screen layout, sent as a pseudo-rectangle whose x is the
/// reason, y the status, and width/height the framebuffer size.
///
/// ```
/// use rfb_proto::server::ExtendedDesktopSize;
/// use rfb_proto::{Rect, Screen};
/// let eds = ExtendedDesktopSize {
///     reason: ExtendedDesktopSize::REASON_CLIENT,
///     status: ExtendedDesktopSize::STATUS_OK,
///     width: 800,
///     height: 600,
///     screens: vec![Screen { id: 1, rect: Rect::new(0, 0, 800, 600), flags: 0 }],
/// };
/// let mut w = Vec::new();
/// eds.encode(&mut w);
/// assert_eq!(&w[..16], [0, 1, 0, 0, 3, 32, 2, 88, 0xff, 0xff, 0xfe, 0xcc, 1, 0, 0, 0]);
/// let header = eds.header();
/// let back = ExtendedDesktopSize::decode(&header, &w[12..], &Default::default()).unwrap();
/// assert_eq!(back.done(), Some((eds, 4 + 16)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedDesktopSize {
    /// Why the layout changed (the rectangle's x): see the `REASON_*` constants;
    /// unknown reasons should be treated as [`ExtendedDesktopSize::REASON_SERVER`].
    pub reason: u16,
    /// Result of a client's request (the rectangle's y): see the `STATUS_*` constants.
    pub status: u16,
    /// Framebuffer width (the rectangle's width).
    pub width: u16,
    /// Framebuffer height (the rectangle's height).
    pub height: u16,
    /// The screens (at most 255 are written).
    pub screens: Vec<Screen>,
}

impl ExtendedDesktopSize {
    /// The server changed the layout (or answers a non-incremental request).
    pub const REASON_SERVER: u16 = 0;
    /// This client asked for the change.
    pub const REASON_CLIENT: u16 = 1;
    /// Another client asked for the change.
    pub const REASON_OTHER_CLIENT: u16 = 2;
    /// No error.
    pub const STATUS_OK: u16 = 0;
    /// Resize is administratively prohibited.
    pub const STATUS_PROHIBITED: u16 = 1;
    /// Out of resources.
    pub const STATUS_OUT_OF_RESOURCES: u16 = 2;
    /// Invalid screen layout.
    pub const STATUS_INVALID_LAYOUT: u16 = 3;
    /// Request forwarded (may complete later).
    pub const STATUS_FORWARDED: u16 = 4;

    /// Parses the payload that follows `header`; the screen count is checked against
    /// [`Limits::max_screens`] before the screens are waited for. The size is not
    /// checked (it is undefined in a failure reply); check it before resizing.
    pub fn decode(
        header: &RectHeader,
        payload: &[u8],
        limits: &Limits,
    ) -> Result<Progress<Self>, Error> {
        run(payload, |r| {
            let n = r.u8()?;
            r.skip(3)?;
            let screens = Screen::read_list(r, n, limits.max_screens)?;
            Ok(ExtendedDesktopSize {
                reason: header.rect.x,
                status: header.rect.y,
                width: header.rect.width,
                height: header.rect.height,
                screens,
            })
        })
    }

    /// The rectangle header carrying reason, status and size.
    pub fn header(&self) -> RectHeader {
        RectHeader {
            rect: Rect::new(self.reason, self.status, self.width, self.height),
            encoding: Encoding::EXTENDED_DESKTOP_SIZE,
        }
    }

    /// Appends the payload: screen count, padding and screens.
    pub fn encode_payload(&self, out: &mut impl BufMut) {
        let n = self.screens.len().min(255);
        out.put_u8(n as u8);
        out.put_slice(&[0, 0, 0]);
        for s in &self.screens[..n] {
            s.encode(out);
        }
    }

    /// Appends the rectangle header and the payload.
    pub fn encode(&self, out: &mut impl BufMut) {
        self.header().encode(out);
        self.encode_payload(out);
    }
}
