#!/bin/sh
# Boot Debian's Linux 6.1 kernel in qemu-system-x86_64 under
# -icount shift=0,sleep=off (rdtsc = guest instructions executed, except
# across halts), one CPU, mitigations=off, a virtio-net device on QEMU's
# user network, with lnet (static glibc) as /init; it loads the virtio-net
# modules, sets 10.0.2.15/24 via 10.0.2.2 and moves BYTES over TCP to and
# from tools/bench-net-host.py on the host's 127.0.0.1 (the guest's
# 10.0.2.2). Prints its LNET lines: busy instructions per KiB, each
# direction (lnet.c says how idle time is taken out).
#
#   sh bench/linux-net/run.sh                # machine/CPU as capOS's make bench: -M q35 -cpu max
#   PROFILE=baseline sh bench/linux-net/run.sh   # as ../shared/linux-baseline: -machine pc -cpu qemu64
#   BYTES=8388608 ROUNDS=2 BOOTS=1           # the defaults
#   ICOUNT=0 sh bench/linux-net/run.sh       # plain TCG: for the host's MB/s (LHOST lines)
#   KERNEL=/path/vmlinuz MODULES=/path/lib/modules/VERSION   # another kernel
#
# Needs gcc (static glibc), python3, qemu-system-x86 (mkinitrd.py writes the
# initramfs: no cpio, no root) and, the
# first time, apt-get download (not root) for the kernel package, of which
# only vmlinuz and the eight modules are unpacked into $WORK.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-$HERE/work}
PROFILE=${PROFILE:-capos}
BOOTS=${BOOTS:-1}
ROUNDS=${ROUNDS:-2}
ICOUNT=${ICOUNT:-1}
BYTES=${BYTES:-8388608}
mkdir -p "$WORK"

for tool in gcc python3 qemu-system-x86_64; do
	command -v $tool >/dev/null || { echo "run.sh: need $tool (tools/install-deps.sh)"; exit 1; }
done

MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
if [ -z "${KERNEL:-}" ]; then
	KERNEL=$(ls "$WORK"/kernel/boot/vmlinuz-* 2>/dev/null | head -1 || true)
	if [ -z "$KERNEL" ]; then
		pkg=${KPKG:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
		[ -n "$pkg" ] || { echo "run.sh: apt-cache knows no linux-image-amd64 (apt-get update?)"; exit 1; }
		(cd "$WORK" && apt-get download "$pkg")
		mkdir -p "$WORK/kernel"
		dpkg-deb --fsys-tarfile "$WORK"/"$pkg"_*.deb | tar -x -C "$WORK/kernel" --wildcards ./boot \
			'./lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/drivers/net/virtio_net.ko' \
			'./lib/modules/*/kernel/drivers/net/net_failover.ko' './lib/modules/*/kernel/net/core/failover.ko'
		rm -f "$WORK"/"$pkg"_*.deb
		KERNEL=$(ls "$WORK"/kernel/boot/vmlinuz-* | head -1)
	fi
fi
MODULES=${MODULES:-$(ls -d "$WORK"/kernel/lib/modules/* | head -1)}

gcc -static -O2 -Wall -Wextra -Werror -o "$WORK/lnet" "$HERE/lnet.c"
set --
for m in $MODS; do
	f=$(find "$MODULES/kernel" -name "$m.ko" | head -1)
	[ -n "$f" ] || { echo "run.sh: no $m.ko under $MODULES"; exit 1; }
	set -- "$@" "$f"
done
python3 "$HERE/mkinitrd.py" "$WORK/initrd-lnet.gz" "$WORK/lnet" "$@"

case $PROFILE in
baseline) MC="-machine pc -cpu qemu64" ;;
capos) MC="-M q35 -cpu max" ;;
*) echo "run.sh: PROFILE is capos or baseline"; exit 1 ;;
esac
b=1
while [ $b -le "$BOOTS" ]; do
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	IC="-icount shift=0,sleep=off"
	[ "$ICOUNT" = 1 ] || IC=""
	QEMU="qemu-system-x86_64 $MC -accel tcg $IC -m 512 -smp 1 -nographic -no-reboot -kernel $KERNEL -initrd $WORK/initrd-lnet.gz -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on"
	APPEND="console=ttyS0 quiet nokaslr mitigations=off panic=-1 lnet_port=$port lnet_bytes=$BYTES lnet_rounds=$ROUNDS"
	echo "# kernel: $KERNEL"
	echo "# qemu: $QEMU -append \"$APPEND\""
	echo "# boot $b ($PROFILE)"
	timeout 600 python3 "$TOP/tools/bench-net-host.py" "$port" $((ROUNDS * 2)) 590 >"$WORK/host.out" 2>&1 &
	host=$!
	# shellcheck disable=SC2086
	timeout 600 $QEMU -append "$APPEND" </dev/null 2>&1 | sed -u 's/\r//' | grep -a '^L\(INFO\|NET\) ' || true
	# A guest that failed before its last connection leaves the peer waiting
	# (a moment for it to see the last end of stream first).
	i=0
	while kill -0 $host 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $host 2>/dev/null || true
	wait $host || echo "LNET error: the host peer failed: $(tail -1 "$WORK/host.out")"
	# The host's view, with its wall-clock rate per connection.
	sed -n 's/^host: /LHOST /p' "$WORK/host.out"
	b=$((b + 1))
done
