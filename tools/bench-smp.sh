#!/bin/sh
# bench-smp.sh KERNEL SYSTEM
# The SMP benchmark (user/bench/smp-bench.c): boot SYSTEM on one CPU and on
# two under multi-threaded TCG (-icount is single-threaded, so no icount
# figures here) and print each figure, in TSC cycles, with the speed-up
# from one CPU to two: one run each, ratios within a run of this machine.
set -eu
kernel=$1; system=$2
iso=build/bench/smp-bench.iso
tools/mkiso.sh "$iso" "$kernel" "" "$system"
run() {
    # shellcheck disable=SC2086
    timeout 600 qemu-system-x86_64 -M q35 -m 512M -display none -no-reboot -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$iso" \
        -accel tcg,thread=multi -cpu max -smp "$1" -serial stdio </dev/null 2>/dev/null |
        tr -d '\r' | grep '^bench[:-]\|PANIC' >"build/bench/smp-$1.txt" || true
}
run 1
run 2
printf '== smp benchmarks (TSC cycles, multi-threaded TCG) %10s %14s %9s\n' "1 CPU" "2 CPUs" "speed-up"
for name in smp-cpu4 smp-ipc2 smp-ipc2-load2 smp-clients8 smp-wake; do
    a=$(sed -n "s/^bench: $name //p" build/bench/smp-1.txt)
    b=$(sed -n "s/^bench: $name //p" build/bench/smp-2.txt)
    ratio=""
    case "$a$b" in
    *[!0-9]* | "") ;;
    *) ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }') ;;
    esac
    [ "$name" = smp-wake ] && ratio="(latency)"
    printf '   %-48s %14s %14s %9s\n' "$name" "${a:-none}" "${b:-none}" "$ratio"
done
grep -h -v '^bench:' build/bench/smp-1.txt build/bench/smp-2.txt | sed 's/^/   /' || true
