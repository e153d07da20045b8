//! Reading the recordings of the shared corpus (`NAME.rfb.zst`, `NAME.times.tsv`,
//! `manifest.json`) for `rfb-replay`.
//!
//! A recording is the zstd-compressed server-to-client RFB stream after ServerInit: a
//! sequence of FramebufferUpdates whose rectangles are Raw or CopyRect, in RGB888. A
//! [`Player`] decompresses it incrementally (never the whole file in memory), walks it
//! with [`rfb_proto::stream::ServerStream`] and applies each update to a
//! [`Framebuffer`], reporting what the update painted and moved so the server can hand
//! the Session a damage hint and CopyRect moves.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rfb_codec::{Framebuffer, Region};
use rfb_proto::stream::{BasicFramer, ServerItem, ServerStream};
use rfb_proto::{Encoding, Limits, PixelFormat, Progress, Rect};
use rfb_server::CopyMove;

/// Bytes decompressed at a time.
const CHUNK: usize = 1 << 20;
/// Most [`Push`]es one update is cut into: each costs a frame copy, so an update with
/// more CopyRects than this becomes one push whose damage covers everything it touched
/// (the moved areas then travel as pixels, not as CopyRect).
pub const MAX_PUSHES: usize = 4;

/// Screen size and pixel format of a recording, from the `manifest.json` beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Screen width.
    pub width: u16,
    /// Screen height.
    pub height: u16,
    /// The pixel format's name (`rgb888` is the only one the corpus uses).
    pub format: String,
}

/// Finds the entry for `file_name` in the text of a corpus `manifest.json`.
///
/// The manifest is a list of flat objects; this reads the `width`, `height` and `format`
/// fields that follow the object's `"name": "FILE"` (before the next object's name).
///
/// ```
/// use rfb_examples::replay::manifest_entry;
/// let text = r#"{"files": [{"name": "a.rfb.zst", "width": 8, "height": 4, "format": "rgb888"},
///                          {"name": "b.rfb.zst", "width": 16, "height": 2, "format": "rgb888"}]}"#;
/// let e = manifest_entry(text, "b.rfb.zst").unwrap().unwrap();
/// assert_eq!((e.width, e.height, e.format.as_str()), (16, 2, "rgb888"));
/// assert!(manifest_entry(text, "c.rfb.zst").unwrap().is_none());
/// ```
pub fn manifest_entry(text: &str, file_name: &str) -> Result<Option<ManifestEntry>> {
    let needle = format!("\"{file_name}\"");
    let mut at = None;
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let i = from + i;
        // Must be the value of a "name" key.
        let before = text[..i].trim_end();
        if before.ends_with(':') && before[..before.len() - 1].trim_end().ends_with("\"name\"") {
            at = Some(i + needle.len());
            break;
        }
        from = i + needle.len();
    }
    let Some(start) = at else { return Ok(None) };
    let end = text[start..]
        .find("\"name\"")
        .map_or(text.len(), |e| start + e);
    let object = &text[start..end];
    let field = |key: &str| -> Option<&str> {
        let k = format!("\"{key}\"");
        let i = object.find(&k)? + k.len();
        let rest = object[i..].trim_start().strip_prefix(':')?.trim_start();
        if let Some(q) = rest.strip_prefix('"') {
            q.find('"').map(|e| &q[..e])
        } else {
            let e = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            Some(&rest[..e])
        }
    };
    let number = |key: &str| -> Result<u16> {
        field(key)
            .with_context(|| format!("manifest entry for {file_name} has no {key}"))?
            .parse()
            .with_context(|| format!("manifest entry for {file_name}: bad {key}"))
    };
    Ok(Some(ManifestEntry {
        width: number("width")?,
        height: number("height")?,
        format: field("format").unwrap_or("rgb888").to_owned(),
    }))
}

/// The `manifest.json` entry for the recording at `path` (from the file beside it), if
/// the manifest exists and lists it.
pub fn manifest_for(path: &Path) -> Result<Option<ManifestEntry>> {
    let manifest = path.with_file_name("manifest.json");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return Ok(None);
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("recording path has no file name")?;
    manifest_entry(&text, name)
}

/// The `.times.tsv` beside `path` (`NAME.rfb.zst` → `NAME.times.tsv`).
pub fn times_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".rfb.zst")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(name);
    path.with_file_name(format!("{stem}.times.tsv"))
}

/// Parses a `.times.tsv`: the first column of each line, seconds since the first update.
///
/// ```
/// let t = rfb_examples::replay::parse_times("0.0000\t0\t17\n0.5711\t3686608\t11\n").unwrap();
/// assert_eq!(t, vec![0.0, 0.5711]);
/// ```
pub fn parse_times(text: &str) -> Result<Vec<f64>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let first = l.split('\t').next().unwrap_or("");
            first
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite() && *t >= 0.0)
                .with_context(|| format!("times line {}: bad seconds {first:?}", i + 1))
        })
        .collect()
}

/// A frame to hand to the server, with what changed since the previous one: first
/// `mv` (a CopyRect), then the pixels in `damage`.
#[derive(Debug, Clone)]
pub struct Push {
    /// The frame after the changes.
    pub frame: Framebuffer,
    /// A move that happened first, if any.
    pub mv: Option<CopyMove>,
    /// The painted area (after the move).
    pub damage: Region,
}

/// One applied FramebufferUpdate.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// Rectangles in it.
    pub rects: usize,
    /// CopyRect rectangles among them.
    pub moves: usize,
    /// The frames to hand over, in order (empty unless asked for): one per CopyRect
    /// that starts a group, so each push has at most one move, first.
    pub pushes: Vec<Push>,
}

/// Plays a recording: decompresses the stream incrementally and applies one
/// FramebufferUpdate at a time to a framebuffer.
///
/// ```no_run
/// use rfb_examples::replay::Player;
/// let mut p = Player::open("terminal-1280x720.rfb.zst".as_ref(), 1280, 720)?;
/// while let Some(update) = p.next_update(false)? {
///     println!("update {} with {} rects", p.updates(), update.rects);
/// }
/// let last_frame = p.frame();
/// # let _ = last_frame; Ok::<(), anyhow::Error>(())
/// ```
pub struct Player {
    source: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    stream: ServerStream,
    frame: Framebuffer,
    updates: u64,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

impl Player {
    /// Opens `path` (zstd) for a `width` x `height` RGB888 screen.
    pub fn open(path: &Path, width: u16, height: u16) -> Result<Player> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let decoder = ruzstd::decoding::StreamingDecoder::new(BufReader::new(file))
            .map_err(|e| anyhow::anyhow!("{}: not a zstd file: {e}", path.display()))?;
        Ok(Player::from_reader(Box::new(decoder), width, height))
    }

    /// A player over an already decompressed stream.
    pub fn from_reader(source: Box<dyn Read + Send>, width: u16, height: u16) -> Player {
        let limits = Limits {
            max_framebuffer_width: width.max(1),
            max_framebuffer_height: height.max(1),
            ..Limits::default()
        };
        Player {
            source,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            stream: ServerStream::new(PixelFormat::RGB888, limits),
            frame: Framebuffer::new(width, height, PixelFormat::RGB888),
            updates: 0,
        }
    }

    /// The framebuffer after the updates applied so far.
    pub fn frame(&self) -> &Framebuffer {
        &self.frame
    }

    /// How many updates have been applied.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Reads more decompressed bytes; false at the end of the stream.
    fn fill(&mut self, at_least: usize) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let want = at_least.max(CHUNK);
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        let mut got = 0;
        while got < want {
            let n = self.source.read(&mut self.buf[old + got..])?;
            if n == 0 {
                self.eof = true;
                break;
            }
            got += n;
            if got >= at_least {
                break;
            }
        }
        self.buf.truncate(old + got);
        Ok(got > 0)
    }

    /// Applies the next FramebufferUpdate, or returns `None` at the end of the
    /// recording. With `pushes`, the update is also cut into [`Push`]es for a server
    /// Session (a frame is cloned at each CopyRect that follows other rectangles; at
    /// most [`MAX_PUSHES`], else one push for the whole update).
    /// Messages other than updates (the corpus has none) are skipped.
    pub fn next_update(&mut self, pushes: bool) -> Result<Option<Update>> {
        let mut update = Update::default();
        let mut mv: Option<CopyMove> = None;
        let mut damage = Region::new();
        // Everything the update touched (paints and move destinations), for the
        // single-push fallback.
        let mut touched = Region::new();
        let mut fallback = false;
        let mut started = false;
        loop {
            let progress = self
                .stream
                .next(&self.buf[self.pos..], &mut BasicFramer)
                .map_err(|e| anyhow::anyhow!("recording update {}: {e}", self.updates))?;
            let (item, consumed) = match progress {
                Progress::NeedMore { at_least } => {
                    let have = self.buf.len() - self.pos;
                    if !self.fill(at_least.saturating_sub(have))? {
                        if started || have > 0 {
                            bail!(
                                "recording ends inside update {} ({have} bytes left)",
                                self.updates
                            );
                        }
                        return Ok(None);
                    }
                    continue;
                }
                Progress::Done { item, consumed } => (item, consumed),
            };
            let n = self.updates;
            match item {
                ServerItem::UpdateStart { .. } => started = true,
                ServerItem::Rect { header, payload } => {
                    let r = header.rect;
                    update.rects += 1;
                    if header.encoding == Encoding::RAW {
                        self.frame
                            .put_pixels(r, payload)
                            .map_err(|e| anyhow::anyhow!("update {n}: {e}"))?;
                        damage.add_rect(r);
                        touched.add_rect(r);
                    } else if header.encoding == Encoding::COPY_RECT {
                        let &[a, b, c, d] = payload else {
                            bail!("update {n}: CopyRect payload of {} bytes", payload.len());
                        };
                        let src = Rect::new(
                            u16::from_be_bytes([a, b]),
                            u16::from_be_bytes([c, d]),
                            r.width,
                            r.height,
                        );
                        update.moves += 1;
                        touched.add_rect(r);
                        if update.pushes.len() + 1 >= MAX_PUSHES {
                            fallback = true;
                            update.pushes.clear();
                        }
                        if pushes && !fallback && (mv.is_some() || !damage.is_empty()) {
                            update.pushes.push(Push {
                                frame: self.frame.clone(),
                                mv: mv.take(),
                                damage: std::mem::take(&mut damage),
                            });
                        }
                        self.frame
                            .copy_within(src, r.x, r.y)
                            .map_err(|e| anyhow::anyhow!("update {n}: {e}"))?;
                        mv = Some(CopyMove {
                            src,
                            dst_x: r.x,
                            dst_y: r.y,
                        });
                    } else {
                        bail!(
                            "update {n}: encoding {} is not Raw or CopyRect",
                            header.encoding.0
                        );
                    }
                }
                ServerItem::UpdateEnd => {
                    self.pos += consumed;
                    self.updates += 1;
                    if pushes && fallback {
                        update.pushes.push(Push {
                            frame: self.frame.clone(),
                            mv: None,
                            damage: touched,
                        });
                    } else if pushes && (mv.is_some() || !damage.is_empty()) {
                        update.pushes.push(Push {
                            frame: self.frame.clone(),
                            mv,
                            damage,
                        });
                    }
                    return Ok(Some(update));
                }
                ServerItem::Message(_) => {}
            }
            self.pos += consumed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FramebufferUpdate header (RFC 6143 §7.6.1): type 0, padding, rect count.
    fn update(rects: u16) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&rects.to_be_bytes());
        v
    }

    /// A rectangle header: x, y, w, h (u16), encoding (s32).
    fn rect(v: &mut Vec<u8>, x: u16, y: u16, w: u16, h: u16, enc: i32) {
        for n in [x, y, w, h] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v.extend_from_slice(&enc.to_be_bytes());
    }

    #[test]
    fn raw_then_copyrect_is_cut_into_two_pushes() {
        // Update 1: a 2x1 Raw rect at (0,0), B G R X pixels.
        let mut s = update(1);
        rect(&mut s, 0, 0, 2, 1, 0);
        s.extend_from_slice(&[1, 2, 3, 0, 4, 5, 6, 0]);
        // Update 2: Raw at (3,1), then CopyRect of (0,0) 2x1 to (2,0), then Raw at (0,1).
        s.extend(update(3));
        rect(&mut s, 3, 1, 1, 1, 0);
        s.extend_from_slice(&[9, 9, 9, 0]);
        rect(&mut s, 2, 0, 2, 1, 1);
        s.extend_from_slice(&[0, 0, 0, 0]);
        rect(&mut s, 0, 1, 1, 1, 0);
        s.extend_from_slice(&[7, 7, 7, 0]);
        let mut p = Player::from_reader(Box::new(std::io::Cursor::new(s)), 4, 2);

        let u = p.next_update(true).unwrap().unwrap();
        assert_eq!((u.rects, u.moves, u.pushes.len()), (1, 0, 1));
        assert_eq!(
            u.pushes[0].damage.bounding_box(),
            Some(Rect::new(0, 0, 2, 1))
        );

        let u = p.next_update(true).unwrap().unwrap();
        assert_eq!((u.rects, u.moves, u.pushes.len()), (3, 1, 2));
        // The Raw before the move is handed over first, without the move.
        assert_eq!(u.pushes[0].mv, None);
        assert_eq!(u.pushes[0].frame.row(0)[8..16], [0; 8]);
        let mv = u.pushes[1].mv.unwrap();
        assert_eq!((mv.src, mv.dst_x, mv.dst_y), (Rect::new(0, 0, 2, 1), 2, 0));
        assert_eq!(
            u.pushes[1].damage.bounding_box(),
            Some(Rect::new(0, 1, 1, 1))
        );
        assert_eq!(p.frame().row(0)[8..16], [1, 2, 3, 0, 4, 5, 6, 0]);
        assert_eq!(p.frame().row(1)[..4], [7, 7, 7, 0]);
        assert_eq!(p.frame().row(1)[12..16], [9, 9, 9, 0]);
        assert!(p.next_update(true).unwrap().is_none());
        assert_eq!(p.updates(), 2);
    }

    #[test]
    fn many_moves_become_one_push_covering_everything() {
        let mut s = update(1);
        rect(&mut s, 0, 0, 1, 1, 0);
        s.extend_from_slice(&[5, 5, 5, 0]);
        let moves = u16::try_from(MAX_PUSHES).unwrap() + 1;
        s.extend(update(moves));
        for i in 0..moves {
            // Copy the pixel at (i, 0) to (i + 1, 0): the pixel spreads right.
            rect(&mut s, i + 1, 0, 1, 1, 1);
            s.extend_from_slice(&[0, i as u8, 0, 0]);
        }
        let w = moves + 1;
        let mut p = Player::from_reader(Box::new(std::io::Cursor::new(s)), w, 1);
        p.next_update(true).unwrap().unwrap();
        let u = p.next_update(true).unwrap().unwrap();
        assert_eq!(u.pushes.len(), 1);
        assert_eq!(u.pushes[0].mv, None);
        assert_eq!(
            u.pushes[0].damage.bounding_box(),
            Some(Rect::new(1, 0, moves, 1))
        );
        assert!(p.frame().data().chunks(4).all(|px| px == [5, 5, 5, 0]));
    }

    #[test]
    fn truncated_or_foreign_streams_are_errors() {
        let mut s = update(1);
        rect(&mut s, 0, 0, 2, 1, 0);
        s.extend_from_slice(&[1, 2, 3]);
        let mut p = Player::from_reader(Box::new(std::io::Cursor::new(s)), 4, 2);
        assert!(p.next_update(false).is_err());

        let mut s = update(1);
        rect(&mut s, 0, 0, 2, 1, 5); // Hextile: not in the corpus format
        let mut p = Player::from_reader(Box::new(std::io::Cursor::new(s)), 4, 2);
        assert!(p.next_update(false).is_err());

        let mut s = update(1);
        rect(&mut s, 0, 0, 8, 1, 0); // wider than the screen
        s.extend_from_slice(&[0; 32]);
        let mut p = Player::from_reader(Box::new(std::io::Cursor::new(s)), 4, 2);
        assert!(p.next_update(false).is_err());
    }

    #[test]
    fn times_path_sits_beside_the_recording() {
        assert_eq!(
            times_path(Path::new("/c/web-1920x1080.rfb.zst")),
            Path::new("/c/web-1920x1080.times.tsv")
        );
        assert!(parse_times("x\t0\t1\n").is_err());
    }
}
