//! Our server's update planner (rfb-codec's `UpdatePlanner` inside rfb-server) against
//! REAL decoders: `rfb-demo` serving Tight, lossless and with JPEG.
//!
//! * Tight lossless: TigerVNC's vncviewer (`-PreferredEncoding Tight -NoJPEG`) and the
//!   LibVNCClient harness (`--encodings "tight copyrect"`, JPEG off) show the demo's still
//!   frame exactly (fills, bitmaps, palettes, zlib and gradient rectangles of a desktop
//!   with a photo).
//! * Tight with JPEG: vncviewer (`-QualityLevel 8`) and LibVNCClient (`--jpeg --quality 8`)
//!   show it within PSNR (≥ 35 dB over the whole frame), and NOT exactly: the photo really
//!   went out as JPEG.
//! * Subsampled JPEG: the same viewers at quality levels 1 (4:2:0) and 4 (4:2:2) decode
//!   our encoder's subsampled streams with their libjpeg-turbo (PSNR ≥ 30 dB, not exact).
//!
//! Each case also checks the demo's audit line (`encoding #N Tight`: the encoding the
//! server writes that viewer's updates in), so a fallback to another encoding cannot
//! pass.
//!
//! Ignored by default (real peers): `cargo build -p rfb-examples --bins && cargo test -p
//! rfb-interop --test server_tight -- --ignored --test-threads=1`.

use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::peers::{self, Viewer};
use rfb_interop::servers::Demo;

const STILL_AFTER: u64 = 60;
/// Lowest acceptable PSNR of a JPEG picture over the whole frame. TigerVNC's own q8
/// frames measure 41–44 dB on the corpus (benches/README.md); the demo's photo is a
/// small part of its frame, so the whole-frame figure is higher still.
const MIN_PSNR_DB: f64 = 35.0;

/// Checks that the demo reported (its `encoding #N NAME` audit line) Tight for the
/// `nth` viewer, and nothing else for any viewer.
fn tight_was_chosen(demo: &mut Demo, nth: usize) -> Result<()> {
    demo.product
        .wait_count("encoding ", nth, Duration::from_secs(10))?;
    let lines: Vec<String> = demo
        .product
        .process
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("encoding "))
        .collect();
    match lines.iter().find(|l| !l.ends_with(" Tight")) {
        None => Ok(()),
        Some(l) => bail!("the server used another encoding: {l}"),
    }
}

fn exact(what: &str, truth: &Image, got: &Image) -> Result<()> {
    ensure!(!truth.is_uniform(), "{what}: the truth is a single colour");
    match truth.mismatch(got) {
        None => Ok(()),
        Some(m) => bail!("{what}: picture differs from the truth: {m}"),
    }
}

fn lossy(what: &str, truth: &Image, got: &Image) -> Result<f64> {
    let db = truth.psnr(got)?;
    ensure!(
        db.is_finite(),
        "{what}: picture equals the truth exactly: JPEG was not used"
    );
    ensure!(
        db >= MIN_PSNR_DB,
        "{what}: PSNR {db:.1} dB below {MIN_PSNR_DB} dB"
    );
    Ok(db)
}

fn vncviewer_case(cx: &PeerTest, port: u16, truth: &Image, quality: Option<u8>) -> Result<Image> {
    let mut viewer = match quality {
        None => Viewer::start_with(cx, port, None, "Tight")?,
        Some(q) => Viewer::start_jpeg(cx, port, "Tight", q)?,
    };
    let shot = viewer.capture_stable(cx, Duration::from_secs(30))?;
    shot.crop(0, 0, truth.width, truth.height)
}

fn lvc_case(cx: &PeerTest, port: u16, extra: &[&str]) -> Result<Image> {
    let snap = peers::libvncclient_with(cx, port, None, "tight copyrect", extra)?;
    ensure!(
        snap.run.code() == Some(0),
        "libvncclient tight failed ({}): {}",
        snap.run.describe(),
        snap.run.stderr.trim()
    );
    snap.image.context("libvncclient wrote no picture")
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_tight_lossless() {
    peer_test("demo_tight_lossless", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let truth = demo.truth()?;
        let port = demo.product.port;
        let got = vncviewer_case(cx, port, &truth, None)?;
        tight_was_chosen(&mut demo, 0)?;
        exact("vncviewer Tight -NoJPEG", &truth, &got)?;
        let got = lvc_case(cx, port, &[])?;
        tight_was_chosen(&mut demo, 1)?;
        exact("libvncclient tight", &truth, &got)?;
        Ok("rfb-demo x {vncviewer, libvncclient} x Tight lossless: both exact".to_owned())
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_tight_jpeg() {
    peer_test("demo_tight_jpeg", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let truth = demo.truth()?;
        let port = demo.product.port;
        let got = vncviewer_case(cx, port, &truth, Some(8))?;
        tight_was_chosen(&mut demo, 0)?;
        let v = lossy("vncviewer Tight -QualityLevel 8", &truth, &got)?;
        let got = lvc_case(cx, port, &["--jpeg", "--quality", "8"])?;
        tight_was_chosen(&mut demo, 1)?;
        let l = lossy("libvncclient tight --jpeg --quality 8", &truth, &got)?;
        Ok(format!(
            "rfb-demo x Tight JPEG q8: vncviewer {v:.1} dB, libvncclient {l:.1} dB (>= {MIN_PSNR_DB} dB, not exact)"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_tight_jpeg_subsampled() {
    // TigerVNC's quality levels choose the chroma subsampling too (levels 0–2: 4:2:0,
    // 3–5: 4:2:2, 6–9: 4:4:4), so these viewers decode our encoder's subsampled JPEGs
    // with their libjpeg-turbo. Lower quality, lower floor: whole-frame PSNR ≥ 30 dB.
    const MIN_DB: f64 = 30.0;
    peer_test("demo_tight_jpeg_subsampled", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let truth = demo.truth()?;
        let port = demo.product.port;
        let mut report = Vec::new();
        for (nth, (level, sampling)) in [(1u8, "4:2:0"), (4, "4:2:2")].into_iter().enumerate() {
            let got = vncviewer_case(cx, port, &truth, Some(level))?;
            tight_was_chosen(&mut demo, 2 * nth)?;
            let what = format!("vncviewer Tight -QualityLevel {level} ({sampling})");
            let v = truth.psnr(&got)?;
            ensure!(v.is_finite(), "{what}: exact: JPEG was not used");
            ensure!(v >= MIN_DB, "{what}: PSNR {v:.1} dB below {MIN_DB} dB");
            let q = level.to_string();
            let got = lvc_case(cx, port, &["--jpeg", "--quality", &q])?;
            tight_was_chosen(&mut demo, 2 * nth + 1)?;
            let what = format!("libvncclient tight --jpeg --quality {level} ({sampling})");
            let l = truth.psnr(&got)?;
            ensure!(l.is_finite(), "{what}: exact: JPEG was not used");
            ensure!(l >= MIN_DB, "{what}: PSNR {l:.1} dB below {MIN_DB} dB");
            report.push(format!(
                "level {level} ({sampling}): vncviewer {v:.1} dB, libvncclient {l:.1} dB"
            ));
        }
        Ok(format!("rfb-demo x Tight JPEG: {}", report.join("; ")))
    });
}
