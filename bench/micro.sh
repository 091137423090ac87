#!/usr/bin/env bash
# Runs the criterion micro-benchmarks (benches/read.rs) and prints their
# time and throughput lines as a markdown block; UPDATE_DOC=1 also rewrites
# the micro block of BENCHMARKS.md. Extra arguments go to the bench binary
# (e.g. a filter: bench/micro.sh frame_).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init
log "cargo bench --bench read $*"
(cd "$ROOT" && cargo bench --quiet --bench read -- "$@") >"$WORK/bench.txt" 2>"$WORK/bench.err" ||
    { tail -n 30 "$WORK/bench.err" >&2; die "cargo bench failed"; }

report=$WORK/report.md
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/micro.sh\` (\`cargo bench --bench read\`)."
    machine_desc
    echo
    echo
    echo "Input: $(grep -m1 '^input:' "$WORK/bench.err" | sed 's/^input: //')."
    echo "One element = one frame; criterion's [low estimate, estimate, high estimate]."
    echo
    echo "| benchmark | time per $(grep -m1 -o '[0-9]* frames' "$WORK/bench.err" || echo '?') | frames/s |"
    echo "|---|---|---|"
    # A result is "NAME time: [...]" (or NAME alone on the line before) and
    # "thrpt: [...]"; the "change:" block after it compares with the last
    # run and is left out.
    awk '
        /change:/ { skip = 1; next }
        /time:/ && $1 != "time:" { skip = 0; name = $1 }
        /time:/ && $1 == "time:" && !skip { name = prev }
        /time:/ && !skip { sub(/.*time: +/, ""); t = $0 }
        /thrpt:/ && !skip { sub(/.*thrpt: +/, ""); printf "| `%s` | %s | %s |\n", name, t, $0 }
        $1 != "" && $1 !~ /:$/ && $1 !~ /^\[/ { prev = $1; skip = 0 }
    ' "$WORK/bench.txt"
} >"$report"

cat "$report"
if [ "${UPDATE_DOC:-0}" = 1 ]; then
    update_doc micro "$report"
fi
