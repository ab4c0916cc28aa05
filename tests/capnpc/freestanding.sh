#!/bin/sh
# freestanding.sh OUT_DIR "FLAGS" GENERATED.c...
# TAP: the generated code builds with the kernel's flags (gcc, and clang with
# the same flags), each generated header compiles on its own, and the
# objects need nothing but the Cap'n Proto runtime (no libc).
set -u
out=$1; flags=$2; shift 2
mkdir -p "$out"
n=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
for src in "$@"; do
    base=$(basename "$src" .c)
    # shellcheck disable=SC2086
    gcc $flags -c "$src" -o "$out/$base.o"
    tap $? "gcc freestanding compile $src"
    # shellcheck disable=SC2086
    clang $flags -Wno-unused-command-line-argument -c "$src" -o "$out/clang-$base.o"
    tap $? "clang freestanding compile $src"
    # shellcheck disable=SC2086
    echo "#include \"$(basename "$src" .c).h\"" |
        gcc $flags -I"$(dirname "$src")" -x c -fsyntax-only -
    tap $? "$base.h compiles on its own"
done
# What the generated objects define: a file may use what a file it imports
# defines (an imported struct's N_check), and nothing else but the runtime.
defined=$(for src in "$@"; do nm --defined-only "$out/$(basename "$src" .c).o"; done |
    awk '{print $3}' | sort -u)
for src in "$@"; do
    base=$(basename "$src" .c)
    undef=$(nm -u "$out/$base.o" | awk '{print $2}' | grep -v '^capn_' |
        grep -vxF "$defined" | tr '\n' ' ')
    [ -z "$undef" ]
    tap $? "$base.o needs only the runtime and the files it imports${undef:+ (also: $undef)}"
done
echo "1..$n"
