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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::handshake(&data);
        }

        #[test]
        fn plausible_prefixes_never_panic(
            split in any::<u8>(),
            tail in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            // Start from a valid version so the fuzz reaches the later states.
            let mut data = vec![split];
            data.extend_from_slice(b"RFB 003.008\n");
            data.extend_from_slice(&tail);
            super::handshake(&data);
        }
    }
}
