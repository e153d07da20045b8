//! Server connection errors.

use rfb_proto::SecurityType;

/// Why a server connection failed. Sticky: once a connection has failed, every call
/// returns the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The client sent bytes that break the protocol (malformed, misbehaving,
    /// incompatible, or over a limit).
    #[error(transparent)]
    Protocol(#[from] rfb_proto::Error),
    /// The product refused the client's credentials (or the security handler did).
    #[error("authentication refused ({security_type}): {reason}")]
    AuthRefused {
        /// The security type used.
        security_type: SecurityType,
        /// The reason sent to the client (3.8) or logged (3.3, 3.7).
        reason: String,
    },
    /// No security type can be used with this client (e.g. a 3.3 client when only
    /// VeNCrypt is configured).
    #[error("no usable security type: {0}")]
    NoSecurityType(String),
    /// The handshake did not complete before its deadline.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The client closed the connection.
    #[error("connection closed by the client while {0}")]
    ClosedByPeer(&'static str),
    /// The product closed the connection.
    #[error("connection closed by the server: {0}")]
    ClosedByServer(String),
    /// An update could not be encoded (a bug or an unsupported pixel format).
    #[error("encoding an update failed: {0}")]
    Encoding(String),
    /// The embedding product called a method at the wrong time.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
}
