/*
 * PCI enumeration (pci.h).
 *
 * Buses are found by following PCI-to-PCI bridges from bus 0, breadth
 * first, each bus at most once (a bitmap), so bridges that name a bus
 * twice or form a cycle cannot make the scan loop. Trying all 256 bus
 * numbers instead would cost 8192 port-I/O reads, which under TCG is tens
 * of milliseconds of every boot. Functions 1-7 are looked at only when
 * function 0 says the device is multifunction, as the specification asks
 * (some single-function devices answer for every function number).
 * Configuration space is reached through pci_access.c (ECAM or port I/O).
 */
#include "pci.h"

#include <arch/paging.h>

#include "kprintf.h"
#include "memory.h"

struct bdf {
    uint8_t bus, dev, fn;
};

static struct pci_function functions[PCI_MAX_FUNCTIONS];
static uint32_t nfunctions, nrefused, nleft_out;

static uint32_t cfg_read(void *ctx, uint16_t off)
{
    const struct bdf *a = ctx;
    return pci_cfg_read(a->bus, a->dev, a->fn, off);
}

static void cfg_write(void *ctx, uint16_t off, uint32_t v)
{
    const struct bdf *a = ctx;
    pci_cfg_write(a->bus, a->dev, a->fn, off, v);
}

static const char *bar_kind(enum pci_bar_kind k)
{
    switch (k) {
    case PCI_BAR_IO:
        return "io";
    case PCI_BAR_MEM32:
        return "mem32";
    case PCI_BAR_MEM64:
        return "mem64";
    default:
        return "none";
    }
}

static void log_function(const struct pci_function *f)
{
    const struct pci_device *d = &f->info;
    kprintf("pci: %02x:%02x.%u %04x:%04x class %02x.%02x.%02x", f->bus, f->dev, f->fn, d->vendor,
            d->device, d->class_code, d->subclass, d->prog_if);
    for (int i = 0; i < PCI_MAX_BARS; i++)
        if (d->bars[i].kind != PCI_BAR_NONE)
            kprintf(" bar%d=%s:0x%lx+0x%lx", i, bar_kind(d->bars[i].kind), d->bars[i].base,
                    d->bars[i].size);
    if (d->msix.present)
        kprintf(" msix=%u", d->msix.table_size);
    if (d->virtio.modern)
        kprintf(" virtio-modern");
    kprintf("\n");
}

#define PCI_SECONDARY_BUS 0x18 /* dword: primary, secondary, subordinate, latency */

static uint64_t bus_seen[256 / 64];
static uint8_t bus_queue[256];
static unsigned bus_queued;

static void queue_bus(uint8_t bus)
{
    if (bus_seen[bus / 64] >> (bus % 64) & 1)
        return;
    bus_seen[bus / 64] |= 1ull << (bus % 64);
    bus_queue[bus_queued++] = bus; /* at most 256: each bus once */
}

static void probe_function(uint8_t bus, uint8_t dev, uint8_t fn, bool *multifunction)
{
    struct bdf a = {bus, dev, fn};
    const struct pci_cfg_io io = {cfg_read, cfg_write, &a};
    struct pci_device d;
    enum pci_status st = pci_probe(&io, &d);
    if (st == PCI_ERR_NO_DEVICE)
        return;
    if (multifunction)
        *multifunction = d.multifunction;
    if (st != PCI_OK) {
        nrefused++;
        kprintf("pci: %02x:%02x.%u %04x:%04x refused: %s (configuration offset 0x%x)\n", bus, dev,
                fn, d.vendor, d.device, pci_status_str(st), d.error_offset);
        return;
    }
    if (d.header_type == 1)
        queue_bus((uint8_t)(pci_cfg_read(bus, dev, fn, PCI_SECONDARY_BUS) >> 8));
    if (nfunctions == PCI_MAX_FUNCTIONS) {
        nleft_out++;
        return;
    }
    struct pci_function *f = &functions[nfunctions++];
    f->bus = bus;
    f->dev = dev;
    f->fn = fn;
    f->info = d;
    log_function(f);
}

void pci_init(void)
{
    const char *access = pci_access_init();
    queue_bus(0);
    for (unsigned i = 0; i < bus_queued; i++) {
        uint8_t bus = bus_queue[i];
        for (uint8_t dev = 0; dev < 32; dev++) {
            if ((pci_cfg_read(bus, dev, 0, 0) & 0xffff) == PCI_NO_VENDOR)
                continue;
            bool multi = false;
            probe_function(bus, dev, 0, &multi);
            for (uint8_t fn = 1; multi && fn < 8; fn++)
                probe_function(bus, dev, fn, 0);
        }
    }
    kprintf("pci: %u functions on %u bus%s through %s", nfunctions, bus_queued,
            bus_queued == 1 ? "" : "es", access);
    if (nrefused)
        kprintf(", %u refused", nrefused);
    if (nleft_out)
        kprintf(", %u more left alone (at most %u are kept)", nleft_out, PCI_MAX_FUNCTIONS);
    kprintf("\n");
}

const struct pci_function *pci_find(uint16_t vendor, uint16_t device)
{
    for (uint32_t i = 0; i < nfunctions; i++)
        if (functions[i].info.vendor == vendor && functions[i].info.device == device)
            return &functions[i];
    return 0;
}

bool pci_overlaps_ram(uint64_t base, uint64_t end)
{
    struct paging_ram_range ram[MB2_MAX_MMAP + MB2_MAX_MODULES + 1];
    int n = memory_ram_ranges(ram, (int)(sizeof(ram) / sizeof(ram[0])));
    for (int i = 0; i < n; i++)
        if (ram[i].base < end && base < ram[i].end)
            return true;
    return false;
}

const char *pci_bar_refusal(const struct pci_bar *b)
{
    if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64)
        return "it is not a memory BAR";
    if (b->base == 0)
        return "the firmware did not assign it an address";
    /* lib/pci checked base + size does not wrap. */
    if (pci_overlaps_ram(b->base, b->base + b->size))
        return "it overlaps RAM";
    return 0;
}

void pci_enable(const struct pci_function *f, uint16_t command_bits)
{
    /* Status (the upper half) is write-one-to-clear: write zeros there. */
    uint32_t cmd = pci_cfg_read(f->bus, f->dev, f->fn, PCI_COMMAND) & 0xffff;
    pci_cfg_write(f->bus, f->dev, f->fn, PCI_COMMAND, cmd | command_bits);
}
