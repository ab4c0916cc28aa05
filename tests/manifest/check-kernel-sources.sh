#!/bin/sh
# check-kernel-sources.sh MKMANIFEST COMMITTED_CUE
# TAP: the committed CUE list of kernel sources is exactly what the schema
# says (mkmanifest --kernel-sources-cue), so CUE, lib/manifest and the
# kernel's object registry agree on every source and its interface.
set -u
gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
if ! "$1" --kernel-sources-cue >"$gen"; then
    echo "not ok 1 - mkmanifest --kernel-sources-cue failed"
    exit 1
fi
if cmp -s "$gen" "$2"; then
    echo "ok 1 - $2 matches the schema's enum KernelSource"
else
    diff -u "$2" "$gen" | head -40 >&2
    echo "not ok 1 - $2 differs from the schema (run 'make cue-kernel-sources')"
    exit 1
fi
grep -c '^	[a-zA-Z]*: "' "$2" | {
    read -r n
    # One line per enumerant: a list that lost or gained a line is caught
    # above; this catches an empty generator output matching an empty file.
    if [ "$n" -ge 1 ]; then echo "ok 2 - $n kernel sources listed"; else echo "not ok 2 - no kernel sources listed"; fi
}
