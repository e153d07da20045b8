//! TightPNG (-260): Tight's rectangle framing with PNG in place of zlib data.
//!
//! # Wire format
//!
//! Community RFB spec, "Tight PNG Encoding". Every rectangle starts with Tight's
//! compression-control byte. Its high four bits choose one of three methods; "basic"
//! (zlib) compression is not allowed:
//!
//! | high nibble | method | then |
//! |---|---|---|
//! | `1000` | fill | one TPIXEL (Tight's rules) |
//! | `1001` | JPEG | compact length, JFIF data (as Tight) |
//! | `1010` | PNG | compact length, a PNG file of exactly the rectangle's size |
//! | other | invalid | |
//!
//! TightPNG has no zlib streams: the low four bits (Tight's stream resets) mean nothing
//! here. Our encoder sends them as zero and our decoder ignores them (noVNC resets zlib
//! streams it never uses).
//!
//! # Pixel formats
//!
//! PNG carries 8-bit red, green and blue whatever the client's format is, so TightPNG
//! needs a **true-colour** format. It is lossless for true-colour formats whose channels
//! have at most 8 bits (the 8-bit values are scaled to the channel's range and back;
//! noVNC always uses 32 bits per pixel, depth 24). [`TightPngEncoder`] refuses colour-map
//! formats with [`CodecError::UnsupportedFormat`], and the
//! [planner](crate::planner::UpdatePlanner) never chooses TightPNG for a colour-map
//! client: it uses the next encoding of the client's list instead (Tight, for noVNC).
//! [`TightPngDecoder`] refuses PNG and JPEG rectangles for colour-map formats (fills
//! are fine).
//!
//! # Encoder choices
//!
//! [`TightPngEncoder`] classifies each rectangle with [`TightEncoder`] (the same colour
//! count and photo test: one colour → fill, photo-like with a client quality level →
//! JPEG, exactly as Tight decides), run at compress level 0 so the zlib output it
//! throws away costs a copy, not a deflate. Everything else becomes a PNG: an indexed
//! PNG (`PLTE`, 1, 2, 4 or 8 bits per index, no row filter) where Tight would send a
//! palette (up to 256 colours), else 8-bit RGB.
//!
//! The client's compress level picks the deflate: 0–1 `png`'s `fdeflate` with the
//! adaptive row filter; 2–5 (2 is the default, noVNC's and TigerVNC's) zlib level 1
//! (flate2, zlib-rs here) with the Sub filter; 6–9 zlib level 6 with the adaptive
//! filter. Measured on four synthetic 1280x720 frames (drawn with Python PIL, not the
//! recorded corpus) cut into the planner's 64K-pixel rectangles: a terminal and an
//! office page (anti-aliased DejaVu text), a UI without anti-aliasing, a photo. Ratio = raw 24-bit bytes / encoded bytes @ MPix/s of one
//! core, on a shared, noisy 2-core machine (compare ratios; speeds only roughly):
//!
//! | setting | terminal | office | UI | photo |
//! |---|---|---|---|---|
//! | RGB, fdeflate, Sub | 6.1 @ 40 | 6.9 @ 37 | 21.1 @ 25 | 1.57 @ 29 |
//! | RGB, fdeflate, adaptive (levels 0–1) | 8.6 @ 38 | 9.7 @ 40 | 36.9 @ 24 | 1.88 @ 37 |
//! | RGB, zlib 1, Sub (levels 2–5) | 13.6 @ 35 | 17.3 @ 35 | 30.7 @ 21 | 1.21 @ 6 |
//! | RGB, zlib 1, Paeth | 13.1 @ 22 | 17.7 @ 37 | 35.9 @ 18 | 1.29 @ 15 |
//! | RGB, zlib 1, adaptive | 14.0 @ 17 | 19.0 @ 29 | 35.5 @ 32 | 1.29 @ 14 |
//! | RGB, zlib 6, adaptive (levels 6–9) | 17.4 @ 13 | 24.5 @ 26 | 93.6 @ 18 | 1.91 @ 5 |
//! | **indexed + RGB, level 2 (default)** | 13.6 @ 15 | 18.0 @ 31 | 94.8 @ 26 | 1.21 @ 12 |
//! | indexed + RGB, level 6 | 17.4 @ 13 | 24.6 @ 28 | 161 @ 22 | 1.91 @ 6 |
//! | Tight lossless, compress 2 (reference) | 19.4 @ 32 | 23.8 @ 67 | 102 @ 70 | 1.14 @ 9 |
//!
//! What it says: `fdeflate` (png's "fast") is the fastest but weak on text (it finds
//! few long matches); zlib level 1 doubles the ratio on text at a similar speed; the
//! indexed PNG is the big win on flat UI (3x at level 2); zlib 6 with the adaptive
//! filter is a third smaller again on text but slower. Photos are best left to JPEG
//! (a client quality level). Reproduce: write raw 1280x720 RGB frames as
//! `$TIGHTPNG_FRAMES/*.rgb`, then `cargo test -p rfb-codec --release --lib
//! tight::png::tests::measure -- --ignored --nocapture`.

use std::io::Write;

use bytes::BytesMut;
use png::{AdaptiveFilterType, BitDepth, ColorType, Compression, FilterType, Transformations};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::pixel::{from_rgb8, pixel_value, put_pixel_value, rgb8};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

use super::{
    jpeg, read_compact_len, rgb_capable, write_compact_len, JpegSettings, TightConfig,
    TightEncoder, TightMethod, TpixelFormat, FILL, JPEG, MAX_RECT_PIXELS, MAX_WIDTH,
};

const NAME: &str = "TightPNG";

/// Compression-control high nibble of a PNG rectangle.
pub(crate) const PNG: u8 = 0xA;

/// Deflate, row filter and adaptive filtering of a PNG.
#[derive(Debug, Clone, Copy)]
struct PngSettings {
    compression: Compression,
    /// Through `png`'s stream writer: flate2 (zlib-rs here) at the level of
    /// `compression` (level 1 for `Fast`) instead of `fdeflate` for `Fast`.
    stream: bool,
    filter: FilterType,
    adaptive: AdaptiveFilterType,
}

/// RGB PNG settings of compress levels 0 and 1: `fdeflate` with the adaptive filter
/// (see the module docs for the measurement).
const PNG_RGB_FASTEST: PngSettings = PngSettings {
    compression: Compression::Fast,
    stream: false,
    filter: FilterType::Sub,
    adaptive: AdaptiveFilterType::Adaptive,
};
/// RGB PNG settings of compress levels 2 (the default) to 5: zlib level 1, Sub filter.
const PNG_RGB: PngSettings = PngSettings {
    compression: Compression::Fast,
    stream: true,
    filter: FilterType::Sub,
    adaptive: AdaptiveFilterType::NonAdaptive,
};
/// RGB PNG settings of compress levels 6 to 9: zlib level 6, adaptive filter.
const PNG_RGB_SMALL: PngSettings = PngSettings {
    compression: Compression::Default,
    stream: false,
    filter: FilterType::Sub,
    adaptive: AdaptiveFilterType::Adaptive,
};

/// The RGB and indexed PNG settings of compress level `level`. Indexed PNGs use the
/// same deflate without a row filter (filters do not help on palette indices).
fn settings_of(level: u8) -> (PngSettings, PngSettings) {
    let rgb = match level {
        0..=1 => PNG_RGB_FASTEST,
        2..=5 => PNG_RGB,
        _ => PNG_RGB_SMALL,
    };
    let indexed = PngSettings {
        filter: FilterType::NoFilter,
        adaptive: AdaptiveFilterType::NonAdaptive,
        ..rgb
    };
    (rgb, indexed)
}

/// Largest IDAT chunk the stream writer emits.
const PNG_STREAM_CHUNK: usize = 1 << 16;

/// PNG signature.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Bytes the `png` decoder may allocate beyond the image itself (chunk buffers).
const PNG_DECODER_SLACK: usize = 1 << 20;

fn malformed(what: impl Into<String>) -> CodecError {
    CodecError::Malformed {
        encoding: NAME,
        what: what.into(),
    }
}

/// How a [`TightPngEncoder`] encodes.
///
/// ```
/// use rfb_codec::tight::TightPngConfig;
/// use rfb_proto::Encoding;
/// let cfg = TightPngConfig::from_encodings(&[Encoding::TIGHT_PNG, Encoding::for_quality_level(6)]);
/// assert_eq!(cfg.jpeg.unwrap().quality, 79);
/// assert!(TightPngConfig::from_encodings(&[Encoding::TIGHT_PNG]).jpeg.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TightPngConfig {
    /// Compress level 0..=9 (above 9 means 9), choosing the PNG deflate setting (see the
    /// module docs). Default 2 (TigerVNC's and noVNC's default).
    pub compress_level: u8,
    /// JPEG for photo-like rectangles, or `None` for lossless only (the default). As in
    /// Tight, only with true-colour formats of 16 or 32 bits per pixel.
    pub jpeg: Option<JpegSettings>,
}

impl Default for TightPngConfig {
    fn default() -> Self {
        TightPngConfig {
            compress_level: 2,
            jpeg: None,
        }
    }
}

impl TightPngConfig {
    /// The configuration a client asks for with its SetEncodings list: its first
    /// compress level, and JPEG when it sent a quality level or TurboVNC fine quality
    /// (with its subsampling), as [`TightConfig::from_encodings`] reads them.
    pub fn from_encodings(encodings: &[Encoding]) -> TightPngConfig {
        let tight = TightConfig::from_encodings(encodings);
        TightPngConfig {
            compress_level: tight.compress_level,
            jpeg: tight.jpeg,
        }
    }
}

/// The TightPNG method the encoder chose for a rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TightPngMethod {
    /// One colour.
    Fill,
    /// JPEG (photo-like content, client quality level set).
    Jpeg,
    /// PNG with a palette (up to 256 colours).
    PngIndexed,
    /// 8-bit RGB PNG.
    PngRgb,
}

/// TightPNG encoder: fills, JPEG and PNG.
///
/// Takes rectangles of a true-colour format, at most [`MAX_WIDTH`] wide and
/// [`MAX_RECT_PIXELS`] pixels (cut larger ones with [`super::split`]).
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::tight::{TightPngConfig, TightPngDecoder, TightPngEncoder, TightPngMethod};
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
///
/// let mut src = Framebuffer::new(40, 20, PixelFormat::RGB888);
/// src.fill(Rect::new(3, 2, 20, 9), &[0x10, 0x20, 0x30, 0]).unwrap();
/// let mut enc = TightPngEncoder::new(TightPngConfig::default());
/// let mut wire = BytesMut::new();
/// enc.encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
/// assert_eq!(wire[0], 0xa0); // PNG
/// assert_eq!(enc.last_method(), Some(TightPngMethod::PngIndexed));
///
/// let mut dst = Framebuffer::new(40, 20, PixelFormat::RGB888);
/// TightPngDecoder::new().decode(dst.rect(), &wire, &mut dst, &CodecLimits::default()).unwrap();
/// assert_eq!(dst, src);
/// ```
pub struct TightPngEncoder {
    config: TightPngConfig,
    /// The Tight encoder used to classify (and for fills and JPEG).
    classifier: TightEncoder,
    /// The classifier's output.
    tight: BytesMut,
    /// Palette keys and their lookup table.
    keys: Vec<u32>,
    table: Vec<u16>,
    /// PNG image data (indices or RGB) and the PNG file.
    image: Vec<u8>,
    png: Vec<u8>,
    last: Option<TightPngMethod>,
    /// Settings of RGB PNGs ([`settings_of`] the compress level).
    rgb_settings: PngSettings,
    /// Settings of indexed PNGs ([`settings_of`] the compress level), or `None` for
    /// RGB only (in the measurement test).
    indexed_settings: Option<PngSettings>,
}

impl std::fmt::Debug for TightPngEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TightPngEncoder")
            .field("config", &self.config)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl Default for TightPngEncoder {
    fn default() -> Self {
        TightPngEncoder::new(TightPngConfig::default())
    }
}

/// Bits of the palette lookup table (1024 slots for at most 256 colours).
const TABLE_BITS: u32 = 10;

fn classifier_config(config: &TightPngConfig) -> TightConfig {
    TightConfig {
        // Compress level 0: the classifier's zlib output is thrown away, so make it
        // cheap (stored blocks).
        compress_level: 0,
        jpeg: config.jpeg,
        ..TightConfig::default()
    }
}

impl TightPngEncoder {
    /// A new encoder.
    pub fn new(config: TightPngConfig) -> TightPngEncoder {
        let (rgb, indexed) = settings_of(config.compress_level);
        TightPngEncoder {
            config,
            classifier: TightEncoder::new(classifier_config(&config)),
            tight: BytesMut::new(),
            keys: Vec::with_capacity(256),
            table: vec![0; 1 << TABLE_BITS],
            image: Vec::new(),
            png: Vec::new(),
            last: None,
            rgb_settings: rgb,
            indexed_settings: Some(indexed),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &TightPngConfig {
        &self.config
    }

    /// Changes the configuration (from the next rectangle on).
    pub fn set_config(&mut self, config: TightPngConfig) {
        let (rgb, indexed) = settings_of(config.compress_level);
        self.rgb_settings = rgb;
        self.indexed_settings = Some(indexed);
        self.config = config;
        self.classifier.set_config(classifier_config(&config));
    }

    /// The method of the last rectangle encoded.
    pub fn last_method(&self) -> Option<TightPngMethod> {
        self.last
    }

    /// Appends a fill rectangle's payload: every pixel is `pixel` (one pixel of
    /// `format`). Fills may be of any size up to [`MAX_WIDTH`] wide.
    ///
    /// ```
    /// use rfb_codec::{tight::TightPngEncoder, PixelFormat};
    /// let mut out = bytes::BytesMut::new();
    /// TightPngEncoder::default().encode_fill(&[0x56, 0x34, 0x12, 0], &PixelFormat::RGB888, &mut out).unwrap();
    /// assert_eq!(&out[..], &[0x80, 0x12, 0x34, 0x56]);
    /// ```
    pub fn encode_fill(
        &mut self,
        pixel: &[u8],
        format: &PixelFormat,
        out: &mut BytesMut,
    ) -> Result<(), CodecError> {
        self.tight.clear();
        self.classifier
            .encode_fill(pixel, format, &mut self.tight)?;
        self.put_classifier_output(out);
        self.last = Some(TightPngMethod::Fill);
        Ok(())
    }

    /// Copies the classifier's rectangle (a fill or JPEG), stream-reset bits cleared.
    fn put_classifier_output(&mut self, out: &mut BytesMut) {
        if let Some((&ctrl, rest)) = self.tight.split_first() {
            out.extend_from_slice(&[ctrl & 0xf0]);
            out.extend_from_slice(rest);
        }
    }

    /// Palette indices of `pixels` into `self.image` and keys into `self.keys`; false
    /// if there are more than 256 colours.
    fn index(&mut self, pixels: &PixelView<'_>, mask: u32) -> bool {
        self.keys.clear();
        self.table.fill(0);
        self.image.clear();
        let bpp = pixels.format().bytes_per_pixel();
        let slot_mask = (1usize << TABLE_BITS) - 1;
        let mut prev: Option<(u32, u8)> = None;
        for row in pixels.rows() {
            for px in row.chunks_exact(bpp) {
                let mut b = [0u8; 4];
                b[..bpp].copy_from_slice(px);
                let k = u32::from_le_bytes(b) & mask;
                if let Some((pk, pi)) = prev {
                    if pk == k {
                        self.image.push(pi);
                        continue;
                    }
                }
                let mut slot = (k.wrapping_mul(0x9e37_79b1) >> (32 - TABLE_BITS)) as usize;
                let i = loop {
                    match self.table[slot] {
                        0 => {
                            if self.keys.len() >= 256 {
                                return false;
                            }
                            self.keys.push(k);
                            self.table[slot] = self.keys.len() as u16;
                            break (self.keys.len() - 1) as u8;
                        }
                        i if self.keys[usize::from(i) - 1] == k => break (i - 1) as u8,
                        _ => slot = (slot + 1) & slot_mask,
                    }
                };
                self.image.push(i);
                prev = Some((k, i));
            }
        }
        true
    }

    /// Writes `self.image` (indices in `self.image`, one byte each) as an indexed PNG.
    fn indexed_png(&mut self, w: usize, h: usize, tf: &TpixelFormat) -> Result<(), CodecError> {
        let n = self.keys.len();
        let depth = match n {
            0..=2 => BitDepth::One,
            3..=4 => BitDepth::Two,
            5..=16 => BitDepth::Four,
            _ => BitDepth::Eight,
        };
        let bits = depth as usize;
        if bits < 8 {
            // Pack the indices, most significant bits leftmost, rows padded to a byte.
            let row_bytes = (w * bits).div_ceil(8);
            let per_byte = 8 / bits;
            let mut packed = vec![0u8; row_bytes * h];
            for (src, dst) in self
                .image
                .chunks_exact(w)
                .zip(packed.chunks_exact_mut(row_bytes))
            {
                for (x, &i) in src.iter().enumerate() {
                    dst[x / per_byte] |= i << (8 - bits * (x % per_byte + 1));
                }
            }
            self.image = packed;
        }
        let mut palette = Vec::with_capacity(n * 3);
        for k in &self.keys {
            palette.extend_from_slice(&rgb_of(tf, &k.to_le_bytes()));
        }
        write_png(
            w,
            h,
            ColorType::Indexed,
            depth,
            Some(palette),
            self.indexed_settings
                .unwrap_or(settings_of(self.config.compress_level).1),
            &self.image,
            &mut self.png,
        )
    }

    /// Writes the pixels as an 8-bit RGB PNG.
    fn rgb_png(&mut self, pixels: &PixelView<'_>, tf: &TpixelFormat) -> Result<(), CodecError> {
        let (w, h) = (usize::from(pixels.width()), usize::from(pixels.height()));
        let bpp = tf.pixel_bytes();
        self.image.clear();
        self.image.resize(w * h * 3, 0);
        let mut i = 0;
        for row in pixels.rows() {
            for px in row.chunks_exact(bpp) {
                self.image[i..i + 3].copy_from_slice(&rgb_of(tf, px));
                i += 3;
            }
        }
        write_png(
            w,
            h,
            ColorType::Rgb,
            BitDepth::Eight,
            None,
            self.rgb_settings,
            &self.image,
            &mut self.png,
        )
    }
}

/// 8-bit red, green, blue of the pixel `px` of a true-colour format.
fn rgb_of(tf: &TpixelFormat, px: &[u8]) -> [u8; 3] {
    if tf.bytes() == 3 {
        let mut t = [0u8; 4];
        tf.to_tpixel(px, &mut t);
        [t[0], t[1], t[2]]
    } else {
        rgb8(pixel_value(px, tf.format()), tf.format(), None)
    }
}

/// Writes the pixel of the 8-bit colour `c` to `out`.
fn put_rgb(tf: &TpixelFormat, c: [u8; 3], out: &mut [u8]) {
    if tf.bytes() == 3 {
        tf.from_tpixel(&c, out);
    } else {
        put_pixel_value(from_rgb8(c, tf.format(), None), tf.format(), out);
    }
}

#[allow(clippy::too_many_arguments)]
fn write_png(
    w: usize,
    h: usize,
    colour: ColorType,
    depth: BitDepth,
    palette: Option<Vec<u8>>,
    settings: PngSettings,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let err = |e: png::EncodingError| CodecError::ApiMisuse {
        what: format!("PNG encoder failed: {e}"),
    };
    out.clear();
    // Both fit: rectangles are at most 2048 wide and 65536 pixels.
    let mut enc = png::Encoder::new(&mut *out, w as u32, h as u32);
    enc.set_color(colour);
    enc.set_depth(depth);
    enc.set_compression(settings.compression);
    enc.set_filter(settings.filter);
    enc.set_adaptive_filter(settings.adaptive);
    if let Some(p) = palette {
        enc.set_palette(p);
    }
    let mut writer = enc.write_header().map_err(err)?;
    if settings.stream {
        let io = |e: std::io::Error| CodecError::ApiMisuse {
            what: format!("PNG encoder failed: {e}"),
        };
        let mut stream = writer
            .stream_writer_with_size(PNG_STREAM_CHUNK)
            .map_err(err)?;
        stream.write_all(data).map_err(io)?;
        stream.finish().map_err(err)?;
    } else {
        writer.write_image_data(data).map_err(err)?;
    }
    writer.finish().map_err(err)
}

impl RectEncoder for TightPngEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::TIGHT_PNG
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        let f = *pixels.format();
        f.validate().map_err(|_| CodecError::UnsupportedFormat {
            encoding: NAME,
            why: "invalid pixel format",
        })?;
        if !f.true_colour {
            return Err(CodecError::UnsupportedFormat {
                encoding: NAME,
                why: "TightPNG needs a true-colour format",
            });
        }
        let (w, h) = (pixels.width(), pixels.height());
        let area = u64::from(w) * u64::from(h);
        if w > MAX_WIDTH || area > u64::from(MAX_RECT_PIXELS) {
            return Err(CodecError::ApiMisuse {
                what: format!(
                    "TightPNG rectangle {w}x{h}: at most {MAX_WIDTH} wide and {MAX_RECT_PIXELS} pixels (use tight::split)"
                ),
            });
        }
        let tf = TpixelFormat::new(&f);
        if area == 0 {
            // PNG cannot be empty: an empty fill.
            let zero = [0u8; 4];
            return self.encode_fill(&zero[..tf.pixel_bytes()], &f, out);
        }
        self.tight.clear();
        self.classifier.encode(pixels, &mut self.tight)?;
        match self.classifier.last_method() {
            Some(TightMethod::Fill) => {
                self.put_classifier_output(out);
                self.last = Some(TightPngMethod::Fill);
                return Ok(());
            }
            Some(TightMethod::Jpeg) => {
                self.put_classifier_output(out);
                self.last = Some(TightPngMethod::Jpeg);
                return Ok(());
            }
            _ => {}
        }
        // Keys ignore the bits a 3-byte TPIXEL drops (padding of 32-bit formats).
        let mask = if tf.bytes() == 3 {
            let mut m = [0u8; 4];
            tf.from_tpixel(&[0xff; 3], &mut m);
            u32::from_le_bytes(m)
        } else {
            u32::MAX
        };
        let indexed = self.indexed_settings.is_some()
            && matches!(
                self.classifier.last_method(),
                Some(TightMethod::Mono | TightMethod::Indexed)
            )
            && self.index(pixels, mask);
        if indexed {
            self.indexed_png(usize::from(w), usize::from(h), &tf)?;
            self.last = Some(TightPngMethod::PngIndexed);
        } else {
            self.rgb_png(pixels, &tf)?;
            self.last = Some(TightPngMethod::PngRgb);
        }
        let mut len = Vec::with_capacity(3);
        write_compact_len(self.png.len(), &mut len)?;
        out.extend_from_slice(&[PNG << 4]);
        out.extend_from_slice(&len);
        out.extend_from_slice(&self.png);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Fill,
    Jpeg,
    Png,
}

/// The framing of one TightPNG rectangle: method, data offset and length.
fn parse(
    format: &PixelFormat,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<(Method, usize, usize)>, CodecError> {
    let Some(&ctrl) = buf.first() else {
        return Ok(Progress::NeedMore { at_least: 1 });
    };
    let method = match ctrl >> 4 {
        FILL => {
            let tpx = TpixelFormat::new(format).bytes();
            return Ok(if buf.len() < 1 + tpx {
                Progress::NeedMore { at_least: 1 + tpx }
            } else {
                Progress::Done {
                    item: (Method::Fill, 1, tpx),
                    consumed: 1 + tpx,
                }
            });
        }
        JPEG => {
            if !rgb_capable(format) {
                return Err(malformed(
                    "JPEG needs a true-colour format of 16 or 32 bits per pixel",
                ));
            }
            Method::Jpeg
        }
        PNG => {
            if !format.true_colour {
                return Err(malformed("PNG needs a true-colour format"));
            }
            Method::Png
        }
        0..=7 => {
            return Err(malformed(format!(
                "basic compression (control {ctrl:#04x}) is not allowed in TightPNG"
            )))
        }
        _ => {
            return Err(malformed(format!(
                "invalid compression control {ctrl:#04x}"
            )))
        }
    };
    let Some((len, n)) = read_compact_len(&buf[1..]) else {
        return Ok(Progress::NeedMore {
            at_least: buf.len() + 1,
        });
    };
    if len > limits.max_payload {
        return Err(CodecError::LimitExceeded {
            what: if method == Method::Png {
                "TightPNG PNG length"
            } else {
                "TightPNG JPEG length"
            },
            requested: len.into(),
            allowed: limits.max_payload.into(),
        });
    }
    let total = 1 + n + len as usize;
    Ok(if buf.len() < total {
        Progress::NeedMore { at_least: total }
    } else {
        Progress::Done {
            item: (method, 1 + n, len as usize),
            consumed: total,
        }
    })
}

/// Checks the PNG signature and that the first chunk is an `IHDR` declaring exactly
/// `width` x `height`, before any decoding.
fn check_png_header(data: &[u8], width: u16, height: u16) -> Result<(), CodecError> {
    if width == 0 || height == 0 {
        return Err(malformed("PNG rectangle with no pixels"));
    }
    let head = data
        .get(..24)
        .ok_or_else(|| malformed("PNG shorter than its header"))?;
    if head[..8] != PNG_SIGNATURE {
        return Err(malformed("not a PNG (bad signature)"));
    }
    if head[8..16] != [0, 0, 0, 13, b'I', b'H', b'D', b'R'] {
        return Err(malformed("PNG does not start with an IHDR chunk"));
    }
    let be = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (pw, ph) = (be(16), be(20));
    if pw != u32::from(width) || ph != u32::from(height) {
        return Err(malformed(format!(
            "PNG of {pw}x{ph} for a {width}x{height} rectangle"
        )));
    }
    check_palette(data)
}

/// `IHDR` colour type of an indexed (palette) PNG.
const PNG_INDEXED_COLOUR: u8 = 3;

/// Walks the chunk headers (no allocation, at most one step per 12 bytes) and checks
/// every `PLTE` before the `png` crate sees it: 1 to 256 entries of 3 bytes, and present
/// before the image data of an indexed PNG. (`png` 0.17.16 panics expanding an indexed
/// image whose `PLTE` length is not a multiple of 3: found by our fuzz target, kept in
/// `fuzz/regressions/codec_decode_tight_png/`.)
fn check_palette(data: &[u8]) -> Result<(), CodecError> {
    // The colour type is byte 9 of the IHDR data, which starts at offset 16.
    let indexed = data.get(25) == Some(&PNG_INDEXED_COLOUR);
    let mut at = PNG_SIGNATURE.len();
    let mut palette = false;
    while let Some(head) = data.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let ty = &head[4..8];
        match ty {
            b"PLTE" => {
                if len == 0 || len % 3 != 0 || len > 256 * 3 {
                    return Err(malformed(format!("PNG palette of {len} bytes")));
                }
                palette = true;
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        // Length, type, data, CRC; a length past the end ends the walk (the decoder
        // reports the truncation).
        at = at.saturating_add(12).saturating_add(len);
    }
    if indexed && !palette {
        return Err(malformed("indexed PNG without a palette before its data"));
    }
    Ok(())
}

/// Decodes the PNG `data` (exactly `width` x `height`) to 8-bit samples in `samples`;
/// returns the samples per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA).
fn decode_png(
    data: &[u8],
    width: u16,
    height: u16,
    samples: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    check_png_header(data, width, height)?;
    let n = usize::from(width) * usize::from(height);
    let png_err = |e: png::DecodingError| malformed(format!("PNG: {e}"));
    let mut dec = png::Decoder::new_with_limits(
        data,
        png::Limits {
            // At most 4 samples of 8 bits (after normalisation; 16-bit input is read a
            // row at a time) plus chunk buffers.
            bytes: n * 4 + PNG_DECODER_SLACK,
        },
    );
    dec.set_transformations(Transformations::normalize_to_color8());
    dec.set_ignore_text_chunk(true);
    dec.set_ignore_iccp_chunk(true);
    let mut reader = dec.read_info().map_err(png_err)?;
    let info = reader.info();
    if (info.width, info.height) != (u32::from(width), u32::from(height)) {
        return Err(malformed("PNG size does not match the rectangle"));
    }
    let per_px = match reader.output_color_type() {
        (ColorType::Grayscale, BitDepth::Eight) => 1,
        (ColorType::GrayscaleAlpha, BitDepth::Eight) => 2,
        (ColorType::Rgb, BitDepth::Eight) => 3,
        (ColorType::Rgba, BitDepth::Eight) => 4,
        other => return Err(malformed(format!("PNG decodes to {other:?}"))),
    };
    if reader.output_buffer_size() != n * per_px {
        return Err(malformed("PNG output size does not match the rectangle"));
    }
    samples.clear();
    samples.resize(n * per_px, 0);
    reader.next_frame(samples).map_err(png_err)?;
    Ok(per_px)
}

/// TightPNG decoder: fills, JPEG and PNG; refuses Tight's basic compression.
///
/// [`RectDecoder::frame`] reads the compression-control byte and compact length (capped
/// by [`CodecLimits::max_payload`]). [`RectDecoder::decode`] checks a PNG's signature and
/// `IHDR` size against the rectangle before decoding it (with the `png` crate's
/// allocation limit set to what the rectangle needs), then paints. PNG transparency
/// is ignored (the spec does not define it; colours are painted as they are). A refused
/// rectangle paints nothing.
///
/// ```
/// use rfb_codec::tight::TightPngDecoder;
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
///
/// let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
/// let fill = [0x80, 0x12, 0x34, 0x56];
/// TightPngDecoder::new().decode(Rect::new(0, 0, 2, 2), &fill, &mut fb, &CodecLimits::default()).unwrap();
/// assert_eq!(&fb.row(0)[..4], &[0x56, 0x34, 0x12, 0]);
/// // Basic (zlib) compression is not TightPNG.
/// let basic = [0x00, 1, 2, 3];
/// assert!(TightPngDecoder::new().decode(Rect::new(0, 0, 1, 1), &basic, &mut fb, &CodecLimits::default()).is_err());
/// ```
#[derive(Debug, Default)]
pub struct TightPngDecoder {
    samples: Vec<u8>,
    pixels: Vec<u8>,
}

impl TightPngDecoder {
    /// A new decoder.
    pub fn new() -> TightPngDecoder {
        TightPngDecoder::default()
    }
}

impl RectDecoder for TightPngDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::TIGHT_PNG
    }

    fn frame(
        &mut self,
        _rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        Ok(match parse(format, buf, limits)? {
            Progress::Done { consumed, .. } => Progress::Done { item: (), consumed },
            Progress::NeedMore { at_least } => Progress::NeedMore { at_least },
        })
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let format = *fb.format();
        let (method, at, len) = match parse(&format, payload, limits)? {
            Progress::Done { item, consumed } if consumed == payload.len() => item,
            _ => return Err(malformed("payload does not match its framing")),
        };
        let data = &payload[at..at + len];
        let tf = TpixelFormat::new(&format);
        let bpp = tf.pixel_bytes();
        match method {
            Method::Fill => {
                let mut px = [0u8; 4];
                tf.from_tpixel(data, &mut px[..bpp]);
                fb.fill(rect, &px[..bpp])
            }
            Method::Jpeg => {
                jpeg::decode(data, rect.width, rect.height, &format, &mut self.pixels)?;
                fb.put_pixels(rect, &self.pixels)
            }
            Method::Png => {
                let per_px = decode_png(data, rect.width, rect.height, &mut self.samples)?;
                let n = usize::from(rect.width) * usize::from(rect.height);
                self.pixels.clear();
                self.pixels.resize(n * bpp, 0);
                for (s, px) in self
                    .samples
                    .chunks_exact(per_px)
                    .zip(self.pixels.chunks_exact_mut(bpp))
                {
                    let c = if per_px >= 3 {
                        [s[0], s[1], s[2]]
                    } else {
                        [s[0]; 3]
                    };
                    put_rgb(&tf, c, px);
                }
                fb.put_pixels(rect, &self.pixels)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing_tight::tight_normalised;
    use crate::fuzzing_zlib::formats;
    use crate::planner::psnr;
    use proptest::prelude::*;

    // ---- A PNG writer for test vectors, written from the PNG specification (RFC 2083):
    // signature, chunks of length + type + data + CRC-32, and the image data as a zlib
    // stream (RFC 1950) of one stored deflate block (RFC 1951), so every byte is visible.

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    fn chunk(out: &mut Vec<u8>, ty: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = ty.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }

    /// A PNG of `w` x `h`, colour type `colour`, `depth` bits, optional `PLTE`, and the
    /// filtered rows `rows` (each starting with its filter-type byte).
    fn png_file(
        w: u32,
        h: u32,
        colour: u8,
        depth: u8,
        plte: Option<&[u8]>,
        rows: &[u8],
    ) -> Vec<u8> {
        let mut f = PNG_SIGNATURE.to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
        chunk(&mut f, b"IHDR", &ihdr);
        if let Some(p) = plte {
            chunk(&mut f, b"PLTE", p);
        }
        let n = rows.len() as u16;
        let mut z = vec![0x78, 0x01, 0x01];
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&(!n).to_le_bytes());
        z.extend_from_slice(rows);
        z.extend_from_slice(&adler32(rows).to_be_bytes());
        chunk(&mut f, b"IDAT", &z);
        chunk(&mut f, b"IEND", &[]);
        f
    }

    /// A TightPNG PNG rectangle: control 0xA0, compact length, the file.
    fn png_rect(file: &[u8]) -> Vec<u8> {
        let mut wire = vec![0xa0];
        write_compact_len(file.len(), &mut wire).unwrap();
        wire.extend_from_slice(file);
        wire
    }

    fn decode(
        format: PixelFormat,
        rect: Rect,
        wire: &[u8],
        fb: &mut Framebuffer,
    ) -> Result<(), CodecError> {
        let limits = CodecLimits::default();
        let mut dec = TightPngDecoder::new();
        match dec.frame(rect, &format, wire, &limits)? {
            Progress::Done { consumed, .. } => assert_eq!(consumed, wire.len()),
            Progress::NeedMore { at_least } => panic!("needs {at_least}"),
        }
        dec.decode(rect, wire, fb, &limits)
    }

    #[test]
    fn fill_from_spec() {
        // Fill: control 1000 (reset bits are meaningless here and ignored), TPIXEL
        // red, green, blue for a 32-bit depth-24 format.
        let mut fb = Framebuffer::new(4, 3, PixelFormat::RGB888);
        decode(
            PixelFormat::RGB888,
            Rect::new(1, 1, 2, 2),
            &[0x8f, 0xff, 0x80, 0x01],
            &mut fb,
        )
        .unwrap();
        assert_eq!(
            &fb.row(1)[4..12],
            &[0x01, 0x80, 0xff, 0, 0x01, 0x80, 0xff, 0]
        );
        assert_eq!(fb.row(0), &[0u8; 16][..]);
        // RGB565: the TPIXEL is the pixel itself (2 bytes, little-endian here).
        let mut fb = Framebuffer::new(2, 1, PixelFormat::RGB565);
        decode(
            PixelFormat::RGB565,
            Rect::new(0, 0, 2, 1),
            &[0x80, 0x1f, 0xf8],
            &mut fb,
        )
        .unwrap();
        assert_eq!(fb.row(0), &[0x1f, 0xf8, 0x1f, 0xf8]);
    }

    #[test]
    fn rgb_png_from_spec() {
        // 3x2, colour type 2 (RGB), 8 bits; rows with filter 0 (None).
        let rows = [
            0, 255, 0, 0, 0, 255, 0, 0, 0, 255, //
            0, 1, 2, 3, 4, 5, 6, 250, 251, 252,
        ];
        let wire = png_rect(&png_file(3, 2, 2, 8, None, &rows));
        let mut fb = Framebuffer::new(5, 4, PixelFormat::RGB888);
        decode(PixelFormat::RGB888, Rect::new(1, 2, 3, 2), &wire, &mut fb).unwrap();
        // RGB888 is little-endian 0x00RRGGBB: bytes blue, green, red, 0.
        assert_eq!(
            &fb.row(2)[4..16],
            &[0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0]
        );
        assert_eq!(
            &fb.row(3)[4..16],
            &[3, 2, 1, 0, 6, 5, 4, 0, 252, 251, 250, 0]
        );
        // The same rectangle for an RGB565 client: 8-bit values scaled to 5/6/5 bits.
        let mut fb = Framebuffer::new(3, 2, PixelFormat::RGB565);
        decode(PixelFormat::RGB565, Rect::new(0, 0, 3, 2), &wire, &mut fb).unwrap();
        let px = |x: usize| u16::from_le_bytes([fb.row(0)[2 * x], fb.row(0)[2 * x + 1]]);
        assert_eq!([px(0), px(1), px(2)], [0xf800, 0x07e0, 0x001f]);
    }

    #[test]
    fn indexed_and_filtered_png_from_spec() {
        // 4x2, colour type 3 (palette), 2 bits per index, PLTE of 3 entries; row 0 with
        // filter 0, row 1 with filter 2 (Up: add the byte above).
        let plte = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        // Row 0 indices 0,1,2,1 -> 0b00_01_10_01; row 1 indices 2,2,0,0 -> 0b10_10_00_00,
        // sent as the difference from row 0: 0xa0 - 0x19 = 0x87.
        let rows = [0, 0b0001_1001, 2, 0x87];
        let wire = png_rect(&png_file(4, 2, 3, 2, Some(&plte), &rows));
        let mut fb = Framebuffer::new(4, 2, PixelFormat::RGB888);
        decode(PixelFormat::RGB888, fb.rect(), &wire, &mut fb).unwrap();
        let rgb = |x: usize, y: u16| {
            let p = &fb.row(y)[x * 4..x * 4 + 3];
            [p[2], p[1], p[0]]
        };
        let want = [[10, 20, 30], [40, 50, 60], [70, 80, 90]];
        assert_eq!(
            [rgb(0, 0), rgb(1, 0), rgb(2, 0), rgb(3, 0)],
            [want[0], want[1], want[2], want[1]]
        );
        assert_eq!(
            [rgb(0, 1), rgb(1, 1), rgb(2, 1), rgb(3, 1)],
            [want[2], want[2], want[0], want[0]]
        );
    }

    #[test]
    fn refused() {
        let f = PixelFormat::RGB888;
        let r = Rect::new(0, 0, 3, 2);
        let limits = CodecLimits::default();
        let mut fb = Framebuffer::new(3, 2, f);
        let mut dec = TightPngDecoder::new();
        // Basic compression (any stream, with or without filter) and the other nibbles.
        for ctrl in [0x00u8, 0x40, 0x70, 0xb0, 0xe0, 0xf0] {
            let e = dec.frame(r, &f, &[ctrl, 0, 0, 0, 0], &limits).unwrap_err();
            assert!(matches!(e, CodecError::Malformed { .. }), "{ctrl:#x}: {e}");
        }
        // A PNG declaring other dimensions: refused before decoding.
        let rows = [0u8, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12];
        let wrong = png_rect(&png_file(2, 2, 2, 8, None, &rows));
        let e = dec.decode(r, &wrong, &mut fb, &limits).unwrap_err();
        assert!(e.to_string().contains("PNG of 2x2 for a 3x2"), "{e}");
        // Not a PNG.
        let e = dec
            .decode(r, &png_rect(&[0x89; 40]), &mut fb, &limits)
            .unwrap_err();
        assert!(matches!(e, CodecError::Malformed { .. }));
        // A compact length above the limit.
        let small = CodecLimits {
            max_payload: 100,
            ..CodecLimits::default()
        };
        let e = dec.frame(r, &f, &[0xa0, 0xff, 0x01], &small).unwrap_err();
        assert!(
            matches!(e, CodecError::LimitExceeded { requested: 255, .. }),
            "{e}"
        );
        // Truncated: asks for more.
        assert_eq!(
            dec.frame(r, &f, &[0xa0, 0x90, 0x4e], &limits).unwrap(),
            Progress::NeedMore {
                at_least: 3 + 10000
            }
        );
        assert_eq!(
            dec.frame(r, &f, &[0x80, 1], &limits).unwrap(),
            Progress::NeedMore { at_least: 4 }
        );
        // PNG and JPEG need true colour.
        let cm = PixelFormat::COLOUR_MAP8;
        assert!(dec.frame(r, &cm, &[0xa0, 0], &limits).is_err());
        assert!(dec.frame(r, &cm, &[0x90, 0], &limits).is_err());
        assert!(matches!(
            dec.frame(r, &cm, &[0x80, 7], &limits),
            Ok(Progress::Done { consumed: 2, .. })
        ));
        // Nothing was painted by a refused rectangle.
        assert_eq!(fb, Framebuffer::new(3, 2, f));
        // The encoder refuses colour-map formats.
        let src = Framebuffer::new(4, 4, cm);
        let e = TightPngEncoder::default()
            .encode(&src.view(src.rect()).unwrap(), &mut BytesMut::new())
            .unwrap_err();
        assert!(matches!(e, CodecError::UnsupportedFormat { .. }));
    }

    #[test]
    fn bad_palettes_refused_before_png_sees_them() {
        let rows = [0u8, 0b0001_1001, 0, 0b0110_0000];
        let r = Rect::new(0, 0, 4, 2);
        let mut fb = Framebuffer::new(4, 2, PixelFormat::RGB888);
        // PLTE of 5 bytes (not a multiple of 3), 0 bytes, 257 entries; and no PLTE.
        for plte in [&[1u8, 2, 3, 4, 5][..], &[][..], &[7u8; 257 * 3][..]] {
            let wire = png_rect(&png_file(4, 2, 3, 2, Some(plte), &rows));
            let e = decode(PixelFormat::RGB888, r, &wire, &mut fb).unwrap_err();
            assert!(e.to_string().contains("palette of"), "{e}");
        }
        let wire = png_rect(&png_file(4, 2, 3, 2, None, &rows));
        let e = decode(PixelFormat::RGB888, r, &wire, &mut fb).unwrap_err();
        assert!(e.to_string().contains("without a palette"), "{e}");
        // A suggested palette in an RGB PNG is checked too.
        let rgb = [0u8; 2 * (1 + 4 * 3)];
        let wire = png_rect(&png_file(4, 2, 2, 8, Some(&[1, 2, 3, 4]), &rgb));
        assert!(decode(PixelFormat::RGB888, r, &wire, &mut fb).is_err());
        assert_eq!(fb, Framebuffer::new(4, 2, PixelFormat::RGB888));
    }

    /// A picture of `colours` distinct random colours (0 = every pixel random), in
    /// runs.
    fn picture(format: PixelFormat, w: u16, h: u16, colours: usize, seed: u64) -> Framebuffer {
        let bpp = format.bytes_per_pixel();
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let pal: Vec<u64> = (0..colours.max(1)).map(|_| next()).collect();
        let mut px = vec![0u8; usize::from(w) * usize::from(h) * bpp];
        let mut cur = pal[0];
        for p in px.chunks_exact_mut(bpp) {
            if next() % 3 == 0 {
                cur = if colours == 0 {
                    next()
                } else {
                    pal[(next() % pal.len() as u64) as usize]
                };
            }
            p.copy_from_slice(&cur.to_le_bytes()[..bpp]);
        }
        tight_normalised(&format, &mut px);
        let mut fb = Framebuffer::new(w, h, format);
        fb.put_pixels(fb.rect(), &px).unwrap();
        fb
    }

    /// Formats TightPNG carries losslessly: true colour, channels of at most 8 bits.
    fn lossless_formats() -> Vec<PixelFormat> {
        formats().into_iter().filter(|f| f.true_colour).collect()
    }

    fn round_trip(enc: &mut TightPngEncoder, src: &Framebuffer) -> (Framebuffer, usize) {
        let mut wire = BytesMut::new();
        enc.encode(&src.view(src.rect()).unwrap(), &mut wire)
            .unwrap();
        let mut dst = Framebuffer::new(src.width(), src.height(), *src.format());
        decode(*src.format(), src.rect(), &wire, &mut dst).unwrap();
        (dst, wire.len())
    }

    #[test]
    fn round_trips_choose_the_method() {
        for format in lossless_formats() {
            for (colours, want) in [
                (1, TightPngMethod::Fill),
                (2, TightPngMethod::PngIndexed),
                (13, TightPngMethod::PngIndexed),
                (200, TightPngMethod::PngIndexed),
                (0, TightPngMethod::PngRgb),
            ] {
                let src = picture(format, 61, 37, colours, 7);
                let mut enc = TightPngEncoder::default();
                let (dst, _) = round_trip(&mut enc, &src);
                assert_eq!(dst, src, "{format:?} {colours}");
                // An 8-bit format has at most 256 colours: always indexed.
                if format.bits_per_pixel > 8 {
                    assert_eq!(enc.last_method(), Some(want), "{format:?} {colours}");
                }
            }
        }
    }

    #[test]
    fn empty_rectangle_and_fill_api() {
        let src = Framebuffer::new(0, 5, PixelFormat::RGB888);
        let mut wire = BytesMut::new();
        TightPngEncoder::default()
            .encode(&src.view(src.rect()).unwrap(), &mut wire)
            .unwrap();
        assert_eq!(&wire[..], &[0x80, 0, 0, 0]);
    }

    /// A smooth, busy picture (photo-like).
    fn photo(w: u16, h: u16) -> Framebuffer {
        let mut fb = Framebuffer::new(w, h, PixelFormat::RGB888);
        let mut px = Vec::new();
        for y in 0..u32::from(h) {
            for x in 0..u32::from(w) {
                let n = (x * 7919 + y * 104_729) % 13;
                px.extend_from_slice(&[
                    ((x * 3 + n) % 256) as u8,
                    ((y * 2 + x + n) % 256) as u8,
                    ((x * y / 8 + n) % 256) as u8,
                    0,
                ]);
            }
        }
        fb.put_pixels(fb.rect(), &px).unwrap();
        fb
    }

    #[test]
    fn jpeg_only_with_a_quality_level() {
        let src = photo(128, 96);
        let mut enc = TightPngEncoder::default();
        let (dst, _) = round_trip(&mut enc, &src);
        assert_eq!(enc.last_method(), Some(TightPngMethod::PngRgb));
        assert_eq!(dst, src);
        let mut enc = TightPngEncoder::new(TightPngConfig::from_encodings(&[
            Encoding::TIGHT_PNG,
            Encoding::for_quality_level(8),
        ]));
        let mut wire = BytesMut::new();
        enc.encode(&src.view(src.rect()).unwrap(), &mut wire)
            .unwrap();
        assert_eq!(enc.last_method(), Some(TightPngMethod::Jpeg));
        assert_eq!(wire[0], 0x90);
        let mut dst = Framebuffer::new(128, 96, PixelFormat::RGB888);
        decode(PixelFormat::RGB888, dst.rect(), &wire, &mut dst).unwrap();
        let p = psnr(&src, &dst);
        assert!(p > 30.0, "PSNR {p}");
    }

    #[test]
    fn planner_sends_tightpng_first_in_the_list_true_colour_only() {
        use crate::planner::{UpdatePlanner, WireEncoding};
        use crate::Region;
        let list = [Encoding::TIGHT_PNG, Encoding::TIGHT, Encoding::COPY_RECT];
        let mut fb = photo(300, 200);
        fb.fill(Rect::new(0, 0, 300, 130), &[0x20, 0x40, 0x60, 0])
            .unwrap();
        fb.fill(Rect::new(10, 140, 50, 20), &[0xff, 0xff, 0xff, 0])
            .unwrap();
        let f = *fb.format();
        let mut p = UpdatePlanner::new(f, f, None, &list).unwrap();
        assert_eq!(p.wire_encoding(), WireEncoding::TightPng);
        assert_eq!(WireEncoding::TightPng.encoding(), Encoding::TIGHT_PNG);
        let mut out = BytesMut::new();
        let sum = p
            .plan(&fb, &Region::from(fb.rect()), &[], &mut out)
            .unwrap();
        assert!(sum.solids > 0);
        // Decode every rectangle with the TightPNG decoder.
        let mut dst = Framebuffer::new(300, 200, f);
        let mut dec = TightPngDecoder::new();
        let limits = CodecLimits::default();
        let count = u16::from_be_bytes([out[2], out[3]]);
        let mut at = 4;
        for _ in 0..count {
            let h = &out[at..at + 12];
            let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            let r = Rect::new(be(0), be(2), be(4), be(6));
            assert_eq!(i32::from_be_bytes([h[8], h[9], h[10], h[11]]), -260);
            at += 12;
            let Progress::Done { consumed, .. } = dec.frame(r, &f, &out[at..], &limits).unwrap()
            else {
                panic!("truncated");
            };
            dec.decode(r, &out[at..at + consumed], &mut dst, &limits)
                .unwrap();
            at += consumed;
        }
        assert_eq!(at, out.len());
        assert_eq!(dst, fb);
        // Not for a colour-map client (Tight is next in its list), again once it
        // switches to true colour.
        let pal = crate::Palette::colour_cube();
        let mut p = UpdatePlanner::new(f, PixelFormat::COLOUR_MAP8, Some(&pal), &list).unwrap();
        assert_eq!(p.wire_encoding(), WireEncoding::Tight);
        p.set_pixel_format(PixelFormat::RGB565, None).unwrap();
        assert_eq!(p.wire_encoding(), WireEncoding::TightPng);
        // Tight first in the list (noVNC 1.3's order): Tight.
        let p = UpdatePlanner::new(f, f, None, &[Encoding::TIGHT, Encoding::TIGHT_PNG]).unwrap();
        assert_eq!(p.wire_encoding(), WireEncoding::Tight);
    }

    /// The fuzz seed written by scripts/make-seeds.py (PNG files built there with
    /// Python's zlib, rows filtered None/Sub/Up) decodes without error, pixels as built.
    #[test]
    fn fuzz_seed_decodes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/corpus/codec_decode_tight_png/fill-png-rgb-png-indexed"
        );
        let Ok(data) = std::fs::read(path) else {
            return; // not in a packaged crate
        };
        let f = formats()[usize::from(data[0])];
        let mut fb = Framebuffer::new(48, 40, f);
        let mut dec = TightPngDecoder::new();
        let limits = CodecLimits::default();
        let mut rest = &data[1..];
        let mut n = 0;
        while rest.len() >= 4 {
            let r = Rect::new(
                rest[0].into(),
                rest[1].into(),
                rest[2].into(),
                rest[3].into(),
            );
            rest = &rest[4..];
            let Progress::Done { consumed, .. } = dec.frame(r, &f, rest, &limits).unwrap() else {
                panic!("truncated seed");
            };
            dec.decode(r, &rest[..consumed], &mut fb, &limits).unwrap();
            rest = &rest[consumed..];
            n += 1;
        }
        assert_eq!(n, 3);
        let rgb = |x: usize, y: u16| {
            let p = &fb.row(y)[x * 4..x * 4 + 3];
            [p[2], p[1], p[0]]
        };
        assert_eq!(rgb(0, 0), [255, 0, 0]); // fill
        assert_eq!(rgb(7, 1), [10, 20, 30]); // Sub row: first pixel (10, 20, 30), then copies
        assert_eq!(rgb(9, 1), [10, 20, 30]);
        assert_eq!(rgb(6, 2), [10, 20, 30]); // Up row: same as above
        assert_eq!([rgb(10, 10), rgb(11, 10)], [[255, 255, 255], [0, 0, 255]]); // 1-bit indices 1, 0
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn lossless_round_trip(
            fi in 0usize..64,
            w in 1u16..90,
            h in 1u16..50,
            colours in prop::sample::select(vec![0usize, 1, 2, 3, 5, 17, 255, 256, 300]),
            seed in any::<u64>(),
        ) {
            let fmts = lossless_formats();
            let src = picture(fmts[fi % fmts.len()], w, h, colours, seed);
            let (dst, _) = round_trip(&mut TightPngEncoder::default(), &src);
            prop_assert_eq!(dst, src);
        }

        #[test]
        fn any_bytes(fi in 0usize..64, w in 0u16..20, h in 0u16..20, wire in prop::collection::vec(any::<u8>(), 0..300)) {
            let fmts = formats();
            let format = fmts[fi % fmts.len()];
            let mut fb = Framebuffer::new(20, 20, format);
            let limits = CodecLimits::default();
            let mut dec = TightPngDecoder::new();
            let r = Rect::new(0, 0, w, h);
            if let Ok(Progress::Done { consumed, .. }) = dec.frame(r, &format, &wire, &limits) {
                let _ = dec.decode(r, &wire[..consumed], &mut fb, &limits);
            }
        }

        #[test]
        fn mutated_png(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
            let src = picture(PixelFormat::RGB888, 23, 11, 0, 3);
            let mut wire = BytesMut::new();
            TightPngEncoder::default().encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
            let mut wire = wire.to_vec();
            for (i, v) in flips {
                let i = 3 + i.index(wire.len() - 3); // keep the framing
                wire[i] = v;
            }
            let mut fb = Framebuffer::new(23, 11, PixelFormat::RGB888);
            let _ = TightPngDecoder::new().decode(fb.rect(), &wire, &mut fb, &CodecLimits::default());
        }
    }

    /// Measures PNG settings on raw 24-bit RGB frames (`$TIGHTPNG_FRAMES/*.rgb`,
    /// 1280x720); the numbers are in the module docs.
    #[test]
    #[ignore]
    fn measure() {
        let Ok(dir) = std::env::var("TIGHTPNG_FRAMES") else {
            eprintln!("set TIGHTPNG_FRAMES");
            return;
        };
        let (w, h) = (1280u16, 720u16);
        let fd = PngSettings {
            stream: false,
            adaptive: AdaptiveFilterType::NonAdaptive,
            ..PNG_RGB_FASTEST
        };
        let adaptive = AdaptiveFilterType::Adaptive;
        let variants: [(&str, PngSettings, Option<PngSettings>); 8] = [
            ("rgb fdeflate sub", fd, None),
            ("rgb fdeflate adaptive (level 0-1)", PNG_RGB_FASTEST, None),
            ("rgb zlib1 sub (level 2-5)", PNG_RGB, None),
            (
                "rgb zlib1 paeth",
                PngSettings {
                    filter: FilterType::Paeth,
                    ..PNG_RGB
                },
                None,
            ),
            (
                "rgb zlib1 adaptive",
                PngSettings {
                    adaptive,
                    ..PNG_RGB
                },
                None,
            ),
            ("rgb zlib6 adaptive (level 6-9)", PNG_RGB_SMALL, None),
            (
                "indexed + rgb, level 2 (default)",
                PNG_RGB,
                Some(settings_of(2).1),
            ),
            (
                "indexed + rgb, level 6",
                PNG_RGB_SMALL,
                Some(settings_of(6).1),
            ),
        ];
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "rgb").then_some(p)
            })
            .collect();
        names.sort();
        for path in names {
            let raw = std::fs::read(&path).unwrap();
            let mut fb = Framebuffer::new(w, h, PixelFormat::RGB888);
            let px: Vec<u8> = raw
                .chunks_exact(3)
                .flat_map(|c| [c[2], c[1], c[0], 0])
                .collect();
            fb.put_pixels(fb.rect(), &px).unwrap();
            for (name, settings, indexed) in &variants {
                let mut enc = TightPngEncoder {
                    rgb_settings: *settings,
                    indexed_settings: *indexed,
                    ..TightPngEncoder::default()
                };
                let mut best = f64::MAX;
                let mut bytes = 0;
                for _ in 0..3 {
                    let t = std::time::Instant::now();
                    bytes = 0;
                    for r in super::super::split(fb.rect()) {
                        let mut out = BytesMut::new();
                        enc.encode(&fb.view(r).unwrap(), &mut out).unwrap();
                        bytes += out.len();
                    }
                    best = best.min(t.elapsed().as_secs_f64());
                }
                let raw_bytes = f64::from(w) * f64::from(h) * 3.0;
                eprintln!(
                    "{:?} {name}: ratio {:.2} @ {:.0} MPix/s",
                    path.file_name().unwrap(),
                    raw_bytes / bytes as f64,
                    f64::from(w) * f64::from(h) / best / 1e6
                );
            }
            // Tight lossless (compress 2) for reference.
            let mut t = TightEncoder::new(TightConfig::default());
            let start = std::time::Instant::now();
            let mut bytes = 0;
            for r in super::super::split(fb.rect()) {
                let mut out = BytesMut::new();
                t.encode(&fb.view(r).unwrap(), &mut out).unwrap();
                bytes += out.len();
            }
            eprintln!(
                "{:?} tight lossless c2: ratio {:.2} @ {:.0} MPix/s",
                path.file_name().unwrap(),
                f64::from(w) * f64::from(h) * 3.0 / bytes as f64,
                f64::from(w) * f64::from(h) / start.elapsed().as_secs_f64() / 1e6
            );
        }
    }
}
