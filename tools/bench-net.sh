#!/bin/sh
# bench-net.sh KERNEL SYSTEM
# TCP through the netstack service in busy guest instructions per KiB
# (issue 16; docs/benchmarks.md, "TCP through the netstack service"), beside
# Linux 6.1's figure for the same work in the same QEMU. Boots SYSTEM
# (build/bench/net.bin: netstack and user/bench/net-bench.c) under
# -icount shift=0,sleep=off with a virtio-net device on QEMU's user network,
# with tools/bench-net-host.py as the peer on 127.0.0.1:47140 (the guest's
# 10.0.2.2:47140): two rounds of 8 MiB guest -> host and host -> guest;
# busy = elapsed - idle cycles (Timer.cpuTime), per KiB, of the second
# round. Linux's figure: bench/linux-net/run.sh, the same transfers by a
# static program on Debian's kernel, measured live when its kernel has
# been fetched (bench/linux-net/work; LINUX_NET=0 skips it), else the
# figure recorded in docs/benchmarks.md.
set -eu
kernel=$1; system=$2
port=47140
dir=build/bench
iso=$dir/net-bench.iso
tools/mkiso.sh "$iso" "$kernel" "" "$system"
# boot SUFFIX QEMU-ARGS...: the system once, with the host peer; the serial
# log in $dir/net-serial$SUFFIX.txt, the peer's lines in net-host$SUFFIX.txt.
boot() {
    sfx=$1
    shift
    : >"$dir/net-serial$sfx.txt"
    timeout 600 python3 tools/bench-net-host.py $port 4 590 >"$dir/net-host$sfx.txt" 2>&1 &
    host=$!
    # shellcheck disable=SC2086
    timeout 600 qemu-system-x86_64 -M q35 -m 256M -accel tcg -cpu max "$@" \
        -display none -no-reboot -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -cdrom "$iso" -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on \
        -serial "file:$dir/net-serial$sfx.txt" </dev/null >/dev/null 2>&1 || true
    # A guest that failed before its last connection leaves the peer waiting
    # (a moment for it to see the last end of stream first).
    i=0
    while kill -0 "$host" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill "$host" 2>/dev/null || true
    wait "$host" || true
}
boot "" -icount shift=0,sleep=off
# Throughput in wall-clock time: the same transfers under plain TCG, timed
# by the host peer.
boot -tcg
tr -d '\r' <"$dir/net-serial.txt" >"$dir/net-serial.clean"

# Linux: live if its kernel is here, else the recorded figures (2026-12-07,
# bench/linux-net/run.sh, -M q35 -cpu max, 8 MiB, second round).
rm -f "$dir/linux-net.txt"
linux_send=11600 linux_recv=5100 linux_how="recorded 2026-12-07 (sh bench/linux-net/run.sh measures it)"
linux_up="" linux_down=""
if [ "${LINUX_NET:-1}" != 0 ] && ls bench/linux-net/work/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
    sh bench/linux-net/run.sh >"$dir/linux-net.txt" 2>&1 || true
    ICOUNT=0 sh bench/linux-net/run.sh >"$dir/linux-net-tcg.txt" 2>&1 || true
    linux_up=$(awk '$1 == "LHOST" && $2 == "received" { v = $(NF - 1) } END { print v }' "$dir/linux-net-tcg.txt" | tr -d '(')
    linux_down=$(awk '$1 == "LHOST" && $2 == "sent" { v = $(NF - 1) } END { print v }' "$dir/linux-net-tcg.txt" | tr -d '(')
    # The per-kib field of the last LNET line of a direction.
    lnet() { awk -v d="$1" '$1 == "LNET" && $2 == d { for (i = 3; i < NF; i++) if ($i == "per-kib") v = $(i + 1) } END { print v }' "$dir/linux-net.txt"; }
    s=$(lnet send)
    r=$(lnet recv)
    if [ -n "$s" ] && [ -n "$r" ]; then
        linux_send=$s linux_recv=$r linux_how="measured now (bench/linux-net/run.sh)"
    else
        linux_how="recorded; the live run failed: $(grep -a 'LNET error' "$dir/linux-net.txt" | head -1)"
    fi
fi

value() { awk -v k="$1" '$1 == "bench:" && $2 == k { v = $3 } END { print (v == "") ? "failed" : v }' "$dir/net-serial.clean"; }
echo "== issue 16: TCP through netstack, busy guest instructions per KiB (icount, 8 MiB, 2nd round)"
printf '   %-36s %10s %12s\n' "" "capOS" "Linux 6.1"
printf '   %-36s %10s %12s\n' "guest -> host (32 KiB writes)" "$(value net-send-per-kib)" "$linux_send"
printf '   %-36s %10s %12s\n' "host -> guest (32 KiB reads)" "$(value net-recv-per-kib)" "$linux_recv"
echo "   Linux: $linux_how"
# MB/s of the second round, as the host peer timed it (the last line of
# each direction).
rate() { awk -v d="$2" '$1 == "host:" && $2 == d { v = $(NF - 1) } END { print (v == "") ? "failed" : v }' "$1" | tr -d '('; }
echo "== issue 16: the same transfers in MB/s (plain TCG, wall clock on this host, 2nd round)"
printf '   %-36s %10s %12s\n' "" "capOS" "Linux 6.1"
printf '   %-36s %10s %12s\n' "guest -> host" "$(rate "$dir/net-host-tcg.txt" received)" "${linux_up:-not run}"
printf '   %-36s %10s %12s\n' "host -> guest" "$(rate "$dir/net-host-tcg.txt" sent)" "${linux_down:-not run}"
[ -n "$linux_up" ] || echo "   Linux: measured only when its kernel is here (sh bench/linux-net/run.sh fetches it)"
grep -a '^net: ' "$dir/net-serial.clean" | sed 's/^/   capOS /' || true
grep -a '^LNET \(send\|recv\)' "$dir/linux-net.txt" 2>/dev/null | sed 's/^LNET /   Linux /' || true
if grep -aq '^bench-why:\|^panic:\|PANIC' "$dir/net-serial.clean" || ! grep -aq '^bench: net-recv' "$dir/net-serial.clean"; then
    echo "   capOS failed:"
    grep -a '^bench-why:\|^panic:\|PANIC\|FAILED' "$dir/net-serial.clean" "$dir/net-host.txt" | sed 's/^/     /' || true
fi
