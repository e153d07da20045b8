//! RFB (VNC) protocol framing, sans-IO.
//!
//! # Design overview
//!
//! This crate knows the bytes of the RFB protocol (RFC 6143 and the extensions of the
//! community specification) and nothing else: it does no IO, reads no clock and spawns
//! nothing. Every parser takes a byte slice that may hold only part of a message and
//! returns either the item and the number of bytes it used, or
//! [`Progress::NeedMore`] — it never consumes part of a message, never panics on any
//! input, and never allocates more than the configured [`Limits`] allow. Every encoder
//! appends to a [`bytes::BufMut`].
//!
//! - Handshake: [`ProtocolVersion`] / [`VersionString`], [`SecurityOffer`],
//!   [`SecurityChoice`], [`SecurityResult`], [`vnc_auth_response`], [`ClientInit`],
//!   [`ServerInit`].
//! - Normal phase: [`ClientMessage`] (client to server) and [`ServerMessage`] (server to
//!   client), each with one module per message; [`RectHeader`] for the rectangles of a
//!   FramebufferUpdate, whose payloads belong to `rfb-codec`, and [`ServerStream`], which
//!   walks a server's byte stream with a pluggable [`PayloadFramer`].
//! - Shared vocabulary: [`PixelFormat`], [`Encoding`], [`SecurityType`], [`Rect`],
//!   [`Screen`].
//! - Errors are sorted by who is at fault: [`Error::Malformed`],
//!   [`Error::PeerMisbehaved`], [`Error::Incompatible`], [`Error::LimitExceeded`].
//!
//! The connection state machines that use these live in `rfb-server` and `rfb-client`.
//! With the `tokio-codec` feature, [`codec`] offers tokio-util `Decoder`/`Encoder`
//! implementations for `Framed` users.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod clipboard;
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-codec")))]
pub mod codec;
pub mod cut_text;
pub mod encoding;
pub mod error;
pub mod fence;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod init;
pub mod limits;
pub mod pixel_format;
pub mod rect;
pub mod screen;
pub mod security;
pub mod server;
pub mod stream;
pub mod text;
pub mod version;
#[doc(hidden)]
pub mod wire;

pub use client::{ClientMessage, ClientParseState};
pub use cut_text::CutText;
pub use encoding::Encoding;
pub use error::{Error, Incompatible, LimitExceeded, Malformed, PeerMisbehaved};
pub use fence::Fence;
pub use init::{ClientInit, ServerInit};
pub use limits::{Limit, Limits};
pub use pixel_format::{PixelFormat, PixelFormatError};
pub use rect::Rect;
pub use screen::Screen;
pub use security::{
    vnc_auth_response, vnc_auth_verify, SecurityChoice, SecurityOffer, SecurityResult,
    SecurityType, VNC_AUTH_CHALLENGE_LEN,
};
pub use server::{FramebufferUpdateHeader, RectHeader, ServerMessage};
pub use stream::{BasicFramer, OwnedServerItem, PayloadFramer, ServerItem, ServerStream};
pub use text::{decode_text, encode_latin1};
pub use version::{ProtocolVersion, VersionString};
pub use wire::Progress;
