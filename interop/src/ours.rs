//! Our side: the `rfb-probe`, `rfb-snapshot` and `rfb-viewer` clients and the
//! `rfb-handshake-server` binary of the examples crate, found next to the test executable
//! (build them with `cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::harness::PeerTest;
use crate::image::Image;
use crate::net;
use crate::process::{Finished, Spawned};

/// The directory holding our binaries: `$RFB_BIN_DIR`, or `target/<profile>/` (the parent of
/// the `deps/` directory holding the running test executable).
pub fn bin_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("RFB_BIN_DIR") {
        return Ok(PathBuf::from(d));
    }
    let exe = std::env::current_exe().context("locating the test executable")?;
    let deps = exe
        .parent()
        .context("test executable has no parent directory")?;
    let profile = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    Ok(profile.to_path_buf())
}

/// The path of our binary `name`; an error saying how to build it if it is missing.
pub fn our_bin(name: &str) -> Result<PathBuf> {
    let p = bin_dir()?.join(name);
    if !p.is_file() {
        bail!(
            "{} not found: build our binaries first with `cargo build --workspace --bins`",
            p.display()
        );
    }
    Ok(p)
}

/// Splits `word key=value key="quoted value" ...` into its first word and the fields.
///
/// ```
/// let (head, f) = rfb_interop::ours::parse_fields(r#"ok version=3.8 name="my desk" w=1"#);
/// assert_eq!(head, "ok");
/// assert_eq!(f["name"], "my desk");
/// assert_eq!(f["version"], "3.8");
/// ```
pub fn parse_fields(line: &str) -> (String, BTreeMap<String, String>) {
    let mut fields = BTreeMap::new();
    let line = line.trim();
    let (head, mut rest) = line.split_once(' ').unwrap_or((line, ""));
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].to_owned();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            // a quoted value ends at the last quote before the next ` key=` (names may hold quotes)
            let end = q.rfind('"').unwrap_or(q.len());
            (q[..end].to_owned(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        fields.insert(key, value);
        rest = next;
    }
    (head.to_owned(), fields)
}

/// What one `rfb-probe` run did.
#[derive(Debug)]
pub struct ProbeOutcome {
    /// The process outcome (exit 0 ok, 1 refused, 2 other error).
    pub run: Finished,
    /// Its result line: the first stdout line starting with `ok `, `refused:` or `error:`.
    pub line: String,
}

/// Runs `rfb-probe ADDR [extra...] --timeout 10` (at most 30 s).
pub fn probe(cx: &PeerTest, addr: &str, extra: &[&str]) -> Result<ProbeOutcome> {
    let mut c = Command::new(our_bin("rfb-probe")?);
    c.arg(addr).args(extra).args(["--timeout", "10"]);
    let run = cx.run("rfb-probe", c, Duration::from_secs(30))?;
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("ok ") || l.starts_with("refused:") || l.starts_with("error:"))
        .unwrap_or("")
        .to_owned();
    Ok(ProbeOutcome { run, line })
}

/// Options of [`OurServer::start`].
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Framebuffer width.
    pub width: u32,
    /// Framebuffer height.
    pub height: u32,
    /// Desktop name.
    pub name: String,
    /// VNC password (None: security type None).
    pub password: Option<String>,
    /// Exit after the first connection ends (`--once`).
    pub once: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            width: 320,
            height: 240,
            name: "rfb-interop".into(),
            password: None,
            once: true,
        }
    }
}

/// Our `rfb-handshake-server`, listening on 127.0.0.1:`port`, stopped when dropped.
#[derive(Debug)]
pub struct OurServer {
    /// The server process (stdout read live: its event lines).
    pub process: Spawned,
    /// The port it listens on.
    pub port: u16,
    /// The framebuffer it wrote at start-up (`--write-truth`, binary PPM).
    pub truth_path: PathBuf,
}

impl OurServer {
    /// Starts the server on a free port >= 5900 and waits for its `listening` line.
    pub fn start(cx: &PeerTest, opts: &ServerOptions) -> Result<OurServer> {
        let port = net::free_port()?;
        let truth_path = cx.path(&format!("{}.ppm", cx.unique("truth")));
        let mut c = Command::new(our_bin("rfb-handshake-server")?);
        c.args(["--listen", &format!("127.0.0.1:{port}")]);
        c.args([
            "--width",
            &opts.width.to_string(),
            "--height",
            &opts.height.to_string(),
        ]);
        c.args(["--name", &opts.name]);
        c.arg("--write-truth").arg(&truth_path);
        if let Some(pw) = &opts.password {
            c.arg("--password-file")
                .arg(crate::peers::plain_password_file(cx, pw)?);
        }
        if opts.once {
            c.arg("--once");
        }
        let mut process = cx.spawn("rfb-handshake-server", c, true)?;
        process
            .wait_line(|l| l.starts_with("listening "), Duration::from_secs(15))
            .context("waiting for rfb-handshake-server's `listening` line")?;
        Ok(OurServer {
            process,
            port,
            truth_path,
        })
    }

    /// The framebuffer it serves, as written by `--write-truth`.
    pub fn truth(&self) -> Result<Image> {
        Image::read_ppm(&self.truth_path)
    }

    /// Waits for an event line starting with `prefix` (e.g. `"authenticated "`).
    pub fn wait_event(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        self.process
            .wait_line(|l| l.starts_with(prefix), timeout)
            .with_context(|| format!("waiting for a `{prefix}` line from rfb-handshake-server"))
    }

    /// All event lines so far.
    pub fn events(&self) -> Vec<String> {
        self.process.lines()
    }

    /// Path of the truth file.
    pub fn truth_file(&self) -> &Path {
        &self.truth_path
    }
}

/// What one `rfb-snapshot` run produced.
#[derive(Debug)]
pub struct SnapshotOutcome {
    /// The process outcome (exit 0 on success).
    pub run: Finished,
    /// Its `ok WxH updates=N received=...` line (empty if none).
    pub line: String,
    /// The rectangles received per encoding, from `received=Name:count,...`.
    pub received: BTreeMap<String, u64>,
    /// The picture it wrote, if it succeeded.
    pub image: Option<Image>,
}

impl SnapshotOutcome {
    /// An error unless the run succeeded with a picture, at least one pixel rectangle came
    /// in `encoding` (as `rfb-snapshot` names it, e.g. `ZRLE`; compared without case), and
    /// no other pixel encoding was used, except Raw when `raw_mix` is set (RRE and CoRRE
    /// encoders send a rectangle as Raw when that is smaller, as the spec allows). So a
    /// server's silent fallback to Raw cannot pass as the encoding under test.
    /// Returns the picture.
    pub fn expect_encoding(&self, encoding: &str, raw_mix: bool) -> Result<&Image> {
        if self.run.code() != Some(0) {
            bail!(
                "rfb-snapshot failed ({}): {} {}",
                self.run.describe(),
                self.line,
                self.run.stderr.trim()
            );
        }
        let image = self
            .image
            .as_ref()
            .context("rfb-snapshot wrote no picture")?;
        let pixel = || self.received.iter().filter(|(name, _)| !is_pseudo(name));
        let wanted = pixel().any(|(name, n)| name.eq_ignore_ascii_case(encoding) && *n > 0);
        let others = pixel().any(|(name, _)| {
            let allowed = name.eq_ignore_ascii_case(encoding)
                || (raw_mix && name.eq_ignore_ascii_case("raw"));
            !allowed
        });
        if !wanted || others {
            bail!(
                "asked for {encoding}, but the server sent {:?} ({})",
                self.received,
                self.line
            );
        }
        Ok(image)
    }
}

/// Pseudo-encodings `rfb-snapshot` may count next to the pixel encodings.
fn is_pseudo(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "cursor",
        "xcursor",
        "desktopsize",
        "extendeddesktopsize",
        "lastrect",
        "desktopname",
        "pointerpos",
        "cursorwithalpha",
    ]
    .iter()
    .any(|p| n == *p || n.starts_with("pseudo") || n.contains("cursor"))
}

/// Parses `received=Raw:3,ZRLE:1` (other forms give an empty map).
fn parse_received(value: &str) -> BTreeMap<String, u64> {
    value
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.rsplit_once(':')?;
            Some((k.trim().to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

/// Runs `rfb-snapshot ADDR OUT.png --encoding ENCODING [--password-file F] --timeout 15`
/// (at most 40 s) and reads the picture it wrote.
pub fn snapshot(
    cx: &PeerTest,
    addr: &str,
    encoding: &str,
    password_file: Option<&Path>,
) -> Result<SnapshotOutcome> {
    snapshot_with(cx, addr, encoding, password_file, &[])
}

/// Like [`snapshot`], with more rfb-snapshot options (e.g. `["--quality", "8"]`).
pub fn snapshot_with(
    cx: &PeerTest,
    addr: &str,
    encoding: &str,
    password_file: Option<&Path>,
    extra: &[&str],
) -> Result<SnapshotOutcome> {
    let out = cx.path(&format!(
        "{}.png",
        cx.unique(&format!("snapshot-{encoding}"))
    ));
    let mut c = Command::new(our_bin("rfb-snapshot")?);
    c.arg(addr)
        .arg(&out)
        .args(["--encoding", encoding, "--timeout", "15"])
        .args(extra);
    if let Some(f) = password_file {
        c.arg("--password-file").arg(f);
    }
    let run = cx.run("rfb-snapshot", c, Duration::from_secs(40))?;
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("ok "))
        .unwrap_or("")
        .to_owned();
    let (_, fields) = parse_fields(&line);
    let received = fields
        .get("received")
        .map(|v| parse_received(v))
        .unwrap_or_default();
    let image = if run.code() == Some(0) && out.exists() {
        Some(Image::read_png(&out)?)
    } else {
        None
    };
    Ok(SnapshotOutcome {
        run,
        line,
        received,
        image,
    })
}

impl OurServer {
    /// Waits (at most `timeout`) until the server has printed more than `n` event lines
    /// starting with `prefix`, and returns the (n+1)-th: for a server that serves several
    /// connections one after the other.
    pub fn wait_nth_event(&mut self, prefix: &str, n: usize, timeout: Duration) -> Result<String> {
        let end = std::time::Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .events()
                .into_iter()
                .filter(|l| l.starts_with(prefix))
                .nth(n)
            {
                return Ok(l);
            }
            if !self.process.is_running() {
                bail!("rfb-handshake-server exited before its `{prefix}` line #{n}");
            }
            if std::time::Instant::now() >= end {
                bail!("no `{prefix}` line #{n} from rfb-handshake-server within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Our `rfb-viewer` window in a private Xvfb (1024x768, 24 bit, pointer parked in the
/// bottom-right corner), connected to 127.0.0.1::`port`. Fields drop in order: the viewer
/// first, then its X server.
#[derive(Debug)]
pub struct OurViewer {
    /// The rfb-viewer process.
    pub viewer: Spawned,
    /// The Xvfb it shows its window on.
    pub xvfb: crate::x11::XServer,
}

impl OurViewer {
    /// Starts Xvfb and `rfb-viewer 127.0.0.1::PORT --scale actual EXTRA...`, with `HOME`
    /// in the scratch directory.
    pub fn start(cx: &PeerTest, port: u16, extra: &[&str]) -> Result<OurViewer> {
        let xvfb = crate::x11::XServer::xvfb(cx, 1024, 768, true)?;
        let _ = xvfb.run_client(cx, "xdotool", &["mousemove", "1023", "767"]);
        let home = cx.path("rfb-viewer-home");
        std::fs::create_dir_all(&home)?;
        let mut c = xvfb.command(our_bin("rfb-viewer")?.to_str().context("binary path")?);
        c.env("HOME", &home).env_remove("WAYLAND_DISPLAY");
        c.arg(format!("127.0.0.1::{port}"))
            .args(["--scale", "actual"])
            .args(extra);
        let viewer = cx.spawn("rfb-viewer", c, false)?;
        Ok(OurViewer { viewer, xvfb })
    }

    /// The id of the viewer's visible window (waits at most `timeout`).
    pub fn window(&mut self, cx: &PeerTest, timeout: Duration) -> Result<String> {
        let end = std::time::Instant::now() + timeout;
        loop {
            if !self.viewer.is_running() {
                bail!(
                    "rfb-viewer exited ({}) before showing its window",
                    self.viewer.status_text()
                );
            }
            let mut c = self.xvfb.command("xdotool");
            c.args(["search", "--onlyvisible", "--name", "rfb-viewer"]);
            let r = cx.run_unlogged("xdotool-search", c, Duration::from_secs(10))?;
            if let Some(id) = r.stdout.lines().map(str::trim).find(|l| !l.is_empty()) {
                return Ok(id.to_owned());
            }
            if std::time::Instant::now() >= end {
                bail!("rfb-viewer's window never appeared within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The window's contents once three captures 300 ms apart are identical and the
    /// window is at least `min_w`x`min_h` (waits at most `timeout`).
    pub fn capture_stable(
        &mut self,
        cx: &PeerTest,
        min_w: usize,
        min_h: usize,
        timeout: Duration,
    ) -> Result<Image> {
        let end = std::time::Instant::now() + timeout;
        let win = self.window(cx, timeout)?;
        let mut prev: Option<Image> = None;
        let mut same = 0;
        while std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(300));
            if !self.viewer.is_running() {
                bail!("rfb-viewer exited ({})", self.viewer.status_text());
            }
            let Ok(img) = self.xvfb.window_shot(cx, &win) else {
                continue;
            };
            if img.width < min_w || img.height < min_h {
                prev = None;
                continue;
            }
            same = if prev.as_ref() == Some(&img) {
                same + 1
            } else {
                0
            };
            prev = Some(img);
            if same >= 2 {
                return prev.context("a capture was taken");
            }
        }
        bail!("rfb-viewer's picture never became stable within {timeout:?}")
    }
}
