#!/bin/sh
# qemu-test.sh SPEC RESULT_FILE [CPUS]
# Boot capOS under QEMU as a test described by SPEC (a shell fragment in
# tests/qemu/*.test, documented in tests/qemu/README.md), with a timeout, and
# check the serial log and the isa-debug-exit status. Writes one TAP line.
# CPUS (the variants a spec lists in ALSO_SMP): the same test on a machine
# with that many CPUs, named NAME@smpCPUS, which must also bring them all up.
set -u
spec=$1; out=$2; cpus=${3:-}
name=$(basename "$spec" .test)
[ -n "$cpus" ] && name="$name@smp$cpus"

KERNEL=release      # release | test (test hooks compiled in)
CMDLINE=""
MODULE=ring-nop     # the boot module: build/user/$MODULE.elf, or a path
MODULES=1           # how many copies of the boot module GRUB loads
FIRMWARE=bios       # bios | uefi
CPU=max
MEMORY=256M
QEMU_EXTRA=""
TIMEOUT=90
EXPECT_STATUS=33    # 33: clean halt, 35: failure halt
EXPECT=""           # lines (fixed strings) that must appear, one per line
EXPECT_ORDER=""     # lines that must appear in this order
REJECT="PANIC
EXCEPTION"          # lines that must not appear
SCRIPT=""           # tests/qemu/scripts/*.script: type into the serial console
                    # and read it back (tools/serial-script.py)
HOST_SCRIPT=""      # a host command run while QEMU runs (e.g. a python3 client
                    # of a forwarded port); it must exit 0, and its output is
                    # appended to the serial log for EXPECT
ALSO_SMP=""         # CPU counts to run this test at too (make runs each as NAME@smpN)
NETNS=""            # a /24 prefix such as 10.99.2: QEMU and HOST_SCRIPT run in a
                    # network namespace made for the test, with a TAP device
                    # captap0 at PREFIX.1 (the host side) that QEMU_EXTRA
                    # names; deleted afterwards. Skipped without root.
. "./$spec"
if [ -n "$cpus" ]; then
    QEMU_EXTRA="$QEMU_EXTRA -smp $cpus"
    EXPECT="smp: $cpus of $cpus CPUs online
$EXPECT"
fi

work=build/test/qemu/$name
mkdir -p "$work" "$(dirname "$out")"
log="$out.log"
fail() {
    echo "not ok - qemu $name: $*" >"$out"
    echo "[qemu-$name] FAILED: $* (serial log: $log)" >&2
    exit 0
}

kernel=build/kernel.elf
[ "$KERNEL" = test ] && kernel=build/test/kernel.elf
set --
i=0
module=$MODULE
[ -f "$module" ] || module=build/user/$MODULE.elf
while [ "$i" -lt "$MODULES" ]; do
    set -- "$@" "$module"
    i=$((i + 1))
done
tools/mkiso.sh "$work/capos.iso" "$kernel" "$CMDLINE" "$@" || fail "could not build the ISO"

serial="file:$log"
[ -n "$SCRIPT" ] && serial=stdio
set -- -M q35 -m "$MEMORY" -accel tcg -cpu "$CPU" -display none -no-reboot \
    -serial "$serial" -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -cdrom "$work/capos.iso"
if [ "$FIRMWARE" = uefi ]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
    set -- "$@" -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
        -drive if=pflash,format=raw,file="$work/vars.fd"
fi
if [ -n "$SCRIPT" ]; then
    # shellcheck disable=SC2086
    timeout --kill-after=5 "$((TIMEOUT + 10))" tools/serial-script.py "$SCRIPT" "$log" "$TIMEOUT" \
        -- qemu-system-x86_64 "$@" $QEMU_EXTRA 2>"$work/qemu.out"
    status=$?
    [ "$status" -eq 3 ] && fail "script: $(head -c 400 "$work/qemu.out" | tr '\n' '|')"
else
    host_pid=""
    # Empty before the host script starts: one that reads the serial log
    # must not see the last run's.
    : >"$log"
    in_ns=""
    if [ -n "$NETNS" ]; then
        ns="capos-qemu-$$"
        if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
            echo "ok - qemu $name # SKIP network namespaces unavailable" >"$out"
            exit 0
        fi
        trap 'ip netns del "$ns" 2>/dev/null' EXIT INT TERM
        in_ns="ip netns exec $ns"
        $in_ns ip link set lo up
        $in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
        $in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
        { $in_ns ip tuntap add dev captap0 mode tap &&
            $in_ns ip addr add "$NETNS.1/24" dev captap0 &&
            $in_ns ip link set captap0 up; } || fail "could not make captap0 in $ns"
    fi
    if [ -n "$HOST_SCRIPT" ]; then
        # shellcheck disable=SC2086
        timeout --kill-after=5 "$TIMEOUT" $in_ns $HOST_SCRIPT </dev/null >"$work/host.out" 2>&1 &
        host_pid=$!
    fi
    # shellcheck disable=SC2086
    timeout --kill-after=5 "$TIMEOUT" $in_ns qemu-system-x86_64 "$@" $QEMU_EXTRA </dev/null >"$work/qemu.out" 2>&1
    status=$?
    if [ -n "$host_pid" ]; then
        wait "$host_pid"
        host_status=$?
        cat "$work/host.out" >>"$log"
        [ "$host_status" -eq 0 ] || fail "host script exit status $host_status: $(tail -c 400 "$work/host.out" | tr '\n' '|')"
    fi
fi
[ "$status" -eq 124 ] || [ "$status" -eq 137 ] && fail "timed out after ${TIMEOUT}s ($(head -c 300 "$work/qemu.out" | tr '\n' '|'))"
[ "$status" -eq "$EXPECT_STATUS" ] || fail "QEMU exit status $status, expected $EXPECT_STATUS ($(head -c 300 "$work/qemu.out"))"

missing=$(printf '%s\n' "$EXPECT" | while IFS= read -r line; do
    [ -n "$line" ] && ! grep -qF -- "$line" "$log" && echo "$line"
done)
[ -z "$missing" ] || fail "expected in the serial log but missing: $(echo "$missing" | head -3 | tr '\n' '|')"
unwanted=$(printf '%s\n' "$REJECT" | while IFS= read -r line; do
    [ -n "$line" ] && grep -qF -- "$line" "$log" && echo "$line"
done)
[ -z "$unwanted" ] || fail "unexpected in the serial log: $(echo "$unwanted" | head -3 | tr '\n' '|')"
last=0
bad_order=$(printf '%s\n' "$EXPECT_ORDER" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    n=$(grep -nF -- "$line" "$log" | head -1 | cut -d: -f1)
    if [ -z "$n" ] || [ "$n" -le "$last" ]; then
        echo "$line"
        break
    fi
    last=$n
done)
[ -z "$bad_order" ] || fail "missing or out of order in the serial log: $bad_order"
echo "ok - qemu $name" >"$out"
