# capOS top-level Makefile.
#
#   make            build build/capos.iso
#   make run        boot it under QEMU (BIOS), serial on stdio
#   make run-uefi   boot it under QEMU with OVMF (UEFI)
#   make test       every test suite; ends with "N passed, N failed"
#   make bench      boot phases, ring and IPC figures under -icount, issue-13 targets
#   make fuzz       run every fuzz target longer (FUZZ_SECONDS each)
#   make clean
#
# KVM=1 uses KVM instead of TCG for run targets (slower on nested machines).

.DEFAULT_GOAL := all
BUILD   := build
RESULTS := $(BUILD)/results

include mk/config.mk
# What each binary links (lib/ by role), declared once.
include mk/link.mk
# SPIN model checking macros, for the suites that verify a model.
include mk/spin.mk
# Test suites: they only register tests.
include $(sort $(wildcard mk/suite-*.mk))
include mk/kernel.mk
include mk/user.mk
include mk/iso.mk
include mk/qemu-tests.mk

.PHONY: all deps test fuzz clean format

all: $(ISO)

# Check for missing Debian packages and install them (as root) or print the
# apt-get line. Quiet when everything is present.
deps:
	@tools/install-deps.sh

# Every suite target writes $(RESULTS)/<suite>.tap and never fails the make
# run itself; the summary sums them and sets the exit status.
test: deps
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	-@$(MAKE) --no-print-directory -k -j$(TEST_JOBS) $(addprefix test-,$(TEST_SUITES))
	@echo "== summary"
	@tools/test-summary.sh $(RESULTS) $(TEST_SUITES)

fuzz: deps $(addprefix fuzz-,$(FUZZ_TARGETS))

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
