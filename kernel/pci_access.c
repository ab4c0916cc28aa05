/*
 * PCI configuration access: ECAM when the MCFG describes it and it proves
 * sound, else the architecture's mechanism (arch/pci.h, port I/O on x86).
 *
 * ECAM is plain memory-mapped I/O, so this is generic code, and it reaches
 * past byte 255 (PCIe extended space) should a driver ever need it. But an
 * MCFG is firmware's word: before the kernel writes a byte through it
 * (BAR sizing writes), the window is checked not to overlap RAM (a lying
 * table would otherwise aim configuration writes at kernel memory), and
 * function 00:00.0 must read the same through both mechanisms. Anything
 * else falls back to the architecture's access, with the reason logged.
 *
 * Bus windows (1 MiB each) are mapped on first use; only buses the scan
 * reaches are mapped.
 */
#include <arch/pci.h>

#include "acpi.h"
#include "kprintf.h"
#include "mmio.h"
#include "pci.h"

#define ECAM_BUS_BYTES (1ull << 20)

static const struct acpi_ecam *ecam; /* NULL: arch access */
static volatile uint8_t *bus_window[256];

static volatile uint8_t *window(uint8_t bus)
{
    if (!bus_window[bus])
        bus_window[bus] = mmio_map(ecam->base + ((uint64_t)bus << 20), ECAM_BUS_BYTES);
    return bus_window[bus];
}

/* The function's 4 KiB of configuration space through ECAM, or NULL when
 * the bus is outside the MCFG range or could not be mapped. */
static volatile uint32_t *ecam_function(uint8_t bus, uint8_t dev, uint8_t fn)
{
    if (!ecam || bus < ecam->bus_start || bus > ecam->bus_end)
        return 0;
    volatile uint8_t *w = window(bus);
    return w ? (volatile uint32_t *)(w + ((uint32_t)(dev & 31) << 15 | (uint32_t)(fn & 7) << 12))
             : 0;
}

uint32_t pci_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    volatile uint32_t *f = ecam_function(bus, dev, fn);
    return f ? f[(off & 0xffc) / 4] : arch_pci_read32(bus, dev, fn, off);
}

void pci_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    volatile uint32_t *f = ecam_function(bus, dev, fn);
    if (f)
        f[(off & 0xffc) / 4] = v;
    else
        arch_pci_write32(bus, dev, fn, off, v);
}

static const char *ecam_refusal(const struct acpi_ecam *e)
{
    if (e->segment != 0 || e->bus_start != 0)
        return "it does not cover bus 0 of segment 0";
    /* lib/acpi checked the window does not wrap. */
    if (pci_overlaps_ram(e->base, e->base + ((uint64_t)e->bus_end + 1) * ECAM_BUS_BYTES))
        return "its window overlaps RAM";
    return 0;
}

const char *pci_access_init(void)
{
    const struct acpi_info *a = acpi_get();
    if (!a || !a->has_mcfg || a->mcfg.count == 0)
        return "port I/O (no MCFG)";
    const struct acpi_ecam *e = &a->mcfg.ecam[0];
    const char *why = ecam_refusal(e);
    if (!why) {
        ecam = e;
        uint32_t via_ecam = pci_cfg_read(0, 0, 0, 0);
        ecam = 0;
        if (!bus_window[0])
            why = "its window could not be mapped";
        else if (via_ecam != arch_pci_read32(0, 0, 0, 0))
            why = "00:00.0 reads differently through it";
    }
    if (why) {
        kprintf("pci: ECAM at 0x%lx not used: %s\n", e->base, why);
        return "port I/O";
    }
    ecam = e;
    return "ECAM";
}
