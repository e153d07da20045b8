//! The ZRLE encoding (16): 64x64 tiles of palettes and runs, through one persistent zlib
//! stream.
//!
//! Wire format (community RFB spec, "ZRLE Encoding"): `u32 length` then `length` bytes of
//! the connection's single zlib stream. Inflated, they are the rectangle's 64x64 tiles,
//! left to right, top to bottom (the last column and row may be smaller), each a
//! sub-encoding byte and its data:
//!
//! | sub-encoding | data |
//! |---|---|
//! | 0 | raw: `width * height` CPIXELs |
//! | 1 | solid: one CPIXEL |
//! | 2..=16 | packed palette: that many CPIXELs, then 1-, 2- or 4-bit indices, rows padded to a byte, most significant bits first |
//! | 128 | plain RLE: runs of (CPIXEL, run length) |
//! | 130..=255 | palette RLE: `sub - 128` CPIXELs, then runs of an index (length 1) or `index + 128` and a run length |
//! | 17..=127, 129 | invalid |
//!
//! A run length is one more than the sum of its bytes, each byte of 255 meaning "another
//! byte follows"; runs continue from one row to the next but never past the tile.
//!
//! A CPIXEL is a pixel in the agreed format, except for 32-bit true-colour formats of
//! depth 24 or less whose colour bits all fit in the three least (preferred) or the three
//! most significant bytes: then it is just those three bytes, in the format's byte order
//! ([`bytes_per_cpixel`]).
//!
//! The tile grammar here is shared with TRLE ([`crate::trle`]).

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::inflate::{InflateReader, Inflater};
use crate::zlib::{frame_prefixed, prefixed_body, Deflater};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// ZRLE's tile size.
pub const TILE_SIZE: u16 = 64;

/// Most palette entries a tile may carry (palette RLE 130..=255 is 2..=127 colours).
const MAX_PALETTE: usize = 127;

/// Uncompressed bytes gathered before they are handed to deflate.
const DEFLATE_CHUNK: usize = 64 * 1024;

/// How a CPIXEL sits inside a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpixel {
    /// Bytes per pixel (1, 2 or 4).
    pub(crate) bpp: usize,
    /// Bytes per CPIXEL (1, 2, 3 or 4).
    pub(crate) cpp: usize,
    /// Offset of the CPIXEL's bytes inside the pixel's bytes in memory (0 or 1).
    pub(crate) off: usize,
    /// Mask of the bytes kept, over the pixel's bytes read as a little-endian `u32`.
    pub(crate) keep: u32,
}

impl Cpixel {
    pub(crate) fn new(format: &PixelFormat, encoding: &'static str) -> Result<Cpixel, CodecError> {
        format
            .validate()
            .map_err(|_| CodecError::UnsupportedFormat {
                encoding,
                why: "invalid pixel format",
            })?;
        let bpp = format.bytes_per_pixel();
        let full = Cpixel {
            bpp,
            cpp: bpp,
            off: 0,
            keep: if bpp == 4 {
                u32::MAX
            } else {
                (1u32 << (8 * bpp)) - 1
            },
        };
        if !(format.true_colour && format.bits_per_pixel == 32 && format.depth <= 24) {
            return Ok(full);
        }
        let used = (u32::from(format.red_max) << format.red_shift)
            | (u32::from(format.green_max) << format.green_shift)
            | (u32::from(format.blue_max) << format.blue_shift);
        let fits_ls = used & 0xff00_0000 == 0;
        let fits_ms = used & 0x0000_00ff == 0;
        // Offset in memory of the kept three bytes: the least significant byte comes
        // first in little-endian memory, last in big-endian memory.
        let off = if fits_ls {
            usize::from(format.big_endian)
        } else if fits_ms {
            usize::from(!format.big_endian)
        } else {
            return Ok(full);
        };
        Ok(Cpixel {
            bpp,
            cpp: 3,
            off,
            keep: 0x00ff_ffff << (8 * off),
        })
    }

    /// The pixel bytes (first `bpp` of the result) of a CPIXEL.
    #[inline]
    fn expand(&self, c: &[u8]) -> [u8; 4] {
        let mut p = [0u8; 4];
        p[self.off..self.off + self.cpp].copy_from_slice(&c[..self.cpp]);
        p
    }

    /// A pixel's bytes as a key (little-endian `u32`), with bytes a CPIXEL drops cleared.
    #[inline]
    fn key(&self, px: &[u8]) -> u32 {
        let k = match self.bpp {
            1 => u32::from(px[0]),
            2 => u32::from(u16::from_le_bytes([px[0], px[1]])),
            _ => u32::from_le_bytes([px[0], px[1], px[2], px[3]]),
        };
        k & self.keep
    }

    /// Writes the CPIXEL of a key.
    #[inline]
    fn put(&self, key: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&key.to_le_bytes()[self.off..self.off + self.cpp]);
    }
}

/// Bytes per CPIXEL for `format` in ZRLE and TRLE (1, 2, 3 or 4); an error for an
/// invalid format.
///
/// ```
/// use rfb_codec::PixelFormat;
/// use rfb_codec::zrle::bytes_per_cpixel;
/// assert_eq!(bytes_per_cpixel(&PixelFormat::RGB888).unwrap(), 3);
/// assert_eq!(bytes_per_cpixel(&PixelFormat::RGB565).unwrap(), 2);
/// let mut deep = PixelFormat::RGB888;
/// deep.depth = 32; // depth above 24: full 4-byte CPIXELs
/// assert_eq!(bytes_per_cpixel(&deep).unwrap(), 4);
/// ```
pub fn bytes_per_cpixel(format: &PixelFormat) -> Result<usize, CodecError> {
    Ok(Cpixel::new(format, "ZRLE")?.cpp)
}

/// Where tile bytes come from: a slice (TRLE) or an inflating reader (ZRLE).
pub(crate) trait TileSource {
    /// The next `n` bytes (at most [`InflateReader::MAX_NEED`]).
    fn need(&mut self, n: usize) -> Result<&[u8], CodecError>;
}

impl TileSource for InflateReader<'_> {
    #[inline]
    fn need(&mut self, n: usize) -> Result<&[u8], CodecError> {
        InflateReader::need(self, n)
    }
}

/// A plain byte slice as a tile source; remembers how many bytes would have been needed
/// when it runs short.
pub(crate) struct SliceSource<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) short: Option<usize>,
    pub(crate) encoding: &'static str,
}

impl TileSource for SliceSource<'_> {
    #[inline]
    fn need(&mut self, n: usize) -> Result<&[u8], CodecError> {
        match self.buf.get(self.pos..self.pos + n) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => {
                self.short = Some(self.pos + n);
                Err(CodecError::Malformed {
                    encoding: self.encoding,
                    what: format!("payload truncated: {} bytes needed", self.pos + n),
                })
            }
        }
    }
}

fn malformed(encoding: &'static str, what: String) -> CodecError {
    CodecError::Malformed { encoding, what }
}

/// Bits per packed palette index.
#[inline]
fn index_bits(palette_size: usize) -> usize {
    match palette_size {
        0..=2 => 1,
        3..=4 => 2,
        _ => 4,
    }
}

/// Parses (and optionally paints) tiles of the ZRLE/TRLE grammar.
pub(crate) struct TileDecoder {
    cp: Cpixel,
    encoding: &'static str,
    /// TRLE: sub-encodings 127 and 129 reuse the last palette.
    trle: bool,
    palette: [[u8; 4]; MAX_PALETTE],
    palette_size: usize,
}

impl TileDecoder {
    pub(crate) fn new(cp: Cpixel, encoding: &'static str, trle: bool) -> TileDecoder {
        TileDecoder {
            cp,
            encoding,
            trle,
            palette: [[0; 4]; MAX_PALETTE],
            palette_size: 0,
        }
    }

    /// Size of the palette kept for TRLE's reuse sub-encodings.
    pub(crate) fn palette_size(&self) -> usize {
        self.palette_size
    }

    /// Restores the kept palette's size (framing only needs the size, not the colours).
    pub(crate) fn set_palette_size(&mut self, n: usize) {
        self.palette_size = n.min(MAX_PALETTE);
    }

    fn read_palette<S: TileSource>(&mut self, src: &mut S, n: usize) -> Result<(), CodecError> {
        let cpp = self.cp.cpp;
        let data = src.need(n * cpp)?;
        for (slot, c) in self.palette.iter_mut().zip(data.chunks_exact(cpp)) {
            *slot = self.cp.expand(c);
        }
        self.palette_size = n;
        Ok(())
    }

    /// A run length; errors when it would pass `remaining` pixels.
    #[inline]
    fn run_length<S: TileSource>(
        &self,
        src: &mut S,
        remaining: usize,
    ) -> Result<usize, CodecError> {
        let mut len = 1usize;
        loop {
            let b = src.need(1)?[0];
            len += usize::from(b);
            if len > remaining {
                return Err(malformed(
                    self.encoding,
                    format!("run of {len} or more pixels with {remaining} left in the tile"),
                ));
            }
            if b != 255 {
                return Ok(len);
            }
        }
    }

    /// Parses one `tw` x `th` tile from `src`; with `PAINT`, writes its pixels (packed
    /// rows, `bpp` bytes each) into `out`.
    pub(crate) fn tile<S: TileSource, const PAINT: bool>(
        &mut self,
        src: &mut S,
        tw: usize,
        th: usize,
        out: &mut [u8],
    ) -> Result<(), CodecError> {
        // A constant pixel size lets every pixel copy compile to one store.
        match self.cp.bpp {
            1 => self.tile_bpp::<S, PAINT, 1>(src, tw, th, out),
            2 => self.tile_bpp::<S, PAINT, 2>(src, tw, th, out),
            _ => self.tile_bpp::<S, PAINT, 4>(src, tw, th, out),
        }
    }

    fn tile_bpp<S: TileSource, const PAINT: bool, const BPP: usize>(
        &mut self,
        src: &mut S,
        tw: usize,
        th: usize,
        out: &mut [u8],
    ) -> Result<(), CodecError> {
        let cp = self.cp;
        let (bpp, cpp) = (BPP, cp.cpp);
        let area = tw * th;
        let sub = src.need(1)?[0];
        match sub {
            0 => {
                let data = src.need(area * cpp)?;
                if PAINT {
                    if cpp == bpp {
                        out[..area * bpp].copy_from_slice(data);
                    } else if cp.off == 0 {
                        for (px, c) in out.chunks_exact_mut(4).zip(data.chunks_exact(3)) {
                            px.copy_from_slice(&[c[0], c[1], c[2], 0]);
                        }
                    } else {
                        for (px, c) in out.chunks_exact_mut(4).zip(data.chunks_exact(3)) {
                            px.copy_from_slice(&[0, c[0], c[1], c[2]]);
                        }
                    }
                }
            }
            1 => {
                let p = cp.expand(src.need(cpp)?);
                if PAINT {
                    fill::<BPP>(out, 0, area, &p);
                }
            }
            2..=16 | 127 => {
                if sub == 127 {
                    if !self.trle {
                        return Err(malformed(
                            self.encoding,
                            "sub-encoding 127 is not used".into(),
                        ));
                    }
                    if !(2..=16).contains(&self.palette_size) {
                        return Err(malformed(
                            self.encoding,
                            format!(
                                "sub-encoding 127 reuses a palette of {} colours",
                                self.palette_size
                            ),
                        ));
                    }
                } else {
                    self.read_palette(src, usize::from(sub))?;
                }
                let n = self.palette_size;
                let bits = index_bits(n);
                let row_bytes = (tw * bits).div_ceil(8);
                let data = src.need(row_bytes * th)?;
                let mask = (1u8 << bits) - 1;
                let per_byte = 8 / bits;
                for (y, row) in data.chunks_exact(row_bytes).enumerate() {
                    for x in 0..tw {
                        let shift = 8 - bits * (x % per_byte + 1);
                        let idx = usize::from((row[x / per_byte] >> shift) & mask);
                        if idx >= n {
                            return Err(malformed(
                                self.encoding,
                                format!("palette index {idx} with {n} colours"),
                            ));
                        }
                        if PAINT {
                            let at = (y * tw + x) * BPP;
                            out[at..at + BPP].copy_from_slice(&self.palette[idx][..BPP]);
                        }
                    }
                }
            }
            128 => {
                let mut i = 0;
                while i < area {
                    let p = cp.expand(src.need(cpp)?);
                    let len = self.run_length(src, area - i)?;
                    if PAINT {
                        fill::<BPP>(out, i, len, &p);
                    }
                    i += len;
                }
            }
            129..=255 => {
                if sub == 129 {
                    if !self.trle {
                        return Err(malformed(
                            self.encoding,
                            "sub-encoding 129 is not used".into(),
                        ));
                    }
                    if self.palette_size < 2 {
                        return Err(malformed(
                            self.encoding,
                            "sub-encoding 129 with no palette to reuse".into(),
                        ));
                    }
                } else {
                    self.read_palette(src, usize::from(sub - 128))?;
                }
                let n = self.palette_size;
                let mut i = 0;
                while i < area {
                    let b = src.need(1)?[0];
                    let idx = usize::from(b & 0x7f);
                    if idx >= n {
                        return Err(malformed(
                            self.encoding,
                            format!("palette index {idx} with {n} colours"),
                        ));
                    }
                    let len = if b & 0x80 != 0 {
                        self.run_length(src, area - i)?
                    } else {
                        1
                    };
                    if PAINT {
                        fill::<BPP>(out, i, len, &self.palette[idx]);
                    }
                    i += len;
                }
            }
            17..=126 => {
                return Err(malformed(
                    self.encoding,
                    format!("sub-encoding {sub} is not used"),
                ));
            }
        }
        Ok(())
    }
}

/// Writes `len` copies of `px` from pixel index `start`.
#[inline]
fn fill<const BPP: usize>(out: &mut [u8], start: usize, len: usize, px: &[u8; 4]) {
    let px = &px[..BPP];
    for dst in out[start * BPP..(start + len) * BPP].chunks_exact_mut(BPP) {
        dst.copy_from_slice(px);
    }
}

/// Copies a packed tile into the framebuffer at (`x`, `y`).
pub(crate) fn blit(fb: &mut Framebuffer, x: usize, y: usize, tw: usize, tile: &[u8]) {
    let bpp = fb.bytes_per_pixel();
    let stride = fb.stride();
    let row_len = tw * bpp;
    if row_len == 0 {
        return;
    }
    let data = fb.data_mut();
    for (r, src) in tile.chunks_exact(row_len).enumerate() {
        let start = (y + r) * stride + x * bpp;
        data[start..start + row_len].copy_from_slice(src);
    }
}

/// Open-addressed colour -> palette-index table for one tile.
struct PaletteTable {
    keys: [u32; 256],
    index: [u8; 256],
    generation: [u32; 256],
    current: u32,
    colours: Vec<u32>,
    overflow: bool,
}

impl PaletteTable {
    fn new() -> PaletteTable {
        PaletteTable {
            keys: [0; 256],
            index: [0; 256],
            generation: [0; 256],
            current: 1,
            colours: Vec::with_capacity(MAX_PALETTE),
            overflow: false,
        }
    }

    fn clear(&mut self) {
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.generation = [0; 256];
            self.current = 1;
        }
        self.colours.clear();
        self.overflow = false;
    }

    #[inline]
    fn slot(key: u32) -> usize {
        (key.wrapping_mul(0x9e37_79b1) >> 24) as usize
    }

    #[inline]
    fn lookup(&self, key: u32) -> Option<u8> {
        let mut s = Self::slot(key);
        loop {
            if self.generation[s] != self.current {
                return None;
            }
            if self.keys[s] == key {
                return Some(self.index[s]);
            }
            s = (s + 1) & 255;
        }
    }

    /// Adds `key` if new; marks the table overflowed past [`MAX_PALETTE`] colours.
    #[inline]
    fn insert(&mut self, key: u32) {
        if self.overflow {
            return;
        }
        let mut s = Self::slot(key);
        loop {
            if self.generation[s] != self.current {
                if self.colours.len() == MAX_PALETTE {
                    self.overflow = true;
                    return;
                }
                self.generation[s] = self.current;
                self.keys[s] = key;
                // At most 127 colours: the index fits a byte.
                self.index[s] = self.colours.len() as u8;
                self.colours.push(key);
                return;
            }
            if self.keys[s] == key {
                return;
            }
            s = (s + 1) & 255;
        }
    }

    fn len(&self) -> usize {
        self.colours.len()
    }
}

/// Bytes of a run length on the wire.
#[inline]
fn run_bytes(len: usize) -> usize {
    (len - 1) / 255 + 1
}

fn put_run_length(len: usize, out: &mut Vec<u8>) {
    let mut r = len - 1;
    while r >= 255 {
        out.push(255);
        r -= 255;
    }
    out.push(r as u8);
}

/// What a tile was sent as (for TRLE's palette reuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    Raw,
    Solid,
    Packed,
    PackedReuse,
    PlainRle,
    PaletteRle,
    PaletteRleReuse,
}

/// Encodes tiles of the ZRLE/TRLE grammar, choosing the smallest sub-encoding per tile.
pub(crate) struct TileEncoder {
    keys: Vec<u32>,
    runs: Vec<(u32, usize)>,
    cur: Box<PaletteTable>,
    /// TRLE: the palette of the previous tile, when it sent one.
    prev: Box<PaletteTable>,
    prev_valid: bool,
}

impl TileEncoder {
    pub(crate) fn new() -> TileEncoder {
        TileEncoder {
            keys: Vec::new(),
            runs: Vec::new(),
            cur: Box::new(PaletteTable::new()),
            prev: Box::new(PaletteTable::new()),
            prev_valid: false,
        }
    }

    /// Forgets the previous tile's palette (start of a TRLE rectangle).
    pub(crate) fn start_rect(&mut self) {
        self.prev_valid = false;
    }

    /// Appends tile `tile` of `view` to `out`. With `reuse` (TRLE), may use sub-encodings
    /// 127 and 129 against the previous tile's palette.
    pub(crate) fn encode_tile(
        &mut self,
        cp: &Cpixel,
        view: &PixelView<'_>,
        tile: Rect,
        reuse: bool,
        out: &mut Vec<u8>,
    ) {
        let (tw, th) = (usize::from(tile.width), usize::from(tile.height));
        let area = tw * th;
        let bpp = cp.bpp;
        let cpp = cp.cpp;
        self.keys.clear();
        for r in 0..tile.height {
            let row = view.row(tile.y + r);
            let row = &row[usize::from(tile.x) * bpp..(usize::from(tile.x) + tw) * bpp];
            if bpp == 4 {
                let keep = cp.keep;
                self.keys.extend(
                    row.chunks_exact(4)
                        .map(|px| u32::from_le_bytes([px[0], px[1], px[2], px[3]]) & keep),
                );
            } else {
                self.keys.extend(row.chunks_exact(bpp).map(|px| cp.key(px)));
            }
        }
        self.runs.clear();
        self.cur.clear();
        let mut plain_rle = 0usize;
        let mut palette_runs = 0usize;
        let mut i = 0;
        while i < area {
            let k = self.keys[i];
            let mut j = i + 1;
            while j < area && self.keys[j] == k {
                j += 1;
            }
            let len = j - i;
            self.runs.push((k, len));
            self.cur.insert(k);
            plain_rle += cpp + run_bytes(len);
            palette_runs += if len == 1 { 1 } else { 1 + run_bytes(len) };
            i = j;
        }
        let n = self.cur.len();
        let packed_bytes = |n: usize| (tw * index_bits(n)).div_ceil(8) * th;

        let mut best = (Chosen::Raw, area * cpp);
        let mut consider = |c: Chosen, size: usize| {
            if size < best.1 {
                best = (c, size);
            }
        };
        consider(Chosen::PlainRle, plain_rle);
        if !self.cur.overflow {
            if n == 1 {
                consider(Chosen::Solid, cpp);
            }
            if (2..=16).contains(&n) {
                consider(Chosen::Packed, n * cpp + packed_bytes(n));
            }
            if n >= 2 {
                consider(Chosen::PaletteRle, n * cpp + palette_runs);
            }
            let m = self.prev.len();
            if reuse
                && self.prev_valid
                && n >= 2
                && n <= m
                && self
                    .cur
                    .colours
                    .iter()
                    .all(|&k| self.prev.lookup(k).is_some())
            {
                if (2..=16).contains(&m) {
                    consider(Chosen::PackedReuse, packed_bytes(m));
                }
                consider(Chosen::PaletteRleReuse, palette_runs);
            }
        }
        let chosen = best.0;
        let table: &PaletteTable = match chosen {
            Chosen::PackedReuse | Chosen::PaletteRleReuse => &self.prev,
            _ => &self.cur,
        };
        match chosen {
            Chosen::Raw => {
                out.push(0);
                out.reserve(area * cpp);
                match (cpp, cp.off) {
                    (3, 0) => {
                        for &k in &self.keys {
                            let b = k.to_le_bytes();
                            out.extend_from_slice(&[b[0], b[1], b[2]]);
                        }
                    }
                    (3, _) => {
                        for &k in &self.keys {
                            let b = k.to_le_bytes();
                            out.extend_from_slice(&[b[1], b[2], b[3]]);
                        }
                    }
                    (4, _) => {
                        for &k in &self.keys {
                            out.extend_from_slice(&k.to_le_bytes());
                        }
                    }
                    _ => {
                        for &k in &self.keys {
                            cp.put(k, out);
                        }
                    }
                }
            }
            Chosen::Solid => {
                out.push(1);
                cp.put(self.keys[0], out);
            }
            Chosen::Packed | Chosen::PackedReuse => {
                let size = if chosen == Chosen::Packed {
                    out.push(n as u8);
                    for &k in &self.cur.colours {
                        cp.put(k, out);
                    }
                    n
                } else {
                    out.push(127);
                    table.len()
                };
                let bits = index_bits(size);
                let per_byte = 8 / bits;
                let mut x = 0;
                let mut acc = 0u8;
                for &(k, len) in &self.runs {
                    // Every run colour is in the table (checked above).
                    let idx = table.lookup(k).unwrap_or(0);
                    for _ in 0..len {
                        acc |= idx << (8 - bits * (x % per_byte + 1));
                        x += 1;
                        if x % per_byte == 0 || x == tw {
                            out.push(acc);
                            acc = 0;
                        }
                        if x == tw {
                            x = 0;
                        }
                    }
                }
            }
            Chosen::PlainRle => {
                out.push(128);
                for &(k, len) in &self.runs {
                    cp.put(k, out);
                    put_run_length(len, out);
                }
            }
            Chosen::PaletteRle | Chosen::PaletteRleReuse => {
                if chosen == Chosen::PaletteRle {
                    out.push(128 + n as u8);
                    for &k in &self.cur.colours {
                        cp.put(k, out);
                    }
                } else {
                    out.push(129);
                }
                for &(k, len) in &self.runs {
                    let idx = table.lookup(k).unwrap_or(0);
                    if len == 1 {
                        out.push(idx);
                    } else {
                        out.push(idx | 0x80);
                        put_run_length(len, out);
                    }
                }
            }
        }
        match chosen {
            Chosen::Packed | Chosen::PaletteRle => {
                std::mem::swap(&mut self.cur, &mut self.prev);
                self.prev_valid = true;
            }
            Chosen::PackedReuse | Chosen::PaletteRleReuse => {}
            Chosen::Raw | Chosen::Solid | Chosen::PlainRle => self.prev_valid = false,
        }
    }
}

/// Iterates the tiles of a `width` x `height` area, row by row.
pub(crate) fn tiles(width: u16, height: u16, size: u16) -> impl Iterator<Item = Rect> {
    (0..height.div_ceil(size)).flat_map(move |ty| {
        (0..width.div_ceil(size)).map(move |tx| {
            let (x, y) = (tx * size, ty * size);
            Rect::new(x, y, (width - x).min(size), (height - y).min(size))
        })
    })
}

/// ZRLE encoder: one persistent zlib stream per connection (sync flush per rectangle),
/// 64x64 tiles, each sent with whichever sub-encoding is smallest.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::zrle::{ZrleDecoder, ZrleEncoder};
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
///
/// let mut src = Framebuffer::new(100, 70, PixelFormat::RGB888);
/// src.fill(Rect::new(10, 5, 60, 40), &[0x20, 0x40, 0x80, 0]).unwrap();
/// let mut enc = ZrleEncoder::new(2);
/// let mut wire = BytesMut::new();
/// enc.encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
///
/// let mut dst = Framebuffer::new(100, 70, PixelFormat::RGB888);
/// let mut dec = ZrleDecoder::new();
/// dec.decode(dst.rect(), &wire, &mut dst, &CodecLimits::default()).unwrap();
/// assert_eq!(dst, src);
/// ```
pub struct ZrleEncoder {
    deflater: Deflater,
    tiles: TileEncoder,
    raw: Vec<u8>,
}

impl std::fmt::Debug for ZrleEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZrleEncoder")
            .field("level", &self.deflater.level())
            .finish_non_exhaustive()
    }
}

impl ZrleEncoder {
    /// A fresh stream at zlib `level` (0..=9; above 9 means 9). One level per connection:
    /// ZRLE has no way to reset the peer's stream.
    pub fn new(level: u32) -> ZrleEncoder {
        ZrleEncoder {
            deflater: Deflater::new(level),
            tiles: TileEncoder::new(),
            raw: Vec::new(),
        }
    }
}

impl Default for ZrleEncoder {
    /// Level 6, zlib's default.
    fn default() -> Self {
        ZrleEncoder::new(6)
    }
}

impl RectEncoder for ZrleEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::ZRLE
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        let cp = Cpixel::new(pixels.format(), "ZRLE")?;
        if pixels.width() == 0 || pixels.height() == 0 {
            out.put_u32(0);
            return Ok(());
        }
        self.raw.clear();
        for tile in tiles(pixels.width(), pixels.height(), TILE_SIZE) {
            self.tiles
                .encode_tile(&cp, pixels, tile, false, &mut self.raw);
            if self.raw.len() >= DEFLATE_CHUNK {
                self.deflater.deflate(&self.raw, false)?;
                self.raw.clear();
            }
        }
        self.deflater.deflate(&self.raw, true)?;
        self.raw.clear();
        self.deflater.take_prefixed(out)
    }
}

/// ZRLE decoder: one persistent inflate stream per connection.
///
/// [`RectDecoder::frame`] reads the length prefix only. [`RectDecoder::decode`] inflates
/// tile by tile (never more than a fixed read-ahead buffer), validates sub-encodings,
/// palette indices and run lengths, and fails if the rectangle's data inflates to more
/// than its tiles use. See [`ZrleEncoder`] for an example.
#[derive(Debug, Default)]
pub struct ZrleDecoder {
    inflater: Inflater,
    tile: Vec<u8>,
}

impl ZrleDecoder {
    /// A decoder with a fresh stream.
    pub fn new() -> ZrleDecoder {
        ZrleDecoder::default()
    }
}

impl RectDecoder for ZrleDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::ZRLE
    }

    fn frame(
        &mut self,
        _rect: Rect,
        _format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        frame_prefixed(buf, limits)
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        _limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let cp = Cpixel::new(fb.format(), "ZRLE")?;
        let body = prefixed_body(payload, "ZRLE")?;
        let bpp = cp.bpp;
        let max_tile = usize::from(TILE_SIZE) * usize::from(TILE_SIZE) * bpp;
        if self.tile.len() < max_tile {
            self.tile.resize(max_tile, 0);
        }
        let mut td = TileDecoder::new(cp, "ZRLE", false);
        let mut reader = self.inflater.reader(body, "ZRLE")?;
        for t in tiles(rect.width, rect.height, TILE_SIZE) {
            let (tw, th) = (usize::from(t.width), usize::from(t.height));
            let buf = &mut self.tile[..tw * th * bpp];
            td.tile::<_, true>(&mut reader, tw, th, buf)?;
            blit(
                fb,
                usize::from(rect.x) + usize::from(t.x),
                usize::from(rect.y) + usize::from(t.y),
                tw,
                buf,
            );
        }
        reader.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Framebuffer;

    /// The sub-encoding byte the encoder picks for one 16x16 tile of `seeds`, and for the
    /// same tile again right after it (TRLE palette reuse).
    fn chosen(seed: impl Fn(usize) -> u32) -> (u8, u8) {
        let fmt = PixelFormat::RGB888;
        let mut fb = Framebuffer::new(32, 16, fmt);
        let mut data = Vec::new();
        for y in 0..16 {
            for x in 0..32 {
                let v = seed(y * 16 + x % 16) & 0x00ff_ffff;
                data.extend(v.to_le_bytes());
            }
        }
        let r = fb.rect();
        fb.put_pixels(r, &data).unwrap();
        let view = fb.view(r).unwrap();
        let cp = Cpixel::new(&fmt, "test").unwrap();
        let mut enc = TileEncoder::new();
        enc.start_rect();
        let mut first = Vec::new();
        enc.encode_tile(&cp, &view, Rect::new(0, 0, 16, 16), true, &mut first);
        let mut second = Vec::new();
        enc.encode_tile(&cp, &view, Rect::new(16, 0, 16, 16), true, &mut second);
        (first[0], second[0])
    }

    #[test]
    fn encoder_picks_each_sub_encoding() {
        // Solid.
        assert_eq!(chosen(|_| 7), (1, 1));
        // Two colours alternating: packed palette, then the same palette reused.
        assert_eq!(chosen(|i| (i % 2) as u32), (2, 127));
        // Two long runs: plain RLE (cheaper than a palette).
        assert_eq!(chosen(|i| u32::from(i >= 128)), (128, 128));
        // 20 colours in runs of 4: palette RLE, then reused with 129.
        assert_eq!(chosen(|i| ((i / 4) % 20) as u32 * 1000), (148, 129));
        // Noise: raw.
        assert_eq!(
            chosen(|i| (i as u32).wrapping_mul(0x9e37_79b1) >> 8),
            (0, 0)
        );
    }
}
