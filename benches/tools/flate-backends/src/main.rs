//! Deflate levels 1-9 (one stream, sync flush per rectangle) and inflate, on the Raw
//! rectangles of decompressed corpus prefixes, with whichever flate2 backend is enabled.
use std::io::Write;
use std::time::Instant;

fn rects(path: &str, max_updates: usize) -> Vec<Vec<u8>> {
    let d = std::fs::read(path).unwrap();
    let mut p = 0;
    let mut out = Vec::new();
    let mut updates = 0;
    while p + 4 <= d.len() && updates < max_updates {
        let n = u16::from_be_bytes([d[p + 2], d[p + 3]]);
        p += 4;
        updates += 1;
        for _ in 0..n {
            let h = &d[p..p + 12];
            let w = u16::from_be_bytes([h[4], h[5]]) as usize;
            let hh = u16::from_be_bytes([h[6], h[7]]) as usize;
            let enc = i32::from_be_bytes([h[8], h[9], h[10], h[11]]);
            p += 12;
            if enc == 0 {
                let len = w * hh * 4;
                if p + len > d.len() { return out; }
                let mut px = d[p..p + len].to_vec();
                for q in px.chunks_exact_mut(4) { q[3] = 0; }
                out.push(px);
                p += len;
            } else {
                p += 4;
            }
        }
    }
    out
}

fn main() {
    let backend = if cfg!(feature = "zlibrs") { "zlib-rs" } else { "miniz_oxide" };
    for path in std::env::args().skip(1) {
        let pieces = if path.ends_with(".zrletiles") {
            let d = std::fs::read(&path).unwrap();
            let mut v = Vec::new();
            let mut p = 0;
            while p + 4 <= d.len() {
                let n = u32::from_be_bytes([d[p], d[p + 1], d[p + 2], d[p + 3]]) as usize;
                v.push(d[p + 4..p + 4 + n].to_vec());
                p += 4 + n;
            }
            v
        } else {
            rects(&path, 40)
        };
        let total: usize = pieces.iter().map(|p| p.len()).sum();
        let name = path.rsplit('/').next().unwrap();
        for level in 1..=9u32 {
            let mut best = f64::MAX;
            let mut compressed = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                let mut z = flate2::write::ZlibEncoder::new(Vec::with_capacity(total / 4), flate2::Compression::new(level));
                for p in &pieces {
                    z.write_all(p).unwrap();
                    z.flush().unwrap();
                }
                best = best.min(t.elapsed().as_secs_f64());
                compressed = z.get_ref().clone();
            }
            let mut ibest = f64::MAX;
            let mut out = vec![0u8; total];
            for _ in 0..3 {
                let t = Instant::now();
                let mut d = flate2::Decompress::new(true);
                d.decompress(&compressed, &mut out, flate2::FlushDecompress::Sync).unwrap();
                assert_eq!(d.total_out() as usize, total);
                ibest = ibest.min(t.elapsed().as_secs_f64());
            }
            println!(
                "{backend}\t{name}\tlevel {level}\t{:.1} MB in\tdeflate {:.1} MB/s\tratio {:.2}\tinflate {:.0} MB/s",
                total as f64 / 1e6,
                total as f64 / 1e6 / best,
                total as f64 / compressed.len() as f64,
                total as f64 / 1e6 / ibest
            );
        }
    }
}
