//! The initialisation messages: ClientInit and ServerInit.

use bytes::BufMut;

use crate::error::{LimitExceeded, Malformed};
use crate::limits::Limit;
use crate::security::put_string;
use crate::text::read_string;
use crate::wire::{fail, run};
use crate::{Error, Limits, PixelFormat, Progress};

/// ClientInit: one byte, the shared flag.
///
/// ```
/// use rfb_proto::ClientInit;
/// let mut w = Vec::new();
/// ClientInit { shared: true }.encode(&mut w);
/// assert_eq!(w, [1]);
/// assert_eq!(ClientInit::decode(&[7]).unwrap().done(), Some((ClientInit { shared: true }, 1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInit {
    /// Leave other viewers connected (true) or ask for exclusive access (false).
    pub shared: bool,
}

impl ClientInit {
    /// Parses the byte (any non-zero value means shared).
    pub fn decode(buf: &[u8]) -> Result<Progress<ClientInit>, Error> {
        run(buf, |r| {
            Ok(ClientInit {
                shared: r.u8()? != 0,
            })
        })
    }

    /// Appends the byte.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(u8::from(self.shared));
    }
}

/// ServerInit: framebuffer size, the server's pixel format and the desktop name.
///
/// ```
/// use rfb_proto::{Limits, PixelFormat, ServerInit};
/// let init = ServerInit { width: 800, height: 600, pixel_format: PixelFormat::RGB888, name: "desk".into() };
/// let mut w = Vec::new();
/// init.encode(&mut w);
/// assert_eq!(w.len(), 2 + 2 + 16 + 4 + 4);
/// assert_eq!(ServerInit::decode(&w, &Limits::default()).unwrap().done(), Some((init, w.len())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInit {
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// The server's natural pixel format.
    pub pixel_format: PixelFormat,
    /// The desktop name (decoded as UTF-8, or Latin-1 where it is not valid UTF-8).
    pub name: String,
}

impl ServerInit {
    /// Parses and checks the message: the pixel format must be valid, the size non-empty
    /// and within [`Limits::max_framebuffer_width`]/[`Limits::max_framebuffer_height`],
    /// and the name within [`Limits::max_desktop_name`].
    pub fn decode(buf: &[u8], limits: &Limits) -> Result<Progress<ServerInit>, Error> {
        run(buf, |r| {
            let width = r.u16()?;
            let height = r.u16()?;
            let pixel_format = PixelFormat::read(r)?;
            if width == 0 || height == 0 {
                return fail(Malformed::EmptyFramebuffer(width, height));
            }
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
            let name = read_string(r, limits.max_desktop_name, Limit::DesktopName)?;
            Ok(ServerInit {
                width,
                height,
                pixel_format,
                name,
            })
        })
    }

    /// Appends the message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u16(self.width);
        out.put_u16(self.height);
        self.pixel_format.encode(out);
        put_string(out, &self.name);
    }
}
