//! Pluggable security types, client side.
//!
//! A [`ClientSecurityProvider`] names a security type this client is willing to use and
//! makes a [`ClientSecurity`] handler for a connection that uses it. The handler runs the
//! type's sub-protocol; when it needs a secret it asks for it through
//! [`SecurityStep::NeedPassword`], which the connection turns into
//! [`ClientEvent::PasswordRequested`](crate::ClientEvent::PasswordRequested) unless the
//! configuration already holds one.

mod none;
mod vnc_auth;

pub use none::NoneSecurity;
pub use vnc_auth::VncAuthSecurity;

use bytes::BytesMut;
use rfb_proto::{Limits, ProtocolVersion, SecurityType};

use crate::ClientError;

/// A security type this client can use.
pub trait ClientSecurityProvider: Send + Sync {
    /// The type number.
    fn security_type(&self) -> SecurityType;

    /// A fresh handler for one connection.
    fn new_handler(&self) -> Box<dyn ClientSecurity>;
}

/// Where a client security handler stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityStep {
    /// Waiting for more bytes from the server.
    NeedInput,
    /// Needs the password before it can go on.
    NeedPassword,
    /// The sub-protocol is complete; the SecurityResult (if this version and type send
    /// one) comes next.
    Done,
}

/// What a handler may use.
pub struct SecurityContext<'a> {
    pub(crate) out: &'a mut BytesMut,
    pub(crate) version: ProtocolVersion,
    pub(crate) limits: &'a Limits,
    pub(crate) password: Option<&'a str>,
}

impl std::fmt::Debug for SecurityContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityContext")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl SecurityContext<'_> {
    /// Queues bytes for the server.
    pub fn send(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The connection's limits.
    pub fn limits(&self) -> &Limits {
        self.limits
    }

    /// The password, if the configuration or the product supplied one.
    pub fn password(&self) -> Option<&str> {
        self.password
    }
}

/// One connection's run of a security type's sub-protocol, client side.
pub trait ClientSecurity: Send {
    /// Called once the type is agreed.
    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ClientError>;

    /// Consumes bytes from the server (or, after [`SecurityStep::NeedPassword`], is
    /// called again with the same input once a password is known). Returns how many
    /// bytes it used and where it stands; consumes nothing when `input` holds only part
    /// of what it waits for.
    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ClientError>;

    /// Whether the server sends a SecurityResult after this type for `version`
    /// (3.3 and 3.7 send none after None).
    fn expects_security_result(&self, version: ProtocolVersion) -> bool {
        let _ = version;
        true
    }
}
