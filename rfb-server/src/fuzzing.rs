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

/// Drives a server connection into the normal phase, then feeds `data` as a client's
/// normal-phase bytes in chunks whose sizes come from the data, handing the connection
/// frames that change (with moves and resizes) and encoding updates after every chunk.
/// Must never panic, and must keep the queued output bounded.
pub fn normal_phase(data: &[u8]) {
    use rfb_codec::Framebuffer;
    use rfb_proto::Rect;

    use crate::{CopyMove, Damage, Session};

    let (split, data) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s % 64).max(1), rest),
        None => return,
    };
    let mut config = ServerConfig::no_auth();
    config.limits.max_cut_text = 1 << 12;
    let config = Arc::new(config);
    let desktop = ServerInit {
        width: 40,
        height: 30,
        pixel_format: PixelFormat::RGB888,
        name: "fuzz".into(),
    };
    let mut session = Session::new(Framebuffer::new(40, 30, PixelFormat::RGB888));
    let viewer = session.add_viewer();
    let start = Instant::now();
    let mut conn = ServerConnection::with_random(
        Arc::clone(&config),
        desktop,
        start,
        Box::new(FixedRandom::new([7])),
    );
    let _ = conn.handle_input(b"RFB 003.008\n\x01");
    let _ = conn.decide_auth(AuthDecision::Accept);
    let _ = conn.handle_input(&[1]);
    while conn.poll_event().is_some() {}
    while conn.poll_transmit().is_some() {}
    for (i, chunk) in data.chunks(split).enumerate() {
        if conn.handle_input(chunk).is_err() {
            break;
        }
        let seed = chunk[0];
        let (w, h) = if seed == 0xff { (24, 50) } else { (40, 30) };
        let mut frame = Framebuffer::new(w, h, PixelFormat::RGB888);
        let _ = frame.fill(Rect::new(u16::from(seed % 20), 3, 9, 7), &[seed, 1, 2, 0]);
        if seed % 3 == 0 {
            let mv = CopyMove {
                src: Rect::new(0, 0, 10, 10),
                dst_x: u16::from(seed % 37),
                dst_y: 5,
            };
            session.update_with_move(frame, mv, Damage::Everything);
        } else {
            session.update(frame, Damage::Everything);
        }
        if let Some(p) = session.take(viewer) {
            conn.add_pending(p);
        }
        let _ = conn.write_update(session.frame());
        while conn.poll_event().is_some() {}
        if i % 2 == 0 {
            while conn.poll_transmit().is_some() {}
        }
        assert!(
            conn.pending_transmit() <= config.update_budget + (1 << 20),
            "queued output must stay bounded"
        );
        if conn.error().is_some() {
            break;
        }
    }
    let _ = conn.handle_eof();
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
        fn normal_phase_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::normal_phase(&data);
        }

        #[test]
        fn plausible_normal_phase_never_panics(
            split in any::<u8>(),
            msgs in proptest::collection::vec(
                prop_oneof![
                    Just(vec![3u8, 0, 0, 0, 0, 0, 0, 40, 0, 30]),
                    Just(vec![3u8, 1, 0, 0, 0, 0, 0, 40, 0, 30]),
                    Just(vec![2u8, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x21, 0, 0, 0, 4]),
                    Just(vec![2u8, 0, 0, 3, 0, 0, 0, 5, 0xff, 0xff, 0xfe, 0xc7, 0xff, 0xff, 0xfe, 0xc8]),
                    Just(vec![0u8, 0, 0, 0, 8, 8, 0, 1, 0, 7, 0, 7, 0, 3, 0, 3, 6, 0, 0, 0]),
                    Just(vec![0u8, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0]),
                    Just(vec![150u8, 1, 0, 0, 0, 0, 0, 40, 0, 30]),
                    Just(vec![248u8, 0, 0, 0, 0x80, 0, 0, 7, 2, 1, 2]),
                    Just(vec![4u8, 1, 0, 0, 0, 0, 0, 0x61]),
                    proptest::collection::vec(any::<u8>(), 0..24),
                ],
                0..40,
            ),
        ) {
            let mut data = vec![split];
            for m in msgs {
                data.extend_from_slice(&m);
            }
            super::normal_phase(&data);
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
