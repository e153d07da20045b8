//! Encodings against real peers, both ways (issue 3's proof), pixel for pixel:
//!
//! * our decoders: `rfb-snapshot` against TigerVNC's Xvnc, x11vnc (LibVNCServer) and
//!   TightVNC's Xtightvnc, for every encoding each server really implements. The picture
//!   must equal the server's true framebuffer (`xwd -root` of its display) exactly, and
//!   the pixel rectangles the server sent must be in the encoding asked for (from
//!   rfb-snapshot's `received=` line; RRE and CoRRE may mix in Raw rectangles, which those
//!   servers send when Raw is smaller), so a silent fallback to Raw cannot pass;
//! * our encoders: `rfb-handshake-server`, with the encoding each real client asks for
//!   first (checked on the server's `encoding` line), decoded by LibVNCClient (the C
//!   harness), TigerVNC's vncviewer (window screenshot) and vncsnapshot (exact pixels from
//!   a libjpeg shim); the picture must equal the framebuffer the server wrote;
//! * Tight with JPEG: `rfb-snapshot --quality 8` against Xvnc and x11vnc matches within
//!   PSNR and not exactly (the photo really came as JPEG).
//!
//! One server per test serves every encoding. Each case prints a matrix line
//! `MATRIX server × client × encoding -> pass|FAIL (...)`, then the test fails if any
//! case failed. `#[ignore]`d: run with `cargo test -p rfb-interop -- --ignored
//! --test-threads=1` after `scripts/install-deps.sh` and `cargo build --workspace --bins`.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::ours::{self, OurServer, ServerOptions};
use rfb_interop::peers::{self, paint_rich_desktop, ServerAuth, Viewer, X11vnc, Xtightvnc, Xvnc};

const DESKTOP: &str = "rfb-interop-encodings";
/// Screen size of the real servers: not a multiple of 16 or 64, so edge tiles are partial.
const SCREEN: (u32, u32) = (400, 300);
/// Size of the full-colour photo on it.
const PHOTO: (u32, u32) = (240, 180);
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs every case, prints one matrix line per case, and fails listing the failures.
struct Matrix {
    server: &'static str,
    client: &'static str,
    passed: Vec<String>,
    failed: Vec<String>,
}

impl Matrix {
    fn new(server: &'static str, client: &'static str) -> Matrix {
        Matrix {
            server,
            client,
            passed: Vec::new(),
            failed: Vec::new(),
        }
    }

    fn case(&mut self, encoding: &str, result: Result<String>) {
        let line = match &result {
            Ok(detail) => format!(
                "MATRIX {} × {} × {encoding} -> pass ({detail})",
                self.server, self.client
            ),
            Err(e) => format!(
                "MATRIX {} × {} × {encoding} -> FAIL ({e:#})",
                self.server, self.client
            ),
        };
        // Straight to the file descriptor, so it shows even when libtest captures output.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
        match result {
            Ok(_) => self.passed.push(encoding.to_owned()),
            Err(e) => self.failed.push(format!("{encoding}: {e:#}")),
        }
    }

    fn finish(self) -> Result<String> {
        self.finish_as("exact")
    }

    /// Like `finish`, naming what every passing case achieved.
    fn finish_as(self, how: &str) -> Result<String> {
        if !self.failed.is_empty() {
            bail!(
                "{} × {}: {} of {} encodings failed: {}",
                self.server,
                self.client,
                self.failed.len(),
                self.failed.len() + self.passed.len(),
                self.failed.join("; ")
            );
        }
        Ok(format!(
            "{} × {}: {} {how}",
            self.server,
            self.client,
            self.passed.join(", ")
        ))
    }
}

fn exact(what: &str, truth: &Image, got: &Image) -> Result<()> {
    ensure!(!truth.is_uniform(), "{what}: the truth picture is uniform");
    match truth.mismatch(got) {
        None => Ok(()),
        Some(m) => bail!("{what}: picture differs from the truth: {m}"),
    }
}

// ------------------------------------------------------------------ our decoders

/// rfb-snapshot against the server on `port` for each encoding: exact, and only that
/// encoding received.
fn snapshot_matrix(
    cx: &PeerTest,
    server: &'static str,
    port: u16,
    truth: &Image,
    encodings: &[&str],
) -> Result<String> {
    let mut m = Matrix::new(server, "rfb-snapshot");
    let addr = format!("127.0.0.1::{port}");
    for enc in encodings {
        let r = ours::snapshot(cx, &addr, enc, None).and_then(|s| {
            // RRE and CoRRE encoders may send a rectangle as Raw when that is smaller.
            let got = s.expect_encoding(enc, matches!(*enc, "rre" | "corre"))?;
            exact("rfb-snapshot", truth, got)?;
            Ok(format!(
                "{}x{}, received {:?}",
                got.width, got.height, s.received
            ))
        });
        m.case(enc, r);
    }
    m.finish()
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn snapshot_decodes_xvnc_encodings() {
    peer_test("snapshot_decodes_xvnc_encodings", |cx| {
        let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
        let r = snapshot_matrix(
            cx,
            "Xvnc (TigerVNC)",
            xvnc.port,
            &desk.truth,
            &["raw", "rre", "hextile", "zrle", "tight"],
        );
        drop(desk);
        r
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn snapshot_decodes_x11vnc_encodings() {
    peer_test("snapshot_decodes_x11vnc_encodings", |cx| {
        let server = X11vnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        let desk = paint_rich_desktop(cx, &server.xvfb, PHOTO.0, PHOTO.1)?;
        let r = snapshot_matrix(
            cx,
            "x11vnc (LibVNCServer)",
            server.port,
            &desk.truth,
            &["raw", "rre", "corre", "hextile", "zlib", "zrle", "tight"],
        );
        drop(desk);
        r
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn snapshot_decodes_xtightvnc_encodings() {
    peer_test("snapshot_decodes_xtightvnc_encodings", |cx| {
        let server = Xtightvnc::start(cx, SCREEN.0, SCREEN.1, DESKTOP)?;
        let desk = paint_rich_desktop(cx, &server.x, PHOTO.0, PHOTO.1)?;
        let r = snapshot_matrix(
            cx,
            "Xtightvnc (TightVNC 1.3)",
            server.port,
            &desk.truth,
            &["raw", "rre", "corre", "hextile", "zlib", "tight"],
        );
        drop(desk);
        r
    });
}

// ------------------------------------------------------------------ our encoders

/// Our server serving many connections one after the other.
fn our_server(cx: &PeerTest) -> Result<(OurServer, Image)> {
    let opts = ServerOptions {
        width: 333,
        height: 211,
        once: false,
        ..ServerOptions::default()
    };
    let server = OurServer::start(cx, &opts)?;
    let truth = server.truth()?;
    Ok((server, truth))
}

/// The encoding our server chose for connection number `n` (0-based): the last word of
/// its n-th `encoding` line.
fn server_encoding(server: &mut OurServer, n: usize) -> Result<String> {
    let line = server.wait_nth_event("encoding ", n, EVENT_TIMEOUT)?;
    Ok(line.rsplit(' ').next().unwrap_or("").to_owned())
}

/// One client of our server (connection number `n`) asking for `enc` first: `client`
/// runs it and returns the picture it got. The server must have used `enc`, and the
/// picture must equal `truth`.
fn our_server_case(
    m: &mut Matrix,
    server: &mut OurServer,
    truth: &Image,
    n: usize,
    enc: &str,
    client: impl FnOnce() -> Result<Image>,
) {
    let got = client();
    let used = server_encoding(server, n);
    let r = used.and_then(|used| {
        ensure!(
            used.eq_ignore_ascii_case(enc),
            "client asked for {enc} first, server used {used:?}"
        );
        let got = got?;
        exact(m.client, truth, &got)?;
        Ok(format!("server used {used}, {}x{}", got.width, got.height))
    });
    m.case(enc, r);
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn libvncclient_decodes_our_encodings() {
    peer_test("libvncclient_decodes_our_encodings", |cx| {
        let (mut server, truth) = our_server(cx)?;
        let port = server.port;
        let mut m = Matrix::new("rfb-handshake-server", "LibVNCClient");
        let encodings = [
            "raw", "rre", "corre", "hextile", "zlib", "trle", "zrle", "tight",
        ];
        for (n, enc) in encodings.into_iter().enumerate() {
            our_server_case(&mut m, &mut server, &truth, n, enc, || {
                let snap = peers::libvncclient(cx, port, None, enc)?;
                ensure!(
                    snap.run.code() == Some(0),
                    "lvc_client failed ({}): {}",
                    snap.run.describe(),
                    snap.run.stderr.trim()
                );
                snap.image.context("lvc_client wrote no picture")
            });
        }
        m.finish()
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncsnapshot_decodes_our_encodings() {
    peer_test("vncsnapshot_decodes_our_encodings", |cx| {
        let (mut server, truth) = our_server(cx)?;
        let port = server.port;
        let mut m = Matrix::new("rfb-handshake-server", "vncsnapshot");
        let encodings = ["rre", "corre", "hextile", "zlib", "tight"];
        for (n, enc) in encodings.into_iter().enumerate() {
            our_server_case(&mut m, &mut server, &truth, n, enc, || {
                let snap = peers::vncsnapshot(cx, port, None, enc)?;
                ensure!(
                    snap.run.code() == Some(0),
                    "vncsnapshot failed ({}): {}",
                    snap.run.describe(),
                    snap.run.stderr.trim()
                );
                snap.image.context("vncsnapshot wrote no picture")
            });
        }
        m.finish()
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncviewer_decodes_our_encodings() {
    peer_test("vncviewer_decodes_our_encodings", |cx| {
        let (mut server, truth) = our_server(cx)?;
        let port = server.port;
        let mut m = Matrix::new("rfb-handshake-server", "vncviewer (TigerVNC)");
        for (n, enc) in ["Raw", "Hextile", "ZRLE", "Tight"].into_iter().enumerate() {
            // The viewer stays up until the case is judged (its guard drops after).
            let mut viewer = None;
            our_server_case(&mut m, &mut server, &truth, n, enc, || {
                let v = viewer.insert(Viewer::start_with(cx, port, None, enc)?);
                let shot = v.capture_stable(cx, Duration::from_secs(30))?;
                shot.crop(0, 0, truth.width, truth.height)
            });
            drop(viewer);
        }
        m.finish()
    });
}

// ------------------------------------------------------------------ Tight with JPEG

/// Lowest acceptable PSNR of a JPEG picture of the rich desktop (its photo is a third
/// of the screen; TigerVNC's q8 measures 41–44 dB on whole corpus frames).
const MIN_JPEG_PSNR_DB: f64 = 30.0;

/// rfb-snapshot asking for Tight at JPEG quality 8 from TigerVNC's Xvnc and x11vnc
/// (LibVNCServer): the picture must match the server's framebuffer within PSNR and must
/// NOT be exact (the photo really came as JPEG), and only Tight rectangles arrived.
#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn snapshot_decodes_tight_jpeg() {
    peer_test("snapshot_decodes_tight_jpeg", |cx| {
        let mut m = Matrix::new("{Xvnc, x11vnc}", "rfb-snapshot");
        let mut case = |name: &str, port: u16, truth: &Image| {
            let addr = format!("127.0.0.1::{port}");
            let r =
                ours::snapshot_with(cx, &addr, "tight", None, &["--quality", "8"]).and_then(|s| {
                    let got = s.expect_encoding("tight", false)?;
                    let db = truth.psnr(got)?;
                    ensure!(db.is_finite(), "{name}: exact picture: no JPEG was used");
                    ensure!(
                        db >= MIN_JPEG_PSNR_DB,
                        "{name}: PSNR {db:.1} dB below {MIN_JPEG_PSNR_DB} dB"
                    );
                    Ok(format!("{db:.1} dB, received {:?}", s.received))
                });
            m.case(name, r);
        };
        {
            let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
            let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
            case("Xvnc tight q8", xvnc.port, &desk.truth);
        }
        {
            let server = X11vnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
            let desk = paint_rich_desktop(cx, &server.xvfb, PHOTO.0, PHOTO.1)?;
            case("x11vnc tight q8", server.port, &desk.truth);
        }
        // Not Xtightvnc: TightVNC 1.3 sends this desktop losslessly even at quality 8
        // (its "smooth image" detector does not take the noisy photo for one).
        m.finish_as("within PSNR, lossy")
    });
}
