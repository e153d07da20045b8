//! An embeddable RFB (VNC) server: a sans-IO core and a tokio driver.
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
//! In the normal phase the connection handles the protocol's housekeeping itself
//! (SetPixelFormat, SetEncodings with the quality/compress levels, update requests,
//! continuous updates, fences, Extended Clipboard negotiation, the ExtendedMouseButtons
//! confirmation, XVP_INIT/XVP_FAIL) and delivers input, clipboard text and resize
//! requests as events; a view-only viewer's input is dropped.
//! Commands send the bell, clipboard text, a new desktop name, a cursor shape, or a
//! resized desktop.
//!
//! **Diff once, fan out.** A [`Session`] holds the product's current frame: each new
//! frame comes with a [`Damage`] hint (or a [`CopyMove`]), one pass (rfb-codec's
//! `DamageTracker`) refines the hint to the pixels that really changed and recognises
//! moved content (scrolls, window drags) the product did not report, and every viewer
//! accumulates its own [`PendingUpdate`]. A connection encodes an update ([`ServerConnection::write_update`])
//! only when its viewer asked for one (or has continuous updates) and fewer than
//! [`ServerConfig::update_budget`] bytes wait to be sent; a slow viewer gets merged,
//! newer frames, never a queue. Each viewer's updates are planned by rfb-codec's
//! `UpdatePlanner`: CopyRect for moves, large solid areas as single fills, the rest cut
//! into sub-rectangles, translated to the viewer's format and written in the first
//! encoding of its list the planner can produce (Tight — with JPEG for photo-like
//! content when the viewer sent a quality level —, ZRLE, Hextile, Zlib, TRLE, RRE,
//! CoRRE, Raw). ZRLE and Zlib streams use zlib level 1 unless the viewer sends a
//! compress level (then the zlib level of
//! [`rfb_codec::planner::ZLIB_LEVEL_FOR_COMPRESS`]).
//!
//! **Back-pressure.** [`ServerConnection::wants_input`] turns false while
//! [`ServerConfig::max_pending_events`] events or `update_budget` bytes of output wait,
//! and parsing pauses; a client flooding messages is held back by TCP, not by memory.
//!
//! With the `tokio` feature (default), [`driver`] runs one task per connection and gives
//! the product a [`driver::ServerHandle`]: push frames, ring the bell, share the
//! clipboard, list, disconnect or switch viewers between view-only and control, connect
//! out to a listening viewer, shut down gracefully. Remote-support hooks: a consent
//! callback ([`driver::ConsentHook`]), [`OneTimePassword`], a join deadline, an audit
//! stream ([`driver::AuditEvent`]) and [`AuthThrottle`] for failed authentications.
//!
//! Errors are sticky: after the first [`ServerError`] every call returns it, while the
//! bytes queued before it (such as a refusal reason) can still be flushed.
//!
//! Hostile clients: every parser is bounded by [`rfb_proto::Limits`]; the handshake has
//! a deadline ([`ServerConfig::handshake_timeout`]); a client that picks a security type
//! it was not offered is refused (a server offering only VNC Authentication never lets
//! "None" through); Extended Clipboard data is inflated with a cap.
//!
//! **Flow control.** With continuous updates and Fence, each update is followed by a
//! fence whose answer acknowledges it and measures the round trip; no update is written
//! while more than a congestion window (TigerVNC's delay-based estimate of bandwidth ×
//! RTT, 4 KiB to 4 MiB) is unacknowledged
//! ([`ServerConnection::congestion_window`]). The byte budget stays a hard cap.
//!
//! The product can also tell viewers where the pointer is (PointerPos:
//! [`ServerConnection::set_pointer_position`], `ServerHandle::set_pointer_position`).
//!
//! Not yet: TLS security types (VeNCrypt, RA2).

mod auth;
mod clipboard;
mod config;
mod connection;
#[cfg(feature = "tokio")]
pub mod driver;
mod error;
mod flow;
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
