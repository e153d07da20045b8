//! Criterion benchmarks: every encoder and decoder on a few corpus frames
//! (`Throughput::Bytes` = raw pixel bytes), plus deflate levels and inflate of the
//! workspace's flate2 backend on the same frames.
//!
//! Frames: the first `FRAME_UPDATES` updates of `terminal-1280x720` and `web-1920x1080`
//! (the first update of each is the full screen). Without the corpus (`RFB_CORPUS` or
//! `../shared/corpus`), a synthetic UI-like frame is used instead.
//!
//! Quick check: `cargo bench -p rfb-benches -- --test`; a short real run:
//! `cargo bench -p rfb-benches -- --quick --noplot zrle`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rfb_benches::{
    corpus_dir, corpus_info, raw_pixels, Codec, CorpusRect, Update, UpdateReader, CORPUS_FORMAT,
};
use rfb_codec::{CodecLimits, Framebuffer, Rect};

const FRAME_UPDATES: usize = 3;

/// A framebuffer and the rectangles to encode from it.
struct Frame {
    name: String,
    fb: Framebuffer,
    rects: Vec<Rect>,
}

impl Frame {
    fn raw_bytes(&self) -> u64 {
        self.rects.iter().map(|r| r.area() * 4).sum()
    }
}

fn corpus_frame(file: &str) -> Option<Frame> {
    let path = corpus_dir().join(file);
    let info = corpus_info(&path).ok()?;
    let mut reader = UpdateReader::open(&path).ok()?;
    let mut fb = Framebuffer::new(info.width, info.height, CORPUS_FORMAT);
    let mut rects = Vec::new();
    let mut up = Update::default();
    for _ in 0..FRAME_UPDATES {
        if !reader.next_update(&mut up).ok()? {
            break;
        }
        for r in &up.rects {
            match *r {
                CorpusRect::Raw { rect, offset } => {
                    fb.put_pixels(rect, raw_pixels(&up, rect, offset)).ok()?;
                    rects.push(rect);
                }
                CorpusRect::Copy { rect, src_x, src_y } => {
                    fb.copy_within(
                        Rect::new(src_x, src_y, rect.width, rect.height),
                        rect.x,
                        rect.y,
                    )
                    .ok()?;
                }
            }
        }
    }
    Some(Frame {
        name: file.trim_end_matches(".rfb.zst").to_string(),
        fb,
        rects,
    })
}

/// Text-like stripes, solid panels and a gradient: something like a desktop.
fn synthetic_frame() -> Frame {
    let (w, h) = (640u16, 360u16);
    let mut fb = Framebuffer::new(w, h, CORPUS_FORMAT);
    let mut data = Vec::with_capacity(usize::from(w) * usize::from(h) * 4);
    for y in 0..h {
        for x in 0..w {
            let px = if y < 40 {
                [0x30, 0x30, 0x30, 0]
            } else if x < 160 {
                [(x % 256) as u8, (y % 256) as u8, 0x80, 0]
            } else if (x / 3 + y / 7) % 5 == 0 && y % 14 < 10 {
                [0, 0, 0, 0]
            } else {
                [0xff, 0xff, 0xff, 0]
            };
            data.extend(px);
        }
    }
    let r = fb.rect();
    fb.put_pixels(r, &data).unwrap();
    Frame {
        name: "synthetic-640x360".into(),
        fb,
        rects: vec![r],
    }
}

fn frames() -> Vec<Frame> {
    let found: Vec<Frame> = ["terminal-1280x720.rfb.zst", "web-1920x1080.rfb.zst"]
        .into_iter()
        .filter_map(corpus_frame)
        .collect();
    if found.is_empty() {
        vec![synthetic_frame()]
    } else {
        found
    }
}

fn encode_all(codec: Codec, level: u32, f: &Frame) -> Vec<(Rect, BytesMut)> {
    let mut enc = codec.encoder(level);
    f.rects
        .iter()
        .map(|&r| {
            let mut out = BytesMut::new();
            enc.encode(&f.fb.view(r).unwrap(), &mut out).unwrap();
            (r, out)
        })
        .collect()
}

fn codecs(c: &mut Criterion) {
    let frames = frames();
    let limits = CodecLimits::default();
    for codec in Codec::ALL {
        let level = 2;
        let mut g = c.benchmark_group(codec.name());
        g.sample_size(10);
        for f in &frames {
            g.throughput(Throughput::Bytes(f.raw_bytes()));
            g.bench_function(BenchmarkId::new("encode", &f.name), |b| {
                b.iter(|| black_box(encode_all(codec, level, f)))
            });
            let encoded = encode_all(codec, level, f);
            let mut dst = Framebuffer::new(f.fb.width(), f.fb.height(), CORPUS_FORMAT);
            g.bench_function(BenchmarkId::new("decode", &f.name), |b| {
                b.iter(|| {
                    let mut dec = codec.decoder();
                    for (r, payload) in &encoded {
                        dec.frame(*r, &CORPUS_FORMAT, payload, &limits).unwrap();
                        dec.decode(*r, payload, &mut dst, &limits).unwrap();
                    }
                })
            });
        }
        g.finish();
    }
}

/// The raw pixel bytes of a frame's rectangles, one after another.
fn frame_bytes(f: &Frame) -> Vec<Vec<u8>> {
    f.rects
        .iter()
        .map(|&r| {
            let v = f.fb.view(r).unwrap();
            (0..r.height).flat_map(|y| v.row(y).to_vec()).collect()
        })
        .collect()
}

/// Deflate (one stream, sync flush per rectangle, as Zlib/ZRLE do) and inflate with the
/// workspace's flate2 backend.
fn flate(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("flate2");
    g.sample_size(10);
    for f in &frames {
        let pieces = frame_bytes(f);
        let total: u64 = pieces.iter().map(|p| p.len() as u64).sum();
        g.throughput(Throughput::Bytes(total));
        for level in [1u32, 2, 6, 9] {
            g.bench_function(BenchmarkId::new(format!("deflate-{level}"), &f.name), |b| {
                b.iter(|| {
                    let mut z = flate2::write::ZlibEncoder::new(
                        Vec::new(),
                        flate2::Compression::new(level),
                    );
                    for p in &pieces {
                        z.write_all(p).unwrap();
                        z.flush().unwrap();
                    }
                    black_box(z.get_ref().len())
                })
            });
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(2));
        for p in &pieces {
            z.write_all(p).unwrap();
            z.flush().unwrap();
        }
        let compressed = z.get_ref().clone();
        let mut out = vec![0u8; total as usize];
        g.bench_function(BenchmarkId::new("inflate", &f.name), |b| {
            b.iter(|| {
                let mut inf = rfb_codec::inflate::Inflater::new();
                inf.inflate_exact(&compressed, &mut out, "bench").unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, codecs, flate);
criterion_main!(benches);
