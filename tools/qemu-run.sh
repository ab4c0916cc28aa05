#!/bin/sh
# qemu-run.sh bios|uefi ISO [QEMU ARGS...]
# Boot an ISO interactively. capOS leaves QEMU through isa-debug-exit:
# status 33 means the kernel halted cleanly, 35 that it halted on an error.
set -u
mode=$1; iso=$2; shift 2
set -- -cdrom "$iso" "$@"
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
33) echo "qemu: capOS halted cleanly"; exit 0 ;;
35) echo "qemu: capOS halted with a failure status" >&2; exit 1 ;;
*) echo "qemu: exited with status $rc" >&2; exit "$rc" ;;
esac
