#!/usr/bin/env bash
# test-all.sh — THE test command: set-up and every check, in order, stopping at the first failure.
#
#   1. scripts/install-deps.sh      Debian packages, cargo-fuzz, C helpers (fast when present)
#   2. cargo fmt --all --check
#   3. cargo clippy --workspace --all-targets --all-features -- -D warnings
#   4. cargo doc --workspace --no-deps            (RUSTDOCFLAGS=-Dwarnings)
#   5. cargo test --workspace --all-features      (unit, doc, property tests, fuzz corpus replay)
#   6. cargo build --workspace --bins             (binaries the real-peer tests drive)
#   7. cargo test -p rfb-interop -- --ignored --test-threads=1   (real VNC peers on loopback)
#   8. scripts/fuzz-smoke.sh                      (every fuzz target for FUZZ_SECONDS, default 30)
#   9. cargo bench --workspace -- --test          (each benchmark runs once, untimed)
#
# Environment: FUZZ_SECONDS (default 30: 27 targets, about 15 minutes with the build); SKIP_INSTALL=1 skips step 1 (machines already set up).
# Works on a fresh Debian 12 machine as root (CI) or with sudo.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
export PATH="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin:$PATH"

T0=$(date +%s)
STEP_T0=$T0
STEP_NAME=""
STEP_NO=0
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
end_step() {
    if [ -n "$STEP_NAME" ]; then
        echo "=== ok: $STEP_NAME ($(elapsed "$STEP_T0"); total $(elapsed "$T0"))"
    fi
}
step() {
    end_step
    STEP_NO=$((STEP_NO + 1))
    STEP_NAME="$*"
    STEP_T0=$(date +%s)
    echo
    echo "=================================================================="
    echo "=== [$STEP_NO] $STEP_NAME    (total so far $(elapsed "$T0"))"
    echo "=================================================================="
}
on_exit() {
    local rc=$?
    if [ $rc != 0 ]; then
        echo
        echo "=== FAILED: [$STEP_NO] $STEP_NAME (exit $rc, after $(elapsed "$STEP_T0"); total $(elapsed "$T0"))"
    fi
}
trap on_exit EXIT

if [ "${SKIP_INSTALL:-0}" = 1 ]; then
    echo "=== SKIP_INSTALL=1: not running scripts/install-deps.sh"
else
    step "install dependencies (scripts/install-deps.sh)"
    bash scripts/install-deps.sh
fi

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets --all-features -- -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo doc --workspace --no-deps (RUSTDOCFLAGS=-Dwarnings)"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps

step "cargo test --workspace --all-features"
cargo test --workspace --all-features

step "cargo build --workspace --bins"
cargo build --workspace --bins

step "real VNC peers: cargo test -p rfb-interop -- --ignored --test-threads=1"
# Every wait inside is bounded; the outer limit is a last resort.
timeout -k 30 1200 cargo test -p rfb-interop -- --ignored --test-threads=1

step "fuzz smoke: every target for ${FUZZ_SECONDS}s (scripts/fuzz-smoke.sh)"
bash scripts/fuzz-smoke.sh

step "cargo bench --workspace -- --test"
cargo bench --workspace -- --test

end_step
STEP_NAME=""
echo
echo "=== all checks passed in $(elapsed "$T0")"
