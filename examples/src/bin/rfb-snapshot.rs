//! `rfb-snapshot ADDR OUT.png [--encoding NAME] [--quality 0-9] [--password-file F] [--timeout S]`
//!
//! Connects to a VNC server, asks for the whole screen in true colour with the chosen
//! encoding, waits until every pixel has been received, writes the picture as PNG and
//! exits 0 — like vncsnapshot. On failure it prints a clear message and exits non-zero
//! (1: authentication refused, 2: anything else).

use std::io::{ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rfb_client::{
    ClientConfig, ClientConnection, ClientError, ClientEvent, CodecFramer, FramebufferChange,
    RemoteFramebuffer, VncAddress, DECODABLE_ENCODINGS,
};
use rfb_proto::client::FramebufferUpdateRequest;
use rfb_proto::{ClientMessage, Encoding, PixelFormat, Rect};

#[derive(Parser)]
#[command(about = "Save a VNC server's screen as PNG")]
struct Args {
    /// Server address: host, host:display, host::port, `[v6]:display`.
    addr: VncAddress,
    /// Output PNG file.
    out: PathBuf,
    /// Encoding to ask for: raw, copyrect, rre, corre, hextile, zlib, trle, zrle, tight, or
    /// default (every encoding this library decodes, best first).
    #[arg(long, default_value = "default")]
    encoding: String,
    /// Allow lossy JPEG at this quality level (0-9: the Tight quality pseudo-encoding);
    /// without it the picture is lossless.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    quality: Option<u8>,
    /// File whose first line is the VNC password.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

fn encoding_list(name: &str) -> Option<Vec<Encoding>> {
    let e = match name {
        "default" => return Some(DECODABLE_ENCODINGS.to_vec()),
        "raw" => Encoding::RAW,
        "copyrect" => Encoding::COPY_RECT,
        "rre" => Encoding::RRE,
        "corre" => Encoding::CORRE,
        "hextile" => Encoding::HEXTILE,
        "zlib" => Encoding::ZLIB,
        "trle" => Encoding::TRLE,
        "zrle" => Encoding::ZRLE,
        "tight" => Encoding::TIGHT,
        _ => return None,
    };
    Some(vec![e])
}

fn main() -> ExitCode {
    let args = Args::parse();
    match snapshot(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(ClientError::AuthFailed { reason, .. }) => {
            eprintln!("rfb-snapshot: authentication refused: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("rfb-snapshot: {e}");
            ExitCode::from(2)
        }
    }
}

fn io_err(e: impl std::fmt::Display) -> ClientError {
    ClientError::ClosedByClient(e.to_string())
}

fn snapshot(args: &Args) -> Result<String, ClientError> {
    let Some(mut encodings) = encoding_list(&args.encoding) else {
        return Err(ClientError::ClosedByClient(format!(
            "unknown encoding {:?}",
            args.encoding
        )));
    };
    encodings.extend([Encoding::LAST_RECT, Encoding::DESKTOP_SIZE]);
    if let Some(q) = args.quality {
        encodings.push(Encoding::for_quality_level(q));
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut config = ClientConfig {
        handshake_timeout: Duration::from_secs(args.timeout),
        ..ClientConfig::default()
    };
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(io_err)?;
        config.password = Some(text.lines().next().unwrap_or("").to_owned());
    }
    let addr = (args.addr.host.as_str(), args.addr.port)
        .to_socket_addrs()
        .map_err(io_err)?
        .next()
        .ok_or_else(|| io_err(format!("{} did not resolve", args.addr)))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(args.timeout)).map_err(io_err)?;
    let mut conn = ClientConnection::new(config, Instant::now());
    conn.set_framer(Box::new(CodecFramer::default()));
    let connected =
        rfb_examples::blocking::client_handshake(&mut conn, &mut stream, |_, ev| match ev {
            ClientEvent::PasswordRequested { .. } => Err(ClientError::NoPassword),
            _ => Ok(()),
        })?;
    let ClientEvent::Connected { server_init, .. } = connected else {
        return Err(io_err("handshake ended without ServerInit"));
    };
    let format = PixelFormat::RGB888;
    let (mut width, mut height) = (server_init.width, server_init.height);
    let mut fb = RemoteFramebuffer::new(width, height, format);
    let mut covered = vec![false; usize::from(width) * usize::from(height)];
    conn.send(&ClientMessage::SetPixelFormat(format))?;
    conn.send(&ClientMessage::SetEncodings(encodings))?;
    let request = |w, h| {
        ClientMessage::FramebufferUpdateRequest(FramebufferUpdateRequest {
            incremental: false,
            rect: Rect::new(0, 0, w, h),
        })
    };
    conn.send(&request(width, height))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut updates = 0u32;
    let mut received: std::collections::BTreeMap<String, u32> = Default::default();
    loop {
        rfb_examples::blocking::flush_client(&mut conn, &mut stream).map_err(io_err)?;
        while let Some(ev) = conn.poll_event() {
            match ev {
                ClientEvent::Rect { header, payload } => {
                    *received.entry(header.encoding.to_string()).or_default() += 1;
                    match fb
                        .apply(&header, &payload)
                        .map_err(|e| io_err(format!("decoding: {e}")))?
                    {
                        FramebufferChange::Painted(r) => {
                            for y in r.y..r.y + r.height {
                                let row = usize::from(y) * usize::from(width);
                                covered[row + usize::from(r.x)
                                    ..row + usize::from(r.x) + usize::from(r.width)]
                                    .fill(true);
                            }
                        }
                        FramebufferChange::Resized {
                            width: w,
                            height: h,
                        } => {
                            width = w;
                            height = h;
                            covered = vec![false; usize::from(w) * usize::from(h)];
                        }
                        _ => {}
                    }
                }
                ClientEvent::UpdateEnd => {
                    updates += 1;
                    if covered.iter().all(|&c| c) {
                        write_png(&args.out, width, height, &fb.to_rgb()).map_err(io_err)?;
                        let got: Vec<String> =
                            received.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                        return Ok(format!(
                            "ok {}x{} updates={} received={} -> {}",
                            width,
                            height,
                            updates,
                            got.join(","),
                            args.out.display()
                        ));
                    }
                    conn.send(&request(width, height))?;
                }
                _ => {}
            }
        }
        rfb_examples::blocking::flush_client(&mut conn, &mut stream).map_err(io_err)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io_err(format!("timed out after {} updates", updates)));
        }
        stream
            .set_read_timeout(Some(left.min(Duration::from_millis(500))))
            .map_err(io_err)?;
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof()?,
            Ok(n) => conn.handle_input(&buf[..n])?,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(io_err(e)),
        }
    }
}

fn write_png(path: &std::path::Path, width: u16, height: u16, rgb: &[u8]) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width.into(), height.into());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}
