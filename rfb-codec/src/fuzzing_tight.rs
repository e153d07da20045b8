//! Fuzzing entry points for Tight (not a stable API).
//!
//! - [`decode_tight`]: arbitrary bytes as a stream of Tight rectangles; must never panic.
//! - [`roundtrip_tight`]: arbitrary pixels through the lossless encoder and back; panics
//!   only on a mismatch (a real bug).
//! - [`decode_tight_png`]: arbitrary bytes as a stream of TightPNG rectangles; must never
//!   panic.
//! - [`roundtrip_jpeg`]: arbitrary pixels through our JPEG encoder on every kernel
//!   (identical streams) and back through the decoder.

use bytes::BytesMut;
use rfb_proto::{PixelFormat, Progress, Rect};

use crate::fuzzing_zlib::formats;
use crate::pixel::{pixel_value, put_pixel_value};
use crate::tight::{GradientMode, TightConfig, TightDecoder, TightEncoder, TightPngDecoder};
use crate::{CodecLimits, Framebuffer, RectDecoder, RectEncoder};

/// `pixels` as Tight reproduces them losslessly in `format`: bits outside the colour
/// channels of true-colour pixels cleared.
pub fn tight_normalised(format: &PixelFormat, pixels: &mut [u8]) {
    if !format.true_colour {
        return;
    }
    let f = format;
    let mask = [
        (f.red_max, f.red_shift),
        (f.green_max, f.green_shift),
        (f.blue_max, f.blue_shift),
    ]
    .iter()
    .fold(0u32, |m, &(max, s)| {
        m | u32::from(max).checked_shl(s.into()).unwrap_or(0)
    });
    for px in pixels.chunks_exact_mut(format.bytes_per_pixel()) {
        let v = pixel_value(px, format) & mask;
        put_pixel_value(v, format, px);
    }
}

/// Decodes `data` as Tight rectangles: byte 0 picks the pixel format, then each
/// rectangle is 4 bytes (x, y, width, height, each one byte into a 48x40 framebuffer)
/// followed by its payload.
pub fn decode_tight(data: &[u8]) {
    decode_rects(data, &mut TightDecoder::new());
}

/// Decodes `data` as TightPNG rectangles, read like [`decode_tight`] (payloads: fill,
/// JPEG or PNG).
pub fn decode_tight_png(data: &[u8]) {
    decode_rects(data, &mut TightPngDecoder::new());
}

/// The loop of [`decode_tight`] and [`decode_tight_png`]: byte 0 picks the pixel format,
/// then 4-byte rectangles (one byte per field, in a 48x40 framebuffer) and their payloads.
fn decode_rects(data: &[u8], dec: &mut dyn RectDecoder) {
    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let fmts = formats();
    let format = fmts[usize::from(sel) % fmts.len()];
    let mut fb = Framebuffer::new(48, 40, format);
    let limits = CodecLimits {
        max_payload: 1 << 16,
        ..CodecLimits::default()
    };
    while rest.len() >= 4 {
        let rect = Rect::new(
            rest[0].into(),
            rest[1].into(),
            rest[2].into(),
            rest[3].into(),
        );
        rest = &rest[4..];
        match dec.frame(rect, &format, rest, &limits) {
            Ok(Progress::Done { consumed, .. }) => {
                let (payload, tail) = rest.split_at(consumed);
                // Errors are expected (a stream error poisons only that stream; a bad
                // PNG or a rectangle outside the framebuffer is refused).
                let _ = dec.decode(rect, payload, &mut fb, &limits);
                rest = tail;
            }
            Ok(Progress::NeedMore { at_least }) => {
                assert!(at_least > rest.len(), "NeedMore must ask for more");
                return;
            }
            Err(_) => return,
        }
    }
}

/// Encodes pixels from `data` losslessly and decodes them again; they must match.
/// Byte 0: format; byte 1: width (1..=64); byte 2: height (1..=64); byte 3: compress
/// level and gradient mode; the rest: pixels (repeated to fill), cut into two
/// rectangles encoded one after the other (the compress level changes between them).
pub fn roundtrip_tight(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let fmts = formats();
    let format = fmts[usize::from(data[0]) % fmts.len()];
    let w = u16::from(data[1] % 64) + 1;
    let h = u16::from(data[2] % 64) + 1;
    let gradient = match data[3] >> 6 {
        0 => GradientMode::Never,
        1 => GradientMode::Always,
        _ => GradientMode::Auto,
    };
    let cfg = TightConfig {
        compress_level: data[3] % 10,
        jpeg: None,
        gradient,
    };
    let bpp = format.bytes_per_pixel();
    let body = &data[4..];
    let mut pixels: Vec<u8> = body
        .iter()
        .cycle()
        .take(usize::from(w) * usize::from(h) * bpp)
        .copied()
        .collect();
    tight_normalised(&format, &mut pixels);
    let mut src = Framebuffer::new(w, h, format);
    if src.put_pixels(src.rect(), &pixels).is_err() {
        return;
    }
    let mut enc = TightEncoder::new(cfg);
    let mut dec = TightDecoder::new();
    let mut dst = Framebuffer::new(w, h, format);
    let top = h / 2;
    let limits = CodecLimits::default();
    for (i, rect) in [Rect::new(0, 0, w, top), Rect::new(0, top, w, h - top)]
        .into_iter()
        .enumerate()
    {
        if i == 1 {
            enc.set_config(TightConfig {
                compress_level: (cfg.compress_level + 1) % 10,
                ..cfg
            });
        }
        let Ok(view) = src.view(rect) else { return };
        let mut wire = BytesMut::new();
        enc.encode(&view, &mut wire).expect("lossless Tight encode");
        match dec.frame(rect, &format, &wire, &limits) {
            Ok(Progress::Done { consumed, .. }) => assert_eq!(consumed, wire.len()),
            other => panic!("framing our own rectangle: {other:?}"),
        }
        dec.decode(rect, &wire, &mut dst, &limits)
            .expect("decode our own rectangle");
    }
    assert_eq!(dst, src, "Tight round trip differs");
}

/// Differential fuzzing of the damage compare kernels and [`DamageTracker`](crate::damage::DamageTracker): every
/// kernel must agree with slice `==`, and replaying the refined damage (moves first,
/// then the changed rectangles) on the old frame must give the new frame.
/// Byte 0: width (1..=128), byte 1: height (1..=96); then the old frame's bytes, then
/// edits (x, y, w, h, value) and a scroll offset.
pub fn damage_compare(data: &[u8]) {
    use crate::damage::{DamageTracker, Kernel};
    use crate::Region;
    if data.len() < 3 {
        return;
    }
    // Kernels on two slices cut from the input at every length up to 200.
    let half = data.len() / 2;
    let (a, b) = data.split_at(half);
    let n = a.len().min(b.len());
    for k in Kernel::available() {
        assert_eq!(k.eq(&a[..n], &b[..n]), a[..n] == b[..n], "{k:?}");
        assert!(k.eq(&a[..n], &a[..n]), "{k:?}");
        for cut in [1usize, 15, 17, 33, 63, 65] {
            if n > cut {
                assert_eq!(k.eq(&a[cut..n], &b[cut..n]), a[cut..n] == b[cut..n]);
            }
        }
        // First / last differing byte against a byte loop.
        let (x, y) = (&a[..n], &b[..n]);
        let want = (
            x.iter().zip(y).position(|(p, q)| p != q),
            x.iter().zip(y).rposition(|(p, q)| p != q),
        );
        assert_eq!(crate::damage::diff_positions(k, x, y), want, "{k:?}");
    }
    let w = u16::from(data[0] % 128) + 1;
    let h = u16::from(data[1] % 96) + 1;
    let format = PixelFormat::RGB565;
    let len = usize::from(w) * usize::from(h) * 2;
    let body = &data[2..];
    let old_px: Vec<u8> = body.iter().cycle().take(len).copied().collect();
    let Ok(old) = Framebuffer::from_data(w, h, format, old_px) else {
        return;
    };
    let mut new = old.clone();
    // Scroll a band, then draw edits.
    let dy = u16::from(body[0] % 24);
    if dy > 0 && dy < h {
        let _ = new.copy_within(Rect::new(0, dy, w, h - dy), 0, 0);
    }
    for e in body.chunks_exact(5).take(8) {
        let r = Rect::new(
            u16::from(e[0]) % w,
            u16::from(e[1]) % h,
            u16::from(e[2] % 40),
            u16::from(e[3] % 40),
        )
        .clip_to(w, h);
        let _ = new.fill(r, &[e[4], e[4] ^ 0x55]);
    }
    let mut tracker = DamageTracker::new(&old);
    let dmg = tracker
        .refine(&new, &Region::from(new.rect()))
        .expect("same size and format");
    let mut replay = old.clone();
    for m in &dmg.moves {
        replay
            .copy_within(
                Rect::new(m.src_x, m.src_y, m.dst.width, m.dst.height),
                m.dst.x,
                m.dst.y,
            )
            .expect("move inside the frame");
    }
    for r in dmg.changed.rects() {
        let px = new
            .view(r)
            .expect("changed rect inside the frame")
            .to_packed();
        replay.put_pixels(r, &px).expect("put");
    }
    assert_eq!(replay, new, "damage replay differs");
    // Without move detection every kernel finds exactly the per-tile bounding boxes of
    // the changed pixels (a pixel loop), and leaves nothing changed behind.
    let want = naive_tile_damage(&old, &new);
    for k in Kernel::available() {
        let mut t = DamageTracker::new(&old);
        t.set_kernel(k);
        t.set_detect_moves(false);
        let d = t
            .refine(&new, &Region::from(new.rect()))
            .expect("same size");
        assert!(d.moves.is_empty());
        assert_eq!(d.changed, want, "{k:?}");
        let again = t
            .refine(&new, &Region::from(new.rect()))
            .expect("same size");
        assert!(again.changed.is_empty(), "{k:?}");
    }
}

/// Per 64x64 tile, the bounding box of the pixels that differ (a plain pixel loop).
fn naive_tile_damage(old: &Framebuffer, new: &Framebuffer) -> crate::Region {
    let (w, h) = (usize::from(old.width()), usize::from(old.height()));
    let bpp = old.format().bytes_per_pixel();
    let t = usize::from(crate::damage::TILE);
    let mut region = crate::Region::new();
    for ty in (0..h).step_by(t) {
        for tx in (0..w).step_by(t) {
            let mut bb: Option<(usize, usize, usize, usize)> = None;
            for y in ty..(ty + t).min(h) {
                for x in tx..(tx + t).min(w) {
                    let o = (y * w + x) * bpp;
                    if old.data()[o..o + bpp] != new.data()[o..o + bpp] {
                        bb = Some(bb.map_or((x, y, x, y), |(a, b, c, d)| {
                            (a.min(x), b.min(y), c.max(x), d.max(y))
                        }));
                    }
                }
            }
            if let Some((x0, y0, x1, y1)) = bb {
                region.add_rect(Rect::new(
                    x0 as u16,
                    y0 as u16,
                    (x1 - x0 + 1) as u16,
                    (y1 - y0 + 1) as u16,
                ));
            }
        }
    }
    region
}

/// Encodes pixels from `data` with our JPEG encoder ([`crate::jpeg`]) on every kernel
/// this CPU has; the streams must be identical and must decode (zune-jpeg, through
/// Tight's JPEG decoder) to an image of the right size. Byte 0: format; byte 1: width
/// (1..=128); byte 2: height (1..=128); byte 3: quality (1..=100); byte 4: sampling;
/// the rest: pixels (repeated to fill). Colour-map formats must give a typed error.
pub fn roundtrip_jpeg(data: &[u8]) {
    use crate::jpeg::{JpegEncoder, JpegKernel, JpegSampling};
    if data.len() < 6 {
        return;
    }
    let fmts = formats();
    let format = fmts[usize::from(data[0]) % fmts.len()];
    let w = u16::from(data[1] % 128) + 1;
    let h = u16::from(data[2] % 128) + 1;
    let quality = data[3] % 100 + 1;
    let sampling = [
        JpegSampling::Yuv444,
        JpegSampling::Yuv422,
        JpegSampling::Yuv420,
        JpegSampling::Gray,
    ][usize::from(data[4] % 4)];
    let bpp = format.bytes_per_pixel();
    let pixels: Vec<u8> = data[5..]
        .iter()
        .cycle()
        .take(usize::from(w) * usize::from(h) * bpp)
        .copied()
        .collect();
    let mut src = Framebuffer::new(w, h, format);
    if src.put_pixels(src.rect(), &pixels).is_err() {
        return;
    }
    let Ok(view) = src.view(src.rect()) else {
        return;
    };
    let mut streams: Vec<Vec<u8>> = Vec::new();
    for kernel in [JpegKernel::Scalar, JpegKernel::Avx2] {
        let Some(mut enc) = JpegEncoder::with_kernel(kernel) else {
            continue;
        };
        let mut out = Vec::new();
        match enc.encode(&view, quality, sampling, &mut out) {
            Ok(()) => streams.push(out),
            Err(_) => {
                assert!(!format.true_colour, "JPEG of a true-colour format failed");
                return;
            }
        }
    }
    assert!(format.true_colour, "JPEG of a colour-map format succeeded");
    if let Some(first) = streams.first() {
        assert!(streams.iter().all(|s| s == first), "JPEG kernels disagree");
        let mut decoded = Vec::new();
        crate::tight::jpeg::decode(first, w, h, &format, &mut decoded)
            .expect("our JPEG stream does not decode");
        assert_eq!(decoded.len(), usize::from(w) * usize::from(h) * bpp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        decode_tight(&[]);
        decode_tight(&[0, 0, 0, 4, 4, 0x80, 1, 2, 3]);
        decode_tight(&[3, 0, 0, 8, 8, 0x00, 0x83, 0xff, 0x7f]);
        roundtrip_tight(&[0, 10, 10, 2, 1, 2, 3, 4, 5, 6, 7]);
        damage_compare(&[]);
        let d: Vec<u8> = (0..400u32).map(|i| (i * 31 % 253) as u8).collect();
        damage_compare(&d);
        for f in 0..14u8 {
            let data: Vec<u8> = (0..700u32).map(|i| (i * 7 % 251) as u8).collect();
            let mut d = vec![f, 40, 30, 0x45];
            d.extend_from_slice(&data);
            roundtrip_tight(&d);
        }
    }

    #[test]
    fn random_inputs() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..600 {
            let len = (next() % 600) as usize;
            let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if i % 3 == 0 {
                // Plausible Tight headers more often.
                if let Some(b) = d.get_mut(5) {
                    *b &= 0x9f;
                }
            }
            decode_tight(&d);
            roundtrip_tight(&d);
            damage_compare(&d);
        }
    }
}
