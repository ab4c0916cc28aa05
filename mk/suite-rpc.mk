# The Cap'n Proto RPC engine (lib/rpc, docs/remote.md), the host client
# tools/capos-remote (official C++ library) and the host gateway harness
# (tests/rpc): unit tests, fuzz target and the end-to-end suites.

# rpc.capnp (the official protocol schema) and schema/remote.capnp through
# capnpc-c, next to capos.capnp's generated code.
RPC_CAPNP    := /usr/include/capnp/rpc.capnp
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

# The engine (RPC_SRCS, mk/link.mk): freestanding, with its formatter and
# the generated protocol.
RPC_HDRS := $(wildcard lib/rpc/*.h) $(GEN_RPC_H)

RPC_UNIT_SRCS := $(sort $(wildcard tests/rpc/test_*.c)) tests/rpc/peer.c
$(eval $(call host_test,rpc-unit,$(RPC_UNIT_SRCS) $(RPC_SRCS) $(CAPNP_HOST_SRCS)))
$(BUILD)/host/rpc-unit: HOST_CFLAGS += -I$(GEN_DIR)
$(BUILD)/host/rpc-unit: $(RPC_HDRS) tests/rpc/peer.h

$(eval $(call fuzz_target,rpc,tests/fuzz/fuzz_rpc.c tests/rpc/peer.c $(RPC_SRCS) $(CAPNP_SRCS)))
$(BUILD)/fuzz/rpc: FUZZ_CFLAGS += -I$(GEN_DIR) -Itests/rpc
$(BUILD)/fuzz/rpc: $(RPC_HDRS) tests/rpc/peer.h

# The engine must build for the guest: freestanding, only lib/freestanding's
# string functions.
RPC_FS_FLAGS := $(CAPNPC_FS_FLAGS) -I$(GEN_DIR)
TEST_SUITES += rpc-freestanding
.PHONY: test-rpc-freestanding
test-rpc-freestanding: $(GEN_RPC_H) $(GEN_RPC_C) | $(RESULTS)
	@echo "== rpc-freestanding"
	@tools/run-tap.sh rpc-freestanding $(RESULTS)/rpc-freestanding.tap \
	    env ALLOW="memcpy memmove memset memcmp strlen capn_*" \
	    sh tests/freestanding.sh $(BUILD)/rpc-fs "$(KCC) $(RPC_FS_FLAGS)" $(RPC_SRCS)

# Regenerate the fuzz target's seed corpus (not part of "make test").
.PHONY: rpc-corpus
rpc-corpus: $(GEN_RPC_H) $(GEN_RPC_C)
	@mkdir -p $(BUILD)/tools
	$(HOST_CC) $(HOST_CFLAGS) -I$(GEN_DIR) -o $(BUILD)/tools/rpc-gen-corpus tests/rpc/gen_corpus.c \
	    tests/rpc/peer.c $(RPC_SRCS) $(CAPNP_SRCS)
	$(BUILD)/tools/rpc-gen-corpus tests/fuzz/corpus/rpc

# The gateway harness: lib/rpc on a loopback TCP socket with stand-in
# capabilities (tests/rpc/gateway.c, services.c).
RPC_GATEWAY := $(BUILD)/tests/rpc-gateway
RPC_GATEWAY_SRCS := tests/rpc/gateway.c tests/rpc/services.c $(RPC_SRCS) $(GEN_REMOTE_C) \
                    $(GEN_CAPOS_C) $(CAPNP_HOST_SRCS)
$(RPC_GATEWAY): $(RPC_GATEWAY_SRCS) $(RPC_HDRS) $(GEN_REMOTE_H) tests/rpc/services.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(filter-out -Wno-missing-prototypes,$(HOST_CFLAGS)) -I$(GEN_DIR) -o $@ \
	    $(RPC_GATEWAY_SRCS)

# tools/capos-remote: the host client, against Debian's official Cap'n
# Proto RPC library, with the schemas compiled by `capnp compile -oc++`.
CAPOS_REMOTE := $(BUILD)/tools/capos-remote
GEN_CXX_DIR  := $(BUILD)/gen-c++
GEN_CXX_SRCS := $(addprefix $(GEN_CXX_DIR)/,remote.capnp.c++ capos.capnp.c++ c.capnp.c++)
REMOTE_CXX_SRCS := $(sort $(wildcard tools/capos-remote/*.c++))
REMOTE_CXXFLAGS := -std=c++17 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                   -I$(GEN_CXX_DIR) -Itools/capos-remote $(shell pkg-config --cflags capnp-rpc 2>/dev/null)
REMOTE_LIBS  := $(shell pkg-config --libs capnp-rpc 2>/dev/null || echo -lcapnp-rpc -lcapnp -lkj-async -lkj)

$(GEN_CXX_SRCS) $(GEN_CXX_SRCS:.c++=.h) &: schema/remote.capnp schema/capos.capnp schema/c.capnp
	@$(CAPNP_CHECK)
	@mkdir -p $(GEN_CXX_DIR)
	@echo "  CAPNPC  $^ (c++)"
	$(Q)capnp compile -Ischema --src-prefix=schema -oc++:$(GEN_CXX_DIR) $^

$(CAPOS_REMOTE): $(REMOTE_CXX_SRCS) tools/capos-remote/remote.h $(GEN_CXX_SRCS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)g++ $(REMOTE_CXXFLAGS) -o $@ $(REMOTE_CXX_SRCS) $(GEN_CXX_SRCS) $(REMOTE_LIBS)

all: $(CAPOS_REMOTE)

# Hostile peers over real sockets (tests/rpc/hostile.c).
RPC_HOSTILE := $(BUILD)/tests/rpc-hostile
RPC_HOSTILE_SRCS := tests/rpc/hostile.c tests/rpc/peer.c $(RPC_SRCS) $(CAPNP_HOST_SRCS)
$(RPC_HOSTILE): $(RPC_HOSTILE_SRCS) $(RPC_HDRS) tests/rpc/peer.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -I$(GEN_DIR) -o $@ $(RPC_HOSTILE_SRCS)

TEST_SUITES += rpc-hostile
.PHONY: test-rpc-hostile
test-rpc-hostile: $(RPC_GATEWAY) $(RPC_HOSTILE) | $(RESULTS)
	@echo "== rpc-hostile"
	@tools/run-tap.sh rpc-hostile $(RESULTS)/rpc-hostile.tap \
	    sh tests/rpc/hostile.sh $(BUILD)/rpc-hostile

# The official C++ client against the harness (tests/rpc/client.sh).
TEST_SUITES += rpc-client
.PHONY: test-rpc-client
test-rpc-client: $(RPC_GATEWAY) $(CAPOS_REMOTE) | $(RESULTS)
	@echo "== rpc-client"
	@tools/run-tap.sh rpc-client $(RESULTS)/rpc-client.tap \
	    sh tests/rpc/client.sh $(BUILD)/rpc-client

# The official C++ library beyond what the client does (tests/rpc/interop.c++).
RPC_INTEROP := $(BUILD)/tests/rpc-interop
$(RPC_INTEROP): tests/rpc/interop.c++ $(GEN_CXX_SRCS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)g++ $(REMOTE_CXXFLAGS) -o $@ tests/rpc/interop.c++ $(GEN_CXX_SRCS) $(REMOTE_LIBS)
test-rpc-client: $(RPC_INTEROP)

# The remote gateway's own bookkeeping (user/services/remote-gateway/book.c,
# pure): unit tests and a fuzz target that checks its invariants.
GW_BOOK_SRCS := user/services/remote-gateway/book.c tests/gateway/hooks.c
GW_BOOK_HDRS := user/services/remote-gateway/book.h tests/gateway/hooks.h
$(eval $(call host_test,gateway-book,tests/gateway/test_book.c $(GW_BOOK_SRCS)))
$(BUILD)/host/gateway-book: HOST_CFLAGS += -Iuser/services/remote-gateway -Itests/gateway
$(BUILD)/host/gateway-book: $(GW_BOOK_HDRS)

$(eval $(call fuzz_target,gateway,tests/fuzz/fuzz_gateway.c $(GW_BOOK_SRCS)))
$(BUILD)/fuzz/gateway: FUZZ_CFLAGS += -Iuser/services/remote-gateway -Itests/gateway
$(BUILD)/fuzz/gateway: $(GW_BOOK_HDRS)
