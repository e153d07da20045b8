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
//! and one line per capture. Not yet: clipboard, cursor shape.

use std::path::PathBuf;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use rfb_codec::Region;
use rfb_examples::x11::pacer::{Capture, Pacer};
use rfb_examples::x11::{Display, DisplayEvent, FULL_POLL, MAX_DAMAGE_RECTS};
use rfb_proto::ClientMessage;
use rfb_server::driver::{AuditEvent, Server, ServerHandle, ServerOptions, ViewerEvent};
use rfb_server::{AllowAll, Authenticator, Damage, ServerConfig, ServerEvent, VncPassword};
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
                    println!("authenticated {viewer} view_only={view_only}")
                }
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
    let period = Duration::from_secs_f64(1.0 / f64::from(args.fps.clamp(1, 120)));
    // Capture and input run on this thread: the X connection is blocking.
    let result = capture_loop(&mut display, fb, &handle, events, period, args.verbose);
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
    mut events: mpsc::Receiver<ViewerEvent>,
    period: Duration,
    verbose: bool,
) -> Result<()> {
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
        let wait = pacer
            .poll_timeout()
            .saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Wake::Input(ev)) => inject(display, &ev)?,
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
