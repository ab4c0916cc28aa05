# The Cap'n Proto RPC engine (lib/rpc, docs/remote.md), the host client
# tools/capos-remote (official C++ library) and the host gateway harness
# (tests/rpc): unit tests, fuzz target and the end-to-end suites.

# rpc.capnp (the official protocol schema) and schema/remote.capnp through
# capnpc-c, next to capos.capnp's generated code.
RPC_CAPNP    := /usr/include/capnp/rpc.capnp
GEN_RPC_H    := $(GEN_DIR)/rpc.capnp.h
GEN_RPC_C    := $(GEN_DIR)/rpc.capnp.c
GEN_REMOTE_H := $(GEN_DIR)/remote.capnp.h
GEN_REMOTE_C := $(GEN_DIR)/remote.capnp.c

$(GEN_RPC_H) $(GEN_RPC_C) &: $(RPC_CAPNP) $(CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  $<"
	$(Q)$(call capnpc_run,/usr/include/capnp,$(GEN_DIR),$<)
	$(Q)rm -f $(GEN_DIR)/rpc.md

$(GEN_REMOTE_H) $(GEN_REMOTE_C) &: schema/remote.capnp $(GEN_CAPOS_H) $(CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  $<"
	$(Q)$(call capnpc_run,schema,$(GEN_DIR),$<)
	$(Q)rm -f $(GEN_DIR)/remote.md

# The engine: freestanding, with its formatter and the generated protocol.
RPC_SRCS := $(addprefix lib/rpc/,conn.c call.c tables.c send.c pipeline.c) lib/text/fmt.c \
            $(GEN_RPC_C)
RPC_HDRS := $(wildcard lib/rpc/*.h) $(GEN_RPC_H)

RPC_UNIT_SRCS := $(sort $(wildcard tests/rpc/test_*.c)) tests/rpc/peer.c
$(eval $(call host_test,rpc-unit,$(RPC_UNIT_SRCS) $(RPC_SRCS) $(CAPNP_HOST_SRCS)))
$(BUILD)/host/rpc-unit: HOST_CFLAGS += -I$(GEN_DIR)
$(BUILD)/host/rpc-unit: $(RPC_HDRS) tests/rpc/peer.h

$(eval $(call fuzz_target,rpc,tests/fuzz/fuzz_rpc.c $(RPC_SRCS) $(CAPNP_SRCS)))
$(BUILD)/fuzz/rpc: FUZZ_CFLAGS += -I$(GEN_DIR)
$(BUILD)/fuzz/rpc: $(RPC_HDRS)

# The engine must build for the guest: freestanding, only lib/freestanding's
# string functions.
RPC_FS_FLAGS := $(CAPNPC_FS_FLAGS) -I$(GEN_DIR)
TEST_SUITES += rpc-freestanding
.PHONY: test-rpc-freestanding
test-rpc-freestanding: $(GEN_RPC_H) $(GEN_RPC_C) | $(RESULTS)
	@echo "== rpc-freestanding"
	@tools/run-tap.sh rpc-freestanding $(RESULTS)/rpc-freestanding.tap \
	    sh tests/rpc/freestanding.sh $(BUILD)/rpc-fs "$(KCC) $(RPC_FS_FLAGS)" $(RPC_SRCS)

# Regenerate the fuzz target's seed corpus (not part of "make test").
.PHONY: rpc-corpus
rpc-corpus: $(GEN_RPC_H) $(GEN_RPC_C)
	@mkdir -p $(BUILD)/tools
	$(HOST_CC) $(HOST_CFLAGS) -I$(GEN_DIR) -o $(BUILD)/tools/rpc-gen-corpus tests/rpc/gen_corpus.c \
	    tests/rpc/peer.c $(RPC_SRCS) $(CAPNP_SRCS)
	$(BUILD)/tools/rpc-gen-corpus tests/fuzz/corpus/rpc
