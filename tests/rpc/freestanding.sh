#!/bin/sh
# freestanding.sh OUT_DIR "CC FLAGS..." SOURCES...
# TAP: the RPC engine compiles with the guest's freestanding flags, and the
# objects together need nothing but the string functions of
# lib/freestanding (which every guest program links) and lib/capnp.
set -u
out=$1; cc=$2; shift 2
mkdir -p "$out"
n=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
objs=""
for src in "$@"; do
    obj="$out/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    $cc -c "$src" -o "$obj"
    tap $? "freestanding compile $src"
    objs="$objs $obj"
done
# shellcheck disable=SC2086
ld -r -o "$out/rpc-all.o" $objs
allowed="memcpy memmove memset memcmp strlen"
extra=""
for sym in $(nm -u "$out/rpc-all.o" | awk '{print $2}'); do
    case "$sym" in
    capn_*) continue ;;
    esac
    case " $allowed " in
    *" $sym "*) ;;
    *) extra="$extra $sym" ;;
    esac
done
[ -z "$extra" ]
tap $? "only string functions and lib/capnp needed${extra:+; also:$extra}"
echo "1..$n"
