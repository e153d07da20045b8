//! Criterion benchmarks: every encoder and decoder on a few corpus frames
//! (`Throughput::Bytes` = raw pixel bytes), plus deflate levels and inflate of the
//! workspace's flate2 backend on the same frames.
//!
//! Frames: the first `FRAME_UPDATES` updates of `terminal-1280x720` and `web-1920x1080`
//! (the first update of each is the full screen). Without the corpus (`RFB_CORPUS` or
//! `../shared/corpus`), a synthetic UI-like frame is used instead.
//!
//! The `jpeg` group compares our baseline JPEG encoder (`rfb_codec::jpeg`, AVX2 and its
//! scalar twin) with the `jpeg-encoder` crate at quality 92, 4:4:4 (Tight's quality level
//! 8) on the first full frame of `photos-1280x720` (throughput in pixels), and prints
//! both stream sizes once.
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

/// The photo frame for the `jpeg` group (or a synthetic photo-like one without the
/// corpus).
fn photo_frame() -> Frame {
    if let Some(f) = corpus_frame("photos-1280x720.rfb.zst") {
        return f;
    }
    let (w, h) = (640u16, 360u16);
    let mut fb = Framebuffer::new(w, h, CORPUS_FORMAT);
    let mut data = Vec::with_capacity(usize::from(w) * usize::from(h) * 4);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 24) as f32;
            let (fx, fy) = (f32::from(x), f32::from(y));
            let r = 120.0 + 90.0 * (fx / 23.0).sin() * (fy / 41.0).cos() + n;
            let g = 110.0 + 70.0 * ((fx + fy) / 37.0).cos() + n;
            let b = 130.0 + 80.0 * (fy / 17.0).sin() + n;
            data.extend([b, g, r].map(|v| v.clamp(0.0, 255.0) as u8));
            data.push(0);
        }
    }
    let r = fb.rect();
    fb.put_pixels(r, &data).unwrap();
    Frame {
        name: "synthetic-photo-640x360".into(),
        fb,
        rects: vec![r],
    }
}

fn jpeg(c: &mut Criterion) {
    use rfb_codec::jpeg::{JpegEncoder, JpegKernel, JpegSampling};
    const QUALITY: u8 = 92;
    let f = photo_frame();
    let rect = f.fb.rect();
    let view = f.fb.view(rect).unwrap();
    // CORPUS_FORMAT (RGB888, little-endian) is B, G, R, X in memory.
    let bgrx = view.to_packed();
    let theirs = |out: &mut Vec<u8>| {
        let mut e = jpeg_encoder::Encoder::new(out, QUALITY);
        e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
        e.encode(
            &bgrx,
            rect.width,
            rect.height,
            jpeg_encoder::ColorType::Bgra,
        )
        .unwrap();
    };
    let mut ours_out = Vec::new();
    JpegEncoder::new()
        .encode(&view, QUALITY, JpegSampling::Yuv444, &mut ours_out)
        .unwrap();
    let mut theirs_out = Vec::new();
    theirs(&mut theirs_out);
    println!(
        "jpeg {} q{QUALITY} 4:4:4: ours {} bytes, jpeg-encoder {} bytes",
        f.name,
        ours_out.len(),
        theirs_out.len()
    );
    // For checking by hand with libjpeg-turbo (djpeg, cjpeg): the frame as a PPM and
    // both streams, written to $RFB_JPEG_DUMP.
    if let Some(dir) = std::env::var_os("RFB_JPEG_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        let mut ppm = format!("P6\n{} {}\n255\n", rect.width, rect.height).into_bytes();
        ppm.extend(bgrx.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0]]));
        std::fs::write(dir.join("frame.ppm"), ppm).unwrap();
        std::fs::write(dir.join("ours.jpg"), &ours_out).unwrap();
        std::fs::write(dir.join("jpeg-encoder.jpg"), &theirs_out).unwrap();
    }

    let mut g = c.benchmark_group("jpeg");
    g.sample_size(20);
    g.throughput(Throughput::Elements(rect.area()));
    for kernel in [JpegKernel::Avx2, JpegKernel::Scalar] {
        let Some(mut enc) = JpegEncoder::with_kernel(kernel) else {
            continue;
        };
        let mut out = Vec::new();
        g.bench_function(BenchmarkId::new(format!("ours-{kernel:?}"), &f.name), |b| {
            b.iter(|| {
                out.clear();
                enc.encode(&view, QUALITY, JpegSampling::Yuv444, &mut out)
                    .unwrap();
                black_box(out.len())
            })
        });
    }
    let mut out = Vec::new();
    g.bench_function(BenchmarkId::new("jpeg-encoder", &f.name), |b| {
        b.iter(|| {
            out.clear();
            theirs(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, codecs, flate, jpeg);
criterion_main!(benches);
