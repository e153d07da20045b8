//! Loopback ports: picking a free one, and seeing whether one listens without connecting.

use std::collections::HashSet;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::process::Spawned;

/// First port of the range the tests use. Ports are >= 5900 so that clients taking a
/// display number (vncsnapshot: display = port - 5900) can reach every one of them.
pub const PORT_BASE: u16 = 16000;
/// Number of ports in the range (16000..17000: away from the 159xx range other tools use
/// and below the kernel's ephemeral ports).
pub const PORT_COUNT: u16 = 1000;

static NEXT: AtomicU16 = AtomicU16::new(0);

/// The TCP ports in LISTEN state on this machine (IPv4 and IPv6), read from /proc/net.
///
/// ```
/// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = l.local_addr().unwrap().port();
/// assert!(rfb_interop::net::listening_ports().contains(&port));
/// ```
pub fn listening_ports() -> HashSet<u16> {
    let mut ports = HashSet::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1);
            let state = fields.nth(1);
            if state != Some("0A") {
                continue;
            }
            if let Some(port) = local
                .and_then(|l| l.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok())
            {
                ports.insert(port);
            }
        }
    }
    ports
}

/// Whether something listens on TCP `port` (any address). Does not connect.
pub fn is_listening(port: u16) -> bool {
    listening_ports().contains(&port)
}

/// A TCP port in 16000..17000 that nothing listens on and that 127.0.0.1 can bind now.
/// Successive calls in one process return different ports.
///
/// ```
/// let p = rfb_interop::net::free_port().unwrap();
/// assert!(p >= 5900);
/// std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
/// ```
pub fn free_port() -> Result<u16> {
    let listening = listening_ports();
    let seed = (std::process::id() % u32::from(PORT_COUNT)) as u16;
    for _ in 0..PORT_COUNT {
        let k = NEXT.fetch_add(1, Ordering::Relaxed) % PORT_COUNT;
        let port = PORT_BASE + (seed + k) % PORT_COUNT;
        if listening.contains(&port) {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    bail!(
        "no free TCP port in {}..{}",
        PORT_BASE,
        PORT_BASE + PORT_COUNT
    )
}

/// Waits until `port` listens; an error if `owner` exits first or after `timeout`.
pub fn wait_listening(port: u16, owner: &mut Spawned, timeout: Duration) -> Result<()> {
    let end = Instant::now() + timeout;
    loop {
        if is_listening(port) {
            return Ok(());
        }
        if !owner.is_running() {
            let status = owner.status_text();
            bail!(
                "{} exited ({status}) before listening on port {port}",
                owner.name()
            );
        }
        if Instant::now() >= end {
            bail!(
                "{} not listening on port {port} after {timeout:?}",
                owner.name()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}
