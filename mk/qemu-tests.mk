# QEMU boot tests: one suite per tests/qemu/NAME.test, run by
# tools/qemu-test.sh under TCG with a timeout.

QEMU_TESTS := $(basename $(notdir $(wildcard tests/qemu/*.test)))

define qemu_test
.PHONY: test-qemu-$(1)
test-qemu-$(1): $(KERNEL) $(TEST_KERNEL) $(addprefix $(BUILD)/user/,$(addsuffix .elf,$(USER_PROGRAMS))) | $(RESULTS)
	@echo "== qemu-$(1)"
	@tools/qemu-test.sh tests/qemu/$(1).test $(RESULTS)/qemu-$(1).tap
TEST_SUITES += qemu-$(1)
endef
$(foreach t,$(QEMU_TESTS),$(eval $(call qemu_test,$(t))))
