# Annotations understood by tools/capnpc-c, the C code generator.
@0xaba945d44aa72ba6;

annotation implements @0x9b15f3978f14a4af (enumerant) :Text;
# The enumerant stands for an object that implements this interface,
# named as in the schema ("Console"), declared in the same file. For an
# enum E whose enumerants carry it, capnpc-c emits E_IFACES[E_COUNT]: each
# enumerant's `const struct capnpc_iface *` (NULL where it has none). The
# build fails if the name is not an interface of the file.
