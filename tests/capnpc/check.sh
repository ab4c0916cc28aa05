#!/bin/sh
# check.sh bootstrap GEN_DIR CHECKED_IN_DIR CAPNP_VERSION
# check.sh docs GENERATED_MD COMMITTED_MD
# check.sh errors PLUGIN SCRATCH_DIR
# TAP: generated files are identical to their committed copies (exits
# non-zero if any differs, so it also serves "make capnpc-bootstrap-check");
# or the plugin and the build refuse bad input with a clear message.
set -u
n=0
fail=0
tap() { # tap STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        fail=1
    fi
}
same() { # same GENERATED COMMITTED HINT
    if cmp -s "$1" "$2"; then
        tap 0 "$2 is up to date"
    else
        diff -u "$2" "$1" | head -40 >&2
        tap 1 "$2 differs from $1 ($3)"
    fi
}
case "$1" in
bootstrap)
    v=$(capnp --version 2>/dev/null)
    [ "$v" = "Cap'n Proto version $4" ]
    tap $? "capnp compiler is version $4 (found: ${v:-none})"
    for f in schema.capnp.h schema.capnp.c; do
        same "$2/$f" "$3/$f" "run 'make capnpc-bootstrap' after changing the generator"
    done
    ;;
docs)
    same "$2" "$3" "run 'make docs/interfaces.md' after changing schema/capos.capnp"
    ;;
errors)
    plugin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    dir=$3
    rm -rf "$dir" && mkdir -p "$dir/out" "$dir/bin"
    refuses() { # refuses NAME EXPECTED_MESSAGE SCHEMA_TEXT
        printf '%s\n' "$3" >"$dir/$1.capnp"
        (cd "$dir" && capnp compile -o"$plugin":out "$1.capnp") >"$dir/$1.log" 2>&1
        rc=$?
        [ "$rc" -ne 0 ] && grep -q "$2" "$dir/$1.log"
        tap $? "plugin refuses $1: $2"
    }
    refuses shadow "cannot be a C global" '@0xd1f0e0a5e2c1b3a5;
const r :UInt32 = 5;'
    refuses keyword "cannot be a C global" '@0xd1f0e0a5e2c1b3a6;
const int :UInt32 = 5;'
    refuses twice "is defined twice" '@0xd1f0e0a5e2c1b3a7;
struct A { which :group { x @0 :UInt8; } union { a @1 :Void; b @2 :Void; } }'
    cp schema/c.capnp "$dir/c.capnp"
    refuses implements 'implements("Nope") names no interface of this file' '@0xd1f0e0a5e2c1b3a8;
using C = import "c.capnp";
interface Real {}
enum Source { a @0 $C.implements("Real"); b @1 $C.implements("Nope"); }'
    "$plugin" </dev/null >"$dir/empty.log" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "cannot read the CodeGeneratorRequest" "$dir/empty.log"
    tap $? "plugin refuses an empty request"
    head -c 4096 /dev/urandom >"$dir/garbage.bin"
    "$plugin" <"$dir/garbage.bin" >"$dir/garbage.log" 2>&1
    rc=$?
    [ "$rc" -eq 1 ]
    tap $? "plugin refuses a random request cleanly (status $rc)"
    printf '#!/bin/sh\necho "Cap'"'"'n Proto version 1.0.1"\n' >"$dir/bin/capnp"
    chmod +x "$dir/bin/capnp"
    PATH="$dir/bin:$PATH" MAKEFLAGS= MFLAGS= make --no-print-directory capnpc-version-check \
        >"$dir/version.log" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && grep -q "needs the capnp compiler 0.9.2.*found: Cap'n Proto version 1.0.1" \
        "$dir/version.log"
    tap $? "the build refuses another capnp version with a clear message"
    ;;
*)
    echo "usage: $0 bootstrap|docs|errors ..." >&2
    exit 2
    ;;
esac
echo "1..$n"
exit $fail
