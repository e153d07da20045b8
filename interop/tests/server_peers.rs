//! Our product servers against REAL third-party viewers on loopback.
//!
//! * `rfb-demo` (still after 60 frames, the still frame written as the truth): TigerVNC's
//!   vncviewer (Raw, Hextile, ZRLE), the LibVNCClient harness (every encoding it can ask
//!   for that we produce), vncsnapshot (RRE, CoRRE, Hextile, Zlib) show it exactly; keys
//!   typed with xdotool into vncviewer's window reach the demo; clipboard text the demo
//!   pushes lands on vncviewer's X selections; two viewers at once; a VNC password right
//!   and wrong.
//! * `rfb-replay --at end` of a corpus recording: LibVNCClient (ZRLE) shows the final
//!   frame of our own independent decode of the recording.
//! * `rfb-x11-server` sharing an Xvfb with xterms: LibVNCClient (ZRLE, Hextile) shows
//!   `xwd -root` exactly; keys and pointer sent through our server reach the xterm and
//!   move the pointer.
//!
//! Ignored by default (they need `scripts/install-deps.sh` and our binaries):
//! `cargo build -p rfb-examples --bins && cargo test -p rfb-interop --test server_peers
//! -- --ignored --test-threads=1`. Each prints `PASS name: server x viewer x encodings`.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rfb_client::RemoteFramebuffer;
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::peers::{self, Viewer};
use rfb_interop::servers::{self, ControlViewer, Demo, InputClient, Product, XDesktop};
use rfb_proto::stream::{BasicFramer, ServerItem, ServerStream};
use rfb_proto::{Limits, PixelFormat, Progress};

const STILL_AFTER: u64 = 60;
const PASSWORD: &str = "s3cret!";
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);
/// The recorded sessions: `$RFB_CORPUS`, else `shared/corpus` beside the repository
/// (where CI and the developers' machines have it).
fn corpus() -> String {
    std::env::var("RFB_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").to_owned())
}

fn compare(what: &str, truth: &Image, got: &Image) -> Result<()> {
    ensure!(
        !truth.is_uniform(),
        "{what}: the truth picture is a single colour"
    );
    match truth.mismatch(got) {
        None => Ok(()),
        Some(m) => bail!("{what}: picture differs from the truth: {m}"),
    }
}

/// Runs the LibVNCClient harness with `encoding` and compares its picture.
fn lvc_case(
    cx: &PeerTest,
    port: u16,
    password: Option<&str>,
    encoding: &str,
    truth: &Image,
) -> Result<()> {
    let snap = peers::libvncclient(cx, port, password, encoding)?;
    ensure!(
        snap.run.code() == Some(0),
        "libvncclient {encoding} failed ({}): {}",
        snap.run.describe(),
        snap.run.stderr.trim()
    );
    let got = snap.image.context("libvncclient wrote no picture")?;
    compare(&format!("libvncclient {encoding}"), truth, &got)
}

fn matrix(server: &str, viewer: &str, results: &[(String, Result<()>)]) -> Result<String> {
    let cells: Vec<String> = results
        .iter()
        .map(|(e, r)| format!("{e}={}", if r.is_ok() { "pass" } else { "FAIL" }))
        .collect();
    let line = format!("{server} x {viewer}: {}", cells.join(" "));
    for (e, r) in results {
        if let Err(err) = r {
            bail!("{line}\n  {e}: {err:#}");
        }
    }
    Ok(line)
}

// ------------------------------------------------------------------ rfb-demo

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_vs_vncviewer() {
    peer_test("demo_vs_vncviewer", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let mut results = Vec::new();
        let mut truth = None;
        for enc in ["Raw", "Hextile", "ZRLE"] {
            // The first viewer joins during the motion, the others after it.
            let r = (|| -> Result<()> {
                let mut viewer = Viewer::start_with(cx, demo.product.port, None, enc)?;
                let t = match &truth {
                    Some(t) => t,
                    None => truth.insert(demo.truth()?),
                };
                let shot = viewer.capture_stable(cx, Duration::from_secs(30))?;
                let got = shot.crop(0, 0, t.width, t.height)?;
                compare(&format!("vncviewer {enc}"), t, &got)
            })();
            results.push((enc.to_owned(), r));
        }
        matrix("rfb-demo", "vncviewer", &results)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_vs_libvncclient() {
    peer_test("demo_vs_libvncclient", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        // The first client connects while the desktop still moves: it must converge.
        let during = peers::libvncclient(cx, demo.product.port, None, "zrle")?;
        ensure!(
            during.run.code() == Some(0),
            "libvncclient during the motion failed: {}",
            during.run.describe()
        );
        let truth = demo.truth()?;
        let mut results = Vec::new();
        for enc in [
            "raw", "copyrect", "rre", "corre", "hextile", "zlib", "trle", "zrle",
        ] {
            results.push((
                enc.to_owned(),
                lvc_case(cx, demo.product.port, None, enc, &truth),
            ));
        }
        matrix("rfb-demo", "libvncclient", &results)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_vs_vncsnapshot() {
    peer_test("demo_vs_vncsnapshot", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let truth = demo.truth()?;
        let mut results = Vec::new();
        for enc in ["rre", "corre", "hextile", "zlib"] {
            let r = (|| -> Result<()> {
                let snap = peers::vncsnapshot(cx, demo.product.port, None, enc)?;
                ensure!(
                    snap.run.code() == Some(0),
                    "vncsnapshot {enc} failed ({}): {}",
                    snap.run.describe(),
                    snap.run.stderr.trim()
                );
                let got = snap.image.context("vncsnapshot wrote no picture")?;
                compare(&format!("vncsnapshot {enc}"), &truth, &got)
            })();
            results.push((enc.to_owned(), r));
        }
        matrix("rfb-demo", "vncsnapshot", &results)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_input_from_vncviewer() {
    peer_test("demo_input_from_vncviewer", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let mut viewer = ControlViewer::start(cx, demo.product.port, "ZRLE")?;
        demo.product.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let win = viewer.window(cx, Duration::from_secs(20))?;
        // Point into the window (its pointer events reach the demo too), focus it, type.
        viewer.xvfb.run_client(
            cx,
            "xdotool",
            &["mousemove", "--window", &win, "--sync", "200", "200"],
        )?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        std::thread::sleep(Duration::from_millis(300));
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["type", "--delay", "50", "hi"])?;
        // The demo prints the Debug of ClientMessage: vncviewer sends QEMU extended key
        // events, `QemuKeyEvent(QemuKeyEvent { down: true, keysym: 104, keycode: 35 })`
        // (plain ones would be `KeyEvent(KeyEvent { down: true, keysym: 104 })`).
        let want = |sym: u32| {
            move |l: &str| {
                l.starts_with("input ")
                    && l.contains("KeyEvent")
                    && l.contains("down: true")
                    && (l.contains(&format!("keysym: {sym},"))
                        || l.contains(&format!("keysym: {sym} ")))
            }
        };
        let h = demo
            .product
            .process
            .wait_line(want(u32::from(b'h')), EVENT_TIMEOUT)
            .context("the demo never printed the key `h`")?;
        demo.product
            .process
            .wait_line(want(u32::from(b'i')), EVENT_TIMEOUT)
            .context("the demo never printed the key `i`")?;
        let pointer = demo
            .product
            .process
            .lines()
            .iter()
            .any(|l| l.starts_with("input ") && l.contains("PointerEvent"));
        ensure!(pointer, "no PointerEvent reached the demo");
        Ok(format!(
            "rfb-demo x vncviewer x input: keys `h` `i` and pointer reached the demo ({h})"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_clipboard_to_vncviewer() {
    peer_test("demo_clipboard_to_vncviewer", |cx| {
        let text = "rfb server clipboard, pushed by the product 42";
        let mut demo = Demo::start(cx, STILL_AFTER, &["--clipboard", text])?;
        // The product pushes the text through its handle to every viewer whenever one
        // joins.
        let mut viewer = ControlViewer::start_with(
            cx,
            demo.product.port,
            "ZRLE",
            &["-AcceptClipboard=1", "-SetPrimary=1"],
        )?;
        demo.product.wait_line("authenticated ", EVENT_TIMEOUT)?;
        // vncviewer takes the server's clipboard only while its window has the focus
        // (otherwise it waits for the focus).
        let win = viewer.window(cx, Duration::from_secs(20))?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        std::thread::sleep(Duration::from_millis(300));
        // A second viewer joins: the demo pushes the text to every viewer again, now
        // while vncviewer is focused.
        let _second = InputClient::connect(demo.product.port)?;
        demo.product
            .wait_count("authenticated ", 1, EVENT_TIMEOUT)?;
        demo.product
            .wait_count("clipboard #1 from_viewer=false", 1, EVENT_TIMEOUT)
            .context("the demo never pushed its clipboard to vncviewer twice")?;
        // vncviewer owns the viewer display's CLIPBOARD (and PRIMARY) selection now;
        // xclip asks it for the text.
        let end = Instant::now() + EVENT_TIMEOUT;
        let mut last = String::new();
        for selection in ["clipboard", "primary"] {
            loop {
                last = viewer
                    .xvfb
                    .run_client(cx, "xclip", &["-o", "-selection", selection])
                    .unwrap_or_else(|e| format!("(xclip: {e:#})"));
                if last == text {
                    break;
                }
                ensure!(
                    Instant::now() < end,
                    "the viewer's {selection} selection holds {last:?}, expected {text:?}"
                );
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        Ok(format!(
            "rfb-demo x vncviewer x clipboard: server text {last:?} on the viewer's CLIPBOARD and PRIMARY"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_two_viewers_at_once() {
    peer_test("demo_two_viewers_at_once", |cx| {
        let mut demo = Demo::start(cx, STILL_AFTER, &[])?;
        let mut viewer = Viewer::start_with(cx, demo.product.port, None, "ZRLE")?;
        demo.product.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let truth = demo.truth()?;
        // While vncviewer stays connected, LibVNCClient joins.
        lvc_case(cx, demo.product.port, None, "hextile", &truth)?;
        ensure!(
            viewer.viewer.is_running(),
            "vncviewer left while the second viewer was served"
        );
        let shot = viewer.capture_stable(cx, Duration::from_secs(30))?;
        compare(
            "vncviewer",
            &truth,
            &shot.crop(0, 0, truth.width, truth.height)?,
        )?;
        let auth = demo.product.count("authenticated ");
        let gone_before = demo
            .product
            .process
            .lines()
            .iter()
            .position(|l| l.starts_with("disconnected "));
        let second_auth = demo
            .product
            .process
            .lines()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("authenticated "))
            .nth(1)
            .map(|(i, _)| i);
        ensure!(auth >= 2, "only {auth} viewers authenticated");
        // Nobody had left when the second viewer joined: two at once.
        ensure!(
            matches!((gone_before, second_auth), (Some(g), Some(a)) if g > a)
                || gone_before.is_none(),
            "the first viewer had disconnected before the second joined"
        );
        Ok("rfb-demo x {vncviewer ZRLE + libvncclient hextile} at once: both exact".to_owned())
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn demo_password_right_and_wrong() {
    peer_test("demo_password_right_and_wrong", |cx| {
        let file = peers::plain_password_file(cx, PASSWORD)?;
        let f = file.display().to_string();
        let mut demo = Demo::start(cx, STILL_AFTER, &["--password-file", &f])?;
        let truth = demo.truth()?;
        lvc_case(cx, demo.product.port, Some(PASSWORD), "zrle", &truth)?;
        let bad = peers::libvncclient(cx, demo.product.port, Some("wrong-pw"), "zrle")?;
        ensure!(
            bad.run.code() != Some(0) && bad.image.is_none(),
            "libvncclient with a wrong password got in ({})",
            bad.run.describe()
        );
        let refused = demo.product.wait_line("refused ", EVENT_TIMEOUT)?;
        // vncsnapshot with the right password (an obfuscated password file).
        let pw = peers::vnc_password_file(cx, PASSWORD)?;
        let snap = peers::vncsnapshot(cx, demo.product.port, Some(&pw), "hextile")?;
        ensure!(
            snap.run.code() == Some(0),
            "vncsnapshot with the password failed: {}",
            snap.run.describe()
        );
        compare("vncsnapshot", &truth, &snap.image.context("no picture")?)?;
        Ok(format!(
            "rfb-demo (VncAuth) x libvncclient right=pass wrong=refused ({refused}) x vncsnapshot right=pass"
        ))
    });
}

// ------------------------------------------------------------------ rfb-replay

/// The final frame of a corpus recording, decoded here with rfb-proto's stream walker
/// and rfb-client's framebuffer (independently of rfb-replay's own player).
fn decode_recording(cx: &PeerTest, file: &str, width: u16, height: u16) -> Result<Image> {
    let data = servers::zstd_decompress(cx, &std::path::Path::new(&corpus()).join(file))?;
    let limits = Limits {
        max_framebuffer_width: width,
        max_framebuffer_height: height,
        ..Limits::default()
    };
    let mut stream = ServerStream::new(PixelFormat::RGB888, limits);
    let mut fb = RemoteFramebuffer::new(width, height, PixelFormat::RGB888);
    let mut pos = 0;
    let mut updates = 0;
    while pos < data.len() {
        match stream.next(&data[pos..], &mut BasicFramer)? {
            Progress::Done { item, consumed } => {
                match item {
                    ServerItem::Rect { header, payload } => {
                        fb.apply(&header, payload)?;
                    }
                    ServerItem::UpdateEnd => updates += 1,
                    _ => {}
                }
                pos += consumed;
            }
            Progress::NeedMore { .. } => bail!("{file} ends inside a message at {pos}"),
        }
    }
    ensure!(updates > 0, "{file} holds no update");
    Ok(Image::new(
        usize::from(width),
        usize::from(height),
        fb.to_rgb(),
    ))
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn replay_vs_libvncclient() {
    peer_test("replay_vs_libvncclient", |cx| {
        let file = "terminal-1280x720.rfb.zst";
        let truth = decode_recording(cx, file, 1280, 720)?;
        let written = cx.path("replay-end.ppm");
        let w = written.display().to_string();
        let path = format!("{}/{file}", corpus());
        let replay = Product::start(
            cx,
            "rfb-replay",
            &[&path, "--at", "end", "--write-truth", &w],
        )?;
        compare(
            "rfb-replay's own final frame",
            &truth,
            &Image::read_ppm(&written)?,
        )?;
        let mut results = Vec::new();
        for enc in ["zrle", "hextile"] {
            results.push((enc.to_owned(), lvc_case(cx, replay.port, None, enc, &truth)));
        }
        matrix("rfb-replay --at end", "libvncclient", &results)
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn replay_plays_to_the_end() {
    peer_test("replay_plays_to_the_end", |cx| {
        // From update 100 at 20x speed (~2 s), a viewer joining while it plays; then the
        // last frame stays and equals the recording's final frame.
        let file = "terminal-1280x720.rfb.zst";
        let truth = decode_recording(cx, file, 1280, 720)?;
        let path = format!("{}/{file}", corpus());
        let mut replay = Product::start(
            cx,
            "rfb-replay",
            &[
                &path,
                "--at",
                "100",
                "--speed",
                "20",
                "--progress-every",
                "10",
            ],
        )?;
        let t0 = Instant::now();
        replay.wait_line("at update 100", EVENT_TIMEOUT)?;
        let during = peers::libvncclient(cx, replay.port, None, "zrle")?;
        ensure!(
            during.run.code() == Some(0),
            "libvncclient during the replay failed: {}",
            during.run.describe()
        );
        let ended = replay.wait_line("ended after ", Duration::from_secs(60))?;
        let secs = t0.elapsed().as_secs_f64();
        ensure!(
            replay.count("update ") >= 5,
            "too few progress lines: {:?}",
            replay.process.lines()
        );
        lvc_case(cx, replay.port, None, "zrle", &truth)?;
        Ok(format!(
            "rfb-replay --at 100 --speed 20 x libvncclient zrle: {ended} in {secs:.1}s, \
             last frame exact"
        ))
    });
}

// ------------------------------------------------------------------ rfb-x11-server

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_vs_libvncclient_and_input() {
    peer_test("x11_server_vs_libvncclient_and_input", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let info = server.wait_line("display ", EVENT_TIMEOUT)?;
        let truth = desk.xvfb.settled_screenshot(cx, Duration::from_secs(10))?;
        let mut results = Vec::new();
        for enc in ["zrle", "hextile"] {
            results.push((enc.to_owned(), lvc_case(cx, server.port, None, enc, &truth)));
        }
        let after = desk.xvfb.screenshot(cx)?;
        ensure!(after == truth, "the shared screen changed during the test");
        let pictures = matrix("rfb-x11-server", "libvncclient", &results)?;

        // Input through our server: the pointer moves, keys reach the reader xterm.
        let mut input = InputClient::connect(server.port)?;
        input.pointer(123, 45, 0)?;
        let end = Instant::now() + EVENT_TIMEOUT;
        loop {
            let loc = desk.xvfb.run_client(cx, "xdotool", &["getmouselocation"])?;
            if loc.starts_with("x:123 y:45 ") {
                break;
            }
            ensure!(Instant::now() < end, "pointer not at 123,45: {loc}");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Focus follows the pointer (no window manager): point into the reader xterm.
        let (rx, ry, rw, rh) = desk.reader_geometry;
        input.pointer((rx + rw / 2) as u16, (ry + rh / 2) as u16, 0)?;
        std::thread::sleep(Duration::from_millis(300));
        let text = "Hello rfb 42";
        input.type_text(text)?;
        input.key(0xff0d, true)?; // Return
        input.key(0xff0d, false)?;
        let end = Instant::now() + EVENT_TIMEOUT;
        let typed = loop {
            if let Ok(t) = std::fs::read_to_string(&desk.typed_path) {
                break t;
            }
            ensure!(
                Instant::now() < end,
                "the reader xterm never got a line; server said: {:?}",
                server.process.lines()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        ensure!(typed == text, "the xterm read {typed:?}, expected {text:?}");
        server.wait_line("key ", EVENT_TIMEOUT)?;
        Ok(format!(
            "{pictures}; input: pointer moved, xterm read {typed:?} [{info}]"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build -p rfb-examples --bins"]
fn x11_server_vs_vncviewer_typing() {
    peer_test("x11_server_vs_vncviewer_typing", |cx| {
        let desk = XDesktop::start(cx, 800, 600)?;
        let display = desk.xvfb.name();
        let mut server = Product::start(cx, "rfb-x11-server", &["--display", &display])?;
        let mut viewer = ControlViewer::start(cx, server.port, "ZRLE")?;
        server.wait_line("authenticated ", EVENT_TIMEOUT)?;
        let win = viewer.window(cx, Duration::from_secs(20))?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        // Where is the shared screen inside vncviewer's window? Move the local pointer
        // and see which remote position our server reports.
        let pointer_at = |server: &mut Product, viewer: &ControlViewer, x: i64, y: i64| {
            let before = server.count("pointer ");
            // A warp next to the spot, then a one-pixel XTEST motion: the viewer (FLTK)
            // reliably reports real motion, not always a bare warp.
            viewer.xvfb.run_client(
                cx,
                "xdotool",
                &[
                    "mousemove",
                    "--sync",
                    &(x - 1).to_string(),
                    &(y - 1).to_string(),
                ],
            )?;
            viewer
                .xvfb
                .run_client(cx, "xdotool", &["mousemove_relative", "--sync", "1", "1"])?;
            server.wait_count("pointer ", before, EVENT_TIMEOUT)?;
            std::thread::sleep(Duration::from_millis(200));
            let last = server
                .process
                .lines()
                .into_iter()
                .rfind(|l| l.starts_with("pointer "))
                .context("no pointer line")?;
            // `pointer #1 x=10 y=20 buttons=0`
            let num = |k: &str| -> Result<i64> {
                last.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("bad pointer line {last:?}"))
            };
            anyhow::Ok((num("x=")?, num("y=")?))
        };
        let (sx, sy) = pointer_at(&mut server, &viewer, 300, 300)?;
        let (dx, dy) = (300 - sx, 300 - sy);
        // Into the reader xterm: the shared pointer moves there and focuses it.
        let (rx, ry, rw, rh) = desk.reader_geometry;
        let (tx, ty) = (i64::from(rx + rw / 2), i64::from(ry + rh / 2));
        let got = pointer_at(&mut server, &viewer, tx + dx, ty + dy)?;
        ensure!(
            got == (tx, ty),
            "pointer reached {got:?}, expected {:?}",
            (tx, ty)
        );
        let loc = desk.xvfb.run_client(cx, "xdotool", &["getmouselocation"])?;
        ensure!(
            loc.starts_with(&format!("x:{tx} y:{ty} ")),
            "shared pointer at {loc}, expected {tx},{ty}"
        );
        std::thread::sleep(Duration::from_millis(300));
        let text = "Typed via VNC: ok!";
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["type", "--delay", "30", text])?;
        viewer.xvfb.run_client(cx, "xdotool", &["key", "Return"])?;
        let end = Instant::now() + EVENT_TIMEOUT;
        let typed = loop {
            if let Ok(t) = std::fs::read_to_string(&desk.typed_path) {
                break t;
            }
            ensure!(
                Instant::now() < end,
                "the reader xterm never got a line; server said: {:?}",
                server.process.lines()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        ensure!(typed == text, "the xterm read {typed:?}, expected {text:?}");
        // The viewer's window shows the shared screen exactly.
        let truth = desk.xvfb.settled_screenshot(cx, Duration::from_secs(10))?;
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let shot = viewer.xvfb.window_shot(cx, &win)?;
            let got = shot.crop(0, 0, truth.width, truth.height)?;
            match truth.mismatch(&got) {
                None => break,
                Some(m) => ensure!(Instant::now() < end, "vncviewer window: {m}"),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(format!(
            "rfb-x11-server x vncviewer ZRLE: picture exact, xdotool typed {typed:?} into the shared xterm"
        ))
    });
}
