#!/bin/sh
# run.sh BENCH_CAPNP SMALL_CALLS
# `make bench-capnp`: our Cap'n Proto runtime against the official C++
# library (messages per second, best of several runs, and instructions per
# message under callgrind), then the instructions per call of the small
# system-call-sized sequences (bench/capnp/small_calls.c). Prints Markdown
# tables; docs/benchmarks.md explains them.
#
# Instruction counts are callgrind's, counted only inside the loop function
# (--toggle-collect) and divided by the iterations, so they are exact and
# repeatable. Messages per second depend on the machine and its load.
set -euf # no globbing: the callgrind function patterns contain "*"
bench=$1
small=$2
iters=2000
small_iters=1000

"$bench" check
"$small"

have_valgrind=1
command -v valgrind >/dev/null 2>&1 || have_valgrind=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# count OUT_NAME N TOGGLE... -- CMD...: instructions per iteration.
count() {
    name=$1 n=$2
    shift 2
    toggles=""
    while [ "$1" != "--" ]; do
        toggles="$toggles --toggle-collect=$1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.out" $toggles "$@" \
        >"$tmp/$name.log" 2>&1 || { echo "callgrind failed: $*" >&2; cat "$tmp/$name.log" >&2; exit 1; }
    awk -v n="$n" '/^totals:/ { printf "%.0f", $2 / n }' "$tmp/$name.out"
}

echo
echo "Ours (lib/capnp, capnpc-c) against the C++ library $(capnp --version | sed 's/.* //'), gcc -O2:"
echo
echo "| Benchmark | Bytes | Ours msgs/s | C++ msgs/s | Ours/C++ | Ours instr/msg | C++ instr/msg | C++/ours |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
"$bench" >"$tmp/times"
while read -r name bytes ours cpp; do
    if [ "$have_valgrind" = 1 ]; then
        ic=$(count "c-$name" "$iters" "c_loop*" -- "$bench" count c "$name" "$iters")
        icpp=$(count "cpp-$name" "$iters" "cpp_loop*" -- "$bench" count cpp "$name" "$iters")
    else
        ic=- icpp=-
    fi
    awk -v name="$name" -v bytes="$bytes" -v ours="$ours" -v cpp="$cpp" -v ic="$ic" \
        -v icpp="$icpp" 'BEGIN {
        ratio = ic == "-" ? "-" : sprintf("%.2f", icpp / ic)
        printf "| %s | %d | %.2f M | %.2f M | %.2f | %s | %s | %s |\n", name, bytes,
            ours / 1e6, cpp / 1e6, ours / cpp, ic, icpp, ratio
    }'
done <"$tmp/times"

[ "$have_valgrind" = 1 ] || { echo; echo "(valgrind not found: no instruction counts)"; exit 0; }

echo
echo "Instructions per call of the Cap'n Proto work in a Timer call (gcc -O2):"
echo
echo "| Sequence | Instructions |"
echo "|---|---:|"
for s in server-now server-sleep client-now client-sleep; do
    fn=$(echo "$s" | tr - _)
    # Toggling at bench_transport too stops the count inside the transport.
    printf '| %s | %s |\n' "$s" \
        "$(count "small-$s" "$small_iters" "$fn" bench_transport -- "$small" count "$s" "$small_iters")"
done
