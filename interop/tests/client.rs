//! Our client against a real server (issue 6's proof), all against TigerVNC's Xvnc:
//!
//! * `rfb-viewer` in its own Xvfb shows Xvnc's framebuffer exactly (window screenshot
//!   against `xwd -root` of Xvnc's display);
//! * pointer and keys from `rfb-viewer` reach Xvnc's display: xdotool moves the pointer
//!   and types into the viewer window (real XTEST events on the viewer's display); Xvnc's
//!   pointer must land on the same spot, and an xterm on Xvnc's display must read the
//!   typed line;
//! * clipboard text both ways (xclip on each display);
//! * `rfb-record` records Xvnc (ZRLE on the wire) while the screen changes, and the
//!   recording, decoded with rfb-proto's `ServerStream` and rfb-client's
//!   `RemoteFramebuffer`, replays to Xvnc's final framebuffer exactly.
//!
//! `#[ignore]`d: run with `cargo test -p rfb-interop -- --ignored --test-threads=1` after
//! `scripts/install-deps.sh` and `cargo build --workspace --bins`.

use std::fs;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rfb_client::{CodecFramer, RemoteFramebuffer};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::ours::{self, OurViewer};
use rfb_interop::peers::{paint_rich_desktop, ServerAuth, Xvnc};
use rfb_interop::x11::XServer;
use rfb_proto::stream::{ServerItem, ServerStream};
use rfb_proto::{Limits, PixelFormat, Progress};

const DESKTOP: &str = "rfb-interop-client";
const SCREEN: (u32, u32) = (400, 300);
const PHOTO: (u32, u32) = (240, 180);

fn exact(what: &str, truth: &Image, got: &Image) -> Result<()> {
    ensure!(!truth.is_uniform(), "{what}: the truth picture is uniform");
    match truth.mismatch(got) {
        None => Ok(()),
        Some(m) => bail!("{what}: picture differs from the truth: {m}"),
    }
}

/// Polls `probe` every 200 ms until it returns `Some` (at most `timeout`).
fn poll<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> Result<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return Ok(v);
        }
        if Instant::now() >= end {
            bail!("{what}: not seen within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// Runs an X client on `x` (unlogged, 10 s at most); its stdout if it exits 0.
fn x_output(cx: &PeerTest, x: &XServer, program: &str, args: &[&str]) -> Option<String> {
    let mut c = x.command(program);
    c.args(args);
    let r = cx.run_unlogged(program, c, Duration::from_secs(10)).ok()?;
    (r.code() == Some(0)).then_some(r.stdout)
}

/// The pointer position on `x` (`xdotool getmouselocation`).
fn pointer_at(cx: &PeerTest, x: &XServer) -> Option<(i32, i32)> {
    let out = x_output(cx, x, "xdotool", &["getmouselocation"])?;
    let (_, f) = ours::parse_fields(&format!("at {}", colon_fields(out.trim())));
    let px = f.get("x")?.parse().ok()?;
    let py = f.get("y")?.parse().ok()?;
    Some((px, py))
}

/// xdotool's `key:value` output uses colons; turn `x:1 y:2` into `x=1 y=2`.
fn colon_fields(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.replacen(':', "=", 1))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_shows_xvnc_exactly() {
    peer_test("rfb_viewer_shows_xvnc_exactly", |cx| {
        let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
        let mut viewer = OurViewer::start(cx, xvnc.port, &["--view-only"])?;
        let (w, h) = (desk.truth.width, desk.truth.height);
        let shot = viewer.capture_stable(cx, w, h, Duration::from_secs(30))?;
        let got = shot.crop(0, 0, w, h)?;
        exact("rfb-viewer window", &desk.truth, &got)?;
        drop(viewer);
        drop(desk);
        Ok(format!(
            "Xvnc × rfb-viewer × auto -> pass (window {}x{} shows Xvnc's {w}x{h} screen exactly)",
            shot.width, shot.height
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_input_reaches_xvnc() {
    peer_test("rfb_viewer_input_reaches_xvnc", |cx| {
        let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        // An xterm in the top-left corner of Xvnc's screen that writes the first line it
        // reads to a file.
        let typed = cx.path("typed.txt");
        let script = format!(
            "IFS= read -r line; printf '%s' \"$line\" > '{}'; sleep 60",
            typed.display()
        );
        let mut c = xvnc.x.command("xterm");
        c.args([
            "-fn",
            "fixed",
            "-geometry",
            "40x5+0+0",
            "-title",
            "rfb-keys",
            "-e",
            "sh",
            "-c",
        ])
        .arg(&script);
        let _xterm = cx.spawn("xterm", c, false)?;
        poll(Duration::from_secs(15), "the xterm window", || {
            x_output(cx, &xvnc.x, "xdotool", &["search", "--name", "rfb-keys"])
                .filter(|o| !o.trim().is_empty())
        })?;

        let mut viewer = OurViewer::start(cx, xvnc.port, &[])?;
        viewer.capture_stable(
            cx,
            SCREEN.0 as usize,
            SCREEN.1 as usize,
            Duration::from_secs(30),
        )?;
        let win = viewer.window(cx, Duration::from_secs(5))?;

        // Pointer: move over the viewer window; Xvnc's pointer must follow 1:1.
        let mut moved = Vec::new();
        for (x, y) in [(301, 201), (123, 45)] {
            viewer.xvfb.run_client(
                cx,
                "xdotool",
                &[
                    "mousemove",
                    "--window",
                    &win,
                    &x.to_string(),
                    &y.to_string(),
                ],
            )?;
            let at = poll(
                Duration::from_secs(10),
                "Xvnc's pointer at the spot",
                || pointer_at(cx, &xvnc.x).filter(|&p| p == (x, y)),
            )
            .with_context(|| format!("last seen at {:?}", pointer_at(cx, &xvnc.x)))?;
            moved.push(at);
        }

        // Keys: the pointer over the xterm (focus follows the pointer without a window
        // manager); focus the viewer window and type a line with shifted characters.
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["mousemove", "--window", &win, "40", "20"])?;
        poll(
            Duration::from_secs(10),
            "Xvnc's pointer over the xterm",
            || pointer_at(cx, &xvnc.x).filter(|&p| p == (40, 20)),
        )?;
        let text = "Hello, rfb 42!";
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["type", "--delay", "40", text])?;
        viewer.xvfb.run_client(cx, "xdotool", &["key", "Return"])?;
        let got = poll(
            Duration::from_secs(10),
            "the typed line in the xterm",
            || fs::read_to_string(&typed).ok(),
        )?;
        ensure!(got == text, "the xterm read {got:?}, typed {text:?}");
        Ok(format!(
            "Xvnc × rfb-viewer × input -> pass (pointer moves {moved:?} and the keys {text:?} + Return reached Xvnc's display)"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_clipboard_both_ways() {
    peer_test("rfb_viewer_clipboard_both_ways", |cx| {
        let xvnc = Xvnc::start_with(
            cx,
            SCREEN.0,
            SCREEN.1,
            &ServerAuth::None,
            DESKTOP,
            &["-AcceptCutText=1", "-SendCutText=1"],
        )?;
        let mut viewer = OurViewer::start(cx, xvnc.port, &[])?;
        viewer.capture_stable(
            cx,
            SCREEN.0 as usize,
            SCREEN.1 as usize,
            Duration::from_secs(30),
        )?;
        let win = viewer.window(cx, Duration::from_secs(5))?;

        // Client -> server: own the viewer display's clipboard, then focus the viewer
        // window (it sends the local clipboard when it gains focus).
        let to_server = "from the client: 123";
        let f = cx.path("to-server.txt");
        fs::write(&f, to_server)?;
        let mut c = viewer.xvfb.command("xclip");
        c.args(["-quiet", "-selection", "clipboard", "-i"]).arg(&f);
        let owner = cx.spawn("xclip-client", c, false)?;
        thread::sleep(Duration::from_millis(300));
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        poll(
            Duration::from_secs(10),
            "the client's text on Xvnc's clipboard",
            || {
                x_output(cx, &xvnc.x, "xclip", &["-o", "-selection", "clipboard"])
                    .filter(|t| t == to_server)
            },
        )?;
        drop(owner);

        // Server -> client: own Xvnc's clipboard; the viewer must put the text on its
        // display's clipboard.
        let to_client = "from the server: 456";
        let f = cx.path("to-client.txt");
        fs::write(&f, to_client)?;
        let mut c = xvnc.x.command("xclip");
        c.args(["-quiet", "-selection", "clipboard", "-i"]).arg(&f);
        let _owner = cx.spawn("xclip-server", c, false)?;
        poll(
            Duration::from_secs(10),
            "the server's text on the viewer's clipboard",
            || {
                x_output(
                    cx,
                    &viewer.xvfb,
                    "xclip",
                    &["-o", "-selection", "clipboard"],
                )
                .filter(|t| t == to_client)
            },
        )?;
        Ok(format!(
            "Xvnc × rfb-viewer × clipboard -> pass ({to_server:?} client -> Xvnc, {to_client:?} Xvnc -> client)"
        ))
    });
}

/// Decodes a recording (encperf input: the server-to-client stream after ServerInit, in
/// RGB888) onto a `width`x`height` framebuffer; returns the picture and the update count.
fn replay(stream: &[u8], width: u16, height: u16) -> Result<(Image, usize)> {
    let format = PixelFormat::RGB888;
    let mut parser = ServerStream::new(format, Limits::default());
    let mut framer = CodecFramer::new(Default::default());
    let mut fb = RemoteFramebuffer::new(width, height, format);
    let mut pos = 0;
    let mut updates = 0;
    // An update's end is an item of its own (zero bytes when its count runs out).
    while pos < stream.len() || parser.in_update() {
        match parser
            .next(&stream[pos..], &mut framer)
            .with_context(|| format!("parsing the recording at byte {pos}"))?
        {
            Progress::Done { item, consumed } => {
                match item {
                    ServerItem::Rect { header, payload } => {
                        fb.apply(&header, payload)
                            .with_context(|| format!("decoding {header:?}"))?;
                    }
                    ServerItem::UpdateEnd => updates += 1,
                    _ => {}
                }
                pos += consumed;
            }
            Progress::NeedMore { .. } => bail!("recording truncated at byte {pos}"),
        }
    }
    let (w, h) = (usize::from(width), usize::from(height));
    Ok((Image::new(w, h, fb.to_rgb()), updates))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_record_of_xvnc_replays_exactly() {
    peer_test("rfb_record_of_xvnc_replays_exactly", |cx| {
        let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
        let out = cx.path("session.rfb.zst");
        let mut c = Command::new(ours::our_bin("rfb-record")?);
        c.arg(format!("127.0.0.1::{}", xvnc.port)).arg(&out).args([
            "--seconds",
            "3",
            "--encoding",
            "zrle",
        ]);
        let mut rec = cx.spawn("rfb-record", c, false)?;
        // Change the screen while recording, so incremental updates are recorded too.
        thread::sleep(Duration::from_millis(1200));
        xvnc.x.run_client(
            cx,
            "xsetroot",
            &["-mod", "5", "7", "-fg", "#10e040", "-bg", "#600030"],
        )?;
        let truth = xvnc.x.settled_screenshot(cx, Duration::from_secs(10))?;
        ensure!(truth != desk.truth, "xsetroot did not change the screen");
        let status = rec.wait_exit(Duration::from_secs(30))?;
        ensure!(status.success(), "rfb-record failed ({status})");
        let manifest = cx.path("session.manifest.json");
        ensure!(
            manifest.exists(),
            "no manifest written beside the recording"
        );
        let mut c = Command::new("zstd");
        c.args(["-d", "-q", "-c"]).arg(&out);
        let z = cx.run_unlogged("zstd-d", c, Duration::from_secs(30))?;
        ensure!(z.code() == Some(0), "zstd -d failed ({})", z.describe());
        let stream = fs::read(&z.stdout_log)?;
        let (got, updates) = replay(&stream, SCREEN.0 as u16, SCREEN.1 as u16)?;
        ensure!(
            updates >= 2,
            "the recording holds {updates} updates: the change was not recorded"
        );
        exact("replayed recording", &truth, &got)?;
        drop(desk);
        Ok(format!(
            "Xvnc × rfb-record × zrle -> pass ({} bytes decompressed, {updates} updates, replays to Xvnc's final screen exactly)",
            stream.len()
        ))
    });
}
