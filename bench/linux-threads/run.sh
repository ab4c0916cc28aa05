#!/bin/sh
# Boot Debian's Linux 6.1 kernel in qemu-system-x86_64 under
# -icount shift=0,sleep=off (rdtsc = guest instructions executed), one CPU,
# mitigations=off, with lthread (static glibc) as /init; print its LTHREAD
# lines (instructions per operation). Run as root (mknod, apt).
#
#   sh run.sh                 # machine/CPU as the shared linux-baseline tool: -machine pc -cpu qemu64
#   PROFILE=capos sh run.sh   # machine/CPU as capOS's make bench: -M q35 -cpu max
#   BOOTS=2 sh run.sh         # boot this many times (each boot runs 2 passes)
#   KERNEL=/path/vmlinuz sh run.sh
#   REPEAT=4 sh run.sh        # passes per boot (default 2)
#   EXTRA_APPEND=norandmaps   # more kernel parameters (diagnostics only)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HERE/work}
PROFILE=${PROFILE:-baseline}
BOOTS=${BOOTS:-2}
REPEAT=${REPEAT:-2}
mkdir -p "$WORK"

for tool in gcc cpio gzip qemu-system-x86_64; do
	command -v $tool >/dev/null || { echo "run.sh: need $tool (apt-get install gcc cpio qemu-system-x86)"; exit 1; }
done

# Kernel: the vmlinuz from Debian's linux-image-6.1.0-*-amd64 package,
# unpacked (not installed): the same one the shared linux-baseline tool uses.
KERNEL=$(sh "$HERE/../linux-kernel.sh" "$WORK")

gcc -static -O2 -pthread -Wall -o "$WORK/lthread" "$HERE/lthread.c"
rm -rf "$WORK/rootfs"
mkdir -p "$WORK/rootfs/dev" "$WORK/rootfs/proc" "$WORK/rootfs/sys"
cp "$WORK/lthread" "$WORK/rootfs/init"
mknod -m 600 "$WORK/rootfs/dev/console" c 5 1
(cd "$WORK/rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >"$WORK/initrd-lthread.gz"

case $PROFILE in
baseline) MC="-machine pc -cpu qemu64" ;;
capos) MC="-M q35 -cpu max" ;;
*) echo "run.sh: PROFILE is baseline or capos"; exit 1 ;;
esac
QEMU="qemu-system-x86_64 $MC -accel tcg -icount shift=0,sleep=off -m 512 -smp 1 -nographic -no-reboot -kernel $KERNEL -initrd $WORK/initrd-lthread.gz"
APPEND="console=ttyS0 quiet nokaslr mitigations=off panic=-1 lthread_repeat=$REPEAT${EXTRA_APPEND:+ $EXTRA_APPEND}"
echo "# kernel: $KERNEL"
echo "# qemu: $QEMU -append \"$APPEND\""
b=1
while [ $b -le "$BOOTS" ]; do
	echo "# boot $b ($PROFILE)"
	# shellcheck disable=SC2086
	timeout 900 $QEMU -append "$APPEND" </dev/null 2>&1 | sed -u 's/\r//' | grep -ao 'L\(INFO\|THREAD\) .*'
	b=$((b + 1))
done
