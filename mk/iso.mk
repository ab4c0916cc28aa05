# Bootable images: GRUB 2 (BIOS + UEFI hybrid, grub-mkrescue) around the
# kernel and exactly one boot module.

ISO         := $(BUILD)/capos.iso
# The boot module is the system manifest (system.cue). BOOT_PROGRAM=NAME
# boots the one program build/user/NAME.elf instead, with the kernel
# capabilities (see kernel/main.c).
# SYSTEM=file.cue boots another system description (e.g. system-spawn.cue).
BOOT_PROGRAM ?=
SYSTEM ?=
ifneq ($(SYSTEM),)
SYSTEM_MANIFEST := $(BUILD)/systems/$(basename $(notdir $(SYSTEM))).bin
$(eval $(call manifest_rule,$(SYSTEM_MANIFEST),$(SYSTEM)))
endif
BOOT_MODULE  := $(if $(BOOT_PROGRAM),$(BUILD)/user/$(BOOT_PROGRAM).elf,$(if $(SYSTEM),$(SYSTEM_MANIFEST),$(MANIFEST)))

# Rebuild the ISO when BOOT_PROGRAM changes, not on every make.
BOOT_STAMP := $(BUILD)/boot-program.txt
$(shell mkdir -p $(BUILD)/systems; [ "$$(cat $(BOOT_STAMP) 2>/dev/null)" = "$(BOOT_PROGRAM) $(SYSTEM)" ] || echo "$(BOOT_PROGRAM) $(SYSTEM)" > $(BOOT_STAMP))

$(ISO): $(KERNEL) $(BOOT_MODULE) $(BOOT_STAMP) tools/mkiso.sh
	tools/mkiso.sh $@ $(KERNEL) "" $(BOOT_MODULE)

# TAP=1: boot the test kernel with the debug tap on (kernel/tap.h).
TAP_ISO := $(BUILD)/capos-tap.iso
$(TAP_ISO): $(TEST_KERNEL) $(BOOT_MODULE) $(BOOT_STAMP) tools/mkiso.sh
	tools/mkiso.sh $@ $(TEST_KERNEL) "tap=1" $(BOOT_MODULE)
RUN_ISO := $(if $(filter 1,$(TAP)),$(TAP_ISO),$(ISO))

# The QEMU command line is tools/qemu-run.sh's (the console test runs it
# too): the serial console on this terminal, Ctrl-C to the guest, Ctrl-A X
# quits. KVM=1 uses KVM.
.PHONY: run run-uefi
run: deps $(RUN_ISO)
	KVM=$(KVM) tools/qemu-run.sh bios $(RUN_ISO)

run-uefi: deps $(RUN_ISO)
	KVM=$(KVM) tools/qemu-run.sh uefi $(RUN_ISO)

.PHONY: bench
$(shell mkdir -p $(BUILD)/bench)
$(eval $(call manifest_rule,$(BUILD)/bench/ipc.bin,system-bench.cue))
$(eval $(call manifest_rule,$(BUILD)/bench/smp.bin,system-bench-smp.cue))
$(eval $(call manifest_rule,$(BUILD)/bench/net.bin,system-bench-net.cue))
# Not part of make bench: the same system with prof-net (user/bench/
# prof-net.c) in place of net-bench, for tools/qemu-profile.py.
$(BUILD)/bench/prof-net.cue: system-bench-net.cue
	$(Q)sed 's/"net-bench"/"prof-net"/g' $< >$@
$(eval $(call manifest_rule,$(BUILD)/bench/prof-net.bin,$(BUILD)/bench/prof-net.cue))
# The same for the IPC profiling targets (user/bench/prof-ipc.c,
# prof-move.c) in place of ipc-bench.
$(BUILD)/bench/prof-ipc.cue $(BUILD)/bench/prof-move.cue: $(BUILD)/bench/%.cue: system-bench.cue
	$(Q)sed 's/"ipc-bench"/"$*"/g' $< >$@
$(foreach p,prof-ipc prof-move,$(eval $(call manifest_rule,$(BUILD)/bench/$(p).bin,$(BUILD)/bench/$(p).cue)))
# Boot phases are measured on the init test system, which halts by itself
# (the default system waits at the shell prompt).
$(BUILD)/bench/boot.iso: $(KERNEL) $(BUILD)/systems/init.bin tools/mkiso.sh
	@mkdir -p $(BUILD)/bench
	$(Q)tools/mkiso.sh $@ $(KERNEL) "" $(BUILD)/systems/init.bin
bench: deps $(BUILD)/bench/boot.iso $(BUILD)/user/ring-bench.elf $(BUILD)/bench/ipc.bin \
       $(BUILD)/user/thread-bench.elf $(BUILD)/systems/remote.bin $(CAPOS_REMOTE) \
       $(BUILD)/bench/smp.bin $(BUILD)/bench/net.bin
	@mkdir -p $(BUILD)/bench
	@tools/bench-boot.sh $(BUILD)/bench/boot.iso
	@tools/bench-ring.sh $(KERNEL) $(BUILD)/user/ring-bench.elf ring
	@tools/bench-ring.sh $(KERNEL) $(BUILD)/bench/ipc.bin ipc
	@tools/bench-ring.sh $(KERNEL) $(BUILD)/user/thread-bench.elf thread
	@tools/bench-targets.sh $(BUILD)/bench
	@tools/bench-remote.sh $(KERNEL) $(BUILD)/systems/remote.bin
	@tools/bench-smp.sh $(KERNEL) $(BUILD)/bench/smp.bin
	@sh bench/linux-smp/run.sh
	@tools/bench-net.sh $(KERNEL) $(BUILD)/bench/net.bin
