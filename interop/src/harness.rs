//! The frame around each real-peer test: a scratch directory, log collection, a one-line
//! summary, and the peers' logs dumped when the test fails.

use std::cell::RefCell;
use std::fs;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::process::{self, Finished, Spawned};

/// Lines of each log shown when a test fails.
const LOG_TAIL_LINES: usize = 25;

/// Context of one real-peer test: its scratch directory and the logs of what it started.
/// Made by [`peer_test`].
#[derive(Debug)]
pub struct PeerTest {
    name: String,
    dir: PathBuf,
    logs: RefCell<Vec<PathBuf>>,
    counter: RefCell<u32>,
}

impl PeerTest {
    /// The test's scratch directory (removed when the test passes, kept when it fails).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the scratch directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A name unique within this test: `base-N`.
    pub fn unique(&self, base: &str) -> String {
        let mut c = self.counter.borrow_mut();
        *c += 1;
        format!("{base}-{}", *c)
    }

    /// Registers a file whose tail is printed if the test fails.
    pub fn add_log(&self, path: PathBuf) {
        self.logs.borrow_mut().push(path);
    }

    /// Starts a long-running process (see [`Spawned::start`]); its logs are registered.
    pub fn spawn(&self, name: &str, cmd: Command, live_stdout: bool) -> Result<Spawned> {
        let name = self.unique(name);
        let p = Spawned::start(&name, cmd, &self.dir, live_stdout)?;
        for l in p.logs() {
            self.add_log(l);
        }
        Ok(p)
    }

    /// Runs a process to completion within `timeout` (see [`process::run_bounded`]).
    pub fn run(&self, name: &str, cmd: Command, timeout: Duration) -> Result<Finished> {
        self.run_with_input(name, cmd, timeout, None)
    }

    /// Like [`PeerTest::run`], with `input` written to the process's stdin.
    pub fn run_with_input(
        &self,
        name: &str,
        cmd: Command,
        timeout: Duration,
        input: Option<&[u8]>,
    ) -> Result<Finished> {
        let name = self.unique(name);
        let f = process::run_bounded(&name, cmd, &self.dir, timeout, input)?;
        for l in [&f.stdout_log, &f.stderr_log] {
            self.add_log(l.clone());
        }
        Ok(f)
    }

    /// Like [`PeerTest::run`], but its output is not shown when the test fails (for polling
    /// and screenshot helpers whose output is noise or binary).
    pub fn run_unlogged(&self, name: &str, cmd: Command, timeout: Duration) -> Result<Finished> {
        process::run_bounded(&self.unique(name), cmd, &self.dir, timeout, None)
    }

    /// Appends a line to the test's `notes.log` (shown on failure).
    pub fn note(&self, text: &str) {
        let p = self.path("notes.log");
        if process::append(&p, &format!("{text}\n")).is_ok() && !self.logs.borrow().contains(&p) {
            self.add_log(p);
        }
    }

    fn dump_logs(&self) {
        let mut err = std::io::stderr().lock();
        for path in self.logs.borrow().iter() {
            let bytes = fs::read(path).unwrap_or_default();
            if bytes.is_empty() || bytes.contains(&0) {
                continue; // nothing printed, or binary output (screenshots, password files)
            }
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let shown = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            let _ = writeln!(
                err,
                "----- {} ({} lines, last {}) -----",
                path.display(),
                lines.len(),
                shown.len()
            );
            for l in shown {
                let _ = writeln!(err, "    {l}");
            }
        }
        let _ = writeln!(err, "----- scratch directory kept: {}", self.dir.display());
    }
}

/// Runs one real-peer test. `body` starts peers through the [`PeerTest`] (so their logs are
/// known), returns a one-line summary on success, or an error. Every process it started is
/// stopped when its guard drops, before this returns. On success prints `PASS name: summary`;
/// on failure prints the peers' logs and panics with the error.
pub fn peer_test(name: &str, body: impl FnOnce(&PeerTest) -> Result<String>) {
    let t0 = Instant::now();
    let dir = std::env::temp_dir()
        .join("rfb-interop")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    if let Err(e) = fs::create_dir_all(&dir) {
        panic!("FAIL {name}: cannot create {}: {e}", dir.display());
    }
    let cx = PeerTest {
        name: name.to_owned(),
        dir,
        logs: RefCell::new(Vec::new()),
        counter: RefCell::new(0),
    };
    // Printed straight to the file descriptors so they show even when libtest captures output.
    let result = panic::catch_unwind(AssertUnwindSafe(|| body(&cx)));
    let secs = t0.elapsed().as_secs_f64();
    match result {
        Ok(Ok(summary)) => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "PASS {name}: {summary} [{secs:.1}s]"
            );
            let _ = fs::remove_dir_all(&cx.dir);
        }
        Ok(Err(e)) => {
            cx.dump_logs();
            let _ = writeln!(std::io::stderr().lock(), "FAIL {name}: {e:#} [{secs:.1}s]");
            panic!("FAIL {name}: {e:#}");
        }
        Err(p) => {
            cx.dump_logs();
            let _ = writeln!(
                std::io::stderr().lock(),
                "FAIL {name}: panicked [{secs:.1}s]"
            );
            panic::resume_unwind(p);
        }
    }
}
