#!/usr/bin/env bash
# The main job: the live demo. Starts rfb-demo (a built-in moving desktop served over VNC,
# no external server needed) on 127.0.0.1:5900 (override with RFB_DEMO_LISTEN), and, when a
# display is available ($DISPLAY), opens the example viewer (rfb-viewer) on it.
# Any other VNC viewer works too:  vncviewer 127.0.0.1::5900
# Extra arguments go to rfb-demo (e.g. --password-file F, --view-only, --seconds 60).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }
LISTEN="${RFB_DEMO_LISTEN:-127.0.0.1:5900}"
echo "[demo] building (release)..."
cargo build --quiet --release -p rfb-examples --bin rfb-demo --bin rfb-viewer
./target/release/rfb-demo --listen "$LISTEN" "$@" &
DEMO=$!
trap 'kill "$DEMO" 2>/dev/null; wait "$DEMO" 2>/dev/null' EXIT INT TERM
sleep 0.5
if [ -n "${DISPLAY:-}" ] && [ -z "${RFB_DEMO_NO_VIEWER:-}" ]; then
    host=${LISTEN%:*}; port=${LISTEN##*:}
    echo "[demo] opening rfb-viewer on $host::$port (close the window to stop)"
    ./target/release/rfb-viewer "$host::$port" || true
else
    echo "[demo] no \$DISPLAY: connect any VNC viewer to $LISTEN (e.g. vncviewer ${LISTEN%:*}::${LISTEN##*:}); Ctrl-C stops"
    wait "$DEMO"
fi
