#!/bin/sh
# freestanding.sh OUT_DIR "CC FLAGS..." SOURCES...
# TAP: code linked into the kernel or a guest program compiles with its
# freestanding flags, each header in $HEADERS compiles on its own, and the
# objects together need no outside symbol but those $ALLOW names (shell
# patterns such as "memcpy capn_*"; unset: none at all, so no libc and no
# call the compiler inserted).
set -u
set -f # $ALLOW holds patterns, not file names
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
for h in ${HEADERS:-}; do
    # shellcheck disable=SC2086
    echo "#include \"$h\"" | $cc -x c -fsyntax-only -MF /dev/null -
    tap $? "$h compiles on its own"
done
# shellcheck disable=SC2086
ld -r -o "$out/all.o" $objs
extra=""
for sym in $(nm -u "$out/all.o" | awk '{print $2}'); do
    allowed=false
    for pat in ${ALLOW:-}; do
        # shellcheck disable=SC2254
        case "$sym" in $pat) allowed=true ;; esac
    done
    $allowed || extra="$extra $sym"
done
[ -z "$extra" ]
tap $? "no outside symbols${ALLOW:+ but $ALLOW}${extra:+; also:$extra}"
echo "1..$n"
