//! The tokio driver: one task per connection moving bytes between a transport and a
//! [`ServerConnection`], and a [`ServerHandle`] for the product.
//!
//! The driver knows nothing about RFB beyond the sans-IO API: each connection task runs
//! a `select!` over reading (only while [`ServerConnection::wants_input`]), writing,
//! product commands, new damage from the [`Session`] and the connection's timer.
//!
//! Flow control: an update is encoded only when the viewer asked for one (or has
//! continuous updates) and fewer than [`ServerConfig::update_budget`] bytes wait to be
//! written (in the connection and in the task's writer together); with continuous
//! updates and Fence, also only while the viewer has acknowledged all but a congestion
//! window of what it was sent (the connection is given the time of every read and
//! update, so it measures round trips). A viewer that never
//! reads therefore holds at most the budget plus one update, while its pending region
//! keeps merging newer frames.
//!
//! Memory per viewer: the read buffer ([`READ_CHUNK`]), the write queue above, one
//! encoder state (a zlib stream for Zlib/ZRLE: a few hundred KiB), a translation scratch
//! buffer of one band (64 rows), the pending region, and a command queue of
//! [`COMMAND_QUEUE`] entries. Frames are shared (`Arc`), never copied per viewer.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, Bytes};
use rfb_codec::cursor::CursorImage;
use rfb_codec::Framebuffer;
use rfb_proto::server::ExtendedDesktopSize;
use rfb_proto::{ClientMessage, Encoding, ServerInit};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio::time::Instant;

use crate::{
    AuthDecision, AuthThrottle, Authenticator, CopyMove, Damage, ServerConfig, ServerConnection,
    ServerError, ServerEvent, Session, ViewerId,
};

/// Bytes read from a transport at a time.
pub const READ_CHUNK: usize = 16 << 10;
/// Commands queued per viewer; more are dropped (a bell or clipboard text too many).
pub const COMMAND_QUEUE: usize = 64;
/// How long a closing connection may take to flush its last bytes.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Default port a listening viewer waits on for reverse connections.
pub const REVERSE_PORT: u16 = 5500;

/// The answer of the consent hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Let the viewer in with control.
    Allow,
    /// Let the viewer in, view-only.
    ViewOnly,
    /// Refuse the viewer.
    Deny,
}

/// Who asks for consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    /// The viewer.
    pub viewer: ViewerId,
    /// Its address (or a description of the transport).
    pub peer: String,
}

/// A consent hook: asked after successful authentication, before the viewer is let in.
pub type ConsentHook =
    Arc<dyn Fn(ConsentRequest) -> Pin<Box<dyn Future<Output = Consent> + Send>> + Send + Sync>;

/// Something that happened, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent {
    /// A transport was accepted (or a reverse connection made).
    Connected {
        /// The viewer.
        viewer: ViewerId,
        /// Its address.
        peer: String,
    },
    /// The viewer authenticated (and, with a consent hook, was let in).
    Authenticated {
        /// The viewer.
        viewer: ViewerId,
        /// Whether it is view-only.
        view_only: bool,
    },
    /// Authentication or consent refused the viewer.
    Refused {
        /// The viewer.
        viewer: ViewerId,
        /// Why.
        reason: String,
    },
    /// The viewer was switched between view-only and control.
    PermissionChanged {
        /// The viewer.
        viewer: ViewerId,
        /// The new setting.
        view_only: bool,
    },
    /// Clipboard text went to or came from a viewer.
    Clipboard {
        /// The viewer.
        viewer: ViewerId,
        /// True: from the viewer to the product.
        from_viewer: bool,
        /// Length in bytes.
        len: usize,
    },
    /// The encoding the viewer's updates are written in, when its SetEncodings first
    /// sets it and whenever a later one changes it (the first of the viewer's list the
    /// server can encode: Tight, TightPNG, ZRLE, Hextile, Zlib, TRLE, RRE, CoRRE, Raw).
    Encoding {
        /// The viewer.
        viewer: ViewerId,
        /// The encoding of its pixel rectangles.
        encoding: Encoding,
    },
    /// The connection ended.
    Disconnected {
        /// The viewer.
        viewer: ViewerId,
        /// Why.
        reason: String,
    },
    /// The server shut down.
    ShutDown {
        /// Why.
        reason: String,
    },
}

/// An event from a viewer for the product: a [`ServerEvent::Message`] (key, pointer,
/// QEMU key and xvp), [`ServerEvent::ClipboardText`], or (with
/// [`ServerOptions::allow_resize`]) [`ServerEvent::DesktopSizeRequested`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerEvent {
    /// Who sent it.
    pub viewer: ViewerId,
    /// What.
    pub event: ServerEvent,
}

/// A viewer, as listed by [`ServerHandle::viewers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerInfo {
    /// Its id.
    pub id: ViewerId,
    /// Its address.
    pub peer: String,
    /// Whether it is view-only.
    pub view_only: bool,
    /// Whether it finished authentication.
    pub authenticated: bool,
}

/// How a [`Server`] behaves. Build with [`ServerOptions::new`] and adjust the fields.
pub struct ServerOptions {
    /// Security types, limits, timeouts and budgets.
    pub config: Arc<ServerConfig>,
    /// Judges credentials.
    pub authenticator: Arc<dyn Authenticator>,
    /// Asked after authentication (remote-support consent); `None`: [`Consent::Allow`].
    pub consent: Option<ConsentHook>,
    /// Every viewer starts view-only. Default false.
    pub view_only: bool,
    /// Desktop name in ServerInit.
    pub name: String,
    /// Shut the server down if nobody authenticated within this time from
    /// [`Server::listen`]. Default `None`.
    pub join_deadline: Option<Duration>,
    /// Failed authentications per source address. Default [`AuthThrottle::default`].
    pub throttle: AuthThrottle,
    /// Capacity of the viewer-event channel (a full channel pauses the viewers' input).
    /// Default 1024.
    pub event_capacity: usize,
    /// Deliver viewers' SetDesktopSize requests as [`ServerEvent::DesktopSizeRequested`]
    /// events; the product answers with [`ServerHandle::answer_desktop_size`] (after
    /// handing over a frame of the new size to accept). Default false: every request is
    /// refused as prohibited.
    pub allow_resize: bool,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("config", &self.config)
            .field("view_only", &self.view_only)
            .field("name", &self.name)
            .field("join_deadline", &self.join_deadline)
            .finish_non_exhaustive()
    }
}

impl ServerOptions {
    /// Options with `config` and `authenticator`, everything else default.
    pub fn new(config: ServerConfig, authenticator: Arc<dyn Authenticator>) -> ServerOptions {
        ServerOptions {
            config: Arc::new(config),
            authenticator,
            consent: None,
            view_only: false,
            name: "rfb".into(),
            join_deadline: None,
            throttle: AuthThrottle::default(),
            event_capacity: 1024,
            allow_resize: false,
        }
    }
}

enum Command {
    Bell,
    Clipboard(String),
    Disconnect(String),
    ViewOnly(bool),
    Name(String),
    Cursor(CursorImage),
    PointerPos(u16, u16),
    AnswerResize(u16),
    XvpFail(u8),
}

struct ViewerEntry {
    peer: String,
    view_only: bool,
    authenticated: bool,
    notify: Arc<Notify>,
    commands: mpsc::Sender<Command>,
}

struct Inner {
    options: ServerOptions,
    session: Mutex<Session>,
    viewers: Mutex<HashMap<ViewerId, ViewerEntry>>,
    throttle: Mutex<AuthThrottle>,
    audit: broadcast::Sender<AuditEvent>,
    events: mpsc::Sender<ViewerEvent>,
    shutdown: watch::Sender<Option<String>>,
    joined: AtomicBool,
    name: Mutex<String>,
    /// The cursor shape set last, for viewers that join later.
    cursor: Mutex<Option<CursorImage>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent data here (plain maps and the
    // session), so poisoning is ignored.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn audit(&self, e: AuditEvent) {
        let _ = self.audit.send(e);
    }

    fn command(&self, id: ViewerId, c: Command) -> bool {
        lock(&self.viewers)
            .get(&id)
            .is_some_and(|v| v.commands.try_send(c).is_ok())
    }
}

/// A VNC server on tokio: serves listeners, single streams and reverse connections,
/// sharing one [`Session`].
///
/// ```no_run
/// use std::sync::Arc;
/// use rfb_codec::Framebuffer;
/// use rfb_proto::PixelFormat;
/// use rfb_server::driver::{Server, ServerOptions};
/// use rfb_server::{AllowAll, ServerConfig};
///
/// # async fn run() -> std::io::Result<()> {
/// let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
/// let frame = Framebuffer::new(640, 480, PixelFormat::RGB888);
/// let (server, mut events) = Server::new(frame, options);
/// let handle = server.handle();
/// tokio::spawn(async move { while let Some(e) = events.recv().await { println!("{e:?}"); } });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5900").await?;
/// server.listen(listener).await?;
/// # drop(handle); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

/// The product's handle on a [`Server`]: cheap to clone, usable from any task.
///
/// Serving an in-memory stream and pushing a frame:
///
/// ```
/// use std::sync::Arc;
/// use rfb_codec::Framebuffer;
/// use rfb_proto::{PixelFormat, Rect};
/// use rfb_server::driver::{Server, ServerOptions};
/// use rfb_server::{AllowAll, Damage, ServerConfig};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
///     let options = ServerOptions::new(ServerConfig::no_auth(), Arc::new(AllowAll));
///     let (server, _events) = Server::new(Framebuffer::new(4, 2, PixelFormat::RGB888), options);
///     let handle = server.handle();
///     let (mut viewer, stream) = tokio::io::duplex(4096);
///     tokio::spawn(async move { server.serve_stream(stream, None).await });
///
///     let mut buf = [0u8; 12];
///     viewer.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"RFB 003.008\n");
///     viewer.write_all(b"RFB 003.008\n").await.unwrap();
///     viewer.read_exact(&mut buf[..2]).await.unwrap(); // one type: None
///     viewer.write_all(&[1]).await.unwrap();
///     viewer.read_exact(&mut buf[..4]).await.unwrap(); // SecurityResult OK
///     viewer.write_all(&[1]).await.unwrap();           // ClientInit, shared
///     let mut init = [0u8; 24 + 3];                    // ServerInit, name "rfb"
///     viewer.read_exact(&mut init).await.unwrap();
///     assert_eq!(&init[..4], [0, 4, 0, 2]);
///     assert_eq!(handle.viewers().len(), 1);
///
///     // A pixel changes; the viewer asks for an incremental update in Raw.
///     let mut next = Framebuffer::new(4, 2, PixelFormat::RGB888);
///     next.fill(Rect::new(1, 1, 1, 1), &[9, 8, 7, 0]).unwrap();
///     handle.update(next, Damage::Everything);
///     viewer.write_all(&[3, 1, 0, 0, 0, 0, 0, 4, 0, 2]).await.unwrap();
///     // The changed pixel, widened to the 32-pixel update grid: the whole 4x2 screen.
///     let mut update = [0u8; 4 + 12 + 4 * 2 * 4];
///     viewer.read_exact(&mut update).await.unwrap();
///     assert_eq!(&update[..4], [0, 0, 0, 1]);          // one rectangle
///     assert_eq!(&update[4..16], [0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0]); // 0,0 4x2 Raw
///     let px = 16 + (4 + 1) * 4;                       // pixel (1, 1)
///     assert_eq!(&update[px..px + 4], [9, 8, 7, 0]);
///     handle.shutdown("done");
/// });
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").finish_non_exhaustive()
    }
}

impl Server {
    /// A server showing `frame` (its pixel format is the native format every update is
    /// translated from), and the channel on which viewers' events arrive.
    pub fn new(
        frame: Framebuffer,
        options: ServerOptions,
    ) -> (Server, mpsc::Receiver<ViewerEvent>) {
        let (events, rx) = mpsc::channel(options.event_capacity.max(1));
        let (audit, _) = broadcast::channel(256);
        let (shutdown, _) = watch::channel(None);
        let inner = Inner {
            name: Mutex::new(options.name.clone()),
            cursor: Mutex::new(None),
            throttle: Mutex::new(options.throttle.clone()),
            options,
            session: Mutex::new(Session::new(frame)),
            viewers: Mutex::new(HashMap::new()),
            audit,
            events,
            shutdown,
            joined: AtomicBool::new(false),
        };
        (
            Server {
                inner: Arc::new(inner),
            },
            rx,
        )
    }

    /// A handle for the product.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Accepts connections until [`ServerHandle::shutdown`], serving each in its own
    /// task. Starts the join deadline, if configured.
    pub async fn listen(&self, listener: TcpListener) -> std::io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        if let Some(d) = self.inner.options.join_deadline {
            let handle = self.handle();
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                if !handle.inner.joined.load(Ordering::SeqCst) {
                    handle.shutdown("nobody joined before the deadline");
                }
            });
        }
        loop {
            if stop.borrow().is_some() {
                return Ok(());
            }
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, addr) = match accepted {
                        Ok(a) => a,
                        // Per-connection failures (e.g. reset before accept) are not fatal.
                        Err(_) => continue,
                    };
                    let _ = stream.set_nodelay(true);
                    let server = self.clone();
                    tokio::spawn(async move { server.serve_stream(stream, Some(addr)).await });
                }
                _ = stop.changed() => return Ok(()),
            }
        }
    }

    /// Connects out to a listening viewer (`vncviewer -listen`, default port
    /// [`REVERSE_PORT`]) and serves it in a new task.
    pub async fn connect_reverse(
        &self,
        addr: impl ToSocketAddrs,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().ok();
        let server = self.clone();
        Ok(tokio::spawn(async move {
            server.serve_stream(stream, peer).await
        }))
    }

    /// Serves one viewer over any byte stream until it ends; `peer` is used for the
    /// audit log and per-address throttling.
    pub async fn serve_stream<S>(&self, stream: S, peer: Option<SocketAddr>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin,
    {
        serve(Arc::clone(&self.inner), stream, peer).await
    }
}

impl ServerHandle {
    /// Hands over a new frame with a damage hint; viewers get what really changed.
    pub fn update(&self, frame: Framebuffer, hint: impl Into<Damage>) {
        lock(&self.inner.session).update(frame, hint.into());
        self.wake_all();
    }

    /// Hands over a new frame in which `mv` happened first, then `hint`.
    pub fn update_with_move(&self, frame: Framebuffer, mv: CopyMove, hint: impl Into<Damage>) {
        lock(&self.inner.session).update_with_move(frame, mv, hint.into());
        self.wake_all();
    }

    /// The current frame.
    pub fn frame(&self) -> Arc<Framebuffer> {
        Arc::clone(lock(&self.inner.session).frame())
    }

    fn wake_all(&self) {
        for v in lock(&self.inner.viewers).values() {
            v.notify.notify_one();
        }
    }

    fn each(&self, mut f: impl FnMut() -> Command) {
        for v in lock(&self.inner.viewers).values() {
            let _ = v.commands.try_send(f());
        }
    }

    /// Rings every viewer's bell.
    pub fn bell(&self) {
        self.each(|| Command::Bell);
    }

    /// Puts `text` on every authenticated viewer's clipboard.
    pub fn send_clipboard(&self, text: &str) {
        self.each(|| Command::Clipboard(text.to_owned()));
    }

    /// Changes the desktop name (for viewers that list DesktopName, and new viewers).
    pub fn set_desktop_name(&self, name: &str) {
        *lock(&self.inner.name) = name.to_owned();
        self.each(|| Command::Name(name.to_owned()));
    }

    /// Sets the cursor shape for viewers that support a cursor pseudo-encoding, now
    /// and when they join later.
    pub fn set_cursor(&self, cursor: CursorImage) {
        *lock(&self.inner.cursor) = Some(cursor.clone());
        self.each(|| Command::Cursor(cursor.clone()));
    }

    /// The connected viewers.
    pub fn viewers(&self) -> Vec<ViewerInfo> {
        let mut v: Vec<ViewerInfo> = lock(&self.inner.viewers)
            .iter()
            .map(|(id, e)| ViewerInfo {
                id: *id,
                peer: e.peer.clone(),
                view_only: e.view_only,
                authenticated: e.authenticated,
            })
            .collect();
        v.sort_by_key(|i| i.id);
        v
    }

    /// Disconnects one viewer. Returns false if it is unknown.
    pub fn disconnect(&self, viewer: ViewerId, reason: &str) -> bool {
        self.inner
            .command(viewer, Command::Disconnect(reason.to_owned()))
    }

    /// Answers a viewer's [`ServerEvent::DesktopSizeRequested`] (with
    /// [`ServerOptions::allow_resize`]): an ExtendedDesktopSize status such as
    /// `ExtendedDesktopSize::STATUS_OK` (hand over the resized frame first) or
    /// `STATUS_PROHIBITED`. Returns false if the viewer is unknown.
    pub fn answer_desktop_size(&self, viewer: ViewerId, status: u16) -> bool {
        self.inner.command(viewer, Command::AnswerResize(status))
    }

    /// Tells the viewers that list PointerPos where the pointer is now, except
    /// `moved_by`: the viewer whose PointerEvent moved it, if one did (it already shows
    /// its own moves). Call when the pointer moved.
    pub fn set_pointer_position(&self, x: u16, y: u16, moved_by: Option<ViewerId>) {
        for (id, v) in lock(&self.inner.viewers).iter() {
            if Some(*id) != moved_by {
                let _ = v.commands.try_send(Command::PointerPos(x, y));
            }
        }
    }

    /// Tells a viewer that its xvp request (with [`ServerConfig::xvp`] set, delivered as
    /// a [`ServerEvent::Message`] holding `ClientMessage::Xvp`) failed, with the
    /// request's `version`. Returns false if the viewer is unknown.
    pub fn xvp_fail(&self, viewer: ViewerId, version: u8) -> bool {
        self.inner.command(viewer, Command::XvpFail(version))
    }

    /// Switches one viewer between view-only and control. Returns false if unknown.
    pub fn set_view_only(&self, viewer: ViewerId, view_only: bool) -> bool {
        self.inner.command(viewer, Command::ViewOnly(view_only))
    }

    /// The audit event stream (events before the call are not replayed).
    pub fn audit(&self) -> broadcast::Receiver<AuditEvent> {
        self.inner.audit.subscribe()
    }

    /// Stops accepting, closes every connection (after flushing what was queued) and
    /// makes [`Server::listen`] return.
    pub fn shutdown(&self, reason: &str) {
        let first = self.inner.shutdown.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(reason.to_owned());
                true
            } else {
                false
            }
        });
        if first {
            self.inner.audit(AuditEvent::ShutDown {
                reason: reason.to_owned(),
            });
        }
    }

    /// True once [`shutdown`](Self::shutdown) was called (or the join deadline passed).
    pub fn is_shut_down(&self) -> bool {
        self.inner.shutdown.borrow().is_some()
    }

    /// Waits for the shutdown; returns its reason.
    pub async fn closed(&self) -> String {
        let mut rx = self.inner.shutdown.subscribe();
        loop {
            if let Some(r) = rx.borrow().clone() {
                return r;
            }
            if rx.changed().await.is_err() {
                return "server dropped".into();
            }
        }
    }
}

/// Is this message input the product acts on (as opposed to protocol housekeeping)?
fn is_input(m: &ClientMessage) -> bool {
    matches!(
        m,
        ClientMessage::KeyEvent(_)
            | ClientMessage::PointerEvent(_)
            | ClientMessage::QemuKeyEvent(_)
            | ClientMessage::Xvp(_)
    )
}

async fn serve<S>(inner: Arc<Inner>, stream: S, peer: Option<SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let peer_text = peer.map_or_else(|| "stream".to_owned(), |a| a.to_string());
    let ip: Option<IpAddr> = peer.map(|a| a.ip());
    let id = lock(&inner.session).add_viewer();
    let notify = Arc::new(Notify::new());
    let (cmd_tx, mut commands) = mpsc::channel(COMMAND_QUEUE);
    lock(&inner.viewers).insert(
        id,
        ViewerEntry {
            peer: peer_text.clone(),
            view_only: inner.options.view_only,
            authenticated: false,
            notify: Arc::clone(&notify),
            commands: cmd_tx,
        },
    );
    inner.audit(AuditEvent::Connected {
        viewer: id,
        peer: peer_text.clone(),
    });
    let reason = run_connection(&inner, stream, id, &peer_text, ip, &notify, &mut commands).await;
    lock(&inner.session).remove_viewer(id);
    lock(&inner.viewers).remove(&id);
    inner.audit(AuditEvent::Disconnected { viewer: id, reason });
}

async fn run_connection<S>(
    inner: &Arc<Inner>,
    stream: S,
    id: ViewerId,
    peer: &str,
    ip: Option<IpAddr>,
    notify: &Notify,
    commands: &mut mpsc::Receiver<Command>,
) -> String
where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let desktop = {
        let session = lock(&inner.session);
        let frame = session.frame();
        ServerInit {
            width: frame.width(),
            height: frame.height(),
            pixel_format: *frame.format(),
            name: lock(&inner.name).clone(),
        }
    };
    let mut conn = ServerConnection::new(
        Arc::clone(&inner.options.config),
        desktop,
        std::time::Instant::now(),
    );
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut rbuf = vec![0u8; READ_CHUNK];
    let mut wbuf = Bytes::new();
    let mut consent: Option<Pin<Box<dyn Future<Output = Consent> + Send>>> = None;
    let mut stop = inner.shutdown.subscribe();
    let mut authenticated = false;
    let mut eof = false;
    let mut last_encoding = None;
    loop {
        // Events first: they may queue replies or need the product.
        while let Some(ev) = conn.poll_event() {
            match ev {
                ServerEvent::AuthRequested {
                    security_type,
                    credentials,
                } => {
                    let now = std::time::Instant::now();
                    let allowed = ip.is_none_or(|ip| lock(&inner.throttle).allowed(ip, now));
                    let decision = if allowed {
                        inner
                            .options
                            .authenticator
                            .decide(security_type, &credentials)
                    } else {
                        AuthDecision::reject("too many failed attempts; try again later")
                    };
                    match decision {
                        AuthDecision::Accept => {
                            if let Some(ip) = ip {
                                lock(&inner.throttle).success(ip);
                            }
                            match &inner.options.consent {
                                Some(hook) => {
                                    consent = Some(hook(ConsentRequest {
                                        viewer: id,
                                        peer: peer.to_owned(),
                                    }))
                                }
                                None => {
                                    let view_only =
                                        lock(&inner.viewers).get(&id).is_some_and(|e| e.view_only);
                                    let _ = conn.set_view_only(view_only);
                                    let _ = conn.decide_auth(AuthDecision::Accept);
                                }
                            }
                        }
                        AuthDecision::Reject { reason } => {
                            if let (Some(ip), true) = (ip, allowed) {
                                lock(&inner.throttle).failure(ip, now);
                            }
                            inner.audit(AuditEvent::Refused {
                                viewer: id,
                                reason: reason.clone(),
                            });
                            let _ = conn.decide_auth(AuthDecision::Reject { reason });
                        }
                    }
                }
                ServerEvent::Authenticated { .. } => {
                    authenticated = true;
                    inner.joined.store(true, Ordering::SeqCst);
                }
                ServerEvent::Initialised { shared, .. } => {
                    if let Some(c) = lock(&inner.cursor).clone() {
                        let _ = conn.set_cursor(c);
                    }
                    let view_only = {
                        let mut viewers = lock(&inner.viewers);
                        if !shared {
                            // Exclusive access: the others go.
                            for (other, v) in viewers.iter() {
                                if *other != id {
                                    let _ = v.commands.try_send(Command::Disconnect(
                                        "another viewer asked for exclusive access".into(),
                                    ));
                                }
                            }
                        }
                        if let Some(e) = viewers.get_mut(&id) {
                            e.authenticated = true;
                        }
                        conn.is_view_only()
                    };
                    inner.audit(AuditEvent::Authenticated {
                        viewer: id,
                        view_only,
                    });
                }
                ServerEvent::DesktopSizeRequested(request) => {
                    if inner.options.allow_resize {
                        let event = ViewerEvent {
                            viewer: id,
                            event: ServerEvent::DesktopSizeRequested(request),
                        };
                        deliver(inner, &mut conn, &mut stop, event).await;
                    } else {
                        let _ = conn.answer_desktop_size(ExtendedDesktopSize::STATUS_PROHIBITED);
                    }
                }
                ServerEvent::ClipboardText(text) => {
                    inner.audit(AuditEvent::Clipboard {
                        viewer: id,
                        from_viewer: true,
                        len: text.len(),
                    });
                    let event = ViewerEvent {
                        viewer: id,
                        event: ServerEvent::ClipboardText(text),
                    };
                    deliver(inner, &mut conn, &mut stop, event).await;
                }
                ServerEvent::Message(m) => {
                    if is_input(&m) {
                        let event = ViewerEvent {
                            viewer: id,
                            event: ServerEvent::Message(m),
                        };
                        deliver(inner, &mut conn, &mut stop, event).await;
                    }
                }
            }
        }
        if eof {
            let _ = conn.handle_eof();
        }
        if let Some(encoding) = conn.update_encoding() {
            if !conn.client_encodings().is_empty() && last_encoding != Some(encoding) {
                last_encoding = Some(encoding);
                inner.audit(AuditEvent::Encoding {
                    viewer: id,
                    encoding,
                });
            }
        }
        // Then updates, encoded from the newest frame.
        if authenticated && !conn.is_handshaking() && conn.error().is_none() {
            let frame = {
                let mut session = lock(&inner.session);
                if let Some(p) = session.take(id) {
                    conn.add_pending(p);
                }
                Arc::clone(session.frame())
            };
            // Count the bytes this task still holds too: the budget bounds both.
            if conn.wants_update()
                && wbuf.len() + conn.pending_transmit() < inner.options.config.update_budget
            {
                let _ = conn.write_update_at(&frame, std::time::Instant::now());
            }
        }
        if let Some(e) = conn.error() {
            let reason = match e {
                ServerError::ClosedByPeer(_) if eof => "closed by the viewer".to_owned(),
                e => e.to_string(),
            };
            // Flush what was queued (e.g. the refusal reason), within a time limit.
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, async {
                wr.write_all(&wbuf).await?;
                while let Some(b) = conn.poll_transmit() {
                    wr.write_all(&b).await?;
                }
                wr.flush().await?;
                wr.shutdown().await
            })
            .await;
            return reason;
        }
        if wbuf.is_empty() {
            if let Some(b) = conn.poll_transmit() {
                wbuf = b;
            }
        }
        if conn.pending_events() > 0 {
            // Taking output resumed parsing input that waited for room.
            continue;
        }
        let deadline = conn.poll_timeout().map(Instant::from_std);
        let reading = conn.wants_input() && consent.is_none() && !eof;
        tokio::select! {
            r = rd.read(&mut rbuf), if reading => match r {
                Ok(0) => eof = true,
                Ok(n) => {
                    let _ = conn.handle_input_at(&rbuf[..n], std::time::Instant::now());
                }
                Err(e) => return format!("read failed: {e}"),
            },
            w = wr.write(&wbuf), if !wbuf.is_empty() => match w {
                Ok(0) => return "write failed: connection closed".into(),
                Ok(n) => {
                    wbuf.advance(n);
                    if wbuf.is_empty() {
                        if let Err(e) = wr.flush().await {
                            return format!("write failed: {e}");
                        }
                        if conn.pending_transmit() == 0 {
                            // Everything is written: drop the written buffer (it shares
                            // the connection's output allocation) and let the connection
                            // release what grew for a large update.
                            wbuf = Bytes::new();
                            conn.shrink_buffers();
                        }
                    }
                }
                Err(e) => return format!("write failed: {e}"),
            },
            c = async { match consent.as_mut() { Some(f) => f.await, None => std::future::pending().await } }, if consent.is_some() => {
                consent = None;
                match c {
                    Consent::Allow | Consent::ViewOnly => {
                        let view_only = match lock(&inner.viewers).get_mut(&id) {
                            Some(e) => {
                                e.view_only = e.view_only || c == Consent::ViewOnly;
                                e.view_only
                            }
                            None => c == Consent::ViewOnly,
                        };
                        // Before accepting: input pipelined behind ClientInit is filtered.
                        let _ = conn.set_view_only(view_only);
                        let _ = conn.decide_auth(AuthDecision::Accept);
                    }
                    Consent::Deny => {
                        let reason = "the user at the desktop declined".to_owned();
                        inner.audit(AuditEvent::Refused { viewer: id, reason: reason.clone() });
                        let _ = conn.decide_auth(AuthDecision::Reject { reason });
                    }
                }
            },
            _ = notify.notified() => {}
            cmd = commands.recv() => match cmd {
                Some(cmd) => apply(inner, &mut conn, id, cmd, authenticated),
                None => conn.close("server dropped"),
            },
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } }, if deadline.is_some() => {
                let _ = conn.handle_timeout(std::time::Instant::now());
            }
            _ = stop.changed() => conn.close("the server is shutting down"),
        }
    }
}

/// Hands an event to the product. Waiting here pauses this viewer's input while the
/// product is behind (back-pressure rather than a growing queue); a shutdown ends the
/// wait.
async fn deliver(
    inner: &Inner,
    conn: &mut ServerConnection,
    stop: &mut watch::Receiver<Option<String>>,
    event: ViewerEvent,
) {
    if conn.error().is_some() || stop.borrow().is_some() {
        // Closing: what is left is dropped.
        conn.close("the server is shutting down");
        return;
    }
    tokio::select! {
        _ = inner.events.send(event) => {}
        _ = stop.changed() => conn.close("the server is shutting down"),
    }
}

fn apply(inner: &Inner, conn: &mut ServerConnection, id: ViewerId, cmd: Command, ready: bool) {
    let normal = ready && !conn.is_handshaking();
    match cmd {
        Command::Disconnect(reason) => conn.close(reason),
        Command::ViewOnly(view_only) => {
            if let Some(e) = lock(&inner.viewers).get_mut(&id) {
                e.view_only = view_only;
            }
            let _ = conn.set_view_only(view_only);
            inner.audit(AuditEvent::PermissionChanged {
                viewer: id,
                view_only,
            });
        }
        Command::Bell if normal => {
            let _ = conn.bell();
        }
        Command::Clipboard(text) if normal => {
            if let Ok(true) = conn.send_clipboard(&text) {
                inner.audit(AuditEvent::Clipboard {
                    viewer: id,
                    from_viewer: false,
                    len: text.len(),
                });
            }
        }
        Command::Name(name) if normal => {
            let _ = conn.set_desktop_name(name);
        }
        Command::PointerPos(x, y) if normal => {
            let _ = conn.set_pointer_position(x, y);
        }
        Command::Cursor(c) if normal => {
            let _ = conn.set_cursor(c);
        }
        Command::AnswerResize(status) if normal => {
            let _ = conn.answer_desktop_size(status);
        }
        Command::XvpFail(version) if normal => {
            let _ = conn.xvp_fail(version);
        }
        _ => {}
    }
}
