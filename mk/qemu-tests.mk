# QEMU boot tests: one suite per tests/qemu/NAME.test, run by
# tools/qemu-test.sh under TCG with a timeout.

# Systems for QEMU tests: tests/qemu/systems/NAME.cue -> build/systems/NAME.bin,
# booted with MODULE=build/systems/NAME.bin.
$(shell mkdir -p $(BUILD)/systems)
QEMU_SYSTEMS := $(basename $(notdir $(wildcard tests/qemu/systems/*.cue)))
$(foreach s,$(QEMU_SYSTEMS),$(eval $(call manifest_rule,$(BUILD)/systems/$(s).bin,tests/qemu/systems/$(s).cue)))
QEMU_SYSTEM_BINS := $(addprefix $(BUILD)/systems/,$(addsuffix .bin,$(QEMU_SYSTEMS)))

# The focused shell system (system-shell.cue) of the scripted shell tests.
$(eval $(call manifest_rule,$(BUILD)/systems/shell.bin,system-shell.cue))
QEMU_SYSTEM_BINS += $(BUILD)/systems/shell.bin

# A manifest cut short: the kernel must refuse it cleanly.
$(BUILD)/systems/truncated.bin: $(MANIFEST)
	head -c 4096 $< > $@
QEMU_SYSTEM_BINS += $(BUILD)/systems/truncated.bin

# Hostile binary manifests, generated around mkmanifest's checks.
HOSTILE_MANIFESTS := $(addprefix $(BUILD)/systems/hostile-,$(addsuffix .bin,\
    no-init init-not-elf unknown-source wrong-interface pointer-bomb))
$(HOSTILE_MANIFESTS) &: tests/qemu/gen_hostile_manifests.py schema/capos.capnp $(BUILD)/user/init.elf
	$(Q)python3 tests/qemu/gen_hostile_manifests.py $(BUILD)/systems $(BUILD)/user/init.elf
QEMU_SYSTEM_BINS += $(HOSTILE_MANIFESTS)

QEMU_TESTS := $(basename $(notdir $(wildcard tests/qemu/*.test)))

define qemu_test
.PHONY: test-qemu-$(1)
test-qemu-$(1): $(KERNEL) $(TEST_KERNEL) $(addprefix $(BUILD)/user/,$(addsuffix .elf,$(USER_PROGRAMS))) $(QEMU_SYSTEM_BINS) $(MANIFEST) | $(RESULTS)
	@echo "== qemu-$(1)"
	@tools/qemu-test.sh tests/qemu/$(1).test $(RESULTS)/qemu-$(1).tap
TEST_SUITES += qemu-$(1)
endef
$(foreach t,$(QEMU_TESTS),$(eval $(call qemu_test,$(t))))
# The remote gateway's test drives the guest with the official C++ client
# and the raw-socket hostile peers (mk/suite-rpc.mk).
test-qemu-remote: $(CAPOS_REMOTE) $(RPC_HOSTILE)

# The same suites on more CPUs: a spec lists the counts in ALSO_SMP="2 ..."
# (scheduling, IPC, threads, memory, spawning: docs/smp.md).
define qemu_test_smp
.PHONY: test-qemu-$(1)@smp$(2)
test-qemu-$(1)@smp$(2): $(KERNEL) $(TEST_KERNEL) $(addprefix $(BUILD)/user/,$(addsuffix .elf,$(USER_PROGRAMS))) $(QEMU_SYSTEM_BINS) $(MANIFEST) | $(RESULTS)
	@echo "== qemu-$(1)@smp$(2)"
	@tools/qemu-test.sh tests/qemu/$(1).test $(RESULTS)/qemu-$(1)@smp$(2).tap $(2)
TEST_SUITES += qemu-$(1)@smp$(2)
endef
QEMU_SMP_OF = $(shell sed -n 's/^ALSO_SMP="*\([0-9 ]*\)"*$$/\1/p' tests/qemu/$(1).test)
$(foreach t,$(QEMU_TESTS),$(foreach n,$(call QEMU_SMP_OF,$(t)),$(eval $(call qemu_test_smp,$(t),$(n)))))

# The console of `make run` (tools/qemu-run.sh) on a pseudo-terminal: Ctrl-C
# reaches the guest's shell, Ctrl-A X quits QEMU (tests/console/).
TEST_SUITES += console
.PHONY: test-console
test-console: $(ISO) tools/qemu-run.sh $(CAPOS_REMOTE) | $(RESULTS)
	@echo "== console"
	@tools/run-tap.sh console $(RESULTS)/console.tap \
	    timeout --kill-after=5 180 python3 tests/console/console_test.py $(ISO) 150
