//! Entry points for cargo-fuzz targets (not a stable API).
//!
//! Every function takes arbitrary bytes and must never panic, except on a genuine bug
//! signal: a round trip that does not give back its input, framing that disagrees with
//! itself on a prefix, or two translation kernels that disagree.
//!
//! Decoder targets derive a pixel format, a framebuffer size and a rectangle (possibly
//! outside the framebuffer) from the first bytes, then frame and decode the rest.

use bytes::BytesMut;
use rfb_proto::{PixelFormat, Progress, Rect};

use crate::copy_rect::CopyRectDecoder;
use crate::cursor;
use crate::hextile::{HextileDecoder, HextileEncoder};
use crate::pixel::{Isa, Palette, Translator};
use crate::raw::{RawDecoder, RawEncoder};
use crate::rre::{CorreDecoder, CorreEncoder, RreDecoder, RreEncoder};
use crate::{CodecLimits, Framebuffer, RectDecoder, RectEncoder};

const FORMATS: [PixelFormat; 8] = [
    PixelFormat::RGB888,
    PixelFormat::BGR888,
    PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB888
    },
    PixelFormat::RGB565,
    PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB565
    },
    PixelFormat::RGB332,
    PixelFormat::COLOUR_MAP8,
    PixelFormat {
        bits_per_pixel: 16,
        depth: 16,
        big_endian: true,
        ..PixelFormat::COLOUR_MAP8
    },
];

fn limits() -> CodecLimits {
    CodecLimits {
        max_payload: 1 << 20,
        max_subrects: 1 << 12,
    }
}

/// Format, framebuffer and rectangle from the first 7 bytes; the rest is the payload.
fn setup(data: &[u8]) -> Option<(Framebuffer, Rect, &[u8])> {
    let (head, rest) = data.split_first_chunk::<7>()?;
    let format = FORMATS[usize::from(head[0]) % FORMATS.len()];
    let fb = Framebuffer::new(
        u16::from(head[1] % 48) + 1,
        u16::from(head[2] % 48) + 1,
        format,
    );
    // Mostly small coordinates; with the top bit set, near the end of the u16 range
    // (edges that would overflow if added carelessly).
    let coord = |b: u8| {
        if b & 0x80 != 0 {
            u16::MAX - u16::from(b & 0x7f)
        } else {
            u16::from(b % 64)
        }
    };
    let rect = Rect::new(
        coord(head[3]),
        coord(head[4]),
        u16::from(head[5] % 64),
        u16::from(head[6] % 64),
    );
    Some((fb, rect, rest))
}

/// Frames `buf`, checks that a shorter prefix needs more, and decodes what was framed.
fn frame_and_decode(decoder: &mut dyn RectDecoder, data: &[u8]) {
    let Some((mut fb, rect, buf)) = setup(data) else {
        return;
    };
    let limits = limits();
    let format = *fb.format();
    let Ok(Progress::Done { consumed, .. }) = decoder.frame(rect, &format, buf, &limits) else {
        return;
    };
    assert!(consumed <= buf.len());
    if consumed > 0 {
        match decoder.frame(rect, &format, &buf[..consumed - 1], &limits) {
            Ok(Progress::NeedMore { at_least }) => {
                assert!(at_least <= consumed && at_least > consumed - 1)
            }
            other => panic!("framing a prefix of a framed payload gave {other:?}"),
        }
    }
    let _ = decoder.decode(rect, &buf[..consumed], &mut fb, &limits);
}

/// Raw decoder.
pub fn decode_raw(data: &[u8]) {
    frame_and_decode(&mut RawDecoder, data);
}

/// CopyRect decoder.
pub fn decode_copy_rect(data: &[u8]) {
    frame_and_decode(&mut CopyRectDecoder, data);
}

/// RRE decoder.
pub fn decode_rre(data: &[u8]) {
    frame_and_decode(&mut RreDecoder, data);
}

/// CoRRE decoder.
pub fn decode_corre(data: &[u8]) {
    frame_and_decode(&mut CorreDecoder, data);
}

/// Hextile decoder.
pub fn decode_hextile(data: &[u8]) {
    frame_and_decode(&mut HextileDecoder, data);
}

/// Cursor, X Cursor and Cursor With Alpha decoders (chosen by the first byte).
pub fn decode_cursor(data: &[u8]) {
    let Some((&kind, data)) = data.split_first() else {
        return;
    };
    let Some((fb, rect, buf)) = setup(data) else {
        return;
    };
    let limits = limits();
    let format = *fb.format();
    let palette = Palette::for_format(&format);
    let framed = match kind % 3 {
        0 => cursor::frame_cursor(rect, &format, buf, &limits),
        1 => cursor::frame_x_cursor(rect, buf, &limits),
        _ => cursor::frame_alpha_cursor(rect, buf, &limits),
    };
    let Ok(Progress::Done { consumed, .. }) = framed else {
        return;
    };
    let payload = &buf[..consumed];
    let image = match kind % 3 {
        0 => cursor::decode_cursor(rect, &format, palette.as_ref(), payload, &limits),
        1 => cursor::decode_x_cursor(rect, payload, &limits),
        _ => cursor::decode_alpha_cursor(rect, payload, &limits),
    };
    if let Ok(image) = image {
        assert_eq!(image.rgba().len(), rect.area() as usize * 4);
    }
}

/// Pixels for a round trip: `w` x `h` from the first bytes, colours from a small set so
/// tiles have structure.
fn source(data: &[u8]) -> Option<Framebuffer> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    let format = FORMATS[usize::from(head[0]) % FORMATS.len()];
    let (w, h) = (u16::from(head[1] % 40), u16::from(head[2] % 40));
    let colours = usize::from(head[3] % 8) + 1;
    let bpp = format.bytes_per_pixel();
    let mut fb = Framebuffer::new(w, h, format);
    if rest.is_empty() {
        return Some(fb);
    }
    for (i, px) in fb.data_mut().chunks_exact_mut(bpp).enumerate() {
        let c = rest[i % rest.len()] as usize % colours;
        for (k, b) in px.iter_mut().enumerate() {
            *b = (c * 37 + k * 11) as u8;
        }
    }
    Some(fb)
}

fn roundtrip(encoder: &mut dyn RectEncoder, decoder: &mut dyn RectDecoder, data: &[u8]) {
    let Some(src) = source(data) else {
        return;
    };
    let rect = src.rect();
    let mut out = BytesMut::new();
    encoder
        .encode(&src.view(rect).expect("whole framebuffer"), &mut out)
        .expect("encode");
    let limits = CodecLimits::default();
    let framed = decoder
        .frame(rect, src.format(), &out, &limits)
        .expect("frame");
    assert_eq!(
        framed,
        Progress::Done {
            item: (),
            consumed: out.len()
        }
    );
    let mut dst = Framebuffer::new(src.width(), src.height(), *src.format());
    decoder
        .decode(rect, &out, &mut dst, &limits)
        .expect("decode");
    assert!(dst.data() == src.data(), "round trip changed the pixels");
}

/// Hextile encoder then decoder: the pixels must come back.
pub fn roundtrip_hextile(data: &[u8]) {
    roundtrip(&mut HextileEncoder, &mut HextileDecoder, data);
}

/// RRE (even first byte) or CoRRE encoder then decoder: the pixels must come back.
pub fn roundtrip_rre(data: &[u8]) {
    match data.first() {
        Some(b) if b % 2 == 1 => roundtrip(&mut CorreEncoder, &mut CorreDecoder, &data[1..]),
        Some(_) => roundtrip(&mut RreEncoder, &mut RreDecoder, &data[1..]),
        None => {}
    }
}

/// Raw encoder then decoder.
pub fn roundtrip_raw(data: &[u8]) {
    roundtrip(&mut RawEncoder, &mut RawDecoder, data);
}

/// A pixel format from three bytes: a named one, or a true-colour one built from channel
/// widths, order and offset (invalid combinations fall back to a named format).
fn format_from(b: [u8; 3]) -> (PixelFormat, Option<Palette>) {
    if b[0] & 1 == 0 {
        let f = FORMATS[usize::from(b[0] >> 1) % FORMATS.len()];
        return (f, Palette::for_format(&f));
    }
    let bpp = [8u8, 16, 32][usize::from(b[0] >> 1) % 3];
    let bits = [b[1] % 10 + 1, (b[1] / 10) % 10 + 1, b[2] % 10 + 1];
    let offset = (b[2] / 10) % 8;
    let be = b[0] & 0x80 != 0;
    let mut shifts = [0u8; 3];
    let mut at = offset;
    for c in [
        (b[0] >> 3) as usize % 3,
        ((b[0] >> 3) as usize + 1) % 3,
        ((b[0] >> 3) as usize + 2) % 3,
    ] {
        shifts[c] = at;
        at = at.saturating_add(bits[c]);
    }
    let max = |n: u8| ((1u32 << n) - 1) as u16;
    let f = PixelFormat::true_colour(
        bpp,
        bpp,
        be,
        max(bits[0]),
        max(bits[1]),
        max(bits[2]),
        shifts[0],
        shifts[1],
        shifts[2],
    );
    if f.validate().is_ok() {
        (f, None)
    } else {
        (PixelFormat::RGB888, None)
    }
}

/// Differential: every available SIMD kernel must agree with the scalar one.
pub fn translate(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<6>() else {
        return;
    };
    let (src, sp) = format_from([head[0], head[1], head[2]]);
    let (dst, dp) = format_from([head[3], head[4], head[5]]);
    let Ok(scalar) = Translator::with_isa(&src, sp.as_ref(), &dst, dp.as_ref(), Isa::Scalar) else {
        return;
    };
    let rest = &rest[..rest.len() / src.bytes_per_pixel() * src.bytes_per_pixel()];
    let mut want = vec![0; rest.len() / src.bytes_per_pixel() * dst.bytes_per_pixel()];
    scalar.translate_row(rest, &mut want).expect("sizes match");
    if !matches!(scalar.kernel().0, "shuffle32" | "pack16") {
        // The other kernels have no SIMD variant: nothing to compare.
        return;
    }
    for isa in Isa::available() {
        let t =
            Translator::with_isa(&src, sp.as_ref(), &dst, dp.as_ref(), isa).expect("same formats");
        let mut got = vec![0; want.len()];
        t.translate_row(rest, &mut got).expect("sizes match");
        assert!(got == want, "{:?} disagrees with scalar", t.kernel());
    }
}

/// Region operations against each other (union/subtract/intersect identities).
pub fn region(data: &[u8]) {
    use crate::Region;
    let rects: Vec<Rect> = data
        .chunks_exact(4)
        .take(64)
        .map(|c| {
            Rect::new(
                u16::from(c[0] % 64),
                u16::from(c[1] % 64),
                u16::from(c[2] % 32),
                u16::from(c[3] % 32),
            )
        })
        .collect();
    let (a, b): (Vec<_>, Vec<_>) = rects.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let a: Region = a.into_iter().map(|(_, r)| *r).collect();
    let b: Region = b.into_iter().map(|(_, r)| *r).collect();
    let (u, i, s) = (a.union(&b), a.intersect(&b), a.subtract(&b));
    assert_eq!(u.area() + i.area(), a.area() + b.area());
    assert_eq!(s.union(&i), a);
    assert!(s.intersect(&b).is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap deterministic smoke run of every entry point over pseudo-random inputs.
    #[test]
    fn entry_points_do_not_panic() {
        let mut seed = 0x1234_5678_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..400 {
            let len = (next() % 300) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            decode_raw(&data);
            decode_copy_rect(&data);
            decode_rre(&data);
            decode_corre(&data);
            decode_hextile(&data);
            decode_cursor(&data);
            roundtrip_hextile(&data);
            roundtrip_rre(&data);
            roundtrip_raw(&data);
            translate(&data);
            region(&data);
        }
    }
}
