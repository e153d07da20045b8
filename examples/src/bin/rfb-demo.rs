//! `rfb-demo [--listen ADDR] [--password-file F] [--view-only] [--fps N] [--frames N]
//! [--seconds N] [--still-after N [--write-truth F.ppm]] [--clipboard TEXT] [--width W]
//! [--height H]`
//!
//! The live demo: a built-in desktop with real motion (windows moving, a scrolling
//! ticker sent as CopyRect, a clock, a photo-like picture) that echoes input (clicks
//! paint, typed keys appear, clipboard text is shown), served by `rfb_server::driver`
//! to any number of VNC viewers. Prints one line per audit event on stdout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use rfb_codec::Framebuffer;
use rfb_examples::demo::Desktop;
use rfb_server::driver::{AuditEvent, Server, ServerOptions};
use rfb_server::{AllowAll, Authenticator, Damage, ServerConfig, ServerEvent, VncPassword};

/// Writes `frame` (the demo's B G R X format) as a binary PPM.
fn write_truth(path: &std::path::Path, frame: &Framebuffer) -> anyhow::Result<()> {
    let rgb: Vec<u8> = frame
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    rfb_examples::pattern::write_ppm(path, frame.width(), frame.height(), &rgb)?;
    Ok(())
}

#[derive(Parser)]
#[command(about = "The rfb live demo: a moving desktop served over VNC")]
struct Args {
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
    /// Frames per second.
    #[arg(long, default_value_t = 25)]
    fps: u32,
    /// Stop after this many frames.
    #[arg(long)]
    frames: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
    /// Stop animating after this many frames (the picture stays still, and is written
    /// to --write-truth): lets tests compare a viewer's pixels exactly.
    #[arg(long)]
    still_after: Option<u64>,
    /// With --still-after: write the still frame as a binary PPM.
    #[arg(long)]
    write_truth: Option<PathBuf>,
    /// Put this text on each viewer's clipboard when it joins.
    #[arg(long)]
    clipboard: Option<String>,
    /// Desktop width.
    #[arg(long, default_value_t = 800)]
    width: u16,
    /// Desktop height.
    #[arg(long, default_value_t = 600)]
    height: u16,
}

fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02} UTC",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.width < 64 || args.height < 64 {
        anyhow::bail!("--width and --height must be at least 64");
    }
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args, config, auth))
}

async fn run(args: Args, config: ServerConfig, auth: Arc<dyn Authenticator>) -> anyhow::Result<()> {
    let mut desktop = Desktop::new(args.width, args.height);
    let (first, _) = desktop.step(&clock());
    let mut options = ServerOptions::new(config, auth);
    options.view_only = args.view_only;
    options.name = "rfb demo".into();
    options.allow_resize = true;
    let (server, mut events) = Server::new(first, options);
    let handle = server.handle();
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("listening {addr}");
    println!(
        "connect with: vncviewer {}::{}   (or any VNC viewer at {addr}){}",
        addr.ip(),
        addr.port(),
        if args.password_file.is_some() {
            "; password from --password-file"
        } else {
            ""
        }
    );
    let mut audit = handle.audit();
    let audit_handle = handle.clone();
    let clipboard = args.clipboard.clone();
    tokio::spawn(async move {
        while let Ok(e) = audit.recv().await {
            match e {
                AuditEvent::Connected { viewer, peer } => println!("connected {viewer} {peer}"),
                AuditEvent::Authenticated { viewer, view_only } => {
                    println!("authenticated {viewer} view_only={view_only}");
                    if let Some(text) = &clipboard {
                        audit_handle.send_clipboard(text);
                    }
                }
                AuditEvent::Refused { viewer, reason } => {
                    println!("refused {viewer} reason={reason}")
                }
                AuditEvent::Disconnected { viewer, reason } => {
                    println!("disconnected {viewer} reason={reason}")
                }
                AuditEvent::Clipboard {
                    viewer,
                    from_viewer,
                    len,
                } => println!("clipboard {viewer} from_viewer={from_viewer} len={len}"),
                AuditEvent::Encoding { viewer, encoding } => {
                    println!("encoding {viewer} {encoding}")
                }
                other => println!("{other:?}"),
            }
        }
    });
    let listen = {
        let server = server.clone();
        tokio::spawn(async move { server.listen(listener).await })
    };
    let period = Duration::from_secs_f64(1.0 / f64::from(args.fps.clamp(1, 120)));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let started = Instant::now();
    let mut frames_seen = 1u64;
    let mut pending_answers = Vec::new();
    loop {
        tick.tick().await;
        let mut resized = false;
        while let Ok(ev) = events.try_recv() {
            match &ev.event {
                ServerEvent::Message(m) => println!("input {} {m:?}", ev.viewer),
                ServerEvent::ClipboardText(text) => {
                    println!("clipboard-text {} {text:?}", ev.viewer)
                }
                ServerEvent::DesktopSizeRequested(req) => {
                    let ok = (64..=4096).contains(&req.width) && (64..=4096).contains(&req.height);
                    if ok {
                        desktop.resize(req.width, req.height);
                        resized = true;
                    }
                    println!(
                        "resize {} {}x{} accepted={ok}",
                        ev.viewer, req.width, req.height
                    );
                    // The answer goes out with the next update, after the resized frame.
                    pending_answers.push((ev.viewer, if ok { 0 } else { 3 }));
                }
                _ => {}
            }
            desktop.handle(&ev.event);
        }
        let still = args.still_after.is_some_and(|n| desktop.frame_no() >= n);
        if !still || resized {
            let (frame, mv) = desktop.step(&clock());
            if args.still_after == Some(desktop.frame_no()) {
                if let Some(path) = &args.write_truth {
                    write_truth(path, &frame)?;
                }
                println!("still frame={}", desktop.frame_no());
            }
            match mv {
                Some(mv) if !resized => handle.update_with_move(frame, mv, Damage::Everything),
                _ => handle.update(frame, Damage::Everything),
            }
        }
        for (viewer, status) in pending_answers.drain(..) {
            handle.answer_desktop_size(viewer, status);
        }
        frames_seen += 1;
        let frames_done = args.frames.is_some_and(|n| frames_seen >= n);
        let time_done = args
            .seconds
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s));
        if frames_done || time_done {
            break;
        }
    }
    handle.shutdown("the demo ended");
    let _ = listen.await;
    // Give connection tasks a moment to flush their goodbyes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!("done frames={}", desktop.frame_no());
    Ok(())
}
