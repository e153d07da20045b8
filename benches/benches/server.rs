//! Server fan-out benchmarks: corpus motion (`web-1920x1080`) replayed through
//! `rfb_server::Session` to 1, 2, 4 and 8 in-memory viewers (sans-IO, no sockets).
//! One iteration is one recorded update: the product's new frame and the damage pass
//! (`diff`, done once), then every viewer's incremental request and encoded update.
//!
//! * `server_fanout/diff_only`: the frame copy, the corpus rectangles applied and the
//!   damage pass, no viewers;
//! * `server_fanout/zrle/N`, `server_fanout/hextile/N`: the same with N viewers.
//!
//! Without the corpus a synthetic 640x360 motion is used. Quick check:
//! `cargo bench -p rfb-benches --bench server -- --test`. Full figures with
//! thread CPU time: `rfb-loadtest fanout` (see README.md).

#![allow(missing_docs)]

#[path = "rig/fanout.rs"]
mod fanout;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fanout::{first_frame, load_updates, FanOut};
use rfb_benches::{corpus_dir, CorpusRect, Update};
use rfb_proto::{Encoding, Rect};

/// Updates replayed (the first one is the starting frame).
const UPDATES: usize = 120;

fn synthetic() -> (u16, u16, Vec<Update>) {
    // A moving 100x60 block of gradient over a 640x360 screen.
    let (w, h) = (640u16, 360u16);
    let mut ups = Vec::new();
    let mut full = Update::default();
    full.rects.push(CorpusRect::Raw {
        rect: Rect::new(0, 0, w, h),
        offset: 0,
    });
    full.pixels = (0..u32::from(w) * u32::from(h))
        .flat_map(|i| [(i % 251) as u8, (i / 640) as u8, 40, 0])
        .collect();
    ups.push(full);
    for k in 0..40u16 {
        let mut up = Update::default();
        up.rects.push(CorpusRect::Raw {
            rect: Rect::new(k * 12, k * 7, 100, 60),
            offset: 0,
        });
        up.pixels = (0..6000u32)
            .flat_map(|i| [(i % 97) as u8 ^ k as u8, (i / 100) as u8, 200, 0])
            .collect();
        ups.push(up);
    }
    (w, h, ups)
}

fn bench_fanout(c: &mut Criterion) {
    let path = corpus_dir().join("web-1920x1080.rfb.zst");
    let (w, h, updates) = load_updates(&path, UPDATES).unwrap_or_else(|_| synthetic());
    let first = first_frame(w, h, &updates).expect("first frame");
    let steps = &updates[1..];
    let mut g = c.benchmark_group("server_fanout");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    {
        let mut f = FanOut::new(first.clone(), 0, Encoding::ZRLE).expect("fan-out");
        let mut i = 0;
        g.bench_function("diff_only", |b| {
            b.iter(|| {
                f.diff(&steps[i % steps.len()]).expect("diff");
                i += 1;
            })
        });
    }
    for (name, enc) in [("zrle", Encoding::ZRLE), ("hextile", Encoding::HEXTILE)] {
        for n in [1usize, 2, 4, 8] {
            let mut f = FanOut::new(first.clone(), n, enc).expect("fan-out");
            let mut i = 0;
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    f.diff(&steps[i % steps.len()]).expect("diff");
                    let bytes = f.encode().expect("encode");
                    i += 1;
                    bytes
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_fanout);
criterion_main!(benches);
