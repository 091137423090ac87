#!/usr/bin/env bash
# Where `qtap --read FILE +qr` spends its time: callgrind (instruction
# counts, exclusive and inclusive) and `perf stat` (write syscalls, page
# faults) on a Knot mod-dnstap capture, made here like bench/read.sh makes
# it (FRAMES, default 200000) unless a file is given.
#
# Usage: bench/profile.sh [FILE]
# Prints the top TOP (default 10) functions by exclusive cost, the top qtap
# functions by inclusive cost, and the syscall and page-fault counts.
# QTAP=path skips the cargo build; KEEP=1 keeps the temp dir (and the
# callgrind output, for kcachegrind); UPDATE_DOC=1 also rewrites the profile
# block of BENCHMARKS.md.
set -euo pipefail

# Symbols and line tables: the release build is stripped.
PROFILE=${PROFILE:-profiling}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${FRAMES:-200000}
TOP=${TOP:-10}
CAPTURE=${1:-}

bench_init
need valgrind valgrind
need perf linux-perf
need python3 python3
if [ -z "$CAPTURE" ]; then
    need knotd knot
    need knotc knot
    need kdig knot-dnsutils
    need_pkg knot-module-dnstap
    need dnsperf dnsperf
fi
build_qtap

if [ -z "$CAPTURE" ]; then
    CAPTURE=$WORK/knotd-auth.fstrm
    make_capture "$FRAMES" "$CAPTURE"
fi
read -r frames bytes < <(count_frames "$CAPTURE")
log "capture: $frames frames, $bytes bytes"

log "callgrind (about 100x slower than a normal run)"
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
    "$QTAP" --read "$CAPTURE" +qr >/dev/null 2>"$WORK/callgrind.log" ||
    { tail -n 20 "$WORK/callgrind.log" >&2; die "callgrind failed"; }

# Strips callgrind_annotate's paths, keeping "cost (pct)  function".
short() { sed -E 's/^ *([0-9,]+) \( *([0-9.]+%)\) +([^ ]*\.(rs|c|S|h)|\?\?\?):/\1 (\2)  /; s/ \[[^]]*\]$//'; }

# Like short, but keeps the source file (inlined code is charged to the
# caller under the callee's file) and drops repeated lines.
short_file() {
    sed -E 's/^ *([0-9,]+) \( *([0-9.]+%)\) +([^ ]*\/)?([^ /]*\.(rs|c|S|h)):(.*) \[[^]]*\]$/\1 (\2)  \6  [\4]/; s/^ *([0-9,]+) \( *([0-9.]+%)\) +([^ ]*\/)?([^ /]*\.(rs|c|S|h)):(.*)$/\1 (\2)  \6  [\4]/' |
        awk '!seen[$3 $4]++'
}

# first N: the first N lines (reads all its input, so no SIGPIPE upstream).
first() { awk -v n="$1" 'NR <= n'; }

report=$WORK/report.md
{
    echo "Profile of \`qtap --read FILE +qr\` on $frames frames ($bytes bytes), $(date -u '+%Y-%m-%d')."
    echo
    echo "Top $TOP functions by exclusive cost (instructions, callgrind):"
    echo
    echo '```'
    callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' | sed '1,2d' |
        grep -v '^$' | first "$TOP" | short
    echo '```'
    echo
    echo "Top qtap functions by inclusive cost ([file] is where the code is; inlined callees are charged to their caller):"
    echo
    echo '```'
    callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' |
        grep -E ':qtap::(app|pair|render|tap|dns)::' | short_file | first 15
    echo '```'
    echo
    echo "perf stat (one normal run):"
    echo
    echo '```'
    perf stat -x, -e 'syscalls:sys_enter_write,page-faults,task-clock' \
        "$QTAP" --read "$CAPTURE" +qr 2>&1 >/dev/null | awk -F, '{ printf "%-28s %s %s\n", $3, $1, $2 }'
    echo '```'
} >"$report"

cat "$report"
if [ "${UPDATE_DOC:-0}" = 1 ]; then
    update_doc profile "$report"
fi
