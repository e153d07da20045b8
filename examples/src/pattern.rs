//! A deterministic test picture and the little pixel packing the examples need.

use std::io::Write;

use rfb_proto::PixelFormat;

/// A `width` x `height` RGB picture: colour bars, a gradient and a checkerboard, the
/// same every time. Returned as packed `R G B` bytes.
pub fn test_pattern(width: u16, height: u16) -> Vec<u8> {
    let (w, h) = (usize::from(width), usize::from(height));
    let mut rgb = Vec::with_capacity(w * h * 3);
    const BARS: [[u8; 3]; 8] = [
        [255, 255, 255],
        [255, 255, 0],
        [0, 255, 255],
        [0, 255, 0],
        [255, 0, 255],
        [255, 0, 0],
        [0, 0, 255],
        [0, 0, 0],
    ];
    for y in 0..h {
        for x in 0..w {
            let px = if y < h / 3 {
                BARS[(x * 8 / w.max(1)).min(7)]
            } else if y < 2 * h / 3 {
                let v = (x * 255 / w.max(1)) as u8;
                [v, (y * 255 / h.max(1)) as u8, 255 - v]
            } else if ((x / 8) + (y / 8)) % 2 == 0 {
                [0x33, 0x66, 0x99]
            } else {
                [0xe0, 0xe0, 0xe0]
            };
            rgb.extend_from_slice(&px);
        }
    }
    rgb
}

/// Packs one RGB colour into `format` (true colour), appending the bytes to `out`.
/// Colour-map formats get the BGR233 index of the colour (the examples send a matching
/// colour map).
pub fn pack(format: &PixelFormat, rgb: [u8; 3], out: &mut Vec<u8>) {
    let pf = if format.true_colour {
        *format
    } else {
        PixelFormat::BGR233
    };
    let scale = |v: u8, max: u16| -> u32 { (u32::from(v) * u32::from(max) + 127) / 255 };
    let value = (scale(rgb[0], pf.red_max) << pf.red_shift)
        | (scale(rgb[1], pf.green_max) << pf.green_shift)
        | (scale(rgb[2], pf.blue_max) << pf.blue_shift);
    match format.bits_per_pixel {
        8 => out.push(value as u8),
        16 if format.big_endian => out.extend_from_slice(&(value as u16).to_be_bytes()),
        16 => out.extend_from_slice(&(value as u16).to_le_bytes()),
        _ if format.big_endian => out.extend_from_slice(&value.to_be_bytes()),
        _ => out.extend_from_slice(&value.to_le_bytes()),
    }
}

/// The 256 colours of the BGR233 colour map, as 16-bit RGB for SetColourMapEntries.
pub fn bgr233_colour_map() -> Vec<[u16; 3]> {
    (0..=255u16)
        .map(|i| {
            let r = i & 7;
            let g = (i >> 3) & 7;
            let b = (i >> 6) & 3;
            [r * 65535 / 7, g * 65535 / 7, b * 65535 / 3]
        })
        .collect()
}

/// Writes packed RGB as a binary PPM (P6).
pub fn write_ppm(
    path: &std::path::Path,
    width: u16,
    height: u16,
    rgb: &[u8],
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(f, "P6\n{width} {height}\n255\n")?;
    f.write_all(rgb)?;
    f.flush()
}
