//! `rfb-bench`: replays recorded sessions (TigerVNC encperf input format, `.rfb.zst`),
//! re-encodes every Raw rectangle with one of our encoders and reports what TigerVNC's
//! encperf reports (encoder CPU seconds, encoded bytes, raw-equivalent bytes, ratio) plus
//! the CPU seconds of our own decoder on what we encoded.
//!
//! ```text
//! rfb-bench [--encoding raw|rre|hextile|zlib|trle|zrle|all] [--compress N] [--runs N]
//!           [--max-updates N] [--json] FILE.rfb.zst...
//! ```
//!
//! CPU time is the thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), summed
//! over each update's encode (decode) calls only; the reported figure is the median over
//! `--runs` replays. The decoded framebuffer is compared with the replayed one after
//! every update; a difference is an error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use rfb_benches::{replay, Codec, ReplayResult};

struct Args {
    codecs: Vec<Codec>,
    level: u32,
    runs: usize,
    max_updates: Option<u64>,
    json: bool,
    files: Vec<PathBuf>,
}

const USAGE: &str = "usage: rfb-bench [--encoding raw|rre|hextile|zlib|trle|zrle|all] \
[--compress N (zlib level, default 2)] [--runs N (default 1)] [--max-updates N] [--json] FILE.rfb.zst...";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        codecs: vec![Codec::Zrle],
        level: 2,
        runs: 1,
        max_updates: None,
        json: false,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--encoding" | "-e" => {
                let v = value("--encoding")?;
                args.codecs = if v == "all" {
                    Codec::ALL.to_vec()
                } else {
                    v.split(',')
                        .map(|s| Codec::parse(s).with_context(|| format!("unknown encoding {s}")))
                        .collect::<Result<_>>()?
                };
            }
            "--compress" | "-c" => {
                args.level = value("--compress")?.parse().context("--compress")?
            }
            "--runs" | "-r" => args.runs = value("--runs")?.parse().context("--runs")?,
            "--max-updates" => {
                args.max_updates = Some(value("--max-updates")?.parse().context("--max-updates")?)
            }
            "--json" => args.json = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            f if !f.starts_with('-') => args.files.push(PathBuf::from(f)),
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    if args.files.is_empty() {
        bail!("no input files\n{USAGE}");
    }
    if args.runs == 0 || args.level > 9 {
        bail!("--runs must be at least 1 and --compress at most 9");
    }
    Ok(args)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn run() -> Result<()> {
    let args = parse_args()?;
    if !args.json {
        println!(
            "{:<28} {:<8} {:>5} {:>10} {:>14} {:>14} {:>7} {:>9} {:>10} {:>9}",
            "file",
            "encoding",
            "level",
            "cpu_s",
            "bytes",
            "raw_bytes",
            "ratio",
            "MPix/s",
            "dec_cpu_s",
            "dec_MPix/s"
        );
    }
    for file in &args.files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        for &codec in &args.codecs {
            let mut results: Vec<ReplayResult> = Vec::new();
            for _ in 0..args.runs {
                results.push(
                    replay(file, codec, args.level, args.max_updates)
                        .with_context(|| format!("{name} with {}", codec.name()))?,
                );
            }
            let first = results[0];
            let cpu = median(results.iter().map(|r| r.cpu_s).collect());
            let dcpu = median(results.iter().map(|r| r.decode_cpu_s).collect());
            let ratio = first.raw_bytes as f64 / first.bytes.max(1) as f64;
            let mpix = first.pixels as f64 / 1e6;
            let level = if codec.uses_level() {
                args.level.to_string()
            } else {
                "-".into()
            };
            if args.json {
                println!(
                    "{{\"file\":{},\"encoding\":{},\"compress\":{},\"runs\":{},\"cpu_s\":{:.6},\"bytes\":{},\"raw_bytes\":{},\"ratio\":{:.4},\"decode_cpu_s\":{:.6},\"pixels\":{},\"updates\":{},\"rects\":{},\"mpix_per_s\":{:.2},\"decode_mpix_per_s\":{:.2}}}",
                    json_string(&name),
                    json_string(codec.name()),
                    if codec.uses_level() { args.level.to_string() } else { "null".into() },
                    args.runs,
                    cpu,
                    first.bytes,
                    first.raw_bytes,
                    ratio,
                    dcpu,
                    first.pixels,
                    first.updates,
                    first.rects,
                    mpix / cpu.max(1e-9),
                    mpix / dcpu.max(1e-9),
                );
            } else {
                println!(
                    "{:<28} {:<8} {:>5} {:>10.3} {:>14} {:>14} {:>7.2} {:>9.1} {:>10.3} {:>9.1}",
                    name,
                    codec.name(),
                    level,
                    cpu,
                    first.bytes,
                    first.raw_bytes,
                    ratio,
                    mpix / cpu.max(1e-9),
                    dcpu,
                    mpix / dcpu.max(1e-9),
                );
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rfb-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
