//! `rfb-probe ADDR [--password-file F] [--exclusive] [--timeout SECS]`
//!
//! Connects to a VNC server, completes the handshake and prints what was negotiated:
//! `ok version=3.8 security=VncAuth(2) width=W height=H bpp=B depth=D name="..."` (exit 0),
//! `refused: <reason>` when the server rejects the credentials (exit 1), or
//! `error: <message>` (exit 2).

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rfb_client::{ClientConfig, ClientConnection, ClientError, ClientEvent, VncAddress};

#[derive(Parser)]
#[command(about = "Complete an RFB handshake with a VNC server and print what was negotiated")]
struct Args {
    /// Server address: host, host:display, host::port, `[v6]:display`.
    addr: VncAddress,
    /// File whose first line is the VNC password.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Ask for exclusive access (shared flag 0).
    #[arg(long)]
    exclusive: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match probe(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(ProbeError::Refused(reason)) => {
            println!("refused: {reason}");
            ExitCode::from(1)
        }
        Err(ProbeError::Other(msg)) => {
            println!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

enum ProbeError {
    Refused(String),
    Other(String),
}

fn probe(args: &Args) -> Result<String, ProbeError> {
    let other = |e: &dyn std::fmt::Display| ProbeError::Other(e.to_string());
    let mut config = ClientConfig {
        shared: !args.exclusive,
        handshake_timeout: Duration::from_secs(args.timeout),
        ..ClientConfig::default()
    };
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| other(&e))?;
        config.password = Some(text.lines().next().unwrap_or("").to_owned());
    }
    let addr = (args.addr.host.as_str(), args.addr.port)
        .to_socket_addrs()
        .map_err(|e| other(&e))?
        .next()
        .ok_or_else(|| ProbeError::Other(format!("{} did not resolve", args.addr)))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(args.timeout))
        .map_err(|e| other(&e))?;
    let mut conn = ClientConnection::new(config, Instant::now());
    let result =
        rfb_examples::blocking::client_handshake(&mut conn, &mut stream, |_, ev| match ev {
            ClientEvent::PasswordRequested { .. } => Err(ClientError::NoPassword),
            _ => Ok(()),
        });
    match result {
        Ok(ClientEvent::Connected { version, security_type, server_init }) => Ok(format!(
            "ok version={version} security={security_type} width={} height={} bpp={} depth={} name={:?}",
            server_init.width,
            server_init.height,
            server_init.pixel_format.bits_per_pixel,
            server_init.pixel_format.depth,
            server_init.name
        )),
        Ok(other_event) => Err(ProbeError::Other(format!("unexpected event {other_event:?}"))),
        Err(ClientError::AuthFailed { reason, .. }) => Err(ProbeError::Refused(reason)),
        Err(e) => Err(other(&e)),
    }
}
