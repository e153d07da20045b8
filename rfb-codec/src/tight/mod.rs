//! The Tight encoding (7): fills, palettes, filtered zlib data over four persistent zlib
//! streams, and JPEG.
//!
//! # Wire format
//!
//! Community RFB spec, "Tight Encoding". Every rectangle starts with a
//! *compression-control* byte. Its low four bits ask the decoder to reset zlib streams
//! 0..=3 before decoding (on every kind of rectangle, fills and JPEG included). Its high
//! four bits choose the method:
//!
//! | high nibble | method | then |
//! |---|---|---|
//! | `0ssf` (0..=7) | basic, zlib stream `ss`, `f` = a filter-id byte follows | [filter id], filter header, data |
//! | `1000` | fill | one TPIXEL |
//! | `1001` | JPEG | compact length, JFIF data |
//! | `1010` / `1110` | basic without zlib (without / with filter id) | [filter id], filter header, raw data |
//! | other | invalid | |
//!
//! Filters: 0 copy (TPIXELs), 1 palette (count − 1 in one byte, that many TPIXELs, then
//! 1-bit indices for two colours — most significant bit leftmost, rows padded to a
//! byte — or 8-bit indices otherwise), 2 gradient (per channel, the difference between
//! the pixel and the prediction `left + above − above-left` clamped to the channel's
//! range, for 16 and 32 bits per pixel only).
//!
//! Filtered data shorter than 12 bytes ([`MIN_TO_COMPRESS`]) is sent as it is; longer data
//! is a [compact length](write_compact_len) and that many bytes of the chosen zlib
//! stream, sync-flushed.
//!
//! A **TPIXEL** is a pixel in the agreed format, except for true-colour formats of 32 bits
//! per pixel, depth 24 and 8-bit channels: then it is three bytes, red, green, blue
//! ([`TpixelFormat`]).
//!
//! # Lanes
//!
//! [`TightEncoder`] uses the four streams as four lanes with one zlib level each:
//! stream 0 carries full-colour copy-filtered data, 1 two-colour bitmaps, 2 indexed
//! (palette) data and 3 gradient-filtered data. TigerVNC uses 0..=2 the same way.
//!
//! # Choices
//!
//! JPEG: our own baseline encoder ([`crate::jpeg`], AVX2 with a scalar twin) encodes
//! and `zune-jpeg` (0.5: 0.4 panicked on a mutated JFIF) decodes. The `jpeg-encoder`
//! crate encoded until session 3; at TigerVNC's quality level 8 (quality 92, 4:4:4) it
//! ran at 43–74 MPix/s on a photo frame here, ours at 154–241 (libjpeg-turbo's
//! `tjbench` 157–195), with equal size and PSNR (`crate::jpeg`'s `NOTES.md`).
//!
//! `NOTES.md` beside this file has the thresholds behind the encoder's choices, the
//! measurements on the recorded corpus against TigerVNC, and the interop checks (noVNC
//! cannot decode the gradient filter, so [`TightConfig::default`] does not use it).
//!
//! # TightPNG
//!
//! TightPNG (-260, noVNC's variant) shares this framing with fills and JPEG but sends
//! PNG files instead of zlib data: [`TightPngEncoder`], [`TightPngDecoder`].

mod decoder;
mod encoder;
mod filters;
pub(crate) mod jpeg;
mod png;

pub use self::png::{TightPngConfig, TightPngDecoder, TightPngEncoder, TightPngMethod};
pub use decoder::TightDecoder;
pub(crate) use encoder::{deflate_on, prepare, Owned, Scratch};
pub use encoder::{
    GradientMode, JpegSettings, Subsampling, TightConfig, TightEncoder, TightMethod,
};

use rfb_proto::{PixelFormat, Rect};

use crate::pixel::{pixel_value, put_pixel_value};
use crate::CodecError;

/// Filtered data shorter than this is sent uncompressed (spec).
pub const MIN_TO_COMPRESS: usize = 12;

/// Widest rectangle the Tight encoding allows (spec; TigerVNC refuses wider ones).
pub const MAX_WIDTH: u16 = 2048;

/// Most pixels [`TightEncoder`] accepts in one rectangle (like TigerVNC's sub-rectangle
/// limit); [`split`] cuts larger rectangles.
pub const MAX_RECT_PIXELS: u32 = 65536;

/// Largest value a compact length can carry (22 bits).
pub const MAX_COMPACT_LEN: u32 = (1 << 22) - 1;

pub(crate) const NAME: &str = "Tight";

/// Compression-control high nibble of a fill.
pub(crate) const FILL: u8 = 0x8;
/// Compression-control high nibble of JPEG.
pub(crate) const JPEG: u8 = 0x9;
/// Basic compression without zlib, no filter id.
pub(crate) const NO_ZLIB: u8 = 0xA;
/// Basic compression without zlib, with a filter id.
pub(crate) const NO_ZLIB_FILTER: u8 = 0xE;
/// Bit of the compression-control byte: a filter id follows (basic compression).
pub(crate) const READ_FILTER: u8 = 0x40;

/// Filter ids.
pub(crate) const FILTER_COPY: u8 = 0;
pub(crate) const FILTER_PALETTE: u8 = 1;
pub(crate) const FILTER_GRADIENT: u8 = 2;

/// Appends `len` (at most [`MAX_COMPACT_LEN`]) in Tight's compact representation: 7 bits
/// per byte, least significant first, the high bit of the first two bytes meaning
/// "another byte follows"; the third byte carries 8 bits.
///
/// ```
/// let mut out = Vec::new();
/// rfb_codec::tight::write_compact_len(10000, &mut out).unwrap();
/// assert_eq!(out, [0x90, 0x4e]); // the spec's example
/// ```
pub fn write_compact_len(len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
    if len > MAX_COMPACT_LEN as usize {
        return Err(CodecError::LimitExceeded {
            what: "Tight compact length",
            requested: len as u64,
            allowed: MAX_COMPACT_LEN.into(),
        });
    }
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x4000 {
        out.extend_from_slice(&[(len as u8 & 0x7f) | 0x80, (len >> 7) as u8]);
    } else {
        out.extend_from_slice(&[
            (len as u8 & 0x7f) | 0x80,
            ((len >> 7) as u8 & 0x7f) | 0x80,
            (len >> 14) as u8,
        ]);
    }
    Ok(())
}

/// Reads a compact length from the start of `buf`: `Some((value, bytes used))`, or `None`
/// when `buf` ends first.
///
/// ```
/// assert_eq!(rfb_codec::tight::read_compact_len(&[0x90, 0x4e]), Some((10000, 2)));
/// assert_eq!(rfb_codec::tight::read_compact_len(&[0x90]), None);
/// ```
pub fn read_compact_len(buf: &[u8]) -> Option<(u32, usize)> {
    let b0 = *buf.first()?;
    let mut v = u32::from(b0 & 0x7f);
    if b0 & 0x80 == 0 {
        return Some((v, 1));
    }
    let b1 = *buf.get(1)?;
    v |= u32::from(b1 & 0x7f) << 7;
    if b1 & 0x80 == 0 {
        return Some((v, 2));
    }
    let b2 = *buf.get(2)?;
    v |= u32::from(b2) << 14;
    Some((v, 3))
}

/// Cuts `rect` into rectangles [`TightEncoder`] accepts: at most [`MAX_WIDTH`] wide and
/// [`MAX_RECT_PIXELS`] pixels, in rows of equal-height bands (a multiple of 8 rows, the
/// JPEG block height, when 16 or more), left to right.
///
/// ```
/// use rfb_codec::{tight, Rect};
/// let parts = tight::split(Rect::new(0, 0, 3000, 100));
/// assert!(parts.iter().all(|r| r.width <= 2048 && r.area() <= 65536));
/// assert_eq!(parts.iter().map(|r| r.area()).sum::<u64>(), 300_000);
/// ```
pub fn split(rect: Rect) -> Vec<Rect> {
    let mut out = Vec::new();
    if rect.is_empty() {
        return out;
    }
    let cols = rect.width.div_ceil(MAX_WIDTH);
    let col_w = rect.width.div_ceil(cols);
    let band_h = (MAX_RECT_PIXELS / u32::from(col_w)).clamp(1, u32::from(u16::MAX)) as u16;
    // Whole 8-row JPEG block rows: a 51-row band would encode 56 rows of blocks.
    let band_h = if band_h >= 16 { band_h & !7 } else { band_h };
    let mut y = 0u16;
    while y < rect.height {
        let h = band_h.min(rect.height - y);
        let mut x = 0u16;
        while x < rect.width {
            let w = col_w.min(rect.width - x);
            out.push(Rect::new(rect.x + x, rect.y + y, w, h));
            x += w;
        }
        y += h;
    }
    out
}

/// How TPIXELs relate to the pixels of a format.
///
/// ```
/// use rfb_codec::{tight::TpixelFormat, PixelFormat};
/// assert_eq!(TpixelFormat::new(&PixelFormat::RGB888).bytes(), 3);
/// assert_eq!(TpixelFormat::new(&PixelFormat::RGB565).bytes(), 2);
/// let mut deep = PixelFormat::RGB888;
/// deep.depth = 32;
/// assert_eq!(TpixelFormat::new(&deep).bytes(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpixelFormat {
    format: PixelFormat,
    bpp: usize,
    /// 3 for the 8-bit-channel 32-bit formats, else `bpp`.
    tpx: usize,
    /// Memory offsets of red, green and blue inside a 4-byte pixel, when every channel
    /// sits on a byte boundary (fast path), for 3-byte TPIXELs.
    offsets: Option<[usize; 3]>,
}

impl TpixelFormat {
    /// The TPIXEL rules of `format`.
    pub fn new(format: &PixelFormat) -> TpixelFormat {
        let bpp = format.bytes_per_pixel();
        let rgb24 = format.true_colour
            && format.bits_per_pixel == 32
            && format.depth == 24
            && format.red_max == 255
            && format.green_max == 255
            && format.blue_max == 255;
        let shifts = [format.red_shift, format.green_shift, format.blue_shift];
        let offsets = (rgb24 && shifts.iter().all(|s| s % 8 == 0 && *s <= 24)).then(|| {
            shifts.map(|s| {
                let b = usize::from(s / 8);
                if format.big_endian {
                    3 - b
                } else {
                    b
                }
            })
        });
        TpixelFormat {
            format: *format,
            bpp,
            tpx: if rgb24 { 3 } else { bpp },
            offsets,
        }
    }

    /// Memory offsets of red, green and blue inside a 4-byte pixel, when this is a
    /// 3-byte-TPIXEL format whose channels sit on byte boundaries.
    pub(crate) fn offsets(&self) -> Option<[usize; 3]> {
        self.offsets
    }

    /// Bytes per TPIXEL.
    pub fn bytes(&self) -> usize {
        self.tpx
    }

    /// Bytes per pixel of the format.
    pub fn pixel_bytes(&self) -> usize {
        self.bpp
    }

    /// The pixel format.
    pub fn format(&self) -> &PixelFormat {
        &self.format
    }

    /// Writes the TPIXEL of the pixel `px` (`pixel_bytes()` long) to `out` (`bytes()`).
    pub fn to_tpixel(&self, px: &[u8], out: &mut [u8]) {
        if self.tpx != 3 {
            out[..self.tpx].copy_from_slice(&px[..self.tpx]);
            return;
        }
        if let Some([r, g, b]) = self.offsets {
            out[0] = px[r];
            out[1] = px[g];
            out[2] = px[b];
            return;
        }
        let v = pixel_value(px, &self.format);
        let f = &self.format;
        out[0] = v.checked_shr(f.red_shift.into()).unwrap_or(0) as u8;
        out[1] = v.checked_shr(f.green_shift.into()).unwrap_or(0) as u8;
        out[2] = v.checked_shr(f.blue_shift.into()).unwrap_or(0) as u8;
    }

    /// Writes the pixel of the TPIXEL `t` (`bytes()` long) to `out` (`pixel_bytes()`);
    /// bits outside the colour channels of a 3-byte TPIXEL's pixel are zero.
    pub fn from_tpixel(&self, t: &[u8], out: &mut [u8]) {
        if self.tpx != 3 {
            out[..self.tpx].copy_from_slice(&t[..self.tpx]);
            return;
        }
        if let Some([r, g, b]) = self.offsets {
            out[..4].fill(0);
            out[r] = t[0];
            out[g] = t[1];
            out[b] = t[2];
            return;
        }
        let f = &self.format;
        let sh = |v: u8, s: u8| u32::from(v).checked_shl(s.into()).unwrap_or(0);
        let v = sh(t[0], f.red_shift) | sh(t[1], f.green_shift) | sh(t[2], f.blue_shift);
        put_pixel_value(v, f, out);
    }
}

/// Whether the gradient filter and JPEG may be used with `format` (true colour, 16 or 32
/// bits per pixel).
pub(crate) fn rgb_capable(format: &PixelFormat) -> bool {
    format.true_colour && matches!(format.bits_per_pixel, 16 | 32)
}

pub(crate) fn malformed(what: impl Into<String>) -> CodecError {
    CodecError::Malformed {
        encoding: NAME,
        what: what.into(),
    }
}
