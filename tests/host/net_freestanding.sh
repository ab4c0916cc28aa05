#!/bin/sh
# net_freestanding.sh OUT_DIR "CC FLAGS..." SOURCES...
# TAP: lib/net is linked into the freestanding netstack service, so every
# source must compile with the userspace flags, and the objects together
# with lib/freestanding/string.c must need no outside symbol (no libc, no
# compiler-inserted calls beyond what the freestanding string.c provides).
set -u
out=$1; cc=$2; shift 2
mkdir -p "$out"
n=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
objs=""
for src in "$@" lib/freestanding/string.c; do
    obj="$out/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    $cc -fno-lto -c "$src" -o "$obj"
    tap $? "freestanding compile $src"
    objs="$objs $obj"
done
for h in net/net.h net/wire.h net/dhcp.h net/netbuf.h; do
    # shellcheck disable=SC2086
    echo "#include \"$h\"" | $cc -fno-lto -x c -fsyntax-only -MF /dev/null -
    tap $? "$h compiles on its own"
done
# shellcheck disable=SC2086
ld -r -o "$out/net-all.o" $objs
undef=$(nm -u "$out/net-all.o")
[ -z "$undef" ]
tap $? "no external symbols${undef:+: $(echo $undef | tr '\n' ' ')}"
echo "1..$n"
