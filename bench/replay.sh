#!/usr/bin/env bash
# Replay throughput: `qtap --replay` of a Knot capture against the same
# knotd's ceiling measured with dnsperf, side by side on loopback.
#
# A throwaway knotd with mod-dnstap records a capture of QUERIES queries
# (make_capture: dnsperf-driven, a realistic mix); a second knotd without
# dnstap serves the same zone. Each round runs, interleaved: dnsperf with
# the capture's query list (-q PARALLEL -c 1, no output: the server's
# ceiling at that many in flight), then `qtap --replay` of the capture
# with +parallel=PARALLEL. A round's ratio is qtap's queries/s over
# dnsperf's; the median and min–max over ROUNDS rounds are reported.
#
# Usage: bench/replay.sh                  (QUERIES=100000 PARALLEL=64 ROUNDS=5)
#        UPDATE_DOC=1 bench/replay.sh     (also rewrites the replay block of BENCHMARKS.md)
# Other knobs: QTAP=path (skip the cargo build), KEEP=1 (keep the temp dir).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUERIES=${QUERIES:-100000}
PARALLEL=${PARALLEL:-64}
ROUNDS=${ROUNDS:-5}
UPDATE_DOC=${UPDATE_DOC:-0}

bench_init

need_knot_bench dnstap
need kdig knot-dnsutils
build_qtap

capture=$WORK/capture.fstrm
make_capture $((QUERIES * 2)) "$capture"
read -r frames bytes < <(count_frames "$capture")
log "capture: $frames frames, $bytes bytes"

knot_start_free
port=$KNOT_PORT

# The capture's queries as dnsperf input (what make_capture sent).
awk '{ print $1, $2 }' "$WORK/queries.txt" >"$WORK/dnsperf.txt"
sent=$(wc -l <"$WORK/dnsperf.txt")

dnsperf_qps=()
qtap_qps=()
ratios=()
for round in $(seq 1 "$ROUNDS"); do
    d=$(dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/dnsperf.txt" -n 1 -q "$PARALLEL" -c 1 -e 2>/dev/null |
        awk '/Queries per second/ { print $4 }')
    read -r wall rss code < <(timed "$WORK/replay" "$QTAP" @127.0.0.1 -p "$port" --replay "$capture" \
        "+parallel=$PARALLEL" +timeout=2 +tries=1)
    # The summary goes to stdout, which timed discards: the queries are
    # counted from the capture (one query frame each).
    q=$(awk -v n="$((frames / 2))" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
    r=$(awk -v a="$q" -v b="$d" 'BEGIN { printf "%.3f", a / b }')
    log "round $round: dnsperf $d q/s; qtap --replay ${wall}s ($q q/s, exit $code, ${rss} KiB); ratio $r"
    dnsperf_qps+=("$d")
    qtap_qps+=("$q")
    ratios+=("$r")
done

read -r dmed dmin dmax < <(printf '%s\n' "${dnsperf_qps[@]}" | stats)
read -r qmed qmin qmax < <(printf '%s\n' "${qtap_qps[@]}" | stats)
read -r rmed rmin rmax < <(printf '%s\n' "${ratios[@]}" | stats)

report=$WORK/report.md
{
    echo "Measured $(date -u +%Y-%m-%d) by \`bench/replay.sh\` (QUERIES=$QUERIES PARALLEL=$PARALLEL ROUNDS=$ROUNDS)."
    echo
    machine_desc
    echo
    echo "Capture: $CAPTURE_HOW; $frames frames ($bytes bytes, $sent queries sent)."
    echo
    echo "| Tool | queries/s, median (min–max) |"
    echo "|---|---|"
    echo "| \`dnsperf -q $PARALLEL -c 1 -e\` (the server's ceiling) | $(fmt "$dmed" 0) ($(fmt "$dmin" 0)–$(fmt "$dmax" 0)) |"
    echo "| \`qtap --replay capture +parallel=$PARALLEL\` (compare and summary included) | $(fmt "$qmed" 0) ($(fmt "$qmin" 0)–$(fmt "$qmax" 0)) |"
    echo
    echo "qtap / dnsperf, per round: median $(fmt "$rmed" 2) (min $(fmt "$rmin" 2), max $(fmt "$rmax" 2))."
} >"$report"
cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc replay "$report"
fi
