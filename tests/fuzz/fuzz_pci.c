/*
 * libFuzzer target for the PCI configuration space parser (lib/pci/pci.c).
 *
 * Input: 256 bytes of configuration space, then six 32-bit BAR masks (the
 * writable bits of each BAR register), then anything. The parser probes a
 * fake function built from them, exactly as the kernel probes a real one,
 * and also parses the raw bytes with the tail taken as BAR probe results.
 * Every result that parses is checked against the invariants the kernel
 * relies on: capabilities inside configuration space and disjoint, BARs of
 * power-of-two size and aligned, virtio structures and MSI-X tables inside
 * their BARs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fake {
    uint8_t cfg[PCI_CFG_SIZE];
    uint32_t mask[PCI_MAX_BARS];
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t fake_read(void *ctx, uint16_t off)
{
    struct fake *f = ctx;
    CHECK(off % 4 == 0 && off < PCI_CFG_SIZE);
    return get32(f->cfg + off);
}

static void fake_write(void *ctx, uint16_t off, uint32_t v)
{
    struct fake *f = ctx;
    CHECK(off % 4 == 0 && off < PCI_CFG_SIZE);
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * PCI_MAX_BARS)
        v = (v & f->mask[(off - PCI_BAR0) / 4]) | (get32(f->cfg + off) & 1);
    for (int i = 0; i < 4; i++)
        f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static bool in_bar(const struct pci_device *d, uint8_t bar, uint64_t off, uint64_t len)
{
    const struct pci_bar *b = &d->bars[bar];
    return bar < PCI_MAX_BARS && (b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
           off <= b->size && len <= b->size - off;
}

static void check_device(const struct pci_device *d)
{
    CHECK(d->vendor != PCI_NO_VENDOR && d->header_type <= 2);
    for (int i = 0; i < PCI_MAX_BARS; i++) {
        const struct pci_bar *b = &d->bars[i];
        if (b->kind == PCI_BAR_NONE)
            continue;
        CHECK(b->size != 0 && (b->size & (b->size - 1)) == 0);
        CHECK(b->base % b->size == 0 && b->base <= UINT64_MAX - b->size);
        if (b->kind == PCI_BAR_MEM64)
            CHECK(i + 1 < PCI_MAX_BARS && d->bars[i + 1].kind == PCI_BAR_NONE);
    }
    CHECK(d->cap_count <= PCI_MAX_CAPS);
    for (uint32_t i = 0; i < d->cap_count; i++) {
        const struct pci_cap *c = &d->caps[i];
        CHECK(c->offset >= 0x40 && c->offset % 4 == 0 && c->length >= 2);
        CHECK((unsigned)c->offset + c->length <= PCI_CFG_SIZE);
        for (uint32_t j = 0; j < i; j++)
            CHECK(c->offset >= d->caps[j].offset + d->caps[j].length ||
                  d->caps[j].offset >= c->offset + c->length);
    }
    if (d->msix.present) {
        CHECK(d->msix.table_size >= 1 && d->msix.table_size <= 2048);
        CHECK(in_bar(d, d->msix.table_bar, d->msix.table_offset, d->msix.table_size * 16u));
        CHECK(in_bar(d, d->msix.pba_bar, d->msix.pba_offset, (d->msix.table_size + 63u) / 64 * 8));
    }
    for (int t = PCI_VIRTIO_COMMON; t <= PCI_VIRTIO_DEVICE; t++) {
        const struct pci_virtio_region *r = &d->virtio.region[t];
        if (r->present)
            CHECK(in_bar(d, r->bar, r->offset, r->length));
    }
    if (d->virtio.modern)
        CHECK(d->virtio.region[PCI_VIRTIO_COMMON].length >= 56);
    CHECK(d->error_offset == 0);
}

static struct pci_device dev;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake f;
    memset(&f, 0, sizeof(f));
    memcpy(f.cfg, data, size < PCI_CFG_SIZE ? size : PCI_CFG_SIZE);
    for (int i = 0; i < PCI_MAX_BARS; i++) {
        size_t o = PCI_CFG_SIZE + 4 * (size_t)i;
        if (o + 4 <= size)
            f.mask[i] = get32(data + o);
    }
    uint8_t before[PCI_CFG_SIZE];
    memcpy(before, f.cfg, sizeof(before));
    struct pci_cfg_io io = {fake_read, fake_write, &f};
    enum pci_status st = pci_probe(&io, &dev);
    CHECK((unsigned)st < PCI_ERR_COUNT_ && pci_status_str(st));
    if (st == PCI_OK)
        check_device(&dev);
    /* Sizing must put the command register back. */
    CHECK(memcmp(before + PCI_COMMAND, f.cfg + PCI_COMMAND, 2) == 0);

    /* Raw probe results from the tail of the input. */
    struct pci_bar_probe probes[PCI_MAX_BARS];
    memset(probes, 0, sizeof(probes));
    size_t tail = PCI_CFG_SIZE + 24, n = size > tail ? size - tail : 0;
    memcpy(probes, data + (n ? tail : 0), n < sizeof(probes) ? n : sizeof(probes));
    st = pci_parse(before, probes, &dev);
    CHECK((unsigned)st < PCI_ERR_COUNT_);
    if (st == PCI_OK)
        check_device(&dev);
    st = pci_parse(before, NULL, &dev);
    if (st == PCI_OK)
        CHECK(!dev.msix.present && !dev.virtio.modern);
    return 0;
}
