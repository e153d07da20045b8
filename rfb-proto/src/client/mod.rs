//! Client-to-server messages of the normal phase, one module per message kind.
//!
//! [`ClientMessage`] gathers them; each struct can also be encoded on its own.

use bytes::BufMut;

use crate::error::{Incompatible, Malformed};
use crate::wire::{fail, run, Reader, Step};
use crate::{CutText, Encoding, Error, Fence, Limits, PixelFormat, Progress};

pub mod client_cut_text;
mod enable_continuous_updates;
mod framebuffer_update_request;
mod key_event;
mod pointer_event;
mod qemu_key_event;
mod set_desktop_size;
pub mod set_encodings;
pub mod set_pixel_format;
mod xvp;

pub use enable_continuous_updates::EnableContinuousUpdates;
pub use framebuffer_update_request::FramebufferUpdateRequest;
pub use key_event::KeyEvent;
pub use pointer_event::PointerEvent;
pub use qemu_key_event::QemuKeyEvent;
pub use set_desktop_size::SetDesktopSize;
pub use xvp::Xvp;

/// Message type of ClientFence (and ServerFence).
pub const FENCE_MESSAGE_TYPE: u8 = 248;

/// Negotiated facts that change how client messages are parsed (and encoded).
///
/// The server updates it as extensions are confirmed; the client keeps the same facts
/// to choose how to encode.
///
/// ```
/// use rfb_proto::client::{ClientMessage, ClientParseState, PointerEvent};
/// use rfb_proto::{Limits, Progress};
/// let ext = ClientParseState { extended_mouse_buttons: true };
/// let wire = [5, 0x81, 0, 10, 0, 20, 0x01];
/// let Progress::Done { item, consumed } = ClientMessage::decode(&wire, &ext, &Limits::default()).unwrap()
/// else { panic!() };
/// assert_eq!(consumed, 7);
/// assert_eq!(item, ClientMessage::PointerEvent(PointerEvent {
///     buttons: PointerEvent::LEFT | PointerEvent::BACK, x: 10, y: 20 }));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientParseState {
    /// The server has confirmed ExtendedMouseButtons (sent the empty pseudo-rectangle),
    /// so a PointerEvent whose *button-mask* has its top bit set carries one more byte.
    pub extended_mouse_buttons: bool,
}

/// A message from the client to the server, after initialisation.
///
/// ```
/// use rfb_proto::client::{ClientMessage, ClientParseState, KeyEvent};
/// use rfb_proto::{Limits, Progress};
/// let msg = ClientMessage::from(KeyEvent { down: true, keysym: 0x61 });
/// let mut wire = Vec::new();
/// msg.encode(&mut wire);
/// assert_eq!(wire, [4, 1, 0, 0, 0, 0, 0, 0x61]);
/// let state = ClientParseState::default();
/// assert_eq!(
///     ClientMessage::decode(&wire[..5], &state, &Limits::default()),
///     Ok(Progress::NeedMore { at_least: 8 })
/// );
/// assert_eq!(
///     ClientMessage::decode(&wire, &state, &Limits::default()),
///     Ok(Progress::Done { item: msg, consumed: 8 })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientMessage {
    /// Type 0: the pixel format the client wants.
    SetPixelFormat(PixelFormat),
    /// Type 2: the encodings the client accepts, most preferred first.
    SetEncodings(Vec<Encoding>),
    /// Type 3: a request for an update.
    FramebufferUpdateRequest(FramebufferUpdateRequest),
    /// Type 4: a key press or release.
    KeyEvent(KeyEvent),
    /// Type 5: pointer position and buttons.
    PointerEvent(PointerEvent),
    /// Type 6: clipboard text, classic or extended.
    ClientCutText(CutText),
    /// Type 150: continuous updates on or off.
    EnableContinuousUpdates(EnableContinuousUpdates),
    /// Type 248: a fence request or response.
    Fence(Fence),
    /// Type 250: an xvp request.
    Xvp(Xvp),
    /// Type 251: a desktop size and layout request.
    SetDesktopSize(SetDesktopSize),
    /// Type 255, sub-type 0: a key event with keycode.
    QemuKeyEvent(QemuKeyEvent),
}

impl ClientMessage {
    /// Parses one message from the start of `buf`.
    ///
    /// Counts and lengths are checked against `limits` as soon as they are read,
    /// before the rest of the message is waited for. An unknown message type is
    /// [`Malformed::UnknownMessageType`]; a QEMU sub-type other than the extended key
    /// event is [`Malformed::UnknownSubMessage`], except QEMU audio (sub-type 1),
    /// which is [`Incompatible::MessageType`].
    pub fn decode(
        buf: &[u8],
        state: &ClientParseState,
        limits: &Limits,
    ) -> Result<Progress<ClientMessage>, Error> {
        run(buf, |r| Self::read(r, state, limits))
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        state: &ClientParseState,
        limits: &Limits,
    ) -> Step<Self> {
        let t = r.u8()?;
        // Wait for the fixed part at once, so callers can reserve for all of it.
        let min_len: usize = match t {
            0 => 20,
            2 | 255 => 4,
            3 | 150 => 10,
            4 | 6 | 251 => 8,
            5 => 6,
            248 => 9,
            250 => 4,
            _ => 1,
        };
        r.need(min_len - 1)?;
        Ok(match t {
            set_pixel_format::MESSAGE_TYPE => {
                ClientMessage::SetPixelFormat(set_pixel_format::read_body(r)?)
            }
            set_encodings::MESSAGE_TYPE => {
                ClientMessage::SetEncodings(set_encodings::read_body(r, limits)?)
            }
            FramebufferUpdateRequest::MESSAGE_TYPE => {
                ClientMessage::FramebufferUpdateRequest(FramebufferUpdateRequest::read_body(r)?)
            }
            KeyEvent::MESSAGE_TYPE => ClientMessage::KeyEvent(KeyEvent::read_body(r)?),
            PointerEvent::MESSAGE_TYPE => ClientMessage::PointerEvent(PointerEvent::read_body(
                r,
                state.extended_mouse_buttons,
            )?),
            client_cut_text::MESSAGE_TYPE => {
                ClientMessage::ClientCutText(client_cut_text::read_body(r, limits)?)
            }
            EnableContinuousUpdates::MESSAGE_TYPE => {
                ClientMessage::EnableContinuousUpdates(EnableContinuousUpdates::read_body(r)?)
            }
            FENCE_MESSAGE_TYPE => {
                r.skip(3)?;
                ClientMessage::Fence(Fence::read_body(r)?)
            }
            Xvp::MESSAGE_TYPE => ClientMessage::Xvp(Xvp::read_body(r)?),
            SetDesktopSize::MESSAGE_TYPE => {
                ClientMessage::SetDesktopSize(SetDesktopSize::read_body(r, limits)?)
            }
            QemuKeyEvent::MESSAGE_TYPE => match r.u8()? {
                QemuKeyEvent::SUBMESSAGE_TYPE => {
                    ClientMessage::QemuKeyEvent(QemuKeyEvent::read_body(r)?)
                }
                1 => return fail(Incompatible::MessageType(t)),
                sub => return fail(Malformed::UnknownSubMessage { message: t, sub }),
            },
            _ => return fail(Malformed::UnknownMessageType(t)),
        })
    }

    /// The message type byte.
    pub fn message_type(&self) -> u8 {
        match self {
            ClientMessage::SetPixelFormat(_) => set_pixel_format::MESSAGE_TYPE,
            ClientMessage::SetEncodings(_) => set_encodings::MESSAGE_TYPE,
            ClientMessage::FramebufferUpdateRequest(_) => FramebufferUpdateRequest::MESSAGE_TYPE,
            ClientMessage::KeyEvent(_) => KeyEvent::MESSAGE_TYPE,
            ClientMessage::PointerEvent(_) => PointerEvent::MESSAGE_TYPE,
            ClientMessage::ClientCutText(_) => client_cut_text::MESSAGE_TYPE,
            ClientMessage::EnableContinuousUpdates(_) => EnableContinuousUpdates::MESSAGE_TYPE,
            ClientMessage::Fence(_) => FENCE_MESSAGE_TYPE,
            ClientMessage::Xvp(_) => Xvp::MESSAGE_TYPE,
            ClientMessage::SetDesktopSize(_) => SetDesktopSize::MESSAGE_TYPE,
            ClientMessage::QemuKeyEvent(_) => QemuKeyEvent::MESSAGE_TYPE,
        }
    }

    /// Appends the message as sent to a server with no negotiated state: a
    /// PointerEvent takes its classic form (see [`PointerEvent::encode`]).
    pub fn encode(&self, out: &mut impl BufMut) {
        self.encode_for(&ClientParseState::default(), out);
    }

    /// Appends the message as the negotiated `state` requires: with
    /// `extended_mouse_buttons`, a PointerEvent uses [`PointerEvent::encode_extended`].
    /// Decoding the bytes with the same `state` gives the message back.
    pub fn encode_for(&self, state: &ClientParseState, out: &mut impl BufMut) {
        match self {
            ClientMessage::SetPixelFormat(pf) => set_pixel_format::encode(pf, out),
            ClientMessage::SetEncodings(e) => set_encodings::encode(e, out),
            ClientMessage::FramebufferUpdateRequest(m) => m.encode(out),
            ClientMessage::KeyEvent(m) => m.encode(out),
            ClientMessage::PointerEvent(m) if state.extended_mouse_buttons => {
                m.encode_extended(out)
            }
            ClientMessage::PointerEvent(m) => m.encode(out),
            ClientMessage::ClientCutText(t) => client_cut_text::encode(t, out),
            ClientMessage::EnableContinuousUpdates(m) => m.encode(out),
            ClientMessage::Fence(f) => f.encode(out),
            ClientMessage::Xvp(m) => m.encode(out),
            ClientMessage::SetDesktopSize(m) => m.encode(out),
            ClientMessage::QemuKeyEvent(m) => m.encode(out),
        }
    }
}

macro_rules! from_impls {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for ClientMessage {
            fn from(m: $ty) -> Self {
                ClientMessage::$variant(m)
            }
        })*
    };
}

from_impls! {
    SetPixelFormat(PixelFormat),
    SetEncodings(Vec<Encoding>),
    FramebufferUpdateRequest(FramebufferUpdateRequest),
    KeyEvent(KeyEvent),
    PointerEvent(PointerEvent),
    ClientCutText(CutText),
    EnableContinuousUpdates(EnableContinuousUpdates),
    Fence(Fence),
    Xvp(Xvp),
    SetDesktopSize(SetDesktopSize),
    QemuKeyEvent(QemuKeyEvent),
}
