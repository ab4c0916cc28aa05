#!/bin/sh
# gen_walk_seeds.sh: regenerate the seed corpus of the capnpc_walk fuzz
# target (tests/fuzz/corpus/capnpc_walk). Deterministic: every seed is
# encoded by the official compiler (capnp convert, Debian's capnproto) from
# the literals below and tests/capnpc/test.capnp.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../fuzz/corpus/capnpc_walk"
schema="$here/test.capnp"
rm -rf "$out"
mkdir -p "$out"

full='(b = true, i8 = -12, i16 = -1234, i32 = -123456, i64 = -1234567890123,
 u8 = 200, u16 = 60000, u32 = 4000000000, u64 = 18000000000000000000,
 f32 = 1.5, f64 = -2.25, text = "hello world", data = 0x"deadbeef",
 inner = (a = 42, s = "inner", color = blue), color = green,
 bools = [true, false, true], i8s = [-1, 0, 127], u16s = [1, 65535],
 i32s = [-7, 7], u64s = [0, 1], f32s = [0.5], f64s = [3.25],
 texts = ["a", "", "ccc"], datas = [0x"00", ""],
 inners = [(a = 1, s = "one"), (a = 2), (s = "three")], colors = [blue, red],
 voids = [void, void], nested = [[1, 2], [], [3]],
 nestedInners = [[(a = 5)], [(a = 6), (a = 7)]], deep = [[["x"], []], [["y", "z"]]],
 str = "union text", grp = (ga = 11, gb = "gb", gy = true, sub = (deep = 99)),
 choice = (third = [1, -1]), dText = "changed", dInner = (a = 70), dI32s = [],
 dTexts = ["z"], dNested = [[9]], self = (u32 = 7, self = (text = "deeper")),
 outer = (n = (kind = two), kinds = [one, two]))'

enc() { # enc NAME FORMAT [OPTIONS] <literal
    name=$1; fmt=$2; shift 2
    capnp convert "$@" "text:$fmt" "$schema" All >"$out/$name"
}

printf '%s\n' "$full" | enc full.bin binary
printf '%s\n' "$full" | enc full.packed packed
printf '%s\n' "$full" | enc full_seg1.bin binary --segment-size=1
printf '%s\n' "$full" | enc full_seg5.bin binary --segment-size=5
printf '%s\n' "$full" | enc full_seg3.packed packed --segment-size=3
printf '%s\n' '()' | enc empty.bin binary
printf '%s\n' '(num = 77, grp = (gx = -1), choice = (second = 1.5))' | enc union_num.bin binary
printf '%s\n' '(grpU = (x = 1, y = "y"), choice = (first = 3))' | enc union_grp.bin binary
printf '%s\n' '(obj = (a = 9, s = "obj"), text = "as params")' | enc union_obj.bin binary
printf '%s\n' '(self = (self = (self = (self = (self = (self = (u8 = 6)))))))' | enc deep.bin binary
# Params-shaped roots: the same bytes are dispatched to every method.
printf '%s\n' '(b = true, i8 = 5, text = "echo", data = 0x"0102", inner = (a = 3))' |
    enc params.bin binary
