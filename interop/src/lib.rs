//! Cross-crate integration tests of the rfb crates: real VNC peers and fuzz corpus replay.
//!
//! The library is the harness the tests in `tests/` use; it drives real third-party VNC
//! programs on loopback (installed by `scripts/install-deps.sh`):
//!
//! * [`process`]: child processes in their own process group, with hard time limits and
//!   logs, stopped by PID when their guard drops (also when a test panics);
//! * [`net`]: free loopback ports, and whether a port listens (read from /proc, so waiting
//!   never connects to a server that would count the connection);
//! * [`x11`]: X servers (Xvnc, Xvfb) on a free display, screenshots with `xwd`;
//! * [`image`]: PPM/XWD/PNG images and exact comparison;
//! * [`peers`]: TigerVNC's Xvnc and vncviewer, x11vnc, TightVNC's Xtightvnc, vncsnapshot
//!   (with a libjpeg shim giving its exact pixels), LibVNCClient, VNC password files, and a
//!   deterministic full-colour desktop ([`peers::paint_rich_desktop`]);
//! * [`ours`]: our `rfb-probe`, `rfb-snapshot`, `rfb-viewer` and `rfb-handshake-server`
//!   binaries;
//! * [`harness`]: [`harness::peer_test`], which frames each test (scratch directory,
//!   one-line summary, peer logs dumped on failure).
//!
//! The real-peer tests are `#[ignore]`d (they need the Debian packages and our binaries):
//! `cargo build --workspace --bins && cargo test -p rfb-interop -- --ignored --test-threads=1`.

pub mod harness;
pub mod image;
pub mod net;
pub mod ours;
pub mod peers;
pub mod process;
pub mod servers;
pub mod x11;
