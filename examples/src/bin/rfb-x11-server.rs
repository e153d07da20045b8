//! `rfb-x11-server [--display :N] [--listen ADDR] [--password-file F] [--view-only]
//! [--fps N]`
//!
//! Shares a real X11 display with VNC viewers: a pure-Rust x11vnc. The root window is
//! captured with GetImage (only the areas the DAMAGE extension reports, plus a full
//! pass every second; or the whole screen every frame without DAMAGE), handed to the
//! `rfb_server` Session (whose tile diff sends only what really changed), and viewers'
//! keys and pointer are injected with XTEST. See `rfb_examples::x11` for the screens
//! it supports (depth 24 TrueColor, 32 bpp) and what it refuses.
//!
//! Prints `listening ADDR`, the display's description, one line per audit event and one
//! per injected input event (`key #1 keysym=0x61 down=true keycode=38`,
//! `pointer #1 x=10 y=20 buttons=1`). Not yet: clipboard, cursor shape, MIT-SHM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use rfb_examples::x11::{Display, FULL_POLL};
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
    /// Captures per second.
    #[arg(long, default_value_t = 30)]
    fps: u32,
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
    let mut display = Display::open(args.display.as_deref())?;
    let mut fb = display.new_framebuffer();
    let full = fb.rect();
    display.grab(&mut fb, full)?;
    println!(
        "display {} {}",
        args.display.as_deref().unwrap_or("$DISPLAY"),
        display.description()
    );
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
    let result = capture_loop(&mut display, fb, &handle, events, period);
    let _ = display.release_all();
    handle.shutdown("the X display went away");
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

fn capture_loop(
    display: &mut Display,
    mut fb: rfb_codec::Framebuffer,
    handle: &ServerHandle,
    mut events: mpsc::Receiver<ViewerEvent>,
    period: Duration,
) -> Result<()> {
    let full = fb.rect();
    let mut last_full = Instant::now();
    loop {
        let tick = Instant::now();
        while let Ok(ev) = events.try_recv() {
            inject(display, &ev)?;
        }
        let hint = if display.has_damage() && last_full.elapsed() < FULL_POLL {
            let region = display.take_damage()?;
            for r in region.rects() {
                display.grab(&mut fb, r)?;
            }
            Damage::Region(region)
        } else {
            // Events (damage, MappingNotify) are still answered.
            let _ = display.take_damage()?;
            display.grab(&mut fb, full)?;
            last_full = Instant::now();
            Damage::Everything
        };
        if !matches!(&hint, Damage::Region(r) if r.is_empty()) {
            handle.update(fb.clone(), hint);
        }
        if let Some(rest) = period.checked_sub(tick.elapsed()) {
            std::thread::sleep(rest);
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
