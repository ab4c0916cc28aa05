#!/bin/sh
# mkiso.sh OUT.iso KERNEL.elf "CMDLINE" [MODULE...]
# Build a hybrid BIOS+UEFI ISO with grub-mkrescue that boots KERNEL through
# Multiboot2 with the given command line and boot modules (any number, so
# that tests can boot with zero or several).
set -eu
out=$1; kernel=$2; cmdline=$3; shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/kernel.elf"
{
    echo 'set timeout=0'
    echo 'set timeout_style=hidden'
    # GRUB's own messages (a missing file, say) appear on the serial log too.
    echo 'serial --unit=0 --speed=115200'
    echo 'terminal_output serial console'
    echo 'menuentry "capOS" {'
    echo "    multiboot2 /boot/kernel.elf $cmdline"
    i=0
    for m in "$@"; do
        cp "$m" "$dir/boot/module$i"
        echo "    module2 /boot/module$i $(basename "$m")"
        i=$((i + 1))
    done
    echo '    boot'
    echo '}'
} >"$dir/boot/grub/grub.cfg"
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$dir" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
rm -f "$dir.log"
