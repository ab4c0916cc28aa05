#!/bin/sh
# qemu-run.sh bios|uefi ISO [QEMU ARGS...]
# Boot an ISO interactively: the QEMU command line of `make run` and
# `make run-uefi`, kept here only, so that the console test
# (tests/console/console_test.py) runs exactly what they run.
#
# The serial console and the QEMU monitor share this terminal through
# QEMU's multiplexer, with signals off, so that:
#   Ctrl-C        goes to the guest (the shell cancels the line)
#   Ctrl-A X      quits QEMU
#   Ctrl-A C      switches between the console and the QEMU monitor
#   Ctrl-A H      lists the other Ctrl-A keys; Ctrl-A Ctrl-A types Ctrl-A
# KVM=1 in the environment uses KVM instead of TCG.
#
# capOS leaves QEMU through isa-debug-exit: status 33 means the kernel
# halted cleanly, 35 that it halted on an error.
set -u
if [ $# -lt 2 ] || { [ "$1" != bios ] && [ "$1" != uefi ]; }; then
    echo "usage: tools/qemu-run.sh bios|uefi ISO [QEMU ARGS...]" >&2
    exit 2
fi
mode=$1; iso=$2; shift 2
if [ "${KVM:-}" = 1 ]; then
    accel="-accel kvm -cpu host"
else
    accel="-accel tcg -cpu max"
fi
# QEMU's user network and a virtio-net device for the netstack service;
# two free 127.0.0.1 ports are forwarded: one to the guest's echo service
# (port 7), one to the remote-session gateway (port 2327, Cap'n Proto RPC,
# docs/remote.md). Traffic stays on this machine. NET=0 in the environment
# leaves the network out.
net=""
if [ "${NET:-1}" != 0 ]; then
    # Both bound at once, so that they differ.
    set -- $(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])') "$@"
    port=$1; rport=$2; shift 2
    net="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$rport-:2327"
    net="$net -device virtio-net-pci,netdev=n0,disable-legacy=on"
    echo "qemu: 127.0.0.1:$port is forwarded to the guest's TCP echo service (port 7)" >&2
    echo "remote CapSet: tcp 127.0.0.1:$rport (build/tools/capos-remote --port $rport login USER)" >&2
fi
# 512 MiB: the default system's quotas (the shell's 96 MiB, the credential
# store's 48 MiB for Argon2, netstack, the remote gateway) and the boot
# manifest that init holds do not fit in 256 MiB together.
# shellcheck disable=SC2086
set -- -M q35 -m 512M $accel -display none -no-reboot \
    -chardev stdio,id=console,mux=on,signal=off \
    -serial chardev:console -mon chardev=console,mode=readline \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -cdrom "$iso" $net "$@"
if [ "$mode" = uefi ]; then
    vars=$(mktemp)
    trap 'rm -f "$vars"' EXIT
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
    set -- -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
        -drive if=pflash,format=raw,file="$vars" "$@"
fi
qemu-system-x86_64 "$@"
rc=$?
case $rc in
0) echo "qemu: quit" ;;
33) echo "qemu: capOS halted cleanly"; exit 0 ;;
35) echo "qemu: capOS halted with a failure status" >&2; exit 1 ;;
*) echo "qemu: exited with status $rc" >&2; exit "$rc" ;;
esac
