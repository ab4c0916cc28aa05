/*
 * PCI enumeration (pci.h).
 *
 * Every bus number is tried rather than following bridges: the scan is
 * 8192 vendor-id reads at boot, and it finds devices behind bridges the
 * firmware numbered without our trusting the bridges' bus registers.
 * Functions 1-7 are looked at only when function 0 says the device is
 * multifunction, as the specification asks (some single-function devices
 * answer for every function number).
 */
#include "pci.h"

#include <arch/pci.h>

#include "kprintf.h"

struct bdf {
    uint8_t bus, dev, fn;
};

static struct pci_function functions[PCI_MAX_FUNCTIONS];
static uint32_t nfunctions, nrefused, nleft_out;

static uint32_t cfg_read(void *ctx, uint16_t off)
{
    const struct bdf *a = ctx;
    return arch_pci_read32(a->bus, a->dev, a->fn, off);
}

static void cfg_write(void *ctx, uint16_t off, uint32_t v)
{
    const struct bdf *a = ctx;
    arch_pci_write32(a->bus, a->dev, a->fn, off, v);
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
    for (unsigned bus = 0; bus < 256; bus++) {
        for (uint8_t dev = 0; dev < 32; dev++) {
            if ((arch_pci_read32((uint8_t)bus, dev, 0, 0) & 0xffff) == PCI_NO_VENDOR)
                continue;
            bool multi = false;
            probe_function((uint8_t)bus, dev, 0, &multi);
            for (uint8_t fn = 1; multi && fn < 8; fn++)
                probe_function((uint8_t)bus, dev, fn, 0);
        }
    }
    kprintf("pci: %u functions", nfunctions);
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

void pci_enable(const struct pci_function *f, uint16_t command_bits)
{
    /* Status (the upper half) is write-one-to-clear: write zeros there. */
    uint32_t cmd = arch_pci_read32(f->bus, f->dev, f->fn, PCI_COMMAND) & 0xffff;
    arch_pci_write32(f->bus, f->dev, f->fn, PCI_COMMAND, cmd | command_bits);
}
