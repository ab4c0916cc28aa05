#!/bin/sh
# Boot Debian's Linux 6.1 kernel in qemu-system-x86_64 under multi-threaded
# TCG, as capOS's tools/bench-smp.sh boots capOS (-M q35 -cpu max, no
# -icount: it is single-threaded), with lsmp (static glibc) as /init, once
# with -smp 1 and once with -smp 2, and print each figure in TSC cycles
# with the speed-up from one CPU to two. Run as root (mknod, apt), on a
# machine with nothing else running: the ratios are wall-clock ratios.
#
#   sh run.sh                  # WORK=... KERNEL=/path/vmlinuz also work
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HERE/work}
mkdir -p "$WORK"
for tool in gcc cpio gzip qemu-system-x86_64; do
	command -v $tool >/dev/null || { echo "run.sh: need $tool (apt-get install gcc cpio qemu-system-x86)"; exit 1; }
done
KERNEL=$(sh "$HERE/../linux-kernel.sh" "$WORK")
gcc -static -O2 -pthread -Wall -Wextra -o "$WORK/lsmp" "$HERE/lsmp.c"
rm -rf "$WORK/rootfs"
mkdir -p "$WORK/rootfs/dev" "$WORK/rootfs/proc" "$WORK/rootfs/sys"
cp "$WORK/lsmp" "$WORK/rootfs/init"
mknod -m 600 "$WORK/rootfs/dev/console" c 5 1
(cd "$WORK/rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >"$WORK/initrd-lsmp.gz"
run() {
	# shellcheck disable=SC2086
	timeout 900 qemu-system-x86_64 -M q35 -cpu max -accel tcg,thread=multi -m 512 -smp "$1" \
		-nographic -no-reboot -kernel "$KERNEL" -initrd "$WORK/initrd-lsmp.gz" \
		-append "console=ttyS0 quiet nokaslr mitigations=off panic=-1" </dev/null 2>&1 |
		sed -u 's/\r//' | grep -ao 'LSMP .*' >"$WORK/smp-$1.txt" || true
}
run 1
run 2
sh "$HERE/../../tools/smp-table.sh" "Linux 6.1 smp" LSMP "$WORK/smp-1.txt" "$WORK/smp-2.txt" \
	smp-cpu4 smp-ipc2 smp-wake
grep -h 'LSMP failed\|LSMP cpus' "$WORK/smp-1.txt" "$WORK/smp-2.txt" | sed 's/^/   /' || true
