//! Runs both sides of the RFB handshake in one process, in memory, and prints what they
//! negotiated: once with security type None and once with VNC Authentication (right
//! password, then wrong password).

use std::sync::Arc;
use std::time::Instant;

use rfb_client::{ClientConfig, ClientConnection, ClientEvent};
use rfb_proto::{PixelFormat, ServerInit};
use rfb_server::{Authenticator, ServerConfig, ServerConnection, ServerEvent, VncPassword};

fn run(
    label: &str,
    server_config: ServerConfig,
    client_password: Option<&str>,
    server_password: &str,
) {
    let now = Instant::now();
    let desktop = ServerInit {
        width: 1280,
        height: 720,
        pixel_format: PixelFormat::RGB888,
        name: "rfb demo desktop".into(),
    };
    let mut server = ServerConnection::new(Arc::new(server_config), desktop, now);
    let config = ClientConfig {
        password: client_password.map(str::to_owned),
        ..ClientConfig::default()
    };
    let mut client = ClientConnection::new(config, now);
    let checker = VncPassword::new(server_password);
    println!("== {label}");
    // Shuttle bytes until neither side has anything more to say.
    for _ in 0..32 {
        let mut moved = false;
        while let Some(b) = server.poll_transmit() {
            moved = true;
            println!("  server -> client {:3} bytes", b.len());
            if let Err(e) = client.handle_input(&b) {
                println!("  client failed: {e}");
            }
        }
        while let Some(b) = client.poll_transmit() {
            moved = true;
            println!("  client -> server {:3} bytes", b.len());
            if let Err(e) = server.handle_input(&b) {
                println!("  server failed: {e}");
            }
        }
        while let Some(ev) = server.poll_event() {
            moved = true;
            match ev {
                ServerEvent::AuthRequested {
                    security_type,
                    credentials,
                } => {
                    let decision = match security_type {
                        rfb_proto::SecurityType::NONE => rfb_server::AuthDecision::Accept,
                        _ => checker.decide(security_type, &credentials),
                    };
                    println!("  server: {security_type} credentials -> {decision:?}");
                    let _ = server.decide_auth(decision);
                }
                other => println!("  server event: {other:?}"),
            }
        }
        while let Some(ev) = client.poll_event() {
            moved = true;
            match ev {
                ClientEvent::Connected { version, security_type, server_init } => println!(
                    "  client connected: RFB {version}, security {security_type}, {}x{} {}bpp, \"{}\"",
                    server_init.width, server_init.height, server_init.pixel_format.bits_per_pixel, server_init.name
                ),
                other => println!("  client event: {other:?}"),
            }
        }
        if !moved {
            break;
        }
    }
    if let Some(e) = client.error() {
        println!("  client ended with: {e}");
    }
    if let Some(e) = server.error() {
        println!("  server ended with: {e}");
    }
}

fn main() {
    run("security type None", ServerConfig::no_auth(), None, "");
    run(
        "VNC Authentication, right password",
        ServerConfig::vnc_auth(),
        Some("s3cret"),
        "s3cret",
    );
    run(
        "VNC Authentication, wrong password",
        ServerConfig::vnc_auth(),
        Some("guess"),
        "s3cret",
    );
}
