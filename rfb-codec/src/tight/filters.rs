//! Tight's gradient filter, both directions.
//!
//! Each colour channel of a pixel is predicted from its left, upper and upper-left
//! neighbours (`left + above - above_left`, clamped to `0..=max`; neighbours outside the
//! rectangle are zero) and the difference to the prediction is sent, modulo `max + 1`.
//! For 3-byte TPIXELs the channels are the TPIXEL's bytes (`max` 255); for other formats
//! they are the pixel value's channels at their shifts, and the difference pixel is sent
//! as a pixel of the format.

use crate::pixel::{pixel_value, put_pixel_value};

use super::TpixelFormat;

/// Channel layout of the data pixels the filter works on.
struct Channels {
    tf: TpixelFormat,
    shift: [u32; 3],
    max: [u32; 3],
}

impl Channels {
    fn new(tf: &TpixelFormat) -> Channels {
        let f = tf.format();
        if tf.bytes() == 3 {
            Channels {
                tf: *tf,
                shift: [0; 3],
                max: [255; 3],
            }
        } else {
            Channels {
                tf: *tf,
                shift: [f.red_shift, f.green_shift, f.blue_shift].map(u32::from),
                max: [f.red_max, f.green_max, f.blue_max].map(u32::from),
            }
        }
    }

    /// The channels of one data unit (a TPIXEL, `tf.bytes()` long).
    fn read(&self, unit: &[u8]) -> [u32; 3] {
        if self.tf.bytes() == 3 {
            [unit[0], unit[1], unit[2]].map(u32::from)
        } else {
            let v = pixel_value(unit, self.tf.format());
            [0, 1, 2].map(|c| v.checked_shr(self.shift[c]).unwrap_or(0) & self.max[c])
        }
    }

    /// Writes channels as one data unit (`tf.bytes()` long).
    fn write(&self, comps: [u32; 3], unit: &mut [u8]) {
        if self.tf.bytes() == 3 {
            unit[0] = comps[0] as u8;
            unit[1] = comps[1] as u8;
            unit[2] = comps[2] as u8;
        } else {
            let v = (0..3).fold(0u32, |v, c| {
                v | comps[c].checked_shl(self.shift[c]).unwrap_or(0)
            });
            put_pixel_value(v, self.tf.format(), unit);
        }
    }

    fn predict(&self, c: usize, left: u32, up: u32, up_left: u32) -> u32 {
        let p = i64::from(left) + i64::from(up) - i64::from(up_left);
        p.clamp(0, i64::from(self.max[c])) as u32
    }
}

/// Undoes the filter: `data` holds `width * height` difference units (TPIXELs), `out`
/// receives `width * height` pixels of the format.
pub(crate) fn gradient_decode(
    tf: &TpixelFormat,
    width: usize,
    height: usize,
    data: &[u8],
    out: &mut [u8],
) {
    let ch = Channels::new(tf);
    let (tpx, bpp) = (tf.bytes(), tf.pixel_bytes());
    let mut prev = vec![0u32; width * 3];
    let mut cur = vec![0u32; width * 3];
    let mut unit = [0u8; 4];
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            let d = ch.read(&data[i * tpx..(i + 1) * tpx]);
            let mut v = [0u32; 3];
            for c in 0..3 {
                let (left, up_left) = if x > 0 {
                    (cur[(x - 1) * 3 + c], prev[(x - 1) * 3 + c])
                } else {
                    (0, 0)
                };
                let p = ch.predict(c, left, prev[x * 3 + c], up_left);
                v[c] = (d[c] + p) % (ch.max[c] + 1);
                cur[x * 3 + c] = v[c];
            }
            ch.write(v, &mut unit[..tpx]);
            tf.from_tpixel(&unit[..tpx], &mut out[i * bpp..(i + 1) * bpp]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
}

/// Applies the filter to `rows` (pixels of the format), appending `width * height`
/// difference units (TPIXELs) to `out`.
pub(crate) fn gradient_encode<'a>(
    tf: &TpixelFormat,
    width: usize,
    rows: impl Iterator<Item = &'a [u8]>,
    out: &mut Vec<u8>,
) {
    let ch = Channels::new(tf);
    let (tpx, bpp) = (tf.bytes(), tf.pixel_bytes());
    let mut prev = vec![0u32; width * 3];
    let mut cur = vec![0u32; width * 3];
    let mut unit = [0u8; 4];
    for row in rows {
        let start = out.len();
        out.resize(start + width * tpx, 0);
        let dst = &mut out[start..];
        for x in 0..width {
            tf.to_tpixel(&row[x * bpp..(x + 1) * bpp], &mut unit[..tpx]);
            let v = ch.read(&unit[..tpx]);
            let mut d = [0u32; 3];
            for c in 0..3 {
                let (left, up_left) = if x > 0 {
                    (cur[(x - 1) * 3 + c], prev[(x - 1) * 3 + c])
                } else {
                    (0, 0)
                };
                let p = ch.predict(c, left, prev[x * 3 + c], up_left);
                let m = ch.max[c] + 1;
                d[c] = (v[c] + m - p) % m;
                cur[x * 3 + c] = v[c];
            }
            ch.write(d, &mut dst[x * tpx..(x + 1) * tpx]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
}
