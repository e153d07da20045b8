//! Pixel values, palettes and translation between pixel formats.
//!
//! - [`pixel_value`] / [`put_pixel_value`] read and write one pixel of a
//!   [`PixelFormat`] (bits per pixel and byte order);
//! - [`Palette`]: the colour map a server picks for a colour-map client format
//!   (a colour cube, a grey ramp, or any list of entries);
//! - [`ColourPreset`]: the four colour depths support tools offer;
//! - [`Translator`]: converts pixels from one format to another. It is built once per
//!   (source, destination) pair and picks its kernel then: a plain copy, a SIMD kernel for
//!   the common 32-bit shuffles and 32-to-16-bit packing (with a scalar twin), or a
//!   lookup table. `NOTES.md` beside this file explains the choices.
//!
//! Channel values are scaled with rounding: `v * dst_max / src_max`, rounded to
//! nearest, so full intensity stays full intensity in every format.

use rfb_proto::PixelFormat;

use crate::{CodecError, PixelView};

mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86_avx2;
#[cfg(target_arch = "x86_64")]
mod x86_sse2;

/// Reads one pixel value from the first `bytes_per_pixel` bytes of `bytes`, in the
/// format's byte order. Missing bytes read as zero.
///
/// ```
/// use rfb_codec::{pixel::pixel_value, PixelFormat};
/// assert_eq!(pixel_value(&[0x12, 0x34, 0x56, 0x78], &PixelFormat::RGB888), 0x7856_3412);
/// let be = PixelFormat { big_endian: true, ..PixelFormat::RGB565 };
/// assert_eq!(pixel_value(&[0x12, 0x34], &be), 0x1234);
/// ```
pub fn pixel_value(bytes: &[u8], format: &PixelFormat) -> u32 {
    let n = format.bytes_per_pixel().min(4);
    let mut v = 0u32;
    for i in 0..n {
        let b = u32::from(bytes.get(i).copied().unwrap_or(0));
        if format.big_endian {
            v = (v << 8) | b;
        } else {
            v |= b << (8 * i);
        }
    }
    v
}

/// Writes `value` as one pixel of `format` into the first `bytes_per_pixel` bytes of
/// `out` (bytes beyond `out` are not written).
///
/// ```
/// use rfb_codec::{pixel::put_pixel_value, PixelFormat};
/// let mut b = [0u8; 2];
/// put_pixel_value(0xf800, &PixelFormat::RGB565, &mut b);
/// assert_eq!(b, [0x00, 0xf8]);
/// ```
pub fn put_pixel_value(value: u32, format: &PixelFormat, out: &mut [u8]) {
    let n = format.bytes_per_pixel().min(4);
    for (i, o) in out.iter_mut().take(n).enumerate() {
        let shift = if format.big_endian {
            8 * (n - 1 - i)
        } else {
            8 * i
        };
        *o = (value >> shift) as u8;
    }
}

/// Scales a channel value from `0..=src_max` to `0..=dst_max`, rounding to nearest.
pub(crate) fn scale(v: u32, src_max: u32, dst_max: u32) -> u32 {
    if src_max == 0 {
        return 0;
    }
    let v = v.min(src_max);
    ((u64::from(v) * u64::from(dst_max) + u64::from(src_max / 2)) / u64::from(src_max)) as u32
}

/// The 8-bit red, green and blue of a pixel value. Colour-map formats need the palette;
/// without one (or for an index past its end) the colour is black.
///
/// ```
/// use rfb_codec::{pixel::rgb8, PixelFormat};
/// assert_eq!(rgb8(0x00ff_8000, &PixelFormat::RGB888, None), [255, 128, 0]);
/// assert_eq!(rgb8(0xf800, &PixelFormat::RGB565, None), [255, 0, 0]);
/// ```
pub fn rgb8(value: u32, format: &PixelFormat, palette: Option<&Palette>) -> [u8; 3] {
    if format.true_colour {
        let ch = |max: u16, shift: u8| {
            let max = u32::from(max);
            scale(
                value.checked_shr(u32::from(shift)).unwrap_or(0) & max,
                max,
                255,
            ) as u8
        };
        [
            ch(format.red_max, format.red_shift),
            ch(format.green_max, format.green_shift),
            ch(format.blue_max, format.blue_shift),
        ]
    } else {
        match palette.and_then(|p| p.entries.get(value as usize)) {
            Some(e) => e.map(|c| (c >> 8) as u8),
            None => [0, 0, 0],
        }
    }
}

/// The pixel value of an 8-bit colour in `format` (nearest palette entry for colour-map
/// formats; index 0 without a palette).
///
/// ```
/// use rfb_codec::{pixel::from_rgb8, PixelFormat};
/// assert_eq!(from_rgb8([255, 0, 0], &PixelFormat::RGB565, None), 0xf800);
/// ```
pub fn from_rgb8(rgb: [u8; 3], format: &PixelFormat, palette: Option<&Palette>) -> u32 {
    if format.true_colour {
        let ch = |v: u8, max: u16, shift: u8| {
            scale(u32::from(v), 255, u32::from(max))
                .checked_shl(u32::from(shift))
                .unwrap_or(0)
        };
        ch(rgb[0], format.red_max, format.red_shift)
            | ch(rgb[1], format.green_max, format.green_shift)
            | ch(rgb[2], format.blue_max, format.blue_shift)
    } else {
        palette.map_or(0, |p| u32::from(p.lookup(rgb)))
    }
}

/// How a [`Palette`] finds the nearest entry to a colour.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    /// `r * g * b` levels, red slowest: computed directly.
    Cube { r: u16, g: u16, b: u16 },
    /// `levels` greys from black to white: luminance, computed directly.
    Grey { levels: u32 },
    /// Any entries: a table over 5-bit-per-channel colours (for up to 256 entries),
    /// or a linear search (more).
    Custom { table: Option<Vec<u16>> },
}

/// A colour map: the palette a server picks (and sends with SetColourMapEntries) when a
/// client asks for a colour-map pixel format. Entries are 16-bit red, green, blue.
///
/// ```
/// use rfb_codec::Palette;
/// let cube = Palette::colour_cube();
/// assert_eq!(cube.len(), 6 * 7 * 6);
/// assert_eq!(cube.entries()[cube.lookup([255, 255, 255]) as usize], [65535; 3]);
/// let grey = Palette::grey(256).unwrap();
/// assert_eq!(grey.lookup([128, 128, 128]), 128);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    entries: Vec<[u16; 3]>,
    lookup: Lookup,
}

impl Palette {
    /// The 6 x 7 x 6 colour cube (252 entries; green gets the extra level because the eye
    /// is most sensitive to it): the default palette for 8-bit colour-map clients.
    pub fn colour_cube() -> Palette {
        Palette::cube(6, 7, 6).unwrap_or_else(|_| unreachable!("6x7x6 is a valid cube"))
    }

    /// A colour cube with the given number of levels per channel (each 2..=256, at most
    /// 65536 entries in all), red varying slowest.
    pub fn cube(r: u16, g: u16, b: u16) -> Result<Palette, CodecError> {
        let ok = |n: u16| (2..=256).contains(&n);
        if !ok(r) || !ok(g) || !ok(b) || u32::from(r) * u32::from(g) * u32::from(b) > 65536 {
            return Err(CodecError::UnsupportedFormat {
                encoding: "palette",
                why: "cube levels must be 2..=256 per channel and 65536 entries at most",
            });
        }
        let level = |i: u16, n: u16| (u32::from(i) * 65535 / u32::from(n - 1)) as u16;
        let mut entries = Vec::with_capacity(usize::from(r) * usize::from(g) * usize::from(b));
        for ri in 0..r {
            for gi in 0..g {
                for bi in 0..b {
                    entries.push([level(ri, r), level(gi, g), level(bi, b)]);
                }
            }
        }
        Ok(Palette {
            entries,
            lookup: Lookup::Cube { r, g, b },
        })
    }

    /// `levels` greys from black to white (2..=65536); colours map to the grey of the same
    /// luminance (ITU-R BT.601 weights).
    pub fn grey(levels: u32) -> Result<Palette, CodecError> {
        if !(2..=65536).contains(&levels) {
            return Err(CodecError::UnsupportedFormat {
                encoding: "palette",
                why: "grey levels must be 2..=65536",
            });
        }
        let entries = (0..levels)
            .map(|i| {
                let v = (u64::from(i) * 65535 / u64::from(levels - 1)) as u16;
                [v; 3]
            })
            .collect();
        Ok(Palette {
            entries,
            lookup: Lookup::Grey { levels },
        })
    }

    /// A palette with the given entries (1..=65536). Up to 256 entries get a lookup
    /// table (32768 entries, built here); larger palettes are searched linearly.
    pub fn from_rgb16(entries: Vec<[u16; 3]>) -> Result<Palette, CodecError> {
        if entries.is_empty() || entries.len() > 65536 {
            return Err(CodecError::UnsupportedFormat {
                encoding: "palette",
                why: "a palette needs 1..=65536 entries",
            });
        }
        let table = (entries.len() <= 256).then(|| {
            (0..32768u32)
                .map(|i| {
                    let c = [(i >> 10) & 31, (i >> 5) & 31, i & 31].map(|v| (v << 3 | 4) as u8);
                    nearest(&entries, c)
                })
                .collect()
        });
        Ok(Palette {
            entries,
            lookup: Lookup::Custom { table },
        })
    }

    /// The palette a server picks for a colour-map client format: the 6 x 7 x 6 cube.
    /// `None` for true-colour formats.
    pub fn for_format(format: &PixelFormat) -> Option<Palette> {
        (!format.true_colour).then(Palette::colour_cube)
    }

    /// The entries, in index order.
    pub fn entries(&self) -> &[[u16; 3]] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true (a palette has at least one entry); here for symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of the entry nearest to an 8-bit colour.
    pub fn lookup(&self, rgb: [u8; 3]) -> u16 {
        let [r, g, b] = rgb.map(u32::from);
        match &self.lookup {
            Lookup::Cube {
                r: nr,
                g: ng,
                b: nb,
            } => {
                let q = |v: u32, n: u16| scale(v, 255, u32::from(n) - 1);
                ((q(r, *nr) * u32::from(*ng) + q(g, *ng)) * u32::from(*nb) + q(b, *nb)) as u16
            }
            Lookup::Grey { levels } => {
                let y = (r * 77 + g * 150 + b * 29 + 128) >> 8;
                scale(y, 255, levels - 1) as u16
            }
            Lookup::Custom { table: Some(t) } => {
                t[((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)) as usize]
            }
            Lookup::Custom { table: None } => nearest(&self.entries, rgb),
        }
    }
}

fn nearest(entries: &[[u16; 3]], rgb: [u8; 3]) -> u16 {
    let mut best = (u32::MAX, 0u16);
    for (i, e) in entries.iter().enumerate() {
        let d: u32 = (0..3)
            .map(|c| {
                let diff = i32::from(e[c] >> 8) - i32::from(rgb[c]);
                (diff * diff) as u32
            })
            .sum();
        if d < best.0 {
            best = (d, i as u16);
        }
    }
    best.1
}

/// The colour depths support tools offer ("Full colour", "More colours", "Few colours",
/// "Black and white").
///
/// ```
/// use rfb_codec::{ColourPreset, PixelFormat};
/// assert_eq!(ColourPreset::More16.pixel_format(), PixelFormat::RGB565);
/// assert!(ColourPreset::Grey.palette().is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColourPreset {
    /// 24-bit colour in 32 bits per pixel ([`PixelFormat::RGB888`]).
    Full,
    /// 16 bits per pixel, 5-6-5 ([`PixelFormat::RGB565`]).
    More16,
    /// 8 bits per pixel true colour, 3-3-2 ([`PixelFormat::RGB332`]): no colour map
    /// needed.
    Few8,
    /// 256 greys: an 8-bit colour-map format with a grey-ramp palette. The palette is
    /// the server's to choose: a server of this crate that wants to honour the choice
    /// uses [`ColourPreset::palette`]; a client that must show grey whatever the server
    /// picks translates locally with the same palette.
    Grey,
}

impl ColourPreset {
    /// Every preset, richest first.
    pub const ALL: [ColourPreset; 4] = [
        ColourPreset::Full,
        ColourPreset::More16,
        ColourPreset::Few8,
        ColourPreset::Grey,
    ];

    /// The pixel format a client asks for with SetPixelFormat.
    pub fn pixel_format(self) -> PixelFormat {
        match self {
            ColourPreset::Full => PixelFormat::RGB888,
            ColourPreset::More16 => PixelFormat::RGB565,
            ColourPreset::Few8 => PixelFormat::RGB332,
            ColourPreset::Grey => PixelFormat::COLOUR_MAP8,
        }
    }

    /// The palette that goes with the format, for colour-map presets.
    pub fn palette(self) -> Option<Palette> {
        match self {
            ColourPreset::Grey => Palette::grey(256).ok(),
            _ => None,
        }
    }
}

/// An instruction set a [`Translator`] kernel may use.
///
/// ```
/// use rfb_codec::{pixel::Isa, PixelFormat, Translator};
/// assert!(Isa::available().contains(&Isa::Scalar));
/// let t = Translator::with_isa(&PixelFormat::RGB888, None, &PixelFormat::RGB565, None, Isa::Scalar).unwrap();
/// assert_eq!(t.kernel(), ("pack16", Isa::Scalar));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust (the scalar twins).
    Scalar,
    /// x86-64 SSE2 (always present on x86-64).
    Sse2,
    /// x86-64 AVX2, detected at run time.
    Avx2,
}

impl Isa {
    /// The best instruction set this CPU has (detected once and cached).
    pub fn detect() -> Isa {
        static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    return Isa::Avx2;
                }
                if std::arch::is_x86_feature_detected!("sse2") {
                    return Isa::Sse2;
                }
            }
            Isa::Scalar
        })
    }

    /// Every instruction set usable on this CPU (for differential tests).
    pub fn available() -> Vec<Isa> {
        let best = Isa::detect();
        [Isa::Scalar, Isa::Sse2, Isa::Avx2]
            .into_iter()
            .filter(|i| match i {
                Isa::Scalar => true,
                Isa::Sse2 => best == Isa::Sse2 || best == Isa::Avx2,
                Isa::Avx2 => best == Isa::Avx2,
            })
            .collect()
    }
}

/// 32 bpp to 32 bpp where every channel is one whole byte in both formats: a byte
/// shuffle. Positions are bit offsets inside the pixel's four bytes loaded
/// little-endian, so byte order is folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shuffle32 {
    pub(crate) src_pos: [u32; 3],
    pub(crate) dst_pos: [u32; 3],
}

/// 32 bpp with whole-byte channels to 16 bpp with channel maxima up to 255.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pack16 {
    pub(crate) src_pos: [u32; 3],
    pub(crate) dst_max: [u16; 3],
    pub(crate) dst_shift: [u32; 3],
    pub(crate) dst_big_endian: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kernel {
    Copy,
    Shuffle32(Shuffle32),
    Pack16(Pack16),
    /// Source of 8 or 16 bits per pixel: destination value per source value.
    Table(Vec<u32>),
    /// 32-bit true-colour source: destination bits per channel value.
    Channels {
        shifts: [u32; 3],
        masks: [u32; 3],
        tables: [Vec<u32>; 3],
    },
    /// 32-bit true-colour source to a colour-map destination: 8-bit channels, then the
    /// palette.
    ChannelsToPalette {
        shifts: [u32; 3],
        masks: [u32; 3],
        tables: [Vec<u8>; 3],
        palette: Palette,
    },
}

/// Converts pixels from one [`PixelFormat`] to another; built once per pair of formats.
///
/// ```
/// use rfb_codec::{Framebuffer, PixelFormat, Rect, Translator};
/// let mut fb = Framebuffer::new(2, 1, PixelFormat::RGB888);
/// fb.fill(Rect::new(0, 0, 1, 1), &[0, 0, 255, 0]).unwrap(); // red: B G R 0
/// let t = Translator::new(&PixelFormat::RGB888, None, &PixelFormat::RGB565, None).unwrap();
/// let out = t.translate(&fb.view(fb.rect()).unwrap()).unwrap();
/// assert_eq!(out, [0x00, 0xf8, 0x00, 0x00]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translator {
    src: PixelFormat,
    dst: PixelFormat,
    kernel: Kernel,
    isa: Isa,
}

fn unsupported(why: &'static str) -> CodecError {
    CodecError::UnsupportedFormat {
        encoding: "translation",
        why,
    }
}

/// Bit offset of a whole-byte channel inside a 32-bit pixel loaded little-endian.
fn byte_pos(format: &PixelFormat, shift: u8) -> u32 {
    let byte = u32::from(shift) / 8;
    8 * if format.big_endian { 3 - byte } else { byte }
}

fn whole_byte_channels(format: &PixelFormat) -> bool {
    format.true_colour
        && format.bits_per_pixel == 32
        && [format.red_max, format.green_max, format.blue_max] == [255; 3]
        && [format.red_shift, format.green_shift, format.blue_shift]
            .iter()
            .all(|s| s % 8 == 0)
}

impl Translator {
    /// A translator from `src` to `dst`. Colour-map formats need their palette
    /// (`src_palette` to read colours, `dst_palette` to pick indices); the destination
    /// palette must fit the format's index range.
    pub fn new(
        src: &PixelFormat,
        src_palette: Option<&Palette>,
        dst: &PixelFormat,
        dst_palette: Option<&Palette>,
    ) -> Result<Translator, CodecError> {
        Translator::with_isa(src, src_palette, dst, dst_palette, Isa::detect())
    }

    /// As [`Translator::new`], but limited to the instruction set `isa` (which must be
    /// one of [`Isa::available`]; others fall back to scalar). For tests and benches.
    pub fn with_isa(
        src: &PixelFormat,
        src_palette: Option<&Palette>,
        dst: &PixelFormat,
        dst_palette: Option<&Palette>,
        isa: Isa,
    ) -> Result<Translator, CodecError> {
        src.validate()
            .map_err(|_| unsupported("invalid source pixel format"))?;
        dst.validate()
            .map_err(|_| unsupported("invalid destination pixel format"))?;
        let isa = if Isa::available().contains(&isa) {
            isa
        } else {
            Isa::Scalar
        };
        if !src.true_colour && src_palette.is_none() {
            return Err(unsupported("a colour-map source needs its palette"));
        }
        if !dst.true_colour {
            let p = dst_palette.ok_or(unsupported("a colour-map destination needs a palette"))?;
            let index_bits = u32::from(dst.depth.min(dst.bits_per_pixel));
            if p.len() as u64 > 1u64 << index_bits {
                return Err(unsupported(
                    "the palette has more entries than the format can index",
                ));
            }
        }
        let kernel = if src == dst && (src.true_colour || src_palette == dst_palette) {
            Kernel::Copy
        } else if whole_byte_channels(src) && whole_byte_channels(dst) {
            Kernel::Shuffle32(Shuffle32 {
                src_pos: [src.red_shift, src.green_shift, src.blue_shift].map(|s| byte_pos(src, s)),
                dst_pos: [dst.red_shift, dst.green_shift, dst.blue_shift].map(|s| byte_pos(dst, s)),
            })
        } else if whole_byte_channels(src)
            && dst.true_colour
            && dst.bits_per_pixel == 16
            && [dst.red_max, dst.green_max, dst.blue_max]
                .iter()
                .all(|&m| m <= 255)
        {
            Kernel::Pack16(Pack16 {
                src_pos: [src.red_shift, src.green_shift, src.blue_shift].map(|s| byte_pos(src, s)),
                dst_max: [dst.red_max, dst.green_max, dst.blue_max],
                dst_shift: [dst.red_shift, dst.green_shift, dst.blue_shift].map(u32::from),
                dst_big_endian: dst.big_endian,
            })
        } else if src.bits_per_pixel <= 16 {
            let n = 1u32 << src.bits_per_pixel;
            Kernel::Table(
                (0..n)
                    .map(|v| convert_one(v, src, src_palette, dst, dst_palette))
                    .collect(),
            )
        } else {
            // 32-bit true colour (colour-map formats are at most 16 bits per pixel).
            let shifts = [src.red_shift, src.green_shift, src.blue_shift].map(u32::from);
            let maxes = [src.red_max, src.green_max, src.blue_max].map(u32::from);
            if dst.true_colour {
                let dmax = [dst.red_max, dst.green_max, dst.blue_max].map(u32::from);
                let dshift = [dst.red_shift, dst.green_shift, dst.blue_shift].map(u32::from);
                let table = |c: usize| {
                    (0..=maxes[c])
                        .map(|v| scale(v, maxes[c], dmax[c]) << dshift[c])
                        .collect()
                };
                Kernel::Channels {
                    shifts,
                    masks: maxes,
                    tables: [table(0), table(1), table(2)],
                }
            } else {
                let table = |c: usize| {
                    (0..=maxes[c])
                        .map(|v| scale(v, maxes[c], 255) as u8)
                        .collect()
                };
                Kernel::ChannelsToPalette {
                    shifts,
                    masks: maxes,
                    tables: [table(0), table(1), table(2)],
                    palette: dst_palette
                        .cloned()
                        .ok_or(unsupported("a colour-map destination needs a palette"))?,
                }
            }
        };
        Ok(Translator {
            src: *src,
            dst: *dst,
            kernel,
            isa,
        })
    }

    /// The source format.
    pub fn src_format(&self) -> &PixelFormat {
        &self.src
    }

    /// The destination format.
    pub fn dst_format(&self) -> &PixelFormat {
        &self.dst
    }

    /// The kernel chosen and the instruction set it runs on, e.g. `("pack16", Avx2)`.
    pub fn kernel(&self) -> (&'static str, Isa) {
        let name = match self.kernel {
            Kernel::Copy => "copy",
            Kernel::Shuffle32(_) => "shuffle32",
            Kernel::Pack16(_) => "pack16",
            Kernel::Table(_) => "table",
            Kernel::Channels { .. } => "channels",
            Kernel::ChannelsToPalette { .. } => "channels-to-palette",
        };
        let simd = matches!(self.kernel, Kernel::Shuffle32(_) | Kernel::Pack16(_));
        (name, if simd { self.isa } else { Isa::Scalar })
    }

    /// Translates one packed row: `src` holds whole source pixels, `dst` receives as
    /// many destination pixels (`dst.len() / dst_bpp` must equal `src.len() / src_bpp`).
    pub fn translate_row(&self, src: &[u8], dst: &mut [u8]) -> Result<(), CodecError> {
        let (sb, db) = (self.src.bytes_per_pixel(), self.dst.bytes_per_pixel());
        let n = src.len() / sb;
        if src.len() % sb != 0 || dst.len() != n * db {
            return Err(CodecError::Malformed {
                encoding: "translation",
                what: format!(
                    "{} source bytes for {} destination bytes",
                    src.len(),
                    dst.len()
                ),
            });
        }
        match &self.kernel {
            Kernel::Copy => dst.copy_from_slice(src),
            Kernel::Shuffle32(k) => match self.isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => x86_avx2::shuffle32(k, src, dst),
                #[cfg(target_arch = "x86_64")]
                Isa::Sse2 => x86_sse2::shuffle32(k, src, dst),
                _ => scalar::shuffle32(k, src, dst),
            },
            Kernel::Pack16(k) => match self.isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => x86_avx2::pack16(k, src, dst),
                #[cfg(target_arch = "x86_64")]
                Isa::Sse2 => x86_sse2::pack16(k, src, dst),
                _ => scalar::pack16(k, src, dst),
            },
            kernel => {
                // Generic kernels: unpack a block of pixel values, map them, pack them;
                // each pass is a tight loop specialised on bits per pixel and byte order.
                const BLOCK: usize = 256;
                let mut vals = [0u32; BLOCK];
                for (s, d) in src.chunks(BLOCK * sb).zip(dst.chunks_mut(BLOCK * db)) {
                    let vals = &mut vals[..s.len() / sb];
                    read_values(s, &self.src, vals);
                    match kernel {
                        Kernel::Table(t) => {
                            for v in vals.iter_mut() {
                                *v = t.get(*v as usize).copied().unwrap_or(0);
                            }
                        }
                        Kernel::Channels {
                            shifts,
                            masks,
                            tables,
                        } => {
                            for v in vals.iter_mut() {
                                let p = *v;
                                *v = tables[0][((p >> shifts[0]) & masks[0]) as usize]
                                    | tables[1][((p >> shifts[1]) & masks[1]) as usize]
                                    | tables[2][((p >> shifts[2]) & masks[2]) as usize];
                            }
                        }
                        Kernel::ChannelsToPalette {
                            shifts,
                            masks,
                            tables,
                            palette,
                        } => {
                            for v in vals.iter_mut() {
                                let p = *v;
                                let rgb = [0, 1, 2]
                                    .map(|c| tables[c][((p >> shifts[c]) & masks[c]) as usize]);
                                *v = u32::from(palette.lookup(rgb));
                            }
                        }
                        // Handled above.
                        Kernel::Copy | Kernel::Shuffle32(_) | Kernel::Pack16(_) => {}
                    }
                    write_values(vals, &self.dst, d);
                }
            }
        }
        Ok(())
    }

    /// Translates a view into `dst`, packed row after row (`dst` must hold exactly
    /// `width * height * dst_bpp` bytes).
    pub fn translate_into(&self, src: &PixelView<'_>, dst: &mut [u8]) -> Result<(), CodecError> {
        if *src.format() != self.src {
            return Err(unsupported(
                "the view is not in the translator's source format",
            ));
        }
        let row_len = usize::from(src.width()) * self.dst.bytes_per_pixel();
        if dst.len() != row_len * usize::from(src.height()) {
            return Err(CodecError::Malformed {
                encoding: "translation",
                what: format!(
                    "destination of {} bytes for {}x{}",
                    dst.len(),
                    src.width(),
                    src.height()
                ),
            });
        }
        if row_len == 0 {
            return Ok(());
        }
        for (y, d) in dst.chunks_exact_mut(row_len).enumerate() {
            self.translate_row(src.row(y as u16), d)?;
        }
        Ok(())
    }

    /// Translates a view into a new packed buffer.
    pub fn translate(&self, src: &PixelView<'_>) -> Result<Vec<u8>, CodecError> {
        let mut out =
            vec![
                0;
                usize::from(src.width()) * usize::from(src.height()) * self.dst.bytes_per_pixel()
            ];
        self.translate_into(src, &mut out)?;
        Ok(out)
    }
}

/// Reads `out.len()` pixel values from packed pixels.
fn read_values(src: &[u8], format: &PixelFormat, out: &mut [u32]) {
    match (format.bits_per_pixel, format.big_endian) {
        (8, _) => {
            for (o, s) in out.iter_mut().zip(src) {
                *o = u32::from(*s);
            }
        }
        (16, false) => {
            for (o, s) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = u32::from(u16::from_le_bytes([s[0], s[1]]));
            }
        }
        (16, true) => {
            for (o, s) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = u32::from(u16::from_be_bytes([s[0], s[1]]));
            }
        }
        (_, false) => {
            for (o, s) in out.iter_mut().zip(src.chunks_exact(4)) {
                *o = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
        (_, true) => {
            for (o, s) in out.iter_mut().zip(src.chunks_exact(4)) {
                *o = u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
    }
}

/// Writes pixel values as packed pixels.
fn write_values(vals: &[u32], format: &PixelFormat, dst: &mut [u8]) {
    match (format.bits_per_pixel, format.big_endian) {
        (8, _) => {
            for (d, v) in dst.iter_mut().zip(vals) {
                *d = *v as u8;
            }
        }
        (16, false) => {
            for (d, v) in dst.chunks_exact_mut(2).zip(vals) {
                d.copy_from_slice(&(*v as u16).to_le_bytes());
            }
        }
        (16, true) => {
            for (d, v) in dst.chunks_exact_mut(2).zip(vals) {
                d.copy_from_slice(&(*v as u16).to_be_bytes());
            }
        }
        (_, false) => {
            for (d, v) in dst.chunks_exact_mut(4).zip(vals) {
                d.copy_from_slice(&v.to_le_bytes());
            }
        }
        (_, true) => {
            for (d, v) in dst.chunks_exact_mut(4).zip(vals) {
                d.copy_from_slice(&v.to_be_bytes());
            }
        }
    }
}

/// The generic per-value conversion every table is built from.
fn convert_one(
    v: u32,
    src: &PixelFormat,
    src_palette: Option<&Palette>,
    dst: &PixelFormat,
    dst_palette: Option<&Palette>,
) -> u32 {
    if src.true_colour && dst.true_colour {
        let ch = |smax: u16, sshift: u8, dmax: u16, dshift: u8| {
            scale(
                (v >> sshift) & u32::from(smax),
                u32::from(smax),
                u32::from(dmax),
            ) << dshift
        };
        return ch(src.red_max, src.red_shift, dst.red_max, dst.red_shift)
            | ch(
                src.green_max,
                src.green_shift,
                dst.green_max,
                dst.green_shift,
            )
            | ch(src.blue_max, src.blue_shift, dst.blue_max, dst.blue_shift);
    }
    if !src.true_colour && dst.true_colour {
        let e = src_palette
            .and_then(|p| p.entries.get(v as usize))
            .copied()
            .unwrap_or([0; 3]);
        let ch =
            |c: u16, dmax: u16, dshift: u8| scale(u32::from(c), 65535, u32::from(dmax)) << dshift;
        return ch(e[0], dst.red_max, dst.red_shift)
            | ch(e[1], dst.green_max, dst.green_shift)
            | ch(e[2], dst.blue_max, dst.blue_shift);
    }
    let rgb = rgb8(v, src, src_palette);
    from_rgb8(rgb, dst, dst_palette)
}

#[cfg(test)]
mod tests;
