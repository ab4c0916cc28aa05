#!/bin/sh
# bench-ring.sh KERNEL MODULE NAME
# Boot MODULE (build/user/ring-bench.elf, or a system manifest such as
# build/bench/ipc.bin) and print its "bench:" lines twice: guest
# instructions under -icount shift=0,sleep=off (deterministic), and TSC
# cycles under plain TCG (host-dependent). A benchmark that could not
# measure prints "failed" and a "bench-why:" line, shown under the table.
set -eu
kernel=$1; program=$2; name=${3:-ring}
iso=build/bench/$name-bench.iso
tools/mkiso.sh "$iso" "$kernel" "${CMDLINE:-}" "$program"
flags="-M q35 -m 256M -display none -no-reboot -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom $iso"
# run OUT QEMU-ARGS...: the values in OUT; reasons and panics on stdout.
run() {
    out=$1
    shift
    # shellcheck disable=SC2086
    timeout 300 qemu-system-x86_64 $flags -accel tcg -cpu max "$@" -serial stdio </dev/null 2>/dev/null |
        tr -d '\r' | grep '^bench[:-]\|^panic:' >"$out.all" || true
    grep '^bench:' "$out.all" | sed 's/^bench: //' >"$out" || true
    grep -v '^bench:' "$out.all" | sed 's/^bench-why: //' || true
}
run "build/bench/$name-icount.txt" -icount shift=0,sleep=off >"build/bench/$name-why.txt"
run "build/bench/$name-tcg.txt" >>"build/bench/$name-why.txt"
printf '== %s benchmarks %*s %14s %14s\n' "$name" $((9 - ${#name})) '' "instructions" "TCG cycles"
# Both runs print the same lines in the same order.
paste -d' ' "build/bench/$name-icount.txt" "build/bench/$name-tcg.txt" | while read -r row a _ b; do
    printf '   %-24s %14s %14s\n' "$row" "$a" "$b"
done
if [ -s "build/bench/$name-why.txt" ]; then
    echo "   failed (icount run, then TCG run):"
    sed 's/^/     /' "build/bench/$name-why.txt"
fi
