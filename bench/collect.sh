#!/usr/bin/env bash
# The live collector (`qtap --read unix:SOCK`), measured three ways, on
# loopback and in a temp dir:
#
# 1. Raw ingest: a capture replayed over a Unix socket with `fstrm_replay`
#    (the bidirectional handshake, as fast as the collector reads) into
#    `qtap --no-output --write F`, side by side with `fstrm_capture -w F` and
#    the Go `dnstap -u SOCK -w F`. Wall time of the replay (it ends when the
#    collector has taken the last frame and answered STOP with FINISH), and
#    the frames found in the file afterwards.
# 2. Live rendering: the same replay into `qtap --read unix:SOCK` (dig text
#    to /dev/null), next to `qtap --read FILE` of the same capture.
# 3. A real server: knotd with mod-dnstap sending to qtap's socket, driven by
#    dnsperf; the frames qtap saved against twice the queries dnsperf got
#    answers for (zero lost is the target).
#
# Usage: bench/collect.sh                 (200,000 frames, 3 rounds)
#        FRAMES=1000000 ROUNDS=5 bench/collect.sh
#        UPDATE_DOC=1 bench/collect.sh    (also rewrites the collect block of BENCHMARKS.md)
# Knobs: QTAP=path (skip the build), CAPTURE=file, QPS (dnsperf's rate while
# making the capture, default 40000), LIVE_QPS (dnsperf's rate in part 3,
# default 0 = unlimited), KEEP=1.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${FRAMES:-200000}
ROUNDS=${ROUNDS:-3}
UPDATE_DOC=${UPDATE_DOC:-0}
CAPTURE=${CAPTURE:-}
LIVE_QPS=${LIVE_QPS:-0}

bench_init

need_file /usr/bin/time time
need python3 python3
need fstrm_replay fstrm-bin
need fstrm_capture fstrm-bin
need dnstap golang-github-dnstap-golang-dnstap-cli
need knotd knot
need knotc knot
need_pkg knot-module-dnstap
need dnsperf dnsperf
build_qtap

bench_capture "$FRAMES"
frames=$CAPTURE_FRAMES
bytes=$CAPTURE_BYTES

SOCK=$WORK/c.sock
COLLECTOR_PID=""

# wait_sock: until the collector's socket exists.
wait_sock() {
    local _
    for _ in $(seq 1 200); do
        [ -S "$SOCK" ] && return 0
        sleep 0.05
    done
    die "no socket at $SOCK"
}

# stop_collector SIGNAL: signals the collector and waits for it.
stop_collector() {
    [ -n "$COLLECTOR_PID" ] || return 0
    kill "-$1" "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
    COLLECTOR_PID=""
    rm -f "$SOCK"
}

# replay_into NAME OUT: starts collector NAME on $SOCK (writing OUT, or
# rendering), replays the capture into it, stops it; prints "WALL RSS".
replay_into() {
    local name=$1 out=$2 stop=TERM
    rm -f "$SOCK" "$out"
    case $name in
    qtap-write) /usr/bin/time -v -o "$WORK/c.time" "$QTAP" --read "unix:$SOCK" --no-output --write "$out" 2>"$WORK/c.err" >/dev/null & ;;
    qtap-text) /usr/bin/time -v -o "$WORK/c.time" "$QTAP" --read "unix:$SOCK" 2>"$WORK/c.err" >/dev/null & ;;
    fstrm_capture)
        stop=INT
        /usr/bin/time -v -o "$WORK/c.time" fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$out" 2>"$WORK/c.err" >/dev/null &
        ;;
    go-dnstap) /usr/bin/time -v -o "$WORK/c.time" dnstap -u "$SOCK" -w "$out" 2>"$WORK/c.err" >/dev/null & ;;
    esac
    COLLECTOR_PID=$!
    wait_sock
    local start end
    start=$EPOCHREALTIME
    fstrm_replay -t protobuf:dnstap.Dnstap -u "$SOCK" -r "$CAPTURE" >/dev/null 2>&1 || log "warning: fstrm_replay failed for $name"
    end=$EPOCHREALTIME
    # /usr/bin/time passes the signal on to the collector.
    kill "-$stop" "$(pgrep -P "$COLLECTOR_PID" | head -1)" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
    COLLECTOR_PID=""
    rm -f "$SOCK"
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/c.time")
    awk -v s="$start" -v e="$end" -v r="$rss" 'BEGIN { printf "%.3f %s\n", e - s, r }'
}

collectors=(qtap-write fstrm_capture go-dnstap qtap-text)
: >"$WORK/runs.txt"
n=${#collectors[@]}
for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do
        name=${collectors[$(((k + round - 1) % n))]}
        read -r wall rss < <(replay_into "$name" "$WORK/out.fstrm")
        got="-"
        if [ -s "$WORK/out.fstrm" ]; then read -r got _ < <(count_frames "$WORK/out.fstrm"); fi
        printf '%s %s %s %s %s\n' "$round" "$name" "$wall" "$rss" "$got" >>"$WORK/runs.txt"
        log "round $round/$ROUNDS $name: ${wall}s, $((rss / 1024)) MiB, $got frames saved"
    done
    read -r wall rss code < <(timed "$WORK/run" "$QTAP" --read "$CAPTURE")
    printf '%s %s %s %s %s\n' "$round" qtap-read-file "$wall" "$rss" - >>"$WORK/runs.txt"
    log "round $round/$ROUNDS qtap --read FILE: ${wall}s"
done

# --- part 3: knotd + dnsperf into qtap --------------------------------------

LIVE_QUERIES=$(((frames + 1) / 2))
port=$(free_port)
rm -f "$SOCK"
"$QTAP" --read "unix:$SOCK" --no-output --write "$WORK/live.fstrm" 2>"$WORK/live.err" >/dev/null &
COLLECTOR_PID=$!
wait_sock
knot_start "$port" "unix:$SOCK"
make_queries "$LIVE_QUERIES" "$WORK/queries.txt"
rate=()
if [ "$LIVE_QPS" -gt 0 ]; then rate=(-Q "$LIVE_QPS"); fi
dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.txt" -n 1 -c 4 -q 100 -e -t 2 "${rate[@]}" >"$WORK/dnsperf.log" 2>&1 ||
    die "dnsperf failed"
completed=$(awk '/Queries completed:/ { print $3 }' "$WORK/dnsperf.log")
qps=$(awk '/Queries per second:/ { print $4 }' "$WORK/dnsperf.log")
knot_stop
stop_collector TERM
read -r live_frames _ < <(count_frames "$WORK/live.fstrm")
log "knotd + dnsperf: $completed queries answered at $qps q/s, $live_frames frames saved by qtap"

# --- the report -------------------------------------------------------------

column() { awk -v n="$1" -v f="$2" '$2 == n { print $f }' "$WORK/runs.txt"; }
report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/collect.sh\` (FRAMES=$FRAMES ROUNDS=$ROUNDS)."
    echo
    echo "- Machine: $(machine_desc)"
    echo "- Capture: $frames data frames, $bytes bytes; $CAPTURE_HOW."
    echo "- Replay: \`fstrm_replay -t protobuf:dnstap.Dnstap -u SOCK -r CAPTURE\` (bidirectional), wall time of the"
    echo "  replay, median (min–max) over $ROUNDS interleaved rounds; max RSS of the collector."
    echo
    echo "| collector | frames/s | wall s | max RSS MiB | frames in the file |"
    echo "|---|---:|---:|---:|---:|"
    for entry in "qtap-write|qtap --read unix:SOCK --no-output --write F" \
        "fstrm_capture|fstrm_capture -u SOCK -w F" \
        "go-dnstap|dnstap -u SOCK -w F" \
        "qtap-text|qtap --read unix:SOCK (dig text to /dev/null)" \
        "qtap-read-file|qtap --read FILE (the same frames from the file, for reference)"; do
        name=${entry%%|*}
        label=${entry#*|}
        read -r wm wmin wmax < <(column "$name" 3 | stats)
        read -r rm _ _ < <(column "$name" 4 | stats)
        saved=$(column "$name" 5 | sort -u | tr '\n' ' ' | sed 's/ $//')
        fps() { awk -v f="$frames" -v w="$1" 'BEGIN { if (w > 0) printf "%.0f", f / w; else print "-" }'; }
        echo "| \`$label\` | $(fps "$wm") ($(fps "$wmax")–$(fps "$wmin")) | $(fmt "$wm" 2) ($(fmt "$wmin" 2)–$(fmt "$wmax" 2)) | $(awk -v r="$rm" 'BEGIN { printf "%.1f", r / 1024 }') | $saved |"
    done
    echo
    lost=$((2 * completed - live_frames))
    echo "knotd $(knotd --version | awk '{ print $NF }') + mod-dnstap (\`sink: unix:SOCK\`) → \`qtap --read unix:SOCK --no-output --write F\`,"
    echo "driven by \`dnsperf -c 4 -q 100 -e -n 1${rate[*]:+ ${rate[*]}}\`: $completed queries answered at $qps q/s;"
    echo "qtap saved $live_frames frames for $((2 * completed)) expected (queries + responses): $lost lost."
} >"$report"

cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc collect "$report"
fi
