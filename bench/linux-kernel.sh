#!/bin/sh
# linux-kernel.sh WORKDIR: print the path of Debian's Linux 6.1 vmlinuz
# (the linux-image-6.1.0-*-amd64 package the shared linux-baseline tool
# uses), unpacked (not installed) under WORKDIR/kernel on first use.
# KERNEL=/path/vmlinuz overrides it.
set -eu
work=$1
if [ -n "${KERNEL:-}" ]; then
	echo "$KERNEL"
	exit 0
fi
k=$(ls "$work"/kernel/boot/vmlinuz-* 2>/dev/null | head -1 || true)
if [ -z "$k" ]; then
	mkdir -p "$work"
	pkg=${KPKG:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
	(cd "$work" && apt-get download "$pkg" >&2)
	mkdir -p "$work/kernel"
	dpkg-deb --fsys-tarfile "$work"/"$pkg"_*.deb | tar -x -C "$work/kernel" ./boot
	rm -f "$work"/"$pkg"_*.deb
	k=$(ls "$work"/kernel/boot/vmlinuz-* | head -1)
fi
echo "$k"
