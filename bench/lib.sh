# shellcheck shell=bash
# Shared helpers of the bench/ scripts: installing the peer
# tools, a throwaway knotd on loopback, timing with /usr/bin/time, medians,
# and rewriting a marked block of BENCHMARKS.md.
#
# Sourced, never run. It must not start anything on its own: the scripts
# call bench_init first, which sets up the temp dir and the cleanup trap.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
# The cargo profile to build: release (stripped, what users get), or
# profiling (release with line tables and symbols, for callgrind and perf).
PROFILE=${PROFILE:-release}
QTAP=${QTAP:-$ROOT/target/$PROFILE/qtap}

# Set by bench_init / knot_start; read by the cleanup trap.
WORK=""
KNOT_PID=""
KNOT_CONF=""
# Set by knot_start_free: the port that knotd serves on.
KNOT_PORT=""

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt_install PACKAGE: apt-get install, as root or through sudo.
apt_install() {
    local pkg=$1 sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo: apt-get install $pkg yourself"
        sudo=sudo
    fi
    log "installing Debian package $pkg"
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        $sudo apt-get update -qq || true
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg" >/dev/null ||
        die "cannot install $pkg"
}

# need CMD PACKAGE: installs the Debian package when CMD is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_install "$2"
    command -v "$1" >/dev/null 2>&1 || die "$2 is installed but $1 is still missing"
}

# need_file FILE PACKAGE: the same for a file (/usr/bin/time).
need_file() {
    [ -e "$1" ] && return 0
    apt_install "$2"
    [ -e "$1" ] || die "$2 is installed but $1 is still missing"
}

# need_pkg PACKAGE: a package with no command of its own (knot-module-dnstap).
need_pkg() {
    dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' && return 0
    apt_install "$1"
}

# need_knot_bench [dnstap]: what every knotd-and-dnsperf script needs:
# /usr/bin/time (timed), python3 (free_port), knotd and knotc, dnsperf;
# with "dnstap", knotd's mod-dnstap too.
need_knot_bench() {
    need_file /usr/bin/time time
    need python3 python3
    need knotd knot
    need knotc knot
    need dnsperf dnsperf
    if [ "${1:-}" = dnstap ]; then
        need_pkg knot-module-dnstap
    fi
}

cleanup() {
    local status=$?
    if [ -n "$KNOT_PID" ] && kill -0 "$KNOT_PID" 2>/dev/null; then
        kill "$KNOT_PID" 2>/dev/null || true
        wait "$KNOT_PID" 2>/dev/null || true
    fi
    KNOT_PID=""
    if [ -n "$WORK" ] && [ -d "$WORK" ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    elif [ -n "$WORK" ]; then
        log "KEEP set: leaving $WORK"
    fi
    exit "$status"
}

# bench_init: a private temp dir (removed on exit, unless KEEP=1) and the trap.
bench_init() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/qtap-bench.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# build_qtap: cargo build --profile $PROFILE, unless QTAP points at a binary
# already.
build_qtap() {
    if [ "$QTAP" = "$ROOT/target/$PROFILE/qtap" ]; then
        log "cargo build --profile $PROFILE"
        (cd "$ROOT" && cargo build --profile "$PROFILE" --quiet) || die "cargo build --profile $PROFILE failed"
    fi
    [ -x "$QTAP" ] || die "no qtap binary at $QTAP"
}

# free_port: an unused TCP+UDP port on 127.0.0.1, from the kernel.
free_port() {
    python3 - <<'EOF'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    print(port)
    break
EOF
}

# knot_start_free [SINK]: knot_start on a free port, which it leaves in
# KNOT_PORT.
knot_start_free() {
    KNOT_PORT=$(free_port)
    [ -n "$KNOT_PORT" ] || die "no free port"
    knot_start "$KNOT_PORT" "${1:-}"
}

# knot_start PORT [SINK]: knotd in the foreground of a background job, as a
# plain process in $WORK/knot, serving bench.test on 127.0.0.1@PORT; with
# SINK, mod-dnstap writes every query and response to that file.
knot_start() {
    local port=$1 sink=${2:-}
    local dir=$WORK/knot
    mkdir -p "$dir/db"
    cp "$BENCH_DIR/bench.test.zone" "$dir/bench.test.zone"
    local dnstap="" module=""
    if [ -n "$sink" ]; then
        dnstap=$(printf 'mod-dnstap:\n  - id: capture\n    sink: "%s"\n    log-queries: on\n    log-responses: on\n' "$sink")
        module="    global-module: mod-dnstap/capture"
    fi
    KNOT_CONF=$dir/knot.conf
    DNSTAP=$dnstap MODULE=$module DIR=$dir PORT=$port python3 - "$BENCH_DIR/knot.conf.in" >"$KNOT_CONF" <<'EOF'
import os, sys
text = open(sys.argv[1]).read()
for key in ("DIR", "PORT", "DNSTAP"):
    text = text.replace("@%s@" % key, os.environ[key])
text = text.replace("@GLOBAL_MODULE@", os.environ["MODULE"])
sys.stdout.write(text)
EOF
    knotd -c "$KNOT_CONF" >"$dir/knotd.log" 2>&1 &
    KNOT_PID=$!
    local _
    for _ in $(seq 1 100); do
        if kdig @127.0.0.1 -p "$port" +timeout=1 +retry=0 +short www.bench.test A 2>/dev/null | grep -q 192.0.2.1; then
            log "knotd up on 127.0.0.1@$port (pid $KNOT_PID)"
            return 0
        fi
        kill -0 "$KNOT_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/knotd.log" >&2
    die "knotd did not come up"
}

# knot_stop: asks knotd to stop (so mod-dnstap writes STOP and closes the
# file) and waits for it; kills it after 20 s.
knot_stop() {
    [ -n "$KNOT_PID" ] || return 0
    knotc -c "$KNOT_CONF" -t 5 stop >/dev/null 2>&1 || kill "$KNOT_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 200); do
        kill -0 "$KNOT_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$KNOT_PID" 2>/dev/null || true
    wait "$KNOT_PID" 2>/dev/null || true
    KNOT_PID=""
}

# count_frames FILE: prints "DATA_FRAMES BYTES" of a Frame Streams file.
count_frames() {
    python3 - "$1" <<'EOF'
import os, struct, sys
path = sys.argv[1]
data = open(path, "rb").read()
pos, frames = 0, 0
while pos + 4 <= len(data):
    (n,) = struct.unpack_from(">I", data, pos)
    if n == 0:
        if pos + 8 > len(data):
            break
        (c,) = struct.unpack_from(">I", data, pos + 4)
        pos += 8 + c
    else:
        pos += 4 + n
        frames += 1
print(frames, os.path.getsize(path))
EOF
}

# make_queries N FILE: N dnsperf query lines, a realistic mix of names and
# types (answers, a CNAME, NXDOMAIN, NODATA, apex records).
make_queries() {
    awk -v n="$1" 'BEGIN {
        split("www.bench.test A|www.bench.test AAAA|bench.test MX|bench.test TXT|alias.bench.test A|" \
              "mail.bench.test A|bench.test NS|bench.test SOA|www.bench.test TXT|" \
              "host%d.bench.test A|host%d.bench.test AAAA", q, "|")
        for (i = 0; i < n; i++) {
            line = q[i % 11 + 1]
            if (line ~ /%d/) line = sprintf(line, i)
            print line
        }
    }' >"$2"
}

# make_capture FRAMES FILE: a Knot mod-dnstap capture of about FRAMES frames
# (FRAMES/2 queries and their responses, at most QPS a second, default
# 40000: faster, mod-dnstap drops a few percent of the frames when its queue
# is full; count_frames tells the real number). Starts and stops
# its own knotd; sets CAPTURE_HOW to a one-line description.
make_capture() {
    local frames=$1 file=$2 port queries rate=()
    knot_start_free "$file"
    port=$KNOT_PORT
    queries=$(((frames + 1) / 2))
    make_queries "$queries" "$WORK/queries.txt"
    if [ "${QPS:-40000}" -gt 0 ]; then rate=(-Q "${QPS:-40000}"); fi
    log "dnsperf: $queries queries (EDNS0) to 127.0.0.1@$port"
    dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.txt" -n 1 -c 4 -q 100 -e -t 2 "${rate[@]}" \
        >"$WORK/dnsperf.log" 2>&1 || { cat "$WORK/dnsperf.log" >&2; die "dnsperf failed"; }
    grep -E 'Queries (sent|completed|lost)|Queries per second' "$WORK/dnsperf.log" >&2 || true
    knot_stop
    # shellcheck disable=SC2034 # read by the caller
    CAPTURE_HOW="knotd $(knotd --version | awk '{ print $NF }') + mod-dnstap (log-queries, log-responses, sink: file), driven by \`dnsperf -c 4 -q 100 -e -n 1 ${rate[*]}\` with $queries queries over UDP on 127.0.0.1 (a mix of A, AAAA, MX, TXT, NS, SOA, CNAME and NXDOMAIN)"
}

# bench_capture FRAMES: the capture a benchmark reads. CAPTURE names a
# file to use as it is; else make_capture makes one of about FRAMES frames
# in $WORK (installing knotd, mod-dnstap and dnsperf first). Sets CAPTURE,
# CAPTURE_HOW, CAPTURE_FRAMES and CAPTURE_BYTES, and reads the file once so
# the first timed run finds it in the page cache.
bench_capture() {
    if [ -z "${CAPTURE:-}" ]; then
        need_knot_bench dnstap
        CAPTURE=$WORK/knotd-auth.fstrm
        make_capture "$1" "$CAPTURE"
    else
        CAPTURE_HOW="given file $(basename "$CAPTURE")"
    fi
    read -r CAPTURE_FRAMES CAPTURE_BYTES < <(count_frames "$CAPTURE")
    [ "$CAPTURE_FRAMES" -gt 0 ] || die "the capture has no data frame"
    log "capture: $CAPTURE_FRAMES frames, $CAPTURE_BYTES bytes ($((CAPTURE_BYTES / CAPTURE_FRAMES)) B/frame)"
    cat "$CAPTURE" >/dev/null
}

# timed OUT CMD...: runs CMD with stdout to /dev/null under /usr/bin/time -v
# and prints "WALL_SECONDS MAXRSS_KIB EXIT" (stderr of CMD goes to OUT.err).
timed() {
    local out=$1
    shift
    /usr/bin/time -v -o "$out.time" "$@" >/dev/null 2>"$out.err" || true
    awk -F': ' '
        /Elapsed \(wall clock\) time/ {
            n = split($2, p, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + p[i]
            wall = s
        }
        /Maximum resident set size/ { rss = $2 }
        /Exit status/ { code = $2 }
        END { printf "%s %s %s\n", wall, rss, code }
    ' "$out.time"
}

# stats: reads numbers, one a line; prints "MEDIAN MIN MAX".
stats() {
    sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %s %s\n", m, v[1], v[NR]
        }'
}

# fmt N DIGITS: a number with DIGITS decimals ("-" stays "-").
fmt() {
    if [ "$1" = "-" ]; then printf -- '-'; else printf "%.${2}f" "$1"; fi
}

# machine_desc: one markdown paragraph describing this machine.
machine_desc() {
    local cpu mem kernel
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    kernel=$(uname -sr)
    # shellcheck disable=SC2016 # the backquotes are markdown
    printf '%s cores (`nproc`), CPU "%s", %s RAM, %s, %s; load average %s at the start.' \
        "$(nproc)" "$cpu" "$mem" "$kernel" "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# tool_versions: the versions of the programs compared.
tool_versions() {
    printf 'qtap %s; %s; %s; %s' \
        "$("$QTAP" --version 2>/dev/null | head -n1 | awk '{ print $NF }')" \
        "$(kdig --version 2>/dev/null | head -n1)" \
        "dnstap-read from bind9-dnsutils $(dpkg-query -W -f '${Version}' bind9-dnsutils 2>/dev/null)" \
        "Go dnstap $(dpkg-query -W -f '${Version}' golang-github-dnstap-golang-dnstap-cli 2>/dev/null)"
}

# update_doc NAME FILE: replaces the block between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" of BENCHMARKS.md by FILE.
update_doc() {
    local name=$1 file=$2 doc=$ROOT/BENCHMARKS.md
    [ -f "$doc" ] || die "no $doc"
    grep -q "<!-- $name:begin -->" "$doc" || die "$doc has no <!-- $name:begin --> marker"
    python3 - "$doc" "$name" "$file" <<'EOF'
import sys
doc, name, body = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
text = open(doc).read()
begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + body.rstrip("\n") + "\n" + end + tail)
EOF
    log "updated the $name block of BENCHMARKS.md"
}
