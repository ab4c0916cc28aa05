# capnpc-c: the C code generator plugin for the official capnp compiler
# (tools/capnpc-c), the generated code for schema/capos.capnp, and its tests.
#
# For the kernel and userspace (the names are declared in mk/link.mk):
#   $(GEN_CAPOS_H)  build/gen/capos.capnp.h   accessors, ids, stubs, dispatch
#   $(GEN_CAPOS_C)  build/gen/capos.capnp.c   add to the sources
#   $(GEN_DIR)      add -I$(GEN_DIR) (the header includes capnp/capnpc_rt.h
#                   and capnp/capnp.h through -Ilib)
# Objects that include the header must depend on $(GEN_CAPOS_H).
# The plugin links CAPNPC_LIB_SRCS (mk/link.mk).

CAPNP_WANT := 0.9.2
CAPNPC     := $(BUILD)/tools/capnpc-c
GEN_CAPOS_MD := $(GEN_DIR)/capos.md

CAPNPC_SRCS     := $(sort $(wildcard tools/capnpc-c/*.c))
CAPNPC_HDRS     := $(sort $(wildcard tools/capnpc-c/*.h))
CAPNPC_CFLAGS   := -std=c17 -O1 -g $(WARN) -fsanitize=address,undefined \
                   -fno-sanitize-recover=all -Iinclude -Ilib

# The generated code and the checked-in bootstrap come from this compiler
# version; anything else fails the build with a clear message.
CAPNP_CHECK = v=$$(capnp --version 2>/dev/null); \
    [ "$$v" = "Cap'n Proto version $(CAPNP_WANT)" ] || { \
    echo "error: capnpc-c needs the capnp compiler $(CAPNP_WANT) (Debian 12 package capnproto), found: $${v:-no capnp in PATH}" >&2; \
    exit 1; }

# $(call capnpc_run,SRC_PREFIX,OUT_DIR,SCHEMA)
capnpc_run = mkdir -p $(2) && capnp compile --src-prefix=$(1) -o$(abspath $(CAPNPC)):$(2) $(3)

$(CAPNPC): $(CAPNPC_SRCS) $(CAPNPC_HDRS) $(CAPNPC_LIB_SRCS) $(wildcard lib/capnp/*.h)
	@$(CAPNP_CHECK)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(CAPNPC_CFLAGS) -o $@ $(CAPNPC_SRCS) $(CAPNPC_LIB_SRCS)

$(GEN_CAPOS_H) $(GEN_CAPOS_C) $(GEN_CAPOS_MD) &: schema/capos.capnp $(CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  $<"
	$(Q)$(call capnpc_run,schema,$(GEN_DIR),$<)

# The interface reference is committed; "make" keeps it current and the
# capnpc-docs suite fails when it is stale.
all: docs/interfaces.md
docs/interfaces.md: $(GEN_CAPOS_MD)
	@echo "  DOCS    $@"
	$(Q)cp $< $@

# The schema.capnp accessors the plugin reads its input with are generated
# by the plugin itself. capnpc-bootstrap-check regenerates them into build/
# and compares; capnpc-bootstrap updates the checked-in copy.
CAPNPC_BOOT := $(BUILD)/capnpc-bootstrap
SCHEMA_CAPNP := /usr/include/capnp/schema.capnp

$(CAPNPC_BOOT)/schema.capnp.h $(CAPNPC_BOOT)/schema.capnp.c &: $(CAPNPC) $(SCHEMA_CAPNP)
	@$(CAPNP_CHECK)
	@mkdir -p $(CAPNPC_BOOT)
	@echo "  CAPNPC  $(SCHEMA_CAPNP)"
	$(Q)$(call capnpc_run,/usr/include/capnp,$(CAPNPC_BOOT),$(SCHEMA_CAPNP))

.PHONY: capnpc-bootstrap capnpc-bootstrap-check
capnpc-bootstrap-check: $(CAPNPC_BOOT)/schema.capnp.h $(CAPNPC_BOOT)/schema.capnp.c
	@sh tests/capnpc/check.sh bootstrap $(CAPNPC_BOOT) tools/capnpc-c $(CAPNP_WANT)
capnpc-bootstrap: $(CAPNPC_BOOT)/schema.capnp.h $(CAPNPC_BOOT)/schema.capnp.c
	cp $^ tools/capnpc-c/

.PHONY: capnpc-version-check
capnpc-version-check:
	@$(CAPNP_CHECK)

TEST_SUITES += capnpc-bootstrap capnpc-docs capnpc-errors capnpc-freestanding
.PHONY: test-capnpc-bootstrap test-capnpc-docs test-capnpc-errors test-capnpc-freestanding
test-capnpc-bootstrap: $(CAPNPC_BOOT)/schema.capnp.h $(CAPNPC_BOOT)/schema.capnp.c | $(RESULTS)
	@echo "== capnpc-bootstrap"
	@tools/run-tap.sh capnpc-bootstrap $(RESULTS)/capnpc-bootstrap.tap \
	    sh tests/capnpc/check.sh bootstrap $(CAPNPC_BOOT) tools/capnpc-c $(CAPNP_WANT)
test-capnpc-docs: $(GEN_CAPOS_MD) | $(RESULTS)
	@echo "== capnpc-docs"
	@tools/run-tap.sh capnpc-docs $(RESULTS)/capnpc-docs.tap \
	    sh tests/capnpc/check.sh docs $(GEN_CAPOS_MD) docs/interfaces.md

test-capnpc-errors: $(CAPNPC) | $(RESULTS)
	@echo "== capnpc-errors"
	@tools/run-tap.sh capnpc-errors $(RESULTS)/capnpc-errors.tap \
	    sh tests/capnpc/check.sh errors $(CAPNPC) $(BUILD)/capnpc/errors

# The test schema, generated for the host tests, the fuzz target and the
# freestanding check.
CAPNPC_TEST_DIR := $(BUILD)/capnpc/gen
CAPNPC_TEST_H   := $(CAPNPC_TEST_DIR)/test.capnp.h
CAPNPC_TEST_C   := $(CAPNPC_TEST_DIR)/test.capnp.c

$(CAPNPC_TEST_H) $(CAPNPC_TEST_C) $(CAPNPC_TEST_DIR)/test.md &: tests/capnpc/test.capnp $(CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  $<"
	$(Q)$(call capnpc_run,tests/capnpc,$(CAPNPC_TEST_DIR),$<)

# Two files declaring the same name: the importer's names get a prefix.
CAPNPC_CLASH_C := $(CAPNPC_TEST_DIR)/clash_a.capnp.c $(CAPNPC_TEST_DIR)/clash_b.capnp.c
$(CAPNPC_CLASH_C) &: tests/capnpc/clash_a.capnp tests/capnpc/clash_b.capnp $(CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  tests/capnpc/clash_[ab].capnp"
	$(Q)$(call capnpc_run,tests/capnpc,$(CAPNPC_TEST_DIR),tests/capnpc/clash_a.capnp tests/capnpc/clash_b.capnp)

# The generated code must build with the kernel's flags. -fno-pic is needed
# with -mcmodel=kernel by Debian's gcc, which defaults to PIE.
CAPNPC_FS_FLAGS := -std=c17 -O2 -ffreestanding -fno-builtin -mno-red-zone -mgeneral-regs-only \
                   -mcmodel=kernel -fno-pic $(WARN) -Ilib -Ilib/freestanding -Iinclude
test-capnpc-freestanding: $(GEN_CAPOS_H) $(GEN_CAPOS_C) $(CAPNPC_TEST_H) $(CAPNPC_TEST_C) \
        $(CAPNPC_CLASH_C) | $(RESULTS)
	@echo "== capnpc-freestanding"
	@tools/run-tap.sh capnpc-freestanding $(RESULTS)/capnpc-freestanding.tap \
	    sh tests/capnpc/freestanding.sh $(BUILD)/capnpc/fs "$(CAPNPC_FS_FLAGS)" \
	    $(GEN_CAPOS_C) $(CAPNPC_TEST_C) $(CAPNPC_CLASH_C)

CAPNPC_UNIT_SRCS := tests/capnpc/test_accessors.c tests/capnpc/test_dispatch.c tests/capnpc/testgen.c
$(eval $(call host_test,capnpc-unit,$(CAPNPC_UNIT_SRCS) $(CAPNPC_TEST_C) $(CAPNP_SRCS)))
$(eval $(call host_test,capnpc-oracle,tests/capnpc/test_oracle.c tests/capnpc/testgen.c $(CAPNPC_TEST_C) $(CAPNP_HOST_SRCS)))
# Variable tracking makes the large test functions slow to compile with -g
# and the sanitizers (from about 20 s to 6 s).
$(BUILD)/host/capnpc-unit $(BUILD)/host/capnpc-oracle: \
    HOST_CFLAGS += -I$(CAPNPC_TEST_DIR) -fno-var-tracking-assignments
$(BUILD)/host/capnpc-unit $(BUILD)/host/capnpc-oracle: tests/capnpc/testgen.h $(CAPNPC_TEST_H)

$(eval $(call fuzz_target,capnpc_walk,tests/fuzz/fuzz_capnpc_walk.c $(CAPNPC_TEST_C) $(CAPNP_SRCS)))
$(BUILD)/fuzz/capnpc_walk: FUZZ_CFLAGS += -I$(CAPNPC_TEST_DIR)
$(BUILD)/fuzz/capnpc_walk: tests/capnpc/walk.h $(CAPNPC_TEST_H)
