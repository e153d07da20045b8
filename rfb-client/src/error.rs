//! Client connection errors.

use rfb_proto::SecurityType;

/// Why a client connection failed. Sticky: once a connection has failed, every call
/// returns the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server sent bytes that break the protocol (malformed, misbehaving,
    /// incompatible, or over a limit).
    #[error(transparent)]
    Protocol(#[from] rfb_proto::Error),
    /// The server refused the connection before authentication, with this reason.
    #[error("server refused the connection: {0}")]
    Refused(String),
    /// The server rejected our credentials. `reason` is the 3.8 reason string (empty
    /// for 3.3 and 3.7 servers, which send none).
    #[error("authentication failed ({security_type}): {reason}")]
    AuthFailed {
        /// The security type used.
        security_type: SecurityType,
        /// The server's reason, if it gave one.
        reason: String,
        /// True when the server said "too many attempts" (status 2).
        too_many_attempts: bool,
    },
    /// The server needs a password and the product declined to give one.
    #[error("a password is required and none was given")]
    NoPassword,
    /// The handshake did not complete before its deadline.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The server sent nothing at all for `silent_for` although it owed an answer: in
    /// the normal phase, [`Viewer`](crate::Viewer) probes a quiet server and gives up
    /// when the probe stays unanswered (see
    /// [`ViewerConfig::idle_timeout`](crate::ViewerConfig::idle_timeout)).
    #[error("the server sent nothing for {silent_for:?} although an answer was due")]
    TimedOut {
        /// Time since the last byte from the server.
        silent_for: std::time::Duration,
    },
    /// The server closed the connection.
    #[error("connection closed by the server while {0}")]
    ClosedByPeer(&'static str),
    /// The product closed the connection.
    #[error("connection closed by the client: {0}")]
    ClosedByClient(String),
    /// A rectangle's payload could not be decoded (the server sent bad pixel data, a
    /// rectangle outside the framebuffer, or more than the codec limits allow).
    #[error("decoding: {0}")]
    Decode(rfb_codec::CodecError),
    /// The transport failed (a socket error, as text; only the drivers report this).
    #[error("transport: {0}")]
    Transport(String),
    /// The embedding product called a method at the wrong time.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
}

impl From<rfb_codec::CodecError> for ClientError {
    fn from(e: rfb_codec::CodecError) -> Self {
        match e {
            rfb_codec::CodecError::Proto(p) => ClientError::Protocol(p),
            other => ClientError::Decode(other),
        }
    }
}
