//! A tokio driver for [`Viewer`]: one task per connection.
//!
//! The task owns the socket and the [`Viewer`] and runs a `select!` over reading the
//! socket, the product's [`Command`]s and the handshake timer; it writes what the
//! viewer queues after every step (a client sends little, so writes are awaited in
//! line). It knows nothing about RFB beyond the viewer's polling order.
//!
//! The product gets a cloneable [`ViewerHandle`] (commands, and the shared
//! [`Frame`] the task keeps up to date as `0x00RRGGBB` pixels) and a channel of
//! [`ViewerEvent`]s. The channel is bounded: a product that stops reading events
//! stops the task reading the socket, so nothing grows without bound.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rfb_codec::ColourPreset;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{ClientError, EncodingPreference, Viewer, ViewerConfig, ViewerEvent, VncAddress};

/// The port a listening viewer waits on for reverse connections.
pub const LISTEN_PORT: u16 = 5500;

/// Capacity of the event channel.
const EVENT_CAPACITY: usize = 256;
/// Read buffer size.
const READ_CHUNK: usize = 256 * 1024;

/// What the product can ask of a running connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// A key press or release (keysym, down, optional XT keycode).
    Key {
        /// X keysym.
        keysym: u32,
        /// Pressed (true) or released.
        down: bool,
        /// XT scan code, for QEMU extended key events.
        keycode: Option<u32>,
    },
    /// Pointer position and button mask.
    Pointer {
        /// X position in framebuffer pixels.
        x: u16,
        /// Y position.
        y: u16,
        /// Button mask ([`rfb_proto::client::PointerEvent`] constants).
        buttons: u16,
    },
    /// Set the server's clipboard text.
    CutText(String),
    /// Change the encoding preference.
    SetEncodings(EncodingPreference),
    /// Change the colour mode.
    SetColour(ColourPreset),
    /// Ask for the whole screen again.
    Refresh,
    /// Ask the server for a new desktop size and screen layout
    /// ([`Viewer::request_desktop_size`]; an empty `screens` means
    /// [`Viewer::single_screen_layout`]). The answer arrives as
    /// [`ViewerEvent::DesktopSizeResult`]; the command is dropped when the server has
    /// not announced ExtendedDesktopSize support
    /// ([`Capabilities::extended_desktop_size`](crate::Capabilities::extended_desktop_size)).
    SetDesktopSize {
        /// Requested framebuffer width.
        width: u16,
        /// Requested framebuffer height.
        height: u16,
        /// Requested layout.
        screens: Vec<rfb_proto::Screen>,
    },
    /// Send Ctrl-Alt-Del.
    CtrlAltDel,
    /// Drop or send input.
    ViewOnly(bool),
    /// Answer a password request (`None` gives up).
    Password(Option<String>),
    /// Close the connection.
    Close,
}

/// The framebuffer as the product draws it: `width * height` pixels `0x00RRGGBB`,
/// updated by the driver task after every update (grey when the colour mode is grey).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Pixels, row after row.
    pub pixels: Vec<u32>,
    /// Counts the updates applied (to tell whether to redraw).
    pub serial: u64,
}

/// A cloneable handle to a running connection.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use rfb_client::driver::{self, Command};
/// use rfb_client::{ViewerConfig, ViewerEvent};
/// let addr = "localhost:1".parse().unwrap();
/// let (handle, mut events, task) = driver::connect(&addr, ViewerConfig::default()).await?;
/// while let Some(ev) = events.recv().await {
///     if let ViewerEvent::Updated { .. } = ev {
///         let frame = handle.frame();
///         println!("{}x{} serial {}", frame.width, frame.height, frame.serial);
///         break;
///     }
/// }
/// handle.send(Command::Close);
/// let _ = task.await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ViewerHandle {
    tx: mpsc::UnboundedSender<Command>,
    frame: Arc<Mutex<Frame>>,
}

impl ViewerHandle {
    /// Queues a command; false if the connection task has ended.
    pub fn send(&self, cmd: Command) -> bool {
        self.tx.send(cmd).is_ok()
    }

    /// Answers [`ViewerEvent::PasswordRequested`].
    pub fn provide_password(&self, password: Option<String>) -> bool {
        self.send(Command::Password(password))
    }

    /// The current frame (locked while the guard lives: keep it short).
    pub fn frame(&self) -> MutexGuard<'_, Frame> {
        // A panic while holding the lock cannot leave the frame inconsistent in a way
        // that matters for drawing: take it anyway.
        self.frame.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What [`connect`], [`listen`] and [`spawn`] return: the handle, the events, and the
/// task (which ends with the reason the connection ended).
pub type Running = (
    ViewerHandle,
    mpsc::Receiver<ViewerEvent>,
    JoinHandle<Result<(), ClientError>>,
);

/// Connects to `addr` and starts the connection task.
pub async fn connect(addr: &VncAddress, config: ViewerConfig) -> std::io::Result<Running> {
    let stream = TcpStream::connect((addr.host.as_str(), addr.port)).await?;
    stream.set_nodelay(true)?;
    Ok(spawn(stream, config))
}

/// Listens on `addr` (port [`LISTEN_PORT`] by convention) for one reverse connection
/// from a server, then starts the connection task on it.
pub async fn listen(addr: SocketAddr, config: ViewerConfig) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    accept(&listener, config).await
}

/// Accepts one reverse connection on `listener` and starts the connection task on it
/// (call again for the next server).
pub async fn accept(listener: &TcpListener, config: ViewerConfig) -> std::io::Result<Running> {
    let (stream, _) = listener.accept().await?;
    stream.set_nodelay(true)?;
    Ok(spawn(stream, config))
}

/// Starts the connection task on a connected stream (which must be inside a tokio
/// runtime).
pub fn spawn(stream: TcpStream, config: ViewerConfig) -> Running {
    let (tx, rx) = mpsc::unbounded_channel();
    let (etx, erx) = mpsc::channel(EVENT_CAPACITY);
    let frame = Arc::new(Mutex::new(Frame::default()));
    let handle = ViewerHandle {
        tx,
        frame: frame.clone(),
    };
    let task = tokio::spawn(run(stream, config, rx, etx, frame));
    (handle, erx, task)
}

fn transport(e: std::io::Error) -> ClientError {
    ClientError::Transport(e.to_string())
}

async fn run(
    stream: TcpStream,
    config: ViewerConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<ViewerEvent>,
    frame: Arc<Mutex<Frame>>,
) -> Result<(), ClientError> {
    let (mut rd, mut wr) = stream.into_split();
    let mut viewer = Viewer::new(config, Instant::now());
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        while let Some(bytes) = viewer.poll_transmit() {
            wr.write_all(&bytes).await.map_err(transport)?;
        }
        while let Some(ev) = viewer.poll_event() {
            mirror(&viewer, &ev, &frame);
            // A product that dropped the receiver still gets the connection run until
            // it sends Close or drops every handle.
            let _ = events.send(ev).await;
        }
        if let Some(e) = viewer.error() {
            // Close our side cleanly (FIN after everything queued) before leaving.
            let _ = wr.shutdown().await;
            return match e {
                ClientError::ClosedByClient(_) => Ok(()),
                e => Err(e.clone()),
            };
        }
        let timer = viewer.poll_timeout();
        tokio::select! {
            r = rd.read(&mut buf) => {
                let _ = match r {
                    Ok(0) => viewer.handle_eof(),
                    Ok(n) => viewer.handle_input(&buf[..n], Instant::now()),
                    Err(e) => return Err(transport(e)),
                };
            }
            cmd = commands.recv() => {
                let _ = match cmd {
                    None | Some(Command::Close) => {
                        viewer.close("closed by the product");
                        let _ = wr.shutdown().await;
                        return Ok(());
                    }
                    Some(c) => apply(&mut viewer, c),
                };
            }
            _ = sleep_until(timer), if timer.is_some() => {
                let _ = viewer.handle_timeout(Instant::now());
            }
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

fn apply(viewer: &mut Viewer, cmd: Command) -> Result<(), ClientError> {
    // Input before the handshake ends is dropped (there is no framebuffer to aim at).
    let connected = viewer.size().is_some();
    match cmd {
        Command::Key {
            keysym,
            down,
            keycode,
        } if connected => viewer.key(keysym, down, keycode),
        Command::Pointer { x, y, buttons } if connected => viewer.pointer(x, y, buttons),
        Command::CutText(t) if connected => viewer.cut_text(&t),
        Command::SetEncodings(p) if connected => viewer.set_encodings(p),
        Command::SetColour(c) if connected => viewer.set_colour(c),
        Command::Refresh if connected => viewer.refresh(),
        Command::SetDesktopSize {
            width,
            height,
            screens,
        } if connected => {
            let screens = if screens.is_empty() {
                viewer.single_screen_layout(width, height)
            } else {
                screens
            };
            // Refused locally (unsupported, too many pending) only: nothing to report.
            let _ = viewer.request_desktop_size(width, height, screens);
            Ok(())
        }
        Command::CtrlAltDel if connected => viewer.send_ctrl_alt_del(),
        Command::ViewOnly(v) => {
            viewer.set_view_only(v);
            Ok(())
        }
        Command::Password(p) => viewer.provide_password(p, Instant::now()),
        _ => Ok(()),
    }
}

/// Keeps the shared frame in step with the viewer's framebuffer.
fn mirror(viewer: &Viewer, ev: &ViewerEvent, frame: &Mutex<Frame>) {
    let Some(fb) = viewer.framebuffer() else {
        return;
    };
    let grey = viewer.colour() == ColourPreset::Grey;
    let mut f = frame.lock().unwrap_or_else(|p| p.into_inner());
    let (w, h) = (fb.framebuffer().width(), fb.framebuffer().height());
    let full = rfb_proto::Rect::new(0, 0, w, h);
    let resized = f.width != w || f.height != h;
    if resized {
        f.width = w;
        f.height = h;
        f.pixels = vec![0; usize::from(w) * usize::from(h)];
    }
    match ev {
        ViewerEvent::Updated { rects } => {
            for r in rects {
                fb.copy_xrgb(*r, &mut f.pixels, grey);
            }
            f.serial += 1;
        }
        ViewerEvent::ColourChanged(_) | ViewerEvent::Connected { .. } => {
            fb.copy_xrgb(full, &mut f.pixels, grey);
            f.serial += 1;
        }
        _ if resized => f.serial += 1,
        _ => {}
    }
}
