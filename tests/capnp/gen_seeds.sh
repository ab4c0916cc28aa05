#!/bin/sh
# gen_seeds.sh: regenerate the seed corpus of the capnp_reader fuzz target
# (tests/fuzz/corpus/capnp_reader). Run from anywhere; output is
# deterministic. Well-formed seeds are encoded by the official compiler
# (capnp encode, from Debian's capnproto) from the literals below and
# tests/capnp/test.capnp; hostile seeds are written byte by byte by
# hostile_seeds.py. tests/capnp/test_oracle.c reads some of these files and
# checks the values, so changing a literal means updating that test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../fuzz/corpus/capnp_reader"
mkdir -p "$out"
schema="$here/test.capnp"

full='(b = true, i8 = -12, i16 = -1234, i32 = -123456, i64 = -1234567890123,
 u8 = 200, u16 = 60000, u32 = 4000000000, u64 = 18000000000000000000,
 f32 = 1.5, f64 = -2.25, text = "hello world", data = 0x"deadbeef",
 inner = (a = 42, s = "inner"), color = blue,
 bools = [true, false, true, true, false, false, false, false, true],
 bytes = [1, 2, 3, 255], shorts = [-1, 2, -3], ints = [100, 200, 300],
 longs = [-5, 5], texts = ["a", "bc", ""],
 inners = [(a = 1, s = "one"), (a = 2), (s = "three")],
 voids = [void, void, void], nested = [[1, 2], [], [3]],
 str = "union text", grp = (x = 11, y = 22), defI32 = 99, defText = "bye",
 defBool = false, self = (u32 = 7, text = "child", self = (u32 = 8)),
 defInner = (a = 70), defInts = [])'

enc() { # enc NAME [OPTIONS] <literal
    name=$1; shift
    capnp encode "$@" "$schema" All >"$out/$name"
}

printf '%s\n' "$full" | enc full.bin
printf '%s\n' "$full" | enc full.packed --packed
printf '%s\n' "$full" | enc full_seg4.bin --segment-size=4
printf '%s\n' "$full" | enc full_seg1.bin --segment-size=1
printf '%s\n' "$full" | enc full_seg4.packed --segment-size=4 --packed
printf '%s\n' '()' | enc empty.bin
printf '%s\n' '(num = 77, grp = (x = 1))' | enc union_num.bin
printf '%s\n' '(self = (self = (self = (self = (self = (self = (u8 = 6)))))))' | enc deep.bin
printf '%s\n' '(inners = [(a = 1), (a = 2), (a = 3), (a = 4), (a = 5), (a = 6), (a = 7)])' \
    | enc inners.bin --segment-size=3

python3 "$here/hostile_seeds.py" "$out"
