#!/usr/bin/env bash
# Speed of the trace-sharing commands (--stats, --rrsets, selection with
# --write, --scrub) on a million-frame Knot capture made as bench/read.sh
# makes it, side by side with the nearest peer command where one exists:
# the Go dnstap tool's copy (`dnstap -r IN -w OUT`, no selection) for
# --write, and dnstap-read's one-line-per-frame summary for --stats. No peer
# reads RRsets out of dnstap.
#
# Usage: bench/share.sh            (1,000,000 frames, 3 rounds)
#        FRAMES=200000 ROUNDS=5 bench/share.sh
#        UPDATE_DOC=1 bench/share.sh   (rewrites the share block of BENCHMARKS.md)
# Other knobs as bench/read.sh: QTAP=path, CAPTURE=file, QPS=N, KEEP=1.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${FRAMES:-1000000}
ROUNDS=${ROUNDS:-3}
UPDATE_DOC=${UPDATE_DOC:-0}
CAPTURE=${CAPTURE:-}

bench_init
need_file /usr/bin/time time
need dnstap-read bind9-dnsutils
need dnstap golang-github-dnstap-golang-dnstap-cli
build_qtap

bench_capture "$FRAMES"
frames=$CAPTURE_FRAMES
bytes=$CAPTURE_BYTES

OUT=$WORK/out.fstrm
# name|label|command
cmds=(
    "stats|qtap --read FILE --stats|$QTAP --read $CAPTURE --stats"
    "stats-json|qtap --read FILE --stats --format json|$QTAP --read $CAPTURE --stats --format json"
    "dnstap-read|dnstap-read FILE (one line a frame)|dnstap-read $CAPTURE"
    "rrsets|qtap --read FILE --rrsets|$QTAP --read $CAPTURE --rrsets"
    "select|qtap --read FILE --qtype A --write OUT|$QTAP --read $CAPTURE --qtype A --write $OUT"
    "copy|qtap --read FILE --write OUT|$QTAP --read $CAPTURE --write $OUT"
    "scrub|qtap --read FILE --scrub --write OUT|$QTAP --read $CAPTURE --scrub --write $OUT"
    "go-copy|dnstap -r FILE -w OUT|dnstap -r $CAPTURE -w $OUT"
)
n=${#cmds[@]}
: >"$WORK/runs.txt"
for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do
        entry=${cmds[$(((k + round - 1) % n))]}
        name=${entry%%|*}
        rest=${entry#*|}
        cmd=${rest#*|}
        rm -f "$OUT"
        # shellcheck disable=SC2086 # split on purpose
        read -r wall rss code < <(timed "$WORK/run" $cmd)
        [ "$code" = 0 ] || log "warning: $name exited $code: $(head -c 300 "$WORK/run.err")"
        printf '%s %s %s %s\n' "$round" "$name" "$wall" "$rss" >>"$WORK/runs.txt"
        log "round $round/$ROUNDS $name: ${wall}s, $((rss / 1024)) MiB"
    done
done

column() { awk -v n="$1" -v f="$2" '$2 == n { print $f }' "$WORK/runs.txt"; }
report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/share.sh\` (FRAMES=$FRAMES ROUNDS=$ROUNDS)."
    echo
    echo "- Machine: $(machine_desc)"
    echo "- Capture: $frames data frames, $bytes bytes; $CAPTURE_HOW."
    echo "- Each cell: median over $ROUNDS interleaved rounds (min–max); stdout to /dev/null."
    echo
    echo "| command | frames/s | wall s | max RSS MiB |"
    echo "|---|---:|---:|---:|"
    for entry in "${cmds[@]}"; do
        name=${entry%%|*}
        rest=${entry#*|}
        label=${rest%%|*}
        read -r wm wmin wmax < <(column "$name" 3 | stats)
        read -r rm _ _ < <(column "$name" 4 | stats)
        fps=$(awk -v f="$frames" -v w="$wm" 'BEGIN { if (w > 0) printf "%.0f", f / w; else print "-" }')
        echo "| \`$label\` | $fps | $(fmt "$wm" 2) ($(fmt "$wmin" 2)–$(fmt "$wmax" 2)) | $(awk -v r="$rm" 'BEGIN { printf "%.1f", r / 1024 }') |"
    done
} >"$report"
cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then update_doc share "$report"; fi
