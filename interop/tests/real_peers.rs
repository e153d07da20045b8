//! Handshake interoperability with REAL third-party VNC peers on loopback.
//!
//! Ignored by default: they need the Debian packages of `scripts/install-deps.sh` and our
//! binaries (`cargo build --workspace --bins`). Run them with
//! `cargo test -p rfb-interop -- --ignored --test-threads=1`.
//!
//! * our client (`rfb-probe`) against TigerVNC's Xvnc: security None, VNC password right
//!   and wrong;
//! * our client against x11vnc (LibVNCServer): None and a VNC password;
//! * real clients against our server (`rfb-handshake-server`): vncsnapshot (RFB 3.3),
//!   TigerVNC's vncviewer (RFB 3.8) and LibVNCClient (a small C harness), with None and a
//!   VNC password (and a wrong one), comparing the pixels they show with the framebuffer
//!   our server wrote;
//! * two harness self-checks, real peers against each other, that prove the capture paths
//!   (vncsnapshot's libjpeg shim, the viewer's window capture) give exact pixels.
//!
//! Each test prints a one-line `PASS name: ...` summary; on failure, the logs of every
//! process it started.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::ours::{self, OurServer, ServerOptions};
use rfb_interop::peers::{self, ServerAuth, Viewer, X11vnc, Xvnc};

const PASSWORD: &str = "s3cret!";
const WRONG_PASSWORD: &str = "wrong-pw";
const PEER_DESKTOP: &str = "rfb-interop-peer";
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// Checks an `ok ...` line of rfb-probe against a server of 800x600, depth 24, named
/// [`PEER_DESKTOP`].
fn check_probe_ok(line: &str, security: &str) -> Result<()> {
    let (head, f) = ours::parse_fields(line);
    ensure!(head == "ok", "expected an `ok` line, got {line:?}");
    let want = [
        ("version", "3.8"),
        ("security", security),
        ("width", "800"),
        ("height", "600"),
        ("bpp", "32"),
        ("depth", "24"),
        ("name", PEER_DESKTOP),
    ];
    for (k, v) in want {
        ensure!(
            f.get(k).map(String::as_str) == Some(v),
            "{k}: expected {v:?}, got {:?} in {line:?}",
            f.get(k)
        );
    }
    Ok(())
}

fn compare(what: &str, truth: &Image, got: &Image) -> Result<()> {
    // A uniform truth would make the comparison prove little.
    ensure!(
        !truth.is_uniform(),
        "{what}: the truth picture is a single colour"
    );
    match truth.mismatch(got) {
        None => Ok(()),
        Some(m) => anyhow::bail!("{what}: picture differs from the truth: {m}"),
    }
}

// ------------------------------------------------------------------ harness self-checks

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh"]
fn harness_vncsnapshot_reads_xvnc_exactly() {
    peer_test("harness_vncsnapshot_reads_xvnc_exactly", |cx| {
        let xvnc = Xvnc::start(cx, 320, 240, &ServerAuth::None, PEER_DESKTOP)?;
        let truth = xvnc.paint_test_desktop(cx)?;
        let snap = peers::vncsnapshot(cx, xvnc.port, None, "hextile")?;
        ensure!(
            snap.run.code() == Some(0),
            "vncsnapshot failed ({})",
            snap.run.describe()
        );
        let got = snap.image.context("vncsnapshot wrote no picture")?;
        compare("vncsnapshot", &truth, &got)?;
        Ok("vncsnapshot (Hextile) shows Xvnc's 320x240 root window exactly".to_owned())
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh"]
fn harness_vncviewer_shows_xvnc_exactly() {
    peer_test("harness_vncviewer_shows_xvnc_exactly", |cx| {
        let pw = peers::vnc_password_file(cx, PASSWORD)?;
        let xvnc = Xvnc::start(cx, 320, 240, &ServerAuth::VncAuth(pw.clone()), PEER_DESKTOP)?;
        let truth = xvnc.paint_test_desktop(cx)?;
        let mut viewer = Viewer::start(cx, xvnc.port, Some(&pw))?;
        let shot = viewer.capture_stable(cx, Duration::from_secs(30))?;
        let got = shot.crop(0, 0, truth.width, truth.height)?;
        compare("vncviewer window", &truth, &got)?;
        Ok(format!(
            "vncviewer (VncAuth) window {}x{} shows Xvnc's root window exactly",
            shot.width, shot.height
        ))
    });
}

// ------------------------------------------------------------------ our client vs Xvnc

/// Runs `rfb-probe` against 127.0.0.1:`port` (with a plain password file when `password`
/// is given) and checks its exit code (0 connected, 1 refused).
fn probe_port(
    cx: &PeerTest,
    port: u16,
    password: Option<&str>,
    expect_exit: i32,
) -> Result<ours::ProbeOutcome> {
    let mut args = Vec::new();
    if let Some(pw) = password {
        args.push("--password-file".to_owned());
        args.push(peers::plain_password_file(cx, pw)?.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = ours::probe(cx, &format!("127.0.0.1::{port}"), &args)?;
    ensure!(
        p.run.code() == Some(expect_exit),
        "rfb-probe: {} (expected exit {expect_exit}): {:?}",
        p.run.describe(),
        p.line
    );
    Ok(p)
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn probe_vs_xvnc_none() {
    peer_test("probe_vs_xvnc_none", |cx| {
        let xvnc = Xvnc::start(cx, 800, 600, &ServerAuth::None, PEER_DESKTOP)?;
        let p = probe_port(cx, xvnc.port, None, 0)?;
        check_probe_ok(&p.line, "None(1)")?;
        Ok(format!("rfb-probe vs Xvnc (None): {}", p.line))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn probe_vs_xvnc_vnc_password() {
    peer_test("probe_vs_xvnc_vnc_password", |cx| {
        let pw = peers::vnc_password_file(cx, PASSWORD)?;
        let xvnc = Xvnc::start(cx, 800, 600, &ServerAuth::VncAuth(pw), PEER_DESKTOP)?;
        let p = probe_port(cx, xvnc.port, Some(PASSWORD), 0)?;
        check_probe_ok(&p.line, "VncAuth(2)")?;
        Ok(format!("rfb-probe vs Xvnc (VncAuth): {}", p.line))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn probe_vs_xvnc_wrong_password() {
    peer_test("probe_vs_xvnc_wrong_password", |cx| {
        let pw = peers::vnc_password_file(cx, PASSWORD)?;
        let xvnc = Xvnc::start(cx, 800, 600, &ServerAuth::VncAuth(pw), PEER_DESKTOP)?;
        let p = probe_port(cx, xvnc.port, Some(WRONG_PASSWORD), 1)?;
        let reason = p
            .line
            .strip_prefix("refused:")
            .context("expected a `refused:` line")?
            .trim();
        // Xvnc speaks RFB 3.8, which carries a reason string with the failure.
        ensure!(
            !reason.is_empty(),
            "Xvnc's refusal reason is empty: {:?}",
            p.line
        );
        Ok(format!("rfb-probe vs Xvnc (wrong password): {}", p.line))
    });
}

// ------------------------------------------------------------------ our client vs x11vnc

fn probe_x11vnc_case(cx: &PeerTest, password: Option<&str>) -> Result<String> {
    let auth = match password {
        Some(p) => ServerAuth::VncAuth(peers::vnc_password_file(cx, p)?),
        None => ServerAuth::None,
    };
    let server = X11vnc::start(cx, 800, 600, &auth, PEER_DESKTOP)?;
    let p = probe_port(cx, server.port, password, 0)?;
    check_probe_ok(
        &p.line,
        if password.is_some() {
            "VncAuth(2)"
        } else {
            "None(1)"
        },
    )?;
    Ok(format!("rfb-probe vs x11vnc (LibVNCServer): {}", p.line))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn probe_vs_x11vnc_none() {
    peer_test("probe_vs_x11vnc_none", |cx| probe_x11vnc_case(cx, None));
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn probe_vs_x11vnc_vnc_password() {
    peer_test("probe_vs_x11vnc_vnc_password", |cx| {
        probe_x11vnc_case(cx, Some(PASSWORD))
    });
}

// ------------------------------------------------------------------ real clients vs our server

fn vncsnapshot_case(cx: &PeerTest, password: Option<&str>) -> Result<String> {
    let opts = ServerOptions {
        password: password.map(str::to_owned),
        ..ServerOptions::default()
    };
    let mut server = OurServer::start(cx, &opts)?;
    let truth = server.truth()?;
    let pwfile = match password {
        Some(p) => Some(peers::vnc_password_file(cx, p)?),
        None => None,
    };
    let snap = peers::vncsnapshot(cx, server.port, pwfile.as_deref(), "raw")?;
    ensure!(
        snap.run.code() == Some(0),
        "vncsnapshot failed ({}): {}",
        snap.run.describe(),
        snap.run.stderr.trim()
    );
    let auth = server.wait_event("authenticated ", EVENT_TIMEOUT)?;
    let got = snap.image.context("vncsnapshot wrote no picture")?;
    compare("vncsnapshot", &truth, &got)?;
    server
        .process
        .wait_exit(EVENT_TIMEOUT)
        .context("--once server did not exit after the client left")?;
    Ok(format!(
        "vncsnapshot (RFB 3.3) vs our server: `{auth}`, {}x{} picture exact",
        got.width, got.height
    ))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncsnapshot_vs_our_server_none() {
    peer_test("vncsnapshot_vs_our_server_none", |cx| {
        vncsnapshot_case(cx, None)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncsnapshot_vs_our_server_vnc_password() {
    peer_test("vncsnapshot_vs_our_server_vnc_password", |cx| {
        vncsnapshot_case(cx, Some(PASSWORD))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncsnapshot_vs_our_server_wrong_password() {
    peer_test("vncsnapshot_vs_our_server_wrong_password", |cx| {
        let opts = ServerOptions {
            password: Some(PASSWORD.into()),
            ..ServerOptions::default()
        };
        let mut server = OurServer::start(cx, &opts)?;
        let pwfile = peers::vnc_password_file(cx, WRONG_PASSWORD)?;
        let snap = peers::vncsnapshot(cx, server.port, Some(&pwfile), "raw")?;
        ensure!(!snap.run.timed_out, "vncsnapshot hung instead of failing");
        ensure!(
            snap.run.code() != Some(0),
            "vncsnapshot succeeded with a wrong password"
        );
        let refused = server.wait_event("refused ", EVENT_TIMEOUT)?;
        ensure!(
            !server
                .events()
                .iter()
                .any(|l| l.starts_with("authenticated ")),
            "server printed `authenticated` for a wrong password"
        );
        Ok(format!(
            "vncsnapshot with a wrong password: {}; server: `{refused}`",
            snap.run.describe()
        ))
    });
}

fn vncviewer_case(cx: &PeerTest, password: Option<&str>) -> Result<String> {
    let opts = ServerOptions {
        password: password.map(str::to_owned),
        ..ServerOptions::default()
    };
    let mut server = OurServer::start(cx, &opts)?;
    let truth = server.truth()?;
    let pwfile = match password {
        Some(p) => Some(peers::vnc_password_file(cx, p)?),
        None => None,
    };
    let mut viewer = Viewer::start(cx, server.port, pwfile.as_deref())?;
    let auth = server.wait_event("authenticated ", Duration::from_secs(20))?;
    let shot = viewer.capture_stable(cx, Duration::from_secs(30))?;
    let got = shot.crop(0, 0, truth.width, truth.height)?;
    compare("vncviewer window", &truth, &got)?;
    drop(viewer);
    server.wait_event("disconnected ", EVENT_TIMEOUT)?;
    Ok(format!(
        "vncviewer (RFB 3.8) vs our server: `{auth}`, window {}x{} exact",
        shot.width, shot.height
    ))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncviewer_vs_our_server_none() {
    peer_test("vncviewer_vs_our_server_none", |cx| {
        vncviewer_case(cx, None)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn vncviewer_vs_our_server_vnc_password() {
    peer_test("vncviewer_vs_our_server_vnc_password", |cx| {
        vncviewer_case(cx, Some(PASSWORD))
    });
}

fn libvncclient_case(cx: &PeerTest, password: Option<&str>) -> Result<String> {
    let opts = ServerOptions {
        password: password.map(str::to_owned),
        ..ServerOptions::default()
    };
    let mut server = OurServer::start(cx, &opts)?;
    let truth = server.truth()?;
    let snap = peers::libvncclient(cx, server.port, password, "raw")?;
    ensure!(
        snap.run.code() == Some(0),
        "lvc_client failed ({}): {}",
        snap.run.describe(),
        snap.run.stderr.trim()
    );
    let auth = server.wait_event("authenticated ", EVENT_TIMEOUT)?;
    let got = snap.image.context("lvc_client wrote no picture")?;
    compare("libvncclient", &truth, &got)?;
    Ok(format!(
        "libvncclient vs our server: `{auth}`, {}x{} picture exact",
        got.width, got.height
    ))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn libvncclient_vs_our_server_none() {
    peer_test("libvncclient_vs_our_server_none", |cx| {
        libvncclient_case(cx, None)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn libvncclient_vs_our_server_vnc_password() {
    peer_test("libvncclient_vs_our_server_vnc_password", |cx| {
        libvncclient_case(cx, Some(PASSWORD))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn libvncclient_vs_our_server_wrong_password() {
    peer_test("libvncclient_vs_our_server_wrong_password", |cx| {
        let opts = ServerOptions {
            password: Some(PASSWORD.into()),
            ..ServerOptions::default()
        };
        let mut server = OurServer::start(cx, &opts)?;
        let snap = peers::libvncclient(cx, server.port, Some(WRONG_PASSWORD), "raw")?;
        ensure!(
            snap.run.code() == Some(1),
            "lvc_client: {} (expected exit 1, refused)",
            snap.run.describe()
        );
        let refused = server.wait_event("refused ", EVENT_TIMEOUT)?;
        ensure!(
            !server
                .events()
                .iter()
                .any(|l| l.starts_with("authenticated ")),
            "server printed `authenticated` for a wrong password"
        );
        Ok(format!(
            "libvncclient with a wrong password: {}; server: `{refused}`",
            snap.run.describe()
        ))
    });
}
