//! An embeddable RFB (VNC) server, sans-IO.
//!
//! # Design overview
//!
//! [`ServerConnection`] is one client connection as a state machine: it takes the
//! client's bytes and the current time as arguments and hands back bytes to send,
//! deadlines and [`ServerEvent`]s. It does no IO, reads no clock and spawns nothing, so
//! it runs the same under tokio, a blocking loop, or an in-memory test pair.
//!
//! The handshake is a chain of state types that consume themselves: version exchange
//! (3.3, 3.7 and 3.8 clients each get their own flow), security negotiation through
//! pluggable [`security::SecurityProvider`]s (None and VNC Authentication here;
//! VeNCrypt and RSA-AES slot into the same traits), then the product's decision about
//! the presented [`Credentials`] ([`ServerEvent::AuthRequested`] →
//! [`ServerConnection::decide_auth`]; [`VncPassword`] is a ready-made verifier), the
//! SecurityResult (with the 3.8 reason string), ClientInit and ServerInit. Randomness
//! (the VNC Authentication challenge) is injected through [`RandomSource`].
//!
//! Errors are sticky: after the first [`ServerError`] every call returns it, while the
//! bytes queued before it (such as a refusal reason) can still be flushed.
//!
//! Hostile clients: every parser is bounded by [`rfb_proto::Limits`]; the handshake has
//! a deadline ([`ServerConfig::handshake_timeout`]); a client that picks a security type
//! it was not offered is refused (a server offering only VNC Authentication never lets
//! "None" through).

mod auth;
#[cfg(feature = "tokio")]
pub mod driver;
mod clipboard;
mod config;
mod connection;
mod error;
mod normal;
mod pending;
mod random;
mod remote_support;
pub mod security;
mod session;
mod update;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

pub use auth::{AllowAll, AuthDecision, Authenticator, Credentials, VncPassword};
pub use config::ServerConfig;
pub use connection::{ServerConnection, ServerEvent};
pub use error::ServerError;
pub use pending::{CopyMove, Damage, PendingUpdate};
pub use random::{FixedRandom, OsRandom, RandomSource};
pub use remote_support::{AuthThrottle, OneTimePassword};
pub use session::{Session, ViewerId, TILE};
