//! Zlib encoding (6) vectors from the community RFB spec ("zlib Encoding"): `u32 length`
//! then that many bytes of one connection-long zlib stream, inflating to the Raw pixels.

use std::io::Write;

use rfb_codec::inflate::Inflater;
use rfb_codec::zlib::ZlibDecoder;
use rfb_codec::{CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
use rfb_proto::Progress;

struct Server(flate2::write::ZlibEncoder<Vec<u8>>);

impl Server {
    fn new() -> Server {
        Server(flate2::write::ZlibEncoder::new(
            Vec::new(),
            flate2::Compression::new(9),
        ))
    }

    fn rect(&mut self, raw: &[u8]) -> Vec<u8> {
        self.0.write_all(raw).unwrap();
        self.0.flush().unwrap();
        let body = std::mem::take(self.0.get_mut());
        let mut wire = (body.len() as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(&body);
        wire
    }
}

#[test]
fn raw_pixels_through_one_stream() {
    let mut s = Server::new();
    let first = s.rect(&[1, 0, 2, 0, 3, 0, 4, 0]); // 2x2 RGB565, little-endian
    let second = s.rect(&[9, 9]); // 1x1
    let mut fb = Framebuffer::new(3, 2, PixelFormat::RGB565);
    let mut dec = ZlibDecoder::new();
    let limits = CodecLimits::default();
    dec.decode(Rect::new(1, 0, 2, 2), &first, &mut fb, &limits)
        .unwrap();
    dec.decode(Rect::new(0, 1, 1, 1), &second, &mut fb, &limits)
        .unwrap();
    assert_eq!(fb.row(0), &[0, 0, 1, 0, 2, 0]);
    assert_eq!(fb.row(1), &[9, 9, 3, 0, 4, 0]);
}

#[test]
fn every_pixel_size() {
    for (fmt, bpp) in [
        (PixelFormat::COLOUR_MAP8, 1usize),
        (PixelFormat::RGB555, 2),
        (PixelFormat::BGR888, 4),
    ] {
        let raw: Vec<u8> = (0..(5 * 3 * bpp) as u8).collect();
        let mut fb = Framebuffer::new(5, 3, fmt);
        let r = fb.rect();
        ZlibDecoder::new()
            .decode(
                r,
                &Server::new().rect(&raw),
                &mut fb,
                &CodecLimits::default(),
            )
            .unwrap();
        assert_eq!(fb.data(), &raw[..]);
    }
}

#[test]
fn inflating_more_or_less_than_the_rectangle_is_an_error() {
    let limits = CodecLimits::default();
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB332);
    let r = fb.rect();
    for raw in [&[1u8, 2, 3][..], &[1, 2, 3, 4, 5], &[0; 100_000]] {
        let err = ZlibDecoder::new()
            .decode(r, &Server::new().rect(raw), &mut fb, &limits)
            .unwrap_err();
        assert!(matches!(err, CodecError::Inflate { .. }), "{err:?}");
    }
}

#[test]
fn empty_rectangle() {
    let limits = CodecLimits::default();
    let mut fb = Framebuffer::new(2, 2, PixelFormat::RGB332);
    let mut dec = ZlibDecoder::new();
    dec.decode(Rect::new(0, 0, 0, 2), &[0, 0, 0, 0], &mut fb, &limits)
        .unwrap();
    dec.decode(
        Rect::new(1, 1, 1, 0),
        &Server::new().rect(&[]),
        &mut fb,
        &limits,
    )
    .unwrap();
}

#[test]
fn framing_and_limits() {
    let w = Server::new().rect(&[7; 64]);
    let fmt = PixelFormat::RGB332;
    let mut dec = ZlibDecoder::new();
    let limits = CodecLimits::default();
    for k in 0..w.len() {
        assert!(matches!(
            dec.frame(Rect::new(0, 0, 8, 8), &fmt, &w[..k], &limits).unwrap(),
            Progress::NeedMore { at_least } if at_least > k
        ));
    }
    assert_eq!(
        dec.frame(Rect::new(0, 0, 8, 8), &fmt, &w, &limits).unwrap(),
        Progress::Done {
            item: (),
            consumed: w.len()
        }
    );
    let small = CodecLimits {
        max_payload: 4,
        ..CodecLimits::default()
    };
    assert!(matches!(
        dec.frame(Rect::new(0, 0, 8, 8), &fmt, &w, &small),
        Err(CodecError::LimitExceeded { .. })
    ));
}

#[test]
fn inflater_reads_exactly_and_checks_the_rest() {
    let mut s = Server::new();
    let piece = s.rect(b"abcdefgh");
    let mut inf = Inflater::new();
    let mut r = inf.reader(&piece[4..], "test").unwrap();
    assert_eq!(r.need(3).unwrap(), b"abc");
    let mut rest = [0u8; 5];
    r.read_exact(&mut rest).unwrap();
    assert_eq!(&rest, b"defgh");
    r.finish().unwrap();

    // Reading only part of the piece: finish() reports the leftover.
    let piece = s.rect(b"ijkl");
    let mut r = inf.reader(&piece[4..], "test").unwrap();
    assert_eq!(r.need(2).unwrap(), b"ij");
    assert!(matches!(r.finish(), Err(CodecError::Inflate { .. })));
    // ...and poisons the stream.
    assert!(inf.reader(&[], "test").is_err());
    inf.reset();
    assert!(inf.reader(&[], "test").is_ok());
}

#[test]
fn stream_end_marker_then_more_data() {
    // A finished (not sync-flushed) zlib stream: nothing may follow its end.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&[1, 2, 3, 4]).unwrap();
    let mut body = z.finish().unwrap();
    body.extend([0x78, 0x9c]);
    let mut inf = Inflater::new();
    let mut out = [0u8; 4];
    assert!(matches!(
        inf.inflate_exact(&body, &mut out, "test"),
        Err(CodecError::Inflate { .. })
    ));
}
