//! The real third-party peers: TigerVNC's Xvnc server and vncviewer, and vncsnapshot.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::harness::PeerTest;
use crate::image::Image;
use crate::net;
use crate::process::{Finished, Spawned};
use crate::x11::XServer;

/// Where the harness's C helpers are built: `target/peers-build/` (next to the profile
/// directories), found from the running test executable.
pub fn peers_build_dir() -> PathBuf {
    // The test executable is target/<profile>/deps/NAME-HASH.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            return target.join("peers-build");
        }
    }
    repo_root().join("target").join("peers-build")
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Compiles `scripts/peers/src/SRC` into `target/peers-build/OUT` with gcc (extra `flags`,
/// and `pkg-config --cflags --libs PKG` for each of `pkgs`) unless it is there and newer
/// than its source. `scripts/install-deps.sh` builds the same files.
pub fn build_helper(out: &str, src: &str, flags: &[&str], pkgs: &[&str]) -> Result<PathBuf> {
    let src = repo_root().join("scripts/peers/src").join(src);
    let dir = peers_build_dir();
    let out = dir.join(out);
    let fresh = match (
        fs::metadata(&out).and_then(|m| m.modified()),
        fs::metadata(&src).and_then(|m| m.modified()),
    ) {
        (Ok(o), Ok(s)) => o >= s,
        (Ok(_), Err(_)) => true,
        _ => false,
    };
    if fresh {
        return Ok(out);
    }
    let mut pkg_flags = Vec::new();
    for pkg in pkgs {
        let o = Command::new("pkg-config")
            .args(["--cflags", "--libs", pkg])
            .output()
            .context("running pkg-config (scripts/install-deps.sh installs it)")?;
        ensure!(
            o.status.success(),
            "pkg-config {pkg} failed: is its -dev package installed?"
        );
        pkg_flags.extend(
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_owned),
        );
    }
    fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(
        ".{}.{}",
        out.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let st = Command::new("gcc")
        .args(["-O2", "-Wall"])
        .args(flags)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .args(&pkg_flags)
        .status()
        .context("running gcc (scripts/install-deps.sh installs it)")?;
    ensure!(st.success(), "gcc failed to build {} ({st})", src.display());
    fs::rename(&tmp, &out)?;
    Ok(out)
}

/// The LD_PRELOAD shim that captures the exact pixels vncsnapshot hands to libjpeg
/// (`scripts/peers/src/jpegshim.c`), compiled if missing or stale.
pub fn jpegshim() -> Result<PathBuf> {
    build_helper(
        "jpegshim.so",
        "jpegshim.c",
        &["-shared", "-fPIC", "-ldl"],
        &[],
    )
}

/// The LibVNCClient harness client (`scripts/peers/src/lvc_client.c`), compiled if
/// missing or stale.
pub fn lvc_client() -> Result<PathBuf> {
    build_helper("lvc_client", "lvc_client.c", &[], &["libvncclient"])
}

/// Writes a classic obfuscated VNC password file for `password` with `tigervncpasswd -f`
/// (what Xvnc's -rfbauth, vncviewer's -passwd and vncsnapshot's -passwd read).
pub fn vnc_password_file(cx: &PeerTest, password: &str) -> Result<PathBuf> {
    let r = cx.run_with_input(
        "tigervncpasswd",
        {
            let mut c = Command::new("tigervncpasswd");
            c.arg("-f");
            c
        },
        Duration::from_secs(10),
        Some(format!("{password}\n").as_bytes()),
    )?;
    let data = fs::read(&r.stdout_log)?;
    ensure!(
        r.code() == Some(0) && data.len() == 8,
        "tigervncpasswd -f failed ({}): {}",
        r.describe(),
        r.stderr.trim()
    );
    let path = cx.path(&cx.unique("vncpasswd"));
    fs::write(&path, data)?;
    Ok(path)
}

/// Writes `password` as a plain-text file (first line), as our binaries read it.
pub fn plain_password_file(cx: &PeerTest, password: &str) -> Result<PathBuf> {
    let path = cx.path(&cx.unique("password.txt"));
    fs::write(&path, format!("{password}\n"))?;
    Ok(path)
}

/// How a server authenticates viewers.
#[derive(Clone, Debug)]
pub enum ServerAuth {
    /// Security type None.
    None,
    /// VNC Authentication with this obfuscated password file (see [`vnc_password_file`]).
    VncAuth(PathBuf),
}

/// TigerVNC's Xvnc: an X server that is also a VNC server, on 127.0.0.1 only.
#[derive(Debug)]
pub struct Xvnc {
    /// The X server (display and process).
    pub x: XServer,
    /// The RFB port it listens on.
    pub port: u16,
}

impl Xvnc {
    /// Starts `Xvnc :N -geometry WxH -depth 24 -rfbport P -interface 127.0.0.1 ...` with the
    /// given security and desktop name, and waits until the RFB port listens.
    pub fn start(
        cx: &PeerTest,
        width: u32,
        height: u32,
        auth: &ServerAuth,
        desktop: &str,
    ) -> Result<Xvnc> {
        Xvnc::start_with(cx, width, height, auth, desktop, &[])
    }

    /// Like [`Xvnc::start`], with `extra` arguments after the others (a later
    /// `-Param=value` overrides an earlier one, e.g. `-SendCutText=1`).
    pub fn start_with(
        cx: &PeerTest,
        width: u32,
        height: u32,
        auth: &ServerAuth,
        desktop: &str,
        extra: &[&str],
    ) -> Result<Xvnc> {
        let port = net::free_port()?;
        let x = XServer::start(cx, "Xvnc", |d| {
            let mut a: Vec<String> = vec![
                d.into(),
                "-geometry".into(),
                format!("{width}x{height}"),
                "-depth".into(),
                "24".into(),
                "-rfbport".into(),
                port.to_string(),
                "-interface".into(),
                "127.0.0.1".into(),
                "-nolisten".into(),
                "tcp".into(),
                "-noreset".into(),
                "-desktop".into(),
                desktop.into(),
                "-AlwaysShared".into(),
                "-AcceptSetDesktopSize=0".into(),
                "-AcceptCutText=0".into(),
                "-SendCutText=0".into(),
                "-Log".into(),
                "*:stderr:30".into(),
                "-SecurityTypes".into(),
            ];
            match auth {
                ServerAuth::None => a.push("None".into()),
                ServerAuth::VncAuth(f) => {
                    a.push("VncAuth".into());
                    a.push("-rfbauth".into());
                    a.push(f.display().to_string());
                }
            }
            a.extend(extra.iter().map(|e| e.to_string()));
            a
        })?;
        let mut x = x;
        net::wait_listening(port, &mut x.process, Duration::from_secs(10))?;
        Ok(Xvnc { x, port })
    }

    /// Paints a deterministic, non-uniform desktop (xsetroot's 16x16 plaid in two colours)
    /// with an invisible root cursor, and returns the screen once it has settled.
    pub fn paint_test_desktop(&self, cx: &PeerTest) -> Result<Image> {
        let blank = cx.path("blank.xbm");
        let zeros = vec!["0x00"; 32].join(",");
        fs::write(
            &blank,
            format!("#define b_width 16\n#define b_height 16\nstatic unsigned char b_bits[] = {{\n{zeros}}};\n"),
        )?;
        let b = blank.display().to_string();
        self.x.run_client(
            cx,
            "xsetroot",
            &[
                "-mod", "16", "16", "-fg", "#ff8000", "-bg", "#204060", "-cursor", &b, &b,
            ],
        )?;
        let shot = self.x.settled_screenshot(cx, Duration::from_secs(10))?;
        ensure!(!shot.is_uniform(), "xsetroot -mod left a uniform screen");
        Ok(shot)
    }
}

/// What a vncsnapshot run produced.
#[derive(Debug)]
pub struct Snapshot {
    /// The vncsnapshot process's outcome.
    pub run: Finished,
    /// The exact framebuffer it decoded (from the libjpeg shim), if it got that far.
    pub image: Option<Image>,
}

/// Runs vncsnapshot 1.2a (an RFB 3.3 client) against 127.0.0.1:`port` (display = port - 5900),
/// asking for `encodings` (e.g. "raw", "hextile"), with an optional obfuscated password file.
/// The exact pixels come from the libjpeg shim (vncsnapshot itself only writes JPEG).
pub fn vncsnapshot(
    cx: &PeerTest,
    port: u16,
    password_file: Option<&Path>,
    encodings: &str,
) -> Result<Snapshot> {
    ensure!(port >= 5900, "vncsnapshot can only reach ports >= 5900");
    let shim = jpegshim()?;
    let tag = cx.unique("vncsnapshot");
    let ppm = cx.path(&format!("{tag}.ppm"));
    let mut c = Command::new("vncsnapshot");
    c.args(["-quiet", "-allowblank", "-nojpeg", "-encodings", encodings]);
    if let Some(f) = password_file {
        c.arg("-passwd").arg(f);
    }
    c.arg(format!("127.0.0.1:{}", port - 5900));
    c.arg(cx.path(&format!("{tag}.jpg")));
    c.env("LD_PRELOAD", &shim)
        .env("JPEGSHIM_PPM", &ppm)
        .env_remove("DISPLAY");
    let run = cx.run("vncsnapshot", c, Duration::from_secs(30))?;
    let image = if run.code() == Some(0) && ppm.exists() {
        Some(Image::read_ppm(&ppm)?)
    } else {
        None
    };
    Ok(Snapshot { run, image })
}

/// Runs the LibVNCClient harness client against 127.0.0.1:`port`, asking for exactly
/// `encodings`, with an optional password (given in plain text on its command line); it
/// writes the framebuffer once every pixel has been received.
pub fn libvncclient(
    cx: &PeerTest,
    port: u16,
    password: Option<&str>,
    encodings: &str,
) -> Result<Snapshot> {
    libvncclient_with(cx, port, password, encodings, &[])
}

/// Like [`libvncclient`], with more harness options (e.g. `["--jpeg", "--quality", "8"]`).
pub fn libvncclient_with(
    cx: &PeerTest,
    port: u16,
    password: Option<&str>,
    encodings: &str,
    extra: &[&str],
) -> Result<Snapshot> {
    let bin = lvc_client()?;
    let ppm = cx.path(&format!("{}.ppm", cx.unique("lvc")));
    let mut c = Command::new(bin);
    c.arg("127.0.0.1").arg(port.to_string()).arg(&ppm);
    c.args([
        "--encodings",
        encodings,
        "--seconds",
        "20",
        "--settle",
        "300",
    ]);
    if let Some(p) = password {
        c.args(["--password", p]);
    }
    c.args(extra);
    c.env_remove("DISPLAY");
    let run = cx.run("lvc_client", c, Duration::from_secs(30))?;
    let image = if run.code() == Some(0) && ppm.exists() {
        Some(Image::read_ppm(&ppm)?)
    } else {
        None
    };
    Ok(Snapshot { run, image })
}

/// x11vnc (a LibVNCServer-based server) sharing a private Xvfb, on 127.0.0.1 only.
/// Fields drop in order: x11vnc first, then its X server.
#[derive(Debug)]
pub struct X11vnc {
    /// The x11vnc process.
    pub x11vnc: Spawned,
    /// The Xvfb it shares.
    pub xvfb: XServer,
    /// The RFB port it listens on.
    pub port: u16,
}

impl X11vnc {
    /// Starts Xvfb (`width`x`height`x24) and x11vnc on it with the given security and
    /// desktop name, and waits until the RFB port listens.
    pub fn start(
        cx: &PeerTest,
        width: u32,
        height: u32,
        auth: &ServerAuth,
        desktop: &str,
    ) -> Result<X11vnc> {
        let xvfb = XServer::xvfb(cx, width, height, false)?;
        let port = net::free_port()?;
        let mut c = Command::new("x11vnc");
        c.args([
            "-display",
            &xvfb.name(),
            "-rfbport",
            &port.to_string(),
            "-listen",
            "127.0.0.1",
        ]);
        c.args([
            "-noipv6",
            "-forever",
            "-shared",
            "-nocursor",
            "-nocursorshape",
            "-nocursorpos",
            "-nosel",
        ]);
        c.args([
            "-noxrecord",
            "-noxdamage",
            "-nowf",
            "-noscr",
            "-desktop",
            desktop,
        ]);
        match auth {
            ServerAuth::None => {
                c.arg("-nopw");
            }
            ServerAuth::VncAuth(f) => {
                c.arg("-rfbauth").arg(f);
            }
        }
        c.env("HOME", cx.dir()).env_remove("DISPLAY");
        let mut x11vnc = cx.spawn("x11vnc", c, false)?;
        net::wait_listening(port, &mut x11vnc, Duration::from_secs(40))?;
        Ok(X11vnc { x11vnc, xvfb, port })
    }
}

/// TigerVNC's vncviewer in a private Xvfb, connected to 127.0.0.1::`port`.
/// Fields drop in order: the viewer first, then its X server.
#[derive(Debug)]
pub struct Viewer {
    /// The vncviewer process.
    pub viewer: Spawned,
    /// The Xvfb it shows its window on.
    pub xvfb: XServer,
}

/// Starts Xvfb (1024x768x24, the pointer parked in its corner) and TigerVNC's vncviewer
/// on it, connecting to 127.0.0.1::`port`: shared, full colour, `encoding` preferred
/// (automatic selection off), no F8 menu key, no remote resize, no dialogs, no clipboard,
/// logging to stderr; then the parameters in `extra` (a later `-Name=value` overrides an
/// earlier one). Returns the viewer and its X server (drop the viewer first).
pub fn start_vncviewer(
    cx: &PeerTest,
    port: u16,
    encoding: &str,
    extra: &[String],
) -> Result<(Spawned, XServer)> {
    let xvfb = XServer::xvfb(cx, 1024, 768, true)?;
    let _ = xvfb.run_client(cx, "xdotool", &["mousemove", "1023", "767"]);
    let home = cx.path(&cx.unique("vncviewer-home"));
    fs::create_dir_all(&home)?;
    let mut c = xvfb.command("vncviewer");
    c.env("HOME", &home);
    c.args([
        "-Shared",
        "-RemoteResize=0",
        "-ReconnectOnError=0",
        "-AlertOnFatalError=0",
        "-FullScreen=0",
        "-MenuKey=",
        "-DotWhenNoCursor=0",
        "-AcceptClipboard=0",
        "-SendClipboard=0",
        "-SendPrimary=0",
        "-AutoSelect=0",
        "-FullColor",
        "-PreferredEncoding",
        encoding,
        "-Log",
        "*:stderr:30",
    ]);
    c.args(extra);
    c.arg(format!("127.0.0.1::{port}"));
    let viewer = cx.spawn("vncviewer", c, false)?;
    Ok((viewer, xvfb))
}

impl Viewer {
    /// Starts Xvfb (1024x768, 24 bit) and vncviewer on it: view-only, shared, full colour,
    /// Raw preferred, no F8 menu key, no remote resize, no dialogs, no clipboard; with an
    /// optional obfuscated password file. The pointer is parked in the screen's corner.
    pub fn start(cx: &PeerTest, port: u16, password_file: Option<&Path>) -> Result<Viewer> {
        Viewer::start_with(cx, port, password_file, "Raw")
    }

    /// Like [`Viewer::start`], with `encoding` (vncviewer's name: Raw, Hextile, ZRLE, Tight)
    /// as the preferred encoding (first in its SetEncodings list; automatic selection off).
    pub fn start_with(
        cx: &PeerTest,
        port: u16,
        password_file: Option<&Path>,
        encoding: &str,
    ) -> Result<Viewer> {
        Viewer::start_full(cx, port, password_file, encoding, None)
    }

    /// Like [`Viewer::start_with`], with JPEG allowed at `quality` (0–9: vncviewer's
    /// `-QualityLevel`) instead of `-NoJPEG`.
    pub fn start_jpeg(cx: &PeerTest, port: u16, encoding: &str, quality: u8) -> Result<Viewer> {
        Viewer::start_full(cx, port, None, encoding, Some(quality))
    }

    fn start_full(
        cx: &PeerTest,
        port: u16,
        password_file: Option<&Path>,
        encoding: &str,
        jpeg_quality: Option<u8>,
    ) -> Result<Viewer> {
        let mut extra = vec!["-ViewOnly".to_owned()];
        match jpeg_quality {
            None => extra.push("-NoJPEG".to_owned()),
            Some(q) => extra.extend(["-QualityLevel".to_owned(), q.to_string()]),
        }
        if let Some(f) = password_file {
            extra.extend(["-passwd".to_owned(), f.display().to_string()]);
        }
        let (viewer, xvfb) = start_vncviewer(cx, port, encoding, &extra)?;
        Ok(Viewer { viewer, xvfb })
    }

    /// Waits (at most `timeout`) for the viewer's window and returns its contents once three
    /// captures 500 ms apart are identical and the window has been up for 1.5 s.
    pub fn capture_stable(&mut self, cx: &PeerTest, timeout: Duration) -> Result<Image> {
        let end = Instant::now() + timeout;
        let mut window: Option<(String, Instant)> = None;
        let mut prev: Option<Image> = None;
        let mut same = 0;
        while Instant::now() < end {
            thread::sleep(Duration::from_millis(500));
            if !self.viewer.is_running() {
                bail!(
                    "vncviewer exited ({}) before showing a stable picture",
                    self.viewer.status_text()
                );
            }
            let (win, since) = match &window {
                Some(w) => w.clone(),
                None => {
                    let out = self
                        .xvfb
                        .run_client(
                            cx,
                            "xdotool",
                            &["search", "--onlyvisible", "--class", "TigerVNC"],
                        )
                        .unwrap_or_default();
                    match out.lines().last() {
                        Some(id) if !id.trim().is_empty() => {
                            window = Some((id.trim().to_owned(), Instant::now()));
                            continue;
                        }
                        _ => continue,
                    }
                }
            };
            let Ok(img) = self.xvfb.window_shot(cx, &win) else {
                window = None;
                continue;
            };
            if prev.as_ref() == Some(&img) {
                same += 1;
            } else {
                same = 0;
            }
            prev = Some(img);
            if same >= 2 && since.elapsed() >= Duration::from_millis(1500) {
                if let Some(img) = prev {
                    return Ok(img);
                }
            }
        }
        if window.is_none() {
            bail!("vncviewer window never appeared within {timeout:?}");
        }
        bail!("vncviewer picture never became stable within {timeout:?}")
    }
}

/// TightVNC 1.3's Xtightvnc: an X server that is also a VNC server, on 127.0.0.1 only.
#[derive(Debug)]
pub struct Xtightvnc {
    /// The X server (display and process).
    pub x: XServer,
    /// The RFB port it listens on.
    pub port: u16,
}

impl Xtightvnc {
    /// Starts `Xtightvnc :N -geometry WxH -depth 24 -pixelformat rgb888 -rfbport P
    /// -interface 127.0.0.1 ...` (security None) and waits until the RFB port listens.
    pub fn start(cx: &PeerTest, width: u32, height: u32, desktop: &str) -> Result<Xtightvnc> {
        let port = net::free_port()?;
        let mut x = XServer::start(cx, "Xtightvnc", |d| {
            let mut a: Vec<String> =
                vec![d.into(), "-geometry".into(), format!("{width}x{height}")];
            a.extend(
                [
                    "-depth",
                    "24",
                    "-pixelformat",
                    "rgb888",
                    "-rfbport",
                    &port.to_string(),
                    "-interface",
                    "127.0.0.1",
                    "-localhost",
                    "-nolisten",
                    "tcp",
                    "-alwaysshared",
                    "-desktop",
                    desktop,
                ]
                .map(String::from),
            );
            a
        })?;
        net::wait_listening(port, &mut x.process, Duration::from_secs(10))?;
        Ok(Xtightvnc { x, port })
    }
}

/// A deterministic, full-colour desktop on an X server (see [`paint_rich_desktop`]); the
/// image viewer showing the photo is stopped when this drops (drop it before the server).
#[derive(Debug)]
pub struct RichDesktop {
    /// The exact screen once painted (`xwd -root`).
    pub truth: Image,
    /// The image viewer process (feh).
    pub feh: Spawned,
}

/// Paints a desktop that exercises every sub-encoding: xsetroot's 16x16 plaid in two
/// colours with an invisible root cursor, and the harness's synthetic full-colour photo
/// (`scripts/peers/img.py photo`, `photo_w`x`photo_h`) shown by feh at (24, 24), no window
/// manager. Parks the pointer in the bottom-right corner (over the root window, so the
/// blank cursor is the one shown; xdotool fails harmlessly on servers without XKB), and
/// returns the screen once the photo is up and two screenshots agree.
pub fn paint_rich_desktop(
    cx: &PeerTest,
    x: &XServer,
    photo_w: u32,
    photo_h: u32,
) -> Result<RichDesktop> {
    let blank = cx.path("blank.xbm");
    let zeros = vec!["0x00"; 32].join(",");
    fs::write(
        &blank,
        format!("#define b_width 16\n#define b_height 16\nstatic unsigned char b_bits[] = {{\n{zeros}}};\n"),
    )?;
    let b = blank.display().to_string();
    x.run_client(
        cx,
        "xsetroot",
        &[
            "-mod", "16", "16", "-fg", "#ff8000", "-bg", "#204060", "-cursor", &b, &b,
        ],
    )?;
    let photo = cx.path("photo.png");
    // Debian's python3 has PIL and numpy (install-deps.sh); a python3 earlier on PATH
    // (pyenv, venvs) may not.
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut c = Command::new(python);
    c.arg(repo_root().join("scripts/peers/img.py"))
        .arg("photo")
        .arg(&photo)
        .args([photo_w.to_string(), photo_h.to_string()]);
    let r = cx.run("img.py-photo", c, Duration::from_secs(30))?;
    ensure!(
        r.code() == Some(0),
        "img.py photo failed ({}): {}",
        r.describe(),
        r.stderr.trim()
    );
    let mut c = x.command("feh");
    c.args([
        "--title",
        "rfb-photo",
        "--geometry",
        &format!("{photo_w}x{photo_h}+24+24"),
        "--no-menus",
    ])
    .arg(&photo);
    let feh = cx.spawn("feh", c, false)?;
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let tree = x
            .run_client(cx, "xwininfo", &["-root", "-tree"])
            .unwrap_or_default();
        if tree.contains("\"rfb-photo\"") {
            break;
        }
        ensure!(Instant::now() < end, "feh's window never appeared");
        thread::sleep(Duration::from_millis(200));
    }
    let (w, h) = {
        let shot = x.screenshot(cx)?;
        (shot.width, shot.height)
    };
    let mut c = x.command("xdotool");
    c.args(["mousemove", &(w - 1).to_string(), &(h - 1).to_string()]);
    let _ = cx.run_unlogged("xdotool-park", c, Duration::from_secs(5));
    thread::sleep(Duration::from_millis(300));
    let truth = x.settled_screenshot(cx, Duration::from_secs(10))?;
    ensure!(!truth.is_uniform(), "the painted desktop is uniform");
    Ok(RichDesktop { truth, feh })
}
