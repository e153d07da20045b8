//! Our side: the `rfb-probe` client and `rfb-handshake-server` binaries of the examples
//! crate, found next to the test executable (build them with `cargo build --workspace --bins`).

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
