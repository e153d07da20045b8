//! The tokio driver over loopback TCP, with real `rfb_client::ClientConnection`s.

#![cfg(feature = "tokio")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rfb_client::{
    ClientConfig, ClientConnection, ClientError, ClientEvent, CodecFramer, RemoteFramebuffer,
};
use rfb_codec::{CodecLimits, Framebuffer};
use rfb_proto::client::{FramebufferUpdateRequest, KeyEvent};
use rfb_proto::{ClientMessage, Encoding, PixelFormat, Rect};
use rfb_server::driver::{
    AuditEvent, Consent, ConsentHook, Server, ServerHandle, ServerOptions, ViewerEvent,
};
use rfb_server::{AllowAll, Damage, FixedRandom, OneTimePassword, ServerConfig, VncPassword};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const W: u16 = 96;
const H: u16 = 64;
const WAIT: Duration = Duration::from_secs(5);

fn frame(seed: u8) -> Framebuffer {
    let mut data = Vec::new();
    for y in 0..H {
        for x in 0..W {
            data.extend_from_slice(&[x as u8 ^ seed, y as u8, seed, 0]);
        }
    }
    Framebuffer::from_data(W, H, PixelFormat::RGB888, data).unwrap()
}

async fn start(
    options: ServerOptions,
) -> (
    Server,
    ServerHandle,
    mpsc::Receiver<ViewerEvent>,
    SocketAddr,
) {
    let (server, events) = Server::new(frame(0), options);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move { s.listen(listener).await });
    let handle = server.handle();
    (server, handle, events, addr)
}

struct Client {
    stream: TcpStream,
    conn: ClientConnection,
    fb: Option<RemoteFramebuffer>,
    updates: usize,
    fences: usize,
    eof: bool,
    error: Option<ClientError>,
}

impl Client {
    async fn connect(addr: SocketAddr, config: ClientConfig) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        Client::over(stream, config)
    }

    fn over(stream: TcpStream, config: ClientConfig) -> Client {
        let mut conn = ClientConnection::new(config, Instant::now());
        conn.set_framer(Box::new(CodecFramer::new(CodecLimits::default())));
        Client {
            stream,
            conn,
            fb: None,
            updates: 0,
            fences: 0,
            eof: false,
            error: None,
        }
    }

    /// Pumps until `done` holds or the time runs out; returns whether it held.
    async fn until(&mut self, mut done: impl FnMut(&Client) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            while let Some(b) = self.conn.poll_transmit() {
                if self.stream.write_all(&b).await.is_err() {
                    self.eof = true;
                }
            }
            while let Some(ev) = self.conn.poll_event() {
                match ev {
                    ClientEvent::Connected { server_init, .. } => {
                        self.fb = Some(RemoteFramebuffer::new(
                            server_init.width,
                            server_init.height,
                            server_init.pixel_format,
                        ))
                    }
                    ClientEvent::Rect { header, payload } => {
                        if let Some(fb) = &mut self.fb {
                            fb.apply(&header, &payload).unwrap();
                        }
                    }
                    ClientEvent::UpdateEnd => self.updates += 1,
                    ClientEvent::Message(rfb_proto::ServerMessage::Fence(_)) => self.fences += 1,
                    _ => {}
                }
            }
            if done(self) {
                return true;
            }
            if self.eof || self.error.is_some() {
                return false;
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            match read {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    self.eof = true;
                }
                Ok(Ok(n)) => {
                    if let Err(e) = self.conn.handle_input(&buf[..n]) {
                        self.error = Some(e);
                    }
                }
            }
        }
    }

    async fn connected(&mut self) -> bool {
        self.until(|c| c.fb.is_some()).await
    }

    /// Waits until the server has processed everything sent so far (a fence round trip).
    async fn sync(&mut self) {
        let n = self.fences;
        let fence = rfb_proto::Fence::new(rfb_proto::Fence::REQUEST, &b"sync"[..]).unwrap();
        self.send(ClientMessage::Fence(fence));
        assert!(self.until(|c| c.fences > n).await, "fence answered");
    }

    fn send(&mut self, m: ClientMessage) {
        self.conn.send(&m).unwrap();
    }

    fn request(&mut self, incremental: bool) {
        self.send(ClientMessage::FramebufferUpdateRequest(
            FramebufferUpdateRequest {
                incremental,
                rect: Rect::new(0, 0, W, H),
            },
        ));
    }

    fn matches(&self, f: &Framebuffer) -> bool {
        self.fb
            .as_ref()
            .is_some_and(|fb| fb.framebuffer().data() == f.data())
    }
}

async fn next_audit(
    rx: &mut tokio::sync::broadcast::Receiver<AuditEvent>,
    mut want: impl FnMut(&AuditEvent) -> bool,
) -> AuditEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            let e = rx.recv().await.unwrap();
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("audit event")
}

fn key(keysym: u32) -> ClientMessage {
    ClientMessage::KeyEvent(KeyEvent { down: true, keysym })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_input_and_permission_switch() {
    let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let (_server, handle, mut events, addr) = start(options).await;
    let mut audit = handle.audit();
    let mut c = Client::connect(addr, ClientConfig::default()).await;
    assert!(c.connected().await);
    c.send(ClientMessage::SetEncodings(vec![Encoding::ZRLE]));
    c.request(false);
    assert!(c.until(|c| c.updates == 1).await);
    assert!(c.matches(&frame(0)));
    // A new frame reaches the viewer after an incremental request.
    handle.update(frame(7), Damage::Everything);
    c.request(true);
    let want = frame(7);
    assert!(c.until(|c| c.matches(&want)).await);

    let viewer = handle.viewers()[0].id;
    c.send(key(0x61));
    assert!(c.until(|_| true).await);
    let ev = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.viewer, viewer);
    assert_eq!(ev.event, rfb_server::ServerEvent::Message(key(0x61)));

    assert!(handle.set_view_only(viewer, true));
    next_audit(&mut audit, |e| {
        matches!(
            e,
            AuditEvent::PermissionChanged {
                view_only: true,
                ..
            }
        )
    })
    .await;
    c.send(key(0x62));
    c.sync().await;
    // Switch back: only the key sent after it arrives.
    assert!(handle.set_view_only(viewer, false));
    next_audit(&mut audit, |e| {
        matches!(
            e,
            AuditEvent::PermissionChanged {
                view_only: false,
                ..
            }
        )
    })
    .await;
    c.send(key(0x63));
    c.until(|_| true).await;
    let ev = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.event, rfb_server::ServerEvent::Message(key(0x63)));

    assert!(handle.disconnect(viewer, "bye"));
    assert!(!c.until(|_| false).await);
    assert!(c.eof);
    let e = next_audit(&mut audit, |e| matches!(e, AuditEvent::Disconnected { .. })).await;
    assert_eq!(
        e,
        AuditEvent::Disconnected {
            viewer,
            reason: "connection closed by the server: bye".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_one_viewer_ends_only_it() {
    let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let (_server, handle, _events, addr) = start(options).await;
    let mut audit = handle.audit();
    let mut good = Client::connect(addr, ClientConfig::default()).await;
    let mut bad = Client::connect(addr, ClientConfig::default()).await;
    assert!(good.connected().await && bad.connected().await);
    bad.stream.write_all(&[0x42, 0, 0, 0, 0, 0]).await.unwrap();
    next_audit(&mut audit, |e| matches!(e, AuditEvent::Disconnected { reason, .. } if reason.contains("unknown message type"))).await;
    assert!(!bad.until(|_| false).await);
    good.request(false);
    handle.update(frame(3), Damage::Everything);
    let want = frame(3);
    good.request(true);
    assert!(good.until(|c| c.matches(&want)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_does_not_stall_the_others() {
    let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let (_server, handle, _events, addr) = start(options).await;
    let mut stuck = Client::connect(addr, ClientConfig::default()).await;
    assert!(stuck.connected().await);
    stuck.send(ClientMessage::SetEncodings(vec![Encoding::RAW]));
    // Many requests, then never read again.
    for _ in 0..200 {
        stuck.request(false);
    }
    while let Some(b) = stuck.conn.poll_transmit() {
        stuck.stream.write_all(&b).await.unwrap();
    }
    let mut live = Client::connect(addr, ClientConfig::default()).await;
    assert!(live.connected().await);
    for seed in 1..40u8 {
        handle.update(frame(seed), Damage::Everything);
        live.request(seed > 1);
        let want = frame(seed);
        assert!(live.until(|c| c.matches(&want)).await, "frame {seed}");
    }
    assert_eq!(handle.viewers().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_deny_and_view_only() {
    let mut options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let answers = Arc::new(std::sync::Mutex::new(vec![
        Consent::ViewOnly,
        Consent::Deny,
    ]));
    let hook: ConsentHook = Arc::new(move |_req| {
        let answer = answers.lock().unwrap().pop().unwrap_or(Consent::Deny);
        Box::pin(async move { answer })
    });
    options.consent = Some(hook);
    let (_server, handle, mut events, addr) = start(options).await;
    let mut audit = handle.audit();
    // First: denied.
    let mut denied = Client::connect(addr, ClientConfig::default()).await;
    assert!(!denied.connected().await);
    let e = next_audit(&mut audit, |e| matches!(e, AuditEvent::Refused { .. })).await;
    assert!(matches!(e, AuditEvent::Refused { reason, .. } if reason.contains("declined")));
    // Second: view-only; its keys never reach the product.
    let mut viewer = Client::connect(addr, ClientConfig::default()).await;
    assert!(viewer.connected().await);
    next_audit(&mut audit, |e| {
        matches!(
            e,
            AuditEvent::Authenticated {
                view_only: true,
                ..
            }
        )
    })
    .await;
    viewer.send(key(0x61));
    viewer.sync().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(events.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_password_and_throttling() {
    let otp = Arc::new(
        OneTimePassword::generate(
            &mut FixedRandom::new([1, 2, 3, 4, 5, 6, 7, 8]),
            Duration::from_secs(60),
            Instant::now(),
        )
        .unwrap(),
    );
    let password = otp.password().to_owned();
    let mut options = ServerOptions::new(ServerConfig::vnc_auth(), otp);
    options.throttle =
        rfb_server::AuthThrottle::new(2, Duration::from_secs(60), Duration::from_secs(60));
    let (_server, handle, _events, addr) = start(options).await;
    let mut audit = handle.audit();
    let with = |pw: &str| ClientConfig {
        password: Some(pw.into()),
        ..ClientConfig::default()
    };
    // The right password works once.
    let mut ok = Client::connect(addr, with(&password)).await;
    assert!(ok.connected().await);
    let mut again = Client::connect(addr, with(&password)).await;
    assert!(!again.connected().await);
    let e = next_audit(&mut audit, |e| matches!(e, AuditEvent::Refused { .. })).await;
    assert!(matches!(e, AuditEvent::Refused { reason, .. } if reason.contains("already used")));
    // Two failures from 127.0.0.1 lock the address out: the next try is refused
    // without being judged.
    let mut wrong = Client::connect(addr, with("nope")).await;
    assert!(!wrong.connected().await);
    let mut wrong = Client::connect(addr, with("nope")).await;
    assert!(!wrong.connected().await);
    let e = next_audit(
        &mut audit,
        |e| matches!(e, AuditEvent::Refused { reason, .. } if reason.contains("too many")),
    )
    .await;
    assert!(matches!(e, AuditEvent::Refused { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_deadline_and_shutdown() {
    let mut options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    options.join_deadline = Some(Duration::from_millis(200));
    let (server, _events) = Server::new(frame(0), options);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = server.handle();
    tokio::time::timeout(WAIT, server.listen(listener))
        .await
        .expect("listen returns after the deadline")
        .unwrap();
    assert!(handle.is_shut_down());
    assert_eq!(handle.closed().await, "nobody joined before the deadline");

    // Graceful shutdown closes connected viewers.
    let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let (_server, handle, _events, addr) = start(options).await;
    let mut c = Client::connect(addr, ClientConfig::default()).await;
    assert!(c.connected().await);
    handle.shutdown("maintenance");
    assert!(!c.until(|_| false).await);
    assert!(c.eof);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_connection_serves_a_listening_viewer() {
    let options = ServerOptions::new(ServerConfig::vnc_auth(), Arc::new(VncPassword::new("pw")));
    let (server, _events) = Server::new(frame(9), options);
    let viewer = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = viewer.local_addr().unwrap();
    let task = server.connect_reverse(addr).await.unwrap();
    let (stream, _) = viewer.accept().await.unwrap();
    let mut c = Client::over(
        stream,
        ClientConfig {
            password: Some("pw".into()),
            ..ClientConfig::default()
        },
    );
    assert!(c.connected().await);
    c.request(false);
    let want = frame(9);
    assert!(c.until(|c| c.matches(&want)).await);
    drop(c);
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_that_stops_reading_events_pauses_input_but_not_shutdown() {
    let mut options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    options.event_capacity = 1;
    let (_server, handle, events, addr) = start(options).await;
    let mut c = Client::connect(addr, ClientConfig::default()).await;
    assert!(c.connected().await);
    for k in 0..50 {
        c.send(key(k));
    }
    c.until(|_| true).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.shutdown("bye");
    assert!(!c.until(|_| false).await);
    assert!(c.eof);
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusive_viewer_disconnects_the_others() {
    let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    let (_server, handle, _events, addr) = start(options).await;
    let mut first = Client::connect(addr, ClientConfig::default()).await;
    assert!(first.connected().await);
    let exclusive = ClientConfig {
        shared: false,
        ..ClientConfig::default()
    };
    let mut second = Client::connect(addr, exclusive).await;
    assert!(second.connected().await);
    assert!(!first.until(|_| false).await);
    assert!(first.eof);
    second.request(false);
    assert!(second.until(|c| c.updates == 1).await);
    assert_eq!(handle.viewers().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_accepts_a_viewers_resize() {
    use rfb_proto::client::SetDesktopSize;
    use rfb_proto::server::ExtendedDesktopSize;
    let mut options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
    options.allow_resize = true;
    let (_server, handle, mut events, addr) = start(options).await;
    let mut c = Client::connect(addr, ClientConfig::default()).await;
    assert!(c.connected().await);
    c.send(ClientMessage::SetEncodings(vec![
        Encoding::RAW,
        Encoding::EXTENDED_DESKTOP_SIZE,
    ]));
    c.request(false);
    assert!(c.until(|c| c.updates == 1).await);
    let request = SetDesktopSize {
        width: 50,
        height: 40,
        screens: vec![rfb_proto::Screen {
            id: 0,
            rect: Rect::new(0, 0, 50, 40),
            flags: 0,
        }],
    };
    c.send(ClientMessage::SetDesktopSize(request.clone()));
    c.sync().await;
    let ev = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ev.event,
        rfb_server::ServerEvent::DesktopSizeRequested(request)
    );
    let mut resized = Framebuffer::new(50, 40, PixelFormat::RGB888);
    resized
        .fill(Rect::new(0, 0, 10, 10), &[1, 2, 3, 0])
        .unwrap();
    handle.update(resized.clone(), Damage::Everything);
    assert!(handle.answer_desktop_size(ev.viewer, ExtendedDesktopSize::STATUS_OK));
    c.request(true);
    assert!(c.until(|c| c.matches(&resized)).await);
}
