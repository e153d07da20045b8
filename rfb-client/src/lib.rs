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
//!
//! [`Viewer`] is the layer a viewer product uses: it wraps a [`ClientConnection`] and a
//! [`RemoteFramebuffer`] (still sans-IO), decodes every rectangle and turns the stream
//! into [`ViewerEvent`]s (updated regions, resizes with the screen layout, cursor
//! shapes, bell, clipboard text including Extended Clipboard, desktop name, learnt
//! [`Capabilities`]); it sends input (QEMU extended keys and extended mouse buttons
//! once the server confirmed them), clipboard text, encoding and colour-mode changes,
//! keeps update requests pipelined or uses continuous updates with fences, and picks
//! the encoding from the measured throughput ([`LinkClass`]). It asks the server for a
//! new desktop size or screen layout ([`Viewer::request_desktop_size`], answered by
//! [`ViewerEvent::DesktopSizeResult`]) and, when configured, detects a server that
//! stopped answering ([`ViewerConfig::idle_timeout`], [`ClientError::TimedOut`]).
//!
//! With the `tokio` feature (default), [`driver`] runs a [`Viewer`] over a TCP
//! connection (or a reverse connection accepted in listen mode) as one task, with a
//! cloneable handle and an event channel.

mod address;
mod clipboard;
mod config;
mod connection;
mod desktop_size;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod driver;
mod error;
mod framebuffer;
pub mod security;
mod viewer;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

pub use address::{AddressError, VncAddress, DEFAULT_PORT};
pub use config::ClientConfig;
pub use connection::{ClientConnection, ClientEvent};
pub use desktop_size::DesktopSizeStatus;
pub use error::ClientError;
pub use framebuffer::{CodecFramer, FramebufferChange, RemoteFramebuffer, DECODABLE_ENCODINGS};
pub use viewer::{Capabilities, EncodingPreference, LinkClass, Viewer, ViewerConfig, ViewerEvent};
