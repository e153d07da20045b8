//! Tight (encoding 7) decoder: byte vectors written from the community RFB spec
//! ("Tight Encoding"), one per sub-encoding, and hostile inputs.

use std::io::Write;

use rfb_codec::tight::{read_compact_len, write_compact_len, TightDecoder};
use rfb_codec::{CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

/// Frames then decodes one rectangle, checking that framing consumed exactly `wire`.
fn decode(
    dec: &mut TightDecoder,
    rect: Rect,
    fb: &mut Framebuffer,
    wire: &[u8],
) -> Result<(), CodecError> {
    let limits = CodecLimits::default();
    let format = *fb.format();
    match dec.frame(rect, &format, wire, &limits)? {
        Progress::Done { consumed, .. } => assert_eq!(consumed, wire.len(), "framed length"),
        Progress::NeedMore { at_least } => panic!("framing wants {at_least} of {}", wire.len()),
    }
    // Every strict prefix must ask for more than it has.
    for n in 0..wire.len() {
        match dec.frame(rect, &format, &wire[..n], &limits)? {
            Progress::NeedMore { at_least } => assert!(at_least > n),
            Progress::Done { .. } => panic!("prefix of {n} bytes framed as complete"),
        }
    }
    dec.decode(rect, wire, fb, &limits)
}

/// RGB888 little-endian pixel bytes of an (r, g, b) colour.
fn px888(r: u8, g: u8, b: u8) -> [u8; 4] {
    [b, g, r, 0]
}

fn rows888(fb: &Framebuffer, rect: Rect) -> Vec<[u8; 4]> {
    let v = fb.view(rect).unwrap().to_packed();
    v.chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect()
}

/// A sync-flushed piece of a persistent zlib stream, as a Tight server sends it.
struct Stream(flate2::write::ZlibEncoder<Vec<u8>>);

impl Stream {
    fn new() -> Stream {
        Stream(flate2::write::ZlibEncoder::new(
            Vec::new(),
            flate2::Compression::new(6),
        ))
    }
    fn piece(&mut self, data: &[u8]) -> Vec<u8> {
        self.0.write_all(data).unwrap();
        self.0.flush().unwrap();
        std::mem::take(self.0.get_mut())
    }
}

fn compact(len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    write_compact_len(len, &mut v).unwrap();
    v
}

#[test]
fn compact_length_boundaries() {
    let cases: [(u32, &[u8]); 7] = [
        (0, &[0x00]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (10000, &[0x90, 0x4e]),
        (16383, &[0xff, 0x7f]),
        (16384, &[0x80, 0x80, 0x01]),
        (4_194_303, &[0xff, 0xff, 0xff]),
    ];
    for (v, bytes) in cases {
        assert_eq!(compact(v as usize), bytes, "{v}");
        assert_eq!(read_compact_len(bytes), Some((v, bytes.len())));
    }
    assert!(write_compact_len(4_194_304, &mut Vec::new()).is_err());
}

#[test]
fn fill_888_uses_three_byte_tpixel() {
    let mut fb = Framebuffer::new(4, 3, PixelFormat::RGB888);
    let mut dec = TightDecoder::new();
    decode(
        &mut dec,
        Rect::new(1, 1, 3, 2),
        &mut fb,
        &[0x80, 0xaa, 0xbb, 0xcc],
    )
    .unwrap();
    let got = rows888(&fb, fb.rect());
    for (i, p) in got.iter().enumerate() {
        let (x, y) = (i % 4, i / 4);
        let inside = x >= 1 && y >= 1;
        assert_eq!(
            *p,
            if inside {
                px888(0xaa, 0xbb, 0xcc)
            } else {
                [0; 4]
            }
        );
    }
}

#[test]
fn fill_other_formats_use_whole_pixels() {
    // RGB565: TPIXEL = PIXEL (2 bytes, little-endian here).
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB565);
    decode(
        &mut TightDecoder::new(),
        fb.rect(),
        &mut fb,
        &[0x80, 0x1f, 0xf8],
    )
    .unwrap();
    assert_eq!(fb.data(), &[0x1f, 0xf8].repeat(4)[..]);
    // Depth 32: not a 3-byte TPIXEL.
    let mut deep = PixelFormat::RGB888;
    deep.depth = 32;
    let mut fb = Framebuffer::new(1, 1, deep);
    decode(
        &mut TightDecoder::new(),
        fb.rect(),
        &mut fb,
        &[0x80, 1, 2, 3, 4],
    )
    .unwrap();
    assert_eq!(fb.data(), &[1, 2, 3, 4]);
    // Big-endian RGB888: TPIXEL stays R, G, B.
    let mut be = PixelFormat::RGB888;
    be.big_endian = true;
    let mut fb = Framebuffer::new(1, 1, be);
    decode(
        &mut TightDecoder::new(),
        fb.rect(),
        &mut fb,
        &[0x80, 1, 2, 3],
    )
    .unwrap();
    assert_eq!(fb.data(), &[0, 1, 2, 3]);
}

#[test]
fn mono_bitmap_msb_first_rows_padded() {
    // 10x2, stream 1 with filter id: 0x50; palette filter; 2 colours.
    let red = [0xff, 0, 0];
    let blue = [0, 0, 0xff];
    let mut wire = vec![0x50, 0x01, 0x01];
    wire.extend_from_slice(&red);
    wire.extend_from_slice(&blue);
    // Row 0: pixels 0 and 9 blue; row 1: pixel 1 blue. Rows are 2 bytes (10 bits + pad).
    wire.extend_from_slice(&[0b1000_0000, 0b0100_0000, 0b0100_0000, 0b0000_0000]);
    let mut fb = Framebuffer::new(10, 2, PixelFormat::RGB888);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    let got = rows888(&fb, fb.rect());
    for (i, p) in got.iter().enumerate() {
        let is_blue = matches!(i, 0 | 9 | 11);
        assert_eq!(
            *p,
            if is_blue {
                px888(0, 0, 0xff)
            } else {
                px888(0xff, 0, 0)
            },
            "{i}"
        );
    }
}

#[test]
fn indexed_palette_raw_and_compressed() {
    // 2x2, 3 colours, 4 index bytes (< 12: sent raw), stream 2 with filter: 0x60.
    let mut wire = vec![0x60, 0x01, 0x02, 10, 20, 30, 40, 50, 60, 70, 80, 90];
    wire.extend_from_slice(&[2, 1, 0, 1]);
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB888);
    let mut dec = TightDecoder::new();
    decode(&mut dec, fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(
        rows888(&fb, fb.rect()),
        [
            px888(70, 80, 90),
            px888(40, 50, 60),
            px888(10, 20, 30),
            px888(40, 50, 60)
        ]
    );

    // 4x4 = 16 index bytes: compressed on stream 2.
    let idx: Vec<u8> = (0..16).map(|i| (i % 3) as u8).collect();
    let z = Stream::new().piece(&idx);
    let mut wire = vec![0x60, 0x01, 0x02, 10, 20, 30, 40, 50, 60, 70, 80, 90];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
    decode(&mut dec, fb.rect(), &mut fb, &wire).unwrap();
    let pal = [px888(10, 20, 30), px888(40, 50, 60), px888(70, 80, 90)];
    let want: Vec<_> = idx.iter().map(|&i| pal[usize::from(i)]).collect();
    assert_eq!(rows888(&fb, fb.rect()), want);
}

#[test]
fn copy_filter_small_is_raw() {
    // 3x1 RGB888 = 9 bytes of TPIXELs < 12: no compact length, no zlib.
    let wire = [0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB888);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(
        rows888(&fb, fb.rect()),
        [px888(1, 2, 3), px888(4, 5, 6), px888(7, 8, 9)]
    );
}

#[test]
fn copy_filter_zlib_stream_persists_and_resets() {
    let tpixels: Vec<u8> = (0..48u8).collect(); // 4x4 RGB888
    let want: Vec<_> = tpixels.chunks(3).map(|c| px888(c[0], c[1], c[2])).collect();
    let mut s = Stream::new();
    let mut dec = TightDecoder::new();
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
    // Stream 3, no filter byte: 0x30.
    for _ in 0..2 {
        let z = s.piece(&tpixels);
        let mut wire = vec![0x30];
        wire.extend_from_slice(&compact(z.len()));
        wire.extend_from_slice(&z);
        fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
        decode(&mut dec, fb.rect(), &mut fb, &wire).unwrap();
        assert_eq!(rows888(&fb, fb.rect()), want);
    }
    // A fresh stream with the reset bit for stream 3 (0x30 | 0x08).
    let z = Stream::new().piece(&tpixels);
    let mut wire = vec![0x38];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    decode(&mut dec, fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(rows888(&fb, fb.rect()), want);
    // Without the reset bit, a fresh stream's header breaks the running stream.
    let z = Stream::new().piece(&tpixels);
    let mut wire = vec![0x30];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    assert!(matches!(
        decode(&mut dec, fb.rect(), &mut fb, &wire),
        Err(CodecError::Inflate { .. })
    ));
    // The reset bit on a fill resets the stream too (spec NOTE1); it then works again.
    decode(&mut dec, Rect::new(0, 0, 1, 1), &mut fb, &[0x88, 0, 0, 0]).unwrap();
    let z = Stream::new().piece(&tpixels);
    let mut wire = vec![0x30];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    decode(&mut dec, fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(rows888(&fb, fb.rect()), want);
}

#[test]
fn basic_without_zlib() {
    // 0xA0: no zlib, no filter; 4x2 RGB888 = 24 raw bytes even though >= 12.
    let mut wire = vec![0xa0];
    let tp: Vec<u8> = (100..124).collect();
    wire.extend_from_slice(&tp);
    let mut fb = Framebuffer::new(4, 2, PixelFormat::RGB888);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    let want: Vec<_> = tp.chunks(3).map(|c| px888(c[0], c[1], c[2])).collect();
    assert_eq!(rows888(&fb, fb.rect()), want);
    // 0xE0: no zlib, with a filter id (palette of 2, 4x2 bitmap = 2 bytes).
    let wire = [0xe0, 0x01, 0x01, 0, 0, 0, 9, 9, 9, 0b0101_0000, 0b1010_0000];
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    let (k, n) = (px888(0, 0, 0), px888(9, 9, 9));
    assert_eq!(rows888(&fb, fb.rect()), [k, n, k, n, n, k, n, k]);
}

#[test]
fn gradient_888_by_hand() {
    // 3x1: values (10,20,30), (20,40,60), (30,60,90); predictions 0, left, left.
    let wire = [0x40, 0x02, 10, 20, 30, 10, 20, 30, 10, 20, 30];
    let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB888);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(
        rows888(&fb, fb.rect()),
        [px888(10, 20, 30), px888(20, 40, 60), px888(30, 60, 90)]
    );

    // 2x2 (12 bytes: compressed), with a clamped prediction and wrapped differences.
    // V = [(200,10,0) (250,20,5); (255,0,9) (1,2,3)]
    // (1,1): P = clamp((255,0,9) + (250,20,5) - (200,10,0)) = (255,10,14).
    let diffs = [200, 10, 0, 50, 10, 5, 55, 246, 9, 2, 248, 245];
    let z = Stream::new().piece(&diffs);
    let mut wire = vec![0x40, 0x02];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB888);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    assert_eq!(
        rows888(&fb, fb.rect()),
        [
            px888(200, 10, 0),
            px888(250, 20, 5),
            px888(255, 0, 9),
            px888(1, 2, 3)
        ]
    );
}

#[test]
fn gradient_565_by_hand() {
    // 1x2 RGB565: V0 = (31,0,0) = 0xf800, V1 = (1,63,31); P1 = above = (31,0,0);
    // D1 = ((1-31) mod 32, 63, 31) = (2,63,31) = 0x17ff.
    let wire = [0x40, 0x02, 0x00, 0xf8, 0xff, 0x17];
    let mut fb = Framebuffer::new(1, 2, PixelFormat::RGB565);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
    let v1: u16 = (1 << 11) | (63 << 5) | 31;
    let mut want = vec![0x00, 0xf8];
    want.extend_from_slice(&v1.to_le_bytes());
    assert_eq!(fb.data(), &want[..]);
}

fn smooth_rgb(w: usize, h: usize) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x + y) * 127 / (w + h)) as u8 + 64,
            ]);
        }
    }
    rgb
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn jfif(rgb: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn jpeg_decodes_within_psnr() {
    let (w, h) = (40u16, 24u16);
    let rgb = smooth_rgb(w.into(), h.into());
    let j = jfif(&rgb, w, h);
    let mut wire = vec![0x90];
    wire.extend_from_slice(&compact(j.len()));
    wire.extend_from_slice(&j);
    for format in [PixelFormat::RGB888, PixelFormat::BGR888] {
        let mut fb = Framebuffer::new(w, h, format);
        decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
        let got: Vec<u8> = fb
            .data()
            .chunks_exact(4)
            .flat_map(|p| {
                rfb_codec::pixel::rgb8(rfb_codec::pixel::pixel_value(p, &format), &format, None)
            })
            .collect();
        let q = psnr(&rgb, &got);
        assert!(q >= 30.0, "PSNR {q}");
    }
    // 16 bits per pixel is allowed too.
    let mut fb = Framebuffer::new(w, h, PixelFormat::RGB565);
    decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire).unwrap();
}

#[test]
fn hostile_jpeg() {
    let rgb = smooth_rgb(16, 8);
    let j = jfif(&rgb, 16, 8);
    let mut wire = vec![0x90];
    wire.extend_from_slice(&compact(j.len()));
    wire.extend_from_slice(&j);
    // Wrong dimensions for the rectangle.
    let mut fb = Framebuffer::new(32, 32, PixelFormat::RGB888);
    let err = decode(
        &mut TightDecoder::new(),
        Rect::new(0, 0, 16, 9),
        &mut fb,
        &wire,
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })), "{err:?}");
    let err = decode(
        &mut TightDecoder::new(),
        Rect::new(0, 0, 8, 8),
        &mut fb,
        &wire,
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })), "{err:?}");
    // Nothing was painted.
    assert!(fb.data().iter().all(|&b| b == 0));
    // Length above the limit is refused while framing, before waiting for the data.
    let limits = CodecLimits {
        max_payload: 1000,
        ..CodecLimits::default()
    };
    let mut big = vec![0x90];
    big.extend_from_slice(&compact(5000));
    let err =
        TightDecoder::new().frame(Rect::new(0, 0, 16, 8), &PixelFormat::RGB888, &big, &limits);
    assert!(matches!(
        err,
        Err(CodecError::LimitExceeded {
            requested: 5000,
            ..
        })
    ));
    // Garbage JFIF.
    let err = decode(
        &mut TightDecoder::new(),
        Rect::new(0, 0, 4, 4),
        &mut fb,
        &[0x90, 0x04, 0xff, 0xd8, 0xff, 0xd9],
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })));
    // JPEG on an 8-bit format.
    let err = TightDecoder::new().frame(
        Rect::new(0, 0, 16, 8),
        &PixelFormat::RGB332,
        &wire,
        &CodecLimits::default(),
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })));
}

#[test]
fn inflate_past_the_rectangle_is_refused() {
    // 4x4 RGB888 needs 48 bytes; the stream holds 49.
    let z = Stream::new().piece(&[7u8; 49]);
    let mut wire = vec![0x00];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
    let err = decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire);
    assert!(matches!(err, Err(CodecError::Inflate { .. })), "{err:?}");
    assert!(fb.data().iter().all(|&b| b == 0));
    // And one byte short.
    let z = Stream::new().piece(&[7u8; 47]);
    let mut wire = vec![0x00];
    wire.extend_from_slice(&compact(z.len()));
    wire.extend_from_slice(&z);
    let err = decode(&mut TightDecoder::new(), fb.rect(), &mut fb, &wire);
    assert!(matches!(err, Err(CodecError::Inflate { .. })), "{err:?}");
}

#[test]
fn hostile_headers() {
    let mut fb = Framebuffer::new(8, 8, PixelFormat::RGB888);
    let r = Rect::new(0, 0, 2, 2);
    // Palette index 3 with 3 colours.
    let wire = [0x60, 0x01, 0x02, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 1, 2, 3];
    let err = decode(&mut TightDecoder::new(), r, &mut fb, &wire);
    assert!(matches!(err, Err(CodecError::Malformed { .. })), "{err:?}");
    assert!(fb.data().iter().all(|&b| b == 0), "nothing painted");
    // Filter id 3.
    let err = TightDecoder::new().frame(
        r,
        &PixelFormat::RGB888,
        &[0x40, 0x03],
        &CodecLimits::default(),
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })));
    // Invalid compression methods.
    for ctrl in [0xb0u8, 0xc0, 0xd0, 0xf0] {
        let err = TightDecoder::new().frame(
            r,
            &PixelFormat::RGB888,
            &[ctrl, 0, 0, 0],
            &CodecLimits::default(),
        );
        assert!(
            matches!(err, Err(CodecError::Malformed { .. })),
            "{ctrl:#x}"
        );
    }
    // Gradient on an 8-bit format.
    let err = TightDecoder::new().frame(
        r,
        &PixelFormat::RGB332,
        &[0x40, 0x02],
        &CodecLimits::default(),
    );
    assert!(matches!(err, Err(CodecError::Malformed { .. })));
    // Rectangle outside the framebuffer: refused before anything else.
    let err = decode(
        &mut TightDecoder::new(),
        Rect::new(7, 7, 2, 2),
        &mut fb,
        &[0x80, 1, 2, 3],
    );
    assert!(matches!(err, Err(CodecError::OutOfBounds { .. })));
    // Filtered size above the limit (huge rectangle, no zlib) is refused while framing.
    let limits = CodecLimits {
        max_payload: 1 << 20,
        ..CodecLimits::default()
    };
    let err = TightDecoder::new().frame(
        Rect::new(0, 0, 2048, 2048),
        &PixelFormat::RGB888,
        &[0xa0],
        &limits,
    );
    assert!(matches!(err, Err(CodecError::LimitExceeded { .. })));
    // A payload longer than its framing.
    let err = TightDecoder::new().decode(r, &[0x80, 1, 2, 3, 4], &mut fb, &CodecLimits::default());
    assert!(matches!(err, Err(CodecError::Malformed { .. })));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn run(format: PixelFormat, rect: Rect, wire: &[u8]) {
        let mut fb = Framebuffer::new(48, 40, format);
        let limits = CodecLimits {
            max_payload: 1 << 16,
            ..CodecLimits::default()
        };
        let mut dec = TightDecoder::new();
        if let Ok(Progress::Done { consumed, .. }) = dec.frame(rect, &format, wire, &limits) {
            let _ = dec.decode(rect, &wire[..consumed], &mut fb, &limits);
        }
    }

    fn formats() -> [PixelFormat; 5] {
        let mut deep = PixelFormat::RGB888;
        deep.depth = 32;
        [
            PixelFormat::RGB888,
            PixelFormat::RGB565,
            PixelFormat::RGB332,
            PixelFormat::COLOUR_MAP8,
            deep,
        ]
    }

    proptest! {
        #[test]
        fn any_bytes(fi in 0usize..5, w in 0u16..50, h in 0u16..42, wire in prop::collection::vec(any::<u8>(), 0..200)) {
            run(formats()[fi], Rect::new(0, 0, w, h), &wire);
        }

        #[test]
        fn mutated_jpeg(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
            let j = jfif(&smooth_rgb(24, 16), 24, 16);
            let mut data = j.clone();
            for (i, v) in flips {
                let i = i.index(data.len());
                data[i] = v;
            }
            let n = cut.index(data.len() + 1).max(data.len() / 2);
            data.truncate(n);
            let mut wire = vec![0x90];
            wire.extend_from_slice(&compact(data.len()));
            wire.extend_from_slice(&data);
            run(PixelFormat::RGB888, Rect::new(0, 0, 24, 16), &wire);
            run(PixelFormat::RGB565, Rect::new(0, 0, 24, 16), &wire);
        }

        #[test]
        fn mutated_zlib(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
            let idx: Vec<u8> = (0..300u32).map(|i| (i % 5) as u8).collect();
            let z = Stream::new().piece(&idx);
            let mut wire = vec![0x60, 0x01, 0x04, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5];
            wire.extend_from_slice(&compact(z.len()));
            wire.extend_from_slice(&z);
            for (i, v) in flips {
                let i = i.index(wire.len());
                wire[i] = v;
            }
            run(PixelFormat::RGB888, Rect::new(0, 0, 20, 15), &wire);
        }
    }
}
