//! ZRLE byte vectors written from the community RFB spec ("ZRLE Encoding"): the
//! uncompressed tile bytes are written by hand, compressed here with flate2 (one stream,
//! sync flush per rectangle, as the spec asks of a server) to make the wire bytes, and
//! the decoder must paint exactly the expected pixels.

use std::io::Write;

use rfb_codec::zrle::ZrleDecoder;
use rfb_codec::{CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

/// One server-side zlib stream.
struct Server(flate2::write::ZlibEncoder<Vec<u8>>);

impl Server {
    fn new() -> Server {
        Server(flate2::write::ZlibEncoder::new(
            Vec::new(),
            flate2::Compression::new(6),
        ))
    }

    /// Compresses one rectangle's tile bytes with a sync flush and adds the u32 length.
    fn rect(&mut self, tiles: &[u8]) -> Vec<u8> {
        self.0.write_all(tiles).unwrap();
        self.0.flush().unwrap();
        let body = std::mem::take(self.0.get_mut());
        let mut wire = (body.len() as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(&body);
        wire
    }
}

fn wire(tiles: &[u8]) -> Vec<u8> {
    Server::new().rect(tiles)
}

fn decode(fb: &mut Framebuffer, rect: Rect, wire: &[u8]) -> Result<(), CodecError> {
    let limits = CodecLimits::default();
    let mut dec = ZrleDecoder::new();
    match dec.frame(rect, fb.format(), wire, &limits)? {
        Progress::Done { consumed, .. } => assert_eq!(consumed, wire.len()),
        other => panic!("frame: {other:?}"),
    }
    dec.decode(rect, wire, fb, &limits)
}

fn decode_all(fb: &mut Framebuffer, wire: &[u8]) -> Result<(), CodecError> {
    let r = fb.rect();
    decode(fb, r, wire)
}

fn pixels(fb: &Framebuffer, rect: Rect) -> Vec<u8> {
    let v = fb.view(rect).unwrap();
    (0..rect.height).flat_map(|y| v.row(y).to_vec()).collect()
}

fn repeat(px: &[u8], n: usize) -> Vec<u8> {
    px.iter().copied().cycle().take(px.len() * n).collect()
}

#[test]
fn solid_tile_rgb888_uses_three_byte_cpixels() {
    // rgb888 little-endian: colour bits fit the 3 least significant bytes, which come
    // first in memory; the CPIXEL is B G R.
    let mut fb = Framebuffer::new(6, 3, PixelFormat::RGB888);
    let r = Rect::new(1, 1, 4, 2);
    decode(&mut fb, r, &wire(&[1, 0x11, 0x22, 0x33])).unwrap();
    assert_eq!(pixels(&fb, r), repeat(&[0x11, 0x22, 0x33, 0], 8));
    // Outside the rectangle nothing changed.
    assert_eq!(fb.row(0), &[0u8; 24][..]);
}

#[test]
fn solid_tile_big_endian_888_keeps_the_low_three_bytes() {
    let mut fmt = PixelFormat::RGB888;
    fmt.big_endian = true;
    let mut fb = Framebuffer::new(2, 1, fmt);
    decode_all(&mut fb, &wire(&[1, 0xaa, 0xbb, 0xcc])).unwrap();
    // Big-endian pixel 0x00aabbcc is the bytes 00 aa bb cc.
    assert_eq!(fb.data(), &[0, 0xaa, 0xbb, 0xcc, 0, 0xaa, 0xbb, 0xcc]);
}

#[test]
fn solid_tile_colours_in_most_significant_bytes() {
    // red at 24, green at 16, blue at 8: the three most significant bytes.
    let le = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 16, 8);
    let mut fb = Framebuffer::new(1, 1, le);
    decode_all(&mut fb, &wire(&[1, 0xbb, 0x99, 0x77])).unwrap();
    // Little-endian: the most significant bytes are the last three in memory.
    assert_eq!(fb.data(), &[0, 0xbb, 0x99, 0x77]);

    let mut be = le;
    be.big_endian = true;
    let mut fb = Framebuffer::new(1, 1, be);
    decode_all(&mut fb, &wire(&[1, 0x77, 0x99, 0xbb])).unwrap();
    assert_eq!(fb.data(), &[0x77, 0x99, 0xbb, 0]);
}

#[test]
fn depth_32_and_straddling_formats_use_four_byte_cpixels() {
    let mut deep = PixelFormat::RGB888;
    deep.depth = 32;
    let mut fb = Framebuffer::new(1, 1, deep);
    decode_all(&mut fb, &wire(&[1, 1, 2, 3, 4])).unwrap();
    assert_eq!(fb.data(), &[1, 2, 3, 4]);

    // Depth 24 but red at bit 24 and blue at bit 0: neither 3-byte half holds all.
    let split = PixelFormat::true_colour(32, 24, false, 255, 255, 255, 24, 8, 0);
    let mut fb = Framebuffer::new(1, 1, split);
    decode_all(&mut fb, &wire(&[1, 5, 6, 7, 8])).unwrap();
    assert_eq!(fb.data(), &[5, 6, 7, 8]);

    // 32 bpp with depth 16: both halves fit; by convention the least significant bytes.
    let small = PixelFormat::true_colour(32, 16, false, 31, 63, 31, 11, 5, 0);
    let mut fb = Framebuffer::new(1, 1, small);
    decode_all(&mut fb, &wire(&[1, 0x12, 0x34, 0x00])).unwrap();
    assert_eq!(fb.data(), &[0x12, 0x34, 0, 0]);
}

#[test]
fn raw_tile_rgb565() {
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB565);
    let tiles = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    assert_eq!(fb.data(), &[1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn raw_tile_big_endian_565_is_bytes_as_sent() {
    let mut fmt = PixelFormat::RGB565;
    fmt.big_endian = true;
    let mut fb = Framebuffer::new(3, 1, fmt);
    decode_all(&mut fb, &wire(&[0, 0xf8, 0x00, 0x07, 0xe0, 0x00, 0x1f])).unwrap();
    assert_eq!(fb.data(), &[0xf8, 0x00, 0x07, 0xe0, 0x00, 0x1f]);
}

#[test]
fn packed_palette_two_colours_rows_padded_to_bytes() {
    // 10x2 tile, 1-bit indices, each row padded to 2 bytes, leftmost pixel in the MSB.
    let mut fb = Framebuffer::new(10, 2, PixelFormat::RGB332);
    let tiles = [
        2,
        0x10,
        0x20,
        0b1010_1010,
        0b1000_0000,
        0b0000_0111,
        0b1100_0000,
    ];
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    let (a, b) = (0x10, 0x20);
    assert_eq!(fb.row(0), &[b, a, b, a, b, a, b, a, b, a]);
    assert_eq!(fb.row(1), &[a, a, a, a, a, b, b, b, b, b]);
}

#[test]
fn packed_palette_three_and_five_colours() {
    // 3 colours: 2-bit indices 0,1,2,1,0 -> 00 01 10 01 | 00.
    let mut fb = Framebuffer::new(5, 1, PixelFormat::COLOUR_MAP8);
    decode_all(&mut fb, &wire(&[3, 7, 8, 9, 0b0001_1001, 0b0000_0000])).unwrap();
    assert_eq!(fb.data(), &[7, 8, 9, 8, 7]);

    // 5 colours: 4-bit indices 4,0,3 -> 0100 0000 | 0011 0000 (RGB565, 2-byte CPIXELs).
    let mut fb = Framebuffer::new(3, 1, PixelFormat::RGB565);
    let tiles = [5, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0x40, 0x30];
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    assert_eq!(fb.data(), &[5, 0, 1, 0, 4, 0]);
}

#[test]
fn plain_rle_runs_cross_rows_and_use_255_continuations() {
    // 20x20 tile: 300 pixels of A (299 = 255 + 44), then 100 of B (99).
    let mut fb = Framebuffer::new(20, 20, PixelFormat::RGB888);
    let tiles = [128, 1, 2, 3, 255, 44, 4, 5, 6, 99];
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    let mut expected = repeat(&[1, 2, 3, 0], 300);
    expected.extend(repeat(&[4, 5, 6, 0], 100));
    assert_eq!(fb.data(), &expected[..]);
}

#[test]
fn plain_rle_run_of_exactly_256() {
    // 16x16 = 256 pixels in one run: [255, 0].
    let mut fb = Framebuffer::new(16, 16, PixelFormat::RGB332);
    decode_all(&mut fb, &wire(&[128, 0x55, 255, 0])).unwrap();
    assert!(fb.data().iter().all(|&b| b == 0x55));
}

#[test]
fn palette_rle_single_pixels_and_runs() {
    // 2 colours (130); index 0 once, then index 1 three times (0x81, length byte 2).
    let mut fb = Framebuffer::new(4, 1, PixelFormat::RGB565);
    let tiles = [130, 0x11, 0x11, 0x22, 0x22, 0x00, 0x81, 0x02];
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    assert_eq!(fb.data(), &[0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22]);
}

#[test]
fn palette_rle_with_127_colours() {
    // The largest palette (255 = 128 + 127): use the last entry for the whole tile.
    let mut tiles = vec![255u8];
    tiles.extend(0..127u8);
    tiles.extend([126 | 0x80, 3]);
    let mut fb = Framebuffer::new(2, 2, PixelFormat::COLOUR_MAP8);
    decode_all(&mut fb, &wire(&tiles)).unwrap();
    assert_eq!(fb.data(), &[126; 4]);
}

#[test]
fn tiles_are_64_square_left_to_right_then_down() {
    // 65x65: tiles 64x64, 1x64, 64x1, 1x1, each solid in its own colour.
    let mut fb = Framebuffer::new(65, 65, PixelFormat::COLOUR_MAP8);
    decode_all(&mut fb, &wire(&[1, 1, 1, 2, 1, 3, 1, 4])).unwrap();
    assert_eq!(fb.row(0)[63..], [1, 2]);
    assert_eq!(fb.row(63)[63..], [1, 2]);
    assert_eq!(fb.row(64)[63..], [3, 4]);
    assert_eq!(fb.row(64)[0], 3);
}

#[test]
fn empty_rectangles() {
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB888);
    // No zlib data at all.
    decode(&mut fb, Rect::new(1, 1, 0, 3), &0u32.to_be_bytes()).unwrap();
    // A sync flush that inflates to nothing.
    decode(&mut fb, Rect::new(4, 4, 0, 0), &wire(&[])).unwrap();
    assert!(fb.data().iter().all(|&b| b == 0));
}

#[test]
fn one_stream_across_rectangles() {
    let mut server = Server::new();
    let first = server.rect(&[1, 9]);
    let second = server.rect(&[0, 1, 2, 3, 4]);
    let mut dec = ZrleDecoder::new();
    let limits = CodecLimits::default();
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB332);
    dec.decode(Rect::new(0, 0, 2, 2), &first, &mut fb, &limits)
        .unwrap();
    dec.decode(Rect::new(0, 0, 2, 2), &second, &mut fb, &limits)
        .unwrap();
    assert_eq!(fb.data(), &[1, 2, 3, 4]);
    // The second rectangle alone, on a fresh stream, cannot be read.
    let mut fresh = ZrleDecoder::new();
    let err = fresh
        .decode(Rect::new(0, 0, 2, 2), &second, &mut fb, &limits)
        .unwrap_err();
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
}

#[test]
fn framing_is_the_length_prefix_whatever_the_split() {
    let w = wire(&[1, 1, 2, 3]);
    let limits = CodecLimits::default();
    let mut dec = ZrleDecoder::new();
    let fmt = PixelFormat::RGB888;
    for k in 0..w.len() {
        match dec
            .frame(Rect::new(0, 0, 8, 8), &fmt, &w[..k], &limits)
            .unwrap()
        {
            Progress::NeedMore { at_least } => {
                assert!(at_least > k);
                assert!(at_least <= w.len());
            }
            done => panic!("{k}: {done:?}"),
        }
    }
    let mut longer = w.clone();
    longer.extend([9, 9, 9]);
    assert_eq!(
        dec.frame(Rect::new(0, 0, 8, 8), &fmt, &longer, &limits)
            .unwrap(),
        Progress::Done {
            item: (),
            consumed: w.len()
        }
    );
}

#[test]
fn length_prefix_above_limit_is_refused_before_reading() {
    let limits = CodecLimits {
        max_payload: 1000,
        ..CodecLimits::default()
    };
    let err = ZrleDecoder::new()
        .frame(
            Rect::new(0, 0, 8, 8),
            &PixelFormat::RGB888,
            &1001u32.to_be_bytes(),
            &limits,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        CodecError::LimitExceeded {
            requested: 1001,
            allowed: 1000,
            ..
        }
    ));
}

fn decode_err(fmt: PixelFormat, w: u16, h: u16, wire: &[u8]) -> CodecError {
    let mut fb = Framebuffer::new(w, h, fmt);
    let r = fb.rect();
    ZrleDecoder::new()
        .decode(r, wire, &mut fb, &CodecLimits::default())
        .unwrap_err()
}

#[test]
fn stream_inflating_past_the_rectangle_is_an_error() {
    // A solid 2x2 tile needs 4 bytes; the data holds 5.
    let err = decode_err(PixelFormat::RGB888, 2, 2, &wire(&[1, 1, 2, 3, 0xff]));
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
    // A whole megabyte of zeros behind one raw tile.
    let mut tiles = vec![0u8; 1 + 4];
    tiles.extend(vec![0u8; 1 << 20]);
    let err = decode_err(PixelFormat::RGB332, 2, 2, &wire(&tiles));
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
}

#[test]
fn stream_ending_short_or_corrupt_is_an_error() {
    let err = decode_err(PixelFormat::RGB888, 2, 2, &wire(&[0, 1, 2, 3]));
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
    let mut bad = wire(&[1, 1, 2, 3]);
    let n = bad.len();
    bad[6] ^= 0xff;
    bad[n - 1] ^= 0x55;
    let err = decode_err(PixelFormat::RGB888, 2, 2, &bad);
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
    // Not zlib at all.
    let mut junk = 5u32.to_be_bytes().to_vec();
    junk.extend([1, 2, 3, 4, 5]);
    let err = decode_err(PixelFormat::RGB888, 2, 2, &junk);
    assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
}

#[test]
fn invalid_sub_encodings() {
    for sub in [17u8, 100, 126, 127, 129] {
        let err = decode_err(
            PixelFormat::RGB332,
            2,
            2,
            &wire(&[sub, 0, 0, 0, 0, 0, 0, 0, 0]),
        );
        assert!(
            matches!(err, CodecError::Malformed { .. }),
            "{sub}: {err:?}"
        );
    }
}

#[test]
fn palette_index_out_of_range() {
    // 3 colours, 2-bit index 3.
    let err = decode_err(PixelFormat::RGB332, 1, 1, &wire(&[3, 1, 2, 3, 0b1100_0000]));
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    // Palette RLE with 2 colours, index 2 (and 0x82 as a run).
    let err = decode_err(PixelFormat::RGB332, 1, 1, &wire(&[130, 1, 2, 2]));
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    let err = decode_err(PixelFormat::RGB332, 2, 1, &wire(&[130, 1, 2, 0x82, 0]));
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
}

#[test]
fn run_past_tile_end() {
    // 2x2 tile, plain RLE run of 5.
    let err = decode_err(PixelFormat::RGB332, 2, 2, &wire(&[128, 7, 4]));
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    // Palette RLE: run of 3 then another of 2 in a 4-pixel tile.
    let err = decode_err(
        PixelFormat::RGB332,
        2,
        2,
        &wire(&[130, 1, 2, 0x80, 2, 0x81, 1]),
    );
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    // An endless run-length continuation is cut off at the tile size.
    let mut tiles = vec![128, 7];
    tiles.extend(vec![255u8; 100_000]);
    let err = decode_err(PixelFormat::RGB332, 2, 2, &wire(&tiles));
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
}

#[test]
fn rectangle_outside_framebuffer_paints_nothing() {
    let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
    let err = ZrleDecoder::new()
        .decode(
            Rect::new(3, 3, 2, 2),
            &wire(&[1, 9]),
            &mut fb,
            &CodecLimits::default(),
        )
        .unwrap_err();
    assert!(matches!(err, CodecError::OutOfBounds { .. }), "{err:?}");
    assert!(fb.data().iter().all(|&b| b == 0));
}

#[test]
fn payload_not_matching_its_prefix() {
    let mut w = wire(&[1, 9]);
    w.push(0);
    let err = decode_err(PixelFormat::RGB332, 1, 1, &w);
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    let err = decode_err(PixelFormat::RGB332, 1, 1, &[0, 0]);
    assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
}

#[test]
fn stream_is_poisoned_after_an_error() {
    let mut server = Server::new();
    let bad = server.rect(&[1, 1, 2]); // one byte short of a solid rgb888 CPIXEL
    let good = server.rect(&[1, 4, 5, 6]);
    let mut dec = ZrleDecoder::new();
    let mut fb = Framebuffer::new(1, 1, PixelFormat::RGB888);
    let limits = CodecLimits::default();
    assert!(dec.decode(fb.rect(), &bad, &mut fb, &limits).is_err());
    assert!(dec.decode(fb.rect(), &good, &mut fb, &limits).is_err());
}
