//! Our product servers (`rfb-demo`, `rfb-replay`, `rfb-x11-server`) as real viewers see
//! them, a TigerVNC viewer that may send input, a small X desktop with real applications,
//! and a minimal RFB client that types into a server.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};

use crate::harness::PeerTest;
use crate::image::Image;
use crate::net;
use crate::ours::our_bin;
use crate::process::Spawned;
use crate::x11::XServer;

/// One of our server binaries on 127.0.0.1:`port` (stdout read live), stopped on drop.
#[derive(Debug)]
pub struct Product {
    /// The process.
    pub process: Spawned,
    /// The port it listens on (>= 5900, so vncsnapshot can reach it).
    pub port: u16,
}

impl Product {
    /// Starts `bin --listen 127.0.0.1:PORT ARGS...` on a free port and waits for its
    /// `listening ` line.
    pub fn start(cx: &PeerTest, bin: &str, args: &[&str]) -> Result<Product> {
        let port = net::free_port()?;
        let mut c = Command::new(our_bin(bin)?);
        c.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args);
        c.env_remove("DISPLAY");
        let mut process = cx.spawn(bin, c, true)?;
        process
            .wait_line(|l| l.starts_with("listening "), Duration::from_secs(60))
            .with_context(|| format!("waiting for {bin}'s `listening` line"))?;
        Ok(Product { process, port })
    }

    /// Waits for a stdout line starting with `prefix`.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        self.process
            .wait_line(|l| l.starts_with(prefix), timeout)
            .with_context(|| format!("waiting for a `{prefix}` line"))
    }

    /// How many stdout lines so far start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.process
            .lines()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    /// Waits until more than `n` lines start with `prefix`.
    pub fn wait_count(&mut self, prefix: &str, n: usize, timeout: Duration) -> Result<()> {
        let end = std::time::Instant::now() + timeout;
        while self.count(prefix) <= n {
            if !self.process.is_running() {
                let status = self.process.status_text();
                bail!("{} exited ({status})", self.process.name());
            }
            if std::time::Instant::now() >= end {
                bail!("no `{prefix}` line #{} within {timeout:?}", n + 1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

/// `rfb-demo` that stops moving after `still_after` frames and writes that frame.
#[derive(Debug)]
pub struct Demo {
    /// The running demo.
    pub product: Product,
    /// Where it writes the still frame (binary PPM).
    pub truth_path: PathBuf,
}

impl Demo {
    /// Starts `rfb-demo --still-after N --write-truth T.ppm --seconds 120 EXTRA...`.
    pub fn start(cx: &PeerTest, still_after: u64, extra: &[&str]) -> Result<Demo> {
        let truth_path = cx.path(&format!("{}.ppm", cx.unique("demo-truth")));
        let n = still_after.to_string();
        let t = truth_path.display().to_string();
        let mut args = vec!["--still-after", &n, "--write-truth", &t, "--seconds", "120"];
        args.extend_from_slice(extra);
        let product = Product::start(cx, "rfb-demo", &args)?;
        Ok(Demo {
            product,
            truth_path,
        })
    }

    /// Waits for the still frame and reads it.
    pub fn truth(&mut self) -> Result<Image> {
        self.product
            .wait_line("still frame=", Duration::from_secs(60))?;
        Image::read_ppm(&self.truth_path)
    }
}

/// TigerVNC's vncviewer in its own Xvfb, NOT view-only (it sends keys and pointer).
/// Fields drop in order: the viewer first, then its X server.
#[derive(Debug)]
pub struct ControlViewer {
    /// The vncviewer process.
    pub viewer: Spawned,
    /// The Xvfb it shows its window on.
    pub xvfb: XServer,
}

impl ControlViewer {
    /// Starts Xvfb (1024x768x24) and `vncviewer 127.0.0.1::PORT` with `encoding`
    /// preferred, full colour, no menu key, no clipboard, no remote resize.
    pub fn start(cx: &PeerTest, port: u16, encoding: &str) -> Result<ControlViewer> {
        ControlViewer::start_with(cx, port, encoding, &[])
    }

    /// Like [`ControlViewer::start`], with more vncviewer parameters after the defaults
    /// (a later `-Name=value` overrides an earlier one, e.g. `-RemoteResize=1`).
    pub fn start_with(
        cx: &PeerTest,
        port: u16,
        encoding: &str,
        extra: &[&str],
    ) -> Result<ControlViewer> {
        let mut args = vec!["-NoJPEG".to_owned()];
        args.extend(extra.iter().map(|a| a.to_string()));
        let (viewer, xvfb) = crate::peers::start_vncviewer(cx, port, encoding, &args)?;
        Ok(ControlViewer { viewer, xvfb })
    }

    /// The id of vncviewer's visible window (waits at most `timeout`).
    pub fn window(&mut self, cx: &PeerTest, timeout: Duration) -> Result<String> {
        let end = std::time::Instant::now() + timeout;
        loop {
            ensure!(
                self.viewer.is_running(),
                "vncviewer exited ({})",
                self.viewer.status_text()
            );
            let out = self
                .xvfb
                .run_client(
                    cx,
                    "xdotool",
                    &["search", "--onlyvisible", "--class", "TigerVNC"],
                )
                .unwrap_or_default();
            if let Some(id) = out.lines().map(str::trim).rfind(|l| !l.is_empty()) {
                return Ok(id.to_owned());
            }
            if std::time::Instant::now() >= end {
                bail!("vncviewer's window never appeared within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// An Xvfb with a known desktop: a solid root colour (invisible root cursor), an xterm
/// showing known text, and an xterm whose shell reads one line into a file.
/// Fields drop in order: the applications first, then the X server.
#[derive(Debug)]
pub struct XDesktop {
    /// The xterm showing known text.
    pub text_term: Spawned,
    /// The xterm that reads a line into [`XDesktop::typed_path`].
    pub reader_term: Spawned,
    /// The X server.
    pub xvfb: XServer,
    /// Where the reader xterm writes the line typed into it.
    pub typed_path: PathBuf,
    /// Where the reader xterm is: x, y, width, height (root coordinates).
    pub reader_geometry: (u32, u32, u32, u32),
}

/// Text the known-text xterm shows.
pub const XTERM_TEXT: &str = "rfb-x11-server interop: The quick brown fox jumps over the lazy dog.";

impl XDesktop {
    /// Starts Xvfb `width`x`height`x24 with the desktop and waits until both xterms are
    /// mapped and the screen has settled.
    pub fn start(cx: &PeerTest, width: u32, height: u32) -> Result<XDesktop> {
        let xvfb = XServer::xvfb(cx, width, height, false)?;
        let blank = cx.path("blank.xbm");
        let zeros = vec!["0x00"; 32].join(",");
        fs::write(
            &blank,
            format!("#define b_width 16\n#define b_height 16\nstatic unsigned char b_bits[] = {{\n{zeros}}};\n"),
        )?;
        let b = blank.display().to_string();
        xvfb.run_client(cx, "xsetroot", &["-solid", "#336699", "-cursor", &b, &b])?;
        let script = cx.path("text.sh");
        fs::write(
            &script,
            format!(
                "printf '\\033[?25l'\nprintf '%s\\n' '{XTERM_TEXT}'\nprintf '0123456789 !#$%%&()*+,-./:;<=>?@[]^_{{|}}~\\n'\n\
                 for i in 0 1 2 3 4 5 6 7; do printf \"\\033[4${{i}}m  \\033[10${{i}}m  \"; done\nprintf '\\033[0m\\n'\n\
                 exec sleep 2147483647\n"
            ),
        )?;
        let typed_path = cx.path("typed.txt");
        let reader = cx.path("reader.sh");
        fs::write(
            &reader,
            format!(
                "printf 'type here: '\nIFS= read -r line\nprintf '%s' \"$line\" > '{}.tmp'\nmv '{0}.tmp' '{0}'\nexec sleep 2147483647\n",
                typed_path.display()
            ),
        )?;
        let xterm = |name: &str, geometry: &str, script: &Path| -> Result<Spawned> {
            let mut c = xvfb.command("xterm");
            c.args([
                "-fn",
                "fixed",
                "-geometry",
                geometry,
                "-bg",
                "#202020",
                "-fg",
                "#e0e0e0",
                "-cr",
                "#e0e0e0",
                "+sb",
                "-b",
                "4",
                "-title",
                name,
                "-name",
                name,
                "-e",
                "sh",
            ]);
            c.arg(script);
            cx.spawn(name, c, false)
        };
        let text_term = xterm("rfb-text", "72x6+16+16", &script)?;
        let reader_term = xterm("rfb-reader", "40x3+16+200", &reader)?;
        // Wait for both windows, then for a settled screen.
        let end = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let tree = xvfb
                .run_client(cx, "xwininfo", &["-root", "-tree"])
                .unwrap_or_default();
            if tree.contains("\"rfb-text\"") && tree.contains("\"rfb-reader\"") {
                break;
            }
            ensure!(std::time::Instant::now() < end, "the xterms never appeared");
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_millis(500));
        xvfb.settled_screenshot(cx, Duration::from_secs(10))?;
        // xterm's window size in pixels follows from its font; ask the server.
        let info = xvfb.run_client(cx, "xwininfo", &["-name", "rfb-reader"])?;
        let field = |k: &str| -> Result<u32> {
            info.lines()
                .find_map(|l| l.trim().strip_prefix(k))
                .and_then(|v| v.trim().parse().ok())
                .with_context(|| format!("xwininfo has no {k:?}: {info}"))
        };
        let reader_geometry = (
            field("Absolute upper-left X:")?,
            field("Absolute upper-left Y:")?,
            field("Width:")?,
            field("Height:")?,
        );
        Ok(XDesktop {
            text_term,
            reader_term,
            xvfb,
            typed_path,
            reader_geometry,
        })
    }
}

/// The bytes of `zstd -dc FILE` (the `zstd` tool), for decoding a corpus recording in
/// the test independently of the server under test.
pub fn zstd_decompress(cx: &PeerTest, file: &Path) -> Result<Vec<u8>> {
    let mut c = Command::new("zstd");
    c.arg("-dc").arg(file);
    let r = cx.run_unlogged("zstd", c, Duration::from_secs(60))?;
    ensure!(r.code() == Some(0), "zstd -dc failed ({})", r.describe());
    Ok(fs::read(&r.stdout_log)?)
}

/// A minimal RFB 3.8 client with security None that only sends input: enough to type
/// into a server from a test. Message layouts per RFC 6143 §7.5.4 (KeyEvent) and
/// §7.5.5 (PointerEvent).
#[derive(Debug)]
pub struct InputClient {
    stream: TcpStream,
}

impl InputClient {
    /// Connects to 127.0.0.1:`port` and completes the handshake (shared session). The
    /// server's updates are never asked for, so the socket only carries our input.
    pub fn connect(port: u16) -> Result<InputClient> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut version = [0u8; 12];
        s.read_exact(&mut version)?;
        ensure!(&version[..4] == b"RFB ", "not an RFB server: {version:?}");
        s.write_all(b"RFB 003.008\n")?;
        let mut n = [0u8; 1];
        s.read_exact(&mut n)?;
        let mut types = vec![0u8; usize::from(n[0])];
        s.read_exact(&mut types)?;
        ensure!(types.contains(&1), "server does not offer None: {types:?}");
        s.write_all(&[1])?;
        let mut result = [0u8; 4];
        s.read_exact(&mut result)?;
        ensure!(result == [0; 4], "security result {result:?}");
        s.write_all(&[1])?; // ClientInit: shared
        let mut init = [0u8; 24];
        s.read_exact(&mut init)?;
        let name_len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]);
        ensure!(name_len < 4096, "absurd desktop name length {name_len}");
        let mut name = vec![0u8; name_len as usize];
        s.read_exact(&mut name)?;
        Ok(InputClient { stream: s })
    }

    /// Sends a KeyEvent.
    pub fn key(&mut self, keysym: u32, down: bool) -> Result<()> {
        let mut m = vec![4, u8::from(down), 0, 0];
        m.extend_from_slice(&keysym.to_be_bytes());
        Ok(self.stream.write_all(&m)?)
    }

    /// Presses and releases the key of each character of `text` (ASCII: keysym = code).
    pub fn type_text(&mut self, text: &str) -> Result<()> {
        for ch in text.chars() {
            ensure!(
                ch.is_ascii() && !ch.is_ascii_control(),
                "not printable ASCII"
            );
            self.key(u32::from(ch), true)?;
            self.key(u32::from(ch), false)?;
        }
        Ok(())
    }

    /// Sends a PointerEvent.
    pub fn pointer(&mut self, x: u16, y: u16, buttons: u8) -> Result<()> {
        let mut m = vec![5, buttons];
        m.extend_from_slice(&x.to_be_bytes());
        m.extend_from_slice(&y.to_be_bytes());
        Ok(self.stream.write_all(&m)?)
    }
}
