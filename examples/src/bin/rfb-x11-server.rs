//! `rfb-x11-server [--display :N] [--listen ADDR] [--password-file F] [--view-only]
//! [--fps N] [--no-shm] [--verbose]`
//!
//! Shares a real X11 display with VNC viewers: a pure-Rust x11vnc. The root window is
//! captured with MIT-SHM (`ShmGetImage` into a memfd segment) where the X server allows
//! it, else GetImage; only the areas the DAMAGE extension reports, as soon as it reports
//! them (after at most a few milliseconds of coalescing, and at most `--fps` captures a
//! second), plus a full pass every second; without DAMAGE, the whole screen `--fps`
//! times a second. Frames go to the `rfb_server` Session (whose tile diff sends only
//! what really changed), and viewers' keys and pointer are injected with XTEST as they
//! arrive. See `rfb_examples::x11` for the screens it supports (depth 24 TrueColor,
//! 32 bpp) and what it refuses, and `rfb_examples::x11::pacer` for the capture timing.
//!
//! Prints `listening ADDR`, the display's description, one line per audit event and one
//! per injected input event (`key #1 keysym=0x61 down=true keycode=38`,
//! `pointer #1 x=10 y=20 buttons=1`); with `--verbose`, the time a full capture takes
//! and one line per capture.
//!
//! Cursor shape: with XFixes, every change of the displayed cursor goes to the viewers
//! that asked for a cursor pseudo-encoding (`cursor 16x16 hot=7,7 serial=5`); a viewer
//! that joins later gets the current one (the server handle keeps it). A cursor the X
//! server refuses to hand over (Xvfb answers BadAccess for some cursors whose creator
//! freed them, such as one `xsetroot` set) is tried three times, then the previous
//! shape stays (`cursor not read: ...`).
//!
//! Pointer position: polled every 50 ms; when it moved, viewers that list PointerPos
//! are told (except the viewer whose PointerEvent put it there).
//!
//! Clipboard (unless `--no-clipboard`; needs XFixes): a viewer's cut text becomes the
//! `CLIPBOARD` and `PRIMARY` selections (`clipboard to X len=N`); text another X client
//! puts on `CLIPBOARD` goes to every viewer (`clipboard from X len=N`). See
//! `rfb_examples::x11::clipboard` (1 MiB cap, no `INCR`, no echo).

use std::path::PathBuf;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use rfb_codec::Region;
use rfb_examples::x11::clipboard::Clipboard;
use rfb_examples::x11::pacer::{Capture, Pacer};
use rfb_examples::x11::{Display, DisplayEvent, FULL_POLL, MAX_DAMAGE_RECTS};
use rfb_proto::ClientMessage;
use rfb_server::driver::{AuditEvent, Server, ServerHandle, ServerOptions, ViewerEvent};
use rfb_server::{
    AllowAll, Authenticator, Damage, ServerConfig, ServerEvent, ViewerId, VncPassword,
};
use tokio::sync::mpsc;

#[derive(Parser)]
#[command(about = "Share an X11 display over VNC (pure Rust)")]
struct Args {
    /// The X display to share (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5900")]
    listen: String,
    /// File whose first line is the VNC password (VNC Authentication); without it,
    /// security type None.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Viewers see but cannot control.
    #[arg(long)]
    view_only: bool,
    /// Captures per second at most (damage is captured as it is reported, but never
    /// sooner than 1/fps after the previous capture); without DAMAGE, the polling rate.
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Capture with plain GetImage even where MIT-SHM is available.
    #[arg(long)]
    no_shm: bool,
    /// Print the time a full-screen capture takes, and one line per capture.
    #[arg(long)]
    verbose: bool,
    /// Do not connect the X clipboard and the viewers' clipboards.
    #[arg(long)]
    no_clipboard: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (config, auth): (ServerConfig, Arc<dyn Authenticator>) = match &args.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            let password = text.lines().next().unwrap_or("").to_owned();
            (
                ServerConfig::vnc_auth(),
                Arc::new(VncPassword::new(password)),
            )
        }
        None => (ServerConfig::no_auth(), Arc::new(AllowAll)),
    };
    let mut display = Display::open(args.display.as_deref(), !args.no_shm)?;
    let mut fb = display.new_framebuffer();
    let full = fb.rect();
    display.grab(&mut fb, full)?;
    println!(
        "display {} {}",
        args.display.as_deref().unwrap_or("$DISPLAY"),
        display.description()
    );
    if args.verbose {
        time_full_capture(&mut display, &mut fb)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut options = ServerOptions::new(config, auth);
    options.view_only = args.view_only;
    options.name = format!("rfb-x11-server {}", args.display.as_deref().unwrap_or(""));
    let (server, events) = Server::new(fb.clone(), options);
    let handle = server.handle();
    let listener = runtime.block_on(tokio::net::TcpListener::bind(&args.listen))?;
    println!("listening {}", listener.local_addr()?);
    let mut audit = handle.audit();
    runtime.spawn(async move {
        while let Ok(e) = audit.recv().await {
            match e {
                AuditEvent::Connected { viewer, peer } => println!("connected {viewer} {peer}"),
                AuditEvent::Authenticated { viewer, view_only } => {
                    println!("authenticated {viewer} view_only={view_only}");
                }
                AuditEvent::Clipboard {
                    viewer,
                    from_viewer,
                    len,
                } => println!("clipboard {viewer} from_viewer={from_viewer} len={len}"),
                AuditEvent::Refused { viewer, reason } => {
                    println!("refused {viewer} reason={reason}")
                }
                AuditEvent::Disconnected { viewer, reason } => {
                    println!("disconnected {viewer} reason={reason}")
                }
                _ => {}
            }
        }
    });
    runtime.spawn(async move { server.listen(listener).await });
    let clipboard = if args.no_clipboard {
        None
    } else {
        match Clipboard::open(args.display.as_deref()) {
            Ok(c) => {
                let c = Arc::new(c);
                let (follower, to_viewers) = (Arc::clone(&c), handle.clone());
                std::thread::spawn(move || {
                    let r = follower.run(|text| {
                        println!("clipboard from X len={}", text.len());
                        to_viewers.send_clipboard(&text);
                    });
                    if let Err(e) = r {
                        eprintln!("clipboard: {e:#}");
                    }
                });
                Some(c)
            }
            Err(e) => {
                println!("clipboard off: {e:#}");
                None
            }
        }
    };
    let shared = Shared { clipboard };
    let period = Duration::from_secs_f64(1.0 / f64::from(args.fps.clamp(1, 120)));
    // Capture and input run on this thread: the X connection is blocking.
    let result = capture_loop(
        &mut display,
        fb,
        &handle,
        &shared,
        events,
        period,
        args.verbose,
    );
    let _ = display.release_all();
    handle.shutdown("the X display went away");
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Times ten full-screen captures with the method in use; prints the median.
fn time_full_capture(display: &mut Display, fb: &mut rfb_codec::Framebuffer) -> Result<()> {
    let full = fb.rect();
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        display.grab(fb, full)?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "capture full {}x{} via {}: median {:.2} ms, min {:.2} ms (10 runs)",
        full.width,
        full.height,
        if display.has_shm() {
            "MIT-SHM"
        } else {
            "GetImage"
        },
        times[5].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
    Ok(())
}

/// What the capture thread shares with the rest.
struct Shared {
    clipboard: Option<Arc<Clipboard>>,
}

/// How often the pointer position is polled for viewers that list PointerPos.
const POINTER_POLL: Duration = Duration::from_millis(50);

/// A failed cursor fetch is tried again after this long, at most [`CURSOR_TRIES`] times
/// in all per change (Xvfb, for one, refuses `GetCursorImage` with BadAccess for
/// cursor-font cursors whose creator freed them: those are never read).
const CURSOR_RETRY: Duration = Duration::from_millis(100);
/// Fetch attempts per cursor change.
const CURSOR_TRIES: u32 = 3;

/// Fetches the displayed cursor and hands it to the viewers if its serial is new.
/// An X error (the server may refuse `GetCursorImage` while the cursor is changing
/// hands) is reported and returned as `Ok(false)`: try again later. Other errors (the
/// connection failed) are returned.
fn update_cursor(display: &Display, handle: &ServerHandle, last: &mut Option<u32>) -> Result<bool> {
    let fetched = match display.cursor() {
        Ok(f) => f,
        Err(e) if is_x_error(&e) => {
            println!("cursor not read: {e:#}");
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let Some((serial, image)) = fetched else {
        return Ok(true);
    };
    if *last == Some(serial) {
        return Ok(true);
    }
    *last = Some(serial);
    let (hx, hy) = image.hotspot();
    println!(
        "cursor {}x{} hot={hx},{hy} serial={serial}",
        image.width(),
        image.height()
    );
    handle.set_cursor(image);
    Ok(true)
}

/// Whether `e` is an X protocol error reply (as opposed to a failed connection).
fn is_x_error(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<x11rb::errors::ReplyError>(),
        Some(x11rb::errors::ReplyError::X11Error(_))
    )
}

/// What wakes the capture thread.
enum Wake {
    Input(ViewerEvent),
    X(DisplayEvent),
    /// The X connection failed (the display went away).
    Gone(anyhow::Error),
}

/// Captures as [`Pacer`] says, fed by two threads: one reading X events (damage), one
/// forwarding viewer input, which is injected as soon as it arrives.
fn capture_loop(
    display: &mut Display,
    mut fb: rfb_codec::Framebuffer,
    handle: &ServerHandle,
    shared: &Shared,
    mut events: mpsc::Receiver<ViewerEvent>,
    period: Duration,
    verbose: bool,
) -> Result<()> {
    let mut cursor_serial = None;
    // When a failed cursor fetch is tried again.
    let mut cursor_retry: Option<(Instant, u32)> = None;
    if !update_cursor(display, handle, &mut cursor_serial)? {
        cursor_retry = Some((Instant::now() + CURSOR_RETRY, 1));
    }
    let (tx, rx) = std_mpsc::channel();
    let x_events = display.events();
    let x_tx = tx.clone();
    std::thread::spawn(move || loop {
        let wake = match x_events.next() {
            Ok(e) => Wake::X(e),
            Err(e) => Wake::Gone(e),
        };
        let gone = matches!(wake, Wake::Gone(_));
        if x_tx.send(wake).is_err() || gone {
            break;
        }
    });
    std::thread::spawn(move || {
        while let Some(ev) = events.blocking_recv() {
            if tx.send(Wake::Input(ev)).is_err() {
                break;
            }
        }
    });
    let full = fb.rect();
    let mut pacer = Pacer::new(Instant::now(), period, FULL_POLL, !display.has_damage());
    let mut damage = Region::new();
    // Pointer position for viewers that list PointerPos: polled (X reports motion only
    // to the window under the pointer).
    let mut next_pointer_poll = Instant::now();
    let mut pointer_at: Option<(u16, u16)> = None;
    let mut last_injected: Option<((u16, u16), ViewerId)> = None;
    loop {
        let now = Instant::now();
        if let Some(what) = pacer.poll(now) {
            let hint = match what {
                Capture::Damage => {
                    if damage.rect_count() > MAX_DAMAGE_RECTS {
                        if let Some(b) = damage.bounding_box() {
                            damage = Region::from(b);
                        }
                    }
                    for r in damage.rects() {
                        display.grab(&mut fb, r)?;
                    }
                    Damage::Region(std::mem::take(&mut damage))
                }
                Capture::Full => {
                    damage = Region::new();
                    display.grab(&mut fb, full)?;
                    Damage::Everything
                }
            };
            if verbose {
                let what = match &hint {
                    Damage::Region(r) => format!("{} rects {} px", r.rect_count(), r.area()),
                    _ => "full".to_owned(),
                };
                println!(
                    "capture {what} in {:.2} ms",
                    now.elapsed().as_secs_f64() * 1e3
                );
            }
            if !matches!(&hint, Damage::Region(r) if r.is_empty()) {
                handle.update(fb.clone(), hint);
            }
        }
        if let Some((at, tries)) = cursor_retry {
            if at <= Instant::now() {
                cursor_retry = (!update_cursor(display, handle, &mut cursor_serial)?
                    && tries + 1 < CURSOR_TRIES)
                    .then(|| (Instant::now() + CURSOR_RETRY, tries + 1));
            }
        }
        if Instant::now() >= next_pointer_poll {
            next_pointer_poll = Instant::now() + POINTER_POLL;
            let at = display.pointer_position()?;
            if Some(at) != pointer_at {
                pointer_at = Some(at);
                // The viewer whose PointerEvent put it there already shows it.
                let moved_by = last_injected.filter(|(p, _)| *p == at).map(|(_, v)| v);
                handle.set_pointer_position(at.0, at.1, moved_by);
            }
        }
        let wake_at = match cursor_retry {
            Some((t, _)) => t.min(pacer.poll_timeout()),
            None => pacer.poll_timeout(),
        }
        .min(next_pointer_poll);
        let wait = wake_at.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Wake::Input(ViewerEvent {
                viewer,
                event: ServerEvent::ClipboardText(text),
            })) => {
                if let Some(c) = &shared.clipboard {
                    let taken = c.set_text(&text)?;
                    println!(
                        "clipboard to X len={} from {viewer} taken={taken}",
                        text.len()
                    );
                }
            }
            Ok(Wake::Input(ev)) => {
                if let ServerEvent::Message(ClientMessage::PointerEvent(p)) = &ev.event {
                    last_injected = Some(((p.x, p.y), ev.viewer));
                }
                inject(display, &ev)?
            }
            Ok(Wake::X(DisplayEvent::CursorChanged(_))) => {
                cursor_retry = (!update_cursor(display, handle, &mut cursor_serial)?)
                    .then(|| (Instant::now() + CURSOR_RETRY, 1));
            }
            Ok(Wake::X(DisplayEvent::Damage(r))) => {
                if !r.is_empty() {
                    damage.add_rect(r);
                    // Keep the region small while damage streams in.
                    if damage.rect_count() > MAX_DAMAGE_RECTS {
                        if let Some(b) = damage.bounding_box() {
                            damage = Region::from(b);
                        }
                    }
                    pacer.damaged(Instant::now());
                }
            }
            Ok(Wake::X(DisplayEvent::KeymapChanged)) => display.reload_keymap()?,
            Ok(Wake::X(DisplayEvent::Other)) => {}
            Ok(Wake::Gone(e)) => return Err(e),
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            // Both feeders ended: the server and the display are gone.
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

fn inject(display: &mut Display, ev: &ViewerEvent) -> Result<()> {
    let ServerEvent::Message(m) = &ev.event else {
        return Ok(());
    };
    match m {
        ClientMessage::KeyEvent(k) => {
            let code = display.key(k.keysym, k.down)?;
            println!(
                "key {} keysym={:#x} down={} keycode={}",
                ev.viewer,
                k.keysym,
                k.down,
                code.map_or("none".to_owned(), |c| c.to_string())
            );
        }
        // QEMU extended key events carry the keysym too; it is what is injected (the
        // XT scancode would need a per-keyboard table).
        ClientMessage::QemuKeyEvent(k) => {
            let code = display.key(k.keysym, k.down)?;
            println!(
                "key {} keysym={:#x} down={} keycode={} (qemu)",
                ev.viewer,
                k.keysym,
                k.down,
                code.map_or("none".to_owned(), |c| c.to_string())
            );
        }
        ClientMessage::PointerEvent(p) => {
            display.pointer(p.x, p.y, p.buttons)?;
            println!(
                "pointer {} x={} y={} buttons={}",
                ev.viewer, p.x, p.y, p.buttons
            );
        }
        _ => {}
    }
    Ok(())
}
