#!/bin/sh
# bench-boot.sh ISO
# Boot-phase measurement (docs/benchmarks.md):
#  1. under -icount shift=0,sleep=off, where rdtsc counts executed guest
#     instructions, the kernel's "boot-phase:" lines are exact, repeatable
#     instruction counts from the first kernel instruction;
#  2. under plain TCG, the same lines in TSC cycles, plus host wall-clock
#     time from QEMU start to each phase and to the clean halt.
set -eu
iso=$1
flags="-M q35 -m 256M -display none -no-reboot -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom $iso"

phases() {
    grep 'boot-phase:' | awk '{printf "  %-14s %12s\n", $2, $3}'
}

echo "== boot phases, guest instructions (TCG, -icount shift=0,sleep=off)"
# shellcheck disable=SC2086
timeout 120 qemu-system-x86_64 $flags -accel tcg -cpu max -icount shift=0,sleep=off \
    -serial stdio </dev/null 2>/dev/null | tr -d '\r' | phases

echo "== boot phases, TSC cycles and host wall-clock ms (plain TCG)"
start=$(date +%s%N)
# shellcheck disable=SC2086
timeout 120 qemu-system-x86_64 $flags -accel tcg -cpu max -serial stdio </dev/null 2>/dev/null |
    while IFS= read -r line; do
        now=$(date +%s%N)
        line=$(printf '%s' "$line" | tr -d '\r')
        ms=$(((now - start) / 1000000))
        case "$line" in
        boot-phase:*) echo "$line" | awk -v ms="$ms" '{printf "  %-14s %12s cycles  %6d ms\n", $2, $3, ms}' ;;
        "capOS: halting"*) echo "  halt (init test system, all processes exited) $ms ms" ;;
        esac
    done
