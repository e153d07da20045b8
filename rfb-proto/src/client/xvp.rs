//! The xvp message (type 250), the same layout in both directions.

use bytes::BufMut;

use crate::wire::{Reader, Step};

/// An xvp message: client requests (shutdown, reboot, reset) and server replies
/// (fail, init). Codes are kept as they arrive; the constants name the defined ones.
///
/// ```
/// use rfb_proto::client::Xvp;
/// let mut w = Vec::new();
/// Xvp { version: 1, code: Xvp::REBOOT }.encode(&mut w);
/// assert_eq!(w, [250, 0, 1, 3]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Xvp {
    /// The xvp extension version (1 is the only one defined).
    pub version: u8,
    /// The message code.
    pub code: u8,
}

impl Xvp {
    /// Message type of xvp messages.
    pub const MESSAGE_TYPE: u8 = 250;
    /// Server: the requested operation failed.
    pub const FAIL: u8 = 0;
    /// Server: xvp is supported (with the highest supported version).
    pub const INIT: u8 = 1;
    /// Client: clean shutdown.
    pub const SHUTDOWN: u8 = 2;
    /// Client: clean reboot.
    pub const REBOOT: u8 = 3;
    /// Client: abrupt reset.
    pub const RESET: u8 = 4;

    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Self> {
        r.skip(1)?;
        Ok(Xvp {
            version: r.u8()?,
            code: r.u8()?,
        })
    }

    /// Appends the whole 4-byte message.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(0);
        out.put_u8(self.version);
        out.put_u8(self.code);
    }
}
