//! Server-to-client messages of the normal phase, one module per message kind, and
//! the typed payloads of pseudo-encodings with fixed layouts.
//!
//! [`ServerMessage`] gathers the messages. A FramebufferUpdate is only its header
//! here; [`ServerStream`](crate::ServerStream) walks the rectangles that follow.

use bytes::BufMut;

use crate::error::{Incompatible, Malformed};
use crate::wire::{fail, run, Reader, Step};
use crate::{CutText, Error, Fence, Limits, Progress};

mod desktop_name;
mod extended_desktop_size;
mod framebuffer_update;
pub mod server_cut_text;
mod set_colour_map_entries;

pub use crate::client::Xvp;
pub use desktop_name::DesktopName;
pub use extended_desktop_size::ExtendedDesktopSize;
pub use framebuffer_update::{FramebufferUpdateHeader, RectHeader};
pub use set_colour_map_entries::{Colour, SetColourMapEntries};

/// Message type of Bell.
pub const BELL_MESSAGE_TYPE: u8 = 2;
/// Message type of EndOfContinuousUpdates.
pub const END_OF_CONTINUOUS_UPDATES_MESSAGE_TYPE: u8 = 150;
/// Message type of ServerFence (and ClientFence).
pub const FENCE_MESSAGE_TYPE: u8 = 248;
/// Message type of QEMU server messages.
pub const QEMU_MESSAGE_TYPE: u8 = 255;

/// A message from the server to the client, after initialisation.
///
/// ```
/// use rfb_proto::{Limits, Progress, ServerMessage};
/// assert_eq!(
///     ServerMessage::decode(&[2], &Limits::default()),
///     Ok(Progress::Done { item: ServerMessage::Bell, consumed: 1 })
/// );
/// let mut w = Vec::new();
/// ServerMessage::EndOfContinuousUpdates.encode(&mut w);
/// assert_eq!(w, [150]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerMessage {
    /// Type 0: the header of an update; its rectangles follow.
    FramebufferUpdate(FramebufferUpdateHeader),
    /// Type 1: colour-map entries.
    SetColourMapEntries(SetColourMapEntries),
    /// Type 2: ring the bell.
    Bell,
    /// Type 3: clipboard text, classic or extended.
    ServerCutText(CutText),
    /// Type 150: continuous updates have stopped (or are supported).
    EndOfContinuousUpdates,
    /// Type 248: a fence request or response.
    Fence(Fence),
    /// Type 250: an xvp reply.
    Xvp(Xvp),
}

impl ServerMessage {
    /// Parses one message from the start of `buf`. For a FramebufferUpdate only the
    /// 4-byte header is parsed.
    ///
    /// An unknown message type is [`Malformed::UnknownMessageType`]; QEMU audio
    /// (type 255, sub-type 1) is [`Incompatible::MessageType`] and other QEMU
    /// sub-types [`Malformed::UnknownSubMessage`].
    pub fn decode(buf: &[u8], limits: &Limits) -> Result<Progress<ServerMessage>, Error> {
        run(buf, |r| Self::read(r, limits))
    }

    pub(crate) fn read(r: &mut Reader<'_>, limits: &Limits) -> Step<Self> {
        let t = r.u8()?;
        // Wait for the fixed part at once, so callers can reserve for all of it.
        let min_len: usize = match t {
            0 | 250 => 4,
            1 => 6,
            3 => 8,
            248 => 9,
            255 => 2,
            _ => 1,
        };
        r.need(min_len - 1)?;
        Ok(match t {
            FramebufferUpdateHeader::MESSAGE_TYPE => {
                ServerMessage::FramebufferUpdate(FramebufferUpdateHeader::read_body(r)?)
            }
            SetColourMapEntries::MESSAGE_TYPE => {
                ServerMessage::SetColourMapEntries(SetColourMapEntries::read_body(r, limits)?)
            }
            BELL_MESSAGE_TYPE => ServerMessage::Bell,
            server_cut_text::MESSAGE_TYPE => {
                ServerMessage::ServerCutText(server_cut_text::read_body(r, limits)?)
            }
            END_OF_CONTINUOUS_UPDATES_MESSAGE_TYPE => ServerMessage::EndOfContinuousUpdates,
            FENCE_MESSAGE_TYPE => {
                r.skip(3)?;
                ServerMessage::Fence(Fence::read_body(r)?)
            }
            Xvp::MESSAGE_TYPE => ServerMessage::Xvp(Xvp::read_body(r)?),
            QEMU_MESSAGE_TYPE => match r.u8()? {
                1 => return fail(Incompatible::MessageType(t)),
                sub => return fail(Malformed::UnknownSubMessage { message: t, sub }),
            },
            _ => return fail(Malformed::UnknownMessageType(t)),
        })
    }

    /// The message type byte.
    pub fn message_type(&self) -> u8 {
        match self {
            ServerMessage::FramebufferUpdate(_) => FramebufferUpdateHeader::MESSAGE_TYPE,
            ServerMessage::SetColourMapEntries(_) => SetColourMapEntries::MESSAGE_TYPE,
            ServerMessage::Bell => BELL_MESSAGE_TYPE,
            ServerMessage::ServerCutText(_) => server_cut_text::MESSAGE_TYPE,
            ServerMessage::EndOfContinuousUpdates => END_OF_CONTINUOUS_UPDATES_MESSAGE_TYPE,
            ServerMessage::Fence(_) => FENCE_MESSAGE_TYPE,
            ServerMessage::Xvp(_) => Xvp::MESSAGE_TYPE,
        }
    }

    /// Appends the message (for a FramebufferUpdate, only its header).
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            ServerMessage::FramebufferUpdate(h) => h.encode(out),
            ServerMessage::SetColourMapEntries(m) => m.encode(out),
            ServerMessage::Bell => out.put_u8(BELL_MESSAGE_TYPE),
            ServerMessage::ServerCutText(t) => server_cut_text::encode(t, out),
            ServerMessage::EndOfContinuousUpdates => {
                out.put_u8(END_OF_CONTINUOUS_UPDATES_MESSAGE_TYPE)
            }
            ServerMessage::Fence(f) => f.encode(out),
            ServerMessage::Xvp(m) => m.encode(out),
        }
    }
}

impl From<FramebufferUpdateHeader> for ServerMessage {
    fn from(m: FramebufferUpdateHeader) -> Self {
        ServerMessage::FramebufferUpdate(m)
    }
}

impl From<SetColourMapEntries> for ServerMessage {
    fn from(m: SetColourMapEntries) -> Self {
        ServerMessage::SetColourMapEntries(m)
    }
}

impl From<CutText> for ServerMessage {
    fn from(m: CutText) -> Self {
        ServerMessage::ServerCutText(m)
    }
}

impl From<Fence> for ServerMessage {
    fn from(m: Fence) -> Self {
        ServerMessage::Fence(m)
    }
}

impl From<Xvp> for ServerMessage {
    fn from(m: Xvp) -> Self {
        ServerMessage::Xvp(m)
    }
}
