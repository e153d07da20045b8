//! RGB images: binary PPM (P6) read/write, XWD (`xwd` dumps of X windows) and PNG read, exact compare.

use std::fs;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

/// An 8-bit RGB image, rows top to bottom, 3 bytes per pixel.
///
/// ```
/// use rfb_interop::image::Image;
/// let a = Image::new(2, 1, vec![255, 0, 0, 0, 0, 255]);
/// let mut b = a.clone();
/// assert_eq!(a.mismatch(&b), None);
/// b.rgb[5] = 254;
/// assert!(a.mismatch(&b).unwrap().contains("1 of 2 pixels differ"));
/// let ppm = a.to_ppm();
/// assert_eq!(Image::from_ppm(&ppm).unwrap(), a);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes: R, G, B per pixel.
    pub rgb: Vec<u8>,
}

impl Image {
    /// An image from its pixels. Panics if `rgb.len() != width * height * 3` (test code).
    pub fn new(width: usize, height: usize, rgb: Vec<u8>) -> Image {
        assert_eq!(rgb.len(), width * height * 3, "pixel buffer size");
        Image { width, height, rgb }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Parses a binary PPM (P6, maxval 255; comments allowed in the header).
    pub fn from_ppm(data: &[u8]) -> Result<Image> {
        let mut pos = 0;
        let mut fields = Vec::new();
        while fields.len() < 4 {
            while pos < data.len() && (data[pos].is_ascii_whitespace() || data[pos] == b'#') {
                if data[pos] == b'#' {
                    while pos < data.len() && data[pos] != b'\n' {
                        pos += 1;
                    }
                } else {
                    pos += 1;
                }
            }
            let start = pos;
            while pos < data.len() && !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            ensure!(pos > start, "truncated PPM header");
            fields.push(String::from_utf8_lossy(&data[start..pos]).into_owned());
        }
        pos += 1; // the single whitespace byte after maxval
        ensure!(
            fields[0] == "P6",
            "not a binary PPM (magic {:?})",
            fields[0]
        );
        let width: usize = fields[1].parse().context("PPM width")?;
        let height: usize = fields[2].parse().context("PPM height")?;
        ensure!(
            fields[3] == "255",
            "PPM maxval {} (only 255 supported)",
            fields[3]
        );
        let n = width * height * 3;
        ensure!(
            data.len() >= pos + n,
            "PPM {width}x{height} truncated: {} of {n} pixel bytes",
            data.len().saturating_sub(pos)
        );
        Ok(Image::new(width, height, data[pos..pos + n].to_vec()))
    }

    /// Reads a binary PPM file.
    pub fn read_ppm(path: &Path) -> Result<Image> {
        let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Image::from_ppm(&data).with_context(|| format!("parsing {}", path.display()))
    }

    /// Encodes as binary PPM (P6).
    pub fn to_ppm(&self) -> Vec<u8> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.rgb);
        out
    }

    /// Writes a binary PPM file.
    pub fn write_ppm(&self, path: &Path) -> Result<()> {
        fs::write(path, self.to_ppm()).with_context(|| format!("writing {}", path.display()))
    }

    /// Parses an XWD file as written by `xwd` (format version 7, ZPixmap, TrueColor or
    /// DirectColor visual, 16/24/32 bits per pixel). The header is big-endian; pixel
    /// byte order comes from the header.
    pub fn from_xwd(data: &[u8]) -> Result<Image> {
        ensure!(data.len() >= 100, "XWD file too short");
        let h = |i: usize| {
            u32::from_be_bytes([
                data[i * 4],
                data[i * 4 + 1],
                data[i * 4 + 2],
                data[i * 4 + 3],
            ])
        };
        let (header_size, version, format) = (h(0) as usize, h(1), h(2));
        let (width, height) = (h(4) as usize, h(5) as usize);
        let (byte_order, bpp, bpl, class) = (h(7), h(11), h(12) as usize, h(13));
        let masks = [h(14), h(15), h(16)];
        let ncolors = h(19) as usize;
        ensure!(version == 7, "XWD version {version} (expected 7)");
        ensure!(format == 2, "XWD pixmap format {format} (only ZPixmap)");
        ensure!(
            class == 4 || class == 5,
            "XWD visual class {class} (only TrueColor/DirectColor)"
        );
        let off = header_size + ncolors * 12;
        let bytes_pp = match bpp {
            16 => 2,
            24 => 3,
            32 => 4,
            _ => bail!("XWD bits per pixel {bpp} unsupported"),
        };
        ensure!(
            bpl >= width * bytes_pp,
            "XWD bytes per line {bpl} too small"
        );
        ensure!(data.len() >= off + bpl * height, "XWD pixel data truncated");
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            let row = &data[off + y * bpl..off + y * bpl + width * bytes_pp];
            for px in row.chunks_exact(bytes_pp) {
                let v = if byte_order == 0 {
                    px.iter().rev().fold(0u32, |a, &b| (a << 8) | u32::from(b))
                } else {
                    px.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b))
                };
                for m in masks {
                    ensure!(m != 0, "XWD colour mask is zero");
                    let shift = m.trailing_zeros();
                    let max = m >> shift;
                    let c = (v & m) >> shift;
                    rgb.push(if max == 255 {
                        c as u8
                    } else {
                        (c * 255 / max) as u8
                    });
                }
            }
        }
        Ok(Image::new(width, height, rgb))
    }

    /// Reads an XWD file.
    pub fn read_xwd(path: &Path) -> Result<Image> {
        let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Image::from_xwd(&data).with_context(|| format!("parsing {}", path.display()))
    }

    /// Reads a PNG (8-bit RGB or RGBA; alpha dropped, as `rfb-snapshot` writes them).
    pub fn read_png(path: &Path) -> Result<Image> {
        let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut dec = png::Decoder::new(std::io::BufReader::new(file));
        dec.set_transformations(png::Transformations::EXPAND);
        let mut reader = dec
            .read_info()
            .with_context(|| format!("parsing {}", path.display()))?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut buf)
            .with_context(|| format!("decoding {}", path.display()))?;
        ensure!(
            info.bit_depth == png::BitDepth::Eight,
            "{}: {:?} bits per channel, expected 8",
            path.display(),
            info.bit_depth
        );
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => bail!("{}: colour type {other:?}, expected RGB(A)", path.display()),
        };
        let mut rgb = Vec::with_capacity(w * h * 3);
        for row in buf[..info.line_size * h].chunks_exact(info.line_size) {
            for px in row[..w * channels].chunks_exact(channels) {
                rgb.extend_from_slice(&px[..3]);
            }
        }
        Ok(Image::new(w, h, rgb))
    }

    /// The `w`x`h` area at (`x`, `y`); an error if it is not inside the image.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Image> {
        ensure!(
            x + w <= self.width && y + h <= self.height,
            "crop {w}x{h}+{x}+{y} outside a {}x{} image",
            self.width,
            self.height
        );
        let mut rgb = Vec::with_capacity(w * h * 3);
        for row in y..y + h {
            let i = (row * self.width + x) * 3;
            rgb.extend_from_slice(&self.rgb[i..i + w * 3]);
        }
        Ok(Image::new(w, h, rgb))
    }

    /// Whether every pixel has the same colour.
    pub fn is_uniform(&self) -> bool {
        self.rgb.chunks_exact(3).all(|p| p == &self.rgb[..3])
    }

    /// Peak signal-to-noise ratio of `got` against `self` over the R, G and B samples,
    /// in dB (infinite when equal); an error if the sizes differ.
    pub fn psnr(&self, got: &Image) -> Result<f64> {
        ensure!(
            (self.width, self.height) == (got.width, got.height),
            "size differs: expected {}x{}, got {}x{}",
            self.width,
            self.height,
            got.width,
            got.height
        );
        let sum: u64 = self
            .rgb
            .iter()
            .zip(&got.rgb)
            .map(|(&a, &b)| {
                let d = u64::from(a.abs_diff(b));
                d * d
            })
            .sum();
        if sum == 0 {
            return Ok(f64::INFINITY);
        }
        let mse = sum as f64 / self.rgb.len() as f64;
        Ok(10.0 * (255.0f64 * 255.0 / mse).log10())
    }

    /// `None` if `got` equals `self` exactly; otherwise a one-line description of the
    /// difference (size, or number of differing pixels, their bounding box and the first one).
    pub fn mismatch(&self, got: &Image) -> Option<String> {
        if (self.width, self.height) != (got.width, got.height) {
            return Some(format!(
                "size differs: expected {}x{}, got {}x{}",
                self.width, self.height, got.width, got.height
            ));
        }
        let mut n = 0usize;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut first = None;
        for y in 0..self.height {
            for x in 0..self.width {
                let (a, b) = (self.pixel(x, y), got.pixel(x, y));
                if a != b {
                    n += 1;
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                    first.get_or_insert((x, y, a, b));
                }
            }
        }
        let (fx, fy, a, b) = first?;
        Some(format!(
            "{n} of {} pixels differ, in {x0},{y0}..{x1},{y1}; first at ({fx},{fy}): expected {a:?}, got {b:?}",
            self.width * self.height
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An XWD file built field by field: 25 big-endian header words, a window name,
    /// no colour map entries, then the pixels.
    fn xwd(bpp: u32, byte_order: u32, width: u32, height: u32, bpl: u32, pixels: &[u8]) -> Vec<u8> {
        let name = b"win\0";
        let header_size = 100 + name.len() as u32;
        let words: [u32; 25] = [
            header_size,
            7, // file version
            2, // ZPixmap
            24,
            width,
            height,
            0, // xoffset
            byte_order,
            32, // bitmap unit
            byte_order,
            32, // bitmap pad
            bpp,
            bpl,
            4, // TrueColor
            0xff0000,
            0x00ff00,
            0x0000ff,
            8, // bits per rgb
            0, // colour map entries
            0, // ncolors
            width,
            height,
            0,
            0,
            0,
        ];
        let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        out.extend_from_slice(name);
        out.extend_from_slice(pixels);
        out
    }

    #[test]
    fn xwd_32bpp_lsb_first_with_row_padding() {
        // 2x2, 32 bpp little-endian pixels 0x00RRGGBB, rows padded to 12 bytes
        let mut px = Vec::new();
        for (v, pad) in [
            (0x00ff0000u32, false),
            (0x0000ff00, true),
            (0x000000ff, false),
            (0x00102030, true),
        ] {
            px.extend_from_slice(&v.to_le_bytes());
            if pad {
                px.extend_from_slice(&[0xee; 4]);
            }
        }
        let img = Image::from_xwd(&xwd(32, 0, 2, 2, 12, &px)).unwrap();
        assert_eq!((img.width, img.height), (2, 2));
        assert_eq!(
            img.rgb,
            vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 0x10, 0x20, 0x30]
        );
    }

    #[test]
    fn xwd_msb_first_and_bad_headers() {
        let img = Image::from_xwd(&xwd(32, 1, 1, 1, 4, &[0, 1, 2, 3])).unwrap();
        assert_eq!(img.rgb, vec![1, 2, 3]);
        assert!(
            Image::from_xwd(&xwd(32, 0, 2, 2, 8, &[0; 8])).is_err(),
            "truncated pixels"
        );
        assert!(
            Image::from_xwd(&xwd(8, 0, 1, 1, 1, &[0])).is_err(),
            "8 bpp unsupported"
        );
        assert!(Image::from_xwd(&[0; 10]).is_err());
    }

    #[test]
    fn ppm_with_comment_and_crop() {
        let data =
            b"P6\n# made by hand\n2 2\n255\n\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
        let img = Image::from_ppm(data).unwrap();
        assert_eq!(img.pixel(1, 1), [10, 11, 12]);
        assert_eq!(img.crop(1, 0, 1, 2).unwrap().rgb, vec![4, 5, 6, 10, 11, 12]);
        assert!(img.crop(1, 1, 2, 1).is_err());
        assert!(Image::from_ppm(b"P6\n2 2\n255\n\x01").is_err());
        assert!(Image::from_ppm(b"P5\n1 1\n255\n\x01").is_err());
    }
}
