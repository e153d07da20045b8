//! The tokio driver against a scripted server on loopback.

#![cfg(feature = "tokio")]

use std::time::Duration;

use rfb_client::driver::{self, Command};
use rfb_client::{ViewerConfig, ViewerEvent, VncAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// PIXEL_FORMAT for 32 bpp, depth 24, little-endian, true colour, max 255, shifts 16/8/0.
const RGB888: [u8; 16] = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

async fn read_n(s: &mut tokio::net::TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).await.unwrap();
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_paints_the_shared_frame_and_sends_input() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(read_n(&mut s, 12).await, b"RFB 003.008\n");
        s.write_all(&[1, 1]).await.unwrap(); // one security type: None
        assert_eq!(read_n(&mut s, 1).await, [1]);
        s.write_all(&[0, 0, 0, 0]).await.unwrap(); // SecurityResult OK
        assert_eq!(read_n(&mut s, 1).await, [1]); // ClientInit shared
        let mut init = vec![0, 2, 0, 1];
        init.extend_from_slice(&RGB888);
        init.extend_from_slice(&[0, 0, 0, 1, b'd']);
        s.write_all(&init).await.unwrap();
        // SetPixelFormat (20 bytes), then SetEncodings (4 + 4n), then requests (10 each).
        let spf = read_n(&mut s, 20).await;
        assert_eq!(spf[0], 0);
        let head = read_n(&mut s, 4).await;
        assert_eq!(head[0], 2);
        let n = u16::from_be_bytes([head[2], head[3]]) as usize;
        read_n(&mut s, 4 * n).await;
        let req = read_n(&mut s, 10).await;
        assert_eq!(req, [3, 0, 0, 0, 0, 0, 0, 2, 0, 1], "full request first");
        // One Raw update: red, blue.
        let mut upd = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0];
        upd.extend_from_slice(&[0, 0, 255, 0, 255, 0, 0, 0]);
        s.write_all(&upd).await.unwrap();
        // Read until a KeyEvent for 'q' arrives (skipping the pipelined requests).
        loop {
            let t = read_n(&mut s, 1).await[0];
            match t {
                3 => {
                    read_n(&mut s, 9).await;
                }
                4 => {
                    let rest = read_n(&mut s, 7).await;
                    assert_eq!(rest, [1, 0, 0, 0, 0, 0, 0x71]);
                    break;
                }
                other => panic!("unexpected message type {other}"),
            }
        }
        // Close: the client sees the end.
    });
    let addr = VncAddress {
        host: "127.0.0.1".into(),
        port,
    };
    let (handle, mut events, task) = driver::connect(&addr, ViewerConfig::default())
        .await
        .unwrap();
    let mut updated = false;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
    {
        if let ViewerEvent::Updated { .. } = ev {
            updated = true;
            break;
        }
    }
    assert!(updated);
    {
        let f = handle.frame();
        assert_eq!((f.width, f.height), (2, 1));
        assert_eq!(f.pixels, [0x00ff_0000, 0x0000_00ff]);
    }
    assert!(handle.send(Command::Key {
        keysym: 0x71,
        down: true,
        keycode: None
    }));
    server.await.unwrap();
    // The server hung up: the task ends with a typed error.
    let r = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(r, Err(rfb_client::ClientError::ClosedByPeer(_))),
        "{r:?}"
    );
}

/// Manual check against a real server: `RFB_CLIENT_SERVER=127.0.0.1::5901 cargo test -p
/// rfb-client --test driver -- --ignored --nocapture`. Connects, waits for a frame,
/// goes through every colour mode and back, and prints what the server supports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real VNC server in RFB_CLIENT_SERVER"]
async fn real_server_smoke() {
    use rfb_codec::ColourPreset;
    let Ok(addr) = std::env::var("RFB_CLIENT_SERVER") else {
        return;
    };
    let addr: VncAddress = addr.parse().unwrap();
    let mut config = ViewerConfig::default();
    config.client.password = std::env::var("RFB_CLIENT_PASSWORD").ok();
    if let Ok(e) = std::env::var("RFB_CLIENT_ENCODING") {
        config.encodings.preferred = Some(rfb_proto::Encoding(e.parse().unwrap()));
    }
    let (handle, mut events, task) = driver::connect(&addr, config).await.unwrap();
    let mut task = Some(task);
    let mut covered = 0u64;
    let mut area = u64::MAX;
    while covered < area {
        match next(&mut events).await {
            ViewerEvent::Updated { rects } => {
                covered += rects.iter().map(|r| r.area()).sum::<u64>();
                let f = handle.frame();
                area = u64::from(f.width) * u64::from(f.height);
            }
            other => println!("event: {other:?}"),
        }
    }
    let first = handle.frame().clone();
    println!("frame {}x{}", first.width, first.height);
    for colour in [
        ColourPreset::More16,
        ColourPreset::Few8,
        ColourPreset::Grey,
        ColourPreset::Full,
    ] {
        handle.send(Command::SetColour(colour));
        loop {
            match next(&mut events).await {
                ViewerEvent::ColourChanged(c) => {
                    assert_eq!(c, colour);
                    break;
                }
                other => println!("event: {other:?}"),
            }
        }
        // Wait for the full refresh after the switch.
        let mut covered = 0u64;
        let area = u64::from(first.width) * u64::from(first.height);
        while covered < area {
            if let ViewerEvent::Updated { rects } = next(&mut events).await {
                covered += rects.iter().map(|r| r.area()).sum::<u64>();
            }
        }
        let f = handle.frame();
        let same = f
            .pixels
            .iter()
            .zip(&first.pixels)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "{colour:?}: {same} of {} pixels equal to the full-colour frame",
            f.pixels.len()
        );
        if colour == ColourPreset::Full {
            assert_eq!(f.pixels, first.pixels, "back to full colour: exact again");
        }
    }
    handle.send(Command::Close);
    if let Some(t) = task.take() {
        println!("task ended: {:?}", t.await);
    }
}

async fn next(events: &mut tokio::sync::mpsc::Receiver<ViewerEvent>) -> ViewerEvent {
    match tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("event within 10 s")
    {
        Some(e) => e,
        None => panic!("connection ended"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_mode_accepts_a_reverse_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // The "server" connects out to the listening viewer and speaks first.
    let server = tokio::spawn(async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(read_n(&mut s, 12).await, b"RFB 003.008\n");
        s.write_all(&[1, 1]).await.unwrap();
        assert_eq!(read_n(&mut s, 1).await, [1]);
        s.write_all(&[0, 0, 0, 0]).await.unwrap();
        assert_eq!(read_n(&mut s, 1).await, [1]);
        let mut init = vec![0, 1, 0, 1];
        init.extend_from_slice(&RGB888);
        init.extend_from_slice(&[0, 0, 0, 3, b'r', b'e', b'v']);
        s.write_all(&init).await.unwrap();
        // Keep the connection until the client closes it.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let (handle, mut events, task) = driver::accept(&listener, ViewerConfig::default())
        .await
        .unwrap();
    match next(&mut events).await {
        ViewerEvent::Connected { name, .. } => assert_eq!(name, "rev"),
        other => panic!("{other:?}"),
    }
    handle.send(Command::Close);
    assert_eq!(task.await.unwrap(), Ok(()));
    server.await.unwrap();
}

/// A server that completes the handshake, then reads everything and never answers: with
/// an idle timeout the task ends with `TimedOut` after probing, and closes its side of
/// the connection (the server reads EOF).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_and_the_connection_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(read_n(&mut s, 12).await, b"RFB 003.008\n");
        s.write_all(&[1, 1]).await.unwrap();
        assert_eq!(read_n(&mut s, 1).await, [1]);
        s.write_all(&[0, 0, 0, 0]).await.unwrap();
        assert_eq!(read_n(&mut s, 1).await, [1]);
        let mut init = vec![0, 2, 0, 1];
        init.extend_from_slice(&RGB888);
        init.extend_from_slice(&[0, 0, 0, 1, b'd']);
        s.write_all(&init).await.unwrap();
        // Swallow whatever comes (setup, requests, the probe) until the client closes.
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return all,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    });
    let addr = VncAddress {
        host: "127.0.0.1".into(),
        port,
    };
    let config = ViewerConfig {
        idle_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let (_handle, _events, task) = driver::connect(&addr, config).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert!(
        matches!(r, Err(rfb_client::ClientError::TimedOut { .. })),
        "{r:?}"
    );
    assert!(took >= Duration::from_millis(600), "gave up after {took:?}");
    // The server saw the client's FIN (its read loop ended) and the probe: the last
    // message is a non-incremental FramebufferUpdateRequest for one pixel.
    let got = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got[got.len() - 10..], [3, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
}
