# What each binary links, declared once.
#
# lib/ is split by role (README.md, "Layout"): kcore/ (the kernel's pure
# logic), crypto/, capnp/ (the Cap'n Proto runtime), text/, manifest/ and
# freestanding/. The groups below name the pieces; the lists after them say
# which binary links which. mk/kernel.mk, mk/user.mk and the host tools'
# rules build from these lists; the test fragments (mk/suite-*.mk) only
# register tests, naming the lib/ files they test or reusing these groups.

# --- Pieces of lib/ ----------------------------------------------------------

# memcpy, memset, strlen and friends for freestanding code (the kernel and
# user programs; host code uses libc's).
STRING_SRCS := lib/freestanding/string.c

# The kernel's pure logic: Multiboot2 parsing, frame bitmap and ledger,
# capability table, ELF64 validation, the ring consumer.
KCORE_SRCS := $(addprefix lib/kcore/,mb2.c frame_bitmap.c cap_table.c frame_ledger.c elf64.c park.c \
                  ring.c ring_opdef.c)

# Device discovery and drivers' pure parts (docs/devices.md): ACPI tables,
# PCI configuration space, split virtqueues.
DEVICE_LIB_SRCS := lib/acpi/acpi.c lib/pci/pci.c lib/virtio/virtq.c

# The kernel's CSPRNG (ChaCha20) and endpoint-table hash (SipHash).
KERNEL_CRYPTO_SRCS := $(addprefix lib/crypto/,chacha20.c csprng.c siphash.c)
# The password hash: BLAKE2b, Argon2id and constant-time comparison
# (docs/argon2.md).
ARGON2_SRCS := $(addprefix lib/crypto/,blake2b.c argon2.c ct.c)

# The Cap'n Proto runtime (docs/capnp.md); capnp_host.c adds malloc-based
# helpers for host programs and tests only.
CAPNP_SRCS      := $(addprefix lib/capnp/,read.c build.c copy.c frame.c packed.c)
CAPNP_HOST_SRCS := $(CAPNP_SRCS) lib/capnp/capnp_host.c

# The code capnpc-c generates for schema/capos.capnp (the rule is in
# mk/suite-capnpc.mk): objects that include "capos.capnp.h" add -I$(GEN_DIR)
# and depend on $(GEN_CAPOS_H).
GEN_DIR     := $(BUILD)/gen
GEN_CAPOS_H := $(GEN_DIR)/capos.capnp.h
GEN_CAPOS_C := $(GEN_DIR)/capos.capnp.c

# Cap'n Proto RPC, two-party level 1 (docs/remote.md), with the code capnpc-c
# generates for the official rpc.capnp (the rule is in mk/suite-rpc.mk).
GEN_RPC_H := $(GEN_DIR)/rpc.capnp.h
GEN_RPC_C := $(GEN_DIR)/rpc.capnp.c
RPC_SRCS  := $(addprefix lib/rpc/,conn.c call.c tables.c send.c pipeline.c outq.c) lib/text/fmt.c \
             $(GEN_RPC_C)

# SystemManifest validation (docs/manifest.md).
MANIFEST_SRCS := lib/manifest/manifest.c lib/manifest/manifest_graph.c

# --- Binaries ----------------------------------------------------------------

# The kernel (mk/kernel.mk adds kernel/): printf formatting (fmt), the
# terminal's line editor (line_edit, utf8), the boot subset of manifest checking.
KERNEL_LIB_SRCS := $(STRING_SRCS) $(KCORE_SRCS) $(DEVICE_LIB_SRCS) $(KERNEL_CRYPTO_SRCS) lib/text/fmt.c \
                   lib/text/line_edit.c lib/text/utf8.c $(MANIFEST_SRCS) $(CAPNP_SRCS) $(GEN_CAPOS_C)

# libcapos-rt (user/rt/), linked into every user program; utf8 checks
# user names (user/services/svc.c).
RT_LIB_SRCS := $(STRING_SRCS) lib/text/fmt.c lib/text/utf8.c $(CAPNP_SRCS) $(GEN_CAPOS_C)

# User programs that link more of lib/ than the runtime: USER_LIB_SRCS_NAME
# for build/user/NAME.elf (mk/user.mk adds it to the program's sources).
USER_LIB_SRCS_init             := $(MANIFEST_SRCS)
USER_LIB_SRCS_capos-shell      := lib/text/shell_parse.c
USER_LIB_SRCS_credential-store := $(ARGON2_SRCS)
# The network service runs lib/net (NET_SRCS, mk/suite-net.mk).
USER_LIB_SRCS_netstack          = $(NET_SRCS)
# The remote-session gateway runs the RPC engine (RPC_SRCS) on its sockets.
USER_LIB_SRCS_remote-gateway     = $(RPC_SRCS) $(GEN_DIR)/remote.capnp.c

# Sources a folder of user programs shares: USER_SHARED_DIR for user/DIR/.
# Every other .c file of user/DIR/ is a program of its own, and each of
# them links these (mk/user.mk).
USER_SHARED_services := user/services/svc.c
USER_SHARED_tests    := user/tests/testlib.c
USER_SHARED_bench    := user/bench/benchlib.c

# Host tools.
MKMANIFEST_LIB_SRCS := $(MANIFEST_SRCS) $(CAPNP_HOST_SRCS) $(GEN_CAPOS_C)
CAPNPC_LIB_SRCS     := $(CAPNP_SRCS)
