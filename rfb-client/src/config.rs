//! Client configuration.

use std::sync::Arc;
use std::time::Duration;

use rfb_proto::{Limits, ProtocolVersion, SecurityType};

use crate::security::{ClientSecurityProvider, NoneSecurity, VncAuthSecurity};

/// Configuration for a [`ClientConnection`](crate::ClientConnection).
///
/// ```
/// use rfb_client::ClientConfig;
/// let mut config = ClientConfig::default();
/// config.password = Some("secret".into());
/// config.shared = false;
/// assert!(config.security_types().contains(&rfb_proto::SecurityType::VNC_AUTH));
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    /// Highest protocol version to use. Default 3.8.
    pub max_version: ProtocolVersion,
    /// Security types this client is willing to use. Among those the server offers, the
    /// server's order of preference decides (as TigerVNC's viewer does). A 3.3 server's
    /// choice outside this list is refused. Default: VNC Authentication and None.
    pub security: Vec<Arc<dyn ClientSecurityProvider>>,
    /// The password for VNC Authentication. When `None` and the server asks for one, the
    /// connection emits [`ClientEvent::PasswordRequested`](crate::ClientEvent::PasswordRequested).
    pub password: Option<String>,
    /// ClientInit's shared flag: leave other viewers connected. Default true.
    pub shared: bool,
    /// Parser limits. Default [`Limits::default`].
    pub limits: Limits,
    /// Time from connecting to ServerInit. Default 30 s.
    pub handshake_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_version: ProtocolVersion::V3_8,
            security: vec![Arc::new(VncAuthSecurity), Arc::new(NoneSecurity)],
            password: None,
            shared: true,
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("max_version", &self.max_version)
            .field("security", &self.security_types())
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("shared", &self.shared)
            .field("limits", &self.limits)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl ClientConfig {
    /// The security type numbers this client accepts.
    pub fn security_types(&self) -> Vec<SecurityType> {
        self.security.iter().map(|p| p.security_type()).collect()
    }
}
