//! Entry points for cargo-fuzz (not a stable API).

use std::time::{Duration, Instant};

use crate::{ClientConfig, ClientConnection, ClientEvent};

/// Feeds `data` as a server's bytes to a client, in chunks whose size comes from the
/// first byte, supplying a password when asked. Must never panic.
pub fn handshake(data: &[u8]) {
    let (split, data) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).max(1), rest),
        None => return,
    };
    let mut config = ClientConfig::default();
    config.limits.max_cut_text = 1 << 16;
    let start = Instant::now();
    let mut conn = ClientConnection::new(config, start);
    for chunk in data.chunks(split) {
        if conn.handle_input(chunk).is_err() {
            break;
        }
        while let Some(ev) = conn.poll_event() {
            if let ClientEvent::PasswordRequested { .. } = ev {
                let _ = conn.provide_password(Some("secret".into()));
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
