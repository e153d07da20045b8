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

/// zlib level of the full-colour and gradient lanes per compress level 0..=9: bulk
/// data, so speed first (deflate dominates the lossless encoder's time).
const FULL_ZLIB_LEVEL: [u32; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
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

/// Most colours of an indexed (palette) rectangle.
const MAX_PALETTE: usize = 256;

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
        }
    }

    /// Counts `key` among the colours of an overflowed rectangle (up to
    /// [`JPEG_MIN_COLOURS`]).
    fn count_many(&mut self, key: u32) {
        if self.many_count >= JPEG_MIN_COLOURS {
            return;
        }
        let mask = (1usize << MANY_BITS) - 1;
        let tagged = u64::from(key) | 1 << 32;
        let mut slot = (key.wrapping_mul(0x9e37_79b1) >> (32 - MANY_BITS)) as usize;
        loop {
            match self.many[slot] {
                0 => {
                    self.many[slot] = tagged;
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

    fn clear(&mut self) {
        self.keys.clear();
        self.table.fill(0);
        self.equal_left = 0;
        self.overflow = false;
        if self.many_count > 0 {
            self.many.fill(0);
            self.many_count = 0;
        }
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
/// 1-bit bitmap; up to 256 (and fewer than half the pixels) → 8-bit indices; otherwise
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
    colours: Colours,
    /// Filtered data of the rectangle (indices, TPIXELs, differences).
    data: Vec<u8>,
    /// Compressed or JPEG bytes.
    zbuf: Vec<u8>,
    /// RGB scratch for JPEG.
    rgb: Vec<u8>,
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
            colours: Colours::new(),
            data: Vec::new(),
            zbuf: Vec::new(),
            rgb: Vec::new(),
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
        self.encode_fill_key(&tf, u32::from_le_bytes(px), out);
        Ok(())
    }

    /// The sub-encoding of the last rectangle encoded.
    pub fn last_method(&self) -> Option<TightMethod> {
        self.last
    }

    fn zlib_level(&self, lane: usize) -> u32 {
        let c = usize::from(self.config.compress_level);
        if lane == LANE_MONO || lane == LANE_INDEXED {
            INDEXED_ZLIB_LEVEL[c]
        } else {
            FULL_ZLIB_LEVEL[c]
        }
    }

    /// Appends the compression-control byte (with pending resets) and `rest` of the
    /// header.
    fn header(&mut self, ctrl: u8, out: &mut BytesMut) {
        out.extend_from_slice(&[ctrl | self.pending_resets]);
        self.pending_resets = 0;
    }

    /// Appends `self.data` as Tight basic-compression data on `lane`: raw when shorter
    /// than 12 bytes, else compact length and the lane's sync-flushed deflate output.
    fn put_data(&mut self, lane: usize, out: &mut BytesMut) -> Result<(), CodecError> {
        if self.data.len() < MIN_TO_COMPRESS {
            out.extend_from_slice(&self.data);
            return Ok(());
        }
        let level = self.zlib_level(lane);
        let z =
            self.lanes[lane].get_or_insert_with(|| Compress::new(Compression::new(level), true));
        self.zbuf.clear();
        self.zbuf
            .reserve(self.data.len() + self.data.len() / 1000 + 64);
        let mut input = &self.data[..];
        loop {
            let before = z.total_in();
            z.compress_vec(input, &mut self.zbuf, FlushCompress::Sync)
                .map_err(|e| CodecError::ApiMisuse {
                    what: format!("deflate failed: {e}"),
                })?;
            input = &input[(z.total_in() - before) as usize..];
            // Done when all input is in and the flush fit (room left over).
            if input.is_empty() && self.zbuf.len() < self.zbuf.capacity() {
                break;
            }
            self.zbuf.reserve(self.zbuf.capacity().max(4096));
        }
        let mut len = Vec::with_capacity(3);
        write_compact_len(self.zbuf.len(), &mut len)?;
        out.extend_from_slice(&len);
        out.extend_from_slice(&self.zbuf);
        Ok(())
    }

    fn encode_fill_key(&mut self, tf: &TpixelFormat, key: u32, out: &mut BytesMut) {
        let px = key.to_le_bytes();
        let mut t = [0u8; 4];
        tf.to_tpixel(&px, &mut t);
        self.header(FILL << 4, out);
        out.extend_from_slice(&t[..tf.bytes()]);
        self.last = Some(TightMethod::Fill);
    }

    fn put_palette(&mut self, tf: &TpixelFormat, lane: usize, out: &mut BytesMut) {
        self.header(((lane as u8) << 4) | READ_FILTER, out);
        let n = self.colours.keys.len();
        out.extend_from_slice(&[FILTER_PALETTE, (n - 1) as u8]);
        let mut t = [0u8; 4];
        for k in &self.colours.keys {
            tf.to_tpixel(&k.to_le_bytes(), &mut t);
            out.extend_from_slice(&t[..tf.bytes()]);
        }
    }

    fn encode_full(
        &mut self,
        pixels: &PixelView<'_>,
        tf: &TpixelFormat,
        photo: Busy,
        out: &mut BytesMut,
    ) -> Result<(), CodecError> {
        let f = pixels.format();
        let rgb = rgb_capable(f);
        if let Some(j) = self.config.jpeg {
            let area = u64::from(pixels.width()) * u64::from(pixels.height());
            if rgb && photo.jpeg && area >= JPEG_MIN_PIXELS {
                jpeg::encode(pixels, &j, &mut self.rgb, &mut self.zbuf)?;
                if self.zbuf.len() <= MAX_COMPACT_LEN as usize {
                    self.header(JPEG << 4, out);
                    let mut len = Vec::with_capacity(3);
                    write_compact_len(self.zbuf.len(), &mut len)?;
                    out.extend_from_slice(&len);
                    out.extend_from_slice(&self.zbuf);
                    self.last = Some(TightMethod::Jpeg);
                    return Ok(());
                }
            }
        }
        let gradient = rgb
            && match self.config.gradient {
                GradientMode::Never => false,
                GradientMode::Auto => photo.gradient,
                GradientMode::Always => true,
            };
        self.data.clear();
        let w = usize::from(pixels.width());
        if gradient {
            gradient_encode(tf, w, pixels.rows(), &mut self.data);
            self.header(((LANE_GRADIENT as u8) << 4) | READ_FILTER, out);
            out.extend_from_slice(&[FILTER_GRADIENT]);
            self.last = Some(TightMethod::Gradient);
            self.put_data(LANE_GRADIENT, out)
        } else {
            let (tpx, bpp) = (tf.bytes(), tf.pixel_bytes());
            if tpx == bpp {
                for row in pixels.rows() {
                    self.data.extend_from_slice(row);
                }
            } else {
                self.data.resize(w * usize::from(pixels.height()) * tpx, 0);
                let mut i = 0;
                for row in pixels.rows() {
                    for px in row.chunks_exact(bpp) {
                        tf.to_tpixel(px, &mut self.data[i..i + tpx]);
                        i += tpx;
                    }
                }
            }
            self.header((LANE_FULL as u8) << 4, out);
            self.last = Some(TightMethod::FullColour);
            self.put_data(LANE_FULL, out)
        }
    }
}

impl RectEncoder for TightEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::TIGHT
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
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
        if area == 0 {
            // Copy filter, no data.
            self.header(0, out);
            self.last = Some(TightMethod::FullColour);
            return Ok(());
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
        let max_colours = MAX_PALETTE.min((area / 2).max(2) as usize);
        self.colours.clear();
        self.data.clear();
        self.data.reserve(area as usize);
        // The scan may stop as soon as a rectangle is sure to go to JPEG.
        let jpeg_stop = self.config.jpeg.is_some() && rgb_capable(&f) && area >= JPEG_MIN_PIXELS;
        let (c, d) = (&mut self.colours, &mut self.data);
        match bpp {
            4 => scan::<4>(pixels, mask, max_colours, jpeg_stop, c, d),
            2 => scan::<2>(pixels, mask, max_colours, jpeg_stop, c, d),
            _ => scan::<1>(pixels, mask, max_colours, jpeg_stop, c, d),
        }
        let equal = self.colours.equal_left * 1000;
        let photo = Busy {
            jpeg: equal < area * JPEG_MAX_EQUAL_LEFT_PERMILLE
                && self.colours.many_count >= JPEG_MIN_COLOURS,
            gradient: equal < area * GRADIENT_MAX_EQUAL_LEFT_PERMILLE,
        };
        match (self.colours.overflow, self.colours.keys.len()) {
            (false, 1) => {
                let k = self.colours.keys[0];
                self.encode_fill_key(&tf, k, out);
                Ok(())
            }
            (false, 2) => {
                self.put_palette(&tf, LANE_MONO, out);
                let w = usize::from(w);
                let row_bytes = w.div_ceil(8);
                let mut bits = vec![0u8; row_bytes * usize::from(h)];
                for (y, idx) in self.data.chunks_exact(w).enumerate() {
                    let dst = &mut bits[y * row_bytes..(y + 1) * row_bytes];
                    for (x, &i) in idx.iter().enumerate() {
                        dst[x / 8] |= i << (7 - x % 8);
                    }
                }
                self.data = bits;
                self.last = Some(TightMethod::Mono);
                self.put_data(LANE_MONO, out)
            }
            (false, _) => {
                self.put_palette(&tf, LANE_INDEXED, out);
                self.last = Some(TightMethod::Indexed);
                self.put_data(LANE_INDEXED, out)
            }
            (true, _) => self.encode_full(pixels, &tf, photo, out),
        }
    }
}
