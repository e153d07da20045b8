//! `rfb-handshake-server --listen ADDR [--password-file F] [--width W] [--height H]
//! [--name NAME] [--once] [--write-truth FILE.ppm] [--prefer ENCODING]`
//!
//! A minimal VNC server built from the sans-IO handshake and the rfb-codec encoders: it
//! authenticates viewers (None, or VNC Authentication when a password file is given),
//! then answers non-incremental FramebufferUpdateRequests with a fixed test picture in
//! whatever pixel format the viewer asked for, encoded with the first encoding of the
//! viewer's list that rfb-codec can encode (TightPNG for true-colour viewers, Tight, ZRLE,
//! TRLE, Zlib, Hextile, RRE, CoRRE, Raw; Raw when the list names none of them), or with
//! `--prefer ENCODING` that one whenever the viewer lists it at all (noVNC lists Tight
//! before TightPNG: `--prefer tightpng` makes it get TightPNG). It prints one line per event on stdout
//! (`listening`, `connected`, `authenticated`, `refused`, `initialised`, `encoding`,
//! `disconnected`), which the real-peer tests read.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use clap::Parser;
use rfb_codec::{Framebuffer, RectEncoder};
use rfb_examples::pattern;
use rfb_proto::{ClientMessage, Encoding, PixelFormat, Rect, ServerInit};
use rfb_server::{
    AllowAll, AuthDecision, Authenticator, ServerConfig, ServerConnection, ServerError,
    ServerEvent, VncPassword,
};

#[derive(Parser)]
#[command(about = "A minimal RFB server: handshake plus a static Raw-encoded test picture")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5900")]
    listen: String,
    /// File whose first line is the VNC password (VNC Authentication); without it,
    /// security type None.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Framebuffer width.
    #[arg(long, default_value_t = 640)]
    width: u16,
    /// Framebuffer height.
    #[arg(long, default_value_t = 480)]
    height: u16,
    /// Desktop name.
    #[arg(long, default_value = "rfb handshake server")]
    name: String,
    /// Exit after the first connection ends.
    #[arg(long)]
    once: bool,
    /// Write the framebuffer as a binary PPM at start-up.
    #[arg(long)]
    write_truth: Option<PathBuf>,
    /// Use this encoding whenever the viewer lists it, wherever in its list (tightpng,
    /// tight, zrle, trle, zlib, hextile, rre, corre, raw). Default: the viewer's order.
    #[arg(long, value_parser = parse_encoding_name)]
    prefer: Option<Encoding>,
}

/// The encoding named `name` (case-insensitive) among those this server can encode.
fn parse_encoding_name(name: &str) -> Result<Encoding, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "tightpng" => Encoding::TIGHT_PNG,
        "tight" => Encoding::TIGHT,
        "zrle" => Encoding::ZRLE,
        "trle" => Encoding::TRLE,
        "zlib" => Encoding::ZLIB,
        "hextile" => Encoding::HEXTILE,
        "rre" => Encoding::RRE,
        "corre" => Encoding::CORRE,
        "raw" => Encoding::RAW,
        _ => return Err(format!("unknown encoding {name:?}")),
    })
}

struct Shared {
    config: Arc<ServerConfig>,
    checker: Box<dyn Authenticator>,
    desktop: ServerInit,
    rgb: Vec<u8>,
    prefer: Option<Encoding>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.width == 0 || args.height == 0 {
        anyhow::bail!("--width and --height must be positive");
    }
    let (config, checker): (ServerConfig, Box<dyn Authenticator>) = match &args.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            let password = text.lines().next().unwrap_or("").to_owned();
            (
                ServerConfig::vnc_auth(),
                Box::new(VncPassword::new(password)),
            )
        }
        None => (ServerConfig::no_auth(), Box::new(AllowAll)),
    };
    let rgb = pattern::test_pattern(args.width, args.height);
    if let Some(path) = &args.write_truth {
        pattern::write_ppm(path, args.width, args.height, &rgb)?;
    }
    let shared = Arc::new(Shared {
        config: Arc::new(config),
        checker,
        desktop: ServerInit {
            width: args.width,
            height: args.height,
            pixel_format: PixelFormat::RGB888,
            name: args.name.clone(),
        },
        rgb,
        prefer: args.prefer,
    });
    let listener = TcpListener::bind(&args.listen)?;
    println!("listening {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let handle = std::thread::spawn(move || serve(stream, &shared));
        if args.once {
            let _ = handle.join();
            break;
        }
    }
    Ok(())
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    println!("connected {peer}");
    let mut conn = ServerConnection::new(
        Arc::clone(&shared.config),
        shared.desktop.clone(),
        Instant::now(),
    );
    let mut format = shared.desktop.pixel_format;
    let mut encoder: Box<dyn RectEncoder> = Box::new(rfb_codec::raw::RawEncoder);
    let mut encodings: Vec<Encoding> = Vec::new();
    let result = rfb_examples::blocking::run_server(&mut conn, &mut stream, |conn, event| {
        match event {
            ServerEvent::AuthRequested {
                security_type,
                credentials,
            } => {
                let decision = shared.checker.decide(security_type, &credentials);
                if let AuthDecision::Reject { reason } = &decision {
                    println!("refused {peer} reason={reason}");
                }
                conn.decide_auth(decision)?;
            }
            ServerEvent::Authenticated { security_type } => {
                println!("authenticated {peer} security={security_type}");
            }
            ServerEvent::Initialised {
                version,
                shared: is_shared,
                ..
            } => {
                println!("initialised {peer} version={version} shared={is_shared}");
            }
            ServerEvent::Message(ClientMessage::SetEncodings(list)) => {
                encoder = choose_encoder(&list, shared.prefer, &format);
                encodings = list;
                println!("encoding {peer} {}", encoder.encoding());
            }
            ServerEvent::Message(ClientMessage::SetPixelFormat(pf)) => {
                format = pf;
                // TightPNG needs true colour: choose again for a colour-map viewer.
                if !pf.true_colour && encoder.encoding() == Encoding::TIGHT_PNG {
                    encoder = choose_encoder(&encodings, shared.prefer, &format);
                    println!("encoding {peer} {}", encoder.encoding());
                }
                if !pf.true_colour {
                    conn.send_raw(&colour_map_message())?;
                }
            }
            // The picture never changes: only non-incremental requests get pixels.
            ServerEvent::Message(ClientMessage::FramebufferUpdateRequest(req))
                if !req.incremental =>
            {
                let area = req
                    .rect
                    .clip_to(shared.desktop.width, shared.desktop.height);
                let update = encoded_update(shared, &format, area, encoder.as_mut())
                    .map_err(|e| ServerError::ClosedByServer(format!("encoding failed: {e}")))?;
                conn.send_raw(&update)?;
            }
            _ => {}
        }
        Ok::<(), ServerError>(())
    });
    match result {
        Ok(()) => println!("disconnected {peer} reason=closed by client"),
        Err(e) => println!("disconnected {peer} reason={e}"),
    }
}

/// `prefer` if the viewer lists it, else the first encoding of the viewer's list that
/// rfb-codec can encode for `format` (Raw otherwise).
fn choose_encoder(
    list: &[Encoding],
    prefer: Option<Encoding>,
    format: &PixelFormat,
) -> Box<dyn RectEncoder> {
    use rfb_codec::{hextile, raw, rre, trle, zlib, zrle};
    let preferred = prefer.filter(|p| list.contains(p));
    for e in preferred.into_iter().chain(list.iter().copied()) {
        let enc: Box<dyn RectEncoder> = match e {
            Encoding::TIGHT_PNG if format.true_colour => {
                Box::new(rfb_codec::tight::TightPngEncoder::new(
                    rfb_codec::tight::TightPngConfig::from_encodings(list),
                ))
            }
            Encoding::TIGHT => Box::new(rfb_codec::tight::TightEncoder::new(
                rfb_codec::tight::TightConfig::from_encodings(list),
            )),
            Encoding::ZRLE => Box::new(zrle::ZrleEncoder::default()),
            Encoding::TRLE => Box::new(trle::TrleEncoder::default()),
            Encoding::ZLIB => Box::new(zlib::ZlibEncoder::default()),
            Encoding::HEXTILE => Box::new(hextile::HextileEncoder),
            Encoding::RRE => Box::new(rre::RreEncoder),
            Encoding::CORRE => Box::new(rre::CorreEncoder),
            Encoding::RAW => Box::new(raw::RawEncoder),
            _ => continue,
        };
        return enc;
    }
    Box::new(raw::RawEncoder)
}

/// A FramebufferUpdate covering `area` of the test picture in `format`, cut into
/// rectangles the encoder accepts (CoRRE: at most 255x255; others: 256-pixel-high
/// bands) and encoded.
fn encoded_update(
    shared: &Shared,
    format: &PixelFormat,
    area: Rect,
    encoder: &mut dyn RectEncoder,
) -> Result<Vec<u8>, rfb_codec::CodecError> {
    let mut fb = Framebuffer::new(shared.desktop.width, shared.desktop.height, *format);
    let w = usize::from(shared.desktop.width);
    let mut packed = Vec::with_capacity(fb.data().len());
    for px in shared.rgb.chunks_exact(3) {
        pattern::pack(format, [px[0], px[1], px[2]], &mut packed);
    }
    fb.put_pixels(fb.rect(), &packed)?;
    debug_assert_eq!(
        packed.len(),
        w * usize::from(shared.desktop.height) * format.bytes_per_pixel()
    );
    let rects = if matches!(encoder.encoding(), Encoding::TIGHT | Encoding::TIGHT_PNG) {
        // Tight (and TightPNG) rectangles are at most 2048 wide and 65536 pixels.
        rfb_codec::tight::split(area)
    } else {
        let (tile_w, tile_h) = if encoder.encoding() == Encoding::CORRE {
            (255u16, 255u16)
        } else {
            (area.width.max(1), 256)
        };
        let mut rects = Vec::new();
        let mut y = area.y;
        while u32::from(y) < area.bottom() {
            let h = tile_h.min((area.bottom() - u32::from(y)) as u16);
            let mut x = area.x;
            while u32::from(x) < area.right() {
                let width = tile_w.min((area.right() - u32::from(x)) as u16);
                rects.push(Rect::new(x, y, width, h));
                x += width;
            }
            y += h;
        }
        rects
    };
    let mut out = BytesMut::new();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(rects.len() as u16).to_be_bytes());
    for r in rects {
        for v in [r.x, r.y, r.width, r.height] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&encoder.encoding().0.to_be_bytes());
        encoder.encode(&fb.view(r)?, &mut out)?;
    }
    Ok(out.to_vec())
}

/// SetColourMapEntries with the BGR233 map used for colour-map viewers.
fn colour_map_message() -> Vec<u8> {
    let map = pattern::bgr233_colour_map();
    let mut out = vec![1u8, 0, 0, 0];
    out.extend_from_slice(&(map.len() as u16).to_be_bytes());
    for c in map {
        for v in c {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}
