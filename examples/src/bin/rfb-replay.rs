//! `rfb-replay FILE.rfb.zst [--listen ADDR] [--loop] [--speed X] [--at N|end]
//! [--width W --height H] [--password-file F] [--write-truth F.ppm]`
//!
//! Serves a recording of the shared corpus (the zstd-compressed server-to-client stream
//! after ServerInit: FramebufferUpdates of Raw and CopyRect rectangles in RGB888) to any
//! number of VNC viewers at its recorded pace (the `.times.tsv` beside it), through
//! `rfb_server::driver`: each update is applied to a framebuffer and handed to the
//! Session with its rectangles as the damage hint and its CopyRects as moves.
//!
//! `--at N` starts from update N (updates 0..N are applied at once, before anyone can
//! connect); `--at end` shows the final frame. When the recording ends the last frame
//! stays on screen (with `--loop` it starts again). The screen size comes from the
//! `manifest.json` beside the file (the entry with the file's name) or `--width` and
//! `--height`. Prints the address, then progress lines.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rfb_codec::Framebuffer;
use rfb_examples::replay::{manifest_for, parse_times, times_path, Player};
use rfb_server::driver::{AuditEvent, Server, ServerHandle, ServerOptions};
use rfb_server::{AllowAll, Authenticator, Damage, ServerConfig, VncPassword};
use tokio::time::Instant;

#[derive(Parser)]
#[command(about = "Serve a recorded RFB session (corpus format) to VNC viewers")]
struct Args {
    /// The recording, NAME.rfb.zst.
    file: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5900")]
    listen: String,
    /// Start again from the first update when the recording ends.
    #[arg(long = "loop")]
    repeat: bool,
    /// Time scale: 2 plays twice as fast.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Start from update N (`end`: show the final frame).
    #[arg(long)]
    at: Option<String>,
    /// Screen width (default: from manifest.json).
    #[arg(long)]
    width: Option<u16>,
    /// Screen height (default: from manifest.json).
    #[arg(long)]
    height: Option<u16>,
    /// File whose first line is the VNC password; without it, security type None.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Write the frame on screen when the recording ends (or at start with --at end) as
    /// a binary PPM.
    #[arg(long)]
    write_truth: Option<PathBuf>,
    /// Print a progress line every N updates.
    #[arg(long, default_value_t = 50)]
    progress_every: u64,
}

fn write_truth(path: &std::path::Path, frame: &Framebuffer) -> Result<()> {
    let rgb: Vec<u8> = frame
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    rfb_examples::pattern::write_ppm(path, frame.width(), frame.height(), &rgb)?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.speed.is_finite() && args.speed > 0.0) {
        bail!("--speed must be a positive number");
    }
    let (width, height) = match (args.width, args.height) {
        (Some(w), Some(h)) => (w, h),
        (w, h) => {
            let e = manifest_for(&args.file)?.with_context(|| {
                format!(
                    "{} is not in the manifest.json beside it: give --width and --height",
                    args.file.display()
                )
            })?;
            if e.format != "rgb888" {
                bail!("pixel format {:?} is not supported (only rgb888)", e.format);
            }
            (w.unwrap_or(e.width), h.unwrap_or(e.height))
        }
    };
    if width == 0 || height == 0 {
        bail!("the screen size must not be zero");
    }
    let tpath = times_path(&args.file);
    let times = match std::fs::read_to_string(&tpath) {
        Ok(text) => parse_times(&text)?,
        Err(_) => {
            println!("no {}: playing at 30 updates per second", tpath.display());
            Vec::new()
        }
    };
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
    runtime.block_on(run(args, width, height, times, config, auth))
}

/// Seconds into the recording of update `n` (30 per second without a times file).
fn time_of(times: &[f64], n: u64) -> f64 {
    usize::try_from(n)
        .ok()
        .and_then(|i| times.get(i).copied())
        .unwrap_or_else(|| times.last().copied().unwrap_or(0.0).max(n as f64 / 30.0))
}

async fn run(
    args: Args,
    width: u16,
    height: u16,
    times: Vec<f64>,
    config: ServerConfig,
    auth: Arc<dyn Authenticator>,
) -> Result<()> {
    let mut player = Player::open(&args.file, width, height)?;
    let at_end = args.at.as_deref() == Some("end");
    let skip: u64 = match args.at.as_deref() {
        None | Some("end") => 0,
        Some(n) => n.parse().context("--at takes a number or `end`")?,
    };
    while at_end || player.updates() < skip {
        if player.next_update(false)?.is_none() {
            break;
        }
    }
    let total = player.updates();
    if at_end {
        println!("at end: {total} updates applied");
        if let Some(p) = &args.write_truth {
            write_truth(p, player.frame())?;
        }
    } else if skip > 0 {
        if total < skip {
            bail!("--at {skip}: the recording has only {total} updates");
        }
        println!("at update {skip}");
    }
    let mut options = ServerOptions::new(config, auth);
    options.name = format!(
        "rfb-replay {}",
        args.file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    let (server, mut events) = Server::new(player.frame().clone(), options);
    let handle = server.handle();
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("listening {addr}");
    println!(
        "replaying {} ({width}x{height}) at speed {}",
        args.file.display(),
        args.speed
    );
    let mut audit = handle.audit();
    tokio::spawn(async move {
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
    // A replay ignores viewers' input; drain it so the event channel never fills.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let listen = {
        let server = server.clone();
        tokio::spawn(async move { server.listen(listener).await })
    };
    if !at_end {
        play(&args, &mut player, &handle, width, height, &times).await?;
    }
    println!("showing the last frame; stop with Ctrl-C");
    // Serves until the process is stopped.
    listen.await??;
    Ok(())
}

async fn play(
    args: &Args,
    player: &mut Player,
    handle: &ServerHandle,
    width: u16,
    height: u16,
    times: &[f64],
) -> Result<()> {
    loop {
        let first = player.updates();
        let t0 = time_of(times, first);
        let started = Instant::now();
        while let Some(update) = player.next_update(true)? {
            let n = player.updates() - 1;
            let due = (time_of(times, n) - t0).max(0.0) / args.speed;
            tokio::time::sleep_until(started + Duration::from_secs_f64(due)).await;
            for push in update.pushes {
                match push.mv {
                    Some(mv) => handle.update_with_move(push.frame, mv, push.damage),
                    None => handle.update(push.frame, Damage::Region(push.damage)),
                }
            }
            if args.progress_every > 0 && n % args.progress_every == 0 {
                println!(
                    "update {n} t={:.2}s rects={} moves={} viewers={}",
                    due,
                    update.rects,
                    update.moves,
                    handle.viewers().len()
                );
            }
        }
        println!("ended after {} updates", player.updates());
        if !args.repeat {
            if let Some(p) = &args.write_truth {
                write_truth(p, player.frame())?;
            }
            return Ok(());
        }
        *player = Player::open(&args.file, width, height)?;
        println!("looping");
    }
}
