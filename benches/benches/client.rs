//! Client decode benchmarks: the server→client stream of a corpus recording
//! (`web-1920x1080`, `terminal-1280x720`), as our server encodes it for a viewer that
//! asks for one encoding, fed to `rfb_client::Viewer` (which frames every rectangle and
//! decodes it into its `RemoteFramebuffer`). The stream is recorded once from an
//! in-memory Viewer ⇄ ServerConnection pair and checked to decode to the replayed
//! frame; one iteration decodes the recorded updates after the first full frame.
//! `Throughput::Elements` = changed pixels (the Session's damage area).
//!
//! Quick check: `cargo bench -p rfb-benches --bench client -- --test`; full figures:
//! `rfb-loadtest decode` (see README.md).

#![allow(missing_docs)]

#[path = "rig/fanout.rs"]
mod fanout;

use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use fanout::{first_frame, load_updates, record};
use rfb_benches::corpus_dir;
use rfb_client::{EncodingPreference, Viewer, ViewerConfig};
use rfb_proto::Encoding;

const UPDATES: usize = 40;

fn viewer_config(encoding: Encoding) -> ViewerConfig {
    ViewerConfig {
        encodings: EncodingPreference {
            preferred: Some(encoding),
            quality: None,
            compress: Some(2),
        },
        auto_colour: false,
        continuous_updates: false,
        ..ViewerConfig::default()
    }
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("client_decode");
    g.sample_size(10);
    for file in ["web-1920x1080", "terminal-1280x720"] {
        let path = corpus_dir().join(format!("{file}.rfb.zst"));
        let Ok((w, h, updates)) = load_updates(&path, UPDATES) else {
            eprintln!("client_decode: {} not found, skipped", path.display());
            continue;
        };
        let first = first_frame(w, h, &updates).expect("first frame");
        for (name, enc) in [
            ("zrle", Encoding::ZRLE),
            ("trle", Encoding::TRLE),
            ("zlib", Encoding::ZLIB),
            ("hextile", Encoding::HEXTILE),
            ("rre", Encoding::RRE),
            ("raw", Encoding::RAW),
        ] {
            let rec = record(&first, &updates, enc).expect("record");
            g.throughput(Throughput::Elements(rec.pixels));
            g.bench_with_input(BenchmarkId::new(name, file), &rec, |b, rec| {
                b.iter_batched(
                    || {
                        let now = Instant::now();
                        let mut v = Viewer::new(viewer_config(enc), now);
                        for chunk in &rec.handshake {
                            v.handle_input(chunk, now).expect("handshake");
                        }
                        while v.poll_transmit().is_some() {}
                        while v.poll_event().is_some() {}
                        v
                    },
                    |mut v| {
                        let now = Instant::now();
                        for u in &rec.updates {
                            v.handle_input(u, now).expect("decode");
                            while v.poll_transmit().is_some() {}
                            while v.poll_event().is_some() {}
                        }
                        v
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
