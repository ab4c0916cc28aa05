# The ELF64 loader validation (lib/kcore/elf64.c): linked into the kernel, tested
# on the host against built images and a real toolchain executable, fuzzed.

$(eval $(call host_test,host-elf64,tests/host/test_elf64.c lib/kcore/elf64.c))
$(eval $(call fuzz_target,elf64,tests/fuzz/fuzz_elf64.c lib/kcore/elf64.c))

# A static freestanding executable linked like a user program, and what
# readelf says about it ("ENTRY LOADS TLS"), for the host test to compare.
ELF_SAMPLE := $(BUILD)/host/elf_sample

$(ELF_SAMPLE): tests/host/elf_sample.c | $(BUILD)/host
	@echo "  CC      $@"
	$(Q)gcc -std=c17 -O2 -static -nostdlib -ffreestanding -fno-pic -no-pie \
		-fno-stack-protector -Wl,-Ttext-segment=0x400000 -Wl,-z,noexecstack \
		-o $@ $<

$(ELF_SAMPLE).expect: $(ELF_SAMPLE)
	$(Q)set -e; \
	entry=$$(readelf -hW $< | awk '/Entry point address/ { print $$NF }'); \
	loads=$$(readelf -lW $< | grep -c '^ *LOAD ' || true); \
	tls=$$(readelf -lW $< | grep -c '^ *TLS ' || true); \
	echo "$$entry $$loads $$tls" >$@

$(BUILD)/host/host-elf64: $(ELF_SAMPLE).expect
