#!/usr/bin/env bash
# The main job: a live demonstration that needs no external server.
# Today: both sides of the RFB handshake (None, VNC Authentication with the right and the
# wrong password) run against each other in one process and print what they negotiated.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }
exec cargo run --quiet --release -p rfb-examples --bin rfb-handshake-demo -- "$@"
