//! Errors, sorted by who is at fault.
//!
//! Every parser in this crate returns [`Error`]. The top-level variants say *who* is at
//! fault (so a product can decide whether to log, throttle or alert); the inner enums say
//! *what* was wrong. Inner enums are `#[non_exhaustive]` so they can grow without a
//! breaking change.

use crate::limits::Limit;

/// An error from parsing or validating RFB bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the protocol's grammar.
    #[error("malformed input: {0}")]
    Malformed(#[from] Malformed),
    /// The bytes are well-formed but the peer sent them when it must not have.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(#[from] PeerMisbehaved),
    /// The peer speaks a dialect or extension this implementation does not support.
    #[error("incompatible peer: {0}")]
    Incompatible(#[from] Incompatible),
    /// The peer asked for more than a configured [`Limits`](crate::Limits) allows.
    #[error("limit exceeded: {0}")]
    LimitExceeded(#[from] LimitExceeded),
}

/// Malformed bytes: the grammar of the protocol was violated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The 12-byte ProtocolVersion message is not `RFB xxx.yyy\n`.
    #[error("protocol version string is not of the form \"RFB xxx.yyy\\n\": {0:?}")]
    VersionString([u8; 12]),
    /// A pixel format failed validation.
    #[error("invalid pixel format: {0}")]
    PixelFormat(#[from] crate::pixel_format::PixelFormatError),
    /// A message type byte that is not defined for this direction.
    #[error("unknown message type {0}")]
    UnknownMessageType(u8),
    /// A sub-message type (QEMU, xvp, ...) that is not defined.
    #[error("unknown sub-message type {sub} of message type {message}")]
    UnknownSubMessage {
        /// The message type byte.
        message: u8,
        /// The sub-type byte.
        sub: u8,
    },
    /// A security type of 0 (Invalid) was chosen or offered in a place it is not allowed.
    #[error("security type {0} is not valid here")]
    InvalidSecurityType(u32),
    /// A SecurityResult status word other than 0, 1 or 2.
    #[error("unknown SecurityResult status {0}")]
    SecurityResultStatus(u32),
    /// A Fence payload longer than the 64 bytes the extension allows.
    #[error("fence payload of {0} bytes (at most 64 allowed)")]
    FencePayload(usize),
    /// An ExtendedClipboard message whose flags or body do not fit together.
    #[error("extended clipboard message: {0}")]
    ExtendedClipboard(&'static str),
    /// A field holds a value the specification forbids.
    #[error("invalid value {value} for {field}")]
    InvalidValue {
        /// What the field is.
        field: &'static str,
        /// The offending value.
        value: i64,
    },
    /// A rectangle that is not inside the framebuffer.
    #[error(
        "rectangle {x},{y} {width}x{height} is outside the {fb_width}x{fb_height} framebuffer"
    )]
    RectOutOfBounds {
        /// Left edge.
        x: u16,
        /// Top edge.
        y: u16,
        /// Width.
        width: u16,
        /// Height.
        height: u16,
        /// Framebuffer width.
        fb_width: u16,
        /// Framebuffer height.
        fb_height: u16,
    },
    /// A rectangle payload that its encoding's decoder rejected while framing it.
    #[error("{} rectangle payload: {detail}", crate::Encoding(*encoding))]
    RectPayload {
        /// The encoding number.
        encoding: i32,
        /// What the decoder found wrong.
        detail: String,
    },
    /// A ServerInit or ExtendedDesktopSize with a zero width or height.
    #[error("framebuffer size {0}x{1} is empty")]
    EmptyFramebuffer(u16, u16),
}

/// Well-formed bytes that the peer had no right to send at this point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// The client chose a security type the server did not offer.
    #[error("security type {0} was not offered")]
    SecurityTypeNotOffered(u8),
    /// The server offered no security type this client is willing to use.
    #[error("no offered security type is acceptable (offered: {0:?})")]
    NoAcceptableSecurityType(Vec<u8>),
    /// A 3.3 server chose a security type this client did not allow.
    #[error("server chose security type {0}, which this client does not allow")]
    SecurityTypeNotAllowed(u32),
    /// The client asked for a protocol version higher than the server offered.
    #[error("client asked for version {client}, higher than the offered {server}")]
    VersionTooHigh {
        /// Version the client asked for.
        client: crate::ProtocolVersion,
        /// Version the server offered.
        server: crate::ProtocolVersion,
    },
    /// Bytes arrived when the peer should have been waiting for us.
    #[error("unexpected data from the peer while {0}")]
    UnexpectedData(&'static str),
    /// A message that the negotiated extensions do not allow.
    #[error("{0} was sent without being negotiated")]
    NotNegotiated(&'static str),
    /// The peer closed the connection before the exchange was complete.
    #[error("connection closed by the peer while {0}")]
    UnexpectedEof(&'static str),
}

/// The peer uses a protocol feature this implementation does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Incompatible {
    /// A protocol version this implementation cannot speak at all (e.g. major version 1 or 2).
    #[error("unsupported protocol version {major}.{minor}")]
    Version {
        /// Major version number.
        major: u16,
        /// Minor version number.
        minor: u16,
    },
    /// A rectangle encoding this side did not ask for or cannot decode.
    #[error("unsupported encoding {0}")]
    Encoding(i32),
    /// A message type this implementation knows but does not support.
    #[error("unsupported message type {0}")]
    MessageType(u8),
}

/// A count or length larger than the configured [`Limits`](crate::Limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{limit}: {requested} requested, at most {allowed} allowed")]
pub struct LimitExceeded {
    /// Which limit.
    pub limit: Limit,
    /// What the peer asked for.
    pub requested: u64,
    /// What the limit allows.
    pub allowed: u64,
}

impl LimitExceeded {
    /// Checks `requested <= allowed`, returning the error otherwise.
    pub fn check(limit: Limit, requested: u64, allowed: u64) -> Result<(), Error> {
        if requested > allowed {
            Err(LimitExceeded {
                limit,
                requested,
                allowed,
            }
            .into())
        } else {
            Ok(())
        }
    }
}
