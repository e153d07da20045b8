#!/usr/bin/env bash
# fuzz-smoke.sh [TARGET...] — build the cargo-fuzz targets once, then run each for FUZZ_SECONDS
# (default 30) starting from its committed seed corpus and regressions. Fails if any target
# crashes, hangs (an input running > 10 s) or cannot be built.
#
# Stable toolchain: with --sanitizer none cargo-fuzz passes no -Z flags (RUSTC_BOOTSTRAP is
# deliberately unset: it changes cargo's fingerprints and would rebuild fuzz/target/ whenever
# runs with and without it alternate); --sanitizer none
# (no AddressSanitizer: safe Rust needs it rarely, and it is ~6x faster). The corpora are
# copied to a temporary directory first, so new inputs found here never dirty the git tree.
# Crash reproducers land in fuzz/artifacts/<target>/ (git-ignored); to keep one as a
# regression, copy it to fuzz/regressions/<target>/ (see fuzz/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin:$PATH"
unset RUSTC_BOOTSTRAP
SECS="${FUZZ_SECONDS:-30}"
FUZZ_FLAGS=(--sanitizer none)
say() { echo "[fuzz-smoke] $*"; }

cargo fuzz --version > /dev/null 2>&1 || { say "cargo-fuzz missing: run scripts/install-deps.sh"; exit 2; }

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in fuzz/fuzz_targets/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi
[ ${#TARGETS[@]} -gt 0 ] || { say "no fuzz targets in fuzz/fuzz_targets"; exit 2; }

say "building ${#TARGETS[@]} target(s): cargo fuzz build ${FUZZ_FLAGS[*]}"
t0=$(date +%s)
cargo fuzz build "${FUZZ_FLAGS[@]}"
say "built in $(( $(date +%s) - t0 ))s"
BIN_DIR="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rfb-fuzz-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
failed=()
for t in "${TARGETS[@]}"; do
    corpus="$WORK/corpus-$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    nseeds=0
    for d in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
        [ -d "$d" ] || continue
        for f in "$d"/*; do
            [ -f "$f" ] || continue
            case "$(basename "$f")" in .gitkeep|README*) continue;; esac
            cp "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
            nseeds=$((nseeds + 1))
        done
    done
    [ "$nseeds" -gt 0 ] || say "warning: $t has no seed corpus (fuzz/corpus/$t)"
    log="$WORK/$t.log"
    rc=0
    opts=(-max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="fuzz/artifacts/$t/")
    if [ -x "$BIN_DIR/$t" ]; then
        # the binary cargo fuzz just built: no second cargo invocation (and no cargo lock
        # held) per target
        timeout -k 10 $((SECS + 300)) "$BIN_DIR/$t" "$corpus" "${opts[@]}" > "$log" 2>&1 || rc=$?
    else
        timeout -k 10 $((SECS + 300)) cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" "$corpus" -- \
            "${opts[@]}" > "$log" 2>&1 || rc=$?
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2 || true)
    if [ $rc = 0 ]; then
        say "ok   $t: ${runs:-?} runs in ${SECS}s, ${nseeds} seeds, coverage ${cov:-?}"
    else
        say "FAIL $t (exit $rc): last lines of its log:"
        tail -n 40 "$log" | sed 's/^/    /'
        ls -1 "fuzz/artifacts/$t" 2>/dev/null | sed 's/^/    artifact: fuzz\/artifacts\/'"$t"'\//'
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    say "${#failed[@]} target(s) failed: ${failed[*]}"
    exit 1
fi
say "all ${#TARGETS[@]} target(s) ran ${SECS}s without a crash"
