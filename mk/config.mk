# Toolchains and flags shared by every part of the build.

# V=1 shows full command lines.
Q := $(if $(filter 1,$(V)),,@)

TEST_JOBS ?= 2
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SECONDS ?= 300

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter

# Freestanding kernel code: no libc, no red zone (interrupts push onto the
# current stack), no SSE (the kernel never saves FPU state), higher half.
# No frame pointer: nothing in the kernel walks frames, and gdb unwinds
# from .debug_frame (-g); keeping one cost about 10 instructions per IPC
# round trip (docs/benchmarks.md).
KCC     := gcc
KCFLAGS := -std=c17 -O2 -g -flto=auto $(WARN) -ffreestanding -fno-builtin -nostdlib \
           -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
           -mgeneral-regs-only -mcmodel=kernel -fomit-frame-pointer \
           -fno-asynchronous-unwind-tables -MMD -MP \
           -Iinclude -Ilib -Ilib/freestanding -Ikernel -Ikernel/arch/x86_64/include \
           -I$(BUILD)/gen
KASFLAGS := -g -MMD -MP -Iinclude -Ikernel/arch/x86_64/include
KLDFLAGS := -nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none \
            -Wl,--no-warn-rwx-segments

# Host unit tests: the same lib/ sources under ASan and UBSan.
HOST_CC     := gcc
HOST_CFLAGS := -std=c17 -O1 -g $(WARN) -Wno-missing-prototypes \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -MMD -MP -Iinclude -Ilib
HOST_LIBS   := -lcriterion

# libFuzzer targets.
FUZZ_CC     := clang
FUZZ_CFLAGS := -std=c17 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Iinclude -Ilib

TEST_SUITES  :=
FUZZ_TARGETS :=

# $(call host_test,NAME,SOURCES) builds build/host/NAME from SOURCES with
# Criterion and registers suite NAME.
define host_test
$(BUILD)/host/$(1): $(2) | $(BUILD)/host
	@echo "  HOSTCC  $$@"
	$$(Q)$$(HOST_CC) $$(HOST_CFLAGS) -o $$@ $(2) $$(HOST_LIBS)
.PHONY: test-$(1)
test-$(1): $(BUILD)/host/$(1) | $(RESULTS)
	@echo "== $(1)"
	@tools/run-tap.sh $(1) $(RESULTS)/$(1).tap $(BUILD)/host/$(1) --tap=- --jobs=2
TEST_SUITES += $(1)
endef

# $(call fuzz_target,NAME,SOURCES) builds build/fuzz/NAME; "make test" runs it
# for FUZZ_SMOKE_SECONDS over tests/fuzz/corpus/NAME, "make fuzz-NAME" for
# FUZZ_SECONDS.
define fuzz_target
$(BUILD)/fuzz/$(1): $(2) | $(BUILD)/fuzz
	@echo "  FUZZCC  $$@"
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $(2)
.PHONY: test-fuzz-$(1) fuzz-$(1)
test-fuzz-$(1): $(BUILD)/fuzz/$(1) | $(RESULTS)
	@echo "== fuzz-$(1) ($$(FUZZ_SMOKE_SECONDS)s)"
	@tools/fuzz-run.sh $(1) $(RESULTS)/fuzz-$(1).tap $(BUILD)/fuzz/$(1) tests/fuzz/corpus/$(1) $$(FUZZ_SMOKE_SECONDS)
fuzz-$(1): $(BUILD)/fuzz/$(1) | $(RESULTS)
	tools/fuzz-run.sh $(1) $(RESULTS)/fuzz-$(1).tap $(BUILD)/fuzz/$(1) tests/fuzz/corpus/$(1) $$(FUZZ_SECONDS)
TEST_SUITES += fuzz-$(1)
FUZZ_TARGETS += $(1)
endef

$(BUILD)/host $(BUILD)/fuzz $(RESULTS):
	@mkdir -p $@
