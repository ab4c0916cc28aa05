# Bootable images: GRUB 2 (BIOS + UEFI hybrid, grub-mkrescue) around the
# kernel and exactly one boot module.

ISO         := $(BUILD)/capos.iso
BOOT_MODULE := $(BUILD)/boot-module.bin

# Until the system manifest exists, the boot module is a small file the
# build writes; the kernel only checks that there is exactly one.
$(BOOT_MODULE):
	@mkdir -p $(dir $@)
	printf 'capOS boot module\n' > $@

$(ISO): $(KERNEL) $(BOOT_MODULE) tools/mkiso.sh
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
