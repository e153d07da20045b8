//! Pluggable security types.
//!
//! A [`SecurityProvider`] is configured once per server and names one security type; for
//! every client that chooses it, it makes a [`ServerSecurity`] handler that runs that
//! type's sub-protocol over the connection's bytes and ends by presenting the client's
//! [`Credentials`] — which the product then judges. None and VNC Authentication ship
//! here; VeNCrypt (TLS) and RSA-AES implement the same traits.

mod none;
mod vnc_auth;

pub use none::NoneSecurity;
pub use vnc_auth::VncAuthSecurity;

use bytes::BytesMut;
use rfb_proto::{Limits, ProtocolVersion, SecurityType};

use crate::{Credentials, RandomSource, ServerError};

/// A configured security type: makes one handler per connection.
pub trait SecurityProvider: Send + Sync {
    /// The type number offered to clients.
    fn security_type(&self) -> SecurityType;

    /// A fresh handler for one connection.
    fn new_handler(&self) -> Box<dyn ServerSecurity>;
}

/// Where a security handler stands after a step.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecurityStep {
    /// Waiting for more bytes from the client.
    NeedInput,
    /// The sub-protocol is complete; the client presented these credentials.
    Done(Credentials),
}

/// What a handler may use: the output buffer, randomness, the negotiated version and the
/// limits.
pub struct SecurityContext<'a> {
    pub(crate) out: &'a mut BytesMut,
    pub(crate) random: &'a mut dyn RandomSource,
    pub(crate) version: ProtocolVersion,
    pub(crate) limits: &'a Limits,
}

impl std::fmt::Debug for SecurityContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityContext")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl SecurityContext<'_> {
    /// Queues bytes for the client.
    pub fn send(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Fills `buf` from the connection's random source.
    pub fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), ServerError> {
        self.random
            .fill(buf)
            .map_err(|e| ServerError::ClosedByServer(format!("random source failed: {e}")))
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The connection's limits.
    pub fn limits(&self) -> &Limits {
        self.limits
    }
}

/// One connection's run of a security type's sub-protocol.
pub trait ServerSecurity: Send {
    /// Called once, right after the client chose this type (or, for 3.3, after the
    /// server announced it).
    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ServerError>;

    /// Consumes bytes from the client; returns how many it used and where it stands.
    /// It must consume nothing and return [`SecurityStep::NeedInput`] when `input` holds
    /// only part of what it waits for.
    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ServerError>;
}
