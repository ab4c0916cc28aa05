#!/bin/sh
# bench-remote.sh KERNEL SYSTEM
# The remote call round trip through the guest's remote-session gateway
# (docs/remote.md): boot SYSTEM (build/systems/remote.bin) with a free
# 127.0.0.1 port forwarded to the gateway, log in as the operator
# remote-test creates, and make SystemInfo.uptime calls one after the
# other with the official C++ client (each a full round trip: host TCP,
# QEMU's user network, virtio-net, netstack, the gateway's RPC engine, a
# ring CALL to system-info, and back). Twice: under plain TCG for calls
# per second (wall clock, so host-dependent), and under -icount
# shift=0,sleep=off for guest instructions per call: the busy cycles of
# SystemInfo.cpuTime (Timer.cpuTime: cycles less the halted ones) read
# remotely before and after the calls, divided by their number. Each boot
# ends with the remote Power.
set -eu
kernel=$1; system=$2
count=${REMOTE_BENCH_CALLS:-1000}
mkdir -p build/bench
iso=build/bench/remote-bench.iso
log=build/bench/remote-serial.txt
tools/mkiso.sh "$iso" "$kernel" "" "$system"
export CAPOS_PASSWORD="correct horse"

# session QEMU-ACCEL-ARGS -- CLIENT-COMMANDS...: boot, run one logged-in
# client session with the commands, halt; its output in $out.
session() {
    accel=$1
    shift
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    : >"$log"
    # shellcheck disable=SC2086
    timeout 600 qemu-system-x86_64 -M q35 -m 256M $accel -cpu max -display none -no-reboot \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$iso" \
        -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:2327 \
        -device virtio-net-pci,netdev=n0,disable-legacy=on -serial "file:$log" </dev/null >/dev/null 2>&1 &
    qemu=$!
    i=0
    while ! grep -q "remote-test: console bundle (guest)" "$log" && [ $i -lt 3000 ]; do
        sleep 0.1; i=$((i + 1))
    done
    out=$(timeout 400 build/tools/capos-remote --port "$port" --timeout 300 login ops "$@" 2>&1 || true)
    # remote-test waits for this message; the Power call halts the machine.
    timeout 200 build/tools/capos-remote --port "$port" --timeout 120 login ops \
        -c 'call chat.post "hello from afar"' -c "call power.shutdown" >/dev/null 2>&1 || true
    wait "$qemu" || true
}

echo "== remote benchmarks (the official C++ client on the host)"
session "-accel tcg" -c "bench info.uptime $count"
line=$(echo "$out" | grep "calls of info.uptime in" || true)
echo "   remote info.uptime round trip (TCG, wall clock): ${line:-failed: $(echo "$out" | tail -1)}"

session "-accel tcg -icount shift=0,sleep=off" -c "call info.cpuTime" -c "bench info.uptime $count" \
    -c "call info.cpuTime"
# Two lines "(cycles = C, idleCycles = I, cpus = N)": busy = N*dC - dI.
busy=$(echo "$out" | sed -n 's/.*cycles = \([0-9]*\), idleCycles = \([0-9]*\), cpus = \([0-9]*\).*/\1 \2 \3/p' |
    awk -v n="$count" 'NR == 1 { c = $1; i = $2 } NR == 2 { printf "%.0f", ($3 * ($1 - c) - ($2 - i)) / n; ok = 1 }
                       END { if (!ok) exit 1 }' || true)
local=$(sed -n 's/.*remote-test: local info.uptime: \([0-9]*\) cycles per call.*/\1/p' "$log")
if [ -n "$busy" ]; then
    echo "   remote info.uptime round trip (icount): $busy guest instructions per call"
else
    echo "   remote info.uptime round trip (icount): failed: $(echo "$out" | tail -1)"
fi
echo "   the same call made locally through the ring (icount): ${local:-none} guest instructions"
