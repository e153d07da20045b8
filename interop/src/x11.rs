//! X servers (Xvnc, Xvfb) on a free display, and the X tools the tests use on them.

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::harness::PeerTest;
use crate::image::Image;
use crate::process::Spawned;

/// Display numbers the tests may use (:50 to :89; other tools on the machine use :90 and up).
pub const DISPLAYS: std::ops::Range<u32> = 50..90;
/// How many displays are tried before giving up.
const ATTEMPTS: usize = 8;
/// Time an X server gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether X display `:n` looks taken: a lock file or a socket exists for it.
pub fn display_in_use(n: u32) -> bool {
    Path::new(&format!("/tmp/.X{n}-lock")).exists()
        || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
}

/// An X server we started, stopped when dropped.
#[derive(Debug)]
pub struct XServer {
    /// Its display number N (the display is `:N`).
    pub display: u32,
    /// The server process.
    pub process: Spawned,
}

impl XServer {
    /// Starts Xvfb with one `width`x`height` 24-bit screen, no TCP listener and no
    /// reset; with `black`, a black root window (`-br`) instead of the stipple.
    pub fn xvfb(cx: &PeerTest, width: u32, height: u32, black: bool) -> Result<XServer> {
        XServer::start(cx, "Xvfb", |d| {
            let mut a = vec![
                d.to_string(),
                "-screen".into(),
                "0".into(),
                format!("{width}x{height}x24"),
            ];
            a.extend(["-nolisten", "tcp", "-noreset"].map(String::from));
            if black {
                a.push("-br".into());
            }
            a
        })
    }

    /// Starts `program` with the arguments `args(display)` on a free display of
    /// [`DISPLAYS`] (trying the next one if the server exits at once), and waits until it
    /// accepts X connections (`xdpyinfo` succeeds).
    pub fn start(
        cx: &PeerTest,
        program: &str,
        args: impl Fn(&str) -> Vec<String>,
    ) -> Result<XServer> {
        let span = DISPLAYS.end - DISPLAYS.start;
        let offset = (std::process::id() * 7) % span;
        let mut tried = Vec::new();
        for k in 0..span {
            if tried.len() >= ATTEMPTS {
                break;
            }
            let n = DISPLAYS.start + (offset + k) % span;
            if display_in_use(n) {
                continue;
            }
            tried.push(n);
            let mut cmd = Command::new(program);
            cmd.args(args(&format!(":{n}")));
            cmd.env_remove("DISPLAY");
            let mut process = cx.spawn(&format!("{program}-{n}"), cmd, false)?;
            match wait_ready(cx, n, &mut process) {
                Ok(()) => {
                    return Ok(XServer {
                        display: n,
                        process,
                    })
                }
                Err(e) => cx.note(&format!("{program} on :{n} failed: {e:#}")),
            }
        }
        bail!("{program} did not start on any of the displays {tried:?}")
    }

    /// The display name, `:N`.
    pub fn name(&self) -> String {
        format!(":{}", self.display)
    }

    /// A command for an X client program on this display.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", self.name());
        c
    }

    /// The whole screen, exactly (`xwd -root`).
    pub fn screenshot(&self, cx: &PeerTest) -> Result<Image> {
        let mut c = Command::new("xwd");
        c.args(["-root", "-silent", "-display", &self.name()]);
        let r = cx.run_unlogged("xwd-root", c, Duration::from_secs(20))?;
        if r.code() != Some(0) {
            bail!("xwd -root failed ({}): {}", r.describe(), r.stderr.trim());
        }
        Image::read_xwd(&r.stdout_log)
    }

    /// One window's contents, exactly (`xwd -id`).
    pub fn window_shot(&self, cx: &PeerTest, window: &str) -> Result<Image> {
        let mut c = Command::new("xwd");
        c.args(["-silent", "-display", &self.name(), "-id", window]);
        let r = cx.run_unlogged("xwd-win", c, Duration::from_secs(20))?;
        if r.code() != Some(0) {
            bail!(
                "xwd -id {window} failed ({}): {}",
                r.describe(),
                r.stderr.trim()
            );
        }
        Image::read_xwd(&r.stdout_log)
    }

    /// Runs an X client on this display to completion; an error unless it exits 0.
    pub fn run_client(&self, cx: &PeerTest, program: &str, args: &[&str]) -> Result<String> {
        let mut c = self.command(program);
        c.args(args);
        let r = cx.run(program, c, Duration::from_secs(20))?;
        if r.code() != Some(0) {
            bail!(
                "{program} {args:?} failed ({}): {}",
                r.describe(),
                r.stderr.trim()
            );
        }
        Ok(r.stdout)
    }

    /// Takes screenshots until two in a row, 200 ms apart, are identical (at most `timeout`).
    pub fn settled_screenshot(&self, cx: &PeerTest, timeout: Duration) -> Result<Image> {
        let end = Instant::now() + timeout;
        let mut prev = self.screenshot(cx)?;
        loop {
            thread::sleep(Duration::from_millis(200));
            let cur = self.screenshot(cx)?;
            if cur == prev {
                return Ok(cur);
            }
            if Instant::now() >= end {
                bail!(
                    "screen of {} did not settle within {timeout:?}",
                    self.name()
                );
            }
            prev = cur;
        }
    }
}

fn wait_ready(cx: &PeerTest, n: u32, process: &mut Spawned) -> Result<()> {
    let end = Instant::now() + START_TIMEOUT;
    let socket = format!("/tmp/.X11-unix/X{n}");
    loop {
        if !process.is_running() {
            bail!("exited ({})", process.status_text());
        }
        if Path::new(&socket).exists() {
            let mut c = Command::new("xdpyinfo");
            c.args(["-display", &format!(":{n}")]);
            let r = cx
                .run_unlogged("xdpyinfo", c, Duration::from_secs(5))
                .context("running xdpyinfo")?;
            if r.code() == Some(0) {
                return Ok(());
            }
        }
        if Instant::now() >= end {
            bail!("not accepting X connections after {START_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(100));
    }
}
