# Userspace: libcapos-rt and the programs built on it. Programs are static
# ELF64 executables linked at CAPOS_USER_IMAGE_BASE, each segment on its own
# pages (the kernel's ELF loader refuses pages shared between segments).

UCC      := gcc
UCFLAGS  := -std=c17 -O2 -g -flto=auto $(WARN) -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
            -fno-stack-protector -fno-asynchronous-unwind-tables -MMD -MP \
            -Iinclude -Ilib/freestanding -Ilib -Iuser/rt -I$(BUILD)/gen
ULDFLAGS := -nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,-z,separate-code \
            -Wl,-Ttext-segment=0x400000 -Wl,--build-id=none

# libcapos-rt: user/rt/ and what it links of lib/ (RT_LIB_SRCS, mk/link.mk).
RT_SRCS := user/rt/start.S user/rt/rt.c user/rt/call.c user/rt/print.c user/rt/heap.c user/rt/server.c user/rt/handle.c \
           user/rt/park.c user/rt/thread.c user/rt/sync.c \
           user/rt/spawn.c \
           $(RT_LIB_SRCS)
RT_OBJS := $(addprefix $(BUILD)/obj/user/,$(addsuffix .o,$(basename $(RT_SRCS))))

$(BUILD)/obj/user/%.o: %.c | $(GEN_CAPOS_H)
	@mkdir -p $(dir $@)
	@echo "  UCC     $@"
	$(Q)$(UCC) $(UCFLAGS) -c $< -o $@
$(BUILD)/obj/user/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  UAS     $@"
	$(Q)$(UCC) $(UCFLAGS) -c $< -o $@

USER_PROGRAMS :=

# $(call user_program,NAME,SOURCES) builds build/user/NAME.elf from SOURCES,
# the lib/ sources USER_LIB_SRCS_NAME (mk/link.mk) and libcapos-rt.
define user_program
$(BUILD)/user/$(1).elf: $(addprefix $(BUILD)/obj/user/,$(addsuffix .o,$(basename $(2) $(USER_LIB_SRCS_$(1))))) $(RT_OBJS)
	@mkdir -p $$(dir $$@)
	@echo "  ULD     $$@"
	$$(Q)$$(UCC) $$(UCFLAGS) $$(ULDFLAGS) -o $$@ $$^
USER_PROGRAMS += $(1)
endef

# Folders of programs: user/DIR/NAME.c is the program NAME, except the
# sources listed in USER_SHARED_DIR (mk/link.mk), which are no program of
# their own but are linked into every program of the folder. A file that
# several programs of a folder need therefore goes into USER_SHARED_DIR,
# with a header of declarations beside it (user/services/svc.c and svc.h,
# user/tests/testlib.c and testlib.h).
# $(call user_folder,DIR)
user_folder = $(foreach t,$(basename $(notdir $(filter-out $(USER_SHARED_$(1)),$(wildcard user/$(1)/*.c)))),\
    $(eval $(call user_program,$(t),user/$(1)/$(t).c $(USER_SHARED_$(1)))))

$(call user_folder,tests)
$(call user_folder,bench)
# Linked away from every other program's 0x400000, so that
# tools/qemu-profile.py tells its instructions from netstack's.
$(BUILD)/user/prof-net.elf: ULDFLAGS += -Wl,-Ttext-segment=0x20000000
$(call user_folder,demos)
$(call user_folder,init)
# Session services (docs/sessions.md).
$(call user_folder,services)
# The network service (docs/network.md): every file of user/netstack/.
$(eval $(call user_program,netstack,$(wildcard user/netstack/*.c)))
# The remote-session gateway (docs/remote.md): every file of
# user/services/remote-gateway/, with lib/rpc and remote.capnp's code.
$(eval $(call user_program,remote-gateway,$(wildcard user/services/remote-gateway/*.c)))
# Its objects need the generated headers first (explicit targets: a
# pattern rule without a recipe would add nothing to the pattern above).
REMOTE_GATEWAY_OBJS := $(addprefix $(BUILD)/obj/user/,$(addsuffix .o,$(basename $(wildcard user/services/remote-gateway/*.c))))
$(REMOTE_GATEWAY_OBJS): | $(GEN_REMOTE_H) $(GEN_RPC_H)
$(BUILD)/obj/user/$(GEN_DIR)/remote.capnp.o: | $(GEN_REMOTE_H)
# The shell: every file of user/shell/ makes one program.
$(if $(wildcard user/shell/*.c),$(eval $(call user_program,capos-shell,$(wildcard user/shell/*.c))))
