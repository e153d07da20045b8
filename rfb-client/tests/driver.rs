//! The tokio driver against a scripted server on loopback.

#![cfg(feature = "tokio")]

use std::time::Duration;

use rfb_client::driver::{self, Command};
use rfb_client::{VncAddress, ViewerConfig, ViewerEvent};
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
    assert!(matches!(r, Err(rfb_client::ClientError::ClosedByPeer(_))), "{r:?}");
}
