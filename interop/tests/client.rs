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
//!   `RemoteFramebuffer`, replays to Xvnc's final framebuffer exactly;
//! * remote resize: our client (`rfb_client::Viewer`) asks Xvnc for a new desktop size
//!   with SetDesktopSize, gets success and Xvnc's X display has the new size
//!   (`xdpyinfo`, `xwininfo -root`); an invalid layout, and any request to an Xvnc that
//!   prohibits resizing, get the matching error status and change nothing;
//! * monitor choice: Xvnc is made two screens side by side by our client, and
//!   `rfb-viewer --monitor N` shows exactly the right one; `rfb-viewer --remote-resize`
//!   resizes Xvnc to its window;
//! * idle timeout: a quiet Xvnc answers the probes and is kept; a frozen one (SIGSTOP)
//!   is given up on with `TimedOut`;
//! * dead keys typed on a US-international keyboard into `rfb-viewer` compose on Xvnc.
//!
//! `#[ignore]`d: run with `cargo test -p rfb-interop -- --ignored --test-threads=1` after
//! `scripts/install-deps.sh` and `cargo build --workspace --bins`.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rfb_client::{
    CodecFramer, DesktopSizeStatus, RemoteFramebuffer, Viewer, ViewerConfig, ViewerEvent,
};
use rfb_interop::harness::{peer_test, PeerTest};
use rfb_interop::image::Image;
use rfb_interop::ours::{self, OurViewer};
use rfb_interop::peers::{paint_rich_desktop, ServerAuth, Xvnc};
use rfb_interop::x11::XServer;
use rfb_proto::stream::{ServerItem, ServerStream};
use rfb_proto::{Limits, PixelFormat, Progress, Rect, Screen};

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

/// Our sans-IO `Viewer` over a blocking socket to 127.0.0.1::`port`.
struct Client {
    sock: TcpStream,
    v: Viewer,
}

impl Client {
    fn connect(port: u16) -> Result<Client> {
        Client::connect_with(port, ViewerConfig::default())
    }

    fn connect_with(port: u16, config: ViewerConfig) -> Result<Client> {
        let sock = TcpStream::connect(("127.0.0.1", port))?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        sock.set_nodelay(true)?;
        Ok(Client {
            sock,
            v: Viewer::new(config, Instant::now()),
        })
    }

    /// Moves bytes both ways until `done` holds for an event or the viewer's state
    /// (at most `timeout`); returns every event seen.
    fn pump(
        &mut self,
        timeout: Duration,
        what: &str,
        mut done: impl FnMut(&Viewer, &[ViewerEvent]) -> bool,
    ) -> Result<Vec<ViewerEvent>> {
        let end = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            while let Some(b) = self.v.poll_transmit() {
                self.sock.write_all(&b)?;
            }
            while let Some(ev) = self.v.poll_event() {
                seen.push(ev);
            }
            if done(&self.v, &seen) {
                return Ok(seen);
            }
            if let Some(e) = self.v.error() {
                bail!("{what}: the client failed: {e}");
            }
            if Instant::now() >= end {
                bail!("{what}: not seen within {timeout:?} (events: {seen:?})");
            }
            match self.sock.read(&mut buf) {
                Ok(0) => bail!("{what}: the server closed the connection"),
                Ok(n) => {
                    let _ = self.v.handle_input(&buf[..n], Instant::now());
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let _ = self.v.handle_timeout(Instant::now());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Connects and waits until the server has sent its screen layout.
    fn with_layout(port: u16) -> Result<Client> {
        let mut c = Client::connect(port)?;
        c.pump(Duration::from_secs(15), "Xvnc's screen layout", |v, _| {
            v.capabilities().extended_desktop_size && !v.screens().is_empty()
        })?;
        Ok(c)
    }

    /// Sends SetDesktopSize and waits for its answer.
    fn resize(
        &mut self,
        width: u16,
        height: u16,
        screens: Vec<Screen>,
    ) -> Result<DesktopSizeStatus> {
        let id = self.v.request_desktop_size(width, height, screens)?;
        let seen = self.pump(Duration::from_secs(15), "the SetDesktopSize answer", |_, evs| {
            evs.iter()
                .any(|e| matches!(e, ViewerEvent::DesktopSizeResult { request, .. } if *request == id))
        })?;
        seen.iter()
            .find_map(|e| match e {
                ViewerEvent::DesktopSizeResult { request, status } if *request == id => {
                    Some(*status)
                }
                _ => None,
            })
            .context("the answer")
    }
}

/// The root window size of `x` from `xdpyinfo` ("dimensions:    WxH pixels") and from
/// `xwininfo -root` ("Width: W", "Height: H"); an error if they disagree.
fn root_size(cx: &PeerTest, x: &XServer) -> Result<(u32, u32)> {
    let info = x.run_client(cx, "xdpyinfo", &[])?;
    let dims = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("dimensions:"))
        .context("xdpyinfo prints no dimensions")?;
    let wh = dims.split_whitespace().next().context("dimensions")?;
    let (w, h) = wh.split_once('x').context("WxH")?;
    let from_xdpyinfo: (u32, u32) = (w.parse()?, h.parse()?);
    let win = x.run_client(cx, "xwininfo", &["-root"])?;
    let field = |name: &str| -> Result<u32> {
        win.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .with_context(|| format!("xwininfo prints no {name}"))?
            .trim()
            .parse()
            .with_context(|| format!("xwininfo's {name}"))
    };
    let from_xwininfo = (field("Width:")?, field("Height:")?);
    ensure!(
        from_xdpyinfo == from_xwininfo,
        "xdpyinfo says {from_xdpyinfo:?}, xwininfo -root says {from_xwininfo:?}"
    );
    Ok(from_xdpyinfo)
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn our_client_resizes_xvnc() {
    peer_test("our_client_resizes_xvnc", |cx| {
        let xvnc = Xvnc::start_with(
            cx,
            SCREEN.0,
            SCREEN.1,
            &ServerAuth::None,
            DESKTOP,
            &["-AcceptSetDesktopSize=1"],
        )?;
        ensure!(
            root_size(cx, &xvnc.x)? == SCREEN,
            "Xvnc did not start at {SCREEN:?}"
        );
        let mut c = Client::with_layout(xvnc.port)?;
        let layout = c.v.single_screen_layout(1024, 600);
        let status = c.resize(1024, 600, layout)?;
        ensure!(status == DesktopSizeStatus::Success, "1024x600: {status:?}");
        ensure!(
            c.v.size() == Some((1024, 600)),
            "client size {:?}",
            c.v.size()
        );
        let size = poll(Duration::from_secs(10), "Xvnc's root at 1024x600", || {
            root_size(cx, &xvnc.x).ok().filter(|s| *s == (1024, 600))
        })?;

        // An invalid layout: the screen reaches past the framebuffer's right edge.
        let id = c.v.screens()[0].id;
        let bad = vec![Screen {
            id,
            rect: Rect::new(700, 0, 400, 600),
            flags: 0,
        }];
        let refused = c.resize(1024, 600, bad)?;
        ensure!(
            refused == DesktopSizeStatus::InvalidLayout,
            "invalid layout answered with {refused:?}"
        );
        ensure!(
            c.v.size() == Some((1024, 600)),
            "a refused request changed the client's size"
        );
        ensure!(
            root_size(cx, &xvnc.x)? == (1024, 600),
            "a refused request changed Xvnc's size"
        );

        // An Xvnc that does not accept SetDesktopSize (the harness default).
        let locked = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        let mut c2 = Client::with_layout(locked.port)?;
        let layout = c2.v.single_screen_layout(640, 480);
        let prohibited = c2.resize(640, 480, layout)?;
        ensure!(
            prohibited == DesktopSizeStatus::Prohibited,
            "-AcceptSetDesktopSize=0 answered with {prohibited:?}"
        );
        ensure!(
            root_size(cx, &locked.x)? == SCREEN,
            "a prohibited request changed Xvnc's size"
        );
        Ok(format!(
            "Xvnc × our client × SetDesktopSize -> pass (1024x600: success, root now {}x{}; invalid layout: {refused}; -AcceptSetDesktopSize=0: {prohibited})",
            size.0, size.1
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_shows_one_monitor_of_two() {
    peer_test("rfb_viewer_shows_one_monitor_of_two", |cx| {
        const HALF: (u16, u16) = (800, 600);
        let xvnc = Xvnc::start_with(
            cx,
            u32::from(HALF.0),
            u32::from(HALF.1),
            &ServerAuth::None,
            DESKTOP,
            &["-AcceptSetDesktopSize=1"],
        )?;
        // Our client makes Xvnc two screens side by side.
        let mut c = Client::with_layout(xvnc.port)?;
        let first = c.v.screens()[0];
        let two = vec![
            Screen {
                rect: Rect::new(0, 0, HALF.0, HALF.1),
                ..first
            },
            Screen {
                id: first.id.wrapping_add(1),
                rect: Rect::new(HALF.0, 0, HALF.0, HALF.1),
                flags: 0,
            },
        ];
        let status = c.resize(2 * HALF.0, HALF.1, two)?;
        ensure!(
            status == DesktopSizeStatus::Success,
            "two screens: {status:?}"
        );
        drop(c);
        let (w, h) = poll(Duration::from_secs(10), "Xvnc's root at 1600x600", || {
            root_size(cx, &xvnc.x)
                .ok()
                .filter(|s| *s == (2 * u32::from(HALF.0), u32::from(HALF.1)))
        })?;
        // The layout as Xvnc reports it to a new client: which entry is the right half.
        let fresh = Client::with_layout(xvnc.port)?;
        let screens = fresh.v.screens().to_vec();
        drop(fresh);
        ensure!(screens.len() == 2, "Xvnc reports the layout {screens:?}");
        let right = screens
            .iter()
            .position(|s| s.rect == Rect::new(HALF.0, 0, HALF.0, HALF.1))
            .with_context(|| format!("no right-hand screen in {screens:?}"))?;

        // A desktop whose halves differ: the rich desktop (photo at the left), and the
        // photo again inside the right half, at another offset.
        let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
        let mut f = xvnc.x.command("feh");
        f.args([
            "--title",
            "rfb-photo-right",
            "--geometry",
            &format!("{}x{}+{}+150", PHOTO.0, PHOTO.1, HALF.0 + 200),
            "--no-menus",
        ])
        .arg(cx.path("photo.png"));
        let _feh2 = cx.spawn("feh-right", f, false)?;
        poll(Duration::from_secs(15), "the second photo window", || {
            x_output(cx, &xvnc.x, "xwininfo", &["-root", "-tree"])
                .filter(|t| t.contains("\"rfb-photo-right\""))
        })?;
        let truth = xvnc.x.settled_screenshot(cx, Duration::from_secs(10))?;
        let (hw, hh) = (usize::from(HALF.0), usize::from(HALF.1));
        let left_half = truth.crop(0, 0, hw, hh)?;
        let right_half = truth.crop(hw, 0, hw, hh)?;
        ensure!(left_half != right_half, "the two halves look the same");

        let monitor = (right + 1).to_string();
        let mut viewer = OurViewer::start(cx, xvnc.port, &["--view-only", "--monitor", &monitor])?;
        let shot = viewer.capture_stable(cx, hw, hh, Duration::from_secs(30))?;
        ensure!(
            (shot.width, shot.height) == (hw, hh),
            "the window is {}x{}, not the screen's {hw}x{hh}",
            shot.width,
            shot.height
        );
        exact("rfb-viewer --monitor (right half)", &right_half, &shot)?;
        drop(viewer);
        drop(desk);
        Ok(format!(
            "Xvnc (made {w}x{h}, two screens, by our client) × rfb-viewer --monitor {monitor} -> pass (window shows exactly the right-hand {hw}x{hh} screen)"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_remote_resize_follows_the_window() {
    peer_test("rfb_viewer_remote_resize_follows_the_window", |cx| {
        let xvnc = Xvnc::start_with(
            cx,
            SCREEN.0,
            SCREEN.1,
            &ServerAuth::None,
            DESKTOP,
            &["-AcceptSetDesktopSize=1"],
        )?;
        let mut viewer = OurViewer::start(cx, xvnc.port, &["--view-only", "--remote-resize"])?;
        viewer.capture_stable(
            cx,
            SCREEN.0 as usize,
            SCREEN.1 as usize,
            Duration::from_secs(30),
        )?;
        // The window already had the desktop's size: nothing was asked for.
        ensure!(
            root_size(cx, &xvnc.x)? == SCREEN,
            "Xvnc was resized unasked"
        );
        let win = viewer.window(cx, Duration::from_secs(5))?;
        let target = (640u32, 480u32);
        viewer.xvfb.run_client(
            cx,
            "xdotool",
            &[
                "windowsize",
                &win,
                &target.0.to_string(),
                &target.1.to_string(),
            ],
        )?;
        let size = poll(
            Duration::from_secs(15),
            "Xvnc's root at the window size",
            || root_size(cx, &xvnc.x).ok().filter(|s| *s == target),
        )
        .with_context(|| format!("Xvnc's root is {:?}", root_size(cx, &xvnc.x).ok()))?;
        // And the window shows the resized desktop exactly.
        let desk = paint_rich_desktop(cx, &xvnc.x, PHOTO.0, PHOTO.1)?;
        let (w, h) = (target.0 as usize, target.1 as usize);
        let shot = viewer.capture_stable(cx, w, h, Duration::from_secs(30))?;
        exact(
            "rfb-viewer after the remote resize",
            &desk.truth,
            &shot.crop(0, 0, w, h)?,
        )?;
        drop(viewer);
        drop(desk);
        Ok(format!(
            "Xvnc × rfb-viewer --remote-resize -> pass (window resized to {}x{}; Xvnc's root followed and the window shows it exactly)",
            size.0, size.1
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn rfb_viewer_dead_keys_compose_on_xvnc() {
    peer_test("rfb_viewer_dead_keys_compose_on_xvnc", |cx| {
        let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
        // The viewer's display has a layout with dead keys (US international: ' is
        // dead_acute, " dead_diaeresis, ` dead_grave, ^ dead_circumflex), and a UTF-8
        // locale, so winit composes locally and the viewer must undo it.
        let xvfb = XServer::xvfb(cx, 1024, 768, true)?;
        xvfb.run_client(cx, "setxkbmap", &["us", "-variant", "intl"])?;
        let _ = xvfb.run_client(cx, "xdotool", &["mousemove", "1023", "767"]);
        let home = cx.path("rfb-viewer-home");
        fs::create_dir_all(&home)?;
        let mut c = xvfb.command(ours::our_bin("rfb-viewer")?.to_str().context("path")?);
        c.env("HOME", &home)
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("WAYLAND_DISPLAY");
        c.arg(format!("127.0.0.1::{}", xvnc.port))
            .args(["--scale", "actual"]);
        let process = cx.spawn("rfb-viewer", c, false)?;
        let mut viewer = OurViewer {
            viewer: process,
            xvfb,
        };
        viewer.capture_stable(
            cx,
            SCREEN.0 as usize,
            SCREEN.1 as usize,
            Duration::from_secs(30),
        )?;
        let win = viewer.window(cx, Duration::from_secs(5))?;
        // Xvnc adds a keysym its keymap lacks when it first receives it, and an X client
        // learns the new mapping only from the MappingNotify that follows the key
        // event: press each dead key once before the xterm exists.
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        for k in [
            "dead_acute",
            "dead_diaeresis",
            "dead_grave",
            "dead_circumflex",
        ] {
            viewer
                .xvfb
                .run_client(cx, "xdotool", &["key", k, "space"])?;
        }
        thread::sleep(Duration::from_millis(300));
        // An xterm (UTF-8, so Xlib's Compose table composes the dead keys) that writes
        // the first line it reads to a file.
        let typed = cx.path("typed.txt");
        let script = format!(
            "IFS= read -r line; printf '%s' \"$line\" > '{}'; sleep 60",
            typed.display()
        );
        let mut c = xvnc.x.command("xterm");
        c.env("LANG", "C.UTF-8").env("LC_ALL", "C.UTF-8");
        c.args([
            "-u8",
            "-fn",
            "fixed",
            "-geometry",
            "40x5+0+0",
            "-title",
            "rfb-dead",
            "-e",
            "sh",
            "-c",
        ])
        .arg(&script);
        let _xterm = cx.spawn("xterm", c, false)?;
        poll(Duration::from_secs(15), "the xterm window", || {
            x_output(cx, &xvnc.x, "xdotool", &["search", "--name", "rfb-dead"])
                .filter(|o| !o.trim().is_empty())
        })?;

        viewer
            .xvfb
            .run_client(cx, "xdotool", &["mousemove", "--window", &win, "40", "20"])?;
        poll(
            Duration::from_secs(10),
            "Xvnc's pointer over the xterm",
            || pointer_at(cx, &xvnc.x).filter(|&p| p == (40, 20)),
        )?;
        viewer
            .xvfb
            .run_client(cx, "xdotool", &["windowfocus", "--sync", &win])?;
        let keys = [
            "dead_acute",
            "e",
            "dead_diaeresis",
            "u",
            "dead_grave",
            "a",
            "dead_circumflex",
            "A",
            "dead_acute",
            "space",
            "Return",
        ];
        for k in keys {
            viewer
                .xvfb
                .run_client(cx, "xdotool", &["key", "--delay", "60", k])?;
        }
        let want = "éüàÂ'";
        let got = poll(
            Duration::from_secs(10),
            "the composed line in the xterm",
            || fs::read_to_string(&typed).ok(),
        )?;
        ensure!(got == want, "the xterm read {got:?}, expected {want:?}");
        Ok(format!(
            "Xvnc × rfb-viewer × dead keys -> pass (dead_acute e, dead_diaeresis u, dead_grave a, dead_circumflex A, dead_acute space composed to {want:?} on Xvnc)"
        ))
    });
}

#[test]
#[ignore = "real peers: needs scripts/install-deps.sh and cargo build --workspace --bins"]
fn our_client_idle_timeout_keeps_a_quiet_xvnc_and_drops_a_frozen_one() {
    peer_test(
        "our_client_idle_timeout_keeps_a_quiet_xvnc_and_drops_a_frozen_one",
        |cx| {
            let xvnc = Xvnc::start(cx, SCREEN.0, SCREEN.1, &ServerAuth::None, DESKTOP)?;
            let n = Duration::from_millis(400);
            let config = ViewerConfig {
                idle_timeout: Some(n),
                ..Default::default()
            };
            let mut c = Client::connect_with(xvnc.port, config)?;
            c.pump(Duration::from_secs(15), "the first update", |_, evs| {
                evs.iter().any(|e| matches!(e, ViewerEvent::Updated { .. }))
            })?;
            // A quiet screen for ten periods: the probes are answered, nothing fails.
            let quiet = Instant::now() + 10 * n;
            c.pump(15 * n, "ten quiet periods", |_, _| Instant::now() >= quiet)?;
            // Freeze Xvnc: nothing answers any more.
            let pid = xvnc.x.process.pid().to_string();
            let stop = Command::new("kill").args(["-STOP", &pid]).status()?;
            ensure!(stop.success(), "kill -STOP {pid} failed");
            let frozen = Instant::now();
            let r = c.pump(Duration::from_secs(10), "the timeout", |v, _| {
                v.error().is_some()
            });
            let took = frozen.elapsed();
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
            let err = match (r, c.v.error()) {
                (_, Some(e)) => e.clone(),
                (Err(e), None) => return Err(e),
                (Ok(_), None) => bail!("no error"),
            };
            ensure!(
                matches!(err, rfb_client::ClientError::TimedOut { .. }),
                "the frozen server gave {err:?}"
            );
            ensure!(
                took <= 2 * n + Duration::from_millis(500),
                "given up after {took:?}, more than 2 x {n:?}"
            );
            Ok(format!(
                "Xvnc × our client × idle timeout {n:?} -> pass (quiet for {:?} with probes answered; frozen with SIGSTOP: {err} after {took:?})",
                10 * n
            ))
        },
    );
}
