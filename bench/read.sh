#!/usr/bin/env bash
# Throughput of `qtap --read` against the peer dnstap readers, on a capture
# this script makes itself: a throwaway knotd with mod-dnstap writing to a
# file, driven by dnsperf, all on 127.0.0.1, removed afterwards.
#
# Each reader runs whole (a new process), stdout to /dev/null, under
# /usr/bin/time -v; the readers are interleaved, ROUNDS rounds, the order
# rotated each round. Ratios are qtap's frames/s over the peer's, taken per
# round (so both sides of a ratio ran seconds apart), then median and
# min–max over the rounds.
#
# Usage: bench/read.sh            (1,000,000 frames, 3 rounds)
#        FRAMES=200000 ROUNDS=5 bench/read.sh
#        UPDATE_DOC=1 bench/read.sh   (also rewrites the read block of BENCHMARKS.md;
#                                     DOC_BLOCK=name picks another marked block)
# Other knobs: QTAP=path (skip the cargo build), CAPTURE=file (time an
# existing capture instead of making one), QPS=N (dnsperf's -Q rate limit
# while capturing, default 40000: unlimited, mod-dnstap drops a few percent
# of the frames when its queue fills; 0 = none), KEEP=1 (keep the temp dir).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${FRAMES:-1000000}
ROUNDS=${ROUNDS:-3}
UPDATE_DOC=${UPDATE_DOC:-0}
CAPTURE=${CAPTURE:-}

bench_init

need_file /usr/bin/time time
need python3 python3
need kdig knot-dnsutils
need dnstap-read bind9-dnsutils
need dnstap golang-github-dnstap-golang-dnstap-cli
build_qtap

# --- the capture ------------------------------------------------------------

bench_capture "$FRAMES"
frames=$CAPTURE_FRAMES
bytes=$CAPTURE_BYTES

# --- the readers ------------------------------------------------------------

# name|label|command (CAPTURE substituted), in the order of the table.
readers=(
    "qtap|qtap --read FILE +qr|$QTAP --read $CAPTURE +qr"
    "kdig|kdig -G FILE +qr|kdig -G $CAPTURE +qr"
    "dnstap-read|dnstap-read -p FILE|dnstap-read -p $CAPTURE"
    "go-yaml|dnstap -r FILE -y|dnstap -r $CAPTURE -y"
    "go-json|dnstap -r FILE -j|dnstap -r $CAPTURE -j"
)
# qtap's JSON output is timed only when this build has it.
json_ok=0
if "$QTAP" --read "$CAPTURE" --format json 2>/dev/null | head -c 1 | grep -q .; then
    json_ok=1
    readers+=("qtap-json|qtap --read FILE --format json|$QTAP --read $CAPTURE --format json")
else
    log "qtap --format json: not supported by this build, skipped"
fi

# Warm the page cache so the first reader does not pay for the disk.
cat "$CAPTURE" >/dev/null

n=${#readers[@]}
: >"$WORK/runs.txt"
for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do
        entry=${readers[$(((k + round - 1) % n))]}
        name=${entry%%|*}
        rest=${entry#*|}
        cmd=${rest#*|}
        # shellcheck disable=SC2086 # the command line is split on purpose
        read -r wall rss code < <(timed "$WORK/run" $cmd)
        if [ "$code" != 0 ]; then
            log "warning: $name exited $code: $(head -c 300 "$WORK/run.err")"
        fi
        printf '%s %s %s %s %s\n' "$round" "$name" "$wall" "$rss" "$code" >>"$WORK/runs.txt"
        log "round $round/$ROUNDS $name: ${wall}s, $((rss / 1024)) MiB, exit $code"
    done
done

# --- the report -------------------------------------------------------------

# column NAME FIELD: that field (3 wall, 4 rss) of NAME's runs, one a line.
column() { awk -v n="$1" -v f="$2" '$2 == n { print $f }' "$WORK/runs.txt"; }

# ratios A B: per round, B's wall time over A's (= A's frames/s over B's).
ratios() {
    awk -v a="$1" -v b="$2" '
        $2 == a { wa[$1] = $3 } $2 == b { wb[$1] = $3 }
        END { for (r in wa) if ((r in wb) && wa[r] > 0) print wb[r] / wa[r] }' "$WORK/runs.txt"
}

report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/read.sh\` (FRAMES=$FRAMES ROUNDS=$ROUNDS)."
    echo
    echo "- Machine: $(machine_desc)"
    echo "- Tools: $(tool_versions)."
    echo "- Capture: $frames data frames, $bytes bytes ($((bytes / frames)) B per frame); $CAPTURE_HOW."
    echo "- Each cell: median over $ROUNDS interleaved rounds, (min–max); whole process, stdout to /dev/null,"
    echo "  wall time and max RSS from \`/usr/bin/time -v\`. Ratio = qtap's frames/s ÷ the peer's, per round."
    echo
    echo "| reader | frames/s | wall s | max RSS MiB | qtap text ÷ this | qtap json ÷ this |"
    echo "|---|---:|---:|---:|---:|---:|"
    for entry in "${readers[@]}"; do
        name=${entry%%|*}
        rest=${entry#*|}
        label=${rest%%|*}
        read -r wm wmin wmax < <(column "$name" 3 | stats)
        read -r rm _ rmax < <(column "$name" 4 | stats)
        fps() { awk -v f="$frames" -v w="$1" 'BEGIN { if (w > 0) printf "%.0f", f / w; else print "-" }'; }
        fps_cell="$(fps "$wm") ($(fps "$wmax")–$(fps "$wmin"))"
        wall_cell="$(fmt "$wm" 2) ($(fmt "$wmin" 2)–$(fmt "$wmax" 2))"
        rss_cell="$(awk -v r="$rm" 'BEGIN { printf "%.1f", r / 1024 }') (max $(awk -v r="$rmax" 'BEGIN { printf "%.1f", r / 1024 }'))"
        ratio_cell="—"
        if [ "$name" != qtap ] && [ "$name" != qtap-json ]; then
            read -r q qmin qmax < <(ratios qtap "$name" | stats)
            ratio_cell="$(fmt "$q" 2)× ($(fmt "$qmin" 2)–$(fmt "$qmax" 2))"
        fi
        json_cell="—"
        if [ "$json_ok" = 1 ] && [ "$name" != qtap-json ] && [ "$name" != qtap ]; then
            read -r q qmin qmax < <(ratios qtap-json "$name" | stats)
            json_cell="$(fmt "$q" 2)× ($(fmt "$qmin" 2)–$(fmt "$qmax" 2))"
        fi
        echo "| \`$label\` | $fps_cell | $wall_cell | $rss_cell | $ratio_cell | $json_cell |"
    done
    if [ "$json_ok" = 0 ]; then
        echo "| \`qtap --read FILE --format json\` | not implemented yet | | | | |"
    fi
    echo
    read -r kq _ _ < <(ratios qtap kdig | stats)
    read -r _ _ qrss < <(column qtap 4 | stats)
    verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "met" : "not met" }'; }
    echo "Targets (issue #5): qtap text ≥ 5× kdig -G +qr: $(fmt "$kq" 2)× — $(verdict "$kq" 5);" \
        "qtap peak RSS < 32 MiB: $(awk -v r="$qrss" 'BEGIN { printf "%.1f MiB — %s", r / 1024, (r < 32768) ? "met" : "not met" }');"
    if [ "$json_ok" = 1 ]; then
        read -r jq _ _ < <(ratios qtap-json go-json | stats)
        echo "qtap json ≥ 3× Go -j: $(fmt "$jq" 2)× — $(verdict "$jq" 3)."
    else
        echo "qtap json ≥ 3× Go -j: not measurable yet (no \`--format json\`)."
    fi
} >"$report"

cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc "${DOC_BLOCK:-read}" "$report"
fi
