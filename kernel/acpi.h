/*
 * ACPI discovery at boot: the RSDP from the Multiboot2 tags, then the MADT
 * (CPUs, IO APICs) and MCFG (PCI ECAM) through lib/acpi (docs/devices.md).
 */
#ifndef CAPOS_ACPI_H
#define CAPOS_ACPI_H

#include "acpi/acpi.h"
#include "kcore/mb2.h"

/* Parse the tables and log what was found. Runs while the boot page
 * tables still map the first 4 GiB (before paging_init), where firmware
 * puts its tables; tables elsewhere are reported, not read. A machine
 * without usable ACPI tables boots on, with acpi_get() returning NULL. */
void acpi_init(const struct mb2_info *info);

/* What acpi_init found, or NULL. */
const struct acpi_info *acpi_get(void);

#endif
