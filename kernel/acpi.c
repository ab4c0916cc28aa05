/*
 * ACPI discovery at boot (acpi.h).
 *
 * The tables are read before the kernel builds its own page tables: then
 * every physical address below 4 GiB is mapped (docs/boot.md), including
 * the "reserved" ranges firmware keeps its tables in, which the kernel's
 * direct map later leaves out. Nothing here starts a CPU; the result is
 * kept for the SMP work and for PCI (ECAM).
 */
#include "acpi.h"

#include <arch/layout.h>
#include <arch/paging.h>

#include "kprintf.h"
#include "string.h"

static struct acpi_info info;
static bool found;
/* One table at a time; a MADT for 64 CPUs is well under 1 KiB. */
static uint8_t scratch[16384];

static bool read_boot_mapped(void *ctx, uint64_t phys, void *buf, size_t len)
{
    (void)ctx;
    if (phys >= BOOT_MAPPED_LIMIT || len > BOOT_MAPPED_LIMIT - phys)
        return false;
    memcpy(buf, phys_to_virt(phys), len);
    return true;
}

static void report(void)
{
    const struct acpi_madt *m = &info.madt;
    char ids[ACPI_MAX_CPUS * 11 + 1];
    size_t n = 0;
    for (uint32_t i = 0; i < m->cpu_count && n + 12 < sizeof(ids); i++) {
        if (!(m->cpus[i].flags & ACPI_CPU_ENABLED))
            continue;
        n += ksnprintf(ids + n, sizeof(ids) - n, "%s%u", n ? "," : "", m->cpus[i].apic_id);
    }
    ids[n] = 0;
    kprintf("acpi: %u CPU%s (APIC ids %s)", m->cpus_enabled, m->cpus_enabled == 1 ? "" : "s", ids);
    if (m->ioapic_count)
        kprintf(", IO APIC at 0x%x", m->ioapics[0].address);
    kprintf("\n");
    kprintf("acpi: %s v%u from \"%s\", %u tables, local APIC at 0x%lx, %u IO APIC%s, "
            "%u overrides, %u NMI entries%s\n",
            info.xsdt ? "XSDT" : "RSDT", info.rsdp.revision, info.rsdp.oem_id, info.table_count,
            m->lapic_address, m->ioapic_count, m->ioapic_count == 1 ? "" : "s", m->override_count,
            m->nmi_count, m->pcat_compat ? ", 8259 PICs present" : "");
    uint32_t online_capable = m->cpu_count - m->cpus_enabled;
    if (online_capable || m->cpus_ignored || m->cpus_disabled)
        kprintf("acpi: also %u online-capable CPUs, %u disabled entries, %u CPUs ignored "
                "(more than %u)\n",
                online_capable, m->cpus_disabled, m->cpus_ignored, ACPI_MAX_CPUS);
    for (uint32_t i = 0; info.has_mcfg && i < info.mcfg.count; i++)
        kprintf("acpi: PCI ECAM segment %u buses %u-%u at 0x%lx\n", info.mcfg.ecam[i].segment,
                info.mcfg.ecam[i].bus_start, info.mcfg.ecam[i].bus_end, info.mcfg.ecam[i].base);
}

void acpi_init(const struct mb2_info *mb)
{
    if (!mb->acpi_rsdp) {
        kprintf("acpi: the boot loader passed no RSDP; booting on one CPU\n");
        return;
    }
    enum acpi_status st = acpi_discover(mb->acpi_rsdp, mb->acpi_rsdp_len, read_boot_mapped, 0,
                                        scratch, sizeof(scratch), &info);
    if (st != ACPI_OK) {
        kprintf("acpi: tables refused (%s%s): %s; booting on one CPU\n",
                info.error_table[0] ? "in " : "at the RSDP", info.error_table, acpi_status_str(st));
        return;
    }
    found = true;
    report();
}

const struct acpi_info *acpi_get(void)
{
    return found ? &info : 0;
}
