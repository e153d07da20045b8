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

/// Feeds `data` as a server's normal-phase bytes to a connected [`crate::Viewer`]
/// (a 3.8 None handshake and a 64x48 RGB888 ServerInit come first), in chunks whose
/// size comes from the first byte; the second byte's bits pick commands issued
/// between chunks (colour change, clipboard, input, desktop size, idle-timeout timer,
/// refresh). Must never panic.
pub fn viewer(data: &[u8]) {
    use crate::{Viewer, ViewerConfig};
    use rfb_codec::ColourPreset;
    let (split, ops, data) = match data {
        [s, o, rest @ ..] => (usize::from(*s).max(1), *o, rest),
        _ => return,
    };
    let mut config = ViewerConfig::default();
    config.client.limits.max_cut_text = 1 << 16;
    config.client.limits.max_framebuffer_width = 512;
    config.client.limits.max_framebuffer_height = 512;
    config.codec_limits.max_payload = 1 << 20;
    config.idle_timeout = Some(Duration::from_millis(2));
    let now = Instant::now();
    let mut v = Viewer::new(config, now);
    // The handshake in its four server turns (the client answers each before the next):
    // version, security types [None], SecurityResult OK, ServerInit 64x48 RGB888.
    let mut server_init = vec![0, 64, 0, 48];
    server_init.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    server_init.extend_from_slice(&[0, 0, 0, 0]);
    for turn in [&b"RFB 003.008\n"[..], &[1, 1], &[0, 0, 0, 0], &server_init] {
        if v.handle_input(turn, now).is_err() {
            return;
        }
        while v.poll_event().is_some() {}
        while v.poll_transmit().is_some() {}
    }
    for (i, chunk) in data.chunks(split).enumerate() {
        if v.handle_input(chunk, now + Duration::from_millis(i as u64))
            .is_err()
        {
            break;
        }
        let _ = match (ops >> (i % 8)) & 1 {
            0 => Ok(()),
            _ => match i % 7 {
                0 => v.set_colour(ColourPreset::ALL[i % 4]),
                1 => v.cut_text("fuzz"),
                2 => v.key(0x61, i % 2 == 0, Some(0x1e)),
                3 => v.pointer(i as u16, 3, 0x1ff),
                4 => {
                    let layout = v.single_screen_layout(32, 16);
                    v.request_desktop_size(32, 16, layout).map(|_| ())
                }
                // The idle timeout: a probe, or giving up on it.
                5 => v.handle_timeout(now + Duration::from_millis(3 * i as u64)),
                _ => v.refresh(),
            },
        };
        while v.poll_event().is_some() {}
        while v.poll_transmit().is_some() {}
    }
    let _ = v.handle_eof();
    assert!(v.handle_input(b"x", now).is_err(), "errors must be sticky");
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
        fn viewer_never_panics(data in proptest::collection::vec(any::<u8>(), 0..768)) {
            super::viewer(&data);
        }

        #[test]
        fn viewer_updates_never_panic(
            head in (any::<u8>(), any::<u8>()),
            rects in proptest::collection::vec(
                (0u16..80, 0u16..60, 0u16..40, 0u16..40,
                 prop::sample::select(vec![0i32, 1, 2, 4, 5, 6, 15, 16, -223, -239, -240, -307, -308, -314]),
                 proptest::collection::vec(any::<u8>(), 0..64)),
                0..6),
        ) {
            // Plausible updates: real headers with arbitrary payloads.
            let mut data = vec![head.0, head.1, 0, 0, 0, rects.len() as u8];
            for (x, y, w, h, e, p) in rects {
                for n in [x, y, w, h] {
                    data.extend_from_slice(&n.to_be_bytes());
                }
                data.extend_from_slice(&e.to_be_bytes());
                data.extend_from_slice(&p);
            }
            super::viewer(&data);
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
