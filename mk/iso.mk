# Bootable images: GRUB 2 (BIOS + UEFI hybrid, grub-mkrescue) around the
# kernel and exactly one boot module.

ISO         := $(BUILD)/capos.iso
# Until the system manifest exists, the boot module is the one program the
# kernel starts.
BOOT_PROGRAM ?= ring-nop
BOOT_MODULE  := $(BUILD)/user/$(BOOT_PROGRAM).elf

# Rebuild the ISO when BOOT_PROGRAM changes, not on every make.
BOOT_STAMP := $(BUILD)/boot-program.txt
$(shell mkdir -p $(BUILD); [ "$$(cat $(BOOT_STAMP) 2>/dev/null)" = "$(BOOT_PROGRAM)" ] || echo "$(BOOT_PROGRAM)" > $(BOOT_STAMP))

$(ISO): $(KERNEL) $(BOOT_MODULE) $(BOOT_STAMP) tools/mkiso.sh
	tools/mkiso.sh $@ $(KERNEL) "" $(BOOT_MODULE)

QEMU_ACCEL := $(if $(filter 1,$(KVM)),-accel kvm -cpu host,-accel tcg -cpu max)
QEMU_FLAGS := -M q35 -m 256M $(QEMU_ACCEL) -serial stdio -display none -no-reboot \
              -device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: run run-uefi
run: deps $(ISO)
	tools/qemu-run.sh bios $(ISO) $(QEMU_FLAGS)

run-uefi: deps $(ISO)
	tools/qemu-run.sh uefi $(ISO) $(QEMU_FLAGS)

.PHONY: bench
bench: deps $(ISO)
	@tools/bench-boot.sh $(ISO)
