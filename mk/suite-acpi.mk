# The ACPI table parser (lib/acpi/acpi.c: RSDP, RSDT/XSDT, MADT, MCFG):
# host tests and a fuzz target (docs/devices.md).

$(eval $(call host_test,host-acpi,tests/host/test_acpi.c lib/acpi/acpi.c))
$(eval $(call fuzz_target,acpi,tests/fuzz/fuzz_acpi.c lib/acpi/acpi.c))
