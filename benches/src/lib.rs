//! Benchmark support for the rfb crates: reading the replay corpus (TigerVNC encperf
//! input format, zstd-compressed) and re-encoding it, shared by the `rfb-bench` binary
//! and the criterion benchmarks.
//!
//! A corpus file is the server-to-client byte stream after ServerInit: only
//! FramebufferUpdate messages, whose rectangles are Raw (0) or CopyRect (1), in rgb888
//! (32 bpp, depth 24, little-endian, red shift 16). Its size comes from `manifest.json`
//! beside it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rfb_codec::{PixelFormat, Rect};

/// The pixel format of every corpus file.
pub const CORPUS_FORMAT: PixelFormat = PixelFormat::RGB888;

/// Where the corpus is: `$RFB_CORPUS`, else `../shared/corpus` beside the workspace.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("RFB_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

/// Width, height and uncompressed size of a corpus file, from `manifest.json` beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorpusInfo {
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// Bytes of the decompressed stream.
    pub uncompressed_size: u64,
}

/// Reads the manifest entry of `path` (matched by file name).
pub fn corpus_info(path: &Path) -> Result<CorpusInfo> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).context("parsing manifest.json")?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("file name")?;
    let files = json
        .get("files")
        .and_then(|f| f.as_array())
        .context("manifest.json has no files array")?;
    for f in files {
        if f.get("name").and_then(|n| n.as_str()) == Some(name) {
            if let Some(fmt) = f.get("format").and_then(|v| v.as_str()) {
                if fmt != "rgb888" {
                    bail!("{name}: format {fmt}, only rgb888 is supported");
                }
            }
            let num = |k: &str| {
                f.get(k)
                    .and_then(|v| v.as_u64())
                    .with_context(|| format!("{name}: no {k}"))
            };
            return Ok(CorpusInfo {
                width: u16::try_from(num("width")?)?,
                height: u16::try_from(num("height")?)?,
                uncompressed_size: num("uncompressed_size")?,
            });
        }
    }
    bail!("{name} is not in {}", manifest.display())
}

/// One rectangle of a corpus update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusRect {
    /// Raw pixels at `offset..offset + w*h*4` of [`Update::pixels`].
    Raw {
        /// Where.
        rect: Rect,
        /// Start of its pixels in [`Update::pixels`].
        offset: usize,
    },
    /// CopyRect from (`src_x`, `src_y`).
    Copy {
        /// Destination.
        rect: Rect,
        /// Source left edge.
        src_x: u16,
        /// Source top edge.
        src_y: u16,
    },
}

/// One FramebufferUpdate of a corpus file.
#[derive(Debug, Default, Clone)]
pub struct Update {
    /// Its rectangles, in stream order.
    pub rects: Vec<CorpusRect>,
    /// The pixels of its Raw rectangles, one after another.
    pub pixels: Vec<u8>,
}

/// Reads FramebufferUpdates from a decompressed corpus stream.
pub struct UpdateReader {
    src: Box<dyn Read>,
    /// Bytes read so far.
    pub bytes_read: u64,
}

impl std::fmt::Debug for UpdateReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateReader")
            .field("bytes_read", &self.bytes_read)
            .finish()
    }
}

impl UpdateReader {
    /// Opens a `.rfb.zst` file (or an uncompressed `.rfb`).
    pub fn open(path: &Path) -> Result<UpdateReader> {
        let file = BufReader::with_capacity(
            1 << 20,
            File::open(path).with_context(|| format!("opening {}", path.display()))?,
        );
        let src: Box<dyn Read> = if path.extension().is_some_and(|e| e == "zst") {
            Box::new(BufReader::with_capacity(
                1 << 20,
                ruzstd::decoding::StreamingDecoder::new(file)
                    .map_err(|e| anyhow::anyhow!("zstd: {e}"))?,
            ))
        } else {
            Box::new(file)
        };
        Ok(UpdateReader { src, bytes_read: 0 })
    }

    /// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end of stream before any.
    fn fill(&mut self, buf: &mut [u8]) -> Result<bool> {
        let mut got = 0;
        while got < buf.len() {
            let n = self.src.read(&mut buf[got..])?;
            if n == 0 {
                if got == 0 {
                    return Ok(false);
                }
                bail!("stream truncated at byte {}", self.bytes_read + got as u64);
            }
            got += n;
        }
        self.bytes_read += got as u64;
        Ok(true)
    }

    /// The next update into `up` (reusing its buffers); `Ok(false)` at the end.
    pub fn next_update(&mut self, up: &mut Update) -> Result<bool> {
        up.rects.clear();
        up.pixels.clear();
        let mut head = [0u8; 4];
        if !self.fill(&mut head)? {
            return Ok(false);
        }
        if head[0] != 0 {
            bail!(
                "message type {} at byte {}: not a FramebufferUpdate",
                head[0],
                self.bytes_read - 4
            );
        }
        let n = u16::from_be_bytes([head[2], head[3]]);
        for _ in 0..n {
            let mut h = [0u8; 12];
            if !self.fill(&mut h)? {
                bail!("stream ends inside an update");
            }
            let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            let rect = Rect::new(be16(0), be16(2), be16(4), be16(6));
            let enc = i32::from_be_bytes([h[8], h[9], h[10], h[11]]);
            match enc {
                0 => {
                    let offset = up.pixels.len();
                    let len = rect.area() as usize * 4;
                    up.pixels.resize(offset + len, 0);
                    if !self.fill(&mut up.pixels[offset..])? && len > 0 {
                        bail!("stream ends inside a rectangle");
                    }
                    // Xvnc leaves the unused fourth byte of rgb888 pixels as garbage
                    // (the corpus README says 0): clear it, so every encoding sees the
                    // same colours and a decoded framebuffer can be compared exactly.
                    for px in up.pixels[offset..].chunks_exact_mut(4) {
                        px[3] = 0;
                    }
                    up.rects.push(CorpusRect::Raw { rect, offset });
                }
                1 => {
                    let mut s = [0u8; 4];
                    if !self.fill(&mut s)? {
                        bail!("stream ends inside a rectangle");
                    }
                    up.rects.push(CorpusRect::Copy {
                        rect,
                        src_x: u16::from_be_bytes([s[0], s[1]]),
                        src_y: u16::from_be_bytes([s[2], s[3]]),
                    });
                }
                e => bail!("encoding {e} in the corpus (only Raw and CopyRect expected)"),
            }
        }
        Ok(true)
    }
}

/// The pixel bytes of raw rectangle `r` of `up`.
pub fn raw_pixels(up: &Update, rect: Rect, offset: usize) -> &[u8] {
    &up.pixels[offset..offset + rect.area() as usize * 4]
}

/// Process CPU time in seconds (all threads: `CLOCK_PROCESS_CPUTIME_ID` on Unix), for
/// work spread over threads; [`thread_cpu_seconds`] elsewhere.
pub fn process_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    }
    #[cfg(not(unix))]
    {
        thread_cpu_seconds()
    }
}

/// Thread CPU time in seconds: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` on Unix
/// (nanosecond resolution, counts only this thread's time on a CPU, so other load on a
/// shared machine does not inflate it); wall-clock time since the first call elsewhere.
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    }
    #[cfg(not(unix))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64()
    }
}

/// An encoding `rfb-bench` can replay with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Raw (0).
    Raw,
    /// RRE (2).
    Rre,
    /// Hextile (5).
    Hextile,
    /// Zlib (6), one stream.
    Zlib,
    /// TRLE (15).
    Trle,
    /// ZRLE (16), one stream.
    Zrle,
}

impl Codec {
    /// Every codec, in the order above.
    pub const ALL: [Codec; 6] = [
        Codec::Raw,
        Codec::Rre,
        Codec::Hextile,
        Codec::Zlib,
        Codec::Trle,
        Codec::Zrle,
    ];

    /// Its lower-case name, as `--encoding` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Raw => "raw",
            Codec::Rre => "rre",
            Codec::Hextile => "hextile",
            Codec::Zlib => "zlib",
            Codec::Trle => "trle",
            Codec::Zrle => "zrle",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Whether `level` (zlib level) matters.
    pub fn uses_level(self) -> bool {
        matches!(self, Codec::Zlib | Codec::Zrle)
    }

    /// A fresh encoder (a new connection); `level` is the zlib level where one is used.
    pub fn encoder(self, level: u32) -> Box<dyn rfb_codec::RectEncoder> {
        use rfb_codec::{hextile, raw, rre, trle, zlib, zrle};
        match self {
            Codec::Raw => Box::new(raw::RawEncoder),
            Codec::Rre => Box::new(rre::RreEncoder),
            Codec::Hextile => Box::new(hextile::HextileEncoder),
            Codec::Zlib => Box::new(zlib::ZlibEncoder::new(level)),
            Codec::Trle => Box::new(trle::TrleEncoder::new()),
            Codec::Zrle => Box::new(zrle::ZrleEncoder::new(level)),
        }
    }

    /// A fresh decoder (a new connection).
    pub fn decoder(self) -> Box<dyn rfb_codec::RectDecoder> {
        use rfb_codec::{hextile, raw, rre, trle, zlib, zrle};
        match self {
            Codec::Raw => Box::new(raw::RawDecoder),
            Codec::Rre => Box::new(rre::RreDecoder),
            Codec::Hextile => Box::new(hextile::HextileDecoder),
            Codec::Zlib => Box::new(zlib::ZlibDecoder::new()),
            Codec::Trle => Box::new(trle::TrleDecoder::new()),
            Codec::Zrle => Box::new(zrle::ZrleDecoder::new()),
        }
    }
}

/// What one replay of one file measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayResult {
    /// Encoder thread CPU seconds.
    pub cpu_s: f64,
    /// Decoder (frame + decode) thread CPU seconds on what was encoded.
    pub decode_cpu_s: f64,
    /// Encoded bytes: payloads + 12-byte rectangle headers + 4-byte update headers.
    pub bytes: u64,
    /// The same for Raw: `w*h*4 + 12` per rectangle + 4 per update.
    pub raw_bytes: u64,
    /// Pixels encoded.
    pub pixels: u64,
    /// FramebufferUpdates replayed.
    pub updates: u64,
    /// Rectangles encoded (CopyRects are applied, not encoded, as encperf does).
    pub rects: u64,
}

/// Replays `path` onto a framebuffer, re-encodes every Raw rectangle of every update with
/// `codec`, decodes what it encoded into a second framebuffer and checks after every
/// update that both framebuffers are equal. `max_updates` stops early (for quick runs).
pub fn replay(
    path: &Path,
    codec: Codec,
    level: u32,
    max_updates: Option<u64>,
) -> Result<ReplayResult> {
    use bytes::BytesMut;
    use rfb_codec::{CodecLimits, Framebuffer};
    use rfb_proto::Progress;

    let info = corpus_info(path)?;
    let mut reader = UpdateReader::open(path)?;
    let mut fb = Framebuffer::new(info.width, info.height, CORPUS_FORMAT);
    let mut dfb = Framebuffer::new(info.width, info.height, CORPUS_FORMAT);
    let mut enc = codec.encoder(level);
    let mut dec = codec.decoder();
    let limits = CodecLimits::default();
    let mut up = Update::default();
    let mut wire = BytesMut::new();
    let mut pieces: Vec<(Rect, usize, usize)> = Vec::new();
    let mut res = ReplayResult::default();
    while reader.next_update(&mut up)? {
        if max_updates.is_some_and(|m| res.updates >= m) {
            break;
        }
        res.updates += 1;
        // Replay: apply the update as the recording has it.
        for r in &up.rects {
            match *r {
                CorpusRect::Raw { rect, offset } => {
                    fb.put_pixels(rect, raw_pixels(&up, rect, offset))?;
                }
                CorpusRect::Copy { rect, src_x, src_y } => {
                    let src = Rect::new(src_x, src_y, rect.width, rect.height);
                    fb.copy_within(src, rect.x, rect.y)?;
                }
            }
        }
        // Encode every Raw rectangle from the replayed framebuffer.
        wire.clear();
        pieces.clear();
        let t0 = thread_cpu_seconds();
        for r in &up.rects {
            if let CorpusRect::Raw { rect, .. } = *r {
                let start = wire.len();
                enc.encode(&fb.view(rect)?, &mut wire)?;
                pieces.push((rect, start, wire.len()));
            }
        }
        res.cpu_s += thread_cpu_seconds() - t0;
        res.bytes += 4 + wire.len() as u64 + 12 * pieces.len() as u64;
        res.raw_bytes += 4;
        for &(rect, _, _) in &pieces {
            res.raw_bytes += 12 + rect.area() * 4;
            res.pixels += rect.area();
        }
        res.rects += pieces.len() as u64;
        // The viewer side: copies first (Xvnc sends them first), then decode.
        for r in &up.rects {
            if let CorpusRect::Copy { rect, src_x, src_y } = *r {
                dfb.copy_within(
                    Rect::new(src_x, src_y, rect.width, rect.height),
                    rect.x,
                    rect.y,
                )?;
            }
        }
        let t0 = thread_cpu_seconds();
        for &(rect, start, end) in &pieces {
            let payload = &wire[start..end];
            match dec.frame(rect, &CORPUS_FORMAT, payload, &limits)? {
                Progress::Done { consumed, .. } if consumed == payload.len() => {}
                other => bail!(
                    "framing our own {} rectangle {rect:?}: {other:?}",
                    codec.name()
                ),
            }
            dec.decode(rect, payload, &mut dfb, &limits)?;
        }
        res.decode_cpu_s += thread_cpu_seconds() - t0;
        if dfb.data() != fb.data() {
            bail!(
                "{}: decoded framebuffer differs after update {}",
                codec.name(),
                res.updates
            );
        }
    }
    Ok(res)
}

/// What one planner replay ([`replay_planner`]) of one file measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlannerResult {
    /// Encoder thread CPU seconds (`BenchSession::encode` calls only).
    pub cpu_s: f64,
    /// Client-side decode (`BenchSession::apply`) thread CPU seconds.
    pub decode_cpu_s: f64,
    /// Encoded bytes (updates as the planner wrote them, minus 16 bytes per CopyRect:
    /// CopyRects are not counted, as encperf does).
    pub bytes: u64,
    /// The recording's Raw rectangles in Raw: `w*h*4 + 12` per rectangle + 4 per update.
    pub raw_bytes: u64,
    /// Pixels of the recording's Raw rectangles (the changed pixels).
    pub pixels: u64,
    /// Pixels of the region handed to the planner: `pixels` minus overlaps, or the
    /// narrowed and widened region with [`PlannerOptions::exact_damage`].
    pub encoded_pixels: u64,
    /// FramebufferUpdates replayed.
    pub updates: u64,
    /// Rectangles the planner wrote (CopyRects and LastRect not counted).
    pub rects: u64,
    /// Updates after which the client's framebuffer equals the replayed one exactly.
    pub exact_updates: u64,
    /// Sum over updates of the mean squared error per 8-bit R, G, B sample (0 if exact).
    pub mse_sum: f64,
    /// Sum over the inexact updates of their PSNR (dB).
    pub psnr_sum: f64,
    /// Thread CPU seconds of `DamageTracker::refine` (whole screen as hint, move
    /// detection off) over consecutive replayed frames; 0 unless measured.
    pub damage_s: f64,
    /// Thread CPU seconds of a second `refine` of the same frame right after the first
    /// (nothing changed: the compare alone, no shrinking or copying); 0 unless measured.
    pub damage_same_s: f64,
    /// Thread CPU seconds of a plain `==` (memcmp) of two identical copies of the
    /// previous frame, once per update (the bandwidth reference); 0 unless measured.
    pub memcmp_s: f64,
    /// Frame bytes compared by each of the three above (one frame per update).
    pub compared_bytes: u64,
    /// Wall-clock seconds of the `BenchSession::encode` calls.
    pub wall_s: f64,
}

impl PlannerResult {
    /// PSNR (dB) of the mean squared error over every update's whole frame (exact
    /// updates count as error 0); infinite when every update was exact.
    pub fn psnr_db(&self) -> f64 {
        if self.updates == 0 || self.mse_sum == 0.0 {
            return f64::INFINITY;
        }
        let mse = self.mse_sum / self.updates as f64;
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }

    /// Arithmetic mean of the PSNR (dB) of the inexact updates; infinite if none.
    pub fn mean_lossy_psnr_db(&self) -> f64 {
        let n = self.updates - self.exact_updates;
        if n == 0 {
            f64::INFINITY
        } else {
            self.psnr_sum / n as f64
        }
    }
}

/// How [`replay_planner`] runs: which updates, what else it measures, how the planner
/// works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerOptions {
    /// Stop after this many updates (all when `None`).
    pub max_updates: Option<u64>,
    /// Also time [`rfb_codec::damage::DamageTracker::refine`] against memcmp (the
    /// `damage_*` and `memcmp_s` fields).
    pub damage: bool,
    /// Threads the planner encodes on (`UpdatePlanner::set_threads`); 1 = the caller's.
    pub threads: usize,
    /// Narrow the recording's changed rectangles to the pixels that really changed
    /// before encoding, then widen them to a `grid`-pixel grid, as rfb-server's
    /// sessions do (a `DamageTracker` that knows the recording's CopyRects, the recorded
    /// region as hint, move detection off). The damage pass is timed as part of
    /// `cpu_s`. `None`: encode the recorded rectangles as they are (as encperf does).
    pub exact_damage: Option<u16>,
}

impl Default for PlannerOptions {
    fn default() -> Self {
        PlannerOptions {
            max_updates: None,
            damage: true,
            threads: 1,
            exact_damage: None,
        }
    }
}

/// Replays `path` and encodes each update with our update planner
/// ([`rfb_codec::planner::BenchSession`]) for a viewer asking for `profile`: the
/// recording's Raw rectangles form the changed region, its CopyRects become moves. Only
/// `encode` (and with [`PlannerOptions::exact_damage`] the damage pass before it) is
/// timed for `cpu_s`; the update is then decoded into the session's client
/// framebuffer (timed separately as `decode_cpu_s`) and compared with the replayed
/// frame: lossless profiles (`Tight` without quality, `Zrle`, `Hextile`) must match
/// exactly after every update (else an error), lossy ones record the PSNR.
///
/// With [`PlannerOptions::damage`], every replayed frame is also fed to a
/// [`rfb_codec::damage::DamageTracker`] (whole screen as hint, move detection off) and
/// timed against memcmp (see [`PlannerResult`]). With more than one thread `cpu_s` is
/// the process's CPU time during the encode calls (every thread's), not the calling
/// thread's.
pub fn replay_planner(
    path: &Path,
    profile: rfb_codec::planner::Profile,
    opts: PlannerOptions,
) -> Result<PlannerResult> {
    use rfb_codec::damage::{DamageTracker, Move};
    use rfb_codec::planner::{BenchSession, Profile};
    use rfb_codec::{Framebuffer, Region};

    let lossless = matches!(
        profile,
        Profile::Tight { quality: None, .. } | Profile::Zrle { .. } | Profile::Hextile
    );
    let info = corpus_info(path)?;
    let mut reader = UpdateReader::open(path)?;
    let mut fb = Framebuffer::new(info.width, info.height, CORPUS_FORMAT);
    let PlannerOptions {
        max_updates,
        damage,
        threads,
        exact_damage,
    } = opts;
    let mut s = BenchSession::new(&fb, profile)?;
    s.set_threads(threads);
    let cpu_now = if threads > 1 {
        process_cpu_seconds
    } else {
        thread_cpu_seconds
    };
    let mut tracker = if damage {
        let mut t = DamageTracker::new(&fb);
        t.set_detect_moves(false);
        Some(t)
    } else {
        None
    };
    // Two identical copies of the previous frame for the memcmp reference.
    let (mut prev_a, mut prev_b) = if damage {
        (fb.data().to_vec(), fb.data().to_vec())
    } else {
        (Vec::new(), Vec::new())
    };
    let mut exact = exact_damage.map(|grid| {
        let mut t = DamageTracker::new(&fb);
        t.set_detect_moves(false);
        (t, grid)
    });
    let whole = Region::from(fb.rect());
    let mut up = Update::default();
    let mut moves: Vec<Move> = Vec::new();
    let mut res = PlannerResult::default();
    while reader.next_update(&mut up)? {
        if max_updates.is_some_and(|m| res.updates >= m) {
            break;
        }
        res.updates += 1;
        let mut region = Region::new();
        moves.clear();
        res.raw_bytes += 4;
        for r in &up.rects {
            match *r {
                CorpusRect::Raw { rect, offset } => {
                    fb.put_pixels(rect, raw_pixels(&up, rect, offset))?;
                    region.add_rect(rect);
                    res.raw_bytes += 12 + rect.area() * 4;
                    res.pixels += rect.area();
                }
                CorpusRect::Copy { rect, src_x, src_y } => {
                    let src = Rect::new(src_x, src_y, rect.width, rect.height);
                    fb.copy_within(src, rect.x, rect.y)?;
                    moves.push(Move {
                        dst: rect,
                        src_x,
                        src_y,
                    });
                }
            }
        }
        let (t0, w0) = (cpu_now(), std::time::Instant::now());
        if let Some((t, grid)) = exact.as_mut() {
            for m in &moves {
                let src = Rect::new(m.src_x, m.src_y, m.dst.width, m.dst.height);
                t.apply_move(src, m.dst.x, m.dst.y)?;
            }
            region = t
                .refine(&fb, &region)?
                .changed
                .align_to(*grid)
                .clip(fb.rect());
        }
        res.encoded_pixels += region.area();
        let out = s.encode(&fb, &region, &moves)?;
        res.cpu_s += cpu_now() - t0;
        res.wall_s += w0.elapsed().as_secs_f64();
        let copies = 16 * moves.len();
        res.bytes += out.len().saturating_sub(copies) as u64;
        if out.len() >= 4 {
            let count = u64::from(u16::from_be_bytes([out[2], out[3]]));
            // The header's count (the planner writes 65535 + LastRect only past 65534
            // rectangles, which no corpus update reaches).
            res.rects += count.saturating_sub(moves.len() as u64);
        }
        let t0 = thread_cpu_seconds();
        s.apply(&out)?;
        res.decode_cpu_s += thread_cpu_seconds() - t0;
        if s.mirror().data() == fb.data() {
            res.exact_updates += 1;
        } else if lossless {
            bail!(
                "{profile:?}: decoded framebuffer differs after update {}",
                res.updates
            );
        } else {
            let p = s.psnr(&fb);
            res.psnr_sum += p;
            res.mse_sum += 255.0 * 255.0 / 10f64.powf(p / 10.0);
        }
        if let Some(t) = tracker.as_mut() {
            let t0 = thread_cpu_seconds();
            let d = t.refine(&fb, &whole)?;
            res.damage_s += thread_cpu_seconds() - t0;
            std::hint::black_box(&d);
            let t0 = thread_cpu_seconds();
            let d = t.refine(&fb, &whole)?;
            res.damage_same_s += thread_cpu_seconds() - t0;
            if !d.changed.is_empty() {
                bail!("damage: a second refine of the same frame found changes");
            }
            let t0 = thread_cpu_seconds();
            let same =
                std::hint::black_box(prev_a.as_slice()) == std::hint::black_box(prev_b.as_slice());
            res.memcmp_s += thread_cpu_seconds() - t0;
            if !same {
                bail!("memcmp reference: copies differ");
            }
            res.compared_bytes += fb.data().len() as u64;
            prev_a.copy_from_slice(fb.data());
            prev_b.copy_from_slice(fb.data());
        }
    }
    Ok(res)
}
