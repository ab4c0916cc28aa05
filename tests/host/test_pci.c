/*
 * Host tests for the PCI configuration space parser (lib/pci/pci.c),
 * against a fake function: 256 bytes of configuration space plus, per
 * BAR, the mask of address bits a real BAR would let software write (the
 * sizing protocol: write all ones, read back).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pci/pci.h"

struct fake {
    uint8_t cfg[PCI_CFG_SIZE];
    uint32_t bar_mask[PCI_MAX_BARS]; /* writable bits of each BAR register */
    unsigned writes;
    uint32_t cmd_during_sizing; /* the command register while a BAR held ones */
};

static struct fake f;
static struct pci_device dev;

static void put16(uint16_t off, uint16_t v)
{
    f.cfg[off] = (uint8_t)v;
    f.cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint16_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        f.cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(uint16_t off)
{
    return (uint32_t)f.cfg[off] | (uint32_t)f.cfg[off + 1] << 8 | (uint32_t)f.cfg[off + 2] << 16 |
           (uint32_t)f.cfg[off + 3] << 24;
}

static uint32_t fake_read(void *ctx, uint16_t off)
{
    cr_assert(off % 4 == 0 && off < PCI_CFG_SIZE, "read at %#x", off);
    return get32(off);
}

static void fake_write(void *ctx, uint16_t off, uint32_t v)
{
    cr_assert(off % 4 == 0 && off < PCI_CFG_SIZE, "write at %#x", off);
    f.writes++;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * PCI_MAX_BARS) {
        unsigned i = (off - PCI_BAR0) / 4;
        uint32_t old = get32(off), fixed = (old & 1) ? 3u : 0xfu;
        if (i > 0 && (get32(off - 4) & 7) == 4) /* upper half of a 64-bit BAR */
            fixed = 0;
        put32(off, (v & f.bar_mask[i] & ~fixed) | (old & fixed));
        if (v == 0xffffffffu)
            f.cmd_during_sizing = get32(PCI_COMMAND) & 0xffff;
    } else if (off == PCI_COMMAND) {
        put16(PCI_COMMAND, (uint16_t)v);
    }
}

static const struct pci_cfg_io io = {fake_read, fake_write, NULL};

/* A 32-bit memory BAR i of `size` bytes at base. */
static void bar32(unsigned i, uint32_t base, uint32_t size)
{
    put32((uint16_t)(PCI_BAR0 + 4 * i), base);
    f.bar_mask[i] = ~(size - 1);
}

/* A 64-bit prefetchable memory BAR in slots i, i+1. */
static void bar64(unsigned i, uint64_t base, uint64_t size)
{
    put32((uint16_t)(PCI_BAR0 + 4 * i), (uint32_t)base | 0xc);
    put32((uint16_t)(PCI_BAR0 + 4 * i + 4), (uint32_t)(base >> 32));
    uint64_t mask = ~(size - 1);
    f.bar_mask[i] = (uint32_t)mask;
    f.bar_mask[i + 1] = (uint32_t)(mask >> 32);
}

/* A capability at off, linked after the one at *prev. */
static void cap(uint8_t *prev, uint8_t off, uint8_t id)
{
    f.cfg[*prev] = off;
    f.cfg[off] = id;
    f.cfg[off + 1] = 0;
    *prev = (uint8_t)(off + 1);
}

static void virtio_cap(uint8_t *prev, uint8_t off, uint8_t type, uint8_t bar, uint32_t roff,
                       uint32_t rlen, uint8_t caplen)
{
    cap(prev, off, PCI_CAP_VENDOR);
    f.cfg[off + 2] = caplen;
    f.cfg[off + 3] = type;
    f.cfg[off + 4] = bar;
    put32(off + 8, roff);
    put32(off + 12, rlen);
}

/* What QEMU's virtio-net-pci (disable-legacy=on) looks like. */
static void virtio_net(void)
{
    memset(&f, 0, sizeof(f));
    put16(0, PCI_VENDOR_VIRTIO);
    put16(2, 0x1041);
    put16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    put16(PCI_STATUS, PCI_STATUS_CAP_LIST);
    f.cfg[8] = 1;
    f.cfg[11] = 0x02; /* network controller */
    put16(0x2c, PCI_VENDOR_VIRTIO);
    put16(0x2e, 1);
    f.cfg[PCI_INTERRUPT_LINE] = 11;
    f.cfg[PCI_INTERRUPT_LINE + 1] = 1;
    bar32(1, 0xfebd1000, 0x1000);
    bar64(4, 0xfe000000, 0x4000);
    uint8_t prev = PCI_CAP_PTR;
    cap(&prev, 0x98, PCI_CAP_MSIX);
    put16(0x98 + 2, 2); /* 3 vectors */
    put32(0x98 + 4, 0x000 | 1);
    put32(0x98 + 8, 0x800 | 1);
    virtio_cap(&prev, 0x84, PCI_VIRTIO_COMMON, 4, 0x0000, 0x1000, 16);
    virtio_cap(&prev, 0x70, PCI_VIRTIO_ISR, 4, 0x1000, 0x1000, 16);
    virtio_cap(&prev, 0x60, PCI_VIRTIO_DEVICE, 4, 0x2000, 0x1000, 16);
    virtio_cap(&prev, 0x4c, PCI_VIRTIO_NOTIFY, 4, 0x3000, 0x1000, 20);
    put32(0x4c + 16, 4);
    virtio_cap(&prev, 0xb0, 5 /* PCI cfg access */, 0, 0, 0, 20);
}

static enum pci_status probe(void)
{
    return pci_probe(&io, &dev);
}

Test(pci, virtio_net_as_qemu_builds_it)
{
    virtio_net();
    cr_assert_eq(probe(), PCI_OK, "%s", pci_status_str(probe()));
    cr_assert_eq(dev.vendor, PCI_VENDOR_VIRTIO);
    cr_assert_eq(dev.device, 0x1041);
    cr_assert_eq(dev.class_code, 2);
    cr_assert_eq(dev.interrupt_line, 11);
    cr_assert_eq(dev.bars[1].kind, PCI_BAR_MEM32);
    cr_assert_eq(dev.bars[1].size, 0x1000);
    cr_assert_eq(dev.bars[4].kind, PCI_BAR_MEM64);
    cr_assert(dev.bars[4].prefetchable);
    cr_assert_eq(dev.bars[4].base, 0xfe000000);
    cr_assert_eq(dev.bars[4].size, 0x4000);
    cr_assert_eq(dev.bars[5].kind, PCI_BAR_NONE, "upper half of BAR 4");
    cr_assert_eq(dev.bars[0].kind, PCI_BAR_NONE);
    cr_assert_eq(dev.cap_count, 6);
    cr_assert(dev.msix.present);
    cr_assert_eq(dev.msix.table_size, 3);
    cr_assert_eq(dev.msix.pba_offset, 0x800);
    cr_assert(dev.virtio.modern);
    cr_assert_eq(dev.virtio.region[PCI_VIRTIO_NOTIFY].offset, 0x3000);
    cr_assert_eq(dev.virtio.notify_off_multiplier, 4);
    cr_assert(dev.virtio.region[PCI_VIRTIO_DEVICE].present);
    cr_assert_eq(dev.virtio.ignored, 1, "the PCI-cfg-access capability is not used");
}

Test(pci, sizing_restores_everything)
{
    virtio_net();
    uint8_t before[PCI_CFG_SIZE];
    memcpy(before, f.cfg, sizeof(before));
    cr_assert_eq(probe(), PCI_OK);
    cr_assert_eq(memcmp(before, f.cfg, sizeof(before)), 0, "BARs and command written back");
    cr_assert_eq(f.cmd_during_sizing & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO), 0,
                 "decoding was off while a BAR held all ones");
}

Test(pci, no_device_and_header_types)
{
    memset(&f, 0xff, sizeof(f.cfg));
    cr_assert_eq(probe(), PCI_ERR_NO_DEVICE);
    cr_assert_eq(f.writes, 0, "nothing written to an absent device");
    virtio_net();
    f.cfg[0x0e] = 0x83;
    cr_assert_eq(probe(), PCI_ERR_HEADER_TYPE);
    virtio_net();
    f.cfg[0x0e] = 0x81; /* a multifunction bridge: two BARs, caps still walked */
    put16(PCI_STATUS, 0);
    cr_assert_eq(probe(), PCI_OK);
    cr_assert(dev.multifunction);
    cr_assert_eq(dev.bars[1].size, 0x1000);
    cr_assert_eq(dev.bars[4].kind, PCI_BAR_NONE, "a bridge has no BAR 4");
}

Test(pci, io_bar)
{
    virtio_net();
    put32(PCI_BAR0, 0xc041);
    f.bar_mask[0] = 0x0000ffe0; /* 32 bytes, upper mask bits left zero */
    cr_assert_eq(probe(), PCI_OK);
    cr_assert_eq(dev.bars[0].kind, PCI_BAR_IO);
    cr_assert_eq(dev.bars[0].base, 0xc040);
    cr_assert_eq(dev.bars[0].size, 32);
}

Test(pci, hostile_bars)
{
    virtio_net();
    put32(PCI_BAR0, 0x6); /* memory type 3 */
    f.bar_mask[0] = 0xfffff000;
    cr_assert_eq(probe(), PCI_ERR_BAR_TYPE);
    cr_assert_eq(dev.error_offset, PCI_BAR0);
    virtio_net();
    bar32(0, 0xfeb00000, 0x1000);
    f.bar_mask[0] = 0xfff0f000; /* a hole in the mask: not a power of two */
    cr_assert_eq(probe(), PCI_ERR_BAR_SIZE);
    virtio_net();
    bar32(0, 0xfeb00800, 0x1000); /* base inside its own size */
    cr_assert_eq(probe(), PCI_ERR_BAR_ALIGN);
    virtio_net();
    put32(PCI_BAR0 + 16, 0);
    f.bar_mask[4] = 0;
    put32(PCI_BAR0 + 20, 0x4); /* 64-bit BAR in slot 5 */
    f.bar_mask[5] = 0xfffff000;
    cr_assert_eq(probe(), PCI_ERR_BAR_64_LAST);
    virtio_net();
    bar64(4, 0, 0);
    f.bar_mask[4] = 0xfffffff0;
    f.bar_mask[5] = 0xffffffff; /* every address bit writable: 16 bytes */
    put16(PCI_STATUS, 0);
    cr_assert_eq(probe(), PCI_OK);
    cr_assert_eq(dev.bars[4].size, 16);
}

Test(pci, capability_loops_and_pointers)
{
    virtio_net();
    f.cfg[0xb0 + 1] = 0x84; /* the last capability points back to the second */
    cr_assert_eq(probe(), PCI_ERR_CAP_LOOP);
    virtio_net();
    f.cfg[0xb0 + 1] = 0xb0; /* points to itself */
    cr_assert_eq(probe(), PCI_ERR_CAP_LOOP);
    cr_assert_eq(dev.error_offset, 0xb0);
    virtio_net();
    f.cfg[PCI_CAP_PTR] = 0x20; /* into the header */
    cr_assert_eq(probe(), PCI_ERR_CAP_POINTER);
    virtio_net();
    f.cfg[PCI_CAP_PTR] = 0x9b; /* low bits are masked: still 0x98 */
    cr_assert_eq(probe(), PCI_OK);
    virtio_net();
    put16(PCI_STATUS, 0); /* no list: nothing is walked */
    cr_assert_eq(probe(), PCI_OK);
    cr_assert_eq(dev.cap_count, 0);
    cr_assert(!dev.virtio.modern);
}

Test(pci, capability_lengths_and_overlaps)
{
    virtio_net();
    f.cfg[0x84 + 2] = 200; /* a vendor capability running past byte 255 */
    cr_assert_eq(probe(), PCI_ERR_CAP_LENGTH);
    virtio_net();
    f.cfg[0x84 + 2] = 1;
    cr_assert_eq(probe(), PCI_ERR_CAP_LENGTH);
    virtio_net();
    f.cfg[0x84 + 2] = 0x30; /* the common capability now covers the ISR one */
    cr_assert_eq(probe(), PCI_ERR_CAP_OVERLAP);
    virtio_net();
    f.cfg[0x84 + 2] = 12; /* too short to be a virtio capability */
    cr_assert_eq(probe(), PCI_ERR_CAP_LENGTH);
    virtio_net();
    f.cfg[0x4c + 2] = 16; /* a notify capability without its multiplier */
    cr_assert_eq(probe(), PCI_ERR_CAP_LENGTH);
    virtio_net();
    f.cfg[0x98 + 1] = 0xf8; /* MSI-X at 0xf8 would need 12 bytes */
    f.cfg[0xf8] = PCI_CAP_MSIX;
    cr_assert_eq(probe(), PCI_ERR_CAP_LENGTH);
}

Test(pci, hostile_virtio_structures)
{
    virtio_net();
    put32(0x84 + 12, 0x4001); /* the common structure longer than BAR 4 */
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_RANGE);
    virtio_net();
    put32(0x70 + 8, 0xffffffff); /* offset + length wraps 32 bits */
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_RANGE);
    virtio_net();
    put32(0x84 + 12, 16); /* shorter than struct virtio_pci_common_cfg */
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_RANGE);
    virtio_net();
    f.cfg[0x84 + 4] = 0; /* BAR 0 is not implemented */
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_BAR);
    virtio_net();
    put32(0x4c + 16, 3);
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_NOTIFY);
    virtio_net();
    put32(0x4c + 8, 0x3001); /* notify structure must be 2-byte aligned */
    cr_assert_eq(probe(), PCI_ERR_VIRTIO_RANGE);
    virtio_net();
    f.cfg[0x84 + 4] = 7; /* a reserved BAR number: ignored, so no common cfg */
    cr_assert_eq(probe(), PCI_OK);
    cr_assert(!dev.virtio.modern);
    virtio_net();
    put16(0, 0x8086); /* the same capabilities on another vendor's device */
    cr_assert_eq(probe(), PCI_OK);
    cr_assert(!dev.virtio.modern);
}

Test(pci, hostile_msix)
{
    virtio_net();
    put16(0x98 + 2, 0x7ff); /* 2048 vectors: 32 KiB of table in a 4 KiB BAR */
    cr_assert_eq(probe(), PCI_ERR_MSIX_RANGE);
    virtio_net();
    put32(0x98 + 8, 0x000 | 1); /* PBA on top of the table */
    cr_assert_eq(probe(), PCI_ERR_MSIX_RANGE);
    virtio_net();
    put32(0x98 + 4, 0x000 | 6); /* BAR 6 does not exist */
    cr_assert_eq(probe(), PCI_ERR_MSIX_BAR);
    virtio_net();
    put32(0x98 + 4, 0x000 | 2); /* BAR 2 is not implemented */
    cr_assert_eq(probe(), PCI_ERR_MSIX_BAR);
}

Test(pci, parse_without_bars)
{
    virtio_net();
    uint8_t snap[PCI_CFG_SIZE];
    pci_snapshot(&io, snap);
    cr_assert_eq(pci_parse(snap, NULL, &dev), PCI_OK);
    cr_assert_eq(dev.cap_count, 6, "capabilities are still walked");
    cr_assert(!dev.msix.present && !dev.virtio.modern, "nothing in a BAR is trusted unchecked");
    cr_assert_eq(pci_parse(NULL, NULL, &dev), PCI_ERR_NULL);
}

Test(pci, every_status_has_a_message)
{
    for (int s = 0; s < PCI_ERR_COUNT_; s++)
        cr_assert_str_neq(pci_status_str((enum pci_status)s), "unknown status");
}

Test(pci, cardbus_header_has_no_bars_or_capabilities)
{
    virtio_net();
    f.cfg[0x0e] = 0x02;
    cr_assert_eq(probe(), PCI_OK);
    for (int i = 0; i < PCI_MAX_BARS; i++)
        cr_assert_eq(dev.bars[i].kind, PCI_BAR_NONE);
    cr_assert_eq(dev.cap_count, 0, "a CardBus bridge keeps its list elsewhere");
    cr_assert_eq(f.writes, 0, "nothing to size");
}

Test(pci, a_device_that_changes_between_reads_is_parsed_as_first_seen)
{
    virtio_net();
    uint8_t snap[PCI_CFG_SIZE];
    struct pci_bar_probe probes[PCI_MAX_BARS];
    pci_snapshot(&io, snap);
    pci_probe_bars(&io, snap, probes);
    /* The device now rewrites its capability pointer into the header. */
    f.cfg[PCI_CAP_PTR] = 0x10;
    cr_assert_eq(pci_parse(snap, probes, &dev), PCI_OK, "the snapshot is what counts");
    cr_assert(dev.virtio.modern);
}
