//! `rfb-bench`: replays recorded sessions (TigerVNC encperf input format, `.rfb.zst`),
//! re-encodes every Raw rectangle with one of our encoders and reports what TigerVNC's
//! encperf reports (encoder CPU seconds, encoded bytes, raw-equivalent bytes, ratio) plus
//! the CPU seconds of our own decoder on what we encoded.
//!
//! ```text
//! rfb-bench [--encoding raw|rre|hextile|zlib|trle|zrle|zrle-planner|tight|tight-lossless|auto|all|a,b,..]
//!           [--compress N] [--quality N] [--threads N] [--runs N] [--max-updates N]
//!           [--no-damage] [--json] FILE.rfb.zst...
//! ```
//!
//! `--threads N` (planner profiles only, default 1) has the planner encode each update's
//! sub-rectangles on N threads (`UpdatePlanner::set_threads`); `cpu_s` is then the
//! process CPU time of the encode calls (all threads) and `wall_s` what to compare.
//!
//! `tight` (Tight, JPEG quality `--quality`, default 8, and `--compress`),
//! `tight-lossless` (Tight, no quality level) and `auto` (a viewer's full preference
//! list: Tight, ZRLE, Hextile, RRE, Raw, quality 8, compress 2, CopyRect, LastRect) go
//! through our update planner (`rfb_codec::planner::BenchSession`): CopyRects of the
//! recording become moves, the Raw rectangles the changed region; PSNR against the
//! replayed frames is reported, and (unless `--no-damage`) the bandwidth of
//! `DamageTracker::refine` over consecutive frames (and again on the unchanged frame)
//! against a plain memcmp of two equal frames.
//!
//! CPU time is the thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), summed
//! over each update's encode (decode) calls only; the reported figure is the median over
//! `--runs` replays. The decoded framebuffer is compared with the replayed one after
//! every update; a difference is an error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use rfb_benches::{replay, replay_planner, Codec, PlannerOptions, PlannerResult, ReplayResult};
use rfb_codec::planner::Profile;

/// What `--encoding` names: one of the per-rectangle encoders, or a planner profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Rect(Codec),
    Tight,
    TightLossless,
    /// ZRLE through the planner (solid areas found first), as TigerVNC's EncodeManager.
    ZrlePlanner,
    Auto,
}

impl Job {
    fn parse(s: &str) -> Option<Job> {
        match s {
            "tight" => Some(Job::Tight),
            "tight-lossless" => Some(Job::TightLossless),
            "auto" => Some(Job::Auto),
            "zrle-planner" => Some(Job::ZrlePlanner),
            _ => Codec::parse(s).map(Job::Rect),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Job::Rect(c) => c.name(),
            Job::Tight => "tight",
            Job::TightLossless => "tight-lossless",
            Job::ZrlePlanner => "zrle-planner",
            Job::Auto => "auto",
        }
    }
}

struct Args {
    jobs: Vec<Job>,
    level: u32,
    quality: u8,
    threads: usize,
    damage: bool,
    exact_damage: Option<u16>,
    runs: usize,
    max_updates: Option<u64>,
    json: bool,
    files: Vec<PathBuf>,
}

const USAGE: &str = "usage: rfb-bench [--encoding raw|rre|hextile|zlib|trle|zrle|zrle-planner|tight|tight-lossless|auto|all|a,b,..] \
[--compress N (zlib level / Tight compress level, default 2)] [--quality N (Tight JPEG quality level, default 8)] [--threads N (planner threads, default 1)] \
[--runs N (default 1)] [--max-updates N] [--no-damage] [--exact-damage GRID (planner profiles: narrow the recorded damage to the changed pixels, widen to a GRID-pixel grid, timed)] [--json] FILE.rfb.zst...";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        jobs: vec![Job::Rect(Codec::Zrle)],
        level: 2,
        quality: 8,
        threads: 1,
        damage: true,
        exact_damage: None,
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
                let mut jobs = Vec::new();
                for s in v.split(',') {
                    if s == "all" {
                        jobs.extend(Codec::ALL.into_iter().map(Job::Rect));
                    } else {
                        jobs.push(Job::parse(s).with_context(|| format!("unknown encoding {s}"))?);
                    }
                }
                args.jobs = jobs;
            }
            "--compress" | "-c" => {
                args.level = value("--compress")?.parse().context("--compress")?
            }
            "--quality" | "-q" => {
                args.quality = value("--quality")?.parse().context("--quality")?
            }
            "--threads" | "-t" => {
                args.threads = value("--threads")?.parse().context("--threads")?
            }
            "--no-damage" => args.damage = false,
            "--exact-damage" => {
                args.exact_damage =
                    Some(value("--exact-damage")?.parse().context("--exact-damage")?)
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
    if args.runs == 0 || args.threads == 0 || args.level > 9 || args.quality > 9 {
        bail!("--runs and --threads must be at least 1, --compress and --quality at most 9");
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

/// A PSNR for text (`exact` when infinite) and JSON (`"exact"` when infinite).
fn psnr_text(db: f64) -> String {
    if db.is_finite() {
        format!("{db:.2}")
    } else {
        "exact".into()
    }
}

fn psnr_json(db: f64) -> String {
    if db.is_finite() {
        format!("{db:.3}")
    } else {
        "\"exact\"".into()
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    if !args.json {
        println!(
            "{:<28} {:<14} {:>5} {:>10} {:>14} {:>14} {:>7} {:>9} {:>10} {:>9} {:>8}",
            "file",
            "encoding",
            "level",
            "cpu_s",
            "bytes",
            "raw_bytes",
            "ratio",
            "MPix/s",
            "dec_cpu_s",
            "dec_MPix/s",
            "PSNR_dB"
        );
    }
    for file in &args.files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        for &job in &args.jobs {
            match job {
                Job::Rect(codec) => run_rect(&args, file, &name, codec)?,
                Job::Tight => run_planner(
                    &args,
                    file,
                    &name,
                    job,
                    Profile::Tight {
                        quality: Some(args.quality),
                        compress: args.level as u8,
                    },
                )?,
                Job::TightLossless => run_planner(
                    &args,
                    file,
                    &name,
                    job,
                    Profile::Tight {
                        quality: None,
                        compress: args.level as u8,
                    },
                )?,
                Job::ZrlePlanner => run_planner(
                    &args,
                    file,
                    &name,
                    job,
                    Profile::Zrle {
                        compress: args.level as u8,
                    },
                )?,
                Job::Auto => run_planner(&args, file, &name, job, Profile::Auto)?,
            }
        }
    }
    Ok(())
}

fn run_rect(args: &Args, file: &std::path::Path, name: &str, codec: Codec) -> Result<()> {
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
            "{{\"file\":{},\"encoding\":{},\"compress\":{},\"runs\":{},\"cpu_s\":{:.6},\"bytes\":{},\"raw_bytes\":{},\"ratio\":{:.4},\"decode_cpu_s\":{:.6},\"pixels\":{},\"updates\":{},\"rects\":{},\"mpix_per_s\":{:.2},\"decode_mpix_per_s\":{:.2},\"psnr_db\":\"exact\"}}",
            json_string(name),
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
            "{:<28} {:<14} {:>5} {:>10.3} {:>14} {:>14} {:>7.2} {:>9.1} {:>10.3} {:>9.1} {:>8}",
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
            "exact",
        );
    }
    Ok(())
}

fn run_planner(
    args: &Args,
    file: &std::path::Path,
    name: &str,
    job: Job,
    profile: Profile,
) -> Result<()> {
    let mut results: Vec<PlannerResult> = Vec::new();
    for _ in 0..args.runs {
        results.push(
            replay_planner(
                file,
                profile,
                PlannerOptions {
                    max_updates: args.max_updates,
                    damage: args.damage,
                    threads: args.threads,
                    exact_damage: args.exact_damage,
                },
            )
            .with_context(|| format!("{name} with {}", job.name()))?,
        );
    }
    let first = results[0];
    let cpu = median(results.iter().map(|r| r.cpu_s).collect());
    let dcpu = median(results.iter().map(|r| r.decode_cpu_s).collect());
    let wall = median(results.iter().map(|r| r.wall_s).collect());
    let ratio = first.raw_bytes as f64 / first.bytes.max(1) as f64;
    let mpix = first.pixels as f64 / 1e6;
    let gbps = |s: f64| first.compared_bytes as f64 / 1e9 / s.max(1e-12);
    let damage_gbps = gbps(median(results.iter().map(|r| r.damage_s).collect()));
    let same_gbps = gbps(median(results.iter().map(|r| r.damage_same_s).collect()));
    let memcmp_gbps = gbps(median(results.iter().map(|r| r.memcmp_s).collect()));
    let (compress, quality) = match profile {
        Profile::Tight { quality, compress } => (compress, quality),
        Profile::Zrle { compress } => (compress, None),
        Profile::Hextile => (0, None),
        // Profile::Auto's list: quality level 8, compress level 2.
        _ => (2, Some(8)),
    };
    let quality_json = quality.map_or("null".to_string(), |q| q.to_string());
    if args.json {
        let damage = if args.damage {
            format!(
                ",\"damage_gbps\":{damage_gbps:.3},\"memcmp_gbps\":{memcmp_gbps:.3},\"damage_vs_memcmp\":{:.3},\"damage_unchanged_gbps\":{same_gbps:.3},\"compared_bytes\":{}",
                damage_gbps / memcmp_gbps.max(1e-12),
                first.compared_bytes
            )
        } else {
            String::new()
        };
        println!(
            "{{\"file\":{},\"encoding\":{},\"compress\":{},\"quality\":{},\"threads\":{},\"runs\":{},\"cpu_s\":{:.6},\"wall_s\":{:.6},\"bytes\":{},\"raw_bytes\":{},\"ratio\":{:.4},\"decode_cpu_s\":{:.6},\"pixels\":{},\"encoded_pixels\":{},\"exact_damage\":{},\"updates\":{},\"rects\":{},\"mpix_per_s\":{:.2},\"decode_mpix_per_s\":{:.2},\"psnr_db\":{},\"mean_lossy_psnr_db\":{},\"exact_updates\":{}{}}}",
            json_string(name),
            json_string(job.name()),
            compress,
            quality_json,
            args.threads,
            args.runs,
            cpu,
            wall,
            first.bytes,
            first.raw_bytes,
            ratio,
            dcpu,
            first.pixels,
            first.encoded_pixels,
            args.exact_damage.map_or("null".to_string(), |g| g.to_string()),
            first.updates,
            first.rects,
            mpix / cpu.max(1e-9),
            mpix / dcpu.max(1e-9),
            psnr_json(first.psnr_db()),
            psnr_json(first.mean_lossy_psnr_db()),
            first.exact_updates,
            damage,
        );
    } else {
        println!(
            "{:<28} {:<14} {:>5} {:>10.3} {:>14} {:>14} {:>7.2} {:>9.1} {:>10.3} {:>9.1} {:>8}",
            name,
            job.name(),
            compress,
            cpu,
            first.bytes,
            first.raw_bytes,
            ratio,
            mpix / cpu.max(1e-9),
            dcpu,
            mpix / dcpu.max(1e-9),
            psnr_text(first.psnr_db()),
        );
        if let Some(grid) = args.exact_damage {
            println!(
                "{:<28} exact damage, grid {grid}: {} pixels encoded for {} recorded",
                "", first.encoded_pixels, first.pixels
            );
        }
        if args.threads > 1 {
            println!(
                "{:<28} {} threads: encode wall {wall:.3} s, process CPU {cpu:.3} s",
                "", args.threads
            );
        } else {
            println!("{:<28} encode wall {wall:.3} s", "");
        }
        if args.damage {
            println!(
                "{:<28} damage refine {damage_gbps:.2} GB/s ({:.0} % of memcmp {memcmp_gbps:.2} GB/s); unchanged frame {same_gbps:.2} GB/s ({:.0} %)",
                "",
                100.0 * damage_gbps / memcmp_gbps.max(1e-12),
                100.0 * same_gbps / memcmp_gbps.max(1e-12)
            );
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
