# With clash_b.capnp: two files declaring the same name. The importer's
# names get its file stem as a prefix (clash_b_Point), this file's do not.
@0xd1f0e0a5e2c1b3a4;

struct Point {
  x @0 :Int32;
}

enum Shade {
  light @0;
  dark @1;
}
