#!/usr/bin/env bash
# Query latency and batch throughput of qtap against kdig and dig, all
# against a throwaway knotd on 127.0.0.1 (started in a temp dir on a free
# port, stopped and removed afterwards).
#
# Single query: every tool runs RUNS times per round (interleaved, a new
# process each time, output to /dev/null), ROUNDS rounds; a round's figure
# is its median, ratios are taken per round and reported as median and
# min–max. Batch: BATCH queries in one process, once per tool per round.
#
# Usage: bench/query.sh                      (RUNS=20 ROUNDS=3 BATCH=1000)
#        BATCH_ROUNDS=11 bench/query.sh     (batch rounds, default 7)
#        UPDATE_DOC=1 bench/query.sh         (also rewrites the query block of BENCHMARKS.md)
# Other knobs: QTAP=path (skip the cargo build), KEEP=1 (keep the temp dir),
# QTAP_BATCH_OPTS="..." (qtap's opt-in concurrency for `-f`, default
# "+parallel=64"; set it empty to leave that row out).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-3}
BATCH=${BATCH:-1000}
BATCH_ROUNDS=${BATCH_ROUNDS:-7}
UPDATE_DOC=${UPDATE_DOC:-0}
QTAP_BATCH_OPTS=${QTAP_BATCH_OPTS-+parallel=64}

bench_init

need_knot_bench
need kdig knot-dnsutils
need dig bind9-dnsutils
build_qtap

knot_start_free
port=$KNOT_PORT
srv=(@127.0.0.1 -p "$port")

# wall_ms CMD...: runs CMD once, output discarded; prints "MILLISECONDS EXIT".
wall_ms() {
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>"$WORK/err" || rc=$?
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" -v rc="$rc" 'BEGIN { printf "%.3f %d\n", (b - a) * 1000, rc }'
}

# --- single query per process ----------------------------------------------

singles=(
    "kdig|kdig @SRV www.bench.test A|kdig ${srv[*]} www.bench.test A"
    "kdig-E|kdig @SRV -E FILE www.bench.test A|kdig ${srv[*]} -E $WORK/kdig.tap www.bench.test A"
    "dig|dig @SRV www.bench.test A|dig ${srv[*]} www.bench.test A"
    "qtap|qtap @SRV www.bench.test A|$QTAP ${srv[*]} www.bench.test A"
    "qtap-tap|qtap @SRV www.bench.test A --tap FILE|$QTAP ${srv[*]} www.bench.test A --tap $WORK/qtap.tap"
)

: >"$WORK/single.txt"
ns=${#singles[@]}
for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 "$RUNS"); do
        for k in $(seq 0 $((ns - 1))); do
            entry=${singles[$(((k + i + round) % ns))]}
            name=${entry%%|*}
            cmd=${entry##*|}
            # shellcheck disable=SC2086 # the command line is split on purpose
            read -r ms rc < <(wall_ms $cmd)
            [ "$rc" = 0 ] || log "warning: $name exited $rc: $(head -c 300 "$WORK/err")"
            echo "$round $name $ms" >>"$WORK/single.txt"
        done
    done
    log "single queries: round $round/$ROUNDS done"
done

# Peak RSS of one run each.
declare -A single_rss
for entry in "${singles[@]}"; do
    name=${entry%%|*}
    cmd=${entry##*|}
    # shellcheck disable=SC2086
    read -r _ rss _ < <(timed "$WORK/rss" $cmd)
    single_rss[$name]=$rss
done

# round_medians FILE NAME: NAME's per-round medians, one a line "ROUND MS".
round_medians() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        printf '%s %s\n' "$r" "$(awk -v r="$r" -v n="$2" '$1 == r && $2 == n { print $3 }' "$1" | stats | cut -d' ' -f1)"
    done
}

# ratios FILE A B: per round, A's median over B's.
ratios() {
    paste -d' ' <(round_medians "$1" "$2") <(round_medians "$1" "$3") | awk '$4 > 0 { print $2 / $4 }'
}

# --- batch: many queries in one process -------------------------------------

names=(www.bench.test:A www.bench.test:AAAA bench.test:MX bench.test:TXT alias.bench.test:A
    mail.bench.test:A bench.test:NS bench.test:SOA nothere.bench.test:A www.bench.test:TXT)
: >"$WORK/batch.list"
for i in $(seq 0 $((BATCH - 1))); do
    nt=${names[$((i % ${#names[@]}))]}
    echo "${nt%%:*} ${nt##*:}" >>"$WORK/batch.list"
done
read -r -a oneline < <(tr '\n' ' ' <"$WORK/batch.list"; echo)

batches=(
    "kdig-line|kdig @SRV NAME TYPE × $BATCH (one command line)|kdig"
    "dig-f|dig @SRV -f FILE ($BATCH lines)|dig-f"
    "qtap-line|qtap @SRV NAME TYPE × $BATCH (one command line)|qtap-line"
)
qtap_f_ok=0
if "$QTAP" "${srv[@]}" -f "$WORK/batch.list" >/dev/null 2>&1; then
    qtap_f_ok=1
    batches+=("qtap-f|qtap @SRV -f FILE ($BATCH lines)|qtap-f")
    if [ -n "$QTAP_BATCH_OPTS" ]; then
        batches+=("qtap-fc|qtap @SRV -f FILE $QTAP_BATCH_OPTS|qtap-fc")
    fi
else
    log "qtap -f: not supported by this build, skipped"
fi

run_batch() {
    case $1 in
        kdig) wall_ms kdig "${srv[@]}" "${oneline[@]}" ;;
        dig-f) wall_ms dig "${srv[@]}" -f "$WORK/batch.list" ;;
        qtap-line) wall_ms "$QTAP" "${srv[@]}" "${oneline[@]}" ;;
        qtap-f) wall_ms "$QTAP" "${srv[@]}" -f "$WORK/batch.list" ;;
        qtap-fc)
            # shellcheck disable=SC2086 # options are split on purpose
            wall_ms "$QTAP" "${srv[@]}" -f "$WORK/batch.list" $QTAP_BATCH_OPTS
            ;;
    esac
}

: >"$WORK/batch.txt"
nb=${#batches[@]}
for round in $(seq 1 "$BATCH_ROUNDS"); do
    for k in $(seq 0 $((nb - 1))); do
        entry=${batches[$(((k + round) % nb))]}
        name=${entry%%|*}
        read -r ms rc < <(run_batch "${entry##*|}")
        [ "$rc" = 0 ] || log "warning: batch $name exited $rc: $(head -c 300 "$WORK/err")"
        echo "$round $name $ms" >>"$WORK/batch.txt"
        log "batch round $round/$BATCH_ROUNDS $name: $ms ms"
    done
done

# The server's own ceiling for the batch figures: dnsperf (a load
# generator, no output) with 64 queries in flight on the same knotd.
awk '{ print $1, $2 }' "$WORK/batch.list" >"$WORK/dnsperf.txt"
server_qps=$(dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/dnsperf.txt" -n 20 -q 64 -c 1 2>/dev/null |
    awk '/Queries per second/ { printf "%.0f", $4 }')
log "dnsperf -q 64 against this knotd: ${server_qps:-?} queries/s"

knot_stop

# --- the report -------------------------------------------------------------

range() { read -r m lo hi < <(stats); printf '%s (%s–%s)' "$(fmt "$m" "$1")" "$(fmt "$lo" "$1")" "$(fmt "$hi" "$1")"; }

report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/query.sh\` (RUNS=$RUNS ROUNDS=$ROUNDS BATCH=$BATCH BATCH_ROUNDS=$BATCH_ROUNDS)."
    echo
    echo "- Machine: $(machine_desc)"
    echo "- Tools: $(tool_versions | sed 's/; dnstap-read.*//'); $(dig -v 2>&1 | head -n1)."
    echo "- Server: knotd $(knotd --version | awk '{ print $NF }') on 127.0.0.1, UDP, one UDP worker, answers from a small zone."
    echo "- Wall time measured by bash around each process (fork and exec included), output to /dev/null."
    echo
    echo "**One query per process** — cells: median of the $ROUNDS per-round medians of $RUNS runs, (min–max of those)."
    echo
    echo "| command | wall ms | max RSS MiB | ratio |"
    echo "|---|---:|---:|---|"
    for entry in "${singles[@]}"; do
        name=${entry%%|*}
        rest=${entry#*|}
        label=${rest%%|*}
        cell=$(round_medians "$WORK/single.txt" "$name" | cut -d' ' -f2 | range 2)
        rss=$(awk -v r="${single_rss[$name]}" 'BEGIN { printf "%.1f", r / 1024 }')
        case $name in
            qtap) ratio="qtap ÷ kdig: $(ratios "$WORK/single.txt" qtap kdig | range 2) (target ≤ 1.00); qtap ÷ dig: $(ratios "$WORK/single.txt" qtap dig | range 2)" ;;
            qtap-tap) ratio="÷ qtap: $(ratios "$WORK/single.txt" qtap-tap qtap | range 2) (target ≤ 1.10)" ;;
            kdig-E) ratio="÷ kdig: $(ratios "$WORK/single.txt" kdig-E kdig | range 2)" ;;
            *) ratio="" ;;
        esac
        echo "| \`$label\` | $cell | $rss | $ratio |"
    done
    echo
    echo "**Batch: $BATCH queries in one process** — cells: median (min–max) over $BATCH_ROUNDS interleaved rounds; ratios per round."
    echo
    echo "| command | wall ms | ms per query | ratio |"
    echo "|---|---:|---:|---|"
    for entry in "${batches[@]}"; do
        name=${entry%%|*}
        rest=${entry#*|}
        label=${rest%%|*}
        cell=$(awk -v n="$name" '$2 == n { print $3 }' "$WORK/batch.txt" | range 0)
        per=$(awk -v n="$name" -v b="$BATCH" '$2 == n { print $3 / b }' "$WORK/batch.txt" | range 3)
        ratio=""
        [ "$name" = qtap-line ] && ratio="kdig ÷ qtap: $(ratios "$WORK/batch.txt" kdig-line qtap-line | range 2)"
        [ "$name" = qtap-f ] && ratio="kdig line ÷ qtap -f: $(ratios "$WORK/batch.txt" kdig-line qtap-f | range 2) (target ≥ 2)"
        [ "$name" = qtap-fc ] && ratio="dig -f ÷ this: $(ratios "$WORK/batch.txt" dig-f qtap-fc | range 2) (target ≥ 10)"
        echo "| \`$label\` | $cell | $per | $ratio |"
    done
    if [ "$qtap_f_ok" = 0 ]; then
        echo "| \`qtap @SRV -f FILE\` ($BATCH lines) | not implemented yet | | target: ≥ 2× faster than kdig's one-line run |"
    fi
    if [ "$qtap_f_ok" = 0 ] || [ -z "$QTAP_BATCH_OPTS" ]; then
        echo "| \`qtap @SRV -f FILE\` + opt-in concurrency | not implemented yet | | target: ≥ 10× faster than \`dig -f\` |"
    fi
    if [ -n "${server_qps:-}" ] && [ "$server_qps" -gt 0 ]; then
        floor=$(awk -v q="$server_qps" -v b="$BATCH" 'BEGIN { printf "%.1f", b / q * 1000 }')
        echo
        echo "Server ceiling: \`dnsperf -q 64 -c 1\` (no output, 64 in flight) gets $server_qps answers/s from this knotd, so $BATCH queries take at least $floor ms at the server alone."
    fi
} >"$report"

cat "$report"
if [ "$UPDATE_DOC" = 1 ]; then
    update_doc query "$report"
fi
