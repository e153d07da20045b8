#!/usr/bin/env bash
# install-deps.sh [--all-peers] — idempotent set-up of everything the test suite needs, on Debian 12.
#
#   * Debian packages: the real VNC peers (TigerVNC Xvnc/vncviewer, x11vnc, TightVNC's
#     Xtightvnc and xtightvncviewer, vncsnapshot, gvncviewer, noVNC + websockify +
#     Chromium, LibVNCServer/LibVNCClient headers), Xvfb and X utilities
#     (xdotool, xclip, feh, xterm), a C compiler, Python with PIL and numpy, zstd.
#     apt-get update runs only when something is missing; waits while another process
#     holds the dpkg lock.
#   * cargo-fuzz (`cargo install cargo-fuzz --locked`), only if `cargo fuzz` is missing.
#   * the C helpers of scripts/peers/src into target/peers-build/ (rebuilt when stale).
#
# The viewers of the real-peer tests (noVNC in headless Chromium through websockify,
# gvncviewer, xtightvncviewer) are installed by default; --all-peers is accepted for
# compatibility and adds nothing.
# Runs as root (CI) or with sudo. Prints one line per thing it does.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${PEERS_BUILD_DIR:-$ROOT/target/peers-build}"
ALL_PEERS=0
for a in "$@"; do
    case "$a" in
        --all-peers) ALL_PEERS=1;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "install-deps: unknown option $a" >&2; exit 2;;
    esac
done
say() { echo "[install-deps] $*"; }

APT_PKGS=(
    xvfb x11-utils x11-xserver-utils x11-apps xdotool xterm xfonts-base feh xclip
    tigervnc-standalone-server tigervnc-viewer tigervnc-tools x11vnc vncsnapshot tightvncserver
    libvncserver-dev libjpeg-dev pkg-config gcc g++ libc6-dev make
    python3 python3-venv python3-pil python3-numpy imagemagick zstd
    iproute2 procps coreutils util-linux ca-certificates
    novnc websockify chromium fonts-dejavu-core gvncviewer xtightvncviewer
)
if [ "$ALL_PEERS" = 1 ]; then
    # Everything the tests use is installed by default now; kept for compatibility.
    :
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing ${missing[*]}"
    APT_ERR="$(mktemp)"
    trap 'rm -f "$APT_ERR"' EXIT
    apt_retry() {  # apt_retry CMD... : retries while the dpkg lock is held (up to 10 min)
        local i
        for i in $(seq 1 60); do
            if $SUDO env DEBIAN_FRONTEND=noninteractive "$@" > /dev/null 2> "$APT_ERR"; then return 0; fi
            if grep -qiE "could not get lock|dpkg frontend lock|is another process using it|unable to lock" "$APT_ERR"; then
                say "dpkg lock busy, waiting 10 s ($i/60)"; sleep 10; continue
            fi
            cat "$APT_ERR" >&2; return 1
        done
        say "gave up waiting for the dpkg lock"; return 1
    }
    apt_retry apt-get update -q
    apt_retry apt-get install -y -q "${missing[@]}"
    say "apt: done"
else
    say "apt: all ${#APT_PKGS[@]} packages present"
fi

# ---------------------------------------------------------------- cargo-fuzz
if cargo fuzz --version > /dev/null 2>&1; then
    say "cargo-fuzz: present ($(cargo fuzz --version 2>/dev/null | head -n 1))"
else
    say "cargo-fuzz: installing (cargo install cargo-fuzz --locked, a few minutes)"
    cargo install --quiet cargo-fuzz --locked
    say "cargo-fuzz: $(cargo fuzz --version | head -n 1)"
fi

# ---------------------------------------------------------------- C helpers
mkdir -p "$BUILD"
build() {  # build OUT SRC FLAGS... : compile when missing or older than its source
    local out=$1 src=$ROOT/scripts/peers/src/$2; shift 2
    if [ ! -e "$BUILD/$out" ] || [ "$src" -nt "$BUILD/$out" ]; then
        say "building target/peers-build/$out"
        gcc -O2 -Wall -o "$BUILD/$out" "$src" "$@"
    fi
}
build jpegshim.so jpegshim.c -shared -fPIC -ldl
# shellcheck disable=SC2046
build lvs_server lvs_server.c $(pkg-config --cflags --libs libvncserver)
# shellcheck disable=SC2046
build lvc_client lvc_client.c $(pkg-config --cflags --libs libvncclient)
say "C helpers: $BUILD/{jpegshim.so,lvs_server,lvc_client}"
say "done"
