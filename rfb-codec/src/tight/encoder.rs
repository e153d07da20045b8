//! Tight encoder.

use bytes::BytesMut;
use flate2::{Compress, Compression, FlushCompress};
use rfb_proto::Encoding;

use crate::{CodecError, PixelView, RectEncoder};

use super::filters::gradient_encode;
use super::{
    jpeg, rgb_capable, write_compact_len, TpixelFormat, FILL, FILTER_GRADIENT, FILTER_PALETTE,
    JPEG, MAX_COMPACT_LEN, MAX_RECT_PIXELS, MAX_WIDTH, MIN_TO_COMPRESS, READ_FILTER,
};

/// zlib stream (lane) of full-colour copy-filtered data.
const LANE_FULL: usize = 0;
/// zlib stream of two-colour bitmaps.
const LANE_MONO: usize = 1;
/// zlib stream of 8-bit palette indices.
const LANE_INDEXED: usize = 2;
/// zlib stream of gradient-filtered data.
const LANE_GRADIENT: usize = 3;

/// zlib level of the full-colour (copy filter) lane per compress level 0..=9. Two
/// levels above the gradient lane's from level 2: since busy text and UI go full colour
/// (see [`PALETTE_AREA_DIVISOR`]) this lane carries much of a desktop, and zlib-rs's
/// level 4 finds the repeated glyph strings its level 2 misses. Measured on the corpus,
/// lossless, compress 2, level 4 against 2: terminal −5.7 %, office −9.3 %, web −4.8 %,
/// windows −3.3 %, photos −1.8 %, video ±0 % bytes, for ≈ 10–20 % more encode CPU on
/// the text-heavy recordings (noisy machine).
const FULL_ZLIB_LEVEL: [u32; 10] = [0, 1, 4, 5, 6, 7, 8, 9, 9, 9];
/// zlib level of the gradient lane per compress level: filtered photo data, speed
/// first.
const GRADIENT_ZLIB_LEVEL: [u32; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
/// zlib level of the bitmap and indexed lanes per compress level: one byte or bit per
/// pixel is cheap to deflate harder.
const INDEXED_ZLIB_LEVEL: [u32; 10] = [0, 1, 3, 4, 5, 6, 7, 8, 9, 9];

/// JPEG quality and chroma subsampling per quality level 0..=9. The same steps as
/// TigerVNC and TurboVNC use, so a viewer's "quality 8" means the same picture.
const JPEG_LEVELS: [(u8, Subsampling); 10] = [
    (15, Subsampling::Chroma4x),
    (29, Subsampling::Chroma4x),
    (41, Subsampling::Chroma4x),
    (42, Subsampling::Chroma2x),
    (62, Subsampling::Chroma2x),
    (77, Subsampling::Chroma2x),
    (79, Subsampling::None),
    (86, Subsampling::None),
    (92, Subsampling::None),
    (100, Subsampling::None),
];

/// Smallest rectangle (pixels) sent as JPEG: below it the JFIF headers and tables
/// (about 600 bytes) outweigh what JPEG saves.
const JPEG_MIN_PIXELS: u64 = 1024;

/// A full-colour rectangle (more than 256 colours) goes to JPEG, when allowed, unless
/// more than this share (per mille) of its pixels equal their left neighbour: mostly-flat
/// UI with a few images deflates better losslessly; anything busier is photo-like.
const JPEG_MAX_EQUAL_LEFT_PERMILLE: u64 = 900;

/// ... and when it has at least this many colours (UI gradients and icons have fewer;
/// photos and video have more).
const JPEG_MIN_COLOURS: usize = 1024;

/// The gradient filter is used (in [`GradientMode::Auto`]) on full-colour rectangles
/// where fewer than this share (per mille) of pixels equal their left neighbour:
/// smooth photo-like content, where prediction beats deflate's string matching.
const GRADIENT_MAX_EQUAL_LEFT_PERMILLE: u64 = 500;
/// ... and at least this many colours: web pages' antialiased text passes the
/// equal-left test but compresses better without the filter. Measured on the corpus,
/// lossless, compress 2: web −2.6 % bytes with 512 (1024 the same), photos and video
/// unchanged (±0.1 %), windows +0.3 %.
const GRADIENT_MIN_COLOURS: usize = 512;

/// Most colours of an indexed (palette) rectangle.
const MAX_PALETTE: usize = 256;
/// A palette is used only for rectangles with at most `area / PALETTE_AREA_DIVISOR`
/// colours (and at most [`MAX_PALETTE`]); busier ones go full colour. The palette is
/// sent raw (3 bytes a colour) and a rectangle's indices follow its own order of first
/// appearance, so they repeat less across rectangles than the colours themselves, which
/// the full-colour lane's zlib history matches. Measured on the corpus, lossless,
/// compress level 2, bytes against divisor 2 (the first rule: fewer colours than half
/// the pixels): terminal −16 %, office −17 %, windows −5 %, web +3.6 %; divisors 8 and
/// 16 lie between. TigerVNC's EncodeManager uses `area / (8 × compress level)` (16 at
/// level 2); 32 was better than 16 at levels 1, 2 and 6 on terminal and office.
const PALETTE_AREA_DIVISOR: u64 = 32;
/// At compress level 0 (no deflate) the indices are a third of the full-colour bytes.
const PALETTE_AREA_DIVISOR_STORED: u64 = 2;

/// Chroma subsampling of JPEG rectangles (TurboVNC's subsampling pseudo-encodings,
/// -768..=-763).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subsampling {
    /// 1X: no subsampling (4:4:4).
    None,
    /// 4X: 4:2:0.
    Chroma4x,
    /// 2X: 4:2:2.
    Chroma2x,
    /// Greyscale: chroma dropped.
    Gray,
    /// 8X: sent as 4:2:0 (4X) for now; see the note in the module source.
    Chroma8x,
    /// 16X: sent as 4:2:0 (4X) for now.
    Chroma16x,
}

impl Subsampling {
    /// The subsampling of TurboVNC level `level` (0 = 1X, 1 = 4X, 2 = 2X, 3 = grey,
    /// 4 = 8X, 5 = 16X), as `Encoding::subsampling` returns it.
    pub fn from_level(level: u8) -> Option<Subsampling> {
        Some(match level {
            0 => Subsampling::None,
            1 => Subsampling::Chroma4x,
            2 => Subsampling::Chroma2x,
            3 => Subsampling::Gray,
            4 => Subsampling::Chroma8x,
            5 => Subsampling::Chroma16x,
            _ => return None,
        })
    }
}

/// JPEG settings of a Tight encoder.
///
/// ```
/// use rfb_codec::tight::{JpegSettings, Subsampling};
/// let s = JpegSettings::from_level(8);
/// assert_eq!((s.quality, s.subsampling), (92, Subsampling::None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegSettings {
    /// JPEG quality 1..=100 (0 is treated as 1).
    pub quality: u8,
    /// Chroma subsampling.
    pub subsampling: Subsampling,
}

impl JpegSettings {
    /// The settings of quality level `level` 0..=9 (above 9 means 9): JPEG quality 15, 29,
    /// 41, 42, 62, 77, 79, 86, 92, 100, with 4:2:0 for 0..=2, 4:2:2 for 3..=5 and no
    /// subsampling from 6.
    pub fn from_level(level: u8) -> JpegSettings {
        let (quality, subsampling) = JPEG_LEVELS[usize::from(level.min(9))];
        JpegSettings {
            quality,
            subsampling,
        }
    }
}

/// When the encoder uses the gradient filter on full-colour lossless rectangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
///
/// The default is [`GradientMode::Never`]: noVNC (1.3, checked) does not implement the
/// gradient filter and drops the connection on it; libvncclient and TigerVNC's viewer
/// decode it exactly (checked). Turn it on for viewers known to support it: it makes
/// photo-like content markedly smaller losslessly (measured on the photos recording:
/// ratio 3.7 against 2.5 without).
pub enum GradientMode {
    /// Never (copy filter only, as TigerVNC's encoder does). The default.
    #[default]
    Never,
    /// On photo-like rectangles (few pixels equal to their left neighbour), where the
    /// filter makes smooth content compress better; copy filter elsewhere.
    Auto,
    /// On every full-colour rectangle of a 16- or 32-bit true-colour format.
    Always,
}

/// How a [`TightEncoder`] encodes.
///
/// ```
/// use rfb_codec::tight::{Subsampling, TightConfig};
/// use rfb_codec::PixelFormat;
/// use rfb_proto::Encoding;
/// let cfg = TightConfig::from_encodings(&[
///     Encoding::TIGHT,
///     Encoding::for_quality_level(8),
///     Encoding::for_compress_level(2),
///     Encoding::JPEG_SUBSAMPLING_4X,
/// ]);
/// assert_eq!(cfg.compress_level, 2);
/// let jpeg = cfg.jpeg.unwrap();
/// assert_eq!((jpeg.quality, jpeg.subsampling), (92, Subsampling::Chroma4x));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TightConfig {
    /// Tight compress level 0..=9 (above 9 means 9), mapped to zlib levels per lane.
    /// Default 2 (TigerVNC's default).
    pub compress_level: u8,
    /// JPEG for photo-like full-colour rectangles, or `None` for lossless only (the
    /// default). Used only with true-colour formats of 16 or 32 bits per pixel.
    pub jpeg: Option<JpegSettings>,
    /// Gradient filter use. Default [`GradientMode::Never`] (see there).
    pub gradient: GradientMode,
}

impl Default for TightConfig {
    fn default() -> Self {
        TightConfig {
            compress_level: 2,
            jpeg: None,
            gradient: GradientMode::Never,
        }
    }
}

impl TightConfig {
    /// The configuration a client asks for with its SetEncodings list: the first
    /// compress level, the first JPEG quality level (enables JPEG), a TurboVNC fine
    /// quality (enables JPEG, overrides the level's quality) and subsampling (overrides
    /// the level's subsampling). Without a quality level or fine quality, lossless.
    pub fn from_encodings(encodings: &[Encoding]) -> TightConfig {
        let mut cfg = TightConfig::default();
        let find = |f: fn(Encoding) -> Option<u8>| encodings.iter().find_map(|e| f(*e));
        if let Some(c) = find(Encoding::compress_level) {
            cfg.compress_level = c.min(9);
        }
        let level = find(Encoding::quality_level);
        let fine = find(Encoding::fine_quality);
        let sub = find(Encoding::subsampling).and_then(Subsampling::from_level);
        if level.is_some() || fine.is_some() {
            let mut j = JpegSettings::from_level(level.unwrap_or(8));
            if let Some(q) = fine {
                j.quality = q.clamp(1, 100);
            }
            if let Some(s) = sub {
                j.subsampling = s;
            }
            cfg.jpeg = Some(j);
        }
        cfg
    }
}

/// The sub-encoding the encoder chose for a rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TightMethod {
    /// One colour.
    Fill,
    /// Two colours, 1-bit indices (lane 1).
    Mono,
    /// Up to 256 colours, 8-bit indices (lane 2).
    Indexed,
    /// Full colour, copy filter (lane 0).
    FullColour,
    /// Full colour, gradient filter (lane 3).
    Gradient,
    /// JPEG.
    Jpeg,
}

/// How busy (photo-like) a full-colour rectangle is.
#[derive(Debug, Clone, Copy)]
struct Busy {
    /// Busy enough for JPEG.
    jpeg: bool,
    /// Busy enough for the gradient filter.
    gradient: bool,
}

/// Colours of a rectangle, gathered in one pass.
struct Colours {
    /// Distinct pixel keys in order of appearance, while at most `max` of them.
    keys: Vec<u32>,
    /// Open-addressing table: index + 1 into `keys`, 0 = empty.
    table: Vec<u16>,
    /// Pixels equal to their left neighbour (photo detection).
    equal_left: u64,
    /// More than `max` colours were seen.
    overflow: bool,
    /// After an overflow: distinct colours counted up to [`JPEG_MIN_COLOURS`], in an
    /// open-addressing set (`key | 1 << 32`, 0 = empty).
    many: Vec<u64>,
    many_count: usize,
    /// Whether to count colours past an overflow at all (only JPEG needs the count).
    count_past_overflow: bool,
    /// Slots of `many` in use (at most [`JPEG_MIN_COLOURS`]).
    many_used: Vec<u16>,
    /// Slots of `table` in use (cleared one by one: cheaper than the whole table for
    /// the small rectangles most updates are made of).
    used: Vec<u16>,
}

const TABLE_BITS: u32 = 10;
const MANY_BITS: u32 = 12;

impl Colours {
    fn new() -> Colours {
        Colours {
            keys: Vec::with_capacity(MAX_PALETTE),
            table: vec![0; 1 << TABLE_BITS],
            equal_left: 0,
            overflow: false,
            many: vec![0; 1 << MANY_BITS],
            many_count: 0,
            count_past_overflow: true,
            used: Vec::with_capacity(MAX_PALETTE),
            many_used: Vec::new(),
        }
    }

    /// Counts `key` among the colours of an overflowed rectangle (up to
    /// [`JPEG_MIN_COLOURS`]).
    fn count_many(&mut self, key: u32) {
        if self.many_count >= JPEG_MIN_COLOURS || !self.count_past_overflow {
            return;
        }
        let mask = (1usize << MANY_BITS) - 1;
        let tagged = u64::from(key) | 1 << 32;
        let mut slot = (key.wrapping_mul(0x9e37_79b1) >> (32 - MANY_BITS)) as usize;
        loop {
            match self.many[slot] {
                0 => {
                    self.many[slot] = tagged;
                    self.many_used.push(slot as u16);
                    self.many_count += 1;
                    return;
                }
                t if t == tagged => return,
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// Marks the overflow and seeds the big colour count with the palette.
    fn start_overflow(&mut self) {
        self.overflow = true;
        for i in 0..self.keys.len() {
            let k = self.keys[i];
            self.count_many(k);
        }
    }

    /// Empties the set for the next rectangle; `count_past_overflow` as for it.
    fn clear(&mut self, count_past_overflow: bool) {
        self.keys.clear();
        for &slot in &self.used {
            self.table[usize::from(slot)] = 0;
        }
        self.used.clear();
        self.equal_left = 0;
        self.overflow = false;
        for &slot in &self.many_used {
            self.many[usize::from(slot)] = 0;
        }
        self.many_used.clear();
        self.many_count = 0;
        self.count_past_overflow = count_past_overflow;
    }

    /// Index of `key`, inserting it; `None` once there are more than `max` colours.
    fn index(&mut self, key: u32, max: usize) -> Option<u8> {
        let mask = (1usize << TABLE_BITS) - 1;
        let mut slot = (key.wrapping_mul(0x9e37_79b1) >> (32 - TABLE_BITS)) as usize;
        loop {
            match self.table[slot] {
                0 => {
                    if self.keys.len() >= max {
                        self.start_overflow();
                        self.count_many(key);
                        return None;
                    }
                    self.keys.push(key);
                    self.table[slot] = self.keys.len() as u16;
                    self.used.push(slot as u16);
                    return Some((self.keys.len() - 1) as u8);
                }
                i if self.keys[usize::from(i) - 1] == key => return Some((i - 1) as u8),
                _ => slot = (slot + 1) & mask,
            }
        }
    }
}

/// Reads a pixel of `BPP` bytes as a key (byte order does not matter for a key).
#[inline(always)]
fn key<const BPP: usize>(px: &[u8]) -> u32 {
    match BPP {
        4 => u32::from_le_bytes([px[0], px[1], px[2], px[3]]),
        2 => u32::from(u16::from_le_bytes([px[0], px[1]])),
        _ => u32::from(px[0]),
    }
}

/// One pass over the pixels: colours (palette indices into `data` while at most `max`),
/// pixels equal to their left neighbour, and the colour count after an overflow.
///
/// With `jpeg_stop` (the rectangle goes to JPEG if it is photo-like), the pass stops
/// after the first row at which the JPEG test is already decided: more than `max`
/// colours, at least [`JPEG_MIN_COLOURS`], and so few pixels equal to their left
/// neighbour that the rows left cannot lift the share to
/// [`JPEG_MAX_EQUAL_LEFT_PERMILLE`]. `equal_left` is then a partial count (low).
fn scan<const BPP: usize>(
    pixels: &PixelView<'_>,
    mask: u32,
    max: usize,
    jpeg_stop: bool,
    colours: &mut Colours,
    data: &mut Vec<u8>,
) {
    let mut prev: Option<(u32, u8)> = None;
    let w = u64::from(pixels.width());
    let area = w * u64::from(pixels.height());
    let mut left = area;
    for row in pixels.rows() {
        if jpeg_stop
            && colours.overflow
            && colours.many_count >= JPEG_MIN_COLOURS
            && (colours.equal_left + left) * 1000 < area * JPEG_MAX_EQUAL_LEFT_PERMILLE
        {
            return;
        }
        left -= w;
        for px in row.chunks_exact(BPP) {
            let k = key::<BPP>(px) & mask;
            match prev {
                Some((pk, pi)) if pk == k => {
                    colours.equal_left += 1;
                    if !colours.overflow {
                        data.push(pi);
                    }
                }
                _ => {
                    if !colours.overflow {
                        match colours.index(k, max) {
                            Some(i) => {
                                data.push(i);
                                prev = Some((k, i));
                                continue;
                            }
                            None => data.clear(),
                        }
                    } else {
                        colours.count_many(k);
                    }
                    prev = Some((k, 0));
                }
            }
        }
    }
}

/// Tight encoder: four persistent deflate streams ("lanes"), JPEG, fills and palettes.
///
/// Per rectangle it counts colours once (up to 256) and picks: one colour → fill; two →
/// 1-bit bitmap; up to 256 (and at most one per 32 pixels, see the module notes) →
/// 8-bit indices; otherwise
/// JPEG when [`TightConfig::jpeg`] is set, the format allows it and the content is
/// photo-like, else full colour through zlib with the copy or gradient filter (see
/// [`GradientMode`]).
///
/// The caller must cut rectangles to at most [`MAX_WIDTH`] pixels wide and
/// [`MAX_RECT_PIXELS`] pixels (see [`super::split`]); larger ones give
/// [`CodecError::ApiMisuse`]. Changing the compress level with
/// [`TightEncoder::set_config`] restarts the lanes already used, and the next rectangle
/// carries their reset bits.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::tight::{TightConfig, TightDecoder, TightEncoder};
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
///
/// let mut src = Framebuffer::new(32, 16, PixelFormat::RGB888);
/// src.fill(Rect::new(4, 4, 10, 3), &[0x10, 0x20, 0x30, 0]).unwrap();
/// let mut enc = TightEncoder::new(TightConfig::default());
/// let mut wire = BytesMut::new();
/// enc.encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
///
/// let mut dst = Framebuffer::new(32, 16, PixelFormat::RGB888);
/// TightDecoder::new().decode(dst.rect(), &wire, &mut dst, &CodecLimits::default()).unwrap();
/// assert_eq!(dst, src);
/// ```
pub struct TightEncoder {
    config: TightConfig,
    lanes: [Option<Compress>; 4],
    /// Reset bits for the next rectangle.
    pending_resets: u8,
    last: Option<TightMethod>,
    scratch: Scratch,
}

/// Per-rectangle working memory of the classification and filtering step (one per
/// thread when rectangles are prepared in parallel).
#[derive(Default)]
pub(crate) struct Scratch {
    colours: Option<Box<Colours>>,
    /// Control byte (without reset bits) and the rest of the header.
    head: Vec<u8>,
    /// Filtered data of the rectangle (indices, TPIXELs, differences), or its final
    /// payload after the header.
    data: Vec<u8>,
    /// JPEG bytes.
    zbuf: Vec<u8>,
    /// The JPEG encoder, kept so its quantisation tables are computed once per quality,
    /// not once per rectangle.
    jpeg: crate::jpeg::JpegEncoder,
}

/// What [`prepare`] left in its [`Scratch`]: `head` is the header (control byte without
/// reset bits first), `data` either the final payload or the data to deflate on a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub(crate) method: TightMethod,
    /// `Some(lane)`: `data` is deflated on that zlib stream (its order matters);
    /// `None`: `data` is written as it is.
    pub(crate) lane: Option<usize>,
}

/// A rectangle prepared off the encoder (on another thread): header, payload or data for
/// a lane, owned.
#[derive(Debug)]
pub(crate) struct Owned {
    pub(crate) prepared: Prepared,
    pub(crate) head: Vec<u8>,
    pub(crate) data: Vec<u8>,
}

impl Scratch {
    /// Moves the prepared header and data out (for a rectangle written later).
    pub(crate) fn take(&mut self, prepared: Prepared) -> Owned {
        Owned {
            prepared,
            head: std::mem::take(&mut self.head),
            data: std::mem::take(&mut self.data),
        }
    }
}

impl std::fmt::Debug for TightEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TightEncoder")
            .field("config", &self.config)
            .field("pending_resets", &self.pending_resets)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl Default for TightEncoder {
    fn default() -> Self {
        TightEncoder::new(TightConfig::default())
    }
}

/// zlib level of `lane` at compress level `compress`.
fn zlib_level(compress: u8, lane: usize) -> u32 {
    let c = usize::from(compress.min(9));
    match lane {
        LANE_MONO | LANE_INDEXED => INDEXED_ZLIB_LEVEL[c],
        LANE_FULL => FULL_ZLIB_LEVEL[c],
        _ => GRADIENT_ZLIB_LEVEL[c],
    }
}

/// Deflates `data` on the stream `z` (started at `level` if not yet) with a sync flush
/// into `zbuf` (cleared first).
pub(crate) fn deflate_on(
    z: &mut Option<Compress>,
    level: u32,
    data: &[u8],
    zbuf: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let z = z.get_or_insert_with(|| Compress::new(Compression::new(level), true));
    zbuf.clear();
    zbuf.reserve(data.len() + data.len() / 1000 + 64);
    let mut input = data;
    loop {
        let before = z.total_in();
        z.compress_vec(input, zbuf, FlushCompress::Sync)
            .map_err(|e| CodecError::ApiMisuse {
                what: format!("deflate failed: {e}"),
            })?;
        input = &input[(z.total_in() - before) as usize..];
        // Done when all input is in and the flush fit (room left over).
        if input.is_empty() && zbuf.len() < zbuf.capacity() {
            break;
        }
        zbuf.reserve(zbuf.capacity().max(4096));
    }
    Ok(())
}

/// Appends the compact length of `body` and `body`.
pub(crate) fn put_with_len(body: &[u8], out: &mut BytesMut) -> Result<(), CodecError> {
    let mut len = Vec::with_capacity(3);
    write_compact_len(body.len(), &mut len)?;
    out.extend_from_slice(&len);
    out.extend_from_slice(body);
    Ok(())
}

impl TightEncoder {
    /// An encoder with fresh lanes.
    pub fn new(config: TightConfig) -> TightEncoder {
        TightEncoder {
            config: TightConfig {
                compress_level: config.compress_level.min(9),
                ..config
            },
            lanes: [None, None, None, None],
            pending_resets: 0,
            last: None,
            scratch: Scratch::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &TightConfig {
        &self.config
    }

    /// Changes the configuration. A new compress level restarts every lane already used
    /// (zlib cannot change the level of a running stream); the next rectangle tells the
    /// decoder to reset them.
    pub fn set_config(&mut self, config: TightConfig) {
        let config = TightConfig {
            compress_level: config.compress_level.min(9),
            ..config
        };
        if config.compress_level != self.config.compress_level {
            for (i, lane) in self.lanes.iter_mut().enumerate() {
                if lane.take().is_some() {
                    self.pending_resets |= 1 << i;
                }
            }
        }
        self.config = config;
    }

    /// Appends a fill rectangle's payload: every pixel is `pixel` (one pixel of `format`,
    /// the client's). Fills may be of any size up to [`MAX_WIDTH`] wide; the planner uses
    /// this for the large solid areas it finds.
    ///
    /// ```
    /// use rfb_codec::{tight::TightEncoder, PixelFormat};
    /// let mut out = bytes::BytesMut::new();
    /// TightEncoder::default().encode_fill(&[0x56, 0x34, 0x12, 0], &PixelFormat::RGB888, &mut out).unwrap();
    /// assert_eq!(&out[..], &[0x80, 0x12, 0x34, 0x56]);
    /// ```
    pub fn encode_fill(
        &mut self,
        pixel: &[u8],
        format: &rfb_proto::PixelFormat,
        out: &mut BytesMut,
    ) -> Result<(), CodecError> {
        let tf = TpixelFormat::new(format);
        let bpp = tf.pixel_bytes();
        if pixel.len() != bpp {
            return Err(CodecError::ApiMisuse {
                what: format!(
                    "fill pixel of {} bytes for {bpp} bytes per pixel",
                    pixel.len()
                ),
            });
        }
        let mut px = [0u8; 4];
        px[..bpp].copy_from_slice(pixel);
        let mut head = Vec::with_capacity(5);
        fill_head(&tf, u32::from_le_bytes(px), &mut head);
        out.extend_from_slice(&[head[0] | self.pending_resets]);
        self.pending_resets = 0;
        out.extend_from_slice(&head[1..]);
        self.last = Some(TightMethod::Fill);
        Ok(())
    }

    /// The sub-encoding of the last rectangle encoded.
    pub fn last_method(&self) -> Option<TightMethod> {
        self.last
    }

    /// Writes a rectangle prepared by [`prepare`] (`head` and `data` as it left them):
    /// the control byte with any pending reset bits, the rest of the header, then the
    /// payload, deflated on its lane if it has one. Rectangles that use the same lane
    /// must be written in the order the decoder reads them.
    pub(crate) fn emit(
        &mut self,
        p: Prepared,
        head: &[u8],
        data: &[u8],
        zbuf: &mut Vec<u8>,
        out: &mut BytesMut,
    ) -> Result<(), CodecError> {
        let Some((&ctrl, rest)) = head.split_first() else {
            return Err(CodecError::ApiMisuse {
                what: "Tight rectangle without a header".into(),
            });
        };
        out.extend_from_slice(&[ctrl | self.pending_resets]);
        self.pending_resets = 0;
        out.extend_from_slice(rest);
        match p.lane {
            Some(lane) if lane < 4 => {
                let level = zlib_level(self.config.compress_level, lane);
                deflate_on(&mut self.lanes[lane], level, data, zbuf)?;
                put_with_len(zbuf, out)?;
            }
            _ => out.extend_from_slice(data),
        }
        self.last = Some(p.method);
        Ok(())
    }

    /// Writes a rectangle whose lane data is already deflated (`body`: compact length
    /// and compressed bytes, or the final payload): see [`TightEncoder::emit`].
    pub(crate) fn emit_compressed(
        &mut self,
        method: TightMethod,
        head: &[u8],
        body: &[u8],
        out: &mut BytesMut,
    ) {
        if let Some((&ctrl, rest)) = head.split_first() {
            out.extend_from_slice(&[ctrl | self.pending_resets]);
            self.pending_resets = 0;
            out.extend_from_slice(rest);
        }
        out.extend_from_slice(body);
        self.last = Some(method);
    }

    /// The lane streams and the zlib level of each (for deflating lanes in parallel).
    pub(crate) fn lanes_mut(&mut self) -> (&mut [Option<Compress>; 4], [u32; 4]) {
        let c = self.config.compress_level;
        (
            &mut self.lanes,
            [0, 1, 2, 3].map(|lane| zlib_level(c, lane)),
        )
    }
}

/// Header of a fill rectangle of pixel `key`.
fn fill_head(tf: &TpixelFormat, key: u32, head: &mut Vec<u8>) {
    let px = key.to_le_bytes();
    let mut t = [0u8; 4];
    tf.to_tpixel(&px, &mut t);
    head.clear();
    head.push(FILL << 4);
    head.extend_from_slice(&t[..tf.bytes()]);
}

/// Header of a palette rectangle on `lane` with the colours of `keys`.
fn palette_head(tf: &TpixelFormat, lane: usize, keys: &[u32], head: &mut Vec<u8>) {
    head.clear();
    head.push(((lane as u8) << 4) | READ_FILTER);
    head.extend_from_slice(&[FILTER_PALETTE, (keys.len() - 1) as u8]);
    let mut t = [0u8; 4];
    for k in keys {
        tf.to_tpixel(&k.to_le_bytes(), &mut t);
        head.extend_from_slice(&t[..tf.bytes()]);
    }
}

/// Data for `lane`, or the final payload when shorter than 12 bytes (sent raw).
fn lane_or_raw(method: TightMethod, lane: usize, data: &[u8]) -> Prepared {
    Prepared {
        method,
        lane: (data.len() >= MIN_TO_COMPRESS).then_some(lane),
    }
}

/// Classifies and filters one rectangle with `config` (no zlib stream is touched, so
/// rectangles can be prepared on several threads); [`TightEncoder::emit`] writes it.
pub(crate) fn prepare(
    config: &TightConfig,
    s: &mut Scratch,
    pixels: &PixelView<'_>,
) -> Result<Prepared, CodecError> {
    let f = *pixels.format();
    f.validate().map_err(|_| CodecError::UnsupportedFormat {
        encoding: super::NAME,
        why: "invalid pixel format",
    })?;
    let (w, h) = (pixels.width(), pixels.height());
    let area = u64::from(w) * u64::from(h);
    if w > MAX_WIDTH || area > u64::from(MAX_RECT_PIXELS) {
        return Err(CodecError::ApiMisuse {
            what: format!(
                "Tight rectangle {w}x{h}: at most {MAX_WIDTH} wide and {MAX_RECT_PIXELS} pixels (use tight::split)"
            ),
        });
    }
    let tf = TpixelFormat::new(&f);
    s.head.clear();
    s.data.clear();
    if area == 0 {
        // Copy filter, no data.
        s.head.push(0);
        return Ok(Prepared {
            method: TightMethod::FullColour,
            lane: None,
        });
    }
    let bpp = tf.pixel_bytes();
    // Keys ignore the padding byte that 3-byte TPIXELs drop.
    let mask = if tf.bytes() == 3 {
        let mut m = [0u8; 4];
        tf.from_tpixel(&[0xff; 3], &mut m);
        u32::from_le_bytes(m)
    } else {
        u32::MAX
    };
    let div = if config.compress_level == 0 {
        PALETTE_AREA_DIVISOR_STORED
    } else {
        PALETTE_AREA_DIVISOR
    };
    let max_colours = MAX_PALETTE.min((area / div).max(2) as usize);
    // The scan may stop as soon as a rectangle is sure to go to JPEG; colours past the
    // palette's limit are counted only if JPEG is possible.
    let jpeg_stop = config.jpeg.is_some() && rgb_capable(&f) && area >= JPEG_MIN_PIXELS;
    let colours = s.colours.get_or_insert_with(|| Box::new(Colours::new()));
    colours.clear(jpeg_stop || config.gradient == GradientMode::Auto);
    s.data.reserve(area as usize);
    match bpp {
        4 => scan::<4>(pixels, mask, max_colours, jpeg_stop, colours, &mut s.data),
        2 => scan::<2>(pixels, mask, max_colours, jpeg_stop, colours, &mut s.data),
        _ => scan::<1>(pixels, mask, max_colours, jpeg_stop, colours, &mut s.data),
    }
    // After an early stop `equal_left` is a partial count: the JPEG test holds by
    // construction; the gradient test only matters if the JPEG turns out too large.
    let equal = colours.equal_left * 1000;
    let photo = Busy {
        jpeg: equal < area * JPEG_MAX_EQUAL_LEFT_PERMILLE && colours.many_count >= JPEG_MIN_COLOURS,
        gradient: equal < area * GRADIENT_MAX_EQUAL_LEFT_PERMILLE
            && colours.many_count >= GRADIENT_MIN_COLOURS,
    };
    match (colours.overflow, colours.keys.len()) {
        (false, 1) => {
            fill_head(&tf, colours.keys[0], &mut s.head);
            s.data.clear();
            Ok(Prepared {
                method: TightMethod::Fill,
                lane: None,
            })
        }
        (false, 2) => {
            palette_head(&tf, LANE_MONO, &colours.keys, &mut s.head);
            let w = usize::from(w);
            let row_bytes = w.div_ceil(8);
            let mut bits = vec![0u8; row_bytes * usize::from(h)];
            for (y, idx) in s.data.chunks_exact(w).enumerate() {
                let dst = &mut bits[y * row_bytes..(y + 1) * row_bytes];
                for (x, &i) in idx.iter().enumerate() {
                    dst[x / 8] |= i << (7 - x % 8);
                }
            }
            s.data = bits;
            Ok(lane_or_raw(TightMethod::Mono, LANE_MONO, &s.data))
        }
        (false, _) => {
            palette_head(&tf, LANE_INDEXED, &colours.keys, &mut s.head);
            Ok(lane_or_raw(TightMethod::Indexed, LANE_INDEXED, &s.data))
        }
        (true, _) => prepare_full(config, s, pixels, &tf, photo),
    }
}

/// Full colour: JPEG when allowed and photo-like, else the copy or gradient filter.
fn prepare_full(
    config: &TightConfig,
    s: &mut Scratch,
    pixels: &PixelView<'_>,
    tf: &TpixelFormat,
    photo: Busy,
) -> Result<Prepared, CodecError> {
    let f = pixels.format();
    let rgb = rgb_capable(f);
    s.data.clear();
    if let Some(j) = config.jpeg {
        let area = u64::from(pixels.width()) * u64::from(pixels.height());
        if rgb && photo.jpeg && area >= JPEG_MIN_PIXELS {
            jpeg::encode(&mut s.jpeg, pixels, &j, &mut s.zbuf)?;
            if s.zbuf.len() <= MAX_COMPACT_LEN as usize {
                s.head.clear();
                s.head.push(JPEG << 4);
                write_compact_len(s.zbuf.len(), &mut s.data)?;
                s.data.extend_from_slice(&s.zbuf);
                return Ok(Prepared {
                    method: TightMethod::Jpeg,
                    lane: None,
                });
            }
        }
    }
    let gradient = rgb
        && match config.gradient {
            GradientMode::Never => false,
            GradientMode::Auto => photo.gradient,
            GradientMode::Always => true,
        };
    let w = usize::from(pixels.width());
    s.head.clear();
    if gradient {
        gradient_encode(tf, w, pixels.rows(), &mut s.data);
        s.head
            .extend_from_slice(&[((LANE_GRADIENT as u8) << 4) | READ_FILTER, FILTER_GRADIENT]);
        Ok(lane_or_raw(TightMethod::Gradient, LANE_GRADIENT, &s.data))
    } else {
        let (tpx, bpp) = (tf.bytes(), tf.pixel_bytes());
        if tpx == bpp {
            for row in pixels.rows() {
                s.data.extend_from_slice(row);
            }
        } else if let (Some(off), 4) = (tf.offsets(), bpp) {
            // 32-bit pixels with byte-aligned channels: pick three bytes of four.
            s.data.resize(w * usize::from(pixels.height()) * 3, 0);
            for (row, dst) in pixels.rows().zip(s.data.chunks_exact_mut(w * 3)) {
                let pairs = dst.chunks_exact_mut(3).zip(row.chunks_exact(4));
                if off == [0, 1, 2] {
                    pairs.for_each(|(t, px)| t.copy_from_slice(&px[..3]));
                } else {
                    pairs.for_each(|(t, px)| {
                        t[0] = px[off[0]];
                        t[1] = px[off[1]];
                        t[2] = px[off[2]];
                    });
                }
            }
        } else {
            s.data.resize(w * usize::from(pixels.height()) * tpx, 0);
            let mut i = 0;
            for row in pixels.rows() {
                for px in row.chunks_exact(bpp) {
                    tf.to_tpixel(px, &mut s.data[i..i + tpx]);
                    i += tpx;
                }
            }
        }
        s.head.push((LANE_FULL as u8) << 4);
        Ok(lane_or_raw(TightMethod::FullColour, LANE_FULL, &s.data))
    }
}

impl RectEncoder for TightEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::TIGHT
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        let mut s = std::mem::take(&mut self.scratch);
        let r = prepare(&self.config, &mut s, pixels).and_then(|p| {
            let (head, data) = (std::mem::take(&mut s.head), std::mem::take(&mut s.data));
            let r = self.emit(p, &head, &data, &mut s.zbuf, out);
            (s.head, s.data) = (head, data);
            r
        });
        self.scratch = s;
        r
    }
}
