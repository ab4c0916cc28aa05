#!/bin/sh
# bench-remote.sh KERNEL SYSTEM
# The remote call round trip through the guest's remote-session gateway
# (docs/remote.md): boot SYSTEM (build/systems/remote.bin) under TCG with a
# free 127.0.0.1 port forwarded to the gateway, log in as the operator
# remote-test creates, and time SystemInfo.uptime calls made one after the
# other by the official C++ client (each a full round trip: host TCP,
# QEMU's user network, virtio-net, netstack, the gateway's RPC engine, a
# ring CALL to system-info, and back). Wall-clock, so host-dependent.
# Then the machine is halted through the remote Power.
set -eu
kernel=$1; system=$2
count=${REMOTE_BENCH_CALLS:-1000}
mkdir -p build/bench
iso=build/bench/remote-bench.iso
log=build/bench/remote-serial.txt
tools/mkiso.sh "$iso" "$kernel" "" "$system"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$log"
timeout 300 qemu-system-x86_64 -M q35 -m 256M -accel tcg -cpu max -display none -no-reboot \
    -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$iso" \
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:2327 \
    -device virtio-net-pci,netdev=n0,disable-legacy=on -serial "file:$log" </dev/null >/dev/null 2>&1 &
qemu=$!
i=0
while ! grep -q "remote-test: console bundle (guest)" "$log" && [ $i -lt 1800 ]; do
    sleep 0.1; i=$((i + 1))
done
export CAPOS_PASSWORD="correct horse"
remote() { timeout 200 build/tools/capos-remote --port "$port" --timeout 120 "$@" 2>&1 || true; }
out=$(remote login ops -c "bench info.uptime $count")
# remote-test waits for this message; the Power call halts the machine.
remote login ops -c 'call chat.post "hello from afar"' -c "call power.shutdown" >/dev/null
wait "$qemu" || true
echo "== remote benchmarks (wall clock, TCG; the official C++ client on the host)"
line=$(echo "$out" | grep "calls of info.uptime in" || true)
if [ -n "$line" ]; then
    echo "   remote info.uptime round trip: $line"
else
    echo "   remote info.uptime round trip: failed: $(echo "$out" | tail -1)"
fi
