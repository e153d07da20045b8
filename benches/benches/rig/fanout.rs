//! Shared by `benches/server.rs`, `benches/client.rs` and `src/bin/rfb-loadtest.rs`
//! (included with `#[path]`): corpus updates replayed through `rfb_server::Session` to
//! in-memory viewers (sans-IO: bytes are handed over in memory, no sockets).

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use rfb_benches::{corpus_info, raw_pixels, CorpusRect, Update, UpdateReader, CORPUS_FORMAT};
use rfb_codec::{Framebuffer, Region};
use rfb_proto::{Encoding, PixelFormat, Rect, ServerInit};
use rfb_server::{
    AuthDecision, Damage, ServerConfig, ServerConnection, ServerEvent, Session, ViewerId,
};

/// Reads the first `max` updates of a corpus recording; returns width, height, updates.
pub fn load_updates(path: &Path, max: usize) -> Result<(u16, u16, Vec<Update>)> {
    let info = corpus_info(path)?;
    let mut reader = UpdateReader::open(path)?;
    let mut out = Vec::new();
    while out.len() < max {
        let mut up = Update::default();
        if !reader.next_update(&mut up)? {
            break;
        }
        out.push(up);
    }
    Ok((info.width, info.height, out))
}

/// Applies `up` to `fb`; returns the damage hint (every rectangle it touched).
pub fn apply(fb: &mut Framebuffer, up: &Update) -> Result<Region> {
    let mut hint = Region::new();
    for r in &up.rects {
        match *r {
            CorpusRect::Raw { rect, offset } => {
                fb.put_pixels(rect, raw_pixels(up, rect, offset))?;
                hint.add_rect(rect);
            }
            CorpusRect::Copy { rect, src_x, src_y } => {
                fb.copy_within(
                    Rect::new(src_x, src_y, rect.width, rect.height),
                    rect.x,
                    rect.y,
                )?;
                hint.add_rect(rect);
            }
        }
    }
    Ok(hint)
}

fn desktop(w: u16, h: u16) -> ServerInit {
    ServerInit {
        width: w,
        height: h,
        pixel_format: CORPUS_FORMAT,
        name: "bench".into(),
    }
}

/// FramebufferUpdateRequest bytes (RFC 6143 7.5.3): type 3, incremental, x, y, w, h.
pub fn update_request(incremental: bool, w: u16, h: u16) -> Vec<u8> {
    let mut m = vec![3, u8::from(incremental), 0, 0, 0, 0];
    m.extend_from_slice(&w.to_be_bytes());
    m.extend_from_slice(&h.to_be_bytes());
    m
}

/// SetEncodings bytes (RFC 6143 7.5.2): type 2, padding, count, s32 encodings.
pub fn set_encodings(encodings: &[Encoding]) -> Vec<u8> {
    let mut m = vec![2, 0];
    m.extend_from_slice(&(encodings.len() as u16).to_be_bytes());
    for e in encodings {
        m.extend_from_slice(&e.0.to_be_bytes());
    }
    m
}

/// Drains a connection's output; returns the byte count.
pub fn drain(conn: &mut ServerConnection) -> usize {
    let mut n = 0;
    while let Some(b) = conn.poll_transmit() {
        n += b.len();
    }
    n
}

/// A server-side connection taken through the 3.8 / None handshake with raw client
/// bytes, with `encodings` set and the first (full) update sent and discarded.
pub fn handshaken(
    config: Arc<ServerConfig>,
    frame: &Framebuffer,
    encodings: &[Encoding],
) -> Result<ServerConnection> {
    let now = Instant::now();
    let mut c = ServerConnection::new(config, desktop(frame.width(), frame.height()), now);
    drain(&mut c);
    c.handle_input(b"RFB 003.008\n")?;
    drain(&mut c);
    c.handle_input(&[1])?; // security type None
    while let Some(ev) = c.poll_event() {
        if let ServerEvent::AuthRequested { .. } = ev {
            c.decide_auth(AuthDecision::Accept)?;
        }
    }
    drain(&mut c);
    c.handle_input(&[1])?; // ClientInit, shared
    drain(&mut c);
    if c.is_handshaking() {
        bail!("handshake did not complete");
    }
    c.handle_input(&set_encodings(encodings))?;
    c.handle_input(&update_request(false, frame.width(), frame.height()))?;
    if !c.write_update(frame)? {
        bail!("no first update");
    }
    drain(&mut c);
    Ok(c)
}

/// A session at the corpus size with `n` in-memory viewers that all use `encoding`
/// (compress level 2).
pub struct FanOut {
    pub session: Session,
    pub viewers: Vec<(ViewerId, ServerConnection)>,
    request: Vec<u8>,
}

impl FanOut {
    pub fn new(first: Framebuffer, n: usize, encoding: Encoding) -> Result<FanOut> {
        let config = Arc::new(ServerConfig::no_auth());
        let mut session = Session::new(first);
        let mut viewers = Vec::new();
        for _ in 0..n {
            let id = session.add_viewer();
            // The pixel encodings an rfb-client Viewer preferring `encoding` lists (the
            // planner also uses CopyRect for moves and RRE for solid areas), compress
            // level 2 (what TigerVNC's viewer sends); Tight also with its default JPEG
            // quality 8.
            let mut list = rfb_client::EncodingPreference {
                preferred: Some(encoding),
                ..Default::default()
            }
            .encodings();
            list.push(Encoding::for_compress_level(2));
            if encoding == Encoding::TIGHT {
                list.push(Encoding::for_quality_level(8));
            }
            let c = handshaken(config.clone(), session.frame(), &list)?;
            viewers.push((id, c));
        }
        let (w, h) = (session.frame().width(), session.frame().height());
        Ok(FanOut {
            session,
            viewers,
            request: update_request(true, w, h),
        })
    }

    /// The product's part: the next frame (a copy of the current one with `up`
    /// applied) and the damage pass.
    /// Returns the changed area (pixels of the refined 64x64-tile region).
    pub fn diff(&mut self, up: &Update) -> Result<u64> {
        let mut next = (**self.session.frame()).clone();
        let hint = apply(&mut next, up)?;
        Ok(self.session.update(next, Damage::Region(hint)).area())
    }

    /// Every viewer's part: its share of the damage, its (incremental) request, the
    /// encoded update. Returns the bytes written to all viewers.
    pub fn encode(&mut self) -> Result<usize> {
        let mut total = 0;
        for (id, c) in &mut self.viewers {
            if let Some(p) = self.session.take(*id) {
                c.add_pending(p);
            }
            c.handle_input(&self.request)?;
            // Events must be taken: with `max_pending_events` waiting, parsing pauses.
            while c.poll_event().is_some() {}
            c.write_update(self.session.frame())?;
            total += drain(c);
        }
        Ok(total)
    }

    /// Sum of the viewers' [`ServerConnection::memory_estimate`].
    pub fn memory(&self) -> usize {
        self.viewers.iter().map(|(_, c)| c.memory_estimate()).sum()
    }
}

/// The first frame of a corpus replay (the first update applied to black).
pub fn first_frame(w: u16, h: u16, updates: &[Update]) -> Result<Framebuffer> {
    let mut fb = Framebuffer::new(w, h, CORPUS_FORMAT);
    apply(&mut fb, updates.first().context("empty recording")?)?;
    Ok(fb)
}

/// The server→client byte stream one viewer with `encoding` receives for `updates`
/// (after the handshake): one `Bytes` per FramebufferUpdate, plus the ServerInit
/// handshake bytes the client must see first.
pub struct Recorded {
    pub handshake: Vec<Bytes>,
    pub updates: Vec<Bytes>,
    pub pixels: u64,
}

/// The pixel format the server translates to when the viewer does not set one.
pub const NATIVE: PixelFormat = CORPUS_FORMAT;

/// Runs an in-memory `rfb_client::Viewer` (asking for `encoding`, pipelined requests)
/// against a `ServerConnection` fed by a `Session` replaying `updates[1..]`, and records
/// what the server sends.
pub fn record(first: &Framebuffer, updates: &[Update], encoding: Encoding) -> Result<Recorded> {
    use rfb_client::{EncodingPreference, Viewer, ViewerConfig};
    let now = Instant::now();
    let config = ViewerConfig {
        encodings: EncodingPreference {
            preferred: Some(encoding),
            quality: None,
            compress: Some(2),
        },
        auto_colour: false,
        continuous_updates: false,
        ..ViewerConfig::default()
    };
    let mut viewer = Viewer::new(config, now);
    let mut session = Session::new(first.clone());
    let id = session.add_viewer();
    let mut server = ServerConnection::new(
        Arc::new(ServerConfig::no_auth()),
        desktop(first.width(), first.height()),
        now,
    );
    let mut sink: Vec<Bytes> = Vec::new();
    let pump = |session: &mut Session,
                server: &mut ServerConnection,
                viewer: &mut Viewer,
                sink: &mut Vec<Bytes>|
     -> Result<()> {
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(ev) = server.poll_event() {
                moved = true;
                if let ServerEvent::AuthRequested { .. } = ev {
                    server.decide_auth(AuthDecision::Accept)?;
                }
            }
            if !server.is_handshaking() {
                if let Some(p) = session.take(id) {
                    server.add_pending(p);
                }
                moved |= server.write_update(session.frame())?;
            }
            while let Some(b) = server.poll_transmit() {
                moved = true;
                viewer.handle_input(&b, now)?;
                sink.push(b);
            }
            while viewer.poll_event().is_some() {
                moved = true;
            }
            while let Some(b) = viewer.poll_transmit() {
                moved = true;
                server.handle_input(&b)?;
            }
            if !moved {
                return Ok(());
            }
        }
        bail!("in-memory pair did not settle")
    };
    pump(&mut session, &mut server, &mut viewer, &mut sink)?;
    let handshake = std::mem::take(&mut sink);
    let mut recorded = Vec::new();
    let mut pixels = 0;
    let mut fb = first.clone();
    for up in &updates[1..] {
        let hint = apply(&mut fb, up)?;
        pixels += session.update(fb.clone(), Damage::Region(hint)).area();
        pump(&mut session, &mut server, &mut viewer, &mut sink)?;
        let mut joined = Vec::new();
        for b in sink.drain(..) {
            joined.extend_from_slice(&b);
        }
        recorded.push(Bytes::from(joined));
    }
    if viewer.framebuffer().map(|f| f.to_rgb()) != Some(rgb(&fb)) {
        bail!("the recorded stream does not decode to the replayed frame");
    }
    Ok(Recorded {
        handshake,
        updates: recorded,
        pixels,
    })
}

/// `fb` (CORPUS_FORMAT, bytes B G R X) as R G B bytes.
pub fn rgb(fb: &Framebuffer) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::from(fb.width()) * usize::from(fb.height()) * 3);
    for p in fb.data().chunks_exact(4) {
        out.extend_from_slice(&[p[2], p[1], p[0]]);
    }
    out
}
