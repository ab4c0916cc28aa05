#!/bin/sh
# bench-ring.sh KERNEL PROGRAM
# Boot PROGRAM (build/user/ring-bench.elf) as the boot module and print its
# "bench:" lines twice: guest instructions under -icount shift=0,sleep=off
# (deterministic), and TSC cycles under plain TCG (host-dependent).
set -eu
kernel=$1; program=$2
iso=build/bench/ring-bench.iso
tools/mkiso.sh "$iso" "$kernel" "" "$program"
flags="-M q35 -m 256M -display none -no-reboot -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom $iso"
run() {
    # shellcheck disable=SC2086
    timeout 300 qemu-system-x86_64 $flags -accel tcg -cpu max "$@" -serial stdio </dev/null 2>/dev/null |
        tr -d '\r' | grep '^bench:' | sed 's/^bench: //'
}
run -icount shift=0,sleep=off >build/bench/icount.txt
run >build/bench/tcg.txt
printf '== ring benchmarks         %14s %14s\n' "instructions" "TCG cycles"
join build/bench/icount.txt build/bench/tcg.txt | while read -r name a b; do
    printf '   %-24s %14s %14s\n' "$name" "$a" "$b"
done
