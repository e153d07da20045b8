//! `rfb-viewer ADDR [--password-file F] [--view-only] [--encoding E] [--quality Q]
//! [--colour full|16|8|grey] [--scale fit|actual] [--monitor N] [--remote-resize]
//! [--idle-timeout S] [--listen]`
//!
//! A VNC viewer window (winit + softbuffer, X11). Press F8 for the menu keys: Ctrl-Alt-Del,
//! full-resolution PNG screenshot, view-only, scaling, colour mode, JPEG quality,
//! monitor choice, remote resize, clipboard paste, reconnect, quit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rfb_client::{EncodingPreference, VncAddress};
use rfb_codec::ColourPreset;
use rfb_examples::viewer::{self, Options, Scale};
use rfb_proto::Encoding;

#[derive(Parser)]
#[command(about = "A VNC viewer window")]
struct Args {
    /// Server address: host, host:display, host::port, `[v6]:display`. With --listen,
    /// the address to listen on (default 0.0.0.0::5500).
    addr: Option<VncAddress>,
    /// File whose first line is the VNC password (otherwise asked on the terminal).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Start without sending keyboard and pointer input.
    #[arg(long)]
    view_only: bool,
    /// Preferred encoding: auto, zrle, tight, trle, zlib, hextile, rre, corre, raw.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// JPEG quality level 0-9 (for servers that use it).
    #[arg(long)]
    quality: Option<u8>,
    /// Compression level 0-9.
    #[arg(long)]
    compress: Option<u8>,
    /// Colour mode: full, 16, 8, grey.
    #[arg(long, default_value = "full")]
    colour: String,
    /// Scale the picture to the window (fit) or show it 1:1 (actual).
    #[arg(long, value_enum, default_value = "fit")]
    scale: Scale,
    /// Show only this screen (0-based) of a multi-screen server (see --monitor).
    #[arg(long, conflicts_with = "monitor")]
    screen: Option<usize>,
    /// Show only monitor N (1-based, in the order of the server's screen layout) of a
    /// multi-screen server; F8 M cycles through them.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=255))]
    monitor: Option<u16>,
    /// Ask the server to resize its desktop to the window whenever the window is
    /// resized (SetDesktopSize; F8 W toggles).
    #[arg(long)]
    remote_resize: bool,
    /// Give up on a server that sent nothing for this many seconds and then left a probe
    /// unanswered as long (0: never).
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// Wait for a reverse connection from a server instead of connecting.
    #[arg(long)]
    listen: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rfb-viewer: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let preferred = match args.encoding.as_str() {
        "auto" => None,
        "zrle" => Some(Encoding::ZRLE),
        "tight" => Some(Encoding::TIGHT),
        "trle" => Some(Encoding::TRLE),
        "zlib" => Some(Encoding::ZLIB),
        "hextile" => Some(Encoding::HEXTILE),
        "rre" => Some(Encoding::RRE),
        "corre" => Some(Encoding::CORRE),
        "raw" => Some(Encoding::RAW),
        other => anyhow::bail!("unknown encoding {other:?}"),
    };
    let colour = match args.colour.as_str() {
        "full" => ColourPreset::Full,
        "16" => ColourPreset::More16,
        "8" => ColourPreset::Few8,
        "grey" | "gray" => ColourPreset::Grey,
        other => anyhow::bail!("unknown colour mode {other:?} (full, 16, 8, grey)"),
    };
    let addr = match (args.addr, args.listen) {
        (Some(a), _) => a,
        (None, true) => VncAddress {
            host: "0.0.0.0".into(),
            port: rfb_client::driver::LISTEN_PORT,
        },
        (None, false) => anyhow::bail!("an address is needed (or --listen)"),
    };
    let password = match &args.password_file {
        Some(p) => Some(
            std::fs::read_to_string(p)?
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        None => None,
    };
    viewer::run(Options {
        addr,
        listen: args.listen,
        password,
        view_only: args.view_only,
        encodings: EncodingPreference {
            preferred,
            quality: args.quality,
            compress: args.compress,
        },
        colour,
        scale: args.scale,
        screen: args.screen.or(args.monitor.map(|m| usize::from(m) - 1)),
        remote_resize: args.remote_resize,
        idle_timeout: (args.idle_timeout > 0)
            .then(|| std::time::Duration::from_secs(args.idle_timeout)),
    })
}
