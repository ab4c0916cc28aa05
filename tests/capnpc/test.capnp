# Schema for the capnpc-c tests: every kind of field, default, union, group,
# list and interface feature the generator handles. Values in the tests are
# checked against the official compiler (capnp convert / decode).
@0x8e14c024e8c7c6db;

enum Color {
  # A small enum.
  red @0;
  green @1;
  # The default of Inner.color.
  blue @2;
}

struct Inner {
  # A struct used as a field, a list element and a method's params.
  a @0 :UInt32;
  s @1 :Text;
  color @2 :Color = green;
}

struct All {
  # The fuzz target's root type: one field of every kind.
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
  v @15 :Void;

  bools @16 :List(Bool);
  i8s @17 :List(Int8);
  u16s @18 :List(UInt16);
  i32s @19 :List(Int32);
  u64s @20 :List(UInt64);
  f32s @21 :List(Float32);
  f64s @22 :List(Float64);
  texts @23 :List(Text);
  datas @24 :List(Data);
  inners @25 :List(Inner);
  colors @26 :List(Color);
  voids @27 :List(Void);
  nested @28 :List(List(UInt16));
  nestedInners @29 :List(List(Inner));
  deep @30 :List(List(List(Text)));

  union {
    # The anonymous union.
    none @31 :Void;
    num @32 :UInt32;
    str @33 :Text;
    obj @34 :Inner;
    grpU :group {
      # A group inside the union.
      x @35 :UInt8;
      y @36 :Text;
    }
  }

  grp :group {
    # A group with its own union and a nested group.
    ga @37 :UInt16;
    gb @38 :Text;
    union {
      gx @39 :Int32;
      gy @40 :Bool;
    }
    sub :group {
      deep @41 :UInt64;
    }
  }

  choice :union {
    # A named union.
    first @42 :Int16;
    second @43 :Float32;
    third @44 :List(Int8);
  }

  dBool @45 :Bool = true;
  dI8 @46 :Int8 = -8;
  dI16 @47 :Int16 = -1600;
  dI32 @48 :Int32 = -320000;
  dI64 @49 :Int64 = -6400000000000;
  dU8 @50 :UInt8 = 200;
  dU16 @51 :UInt16 = 60000;
  dU32 @52 :UInt32 = 4000000000;
  dU64 @53 :UInt64 = 18000000000000000000;
  dF32 @54 :Float32 = 3.5;
  dF64 @55 :Float64 = -1.25e100;
  dText @56 :Text = "hello \"quoted\" ??= text";
  dData @57 :Data = 0x"cafe00";
  dInner @58 :Inner = (a = 7, s = "seven", color = red);
  dColor @59 :Color = blue;
  dI32s @60 :List(Int32) = [1, -2, 3];
  dTexts @61 :List(Text) = ["x", "y"];
  dInners @62 :List(Inner) = [(a = 1), (a = 2, s = "two")];
  dBools @63 :List(Bool) = [true, false, true];
  dNested @64 :List(List(UInt8)) = [[1], [2, 3]];
  dI64Min @65 :Int64 = -9223372036854775808;
  dI32Min @66 :Int32 = -2147483648;

  any @67 :AnyPointer;
  cap @68 :Service;
  caps @69 :List(Service);
  self @70 :All;
  outer @71 :Outer;
  anyCap @72 :Capability;
  anyCaps @73 :List(Capability);
}

struct Outer {
  # Nested declarations.
  struct Nested {
    kind @0 :Kind;
    enum Kind {
      one @0;
      two @1;
    }
  }
  n @0 :Nested;
  kinds @1 :List(Nested.Kind);
}

struct Choice {
  # A struct used as method params, with a union.
  union {
    n @0 :UInt8;
    s @1 :Text;
  }
}

interface Service {
  # An interface with every kind of parameter.
  ping @0 () -> ();
  # No params, no results. A doc comment may hold /* and */ (say, a glob
  # such as *.c or /* x */): the C comments emitted for it still compile.
  add @1 (a :Int32, b :Int32) -> (sum :Int32);
  echo @2 (text :Text, data :Data) -> (text :Text, data :Data);
  store @3 (inner :Inner, items :List(UInt32), color :Color, flag :Bool) -> (count :UInt32);
  scale @4 (x :Float64, k :Float32) -> (y :Float64);
  handoff @5 (target :Service, other :Capability) -> (back :Service);
  stats @6 Inner -> Inner;
  # Named structs as params and results.
  choose @7 Choice -> (ok :Bool);
  wrap @8 (value :AnyPointer) -> (value :AnyPointer);
  keywords @9 (int :Int32, out :UInt8, c :Bool, t :Void) -> ();
  # Parameter names that are C keywords or stub arguments.
}

interface SubService extends(Service) {
  extra @0 () -> (n :UInt8);
}

interface Empty {
  # No methods at all.
}

const constU32 :UInt32 = 42;
# A documented constant.
const constI64 :Int64 = -5;
const constF64 :Float64 = 6.25;
const constF32 :Float32 = -0.5;
const constBool :Bool = true;
const constText :Text = "const text";
const constData :Data = 0x"0102";
const constColor :Color = blue;
const constInner :Inner = (a = 99, s = "ninety-nine");
const constList :List(UInt16) = [10, 20, 30];
const constTexts :List(Text) = ["p", "q"];
