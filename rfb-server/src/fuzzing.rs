//! Entry points for cargo-fuzz (not a stable API).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rfb_proto::{PixelFormat, ServerInit};

use crate::security::{NoneSecurity, VncAuthSecurity};
use crate::{
    AuthDecision, Authenticator, FixedRandom, ServerConfig, ServerConnection, ServerEvent,
    VncPassword,
};

/// Feeds `data` as a client's bytes to a server offering VNC Authentication and None,
/// in chunks whose sizes come from the data itself, answering authentication with a
/// password checker. Must never panic.
pub fn handshake(data: &[u8]) {
    let (split, data) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).max(1), rest),
        None => return,
    };
    let mut config = ServerConfig::new(vec![Arc::new(VncAuthSecurity), Arc::new(NoneSecurity)]);
    config.limits.max_cut_text = 1 << 16;
    let desktop = ServerInit {
        width: 64,
        height: 48,
        pixel_format: PixelFormat::RGB888,
        name: "fuzz".into(),
    };
    let start = Instant::now();
    let mut conn = ServerConnection::with_random(
        Arc::new(config),
        desktop,
        start,
        Box::new(FixedRandom::new([7])),
    );
    let password = VncPassword::new("secret");
    for chunk in data.chunks(split) {
        if conn.handle_input(chunk).is_err() {
            break;
        }
        while let Some(ev) = conn.poll_event() {
            if let ServerEvent::AuthRequested {
                security_type,
                credentials,
            } = ev
            {
                let decision = match password.decide(security_type, &credentials) {
                    AuthDecision::Accept => AuthDecision::Accept,
                    // Accept None too, to reach the normal phase from more inputs.
                    r if security_type == rfb_proto::SecurityType::NONE => {
                        let _ = r;
                        AuthDecision::Accept
                    }
                    r => r,
                };
                let _ = conn.decide_auth(decision);
            }
        }
        while conn.poll_transmit().is_some() {}
    }
    let _ = conn.handle_timeout(start + Duration::from_secs(60));
    let _ = conn.handle_eof();
    assert!(
        conn.handle_input(b"x").is_err(),
        "errors must be sticky after EOF"
    );
}
