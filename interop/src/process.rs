//! Child processes with hard time limits, stopped by PID when their guard drops.
//!
//! Every process is started in a new process group of its own (the child is the group
//! leader), with standard input closed and its output written to log files. Stopping sends
//! SIGTERM to that group, waits up to 3 s, then SIGKILL: only what we started is signalled,
//! never anything found by name.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(25);
/// Grace period between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A running child process; stopped (SIGTERM, then SIGKILL, to its own process group)
/// when dropped, also while a test panics.
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
/// let dir = std::env::temp_dir().join(format!("rfb-interop-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let mut cmd = Command::new("sh");
/// cmd.args(["-c", "echo ready; sleep 30"]);
/// let mut p = rfb_interop::process::Spawned::start("sleeper", cmd, &dir, true).unwrap();
/// p.wait_line(|l| l == "ready", Duration::from_secs(5)).unwrap();
/// p.stop(); // or just drop it
/// assert!(!p.is_running());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct Spawned {
    name: String,
    child: Child,
    status: Option<ExitStatus>,
    stdout_log: PathBuf,
    stderr_log: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Spawned {
    /// Starts `cmd` in its own process group. Its stderr goes to `DIR/NAME.stderr`; its
    /// stdout to `DIR/NAME.stdout`, and with `live_stdout` also line by line into memory
    /// (see [`Spawned::wait_line`], [`Spawned::lines`]).
    pub fn start(name: &str, mut cmd: Command, dir: &Path, live_stdout: bool) -> Result<Spawned> {
        Self::start_with_input(name, &mut cmd, dir, live_stdout, None)
    }

    fn start_with_input(
        name: &str,
        cmd: &mut Command,
        dir: &Path,
        live_stdout: bool,
        input: Option<&[u8]>,
    ) -> Result<Spawned> {
        let stdout_log = dir.join(format!("{name}.stdout"));
        let stderr_log = dir.join(format!("{name}.stderr"));
        let err = File::create(&stderr_log)
            .with_context(|| format!("creating {}", stderr_log.display()))?;
        cmd.process_group(0).stderr(Stdio::from(err));
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        if live_stdout {
            cmd.stdout(Stdio::piped());
        } else {
            let out = File::create(&stdout_log)
                .with_context(|| format!("creating {}", stdout_log.display()))?;
            cmd.stdout(Stdio::from(out));
        }
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd.spawn().with_context(|| {
            format!("cannot start {name} ({program}): is it installed? (scripts/install-deps.sh)")
        })?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            // A child that exits without reading makes this fail: that shows in its status.
            let _ = stdin.write_all(data);
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = match child.stdout.take() {
            Some(pipe) => {
                let lines = Arc::clone(&lines);
                let mut log = File::create(&stdout_log)
                    .with_context(|| format!("creating {}", stdout_log.display()))?;
                Some(thread::spawn(move || {
                    for line in BufReader::new(pipe).lines() {
                        let Ok(line) = line else { break };
                        let _ = writeln!(log, "{line}");
                        lines
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(line);
                    }
                }))
            }
            None => None,
        };
        Ok(Spawned {
            name: name.to_owned(),
            child,
            status: None,
            stdout_log,
            stderr_log,
            lines,
            reader,
        })
    }

    /// The name given at start (used in log file names and messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's PID (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Paths of the stdout and stderr logs.
    pub fn logs(&self) -> [PathBuf; 2] {
        [self.stdout_log.clone(), self.stderr_log.clone()]
    }

    /// The exit status, if the process has exited (reaps it).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        self.status
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    /// Waits at most `timeout` for the process to exit; an error if it is still running
    /// (the process is left running: dropping the guard stops it).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.exit_status() {
                self.join_reader();
                return Ok(st);
            }
            if Instant::now() >= end {
                bail!(
                    "{} (pid {}) still running after {:?}",
                    self.name,
                    self.pid(),
                    timeout
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Stdout lines read so far (only with `live_stdout`).
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits at most `timeout` for a stdout line matching `pred` (only with `live_stdout`)
    /// and returns it; an error on timeout or when the process exits without printing one.
    pub fn wait_line(&mut self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Result<String> {
        let end = Instant::now() + timeout;
        loop {
            let exited = self.exit_status().is_some();
            if exited {
                self.join_reader();
            }
            if let Some(l) = self.lines().into_iter().find(|l| pred(l)) {
                return Ok(l);
            }
            if exited {
                let status = self.status_text();
                bail!(
                    "{} exited ({status}) without printing the expected line",
                    self.name
                );
            }
            if Instant::now() >= end {
                bail!(
                    "{} printed no expected line within {:?}",
                    self.name,
                    timeout
                );
            }
            thread::sleep(POLL);
        }
    }

    /// "exit 0", "signal 9" or "running".
    pub fn status_text(&mut self) -> String {
        describe(self.exit_status())
    }

    fn join_reader(&mut self) {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Stops the process: SIGTERM to its process group, up to 3 s grace, then SIGKILL.
    /// Does nothing to a process that has already exited.
    pub fn stop(&mut self) {
        if self.is_running() {
            signal_group(self.pid(), "TERM");
            let end = Instant::now() + TERM_GRACE;
            while self.is_running() && Instant::now() < end {
                thread::sleep(POLL);
            }
            if self.is_running() {
                signal_group(self.pid(), "KILL");
                let _ = self.child.kill();
                if let Ok(st) = self.child.wait() {
                    self.status = Some(st);
                }
            }
        }
        self.join_reader();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends SIG`sig` to the process group `pgid` (a group we created: its leader is our child).
fn signal_group(pgid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args(["-s", sig, "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn describe(st: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match st {
        None => "running".into(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(sig)) => format!("signal {sig}"),
            _ => format!("{s}"),
        },
    }
}

/// What a process run by [`run_bounded`] did.
#[derive(Debug)]
pub struct Finished {
    /// Exit status; `None` if it had to be killed at the time limit.
    pub status: Option<ExitStatus>,
    /// Whether the time limit was reached (the process was then stopped).
    pub timed_out: bool,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// Wall time from start to exit (or to the kill).
    pub elapsed: Duration,
    /// File holding the raw stdout (binary output stays exact there).
    pub stdout_log: PathBuf,
    /// File holding the raw stderr.
    pub stderr_log: PathBuf,
}

impl Finished {
    /// The exit code, if it exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// "exit N", "signal N" or "timed out".
    pub fn describe(&self) -> String {
        if self.timed_out {
            "timed out".into()
        } else {
            describe(self.status)
        }
    }
}

/// Runs `cmd` to completion, at most `timeout` (then it is stopped and `timed_out` set),
/// with `input` (if any) on its stdin; output is also kept in `DIR/NAME.stdout|stderr`.
pub fn run_bounded(
    name: &str,
    mut cmd: Command,
    dir: &Path,
    timeout: Duration,
    input: Option<&[u8]>,
) -> Result<Finished> {
    let t0 = Instant::now();
    let mut p = Spawned::start_with_input(name, &mut cmd, dir, false, input)?;
    let timed_out = p.wait_exit(timeout).is_err();
    if timed_out {
        p.stop();
    }
    let elapsed = t0.elapsed();
    let status = if timed_out { None } else { p.exit_status() };
    let [out, err] = p.logs();
    drop(p);
    let read = |p: &Path| {
        fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Finished {
        status,
        timed_out,
        stdout: read(&out),
        stderr: read(&err),
        elapsed,
        stdout_log: out,
        stderr_log: err,
    })
}

/// Appends `text` to a file (creating it): used for harness notes kept beside the logs.
pub fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
