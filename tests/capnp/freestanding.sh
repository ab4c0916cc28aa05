#!/bin/sh
# freestanding.sh OUT_DIR "CC FLAGS..." SOURCES...
# TAP: compile each Cap'n Proto runtime source with the kernel's compiler and
# flags, check the header on its own, and check that the objects together
# need no symbol from outside but memcpy and memset, which the runtime
# calls for long copies and clears (every binary linking it has them:
# lib/freestanding/string.c or libc); no other libc function.
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
echo '#include "capnp/capnp.h"' | $cc -x c -fsyntax-only -MF /dev/null -
tap $? "capnp.h compiles on its own"
# shellcheck disable=SC2086
ld -r -o "$out/capnp-all.o" $objs
# The symbols an object set needs beyond memcpy and memset.
outside() {
    nm -u "$1" | awk '{print $2}' | grep -v -x -e memcpy -e memset
}
undef=$(outside "$out/capnp-all.o")
[ -z "$undef" ]
tap $? "no external symbols${undef:+: $(echo $undef | tr '\n' ' ')}"
# The same with clang, which inlines and transforms loops differently.
for src in "$@"; do
    clang -std=c17 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding -fno-builtin \
        -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -Ilib -c "$src" \
        -o "$out/clang-$(basename "$src" .c).o"
    tap $? "clang freestanding compile $src"
done
cobjs=$(for src in "$@"; do printf '%s ' "$out/clang-$(basename "$src" .c).o"; done)
# shellcheck disable=SC2086
ld -r -o "$out/clang-all.o" $cobjs && [ -z "$(outside "$out/clang-all.o")" ]
tap $? "clang objects: no external symbols"
echo "1..$n"
