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
#        OLD_QTAP=path bench/replay.sh    (another build too, in the same rounds:
#                                          side by side, each round's ratio to it;
#                                          OLD_LABEL names it in the report)
# Other knobs: QTAP=path (skip the cargo build), KEEP=1 (keep the temp dir).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUERIES=${QUERIES:-100000}
PARALLEL=${PARALLEL:-64}
ROUNDS=${ROUNDS:-5}
UPDATE_DOC=${UPDATE_DOC:-0}
OLD_QTAP=${OLD_QTAP:-}
OLD_LABEL=${OLD_LABEL:-$(basename "${OLD_QTAP:-qtap}")}

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
old_ratios=()
vs_old=()
# replay_qps BINARY: one replay of the capture; prints "QPS WALL RSS CODE".
replay_qps() {
    local wall rss code
    read -r wall rss code < <(timed "$WORK/replay" "$1" @127.0.0.1 -p "$port" --replay "$capture" \
        "+parallel=$PARALLEL" +timeout=2 +tries=1)
    # The summary goes to stdout, which timed discards: the queries are
    # counted from the capture (one query frame each).
    awk -v n="$((frames / 2))" -v w="$wall" -v r="$rss" -v c="$code" \
        'BEGIN { printf "%.0f %s %s %s\n", n / w, w, r, c }'
}
for round in $(seq 1 "$ROUNDS"); do
    d=$(dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/dnsperf.txt" -n 1 -q "$PARALLEL" -c 1 -e 2>/dev/null |
        awk '/Queries per second/ { print $4 }')
    read -r q wall rss code < <(replay_qps "$QTAP")
    r=$(awk -v a="$q" -v b="$d" 'BEGIN { printf "%.3f", a / b }')
    log "round $round: dnsperf $d q/s; qtap --replay ${wall}s ($q q/s, exit $code, ${rss} KiB); ratio $r"
    if [ -n "$OLD_QTAP" ]; then
        read -r oq owall _ ocode < <(replay_qps "$OLD_QTAP")
        old_ratios+=("$(awk -v a="$oq" -v b="$d" 'BEGIN { printf "%.3f", a / b }')")
        vs_old+=("$(awk -v a="$q" -v b="$oq" 'BEGIN { printf "%.3f", a / b }')")
        log "round $round: OLD_QTAP ${owall}s ($oq q/s, exit $ocode); ratio ${old_ratios[-1]}; new/old ${vs_old[-1]}"
    fi
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
    if [ -n "$OLD_QTAP" ]; then
        read -r omed omin omax < <(printf '%s\n' "${old_ratios[@]}" | stats)
        read -r vmed vmin vmax < <(printf '%s\n' "${vs_old[@]}" | stats)
        echo
        echo "Side by side, in the same rounds, \`OLD_QTAP\` ($OLD_LABEL): its ratio to dnsperf, median"
        echo "$(fmt "$omed" 2) (min $(fmt "$omin" 2), max $(fmt "$omax" 2)); this build's queries/s over its, per round:"
        echo "median $(fmt "$vmed" 2) (min $(fmt "$vmin" 2), max $(fmt "$vmax" 2))."
    fi
} >"$report"
cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc replay "$report"
fi
