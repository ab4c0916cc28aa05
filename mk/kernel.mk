# The kernel: build/kernel.elf, and build/test/kernel.elf with test hooks
# (deliberate faults chosen on the command line) for the QEMU tests.

KERNEL_C   := $(wildcard kernel/*.c kernel/objects/*.c kernel/arch/x86_64/*.c) $(KERNEL_LIB_SRCS)
KERNEL_S   := $(wildcard kernel/arch/x86_64/*.S)
KERNEL_LD  := kernel/arch/x86_64/kernel.ld

KERNEL      := $(BUILD)/kernel.elf
TEST_KERNEL := $(BUILD)/test/kernel.elf

# $(call kernel_build,OUTPUT,OBJDIR,EXTRA_CFLAGS). Objects depend on
# mk/config.mk: a change of the kernel's flags rebuilds it.
define kernel_build
$(2)/%.o: %.c mk/config.mk | $(GEN_CAPOS_H)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$$(KCC) $$(KCFLAGS) $(3) -c $$< -o $$@
$(2)/%.o: %.S mk/config.mk
	@mkdir -p $$(dir $$@)
	@echo "  AS      $$@"
	$$(Q)$$(KCC) $$(KASFLAGS) $(3) -c $$< -o $$@
$(1): $(addprefix $(2)/,$(KERNEL_C:.c=.o) $(KERNEL_S:.S=.o)) $(KERNEL_LD)
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$$(Q)$$(KCC) $$(KCFLAGS) $$(KLDFLAGS) -T $(KERNEL_LD) -o $$@ $$(filter %.o,$$^)
endef

$(eval $(call kernel_build,$(KERNEL),$(BUILD)/obj/kernel,))
$(eval $(call kernel_build,$(TEST_KERNEL),$(BUILD)/obj/test-kernel,-DCAPOS_TEST_HOOKS=1))
