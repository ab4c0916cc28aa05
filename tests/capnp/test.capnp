# Schema for the Cap'n Proto runtime tests: one field of every kind, so the
# seeds encoded from it by the official compiler (gen_seeds.sh) exercise
# every part of the encoding. Field offsets used by test_oracle.c come from
# `capnp compile -ocapnp test.capnp`.
@0xd8a3c8e5f4b2a1c7;

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Inner {
  a @0 :UInt32;
  s @1 :Text;
}

struct All {
  b @0 :Bool;
  i8 @1 :Int8;
  i16 @2 :Int16;
  i32 @3 :Int32;
  i64 @4 :Int64;
  u8 @5 :UInt8;
  u16 @6 :UInt16;
  u32 @7 :UInt32;
  u64 @8 :UInt64;
  f32 @9 :Float32;
  f64 @10 :Float64;
  text @11 :Text;
  data @12 :Data;
  inner @13 :Inner;
  color @14 :Color;
  bools @15 :List(Bool);
  bytes @16 :List(UInt8);
  shorts @17 :List(Int16);
  ints @18 :List(UInt32);
  longs @19 :List(Int64);
  texts @20 :List(Text);
  inners @21 :List(Inner);
  voids @22 :List(Void);
  nested @23 :List(List(UInt16));
  union {
    none @24 :Void;
    num @25 :UInt32;
    str @26 :Text;
  }
  grp :group {
    x @27 :UInt16;
    y @28 :UInt16;
  }
  defI32 @29 :Int32 = 1234;
  defText @30 :Text = "hello";
  defBool @31 :Bool = true;
  any @32 :AnyPointer;
  self @33 :All;
  defInner @34 :Inner = (a = 7, s = "seven");
  defInts @35 :List(UInt32) = [1, 2, 3];
}
