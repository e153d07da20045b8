//! `rfb-loadtest`: the server and client figures of README.md ("Server fan-out, idle
//! memory, decode and latency").
//!
//! ```text
//! rfb-loadtest fanout  [--file F.rfb.zst] [--updates N] [--viewers 1,2,4,8] [--encoding zrle|hextile|trle|zlib|rre|raw]
//! rfb-loadtest decode  [--updates N] FILE.rfb.zst...
//! rfb-loadtest idle-memory [--viewers 100] [--width 1920 --height 1080] [--encoding zrle|...|none]
//! rfb-loadtest latency --addr HOST:PORT [--count 100] [--fps-seconds 5] [--pipelined] [--watch X,Y,W,H]
//! rfb-loadtest check [--updates N]
//! ```
//!
//! * `fanout`: corpus updates through `rfb_server::Session` to N in-memory viewers
//!   (sans-IO); thread CPU of the product's part (frame copy + rectangles applied +
//!   damage pass, once per frame) and of the viewers' part (request + encode, per viewer).
//! * `decode`: the stream our server sends a viewer asking for each encoding, decoded by
//!   `rfb_client::Viewer`; thread CPU, MPix/s of changed pixels.
//! * `idle-memory`: a tokio `rfb_server::driver::Server` on loopback; process RSS
//!   before and after N viewers (raw sockets in this process doing the 3.8/None
//!   handshake, then a full update in `--encoding` (compress level 2; `none`: no update
//!   asked), then idle).
//! * `latency`: `rfb_client::driver` against a server; types `a`, then BackSpace, in turn
//!   (key down + up)
//!   and times until the next FramebufferUpdate is complete (with `--watch`: the first
//!   one after which that rectangle's pixels changed); then counts updates per second
//!   while the screen moves by itself.
//! * `check`: the fan-out's ZRLE bytes for one viewer on `web-1920x1080` must equal the
//!   stream of an in-memory `rfb_client::Viewer` pair whose decoded framebuffer was
//!   checked against the replayed frame (so `fanout` measures complete updates).

#[path = "../../benches/rig/fanout.rs"]
mod fanout;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fanout::{first_frame, load_updates, record, FanOut};
use rfb_benches::{corpus_dir, thread_cpu_seconds, CORPUS_FORMAT};
use rfb_client::driver::{self, Command};
use rfb_client::{EncodingPreference, Viewer, ViewerConfig, ViewerEvent};
use rfb_codec::Framebuffer;
use rfb_proto::Encoding;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn opt(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn encoding(name: &str) -> Result<Encoding> {
    Ok(match name {
        "tight" => Encoding::TIGHT,
        "zrle" => Encoding::ZRLE,
        "trle" => Encoding::TRLE,
        "zlib" => Encoding::ZLIB,
        "hextile" => Encoding::HEXTILE,
        "rre" => Encoding::RRE,
        "raw" => Encoding::RAW,
        _ => bail!("unknown encoding {name}"),
    })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fanout") => fanout_cmd(&args[1..]),
        Some("decode") => decode_cmd(&args[1..]),
        Some("idle-memory") => idle_memory(&args[1..]),
        Some("latency") => latency(&args[1..]),
        Some("check") => check(&args[1..]),
        _ => bail!("usage: rfb-loadtest fanout|decode|idle-memory|latency [options] (see the source's doc)"),
    }
}

fn fanout_cmd(args: &[String]) -> Result<()> {
    let file = opt(args, "--file")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus_dir().join("web-1920x1080.rfb.zst"));
    let max: usize = opt(args, "--updates").map_or(Ok(301), |s| s.parse())?;
    let enc_name = opt(args, "--encoding").unwrap_or_else(|| "zrle".into());
    let enc = encoding(&enc_name)?;
    let counts: Vec<usize> = opt(args, "--viewers")
        .unwrap_or_else(|| "1,2,4,8".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let (w, h, updates) = load_updates(&file, max)?;
    let first = first_frame(w, h, &updates)?;
    let steps = &updates[1..];
    println!(
        "file={} size={w}x{h} frames={} encoding={enc_name}",
        file.display(),
        steps.len()
    );
    for &n in &counts {
        let mut f = FanOut::new(first.clone(), n, enc)?;
        if args.iter().any(|a| a == "--no-moves") {
            f.session.set_detect_moves(false);
        }
        let (mut diff_s, mut enc_s, mut bytes, mut copy_s, mut changed) =
            (0.0, 0.0, 0usize, 0.0, 0u64);
        for up in steps {
            // The frame copy alone (part of `diff`: the product's new frame).
            let c0 = thread_cpu_seconds();
            std::hint::black_box((**f.session.frame()).clone());
            copy_s += thread_cpu_seconds() - c0;
            let t0 = thread_cpu_seconds();
            changed += f.diff(up)?;
            let t1 = thread_cpu_seconds();
            bytes += f.encode()?;
            let t2 = thread_cpu_seconds();
            diff_s += t1 - t0;
            enc_s += t2 - t1;
        }
        let frames = steps.len() as f64;
        let diff_ms = diff_s / frames * 1e3;
        let copy_ms = copy_s / frames * 1e3;
        let per_viewer_ms = enc_s / frames / n as f64 * 1e3;
        // One core at 25 fps has 40 ms per frame: the diff once, then per viewer.
        let per_core = ((40.0 - diff_ms) / per_viewer_ms).floor();
        println!(
            "viewers={n} diff_ms_per_frame={diff_ms:.2} (of which frame_copy_ms={copy_ms:.2}) encode_ms_per_frame_per_viewer={per_viewer_ms:.2} \
             total_ms_per_frame={:.2} bytes_per_frame_per_viewer={} viewers_per_core_at_25fps={per_core} \
             memory_estimate_per_viewer={} changed_pixels_per_frame={}",
            diff_ms + per_viewer_ms * n as f64,
            bytes / steps.len() / n,
            f.memory() / n.max(1),
            changed / steps.len() as u64
        );
    }
    Ok(())
}

fn decode_cmd(args: &[String]) -> Result<()> {
    let max: usize = opt(args, "--updates").map_or(Ok(301), |s| s.parse())?;
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == "--updates" {
            skip = true;
            continue;
        }
        let path = PathBuf::from(a);
        let (w, h, updates) = load_updates(&path, max)?;
        let first = first_frame(w, h, &updates)?;
        for name in ["zrle", "trle", "zlib", "hextile", "rre", "raw"] {
            let enc = encoding(name)?;
            let rec = record(&first, &updates, enc)?;
            let mut best = f64::MAX;
            for _ in 0..3 {
                let now = Instant::now();
                let mut v = Viewer::new(viewer_config(enc), now);
                for c in &rec.handshake {
                    v.handle_input(c, now)?;
                }
                while v.poll_transmit().is_some() {}
                while v.poll_event().is_some() {}
                let t0 = thread_cpu_seconds();
                for u in &rec.updates {
                    v.handle_input(u, now)?;
                    while v.poll_transmit().is_some() {}
                    while v.poll_event().is_some() {}
                }
                best = best.min(thread_cpu_seconds() - t0);
            }
            let bytes: usize = rec.updates.iter().map(|u| u.len()).sum();
            println!(
                "file={} encoding={name} updates={} changed_pixels={} bytes={bytes} decode_cpu_s={best:.4} decode_mpix_per_s={:.1}",
                path.file_name().map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
                rec.updates.len(),
                rec.pixels,
                rec.pixels as f64 / best / 1e6
            );
        }
    }
    Ok(())
}

fn viewer_config(enc: Encoding) -> ViewerConfig {
    ViewerConfig {
        encodings: EncodingPreference {
            preferred: Some(enc),
            quality: None,
            compress: Some(2),
        },
        auto_colour: false,
        continuous_updates: false,
        ..ViewerConfig::default()
    }
}

fn rss_kib() -> Result<u64> {
    let s = std::fs::read_to_string("/proc/self/status")?;
    let line = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS")?.parse()?)
}

/// One raw viewer: 3.8 handshake with None, SetEncodings ZRLE, a full update request;
/// reads until nothing arrives for 1.5 s, then stays connected until `hold` ends.
async fn raw_viewer(
    port: u16,
    w: u16,
    h: u16,
    enc: Option<Encoding>,
    hold: tokio::sync::watch::Receiver<bool>,
) -> Result<usize> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut buf = vec![0u8; 1 << 16];
    s.read_exact(&mut buf[..12]).await?;
    s.write_all(b"RFB 003.008\n").await?;
    s.read_exact(&mut buf[..2]).await?; // 1 type
    s.write_all(&[1]).await?;
    s.read_exact(&mut buf[..4]).await?;
    s.write_all(&[1]).await?;
    s.read_exact(&mut buf[..24]).await?;
    let name_len = u32::from_be_bytes([buf[20], buf[21], buf[22], buf[23]]) as usize;
    s.read_exact(&mut buf[..name_len.min(1024)]).await?;
    let mut got = 0;
    if let Some(enc) = enc {
        s.write_all(&fanout::set_encodings(&[
            enc,
            Encoding::RAW,
            Encoding(-254),
        ]))
        .await?;
        s.write_all(&fanout::update_request(false, w, h)).await?;
    }
    while enc.is_some() {
        match tokio::time::timeout(Duration::from_millis(1500), s.read(&mut buf)).await {
            Ok(Ok(0)) => bail!("server closed"),
            Ok(Ok(n)) => got += n,
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => break,
        }
    }
    let mut hold = hold;
    let _ = hold.changed().await;
    Ok(got)
}

fn idle_memory(args: &[String]) -> Result<()> {
    let n: usize = opt(args, "--viewers").map_or(Ok(100), |s| s.parse())?;
    let w: u16 = opt(args, "--width").map_or(Ok(1920), |s| s.parse())?;
    let h: u16 = opt(args, "--height").map_or(Ok(1080), |s| s.parse())?;
    // --encoding none: handshake only, no update asked.
    let enc_name = opt(args, "--encoding").unwrap_or_else(|| "zrle".into());
    let enc = if enc_name == "none" {
        None
    } else {
        Some(encoding(&enc_name)?)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        use rfb_server::driver::{Server, ServerOptions};
        let mut frame = Framebuffer::new(w, h, CORPUS_FORMAT);
        // A desktop-like picture: gradient bands and text-like stripes.
        for (i, p) in frame.data_mut().chunks_exact_mut(4).enumerate() {
            let (x, y) = (i % usize::from(w), i / usize::from(w));
            p.copy_from_slice(&[(x / 8) as u8, (y / 4) as u8, if (x / 3 + y) % 7 == 0 { 255 } else { 90 }, 0]);
        }
        let options = ServerOptions::new(
            rfb_server::ServerConfig::no_auth(),
            Arc::new(rfb_server::AllowAll),
        );
        let (server, mut events) = Server::new(frame, options);
        let handle = server.handle();
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        tokio::spawn(async move { server.listen(listener).await });
        let (tx, rx) = tokio::sync::watch::channel(false);
        // Warm up: one viewer, so the runtime, the encoder code and first allocations exist.
        let warm = tokio::spawn(raw_viewer(port, w, h, enc, rx.clone()));
        tokio::time::sleep(Duration::from_millis(800)).await;
        let before = rss_kib()?;
        let mut tasks = Vec::new();
        for _ in 0..n {
            tasks.push(tokio::spawn(raw_viewer(port, w, h, enc, rx.clone())));
        }
        // Wait until every viewer has its first update and went quiet.
        let start = Instant::now();
        while handle.viewers().len() < n + 1 && start.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500 * 2 + 2000)).await;
        let after = rss_kib()?;
        let viewers = handle.viewers().len();
        let _ = tx.send(true);
        let mut bytes = 0;
        for t in tasks {
            bytes += t.await??;
        }
        let _ = warm.await;
        handle.shutdown("done");
        println!(
            "viewers_added={n} connected={viewers} size={w}x{h} first_update={enc_name} rss_before_kib={before} rss_after_kib={after} \
             rss_per_idle_viewer_kib={:.1} first_update_bytes_per_viewer={}",
            (after.saturating_sub(before)) as f64 / n as f64,
            bytes / n.max(1)
        );
        Ok(())
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn latency(args: &[String]) -> Result<()> {
    let addr = opt(args, "--addr").context("--addr HOST:PORT")?;
    let count: usize = opt(args, "--count").map_or(Ok(100), |s| s.parse())?;
    let fps_seconds: f64 = opt(args, "--fps-seconds").map_or(Ok(0.0), |s| s.parse())?;
    let enc = encoding(&opt(args, "--encoding").unwrap_or_else(|| "zrle".into()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (host, port) = addr.rsplit_once(':').context("HOST:PORT")?;
        let stream = tokio::net::TcpStream::connect((host, port.parse::<u16>()?)).await?;
        stream.set_nodelay(true)?;
        let mut config = viewer_config(enc);
        // Continuous updates (with fences) when the server has them, unless --pipelined.
        config.continuous_updates = !args.iter().any(|a| a == "--pipelined");
        let (handle, mut events, task) = driver::spawn(stream, config);
        // Wait for the first update, then for a quiet screen.
        let quiet = |d: u64| Duration::from_millis(d);
        let mut connected = false;
        while let Some(ev) = events.recv().await {
            if let ViewerEvent::Updated { .. } = ev {
                connected = true;
                break;
            }
        }
        if !connected {
            bail!("no first update");
        }
        /// Waits until no event came for `d` (at most 2 s: a moving screen never settles).
        async fn settle(events: &mut tokio::sync::mpsc::Receiver<ViewerEvent>, d: Duration) {
            let end = Instant::now() + Duration::from_secs(2);
            while Instant::now() < end {
                if !matches!(tokio::time::timeout(d, events.recv()).await, Ok(Some(_))) {
                    break;
                }
            }
        }
        settle(&mut events, quiet(500)).await;
        // --watch X,Y,W,H: the update that answers a key is the one after which these
        // pixels differ (for a server that moves by itself, e.g. rfb-demo's typed line).
        let watch: Option<Vec<usize>> = opt(args, "--watch")
            .map(|s| s.split(',').map(|v| v.parse()).collect::<Result<_, _>>())
            .transpose()?;
        let region = |h: &driver::ViewerHandle| -> Vec<u32> {
            let f = h.frame();
            let Some(r) = &watch else { return Vec::new() };
            let mut out = Vec::new();
            for y in r[1]..(r[1] + r[3]).min(usize::from(f.height)) {
                for x in r[0]..(r[0] + r[2]).min(usize::from(f.width)) {
                    out.push(f.pixels[y * usize::from(f.width) + x]);
                }
            }
            out
        };
        let mut lat = Vec::new();
        let mut lost = 0;
        for i in 0..count {
            // `a`, then BackSpace: the echo changes at the same place every time.
            let keysym = if i % 2 == 0 { 0x61 } else { 0xff08 };
            let before = region(&handle);
            let t0 = Instant::now();
            handle.send(Command::Key { keysym, down: true, keycode: None });
            handle.send(Command::Key { keysym, down: false, keycode: None });
            let got = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(ev) = events.recv().await {
                    if let ViewerEvent::Updated { .. } = ev {
                        if watch.is_none() || region(&handle) != before {
                            return true;
                        }
                    }
                }
                false
            })
            .await;
            match got {
                Ok(true) => lat.push(t0.elapsed().as_secs_f64() * 1e3),
                _ => lost += 1,
            }
            if watch.is_none() {
                settle(&mut events, quiet(60)).await;
            } else {
                tokio::time::sleep(quiet(60)).await;
            }
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        println!(
            "addr={addr} keys={count} answered={} lost={lost} latency_ms_median={:.2} p95={:.2} min={:.2} max={:.2}",
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.95),
            lat.first().copied().unwrap_or(f64::NAN),
            lat.last().copied().unwrap_or(f64::NAN)
        );
        if fps_seconds > 0.0 {
            let start = Instant::now();
            let mut updates = 0u64;
            let end = start + Duration::from_secs_f64(fps_seconds);
            while let Ok(Some(ev)) = tokio::time::timeout_at(end.into(), events.recv()).await {
                if let ViewerEvent::Updated { .. } = ev {
                    updates += 1;
                }
            }
            println!(
                "addr={addr} updates_per_second={:.1} over {fps_seconds} s",
                updates as f64 / start.elapsed().as_secs_f64()
            );
        }
        handle.send(Command::Close);
        let _ = task.await;
        Ok(())
    })
}

fn check(args: &[String]) -> Result<()> {
    let file = corpus_dir().join("web-1920x1080.rfb.zst");
    let max: usize = opt(args, "--updates").map_or(Ok(20), |s| s.parse())?;
    let (w, h, updates) = load_updates(&file, max)?;
    let first = first_frame(w, h, &updates)?;
    let rec = record(&first, &updates, Encoding::ZRLE)?;
    let mut f = FanOut::new(first.clone(), 1, Encoding::ZRLE)?;
    let (mut fanout_bytes, mut recorded_bytes) = (0, 0);
    for (i, up) in updates[1..].iter().enumerate() {
        f.diff(up)?;
        fanout_bytes += f.encode()?;
        recorded_bytes += rec.updates[i].len();
    }
    println!(
        "updates={} fanout_bytes={fanout_bytes} verified_viewer_stream_bytes={recorded_bytes}",
        updates.len() - 1
    );
    if fanout_bytes != recorded_bytes {
        bail!("the fan-out sends other bytes than the verified Viewer pair");
    }
    Ok(())
}
