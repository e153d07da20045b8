#!/usr/bin/env bash
# same-run.sh: TigerVNC's encperf and our rfb-bench on the same corpus files, in the same
# run, alternating (encperf, rfb-bench, encperf, rfb-bench, ...) so that load drifts on a
# shared machine hit both; prints one TSV line per file x profile with the medians.
#
# Usage:
#   benches/tools/same-run.sh --encperf /work/tigervnc-build/tests/perf/encperf \
#       [--runs N (default 3)] [--profiles tight,tight-lossless,zrle[,hextile]] \
#       [--files terminal,office,web,windows,photos,video] [--quality Q (8)] [--compress C (2)] \
#       [--warmup] [--no-tiger-psnr] [--rfb-bench PATH] [--corpus DIR] [--cache DIR] \
#       [--log FILE] > out.tsv
#
# --files takes workload names (terminal) or file stems (terminal-1280x720); default all
# files of manifest.json. encperf needs the decompressed stream: it is written once to
# --cache (default /tmp/encperf-corpus, ~1.4 GB for the whole corpus) and reused.
# --warmup runs one untimed encperf + rfb-bench pair per file x profile first.
# --log FILE appends every single measurement (not only the medians) to FILE.
# --no-tiger-psnr skips the extra, untimed encperf psnr=1 replay per file for `tight`.
#
# encperf needs additions that TigerVNC's tests/perf/encperf.cxx does not have: it
# hard-codes the encodings it announces (Tight, CopyRect, RRE, Hextile, ZRLE, LastRect,
# quality 8, compress 2), always does an untimed warm-up run and measures no quality.
# README-same-run.md (beside this script) describes the patch (parameters `encodings=`,
# `warmup=` and `psnr=`; the defaults keep upstream behaviour) and the build. The
# profiles announce:
#   tight           7,1,2,5,16,-224,-32+Q,-256+C  (upstream encperf's own list when Q=8,C=2)
#   tight-lossless  7,1,2,5,16,-224,-256+C        (the same without a quality level)
#   zrle            16,1,-224,-256+C              (ZRLE, CopyRect, LastRect only: every
#                                                  rect, solid ones too, is ZRLE)
#   hextile         5,1,-224                      (Hextile, CopyRect, LastRect)
# and rfb-bench runs --encoding tight --quality Q --compress C / tight-lossless --compress C /
# zrle-planner --compress C / hextile, always with --runs 1 --no-damage --json.
#
# WHAT EACH CPU FIGURE COVERS (read before quoting a ratio):
#
# tiger_cpu_s = encperf's "CPU time (encoding)": getrusage(RUSAGE_SELF) user+system time
#   (the whole process; encperf is single-threaded) around EncodeManager::writeUpdate() of
#   each FramebufferUpdate, summed over the recording. That is TigerVNC's whole server-side
#   update path: prepareEncoders, the search for solid areas (writeSolidRects:
#   findSolidRect/extendSolidArea over the changed region), splitting the region into
#   sub-rectangles, per-rectangle analysis (solid check, palette counting, choice of
#   encoder class), the encoders themselves (zlib 1.2.13 / libjpeg-turbo 2.1.5 from Debian)
#   and the writes into a discarding output buffer. NOT included (encperf counts it as
#   "CPU time (decoding)", which this script ignores): reading the file, parsing the
#   recorded messages, decoding the Raw rectangles into the framebuffer including the
#   rgb888 -> encperf-internal pixel format conversion (which also drops the garbage
#   fourth byte of the recording), and applying CopyRects. The changed region is the union
#   of the recording's Raw rectangles; encperf does no change detection. CopyRects are
#   applied to the framebuffer but never re-sent or counted (encperf's own "FIXME").
#
# ours_cpu_s = rfb-bench's cpu_s: CLOCK_THREAD_CPUTIME_ID (user+system of the encoding
#   thread) around each update's encode call(s) only, summed. For tight / tight-lossless
#   that is BenchSession::encode, our update planner (solid areas, splitting, encoder
#   choice, Tight incl. JPEG) -- the same scope as EncodeManager::writeUpdate; zrle runs
#   rfb-bench's zrle-planner profile (the planner with a ZRLE-only viewer: splitting and
#   ZRLE; no solid areas, since a ZRLE-only viewer gets no RRE fills; the compress level
#   goes through planner::ZLIB_LEVEL_FOR_COMPRESS). For hextile rfb-bench has no planner:
#   each recorded Raw rectangle is encoded as it is, so ours does LESS work there and the
#   ratio flatters us by whatever TigerVNC spends on that analysis. Not included either: reading
#   and zstd-decoding the file, replaying rectangles into the framebuffer (incl. clearing
#   the fourth byte), our decoder and the exactness/PSNR check (reported separately by
#   rfb-bench, ignored here), damage tracking (switched off with --no-damage).
#
# Both tools run as separate processes, one replay each (encperf count=1 warmup=0,
# rfb-bench --runs 1), cold in the same way: the input file is in the page cache for both,
# the encoder state (zlib streams, JPEG compressor) is fresh for both.
#
# BYTES: tiger_bytes = encperf's "Encoded bytes": the 12-byte header + payload of every
#   rectangle TigerVNC encoded; FramebufferUpdate headers (4 bytes) and LastRect markers
#   are not counted. ours_bytes = rfb-bench's bytes minus 4 x updates (its bytes include
#   the 4-byte update headers), so both count rectangle headers + payloads. CopyRects are
#   counted by neither.
# PSNR, same definition on both sides: after every update the whole decoded frame is
#   compared with the replayed frame over 8-bit R, G, B; PSNR = 10 log10(255^2 / MSE) with
#   MSE = squared error summed over all updates / (updates x width x height x 3); "exact"
#   when every update decoded identical. ours_psnr is rfb-bench's psnr_db. tiger_psnr
#   comes from one more encperf replay with psnr=1 (patched encperf: TigerVNC's own
#   CConnection/DecodeManager decodes what EncodeManager wrote, after applying the
#   recording's CopyRects as a viewer would; done outside encperf's timers, and that
#   replay's CPU figures are discarded). Only for `tight` (the lossless profiles decode
#   exactly; checked once by hand on terminal), and empty with --no-tiger-psnr.
#   ANCHORS.md's TigerVNC PSNRs were computed another way (unknown) and are lower.
#
# Output columns (TSV, first line is the header):
#   file profile tiger_cpu_s tiger_bytes tiger_psnr ours_cpu_s ours_bytes ours_psnr
#   cpu_ratio (ours/tiger) bytes_ratio (ours/tiger)
# Medians over --runs (mean of the two middle values for an even count). Progress and the
# per-run values go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=/usr/bin/python3

encperf=""
rfb_bench="$repo/target/release/rfb-bench"
corpus=/work/shared/corpus
cache=/tmp/encperf-corpus
runs=3
profiles=tight,tight-lossless,zrle
files=""
quality=8
compress=2
warmup=0
tiger_psnr=1
log=""

die() { echo "same-run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --encperf) encperf=${2:?}; shift 2 ;;
        --rfb-bench) rfb_bench=${2:?}; shift 2 ;;
        --corpus) corpus=${2:?}; shift 2 ;;
        --cache) cache=${2:?}; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --profiles) profiles=${2:?}; shift 2 ;;
        --files) files=${2:?}; shift 2 ;;
        --quality) quality=${2:?}; shift 2 ;;
        --compress) compress=${2:?}; shift 2 ;;
        --warmup) warmup=1; shift ;;
        --no-tiger-psnr) tiger_psnr=0; shift ;;
        --log) log=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

[ -n "$encperf" ] || die "--encperf PATH is required"
[ -x "$encperf" ] || die "encperf not executable: $encperf"
[ -x "$rfb_bench" ] || die "rfb-bench not found: $rfb_bench (cargo build --release -p rfb-benches)"
[ -f "$corpus/manifest.json" ] || die "no manifest.json in $corpus"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$quality" =~ ^[0-9]$ ]] || die "--quality must be 0-9"
[[ "$compress" =~ ^[0-9]$ ]] || die "--compress must be 0-9"
command -v zstd >/dev/null || die "zstd is needed to decompress the corpus for encperf"

# The patched encperf knows `encodings=`; an unpatched one would silently run its
# built-in Tight q8 list for every profile, so refuse it.
encperf_help=$("$encperf" --help 2>&1 || true)
if ! grep -q '^ *encodings ' <<<"$encperf_help"; then
    die "$encperf lacks the encodings= parameter: apply the patch in benches/tools/README-same-run.md"
fi
if ! grep -q '^ *psnr ' <<<"$encperf_help"; then
    echo "same-run.sh: $encperf has no psnr= parameter; tiger_psnr stays empty" >&2
    tiger_psnr=0
fi

# file stem, width, height, format for every selected corpus file
selection=$("$py" - "$corpus/manifest.json" "$files" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
want = [w for w in sys.argv[2].split(",") if w]
out = []
for f in m["files"]:
    stem = f["name"][: -len(".rfb.zst")]
    if want and f["workload"] not in want and stem not in want:
        continue
    args = dict(kv.split("=", 1) for kv in f["encperf_args"].split())
    out.append((stem, args["width"], args["height"], args["format"]))
found = {s for s, *_ in out} | {f["workload"] for f in m["files"] if f["name"][:-8] in {s for s, *_ in out}}
missing = [w for w in want if w not in found]
if missing:
    sys.exit("unknown file(s): " + ",".join(missing))
for o in out:
    print(" ".join(o))
EOF
) || die "bad --files"

tiger_encodings() {
    case "$1" in
        tight) echo "7,1,2,5,16,-224,$((quality - 32)),$((compress - 256))" ;;
        tight-lossless) echo "7,1,2,5,16,-224,$((compress - 256))" ;;
        zrle) echo "16,1,-224,$((compress - 256))" ;;
        hextile) echo "5,1,-224" ;;
        *) return 1 ;;
    esac
}
ours_args() {
    case "$1" in
        tight) echo "--encoding tight --quality $quality --compress $compress" ;;
        tight-lossless) echo "--encoding tight-lossless --compress $compress" ;;
        zrle) echo "--encoding zrle-planner --compress $compress" ;;
        hextile) echo "--encoding hextile" ;;
        *) return 1 ;;
    esac
}
IFS=, read -r -a profile_list <<<"$profiles"
for p in "${profile_list[@]}"; do
    tiger_encodings "$p" >/dev/null || die "unknown profile $p (tight, tight-lossless, zrle, hextile)"
done

mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# same-run.sh $(date -u +%FT%TZ) runs=$runs quality=$quality compress=$compress host=$(hostname) load=$(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Run private copies, so that a rebuild of target/release/rfb-bench (the target dir is
# shared) or of encperf during the run cannot mix two binaries into one table.
echo "# encperf: $encperf ($("$encperf" --version 2>&1 | grep -m1 TigerVNC || true), sha256 $(sha256sum <"$encperf" | cut -c1-16))" >&2
echo "# rfb-bench: $rfb_bench (built $(date -u -r "$rfb_bench" +%FT%TZ), sha256 $(sha256sum <"$rfb_bench" | cut -c1-16))" >&2
cp "$encperf" "$tmp/encperf"
cp "$rfb_bench" "$tmp/rfb-bench"
encperf=$tmp/encperf
rfb_bench=$tmp/rfb-bench

# One encperf replay; prints "cpu_s bytes".
run_tiger() { # stem width height format encodings
    local out
    out=$("$encperf" "width=$2" "height=$3" "format=$4" count=1 warmup=0 "encodings=$5" \
        "$cache/$1.rfb" 2>"$tmp/tiger.err") || { cat "$tmp/tiger.err" >&2; die "encperf failed on $1"; }
    "$py" -c '
import re, sys
t = sys.stdin.read()
cpu = re.search(r"^CPU time \(encoding\): ([0-9.e+-]+) s", t, re.M)
b = re.search(r"^Encoded bytes: ([0-9]+)", t, re.M)
if not (cpu and b):
    sys.exit("cannot parse encperf output:\n" + t)
print(cpu.group(1), b.group(1))' <<<"$out"
}

# One untimed encperf replay that decodes and compares; prints the PSNR (or "exact").
run_tiger_psnr() { # stem width height format encodings
    local out
    out=$("$encperf" "width=$2" "height=$3" "format=$4" count=1 warmup=0 psnr=1 "encodings=$5" \
        "$cache/$1.rfb" 2>"$tmp/tiger.err") || { cat "$tmp/tiger.err" >&2; die "encperf psnr=1 failed on $1"; }
    "$py" -c '
import re, sys
m = re.search(r"^PSNR: (exact|[0-9.]+)", sys.stdin.read(), re.M)
print(m.group(1) if m else "")' <<<"$out"
}

# One rfb-bench replay; prints "cpu_s bytes psnr".
run_ours() { # stem profile
    local out
    # shellcheck disable=SC2046  # ours_args is a fixed list of words
    out=$("$rfb_bench" --json --runs 1 --no-damage $(ours_args "$2") "$corpus/$1.rfb.zst" \
        2>"$tmp/ours.err") || { cat "$tmp/ours.err" >&2; die "rfb-bench failed on $1"; }
    "$py" -c '
import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l.startswith("{")]
if len(lines) != 1:
    sys.exit("expected one JSON line from rfb-bench, got %d" % len(lines))
j = json.loads(lines[0])
psnr = j.get("psnr_db", "exact")
print(j["cpu_s"], j["bytes"] - 4 * j["updates"], psnr if isinstance(psnr, str) else "%.3f" % psnr)' <<<"$out"
}

[ -n "$log" ] && echo -e "# $(date -u +%FT%TZ) file\tprofile\trun\ttool\tcpu_s\tbytes\tpsnr" >>"$log"

printf 'file\tprofile\ttiger_cpu_s\ttiger_bytes\ttiger_psnr\tours_cpu_s\tours_bytes\tours_psnr\tcpu_ratio\tbytes_ratio\n'

while read -r stem width height format; do
    [ -n "$stem" ] || continue
    if [ ! -s "$cache/$stem.rfb" ]; then
        echo "decompressing $stem.rfb.zst -> $cache/$stem.rfb" >&2
        zstd -q -dc --long=27 "$corpus/$stem.rfb.zst" >"$cache/$stem.rfb.part"
        mv "$cache/$stem.rfb.part" "$cache/$stem.rfb"
    fi
    for p in "${profile_list[@]}"; do
        enc=$(tiger_encodings "$p")
        if [ "$warmup" = 1 ]; then
            run_tiger "$stem" "$width" "$height" "$format" "$enc" >/dev/null
            run_ours "$stem" "$p" >/dev/null
        fi
        : >"$tmp/tiger" && : >"$tmp/ours"
        for ((i = 1; i <= runs; i++)); do
            t=$(run_tiger "$stem" "$width" "$height" "$format" "$enc")
            o=$(run_ours "$stem" "$p")
            echo "$t" >>"$tmp/tiger"
            echo "$o" >>"$tmp/ours"
            echo "$stem $p run $i/$runs: tiger cpu_s bytes = $t | ours cpu_s bytes psnr = $o" >&2
            if [ -n "$log" ]; then
                printf '%s\t%s\t%d\ttiger\t%s\t%s\t\n' "$stem" "$p" "$i" ${t} >>"$log"
                printf '%s\t%s\t%d\tours\t%s\t%s\t%s\n' "$stem" "$p" "$i" ${o} >>"$log"
            fi
        done
        tpsnr=""
        if [ "$tiger_psnr" = 1 ] && [ "$p" = tight ]; then
            tpsnr=$(run_tiger_psnr "$stem" "$width" "$height" "$format" "$enc")
            echo "$stem $p: tiger psnr = $tpsnr" >&2
        fi
        "$py" - "$stem" "$p" "$tmp/tiger" "$tmp/ours" "$tpsnr" <<'EOF'
import statistics, sys
stem, prof, tf, of, tpsnr = sys.argv[1:]
tiger = [l.split() for l in open(tf) if l.strip()]
ours = [l.split() for l in open(of) if l.strip()]
tc = statistics.median(float(r[0]) for r in tiger)
tb = statistics.median(int(r[1]) for r in tiger)
oc = statistics.median(float(r[0]) for r in ours)
ob = statistics.median(int(r[1]) for r in ours)
for name, rows in (("encperf", tiger), ("rfb-bench", ours)):
    if len({r[1] for r in rows}) > 1:
        print("warning: %s bytes differ between runs on %s %s" % (name, stem, prof), file=sys.stderr)
psnrs = sorted({r[2] for r in ours})
psnr = psnrs[0] if len(psnrs) == 1 else "/".join(psnrs)
print("\t".join([stem, prof, "%.6f" % tc, "%d" % tb, tpsnr, "%.6f" % oc, "%d" % ob, psnr,
                 "%.3f" % (oc / tc), "%.4f" % (ob / tb)]))
EOF
    done
done <<<"$selection"
