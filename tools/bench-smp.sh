#!/bin/sh
# bench-smp.sh KERNEL SYSTEM
# The SMP benchmark (user/bench/smp-bench.c): boot SYSTEM on one CPU and on
# two under multi-threaded TCG (-icount is single-threaded, so no icount
# figures here) and print each figure, in TSC cycles, with the speed-up
# from one CPU to two. Wall-clock figures on a shared host are noisy (a
# neighbour's burst can double one run), so each configuration runs
# SMP_REPS times (default 5), alternating, and each figure is its
# minimum: the run least disturbed by anything but itself.
set -eu
kernel=$1; system=$2; reps=${SMP_REPS:-5}
iso=build/bench/smp-bench.iso
tools/mkiso.sh "$iso" "$kernel" "" "$system"
run() {
    # shellcheck disable=SC2086
    timeout 600 qemu-system-x86_64 -M q35 -m 512M -display none -no-reboot -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$iso" \
        -accel tcg,thread=multi -cpu max -smp "$1" -serial stdio </dev/null 2>/dev/null |
        tr -d '\r' | grep '^bench[:-]\|PANIC' >>"build/bench/smp-$1.txt" || true
}
rm -f build/bench/smp-1.txt build/bench/smp-2.txt
i=0
while [ "$i" -lt "$reps" ]; do
    run 1
    run 2
    i=$((i + 1))
done
# The minimum of each "bench: NAME VALUE" row; other lines once each.
for n in 1 2; do
    awk '$1 == "bench:" { if (!($2 in m) || $3 < m[$2]) m[$2] = $3; next }
         !seen[$0]++ { print }
         END { for (k in m) print "bench:", k, m[k] }' "build/bench/smp-$n.txt" >"build/bench/smp-$n.min"
    mv "build/bench/smp-$n.min" "build/bench/smp-$n.txt"
done
tools/smp-table.sh "smp benchmarks" bench: build/bench/smp-1.txt build/bench/smp-2.txt \
    smp-cpu4 smp-ipc2 smp-ipc2-load2 smp-clients8 smp-wake
grep -h -v '^bench:' build/bench/smp-1.txt build/bench/smp-2.txt | sed 's/^/   /' || true
