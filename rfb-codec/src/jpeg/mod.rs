//! A fast baseline JPEG encoder (JFIF, 8-bit), written for Tight's JPEG rectangles.
//!
//! [`JpegEncoder`] reads pixels straight from a [`PixelView`] and appends a baseline
//! sequential JFIF stream: SOI, APP0 (JFIF 1.1), DQT, SOF0, DHT, SOS, the entropy-coded
//! scan, EOI. The choices:
//!
//! - **Tables**: the example quantisation tables of ITU-T T.81 Annex K.1 scaled by the
//!   IJG quality formula (the numbers libjpeg's `jpeg_set_quality(q, TRUE)` produces,
//!   clamped to 1..=255), and the example Huffman tables of Annex K.3 (no optimised
//!   tables: one pass over the pixels), no restart markers.
//! - **Sampling** ([`JpegSampling`]): 4:4:4, 4:2:2 (2x1), 4:2:0 (2x2) or grayscale (one
//!   component). Partial edge MCUs repeat the last column and row, as libjpeg does.
//! - **Colour**: BT.601 full-range RGB to YCbCr (JFIF), computed in f32 straight into
//!   the DCT's input (no rounding to 8 bits in between); chroma is averaged in f32.
//! - **DCT**: the float AAN algorithm, with its output scale folded into the
//!   quantisation multipliers (as libjpeg's float DCT does); quantised values are
//!   rounded half to even. With AVX2 (detected at run time), one 8x8 block is eight
//!   registers of 8 f32 lanes, transposed in registers; conversion, DCT, quantisation
//!   and the zigzag non-zero mask all run in one kernel per MCU. The scalar twin does
//!   the same f32 operations in the same order (no FMA), so both produce the same
//!   bytes (the tests demand equality).
//! - **Huffman**: a 64-bit bit accumulator flushed eight bytes at a time with one
//!   word-wide test for 0xFF bytes, (code, length) per symbol computed at compile time,
//!   and the non-zero coefficients found by walking the zigzag mask with
//!   `trailing_zeros`.
//! - **Input**: 32-bit pixels whose channels are whole bytes (RGBX, BGRX, XRGB, ...) are
//!   read in place; every other true-colour format is converted per MCU into a small
//!   stack tile. The encoder holds no heap memory: only its quantisation tables.
//!
//! Measured on the project's 2-core AVX2 machine (details in `NOTES.md` beside this
//! file), on a 1280x720 photo frame at quality 92, 4:4:4: ≈ 220–240 MPix/s with AVX2
//! (best of 40), 3–4x the `jpeg-encoder` crate and level with or above libjpeg-turbo
//! (`tjbench`: 157–195 MPix/s), at 1.7 % fewer bytes than either (libjpeg-turbo with its
//! default DCT) and 0.1 dB more PSNR; 4:2:0 ≈ 370 MPix/s. The scalar twin runs at
//! ≈ 55 MPix/s.

mod huffman;
mod scalar;
mod tables;
#[cfg(target_arch = "x86_64")]
mod x86_avx2;

#[cfg(test)]
mod tests;

use rfb_proto::PixelFormat;

use crate::pixel::{pixel_value, rgb8};
use crate::{CodecError, PixelView};

use huffman::BitWriter;
use tables::{
    AC_CHROMA_BITS, AC_CHROMA_VALS, AC_LUMA_BITS, AC_LUMA_VALS, CHROMA_QUANT, DC_CHROMA_BITS,
    DC_CHROMA_VALS, DC_LUMA_BITS, DC_LUMA_VALS, LUMA_QUANT, ZIGZAG,
};

const NAME: &str = "JPEG";

/// Chroma subsampling of a JPEG stream.
///
/// ```
/// use rfb_codec::jpeg::JpegSampling;
/// assert_eq!(JpegSampling::Yuv420.mcu_size(), (16, 16));
/// assert_eq!(JpegSampling::Gray.components(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JpegSampling {
    /// Full-resolution chroma (4:4:4, every component 1x1).
    Yuv444,
    /// Chroma halved horizontally (4:2:2: luma 2x1).
    Yuv422,
    /// Chroma halved in both directions (4:2:0: luma 2x2).
    Yuv420,
    /// Luma only: a one-component grayscale JPEG.
    Gray,
}

impl JpegSampling {
    /// Width and height in pixels of one MCU (minimum coded unit).
    pub fn mcu_size(self) -> (u16, u16) {
        let l = Layout::from(self);
        (l.width() as u16, l.height() as u16)
    }

    /// Number of colour components in the stream (1 or 3).
    pub fn components(self) -> usize {
        if self == JpegSampling::Gray {
            1
        } else {
            3
        }
    }
}

/// The implementation of the conversion, DCT and quantisation kernels.
///
/// ```
/// use rfb_codec::jpeg::JpegKernel;
/// let k = JpegKernel::detect();
/// assert!(k.available());
/// assert!(JpegKernel::Scalar.available());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JpegKernel {
    /// Portable f32 code (the scalar twin).
    Scalar,
    /// AVX2, one block row per register (x86-64 with AVX2, BMI1, BMI2 and LZCNT, which
    /// every AVX2 CPU has; the Huffman coder is compiled with the latter three).
    Avx2,
}

impl JpegKernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> JpegKernel {
        if JpegKernel::Avx2.available() {
            JpegKernel::Avx2
        } else {
            JpegKernel::Scalar
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn available(self) -> bool {
        match self {
            JpegKernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            JpegKernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("bmi1")
                    && std::arch::is_x86_feature_detected!("bmi2")
                    && std::arch::is_x86_feature_detected!("lzcnt")
            }
            #[cfg(not(target_arch = "x86_64"))]
            JpegKernel::Avx2 => false,
        }
    }

    fn scan(self, pixels: &PixelView<'_>, layout: Layout, q: &Quant, out: &mut Vec<u8>) {
        match self {
            #[cfg(target_arch = "x86_64")]
            JpegKernel::Avx2 => x86_avx2::scan(pixels, layout, q, out),
            _ => scan(pixels, layout, q, out, scalar::encode_mcu, |w, m, c, p| {
                huffman::encode_blocks(w, m, c, p, huffman::encode_block_scalar)
            }),
        }
    }
}

/// MCU geometry of a sampling mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Gray,
    S444,
    S422,
    S420,
}

impl From<JpegSampling> for Layout {
    fn from(s: JpegSampling) -> Layout {
        match s {
            JpegSampling::Yuv444 => Layout::S444,
            JpegSampling::Yuv422 => Layout::S422,
            JpegSampling::Yuv420 => Layout::S420,
            JpegSampling::Gray => Layout::Gray,
        }
    }
}

impl Layout {
    pub(crate) fn width(self) -> usize {
        match self {
            Layout::Gray | Layout::S444 => 8,
            Layout::S422 | Layout::S420 => 16,
        }
    }

    pub(crate) fn height(self) -> usize {
        match self {
            Layout::S420 => 16,
            _ => 8,
        }
    }

    /// The component (0 = Y, 1 = Cb, 2 = Cr) of each block of an MCU, in order.
    fn blocks(self) -> &'static [usize] {
        match self {
            Layout::Gray => &[0],
            Layout::S444 => &[0, 1, 2],
            Layout::S422 => &[0, 0, 1, 2],
            Layout::S420 => &[0, 0, 0, 0, 1, 2],
        }
    }

    /// The luma sampling factors byte of SOF0 (H << 4 | V).
    fn luma_factors(self) -> u8 {
        match self {
            Layout::Gray | Layout::S444 => 0x11,
            Layout::S422 => 0x21,
            Layout::S420 => 0x22,
        }
    }
}

/// Quantisation multipliers for the kernels (transposed layout, see
/// [`tables::divisors`]).
#[derive(Debug, Clone)]
pub(crate) struct Quant {
    pub(crate) luma: [f32; 64],
    pub(crate) chroma: [f32; 64],
}

/// One MCU's quantised blocks (transposed layout) and their zigzag non-zero masks.
#[derive(Debug, Clone)]
pub(crate) struct McuOut {
    pub(crate) coef: [[i16; 64]; 6],
    pub(crate) mask: [u64; 6],
}

impl Default for McuOut {
    fn default() -> McuOut {
        McuOut {
            coef: [[0; 64]; 6],
            mask: [0; 6],
        }
    }
}

/// A baseline JPEG encoder: quantisation tables for the last quality used, and the
/// kernel. Holds no heap memory; keep one per connection (or make one per image: it is
/// cheap to create).
///
/// ```
/// use rfb_codec::jpeg::{JpegEncoder, JpegSampling};
/// use rfb_codec::{Framebuffer, PixelFormat, Rect};
///
/// let mut fb = Framebuffer::new(20, 10, PixelFormat::RGB888);
/// fb.fill(Rect::new(0, 0, 10, 10), &[0x20, 0x80, 0xe0, 0]).unwrap();
/// let view = fb.view(fb.rect()).unwrap();
/// let mut jpeg = Vec::new();
/// JpegEncoder::new().encode(&view, 92, JpegSampling::Yuv444, &mut jpeg).unwrap();
/// assert_eq!(&jpeg[..2], &[0xff, 0xd8]); // SOI
/// assert_eq!(&jpeg[jpeg.len() - 2..], &[0xff, 0xd9]); // EOI
///
/// // Zero-sized images and qualities outside 1..=100 are refused.
/// let empty = fb.view(Rect::new(0, 0, 0, 4)).unwrap();
/// assert!(JpegEncoder::new().encode(&empty, 92, JpegSampling::Gray, &mut jpeg).is_err());
/// assert!(JpegEncoder::new().encode(&view, 0, JpegSampling::Gray, &mut jpeg).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct JpegEncoder {
    kernel: JpegKernel,
    quality: u8,
    tables: [[u8; 64]; 2],
    quant: Quant,
}

impl Default for JpegEncoder {
    fn default() -> JpegEncoder {
        JpegEncoder::new()
    }
}

impl JpegEncoder {
    /// An encoder using the fastest kernel this CPU runs ([`JpegKernel::detect`]).
    pub fn new() -> JpegEncoder {
        JpegEncoder::build(JpegKernel::detect())
    }

    /// An encoder using `kernel`, or `None` if this CPU cannot run it. Every kernel
    /// produces the same bytes; this is for tests and benchmarks.
    pub fn with_kernel(kernel: JpegKernel) -> Option<JpegEncoder> {
        kernel.available().then(|| JpegEncoder::build(kernel))
    }

    fn build(kernel: JpegKernel) -> JpegEncoder {
        // Quality 0 marks the tables as not computed yet: `encode` fills them for the
        // quality it is given (1..=100) before using them.
        JpegEncoder {
            kernel,
            quality: 0,
            tables: [[0; 64]; 2],
            quant: Quant {
                luma: [0.0; 64],
                chroma: [0.0; 64],
            },
        }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> JpegKernel {
        self.kernel
    }

    fn set_quality(&mut self, quality: u8) {
        if quality != self.quality {
            self.quality = quality;
            self.tables = [
                tables::scaled_quant(&LUMA_QUANT, quality),
                tables::scaled_quant(&CHROMA_QUANT, quality),
            ];
            self.quant = Quant {
                luma: tables::divisors(&self.tables[0]),
                chroma: tables::divisors(&self.tables[1]),
            };
        }
    }

    /// Appends `pixels` as a baseline JFIF stream to `out`.
    ///
    /// `quality` is the IJG quality, 1..=100 (Tight's quality level 8 is 92).
    ///
    /// # Errors
    ///
    /// [`CodecError::ApiMisuse`] for an empty view or a quality outside 1..=100;
    /// [`CodecError::UnsupportedFormat`] for a colour-map pixel format. Nothing is
    /// appended to `out` on error.
    pub fn encode(
        &mut self,
        pixels: &PixelView<'_>,
        quality: u8,
        sampling: JpegSampling,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let (w, h) = (usize::from(pixels.width()), usize::from(pixels.height()));
        if w == 0 || h == 0 {
            return Err(CodecError::ApiMisuse {
                what: format!("JPEG of an empty {w}x{h} image"),
            });
        }
        if !(1..=100).contains(&quality) {
            return Err(CodecError::ApiMisuse {
                what: format!("JPEG quality {quality} outside 1..=100"),
            });
        }
        let f = *pixels.format();
        if !f.true_colour {
            return Err(CodecError::UnsupportedFormat {
                encoding: NAME,
                why: "JPEG needs a true-colour pixel format",
            });
        }
        self.set_quality(quality);
        let layout = Layout::from(sampling);
        // Photos at quality 92, 4:4:4 take about 0.2 bytes a pixel; the vector grows if
        // more is needed.
        out.reserve(w * h / 4 + 1024);
        self.headers(pixels.width(), pixels.height(), layout, out);
        self.kernel.scan(pixels, layout, &self.quant, out);
        out.extend_from_slice(&[0xff, 0xd9]); // EOI
        Ok(())
    }

    fn headers(&self, w: u16, h: u16, layout: Layout, out: &mut Vec<u8>) {
        let gray = layout == Layout::Gray;
        let ntab = if gray { 1 } else { 2 };
        let ncomp: u8 = if gray { 1 } else { 3 };
        // SOI, then APP0: "JFIF\0", version 1.1, no units, 1:1 density, no thumbnail.
        out.extend_from_slice(&[0xff, 0xd8, 0xff, 0xe0, 0, 16]);
        out.extend_from_slice(b"JFIF\0");
        out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
        // DQT: 8-bit tables, values in zigzag order.
        out.extend_from_slice(&[0xff, 0xdb]);
        out.extend_from_slice(&(2 + 65 * ntab as u16).to_be_bytes());
        for (t, table) in self.tables.iter().take(ntab).enumerate() {
            out.push(t as u8);
            out.extend(ZIGZAG.iter().map(|&n| table[usize::from(n)]));
        }
        // SOF0: 8-bit precision, size, components (id, factors, quantisation table).
        out.extend_from_slice(&[0xff, 0xc0]);
        out.extend_from_slice(&(8 + 3 * u16::from(ncomp)).to_be_bytes());
        out.push(8);
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&w.to_be_bytes());
        out.push(ncomp);
        out.extend_from_slice(&[1, layout.luma_factors(), 0]);
        if !gray {
            out.extend_from_slice(&[2, 0x11, 1, 3, 0x11, 1]);
        }
        // DHT: class << 4 | id, 16 length counts, symbols.
        let specs: [(u8, &[u8; 16], &[u8]); 4] = [
            (0x00, &DC_LUMA_BITS, &DC_LUMA_VALS),
            (0x10, &AC_LUMA_BITS, &AC_LUMA_VALS),
            (0x01, &DC_CHROMA_BITS, &DC_CHROMA_VALS),
            (0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALS),
        ];
        let specs = &specs[..2 * ntab];
        let len: usize = 2 + specs.iter().map(|s| 17 + s.2.len()).sum::<usize>();
        out.extend_from_slice(&[0xff, 0xc4]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        for (class_id, bits, vals) in specs {
            out.push(*class_id);
            out.extend_from_slice(*bits);
            out.extend_from_slice(vals);
        }
        // SOS: components (id, DC << 4 | AC table), spectral 0..63, no approximation.
        out.extend_from_slice(&[0xff, 0xda]);
        out.extend_from_slice(&(6 + 2 * u16::from(ncomp)).to_be_bytes());
        out.push(ncomp);
        out.extend_from_slice(&[1, 0x00]);
        if !gray {
            out.extend_from_slice(&[2, 0x11, 3, 0x11]);
        }
        out.extend_from_slice(&[0, 63, 0]);
    }
}

/// The entropy-coded segment of `pixels` (no markers), appended to `out`: MCU by MCU,
/// `mcu_fn` converts, transforms and quantises, then the blocks are Huffman-coded.
/// Inlined into each kernel's entry point so that it is compiled with that kernel's
/// instruction set.
#[inline(always)]
pub(crate) fn scan<F, G>(
    pixels: &PixelView<'_>,
    layout: Layout,
    quant: &Quant,
    out: &mut Vec<u8>,
    mut mcu_fn: F,
    mut huff_fn: G,
) where
    F: FnMut(Layout, &[&[u8]; 16], [usize; 3], &Quant, &mut McuOut),
    G: FnMut(&mut BitWriter<'_>, &McuOut, &[usize], &mut [i32; 3]),
{
    let (w, h) = (usize::from(pixels.width()), usize::from(pixels.height()));
    let f = *pixels.format();
    let direct = byte_offsets(&f);
    let (mw, mh) = (layout.width(), layout.height());
    let blocks = layout.blocks();
    let mut tile = [0u8; 16 * 16 * 4];
    let mut mcu = McuOut::default();
    let mut prev = [0i32; 3];
    let mut bw = BitWriter::new(out);
    for my in (0..h).step_by(mh) {
        // Rows past the bottom repeat the last row.
        let src: [&[u8]; 16] = std::array::from_fn(|i| {
            if i < mh {
                pixels.row((my + i).min(h - 1) as u16)
            } else {
                &[]
            }
        });
        for mx in (0..w).step_by(mw) {
            let off = match direct {
                Some(off) if mx + mw <= w => {
                    let rows = std::array::from_fn(|i| {
                        if i < mh {
                            &src[i][mx * 4..(mx + mw) * 4]
                        } else {
                            &[][..]
                        }
                    });
                    mcu_fn(layout, &rows, off, quant, &mut mcu);
                    None
                }
                _ => Some(fill_tile(&src[..mh], &f, direct, mx, mw, w, &mut tile)),
            };
            if let Some(off) = off {
                let rows = std::array::from_fn(|i| &tile[i * 64..i * 64 + 64]);
                mcu_fn(layout, &rows, off, quant, &mut mcu);
            }
            huff_fn(&mut bw, &mcu, blocks, &mut prev);
        }
    }
    bw.finish();
}

/// Byte offsets of red, green and blue inside a 4-byte pixel when `f` is a 32-bit
/// true-colour format whose 8-bit channels are whole bytes (Tight's TPIXEL rule).
fn byte_offsets(f: &PixelFormat) -> Option<[usize; 3]> {
    crate::tight::TpixelFormat::new(f).offsets()
}

/// Copies (or converts to RGBX) the MCU at column `mx` of the rows `src` into `tile`
/// (rows of 16 pixels), repeating the last column past the right edge `w`. Returns the
/// channel offsets of the tile's pixels.
fn fill_tile(
    src: &[&[u8]],
    f: &PixelFormat,
    direct: Option<[usize; 3]>,
    mx: usize,
    mw: usize,
    w: usize,
    tile: &mut [u8; 16 * 16 * 4],
) -> [usize; 3] {
    let bpp = f.bytes_per_pixel();
    for (i, row) in src.iter().enumerate() {
        let dst = &mut tile[i * 64..i * 64 + mw * 4];
        for (x, d) in dst.chunks_exact_mut(4).enumerate() {
            let sx = (mx + x).min(w - 1);
            let px = &row[sx * bpp..sx * bpp + bpp];
            if direct.is_some() {
                d.copy_from_slice(px);
            } else {
                let [r, g, b] = rgb8(pixel_value(px, f), f, None);
                d.copy_from_slice(&[r, g, b, 0]);
            }
        }
    }
    direct.unwrap_or([0, 1, 2])
}
