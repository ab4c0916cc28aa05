# See clash_a.capnp.
@0xe2a1c3b4d5f60718;

using A = import "clash_a.capnp";

struct Point {
  y @0 :Int32;
}

struct Line {
  from @0 :A.Point;
  to @1 :Point;
  shade @2 :A.Shade;
  points @3 :List(A.Point);
}
