//! An RFB (VNC) client, sans-IO.
//!
//! # Design overview
//!
//! [`ClientConnection`] is one connection to a VNC server as a state machine: it takes
//! the server's bytes and the current time and hands back bytes to send, deadlines and
//! [`ClientEvent`]s. It does no IO, reads no clock and spawns nothing.
//!
//! The handshake maps the version strings real servers send (UltraVNC's 3.4/3.6,
//! TightVNC's 3.5, Apple's 3.889, RealVNC's and Intel AMT's 4.x/5.x) to the flow they
//! speak, negotiates security through pluggable [`security::ClientSecurityProvider`]s
//! (None and VNC Authentication here), asks the product for a password when it needs
//! one ([`ClientEvent::PasswordRequested`]), reads the SecurityResult (with the 3.8
//! reason) and ServerInit. It refuses what a careful client must refuse: a security type
//! it did not allow, and a SecurityResult (or anything else) that arrives before the
//! server could have seen our last message.
//!
//! In the normal phase, the server's stream is cut into messages and rectangles by
//! [`rfb_proto::ServerStream`] with a pluggable payload framer; `rfb-codec` decodes the
//! payloads.

mod address;
mod clipboard;
mod config;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod driver;
mod connection;
mod error;
mod framebuffer;
mod viewer;
pub mod security;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

pub use address::{AddressError, VncAddress, DEFAULT_PORT};
pub use config::ClientConfig;
pub use connection::{ClientConnection, ClientEvent};
pub use error::ClientError;
pub use viewer::{
    Capabilities, EncodingPreference, LinkClass, Viewer, ViewerConfig, ViewerEvent,
};
pub use framebuffer::{CodecFramer, FramebufferChange, RemoteFramebuffer, DECODABLE_ENCODINGS};
