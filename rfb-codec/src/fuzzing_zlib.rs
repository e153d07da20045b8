//! Fuzzing entry points for the zlib-based and run-length encodings (not a stable API).
//!
//! Every function takes arbitrary bytes and must never panic, except the `roundtrip_*`
//! ones on a round-trip mismatch (a real bug).

use bytes::BytesMut;
use rfb_proto::{PixelFormat, Progress, Rect};

use crate::trle::{TrleDecoder, TrleEncoder};
use crate::zlib::{ZlibDecoder, ZlibEncoder};
use crate::zrle::{Cpixel, ZrleDecoder, ZrleEncoder};
use crate::{CodecLimits, Framebuffer, RectDecoder, RectEncoder};

/// The pixel formats the fuzzers pick from: every class ZRLE/TRLE distinguish.
pub fn formats() -> Vec<PixelFormat> {
    let mut be888 = PixelFormat::RGB888;
    be888.big_endian = true;
    // Colour bits in the three most significant bytes.
    let ms888 = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 16, 8);
    let mut ms888_be = ms888;
    ms888_be.big_endian = true;
    let mut deep = PixelFormat::RGB888;
    deep.depth = 32;
    // Depth 24 but channels straddling both ends: full 4-byte CPIXELs.
    let split = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 8, 0);
    let mut be565 = PixelFormat::RGB565;
    be565.big_endian = true;
    let small32 = PixelFormat::true_colour(32, 16, true, 31, 63, 31, 11, 5, 0);
    vec![
        PixelFormat::RGB888,
        PixelFormat::BGR888,
        be888,
        ms888,
        ms888_be,
        deep,
        split,
        PixelFormat::RGB565,
        be565,
        PixelFormat::RGB555,
        PixelFormat::RGB332,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
        small32,
    ]
}

/// `pixels` as a decoder can reproduce them in `format` (bytes a CPIXEL drops cleared).
pub fn cpixel_normalised(format: &PixelFormat, pixels: &mut [u8]) {
    let Ok(cp) = Cpixel::new(format, "fuzz") else {
        return;
    };
    if cp.cpp == cp.bpp {
        return;
    }
    for px in pixels.chunks_exact_mut(cp.bpp) {
        for (i, b) in px.iter_mut().enumerate() {
            if i < cp.off || i >= cp.off + cp.cpp {
                *b = 0;
            }
        }
    }
}

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
}

/// Decodes a stream of rectangles of one encoding: byte 0 picks the format, bytes 1-2 the
/// framebuffer size (at most 80x80); then repeatedly 4 bytes of rectangle geometry, then
/// the payload, framed and decoded until an error or the end.
fn decode_stream(data: &[u8], dec: &mut dyn RectDecoder) {
    let formats = formats();
    let mut inp = Input { data };
    let format = formats[usize::from(inp.byte()) % formats.len()];
    let fb_w = u16::from(inp.byte() % 81);
    let fb_h = u16::from(inp.byte() % 81);
    let mut fb = Framebuffer::new(fb_w, fb_h, format);
    let limits = CodecLimits {
        max_payload: 1 << 16,
        ..CodecLimits::default()
    };
    while inp.data.len() >= 4 {
        let rect = Rect::new(
            u16::from(inp.byte() % 96),
            u16::from(inp.byte() % 96),
            u16::from(inp.byte() % 96),
            u16::from(inp.byte() % 96),
        );
        match dec.frame(rect, &format, inp.data, &limits) {
            Ok(Progress::Done { consumed, .. }) => {
                let (payload, rest) = inp.data.split_at(consumed);
                if dec.decode(rect, payload, &mut fb, &limits).is_err() {
                    return;
                }
                inp.data = rest;
            }
            Ok(Progress::NeedMore { at_least }) => {
                assert!(at_least > inp.data.len(), "NeedMore asks for no more bytes");
                return;
            }
            Err(_) => return,
        }
    }
}

/// Zlib-encoding decoder on arbitrary bytes.
pub fn decode_zlib(data: &[u8]) {
    decode_stream(data, &mut ZlibDecoder::new());
}

/// ZRLE decoder on arbitrary bytes.
pub fn decode_zrle(data: &[u8]) {
    decode_stream(data, &mut ZrleDecoder::new());
}

/// TRLE decoder on arbitrary bytes.
pub fn decode_trle(data: &[u8]) {
    decode_stream(data, &mut TrleDecoder::new());
}

/// Encodes a rectangle made from `data` (byte 0: format, 1-2: size up to 150x150, byte 3:
/// how many distinct colours, then pixel choices), decodes it and panics unless the
/// pixels come back exactly (CPIXEL-dropped bytes cleared).
fn roundtrip(data: &[u8], enc: &mut dyn RectEncoder, dec: &mut dyn RectDecoder, cpixel: bool) {
    let formats = formats();
    let mut inp = Input { data };
    let format = formats[usize::from(inp.byte()) % formats.len()];
    let w = u16::from(inp.byte() % 151);
    let h = u16::from(inp.byte() % 151);
    let colours = usize::from(inp.byte()) + 1;
    let bpp = format.bytes_per_pixel();
    // A small set of colours makes palettes and runs likely.
    let palette: Vec<u8> = (0..colours * bpp).map(|_| inp.byte()).collect();
    let mut pixels = vec![0u8; usize::from(w) * usize::from(h) * bpp];
    let mut run = 0usize;
    let mut pick = 0usize;
    for px in pixels.chunks_exact_mut(bpp) {
        if run == 0 {
            let b = inp.byte();
            pick = usize::from(b) % colours;
            run = usize::from(b >> 4) * 3 + 1;
        }
        run -= 1;
        px.copy_from_slice(&palette[pick * bpp..(pick + 1) * bpp]);
    }
    let mut src = Framebuffer::new(w, h, format);
    let rect = src.rect();
    if src.put_pixels(rect, &pixels).is_err() {
        return;
    }
    let mut wire = BytesMut::new();
    let Ok(view) = src.view(rect) else { return };
    if enc.encode(&view, &mut wire).is_err() {
        return;
    }
    let limits = CodecLimits::default();
    match dec.frame(rect, &format, &wire, &limits) {
        Ok(Progress::Done { consumed, .. }) => assert_eq!(consumed, wire.len(), "frame length"),
        other => panic!("frame of our own encoding: {other:?}"),
    }
    let mut dst = Framebuffer::new(w, h, format);
    if let Err(e) = dec.decode(rect, &wire, &mut dst, &limits) {
        panic!("decode of our own encoding failed: {e}");
    }
    if cpixel {
        cpixel_normalised(&format, &mut pixels);
    }
    assert!(dst.data() == &pixels[..], "round trip changed pixels");
}

/// Zlib encoder -> decoder round trip (two rectangles on one stream).
pub fn roundtrip_zlib(data: &[u8]) {
    let mut enc = ZlibEncoder::new(u32::from(data.first().copied().unwrap_or(0) % 10));
    let mut dec = ZlibDecoder::new();
    roundtrip(data, &mut enc, &mut dec, false);
    roundtrip(data.get(1..).unwrap_or(&[]), &mut enc, &mut dec, false);
}

/// ZRLE encoder -> decoder round trip (two rectangles on one stream).
pub fn roundtrip_zrle(data: &[u8]) {
    let mut enc = ZrleEncoder::new(1);
    let mut dec = ZrleDecoder::new();
    roundtrip(data, &mut enc, &mut dec, true);
    roundtrip(data.get(1..).unwrap_or(&[]), &mut enc, &mut dec, true);
}

/// TRLE encoder -> decoder round trip.
pub fn roundtrip_trle(data: &[u8]) {
    roundtrip(data, &mut TrleEncoder::new(), &mut TrleDecoder::new(), true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_entry_points_survive_simple_inputs() {
        let mut seed = 0x1234_5678u32;
        for len in 0..300usize {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            decode_zlib(&data);
            decode_zrle(&data);
            decode_trle(&data);
            roundtrip_zlib(&data);
            roundtrip_zrle(&data);
            roundtrip_trle(&data);
        }
    }
}
