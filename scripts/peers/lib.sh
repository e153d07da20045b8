# shellcheck shell=bash
# Shared helpers for the peer harness. Sourced by server.sh, client.sh, stop.sh,
# truefb.sh and selftest.sh. Nothing here starts a process by itself.
#
# Environment knobs (all optional):
#   PEERS_RUN_DIR    where pid files, logs and scratch files go   (default: <repo>/.peers-run)
#   PEERS_BUILD_DIR  compiled C helpers                           (default: <repo>/target/peers-build)
#   PEERS_DISPLAYS   X display numbers the harness may use        (default: "90 91 ... 99")
#   PEERS_PORTS      port range for helper listeners (websockify) (default: "15900 15999")
#   PEERS_PYTHON     python with PIL+numpy          (default: /usr/bin/python3 if it has them)

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# repository root (scripts/peers/../..): run files go to <repo>/.peers-run (git-ignored),
# compiled C helpers to <repo>/target/peers-build (built by scripts/install-deps.sh).
PEERS_REPO_DIR="$(cd "$PEERS_DIR/../.." && pwd)"
PEERS_RUN_DIR="${PEERS_RUN_DIR:-$PEERS_REPO_DIR/.peers-run}"
PEERS_BUILD_DIR="${PEERS_BUILD_DIR:-$PEERS_REPO_DIR/target/peers-build}"
PEERS_DISPLAYS="${PEERS_DISPLAYS:-90 91 92 93 94 95 96 97 98 99}"
PEERS_PORTS="${PEERS_PORTS:-15900 15999}"
# Debian's python3 has PIL + numpy (python3-pil, python3-numpy); a pyenv/other python3 on
# PATH may not, so prefer /usr/bin/python3.
if [ -z "${PEERS_PYTHON:-}" ]; then
    if /usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null; then PEERS_PYTHON=/usr/bin/python3
    else PEERS_PYTHON=python3; fi
fi
mkdir -p "$PEERS_RUN_DIR"

log()  { echo "[peers] $*" >&2; }
die()  { echo "[peers] ERROR: $*" >&2; exit 2; }

# now in milliseconds
now_ms() { date +%s%3N; }

# pid_alive PID
pid_alive() { pid_running "$1"; }

# port_listening PORT  -> 0 if something listens on TCP PORT (any address)
port_listening() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . 
}

# wait_port PORT PID TIMEOUT_S -> 0 when PORT listens; 1 if PID died or timeout
wait_port() {
    local port=$1 pid=$2 t=$3 end
    end=$(( $(now_ms) + t * 1000 ))
    while [ "$(now_ms)" -lt "$end" ]; do
        port_listening "$port" && return 0
        if [ -n "$pid" ] && ! pid_alive "$pid"; then return 1; fi
        sleep 0.1
    done
    return 1
}

# free_port -> prints a free port from PEERS_PORTS (not listening, not reserved by us recently)
free_port() {
    local lo hi p
    read -r lo hi <<<"$PEERS_PORTS"
    for p in $(seq "$lo" "$hi" | shuf); do
        port_listening "$p" && continue
        # reserve with a lock file so two concurrent harness runs don't pick the same one
        if ( set -o noclobber; echo $$ > "$PEERS_RUN_DIR/.port-$p" ) 2>/dev/null; then
            echo "$p"; return 0
        fi
        # stale reservation (owner gone)?
        if ! pid_alive "$(cat "$PEERS_RUN_DIR/.port-$p" 2>/dev/null)"; then
            echo $$ > "$PEERS_RUN_DIR/.port-$p"; echo "$p"; return 0
        fi
    done
    return 1
}
release_port() { rm -f "$PEERS_RUN_DIR/.port-$1"; }

# display_busy N -> 0 if X display :N seems to be in use by a live server
display_busy() {
    local n=$1 lock="/tmp/.X$1-lock" pid
    if [ -e "$lock" ]; then
        pid=$(tr -dc '0-9' < "$lock" 2>/dev/null)
        pid_alive "$pid" && return 0
    fi
    [ -S "/tmp/.X11-unix/X$n" ] && [ ! -e "$lock" ] && return 0
    return 1
}

# start_x CMD... with the literal token @DISPLAY@ standing for ":N".
# Tries each display in PEERS_DISPLAYS, starts the server in its own session,
# waits until it accepts X connections. Sets X_PID and X_DISPLAY. Log to $X_LOG.
start_x() {
    local n args pid i ok
    X_LOG="${X_LOG:-/dev/null}"
    for n in $PEERS_DISPLAYS; do
        display_busy "$n" && continue
        args=()
        for i in "$@"; do args+=("${i//@DISPLAY@/:$n}"); done
        setsid "${args[@]}" >>"$X_LOG" 2>&1 < /dev/null &
        pid=$!
        ok=0
        for i in $(seq 1 100); do
            if ! pid_alive "$pid"; then break; fi
            if [ -S "/tmp/.X11-unix/X$n" ] && xdpyinfo -display ":$n" >/dev/null 2>&1; then ok=1; break; fi
            sleep 0.1
        done
        if [ "$ok" = 1 ]; then X_PID=$pid; X_DISPLAY=":$n"; return 0; fi
        pid_alive "$pid" && kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    return 1
}

# make_vnc_passwd PW FILE  -> classic obfuscated VNC password file (DES, first 8 chars)
make_vnc_passwd() {
    local pw=$1 f=$2 tool
    for tool in tigervncpasswd vncpasswd tightvncpasswd; do
        if command -v "$tool" >/dev/null; then
            printf '%s\n' "$pw" | "$tool" -f > "$f" 2>/dev/null && [ -s "$f" ] && { chmod 600 "$f"; return 0; }
        fi
    done
    die "no vncpasswd tool found (install tigervnc-tools)"
}

# pid_running PID -> 0 if PID exists and is not a zombie
pid_running() {
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# kill_pids PID... : TERM, wait up to 3 s, then KILL. Only the given PIDs.
kill_pids() {
    local p end alive
    for p in "$@"; do pid_running "$p" && kill -TERM "$p" 2>/dev/null; done
    end=$(( $(now_ms) + 3000 ))
    while [ "$(now_ms)" -lt "$end" ]; do
        alive=0
        for p in "$@"; do pid_running "$p" && alive=1; done
        [ "$alive" = 0 ] && return 0
        sleep 0.1
    done
    for p in "$@"; do pid_running "$p" && kill -KILL "$p" 2>/dev/null; done
    return 0
}

# children_of PID -> direct children PIDs
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

# png_of_display DISPLAY OUT.png [CROP WxH+X+Y] : exact screenshot of an X display
png_of_display() {
    local d=$1 out=$2 crop=${3:-} tmp
    tmp="$out.xwd.$$"
    xwd -root -silent -display "$d" > "$tmp" || { rm -f "$tmp"; return 1; }
    "$PEERS_PYTHON" "$PEERS_DIR/img.py" xwd2png "$tmp" "$out" ${crop:+--crop "$crop"}
    local rc=$?
    rm -f "$tmp"
    return $rc
}
