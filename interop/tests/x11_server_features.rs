//! `rfb-x11-server`'s clipboard and cursor shape against REAL peers on loopback.
//!
//! * Clipboard X → viewer: `xclip` owns the shared display's CLIPBOARD; TigerVNC's
//!   vncviewer (`-AcceptClipboard=1`) puts the text on its own display's CLIPBOARD.
//! * Clipboard viewer → X: `xclip` owns the viewer display's CLIPBOARD; vncviewer
//!   (`-SendClipboard=1`) sends it when its window gets the focus; `xclip -o` on the
//!   shared display reads it (CLIPBOARD and PRIMARY) from our server's hidden window.
//! * Cursor: the pointer moves (xdotool on the shared display) over an xterm (its text
//!   cursor), an xterm with `pointerShape: watch`, and the root window (the blank
//!   16x16 cursor [`XDesktop`] sets); the LibVNCClient harness (`--cursors`) receives
//!   each shape, the size our server read with XFixes, visible (or, for the blank one,
//!   16x16 with no pixel shown), each different from the ones before.
//! * Pointer position: the pointer moved on the shared display by another X client
//!   (xdotool) reaches LibVNCClient as PointerPos (`cursor-pos X,Y` from its
//!   `HandleCursorPos` callback) at exactly those coordinates.
//!
//! Ignored by default (they need `scripts/install-deps.sh` and our binaries):
//! `cargo build -p rfb-examples --bins && cargo test -p rfb-interop --test
//! x11_server_features -- --ignored --test-threads=1`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::peers;
use rfb_interop::process::Spawned;
use rfb_interop::servers::{ControlViewer, Product, XDesktop};
use rfb_interop::x11::XServer;

const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `xclip -selection clipboard -quiet -i FILE` on `x` (it owns the selection and
/// serves it until another client takes it over or it is stopped).
fn own_clipboard(cx: &PeerTest, x: &XServer, text: &str) -> Result<Spawned> {
    let file = cx.path(&format!("{}.txt", cx.unique("clip")));
    std::fs::write(&file, text)?;
    let mut c = x.command("xclip");
    c.args(["-selection", "clipboard", "-quiet", "-i"])
        .arg(&file);
    cx.spawn("xclip", c, false)
}

/// Polls `xclip -o -selection SELECTION` on `x` until it prints `want`.
fn wait_selection(cx: &PeerTest, x: &XServer, selection: &str, want: &str) -> Result<()> {
    let end = Instant::now() + EVENT_TIMEOUT;
    loop {
        let got = x
            .run_client(cx, "xclip", &["-o", "-selection", selection])
            .unwrap_or_else(|e| format!("(xclip: {e:#})"));
        if got == want {
            return Ok(());
        }
        ensure!(
            Instant::now() < end,
            "{selection} on {} holds {got:?}, expected {want:?}",
            x.name()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_clipboard_to_vncviewer() {
    peer_test("x11_server_clipboard_to_vncviewer", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let mut viewer =
            ControlViewer::start_with(cx, server.port, "ZRLE", &["-AcceptClipboard=1"])?;
        server.wait_line("authenticated ", EVENT_TIMEOUT)?;
        // vncviewer takes the server's clipboard while its window has the focus.
        let win = viewer.window(cx, Duration::from_secs(20))?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        std::thread::sleep(Duration::from_millis(300));
        let text = "X to viewer: café ✓, pushed by xclip 42";
        let _owner = own_clipboard(cx, &desk.xvfb, text)?;
        let line = server
            .wait_line("clipboard from X len=", EVENT_TIMEOUT)
            .context("our server never noticed the new CLIPBOARD owner")?;
        ensure!(
            line == format!("clipboard from X len={}", text.len()),
            "unexpected line {line:?}"
        );
        wait_selection(cx, &viewer.xvfb, "clipboard", text)?;
        // No echo: the text the viewer now holds is not sent back to X as new.
        std::thread::sleep(Duration::from_millis(1000));
        ensure!(
            server.count("clipboard to X") == 0,
            "the server echoed the text back to X: {:?}",
            server.process.lines()
        );
        Ok(format!(
            "rfb-x11-server x vncviewer x clipboard X->viewer: {text:?} on the viewer's CLIPBOARD"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_clipboard_from_vncviewer() {
    peer_test("x11_server_clipboard_from_vncviewer", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let mut viewer = ControlViewer::start_with(cx, server.port, "ZRLE", &["-SendClipboard=1"])?;
        server.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let win = viewer.window(cx, Duration::from_secs(20))?;
        let text = "viewer to X: naïve ✓ text from the viewer's clipboard 7";
        let _owner = own_clipboard(cx, &viewer.xvfb, text)?;
        std::thread::sleep(Duration::from_millis(300));
        // vncviewer announces its clipboard when its window gets the focus.
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        let line = server
            .wait_line("clipboard to X len=", EVENT_TIMEOUT)
            .context("the viewer's clipboard never reached our server")?;
        ensure!(
            line.starts_with(&format!("clipboard to X len={} ", text.len())),
            "unexpected line {line:?}"
        );
        wait_selection(cx, &desk.xvfb, "clipboard", text)?;
        wait_selection(cx, &desk.xvfb, "primary", text)?;
        // Latin-1 STRING for old clients: ï as one byte, ✓ (not in Latin-1) as `?`.
        let mut c = desk.xvfb.command("xclip");
        c.args(["-o", "-selection", "clipboard", "-target", "STRING"]);
        let r = cx.run("xclip", c, Duration::from_secs(20))?;
        let latin1: Vec<u8> = text
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).unwrap_or(b'?'))
            .collect();
        let got = std::fs::read(&r.stdout_log)?;
        ensure!(
            got == latin1,
            "STRING target gave {got:?}, expected {latin1:?}"
        );
        // No echo: our own ownership is never sent back to the viewers.
        std::thread::sleep(Duration::from_millis(1000));
        ensure!(
            server.count("clipboard from X") == 0,
            "the server echoed the viewer's text back: {:?}",
            server.process.lines()
        );
        Ok(format!(
            "rfb-x11-server x vncviewer x clipboard viewer->X: {text:?} on the shared CLIPBOARD \
             and PRIMARY (UTF8_STRING and STRING)"
        ))
    });
}

/// A `cursor WxH hot=X,Y opaque=N hash=H` line of the harness, as (size, opaque, hash).
fn parse_lvc_cursor(line: &str) -> Result<(String, u64, String)> {
    let mut size = None;
    let mut opaque = None;
    let mut hash = None;
    for w in line.split_whitespace().skip(1) {
        if let Some(v) = w.strip_prefix("opaque=") {
            opaque = v.parse().ok();
        } else if let Some(v) = w.strip_prefix("hash=") {
            hash = Some(v.to_owned());
        } else if w.contains('x') && size.is_none() {
            size = Some(w.to_owned());
        }
    }
    match (size, opaque, hash) {
        (Some(s), Some(o), Some(h)) => Ok((s, o, h)),
        _ => anyhow::bail!("bad cursor line {line:?}"),
    }
}

/// The size in our server's `cursor WxH hot=X,Y serial=N` line.
fn server_cursor_size(line: &str) -> Result<String> {
    line.split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .with_context(|| format!("bad server cursor line {line:?}"))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_cursor_shape_to_libvncclient() {
    peer_test("x11_server_cursor_shape_to_libvncclient", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        // A third xterm whose pointer is the core cursor font's `watch`.
        let mut c = desk.xvfb.command("xterm");
        c.args([
            "-geometry",
            "20x4+500+350",
            "-xrm",
            "*pointerShape: watch",
            "-title",
            "rfb-watch",
            "-e",
            "sleep",
            "2147483647",
        ]);
        let _watch_term = cx.spawn("xterm-watch", c, false)?;
        let end = Instant::now() + EVENT_TIMEOUT;
        while !desk
            .xvfb
            .run_client(cx, "xwininfo", &["-root", "-tree"])?
            .contains("\"rfb-watch\"")
        {
            ensure!(Instant::now() < end, "the watch xterm never appeared");
            std::thread::sleep(Duration::from_millis(200));
        }
        // The pointer over the bare root window first.
        desk.xvfb
            .run_client(cx, "xdotool", &["mousemove", "--sync", "700", "100"])?;
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let mut c = Command::new(peers::lvc_client()?);
        c.arg("127.0.0.1")
            .arg(server.port.to_string())
            .arg(cx.path("lvc.ppm"));
        c.args(["--encodings", "zrle", "--seconds", "60", "--cursors"]);
        c.env_remove("DISPLAY");
        let mut lvc = cx.spawn("lvc_client", c, true)?;
        server.wait_line("authenticated ", EVENT_TIMEOUT)?;
        std::thread::sleep(Duration::from_millis(500));
        // Each move puts the pointer over a window with another cursor: the reader
        // xterm (xterm's text cursor), the watch xterm, the root window (the blank
        // 16x16 bitmap cursor XDesktop set, no pixel shown).
        let (rx, ry, rw, rh) = desk.reader_geometry;
        let spots = [
            ("xterm", rx + rw / 2, ry + rh / 2),
            ("watch", 560, 380),
            ("root", 700, 100),
        ];
        let mut seen: Vec<(String, u64, String)> = Vec::new();
        let mut shapes = Vec::new();
        for (name, x, y) in spots {
            let before = server.count("cursor ");
            let consumed = lvc_cursor_lines(&lvc).len();
            desk.xvfb.run_client(
                cx,
                "xdotool",
                &["mousemove", "--sync", &x.to_string(), &y.to_string()],
            )?;
            server.wait_count("cursor ", before, EVENT_TIMEOUT)?;
            let line = server
                .process
                .lines()
                .into_iter()
                .rfind(|l| l.starts_with("cursor "))
                .context("no cursor line")?;
            ensure!(
                !line.starts_with("cursor not read"),
                "{name}: our server could not read the cursor: {line}"
            );
            let want_size = server_cursor_size(&line)?;
            // The next shape libvncclient gets of that size (repeats of the previous
            // shape, sent to late joiners, are skipped).
            let end = Instant::now() + EVENT_TIMEOUT;
            let got = loop {
                let lines = lvc_cursor_lines(&lvc);
                if let Some(l) = lines[consumed.min(lines.len())..]
                    .iter()
                    .find(|l| l.split_whitespace().nth(1) == Some(want_size.as_str()))
                {
                    break l.clone();
                }
                ensure!(
                    lvc.is_running(),
                    "lvc_client exited ({})",
                    lvc.status_text()
                );
                ensure!(
                    Instant::now() < end,
                    "{name}: our server read {line:?}; libvncclient got only {lines:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            let shape = parse_lvc_cursor(&got)?;
            if name == "root" {
                ensure!(
                    shape.0 == "16x16" && shape.1 == 0,
                    "root: {got:?}, expected the blank 16x16 cursor"
                );
            } else {
                ensure!(shape.1 > 0, "{name}: no pixel of {got:?} is shown");
            }
            ensure!(
                !seen.iter().any(|s| s.2 == shape.2),
                "{name}: {got:?} is a shape seen before"
            );
            seen.push(shape);
            shapes.push(format!("{name} {got}"));
        }
        Ok(format!(
            "rfb-x11-server x libvncclient x cursor: {}",
            shapes.join(" / ")
        ))
    });
}

/// The harness's `cursor ...` lines so far.
fn lvc_cursor_lines(lvc: &Spawned) -> Vec<String> {
    lvc.lines()
        .into_iter()
        .filter(|l| l.starts_with("cursor "))
        .collect()
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_pointer_position_to_libvncclient() {
    peer_test("x11_server_pointer_position_to_libvncclient", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let mut c = Command::new(peers::lvc_client()?);
        c.arg("127.0.0.1")
            .arg(server.port.to_string())
            .arg(cx.path("lvc.ppm"));
        c.args(["--encodings", "zrle", "--seconds", "60", "--cursors"]);
        c.env_remove("DISPLAY");
        let mut lvc = cx.spawn("lvc_client", c, true)?;
        server.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let mut got = Vec::new();
        for (x, y) in [(123, 45), (640, 480), (7, 599)] {
            desk.xvfb.run_client(
                cx,
                "xdotool",
                &["mousemove", "--sync", &x.to_string(), &y.to_string()],
            )?;
            let want = format!("cursor-pos {x},{y}");
            lvc.wait_line(|l| l == want, EVENT_TIMEOUT)
                .with_context(|| format!("libvncclient never printed `{want}`"))?;
            got.push(want);
        }
        Ok(format!(
            "rfb-x11-server x libvncclient x PointerPos: {}",
            got.join(" / ")
        ))
    });
}
