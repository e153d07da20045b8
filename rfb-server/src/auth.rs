//! What a client presented, and the product's decision about it.

use rfb_proto::{vnc_auth_verify, SecurityType};

/// What the client presented during the security handshake.
///
/// The connection never decides on its own whether these are good: it hands them to the
/// product in [`ServerEvent::AuthRequested`](crate::ServerEvent::AuthRequested), which
/// answers with [`ServerConnection::decide_auth`](crate::ServerConnection::decide_auth).
/// [`VncPassword`] and [`Authenticator`] are ready-made deciders.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// Security type None: nothing presented.
    None,
    /// VNC Authentication: the challenge we sent and the client's DES response.
    VncAuth {
        /// The 16-byte random challenge.
        challenge: [u8; 16],
        /// The client's response.
        response: [u8; 16],
    },
    /// A user name and password (VeNCrypt Plain, RSA-AES).
    UserPassword {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::VncAuth { .. } => f.write_str("VncAuth { .. }"),
            Credentials::UserPassword { username, .. } => f
                .debug_struct("UserPassword")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// The product's answer to [`ServerEvent::AuthRequested`](crate::ServerEvent::AuthRequested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Let the client in.
    Accept,
    /// Refuse; the reason is sent to RFB 3.8 clients in the SecurityResult.
    Reject {
        /// Human-readable reason.
        reason: String,
    },
}

impl AuthDecision {
    /// A rejection with the given reason.
    pub fn reject(reason: impl Into<String>) -> AuthDecision {
        AuthDecision::Reject {
            reason: reason.into(),
        }
    }
}

/// Something that can judge credentials on the product's behalf.
pub trait Authenticator: Send + Sync {
    /// Decides about `credentials` presented with `security_type`.
    fn decide(&self, security_type: SecurityType, credentials: &Credentials) -> AuthDecision;
}

/// Accepts a VNC Authentication response made with one password (and, optionally,
/// security type None). Compares in constant time.
///
/// Like every VNC server, it uses only the first 8 bytes of the password.
///
/// ```
/// use rfb_proto::{vnc_auth_response, SecurityType};
/// use rfb_server::{AuthDecision, Authenticator, Credentials, VncPassword};
/// let check = VncPassword::new("s3cret");
/// let challenge = [9u8; 16];
/// let good = Credentials::VncAuth { challenge, response: vnc_auth_response(b"s3cret", &challenge) };
/// assert_eq!(check.decide(SecurityType::VNC_AUTH, &good), AuthDecision::Accept);
/// let bad = Credentials::VncAuth { challenge, response: [0; 16] };
/// assert!(matches!(check.decide(SecurityType::VNC_AUTH, &bad), AuthDecision::Reject { .. }));
/// // A password checker never lets security type None through.
/// assert!(matches!(check.decide(SecurityType::NONE, &Credentials::None), AuthDecision::Reject { .. }));
/// ```
#[derive(Clone)]
pub struct VncPassword {
    password: Vec<u8>,
}

impl std::fmt::Debug for VncPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VncPassword(..)")
    }
}

impl VncPassword {
    /// A checker for `password`.
    pub fn new(password: impl AsRef<[u8]>) -> VncPassword {
        VncPassword {
            password: password.as_ref().to_vec(),
        }
    }
}

impl Authenticator for VncPassword {
    fn decide(&self, _security_type: SecurityType, credentials: &Credentials) -> AuthDecision {
        match credentials {
            Credentials::VncAuth {
                challenge,
                response,
            } if vnc_auth_verify(&self.password, challenge, response) => AuthDecision::Accept,
            Credentials::VncAuth { .. } => AuthDecision::reject("Authentication failed"),
            _ => AuthDecision::reject("Authentication required"),
        }
    }
}

/// Accepts everyone who completed the security handshake (for security type None).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn decide(&self, _: SecurityType, _: &Credentials) -> AuthDecision {
        AuthDecision::Accept
    }
}
