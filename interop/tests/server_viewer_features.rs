//! `rfb-demo` against TigerVNC's vncviewer for what is not pixels: remote resize and
//! clipboard from the viewer.
//!
//! * resize: `vncviewer -DesktopSize=640x480` asks our server (SetDesktopSize) on
//!   connect; the demo accepts (it prints `resize #N 640x480 accepted=true`), the
//!   viewer's window follows (its `xdotool getwindowgeometry` becomes 640x480). A
//!   request the demo refuses (8000x8000, above its 4096 limit) is answered with an error
//!   status: the demo prints `accepted=false` and the viewer stays at 800x600.
//! * clipboard: text put on the viewer display's clipboard (`xclip`) reaches the demo
//!   (`clipboard #N from_viewer=true len=L` in its audit log, and the text itself in its
//!   `clipboard-text` line).
//!
//! Ignored by default (real peers): `cargo build -p rfb-examples --bins && cargo test -p
//! rfb-interop --test server_viewer_features -- --ignored --test-threads=1`.

use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::servers::{ControlViewer, Demo};

const STILL_AFTER: u64 = 60;
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// The size of vncviewer's window `win` (`xdotool getwindowgeometry`).
fn window_size(cx: &PeerTest, viewer: &ControlViewer, win: &str) -> Result<(u32, u32)> {
    let out = viewer
        .xvfb
        .run_client(cx, "xdotool", &["getwindowgeometry", win])?;
    let geometry = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Geometry: "))
        .with_context(|| format!("no Geometry line in {out:?}"))?;
    let (w, h) = geometry
        .split_once('x')
        .with_context(|| format!("bad geometry {geometry:?}"))?;
    Ok((w.trim().parse()?, h.trim().parse()?))
}

/// Polls the window size until it is `want` (at most `timeout`).
fn wait_window_size(
    cx: &PeerTest,
    viewer: &mut ControlViewer,
    want: (u32, u32),
    timeout: Duration,
) -> Result<()> {
    let end = Instant::now() + timeout;
    let mut last = None;
    while Instant::now() < end {
        let win = viewer.window(cx, Duration::from_secs(10))?;
        let size = window_size(cx, viewer, &win)?;
        if size == want {
            return Ok(());
        }
        last = Some(size);
        thread::sleep(Duration::from_millis(300));
    }
    bail!("vncviewer's window stayed {last:?}, wanted {want:?}")
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_resized_by_vncviewer() {
    peer_test("demo_resized_by_vncviewer", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let port = demo.product.port;
        // Accepted.
        let mut viewer = ControlViewer::start_with(
            cx,
            port,
            "ZRLE",
            &["-RemoteResize=1", "-DesktopSize=640x480"],
        )?;
        let line = demo
            .product
            .wait_line("resize ", EVENT_TIMEOUT)
            .context("the demo got no SetDesktopSize")?;
        ensure!(
            line.ends_with("640x480 accepted=true"),
            "unexpected answer: {line}"
        );
        wait_window_size(cx, &mut viewer, (640, 480), EVENT_TIMEOUT)?;
        drop(viewer);
        // Refused: the desktop stays 640x480 and so does a new viewer's window.
        let mut viewer = ControlViewer::start_with(
            cx,
            port,
            "ZRLE",
            &["-RemoteResize=1", "-DesktopSize=8000x8000"],
        )?;
        demo.product.wait_count("resize ", 1, EVENT_TIMEOUT)?;
        let refused = demo
            .product
            .process
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("resize "))
            .nth(1)
            .context("no second resize line")?;
        ensure!(
            refused.ends_with("8000x8000 accepted=false"),
            "unexpected answer: {refused}"
        );
        wait_window_size(cx, &mut viewer, (640, 480), EVENT_TIMEOUT)?;
        ensure!(
            viewer.viewer.is_running(),
            "vncviewer exited after the refusal"
        );
        Ok(format!(
            "rfb-demo x vncviewer x SetDesktopSize: 640x480 accepted and followed ({line}); \
             8000x8000 refused, viewer still connected at 640x480 ({refused})"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_clipboard_from_vncviewer() {
    peer_test("demo_clipboard_from_vncviewer", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let mut viewer = ControlViewer::start_with(
            cx,
            demo.product.port,
            "ZRLE",
            &["-SendClipboard=1", "-SendPrimary=0"],
        )?;
        demo.product.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let win = viewer.window(cx, Duration::from_secs(20))?;
        let text = "copied in vncviewer: grüße 42";
        let file = cx.path("clip.txt");
        std::fs::write(&file, text)?;
        // xclip stays in the background owning the selection until another owner comes.
        let mut c = viewer.xvfb.command("xclip");
        c.args(["-quiet", "-selection", "clipboard", "-i"])
            .arg(&file)
            .stdin(Stdio::null());
        let _owner = cx.spawn("xclip", c, false)?;
        // vncviewer sends clipboard changes when it notices them (and on focus).
        thread::sleep(Duration::from_millis(300));
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        let want = format!("from_viewer=true len={}", text.len());
        let line = demo
            .product
            .process
            .wait_line(
                |l| l.starts_with("clipboard ") && l.ends_with(&want),
                EVENT_TIMEOUT,
            )
            .with_context(|| format!("the demo never printed `clipboard ... {want}`"))?;
        let got = demo
            .product
            .process
            .wait_line(|l| l.starts_with("clipboard-text "), EVENT_TIMEOUT)?;
        ensure!(
            got.ends_with(&format!("{text:?}")),
            "the demo received other text: {got}"
        );
        Ok(format!(
            "rfb-demo x vncviewer x clipboard viewer -> server: {text:?} arrived ({line})"
        ))
    });
}
