//! Server configuration shared by all connections.

use std::sync::Arc;
use std::time::Duration;

use rfb_proto::{Limits, ProtocolVersion, SecurityType};

use crate::security::{NoneSecurity, SecurityProvider, VncAuthSecurity};

/// Configuration for [`ServerConnection`](crate::ServerConnection)s, shared (`Arc`) by
/// every connection of a server.
///
/// ```
/// use rfb_server::ServerConfig;
/// let config = ServerConfig::vnc_auth();
/// assert_eq!(config.security_types(), vec![rfb_proto::SecurityType::VNC_AUTH]);
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    /// Highest protocol version offered. Default 3.8. Clients asking for 3.3 or 3.7 get
    /// that version's flow.
    pub version: ProtocolVersion,
    /// Security types offered, in order of preference. 3.3 clients get the first one
    /// that 3.3 can express (None or VNC Authentication).
    pub security: Vec<Arc<dyn SecurityProvider>>,
    /// Parser limits. Default [`Limits::default`].
    pub limits: Limits,
    /// Time from accepting the connection to the end of the initialisation phase;
    /// defeats clients that stall the handshake (slowloris). Default 30 s.
    pub handshake_timeout: Duration,
    /// Most bytes a client may send ahead while the product decides about its
    /// credentials. Default 1024.
    pub max_pending_handshake_input: usize,
    /// Normal phase: most events waiting in `poll_event` before the connection stops
    /// parsing input (and [`ServerConnection::wants_input`] turns false). Default 64.
    ///
    /// [`ServerConnection::wants_input`]: crate::ServerConnection::wants_input
    pub max_pending_events: usize,
    /// Normal phase: a new update is encoded only while fewer bytes than this wait to be
    /// sent, and input is not parsed while more do; so a viewer that never reads holds
    /// at most this plus one update. Default 256 KiB.
    pub update_budget: usize,
    /// The product acts on xvp requests (shutdown, reboot, reset of the machine whose
    /// screen is shared). When true, viewers that list the xvp pseudo-encoding get
    /// XVP_INIT and their requests arrive as events (answer a failure with
    /// [`ServerConnection::xvp_fail`]); when false, every request is answered XVP_FAIL
    /// by the connection. Default false.
    ///
    /// [`ServerConnection::xvp_fail`]: crate::ServerConnection::xvp_fail
    pub xvp: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("version", &self.version)
            .field("security", &self.security_types())
            .field("limits", &self.limits)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// A configuration offering the given security types.
    pub fn new(security: Vec<Arc<dyn SecurityProvider>>) -> ServerConfig {
        ServerConfig {
            version: ProtocolVersion::V3_8,
            security,
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(30),
            max_pending_handshake_input: 1024,
            max_pending_events: 64,
            update_budget: 256 << 10,
            xvp: false,
        }
    }

    /// Offers only security type None.
    pub fn no_auth() -> ServerConfig {
        ServerConfig::new(vec![Arc::new(NoneSecurity)])
    }

    /// Offers only VNC Authentication.
    pub fn vnc_auth() -> ServerConfig {
        ServerConfig::new(vec![Arc::new(VncAuthSecurity)])
    }

    /// The offered type numbers, in order.
    pub fn security_types(&self) -> Vec<SecurityType> {
        self.security.iter().map(|p| p.security_type()).collect()
    }
}
