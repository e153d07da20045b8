//! `rfb-record ADDR OUT.rfb.zst [--seconds N] [--encoding NAME] [--password-file F]
//! [--workload W] [--description D]`
//!
//! Records a session in the replay-corpus format (TigerVNC encperf input): the
//! server-to-client stream after ServerInit as FramebufferUpdate messages with only
//! Raw and CopyRect rectangles in rgb888 (32 bpp little-endian, shifts 16/8/0),
//! zstd-compressed (pure-Rust `ruzstd` encoder, "fastest" level), plus
//! `NAME.times.tsv` (seconds since the first update, byte offset, rectangles) and
//! `NAME.manifest.json` (the manifest entry for the file) beside it.
//!
//! It asks for one full update, then for an incremental update at most every 1/30 s
//! with one request outstanding, like the recorder that made the corpus. With
//! `--encoding` other than raw, the server's rectangles are decoded and written back as
//! Raw (CopyRect passes through), so the file stays in the corpus format while the
//! server works with the chosen encoding. Bell, ServerCutText and SetColourMapEntries
//! are dropped and counted; pseudo-rectangles are left out. The stream is kept in memory
//! until the end (fine for minutes of recording, not hours).

use std::io::{ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::BufMut;
use clap::Parser;
use rfb_client::{
    ClientConfig, ClientConnection, ClientError, ClientEvent, CodecFramer, RemoteFramebuffer,
    VncAddress,
};
use rfb_proto::client::FramebufferUpdateRequest;
use rfb_proto::{ClientMessage, Encoding, PixelFormat, Rect, ServerMessage};
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(about = "Record a VNC session in the replay-corpus format")]
struct Args {
    /// Server address: host, host:display, host::port, `[v6]:display`.
    addr: VncAddress,
    /// Output file, NAME.rfb.zst.
    out: PathBuf,
    /// Seconds to record.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Encoding the server should use: raw, zrle, tight, trle, zlib, hextile, rre, corre.
    #[arg(long, default_value = "raw")]
    encoding: String,
    /// File whose first line is the VNC password.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Workload label for the manifest.
    #[arg(long, default_value = "recorded")]
    workload: String,
    /// Description for the manifest.
    #[arg(long, default_value = "")]
    description: String,
}

/// Least time between two update requests (the corpus recorder's 30 per second).
const REQUEST_INTERVAL: Duration = Duration::from_micros(33_333);

#[derive(Default)]
struct Stats {
    updates: u64,
    rects: u64,
    raw_rects: u64,
    copyrect_rects: u64,
    raw_pixel_bytes: u64,
    copyrect_pixels: u64,
    full_frame_updates: u64,
    changed_fraction_sum: f64,
    dropped_bell: u64,
    dropped_cut_text: u64,
    dropped_colour_map: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match record(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rfb-record: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn record(args: &Args) -> anyhow::Result<String> {
    let wanted = match args.encoding.as_str() {
        "raw" => Encoding::RAW,
        "zrle" => Encoding::ZRLE,
        "tight" => Encoding::TIGHT,
        "trle" => Encoding::TRLE,
        "zlib" => Encoding::ZLIB,
        "hextile" => Encoding::HEXTILE,
        "rre" => Encoding::RRE,
        "corre" => Encoding::CORRE,
        other => bail!("unknown encoding {other:?}"),
    };
    let name = args
        .out
        .file_name()
        .and_then(|n| n.to_str())
        .context("output file name")?
        .to_owned();
    let stem = name.strip_suffix(".rfb.zst").unwrap_or(&name).to_owned();
    let dir = args.out.parent().unwrap_or(Path::new("."));
    let mut config = ClientConfig::default();
    if let Some(p) = &args.password_file {
        config.password = Some(
            std::fs::read_to_string(p)?
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        );
    }
    let addr = (args.addr.host.as_str(), args.addr.port)
        .to_socket_addrs()?
        .next()
        .with_context(|| format!("{} did not resolve", args.addr))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_nodelay(true)?;
    let mut conn = ClientConnection::new(config, Instant::now());
    let connected =
        rfb_examples::blocking::client_handshake(&mut conn, &mut stream, |_, ev| match ev {
            ClientEvent::PasswordRequested { .. } => Err(ClientError::NoPassword),
            _ => Ok(()),
        })?;
    let ClientEvent::Connected { server_init, .. } = connected else {
        bail!("handshake ended without ServerInit");
    };
    let (width, height) = (server_init.width, server_init.height);
    conn.set_framer(Box::new(CodecFramer::with_bounds(
        width,
        height,
        Default::default(),
    )));
    let format = PixelFormat::RGB888;
    let mut fb = RemoteFramebuffer::new(width, height, format);
    let mut encodings = vec![wanted];
    for e in [Encoding::COPY_RECT, Encoding::RAW] {
        if !encodings.contains(&e) {
            encodings.push(e);
        }
    }
    encodings.push(Encoding::LAST_RECT);
    conn.send(&ClientMessage::SetPixelFormat(format))?;
    conn.send(&ClientMessage::SetEncodings(encodings))?;
    let full = Rect::new(0, 0, width, height);
    conn.send(&ClientMessage::FramebufferUpdateRequest(
        FramebufferUpdateRequest {
            incremental: false,
            rect: full,
        },
    ))?;
    let mut last_request = Instant::now();
    let mut outstanding = true;

    let mut out: Vec<u8> = Vec::new();
    let mut times = String::new();
    let mut stats = Stats::default();
    let mut first: Option<Instant> = None;
    let mut last_update = 0.0f64;
    let mut rects: Vec<(Rect, Encoding, Vec<u8>)> = Vec::new();
    let screen_area = f64::from(width) * f64::from(height);
    let end = Instant::now() + Duration::from_secs_f64(args.seconds);
    let mut buf = vec![0u8; 256 * 1024];
    while Instant::now() < end {
        while let Some(ev) = conn.poll_event() {
            match ev {
                ClientEvent::UpdateStart { .. } => rects.clear(),
                ClientEvent::Rect { header, payload } => {
                    let r = header.rect;
                    match header.encoding {
                        Encoding::RAW | Encoding::COPY_RECT => {
                            fb.apply(&header, &payload).map_err(ClientError::from)?;
                            rects.push((r, header.encoding, payload.to_vec()));
                        }
                        e if e.is_pseudo() => {}
                        _ => {
                            fb.apply(&header, &payload).map_err(ClientError::from)?;
                            let view = fb.framebuffer().view(r).map_err(ClientError::from)?;
                            rects.push((r, Encoding::RAW, view.to_packed()));
                        }
                    }
                }
                ClientEvent::UpdateEnd => {
                    outstanding = false;
                    let now = Instant::now();
                    let t0 = *first.get_or_insert(now);
                    last_update = now.duration_since(t0).as_secs_f64();
                    let mut area = 0.0;
                    for chunk in rects.chunks(usize::from(u16::MAX)) {
                        times.push_str(&format!(
                            "{last_update:.4}\t{}\t{}\n",
                            out.len(),
                            chunk.len()
                        ));
                        out.put_u8(0);
                        out.put_u8(0);
                        out.put_u16(chunk.len() as u16);
                        for (r, enc, data) in chunk {
                            r.encode(&mut out);
                            out.put_i32(enc.0);
                            out.put_slice(data);
                            stats.rects += 1;
                            if *enc == Encoding::RAW {
                                stats.raw_rects += 1;
                                stats.raw_pixel_bytes += data.len() as u64;
                            } else {
                                stats.copyrect_rects += 1;
                                stats.copyrect_pixels += r.area();
                            }
                            area += r.area() as f64;
                        }
                        stats.updates += 1;
                    }
                    if area >= screen_area {
                        stats.full_frame_updates += 1;
                    }
                    stats.changed_fraction_sum += (area / screen_area).min(1.0);
                }
                ClientEvent::Message(ServerMessage::Bell) => stats.dropped_bell += 1,
                ClientEvent::Message(ServerMessage::ServerCutText(_)) => {
                    stats.dropped_cut_text += 1
                }
                ClientEvent::Message(ServerMessage::SetColourMapEntries(_)) => {
                    stats.dropped_colour_map += 1
                }
                _ => {}
            }
        }
        let now = Instant::now();
        if !outstanding && now.duration_since(last_request) >= REQUEST_INTERVAL {
            conn.send(&ClientMessage::FramebufferUpdateRequest(
                FramebufferUpdateRequest {
                    incremental: true,
                    rect: full,
                },
            ))?;
            last_request = now;
            outstanding = true;
        }
        rfb_examples::blocking::flush_client(&mut conn, &mut stream)?;
        let wait = if outstanding {
            Duration::from_millis(100)
        } else {
            REQUEST_INTERVAL
                .saturating_sub(now.duration_since(last_request))
                .max(Duration::from_millis(1))
        };
        stream.set_read_timeout(Some(
            wait.min(end.saturating_duration_since(now))
                .max(Duration::from_millis(1)),
        ))?;
        match stream.read(&mut buf) {
            Ok(0) => {
                conn.handle_eof()?;
            }
            Ok(n) => conn.handle_input(&buf[..n])?,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close("recording finished");
    let compressed =
        ruzstd::encoding::compress_to_vec(&out[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(&args.out, &compressed)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let times_name = format!("{stem}.times.tsv");
    std::fs::write(dir.join(&times_name), &times)?;
    let hex = |d: &[u8]| {
        Sha256::digest(d)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mean = if stats.updates == 0 {
        0.0
    } else {
        stats.changed_fraction_sum / stats.updates as f64
    };
    let manifest = format!(
        r#"{{
  "name": {name:?},
  "workload": {workload:?},
  "description": {description:?},
  "width": {width},
  "height": {height},
  "format": "rgb888",
  "framebuffer_updates": {updates},
  "rects": {rects},
  "raw_rects": {raw_rects},
  "copyrect_rects": {copyrect_rects},
  "raw_pixel_bytes": {raw_pixel_bytes},
  "copyrect_pixels": {copyrect_pixels},
  "full_frame_updates": {full},
  "mean_changed_fraction": {mean:.4},
  "uncompressed_size": {usize},
  "sha256_uncompressed": "{usha}",
  "compressed_size": {csize},
  "sha256_compressed": "{csha}",
  "duration_s": {duration:.3},
  "timestamps_file": {times_name:?},
  "dropped_messages": {{ "bell": {bell}, "server_cut_text": {cut}, "set_colour_map_entries": {cmap} }},
  "server_encoding": {enc:?},
  "request_interval_s": 0.0333,
  "encperf_args": "width={width} height={height} format=rgb888"
}}
"#,
        workload = args.workload,
        description = args.description,
        updates = stats.updates,
        rects = stats.rects,
        raw_rects = stats.raw_rects,
        copyrect_rects = stats.copyrect_rects,
        raw_pixel_bytes = stats.raw_pixel_bytes,
        copyrect_pixels = stats.copyrect_pixels,
        full = stats.full_frame_updates,
        usize = out.len(),
        usha = hex(&out),
        csize = compressed.len(),
        csha = hex(&compressed),
        duration = last_update,
        bell = stats.dropped_bell,
        cut = stats.dropped_cut_text,
        cmap = stats.dropped_colour_map,
        enc = wanted.to_string(),
    );
    std::fs::write(dir.join(format!("{stem}.manifest.json")), manifest)?;
    Ok(format!(
        "recorded {} updates, {} rects, {} bytes ({} compressed) -> {}",
        stats.updates,
        stats.rects,
        out.len(),
        compressed.len(),
        args.out.display()
    ))
}
