//! Blocking drivers over `std::net::TcpStream`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rfb_client::{ClientConnection, ClientError, ClientEvent};
use rfb_server::{ServerConnection, ServerError, ServerEvent};

/// How long one blocking read may wait before the timers are checked again.
const POLL: Duration = Duration::from_millis(200);

/// Writes everything the server connection has queued.
pub fn flush_server(conn: &mut ServerConnection, stream: &mut TcpStream) -> std::io::Result<()> {
    while let Some(bytes) = conn.poll_transmit() {
        stream.write_all(&bytes)?;
    }
    stream.flush()
}

/// Writes everything the client connection has queued.
pub fn flush_client(conn: &mut ClientConnection, stream: &mut TcpStream) -> std::io::Result<()> {
    while let Some(bytes) = conn.poll_transmit() {
        stream.write_all(&bytes)?;
    }
    stream.flush()
}

/// Outcome of reading once from a socket.
enum Read1 {
    Data(usize),
    Eof,
    Idle,
}

fn read_once(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> std::io::Result<Read1> {
    let wait = match deadline {
        Some(d) => d
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), POLL),
        None => POLL,
    };
    stream.set_read_timeout(Some(wait))?;
    match stream.read(buf) {
        Ok(0) => Ok(Read1::Eof),
        Ok(n) => Ok(Read1::Data(n)),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Ok(Read1::Idle)
        }
        Err(e) => Err(e),
    }
}

/// Runs a server connection over `stream` until it ends. `on_event` handles every event
/// (answering authentication, serving update requests) and may queue output.
/// Returns `Ok(())` when the client closed the connection cleanly.
pub fn run_server(
    conn: &mut ServerConnection,
    stream: &mut TcpStream,
    mut on_event: impl FnMut(&mut ServerConnection, ServerEvent) -> Result<(), ServerError>,
) -> Result<(), ServerError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let step = (|| {
            while let Some(ev) = conn.poll_event() {
                on_event(conn, ev)?;
            }
            flush_server(conn, stream).map_err(|e| ServerError::ClosedByServer(e.to_string()))?;
            match read_once(stream, &mut buf, conn.poll_timeout()) {
                Ok(Read1::Data(n)) => conn.handle_input(&buf[..n]).map(|_| true),
                Ok(Read1::Eof) => conn.handle_eof().map(|_| false),
                Ok(Read1::Idle) => conn.handle_timeout(Instant::now()).map(|_| true),
                Err(e) => Err(ServerError::ClosedByServer(e.to_string())),
            }
        })();
        match step {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                // Flush whatever explains the failure (e.g. the 3.8 reason) before closing.
                let _ = flush_server(conn, stream);
                return Err(e);
            }
        }
    }
}

/// Runs a client connection's handshake over `stream` until ServerInit arrives, handing
/// every other event to `on_event`. Returns the `Connected` event.
pub fn client_handshake(
    conn: &mut ClientConnection,
    stream: &mut TcpStream,
    mut on_event: impl FnMut(&mut ClientConnection, &ClientEvent) -> Result<(), ClientError>,
) -> Result<ClientEvent, ClientError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(ev) = conn.poll_event() {
            if matches!(ev, ClientEvent::Connected { .. }) {
                flush_client(conn, stream)
                    .map_err(|e| ClientError::ClosedByClient(e.to_string()))?;
                return Ok(ev);
            }
            on_event(conn, &ev)?;
        }
        flush_client(conn, stream).map_err(|e| ClientError::ClosedByClient(e.to_string()))?;
        match read_once(stream, &mut buf, conn.poll_timeout()) {
            Ok(Read1::Data(n)) => conn.handle_input(&buf[..n])?,
            Ok(Read1::Eof) => conn.handle_eof()?,
            Ok(Read1::Idle) => conn.handle_timeout(Instant::now())?,
            Err(e) => return Err(ClientError::ClosedByClient(e.to_string())),
        }
    }
}
