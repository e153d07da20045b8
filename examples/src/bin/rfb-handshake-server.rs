//! `rfb-handshake-server --listen ADDR [--password-file F] [--width W] [--height H]
//! [--name NAME] [--once] [--write-truth FILE.ppm]`
//!
//! A minimal VNC server built from the sans-IO handshake: it authenticates viewers (None,
//! or VNC Authentication when a password file is given), then answers non-incremental
//! FramebufferUpdateRequests with Raw rectangles of a fixed test picture in whatever
//! pixel format the viewer asked for. It prints one line per event on stdout
//! (`listening`, `connected`, `authenticated`, `refused`, `disconnected`), which the
//! real-peer tests read.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use rfb_examples::pattern;
use rfb_proto::{ClientMessage, PixelFormat, Rect, ServerInit};
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
}

struct Shared {
    config: Arc<ServerConfig>,
    checker: Box<dyn Authenticator>,
    desktop: ServerInit,
    rgb: Vec<u8>,
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
            ServerEvent::Message(ClientMessage::SetPixelFormat(pf)) => {
                format = pf;
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
                conn.send_raw(&raw_update(shared, &format, area))?;
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

/// A FramebufferUpdate with one Raw rectangle of `area` in `format`.
fn raw_update(shared: &Shared, format: &PixelFormat, area: Rect) -> Vec<u8> {
    let mut out = vec![0u8, 0, 0, 1];
    for v in [area.x, area.y, area.width, area.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&0i32.to_be_bytes());
    let w = usize::from(shared.desktop.width);
    for y in area.y..area.y + area.height {
        for x in area.x..area.x + area.width {
            let i = (usize::from(y) * w + usize::from(x)) * 3;
            let px = [shared.rgb[i], shared.rgb[i + 1], shared.rgb[i + 2]];
            pattern::pack(format, px, &mut out);
        }
    }
    out
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
