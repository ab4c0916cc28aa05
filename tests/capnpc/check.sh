#!/bin/sh
# check.sh bootstrap GEN_DIR CHECKED_IN_DIR CAPNP_VERSION
# check.sh docs GENERATED_MD COMMITTED_MD
# TAP: generated files are identical to their committed copies. Exits
# non-zero if any differs, so it also serves "make capnpc-bootstrap-check".
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
*)
    echo "usage: $0 bootstrap|docs ..." >&2
    exit 2
    ;;
esac
echo "1..$n"
exit $fail
