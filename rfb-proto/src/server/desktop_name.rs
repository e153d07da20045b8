//! The DesktopName pseudo-encoding's payload.

use bytes::BufMut;

use crate::limits::Limit;
use crate::text::read_string;
use crate::wire::run;
use crate::{Encoding, Error, Limits, Progress, Rect, RectHeader};

/// A new desktop name, sent as a pseudo-rectangle (all of x, y, width, height zero)
/// with a `U32` length and the UTF-8 name as payload.
///
/// ```
/// use rfb_proto::server::DesktopName;
/// let mut w = Vec::new();
/// DesktopName { name: "pc".into() }.encode_payload(&mut w);
/// assert_eq!(w, [0, 0, 0, 2, b'p', b'c']);
/// let d = DesktopName::decode(&w, &Default::default()).unwrap().done().unwrap();
/// assert_eq!(d, (DesktopName { name: "pc".into() }, 6));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DesktopName {
    /// The name (UTF-8, or Latin-1 where the bytes are not valid UTF-8).
    pub name: String,
}

impl DesktopName {
    /// The rectangle header that announces the payload.
    pub const HEADER: RectHeader = RectHeader {
        rect: Rect::new(0, 0, 0, 0),
        encoding: Encoding::DESKTOP_NAME,
    };

    /// Parses the payload; the length is checked against [`Limits::max_desktop_name`]
    /// before the name is waited for.
    pub fn decode(payload: &[u8], limits: &Limits) -> Result<Progress<DesktopName>, Error> {
        run(payload, |r| {
            Ok(DesktopName {
                name: read_string(r, limits.max_desktop_name, Limit::DesktopName)?,
            })
        })
    }

    /// Appends the payload (length and name).
    pub fn encode_payload(&self, out: &mut impl BufMut) {
        crate::security::put_string(out, &self.name);
    }

    /// Appends the rectangle header and the payload.
    pub fn encode(&self, out: &mut impl BufMut) {
        Self::HEADER.encode(out);
        self.encode_payload(out);
    }
}
