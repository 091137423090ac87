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
#    The same replay with bench/fstrm_fast.py as the sender (it reads the
#    capture into memory first and writes 1 MiB at a time, so the sender is
#    not the limit: into its own sink that only reads, a million frames take
#    it tens of ms)
#    into its sink, `fstrm_capture`, `qtap --no-output --write` and `qtap
#    --read unix:SOCK` (dig text), next to `qtap --read FILE`: the time from
#    the sender connecting until the collector has exited (stopped by a
#    signal as soon as the sender has its FINISH, so everything queued is
#    written or rendered first), in interleaved rounds, with the ratio live
#    text / `--read FILE` of each round.
# 3. A real server: knotd with mod-dnstap sending to qtap's socket, driven by
#    dnsperf; the frames qtap saved against twice the queries dnsperf got
#    answers for (zero lost is the target).
# 4. Where frames are lost: at each rate of LOSS_RATES (q/s, 0 = as fast as
#    dnsperf goes), LOSS_QUERIES queries into knotd with three sinks in turn:
#    qtap's socket (`--no-output --write`), fstrm_capture's socket, and
#    mod-dnstap's own file sink (no collector at all). qtap never drops a
#    frame it has read (backpressure) and a Unix stream socket drops
#    nothing, so frames missing with qtap are lost in knotd's dnstap queue;
#    the file sink and fstrm_capture at the same rate tell whether a faster
#    reader would have avoided that.
#
# Usage: bench/collect.sh                 (200,000 frames, 3 rounds)
#        FRAMES=1000000 ROUNDS=5 bench/collect.sh
#        UPDATE_DOC=1 bench/collect.sh    (also rewrites the collect block of BENCHMARKS.md)
# Knobs: QTAP=path (skip the build), CAPTURE=file, QPS (dnsperf's rate while
# making the capture, default 40000), LIVE_QPS (dnsperf's rate in part 3,
# default 0 = unlimited), LOSS_RATES (part 4, default "5000 10000 20000
# 40000 0"; empty skips it), LOSS_QUERIES (default 20000), FAST_ONLY=1
# (parts 1 and 2 only with the fast sender, without fstrm_replay, knotd or
# the loss runs: a quick check of live rendering), KEEP=1.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${FRAMES:-200000}
ROUNDS=${ROUNDS:-3}
UPDATE_DOC=${UPDATE_DOC:-0}
CAPTURE=${CAPTURE:-}
LIVE_QPS=${LIVE_QPS:-0}
LOSS_RATES=${LOSS_RATES-5000 10000 20000 40000 0}
LOSS_QUERIES=${LOSS_QUERIES:-20000}
LOSS_ROUNDS=${LOSS_ROUNDS:-3}
FAST_ONLY=${FAST_ONLY:-0}

bench_init

need_knot_bench dnstap
need fstrm_replay fstrm-bin
need fstrm_capture fstrm-bin
need dnstap golang-github-dnstap-golang-dnstap-cli
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
    /usr/bin/time -v -o "$WORK/s.time" fstrm_replay -t protobuf:dnstap.Dnstap -u "$SOCK" -r "$CAPTURE" >/dev/null 2>&1 ||
        log "warning: fstrm_replay failed for $name"
    end=$EPOCHREALTIME
    # /usr/bin/time passes the signal on to the collector.
    kill "-$stop" "$(pgrep -P "$COLLECTOR_PID" | head -1)" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
    COLLECTOR_PID=""
    rm -f "$SOCK"
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/c.time")
    awk -v s="$start" -v e="$end" -v r="$rss" -v c="$(cpu_of "$WORK/c.time")" -v sc="$(cpu_of "$WORK/s.time")" \
        'BEGIN { printf "%.3f %s %s %s\n", e - s, r, c, sc }'
}

# cpu_of TIMEFILE: user + system seconds from /usr/bin/time -v's report.
cpu_of() {
    awk -F': ' '/User time|System time/ { c += $2 } END { printf "%.3f", c }' "$1"
}

collectors=(qtap-write fstrm_capture go-dnstap qtap-text)
: >"$WORK/runs.txt"
n=${#collectors[@]}
for round in $(seq 1 "$ROUNDS"); do
    [ "$FAST_ONLY" = 1 ] && break
    for k in $(seq 0 $((n - 1))); do
        name=${collectors[$(((k + round - 1) % n))]}
        read -r wall rss cpu scpu < <(replay_into "$name" "$WORK/out.fstrm")
        got="-"
        if [ -s "$WORK/out.fstrm" ]; then read -r got _ < <(count_frames "$WORK/out.fstrm"); fi
        printf '%s %s %s %s %s %s %s\n' "$round" "$name" "$wall" "$rss" "$got" "$cpu" "$scpu" >>"$WORK/runs.txt"
        log "round $round/$ROUNDS $name: ${wall}s, $((rss / 1024)) MiB, $got frames saved"
    done
    read -r wall rss code < <(timed "$WORK/run" "$QTAP" --read "$CAPTURE")
    printf '%s %s %s %s %s %s %s\n' "$round" qtap-read-file "$wall" "$rss" - "$(cpu_of "$WORK/run.time")" - >>"$WORK/runs.txt"
    log "round $round/$ROUNDS qtap --read FILE: ${wall}s"
done

# --- part 2b: a sender that is not the limit --------------------------------

FAST="$BENCH_DIR/fstrm_fast.py"

# fast_into NAME OUT: collector NAME on $SOCK, the fast sender replays the
# capture into it, the collector is stopped at FINISH; prints "WALL SEND
# RSS CPU": from the sender connecting to the collector's exit, the
# sender's own time to FINISH, and the collector's max RSS and CPU time.
fast_into() {
    local name=$1 out=$2 stop=TERM
    rm -f "$SOCK" "$out" "$WORK/c.time"
    case $name in
    sink) python3 "$FAST" sink "$SOCK" & ;;
    fstrm_capture)
        stop=INT
        /usr/bin/time -v -o "$WORK/c.time" fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$out" 2>"$WORK/c.err" >/dev/null &
        ;;
    qtap-write) /usr/bin/time -v -o "$WORK/c.time" "$QTAP" --read "unix:$SOCK" --no-output --write "$out" 2>"$WORK/c.err" >/dev/null & ;;
    qtap-text) /usr/bin/time -v -o "$WORK/c.time" "$QTAP" --read "unix:$SOCK" 2>"$WORK/c.err" >/dev/null & ;;
    esac
    COLLECTOR_PID=$!
    wait_sock
    local began send frames end
    read -r began send frames < <(python3 "$FAST" send "$SOCK" "$CAPTURE") || die "fstrm_fast.py failed for $name"
    [ "$frames" = "$CAPTURE_FRAMES" ] || die "fstrm_fast.py sent $frames frames, not $CAPTURE_FRAMES"
    if [ "$name" != sink ]; then
        kill "-$stop" "$(pgrep -P "$COLLECTOR_PID" | head -1)" 2>/dev/null || true
    fi
    wait "$COLLECTOR_PID" 2>/dev/null || true
    end=$EPOCHREALTIME
    COLLECTOR_PID=""
    rm -f "$SOCK"
    local rss=0 cpu=-
    if [ -s "$WORK/c.time" ]; then
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/c.time")
        cpu=$(cpu_of "$WORK/c.time")
    fi
    awk -v b="$began" -v e="$end" -v s="$send" -v r="$rss" -v c="$cpu" 'BEGIN { printf "%.4f %s %s %s\n", e - b, s, r, c }'
}

fast=(sink fstrm_capture qtap-write qtap-text)
: >"$WORK/fast.txt"
n=${#fast[@]}
for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do
        name=${fast[$(((k + round - 1) % n))]}
        read -r wall send rss cpu < <(fast_into "$name" "$WORK/out.fstrm")
        got="-"
        if [ -s "$WORK/out.fstrm" ]; then read -r got _ < <(count_frames "$WORK/out.fstrm"); fi
        [ "$name" = sink ] && wall=$send
        printf '%s %s %s %s %s %s %s\n' "$round" "$name" "$wall" "$rss" "$got" "$cpu" "$send" >>"$WORK/fast.txt"
        log "fast round $round/$ROUNDS $name: ${wall}s (sender ${send}s), $got frames saved"
    done
    # Timed here rather than by /usr/bin/time (10 ms steps).
    start=$EPOCHREALTIME
    /usr/bin/time -v -o "$WORK/run.time" "$QTAP" --read "$CAPTURE" >/dev/null 2>"$WORK/run.err" || true
    end=$EPOCHREALTIME
    wall=$(awk -v b="$start" -v e="$end" 'BEGIN { printf "%.4f", e - b }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/run.time")
    printf '%s %s %s %s %s %s %s\n' "$round" qtap-read-file "$wall" "$rss" - "$(cpu_of "$WORK/run.time")" - >>"$WORK/fast.txt"
    log "fast round $round/$ROUNDS qtap --read FILE: ${wall}s"
done

# fast_report: the table of part 2b, into $WORK/fast.md.
fast_report() {
    fcol() { awk -v n="$1" -v f="$2" '$2 == n { print $f }' "$WORK/fast.txt"; }
    echo "The same frames from a sender that is not the limit: \`bench/fstrm_fast.py send SOCK CAPTURE\` (bidirectional"
    echo "handshake, then the data frames in 1 MiB writes). Time from the sender connecting until the collector has"
    echo "exited (stopped by a signal as soon as the sender has FINISH, so what is queued is written or rendered"
    echo "first); for the sink, the sender's own time to FINISH; for \`--read FILE\`, the whole run. Median (min–max)"
    echo "over $ROUNDS interleaved rounds; CPU time (user + system) of the collector, median."
    echo
    echo "| receiver | frames/s | wall s | max RSS MiB | CPU s | frames in the file |"
    echo "|---|---:|---:|---:|---:|---:|"
    for entry in "sink|fstrm_fast.py sink SOCK (reads and discards: the sender alone)" \
        "fstrm_capture|fstrm_capture -u SOCK -w F" \
        "qtap-write|qtap --read unix:SOCK --no-output --write F" \
        "qtap-text|qtap --read unix:SOCK (dig text to /dev/null)" \
        "qtap-read-file|qtap --read FILE (the same frames from the file)"; do
        name=${entry%%|*}
        label=${entry#*|}
        read -r wm wmin wmax < <(fcol "$name" 3 | stats)
        read -r rm _ _ < <(fcol "$name" 4 | stats)
        saved=$(fcol "$name" 5 | sort -u | tr '\n' ' ' | sed 's/ $//')
        read -r cm _ _ < <(fcol "$name" 6 | grep -v '^-$' | stats)
        fps() { awk -v f="$frames" -v w="$1" 'BEGIN { if (w > 0) printf "%.0f", f / w; else print "-" }'; }
        mib=$(awk -v r="$rm" 'BEGIN { if (r > 0) printf "%.1f", r / 1024; else print "-" }')
        echo "| \`$label\` | $(fps "$wm") ($(fps "$wmax")–$(fps "$wmin")) | $(fmt "$wm" 3) ($(fmt "$wmin" 3)–$(fmt "$wmax" 3)) | $mib | $(fmt "$cm" 2) | $saved |"
    done
    echo
    per_round=$(awk '$2 == "qtap-text" { t[$1] = $3 } $2 == "qtap-read-file" { f[$1] = $3 }
        END { for (r = 1; r in t; r++) printf "%s%.2f", (r > 1 ? ", " : ""), f[r] / t[r] }' "$WORK/fast.txt")
    read -r ft _ _ < <(fcol qtap-text 3 | stats)
    read -r ff _ _ < <(fcol qtap-read-file 3 | stats)
    read -r ct _ _ < <(fcol qtap-text 6 | stats)
    read -r cf _ _ < <(fcol qtap-read-file 6 | stats)
    echo "Live dig text / \`--read FILE\` in frames/s, per round: $per_round (ratio of the medians"
    echo "$(awk -v a="$ff" -v b="$ft" 'BEGIN { printf "%.2f", a / b }')); CPU time of live dig text / \`--read FILE\` = $(awk -v a="$ct" -v b="$cf" 'BEGIN { printf "%.2f", a / b }'). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
}

fast_report >"$WORK/fast.md"
if [ "$FAST_ONLY" = 1 ]; then
    cat "$WORK/fast.md"
    exit 0
fi

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

# --- part 4: where frames are lost -------------------------------------------

# loss_run RATE SINK: knotd into SINK (qtap, fstrm_capture, file) with
# LOSS_QUERIES queries at RATE q/s; prints "ANSWERED QPS SAVED DELIVERED"
# (DELIVERED: the frames qtap's stderr says knotd's stream held before its
# STOP, "-" for the other sinks).
loss_run() {
    local rate=$1 sink=$2 port out=$WORK/loss.fstrm knot_sink pid="" args=()
    rm -f "$SOCK" "$out"
    port=$(free_port)
    case $sink in
    qtap)
        "$QTAP" --read "unix:$SOCK" --no-output --write "$out" 2>"$WORK/loss.err" >/dev/null &
        pid=$!
        ;;
    fstrm_capture)
        fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$out" 2>/dev/null >/dev/null &
        pid=$!
        ;;
    esac
    if [ -n "$pid" ]; then
        wait_sock
        knot_sink="unix:$SOCK"
    else
        knot_sink=$out
    fi
    knot_start "$port" "$knot_sink" 2>/dev/null
    if [ "$rate" -gt 0 ]; then args=(-Q "$rate"); fi
    dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/loss-queries.txt" -n 1 -c 4 -q 100 -e -t 2 "${args[@]}" \
        >"$WORK/loss-dnsperf.log" 2>&1 || die "dnsperf failed"
    knot_stop
    if [ -n "$pid" ]; then
        # fstrm_capture writes its file out on SIGINT; qtap on any.
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    local answered qps saved delivered=-
    answered=$(awk '/Queries completed:/ { print $3 }' "$WORK/loss-dnsperf.log")
    qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$WORK/loss-dnsperf.log")
    saved=0
    if [ -s "$out" ]; then read -r saved _ < <(count_frames "$out"); fi
    if [ "$sink" = qtap ]; then
        delivered=$(awk '/stream stopped after/ { n += $(NF - 1) } END { print n + 0 }' "$WORK/loss.err")
    fi
    echo "$answered $qps $saved $delivered"
}

: >"$WORK/loss.txt"
if [ -n "$LOSS_RATES" ]; then
    make_queries "$LOSS_QUERIES" "$WORK/loss-queries.txt"
    for loss_round in $(seq 1 "$LOSS_ROUNDS"); do
        for loss_rate in $LOSS_RATES; do
            for sink in qtap fstrm_capture file; do
                read -r answered qps saved delivered < <(loss_run "$loss_rate" "$sink")
                # The start-up probe (one query, its response) is in every sink.
                lost=$((2 * answered + 2 - saved))
                printf '%s %s %s %s %s %s %s %s\n' "$loss_rate" "$sink" "$loss_round" "$answered" "$qps" "$saved" "$lost" "$delivered" >>"$WORK/loss.txt"
                log "loss: round $loss_round, $loss_rate q/s into $sink: $answered answered at $qps q/s, $saved frames saved ($delivered delivered), $lost missing"
            done
        done
    done
fi

# --- the report -------------------------------------------------------------

column() { awk -v n="$1" -v f="$2" '$2 == n { print $f }' "$WORK/runs.txt"; }
report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/collect.sh\` (FRAMES=$FRAMES ROUNDS=$ROUNDS)."
    echo
    echo "- Machine: $(machine_desc)"
    echo "- Capture: $frames data frames, $bytes bytes; $CAPTURE_HOW."
    echo "- Replay: \`fstrm_replay -t protobuf:dnstap.Dnstap -u SOCK -r CAPTURE\` (bidirectional), wall time of the"
    echo "  replay, median (min–max) over $ROUNDS interleaved rounds; max RSS and CPU time (user + system, all"
    echo "  threads, median) of the collector, and the CPU time of \`fstrm_replay\` (median)."
    echo
    echo "| collector | frames/s | wall s | max RSS MiB | CPU s | sender CPU s | frames in the file |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
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
        read -r cm _ _ < <(column "$name" 6 | stats)
        read -r sm _ _ < <(column "$name" 7 | grep -v '^-$' | stats)
        fps() { awk -v f="$frames" -v w="$1" 'BEGIN { if (w > 0) printf "%.0f", f / w; else print "-" }'; }
        echo "| \`$label\` | $(fps "$wm") ($(fps "$wmax")–$(fps "$wmin")) | $(fmt "$wm" 2) ($(fmt "$wmin" 2)–$(fmt "$wmax" 2)) | $(awk -v r="$rm" 'BEGIN { printf "%.1f", r / 1024 }') | $(fmt "$cm" 2) | $(fmt "$sm" 2) | $saved |"
    done
    echo
    read -r text_wall _ _ < <(column qtap-text 3 | stats)
    read -r file_wall _ _ < <(column qtap-read-file 3 | stats)
    read -r ingest_wall _ _ < <(column qtap-write 3 | stats)
    read -r text_cpu _ _ < <(column qtap-text 6 | stats)
    read -r file_cpu _ _ < <(column qtap-read-file 6 | stats)
    echo "Ratios of the medians, this run: live dig text / \`--read FILE\` = $(awk -v a="$file_wall" -v b="$text_wall" 'BEGIN { printf "%.2f", a / b }') in frames/s;"
    echo "live dig text / raw ingest (\`--no-output --write\`) = $(awk -v a="$ingest_wall" -v b="$text_wall" 'BEGIN { printf "%.2f", a / b }') in frames/s;"
    echo "CPU time of live dig text / \`--read FILE\` = $(awk -v a="$text_cpu" -v b="$file_cpu" 'BEGIN { printf "%.2f", a / b }')."
    echo
    cat "$WORK/fast.md"
    echo
    lost=$((2 * completed - live_frames))
    echo "knotd $(knotd --version | awk '{ print $NF }') + mod-dnstap (\`sink: unix:SOCK\`) → \`qtap --read unix:SOCK --no-output --write F\`,"
    echo "driven by \`dnsperf -c 4 -q 100 -e -n 1${rate[*]:+ ${rate[*]}}\`: $completed queries answered at $qps q/s;"
    echo "qtap saved $live_frames frames for $((2 * completed)) expected (queries + responses): $lost lost."
    if [ -s "$WORK/loss.txt" ]; then
        echo
        echo "Where frames are lost: $LOSS_QUERIES queries into knotd at each rate (\`dnsperf -c 4 -q 100 -e -n 1 -Q RATE\`,"
        echo "0 = unlimited), each sink in turn, $LOSS_ROUNDS rounds; missing = 2 × answered + 2 (the start-up probe) − frames"
        echo "in the file, per round. \"qtap read = saved\": in every round, the frames qtap's stderr says knotd's stream held"
        echo "(\`stream stopped after N frames\`, counted as they are read off the socket) equal the frames in its file."
        echo
        echo "| rate q/s | achieved q/s | missing, qtap | qtap read = saved | missing, fstrm_capture | missing, file sink |"
        echo "|---:|---:|---:|---|---:|---:|"
        for loss_rate in $LOSS_RATES; do
            col() { awk -v r="$loss_rate" -v s="$1" -v f="$2" '$1 == r && $2 == s { printf "%s%s", sep, $f; sep = ", " }' "$WORK/loss.txt"; }
            same=$(awk -v r="$loss_rate" '$1 == r && $2 == "qtap" && $6 != $8 { bad = 1 } END { print bad ? "no" : "yes" }' "$WORK/loss.txt")
            echo "| $loss_rate | $(col qtap 5) | $(col qtap 7) | $same | $(col fstrm_capture 7) | $(col file 7) |"
        done
    fi
} >"$report"

cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc collect "$report"
fi
