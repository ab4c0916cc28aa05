/*
 * PCI configuration space parser (pci.h).
 *
 * Choices, and why:
 *  - Capability pointers have their low two bits masked, as the PCI spec
 *    tells software to; a pointer below 0x40 (into the header) ends the
 *    parse with an error rather than being skipped, because a device that
 *    gets this wrong cannot be trusted with the rest.
 *  - Loops are found with a bitmap of visited dword offsets; overlaps by
 *    comparing each capability's extent (its header, or its full length
 *    when the type's length is known) with every earlier one.
 *  - Virtio: the first instance of each structure type is used (virtio
 *    1.2, 4.1.4.1: the driver SHOULD use the first one it can); a
 *    capability naming a reserved BAR number is ignored as the spec
 *    requires, but one naming a real BAR is fully checked, and a bad one is
 *    an error, not skipped, since the device then lies about its layout.
 *  - A BAR whose base is not a multiple of its size is refused: the
 *    hardware cannot decode it, so firmware or the device is broken.
 */
#include "pci/pci.h"

#define VIRTIO_CAP_LEN        16u
#define VIRTIO_NOTIFY_CAP_LEN 20u
#define VIRTIO_COMMON_MIN     56u /* struct virtio_pci_common_cfg, virtio 1.0 */
#define MSIX_CAP_LEN          12u
#define MSIX_ENTRY_SIZE       16u

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void zero(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = 0;
}

static unsigned bar_count(uint8_t header_type)
{
    switch (header_type & 0x7f) {
    case 0:
        return 6;
    case 1:
        return 2; /* a PCI-to-PCI bridge */
    default:
        return 0; /* CardBus: no BARs we would use */
    }
}

void pci_snapshot(const struct pci_cfg_io *io, uint8_t cfg[PCI_CFG_SIZE])
{
    for (uint16_t off = 0; off < PCI_CFG_SIZE; off += 4) {
        uint32_t v = io->read32(io->ctx, off);
        for (int i = 0; i < 4; i++)
            cfg[off + i] = (uint8_t)(v >> (8 * i));
    }
}

void pci_probe_bars(const struct pci_cfg_io *io, const uint8_t cfg[PCI_CFG_SIZE],
                    struct pci_bar_probe probes[PCI_MAX_BARS])
{
    zero(probes, sizeof(*probes) * PCI_MAX_BARS);
    unsigned n = bar_count(cfg[0x0e]);
    if (n == 0)
        return;
    /* No decoding while a BAR holds all ones: it would claim the top of
     * the address space. The command register shares a dword with status,
     * whose bits are write-one-to-clear: write zeros there. */
    uint32_t cmd = ld16(cfg + PCI_COMMAND);
    io->write32(io->ctx, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned i = 0; i < n; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t v = ld32(cfg + off);
        io->write32(io->ctx, off, 0xffffffffu);
        probes[i].value_lo = v;
        probes[i].mask_lo = io->read32(io->ctx, off);
        io->write32(io->ctx, off, v);
        /* The upper half of a 64-bit memory BAR is the next register. */
        if ((v & 1) == 0 && ((v >> 1) & 3) == 2 && i + 1 < n) {
            uint16_t hoff = (uint16_t)(off + 4);
            uint32_t hv = ld32(cfg + hoff);
            io->write32(io->ctx, hoff, 0xffffffffu);
            probes[i].value_hi = hv;
            probes[i].mask_hi = io->read32(io->ctx, hoff);
            io->write32(io->ctx, hoff, hv);
            i++;
        }
    }
    io->write32(io->ctx, PCI_COMMAND, cmd);
}

static enum pci_status decode_bar(const struct pci_bar_probe *p, bool last, struct pci_bar *b,
                                  bool *skip_next)
{
    zero(b, sizeof(*b));
    *skip_next = false;
    if (p->value_lo & 1) {
        /* I/O space: 32 bits, of which x86 decodes 16; a device may leave
         * the upper half of the mask zero. */
        uint32_t mask = p->mask_lo & ~3u;
        if (mask == 0)
            return PCI_OK;
        if ((mask & 0xffff0000u) == 0)
            mask |= 0xffff0000u;
        b->kind = PCI_BAR_IO;
        b->base = p->value_lo & ~3u;
        b->size = (uint32_t)(~mask + 1);
    } else {
        unsigned type = (p->value_lo >> 1) & 3;
        b->prefetchable = (p->value_lo >> 3) & 1;
        uint64_t mask = p->mask_lo & ~0xfu, base = p->value_lo & ~0xfu;
        if (type == 3)
            return PCI_ERR_BAR_TYPE;
        if (type == 2) {
            if (last)
                return PCI_ERR_BAR_64_LAST;
            *skip_next = true;
            mask |= (uint64_t)p->mask_hi << 32;
            base |= (uint64_t)p->value_hi << 32;
        } else {
            mask |= 0xffffffff00000000ull; /* a 32-bit BAR decodes no higher */
        }
        if ((mask & 0xffffffffu) == 0 && (type != 2 || p->mask_hi == 0))
            return PCI_OK; /* not implemented */
        b->kind = type == 2 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
        b->base = base;
        b->size = ~mask + 1;
        if (b->size == 0) /* every address bit writable: not a real BAR */
            return PCI_ERR_BAR_SIZE;
    }
    if ((b->size & (b->size - 1)) != 0)
        return PCI_ERR_BAR_SIZE;
    if (b->base % b->size != 0 || b->base > UINT64_MAX - b->size)
        return PCI_ERR_BAR_ALIGN;
    return PCI_OK;
}

/* Bytes a capability occupies, when its type tells; at least its header. */
static uint8_t cap_length(const uint8_t *cfg, uint8_t off)
{
    uint8_t id = cfg[off];
    unsigned len = 2;
    switch (id) {
    case PCI_CAP_PM:
        len = 8;
        break;
    case PCI_CAP_MSI: {
        uint16_t ctl = ld16(cfg + off + 2);
        len = (ctl & (1u << 7)) ? 14 : 10; /* 64-bit address */
        if (ctl & (1u << 8))
            len += 10; /* per-vector masking: mask and pending bits */
        break;
    }
    case PCI_CAP_VENDOR:
        len = cfg[off + 2];
        break;
    case PCI_CAP_MSIX:
        len = MSIX_CAP_LEN;
        break;
    default:
        break;
    }
    return (uint8_t)(len > 255 ? 255 : len);
}

/* Is [off, off+len) inside the BAR? */
static bool in_bar(const struct pci_bar *b, uint64_t off, uint64_t len)
{
    return off <= b->size && len <= b->size - off;
}

static enum pci_status parse_msix(const uint8_t *cfg, uint8_t off, struct pci_device *d)
{
    if (d->msix.present)
        return PCI_OK; /* only one is defined; a second is ignored */
    struct pci_msix *m = &d->msix;
    uint16_t ctl = ld16(cfg + off + 2);
    uint32_t t = ld32(cfg + off + 4), p = ld32(cfg + off + 8);
    m->cap_offset = off;
    m->table_size = (uint16_t)((ctl & 0x7ff) + 1);
    m->table_bar = (uint8_t)(t & 7);
    m->table_offset = t & ~7u;
    m->pba_bar = (uint8_t)(p & 7);
    m->pba_offset = p & ~7u;
    if (m->table_bar >= PCI_MAX_BARS || m->pba_bar >= PCI_MAX_BARS)
        return PCI_ERR_MSIX_BAR;
    const struct pci_bar *tb = &d->bars[m->table_bar], *pb = &d->bars[m->pba_bar];
    if ((tb->kind != PCI_BAR_MEM32 && tb->kind != PCI_BAR_MEM64) ||
        (pb->kind != PCI_BAR_MEM32 && pb->kind != PCI_BAR_MEM64))
        return PCI_ERR_MSIX_BAR;
    uint64_t tlen = (uint64_t)m->table_size * MSIX_ENTRY_SIZE;
    uint64_t plen = ((uint64_t)m->table_size + 63) / 64 * 8;
    if (!in_bar(tb, m->table_offset, tlen) || !in_bar(pb, m->pba_offset, plen))
        return PCI_ERR_MSIX_RANGE;
    if (m->table_bar == m->pba_bar && m->table_offset < m->pba_offset + plen &&
        m->pba_offset < m->table_offset + tlen)
        return PCI_ERR_MSIX_RANGE;
    m->present = true;
    return PCI_OK;
}

static enum pci_status parse_virtio(const uint8_t *cfg, uint8_t off, uint8_t len,
                                    struct pci_device *d)
{
    if (len < VIRTIO_CAP_LEN)
        return PCI_ERR_CAP_LENGTH;
    uint8_t type = cfg[off + 3], bar = cfg[off + 4];
    uint32_t roff = ld32(cfg + off + 8), rlen = ld32(cfg + off + 12);
    struct pci_virtio *v = &d->virtio;
    if (type < PCI_VIRTIO_COMMON || type > PCI_VIRTIO_DEVICE || bar >= PCI_MAX_BARS ||
        v->region[type].present) {
        v->ignored++;
        return PCI_OK;
    }
    const struct pci_bar *b = &d->bars[bar];
    if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64)
        return PCI_ERR_VIRTIO_BAR;
    if (!in_bar(b, roff, rlen))
        return PCI_ERR_VIRTIO_RANGE;
    /* Minimum sizes and alignments (virtio 1.2, 4.1.4.3-4.1.4.6). */
    switch (type) {
    case PCI_VIRTIO_COMMON:
        if (rlen < VIRTIO_COMMON_MIN || roff % 4 != 0)
            return PCI_ERR_VIRTIO_RANGE;
        break;
    case PCI_VIRTIO_NOTIFY: {
        if (len < VIRTIO_NOTIFY_CAP_LEN)
            return PCI_ERR_CAP_LENGTH;
        uint32_t mul = ld32(cfg + off + 16);
        if (mul != 0 && (mul % 2 != 0 || (mul & (mul - 1)) != 0))
            return PCI_ERR_VIRTIO_NOTIFY;
        if (rlen < 2 || roff % 2 != 0)
            return PCI_ERR_VIRTIO_RANGE;
        v->notify_off_multiplier = mul;
        break;
    }
    case PCI_VIRTIO_ISR:
        if (rlen < 1)
            return PCI_ERR_VIRTIO_RANGE;
        break;
    default: /* device-specific: its size is the driver's business */
        if (roff % 4 != 0)
            return PCI_ERR_VIRTIO_RANGE;
        break;
    }
    v->region[type] = (struct pci_virtio_region){true, bar, roff, rlen};
    return PCI_OK;
}

static enum pci_status walk_caps(const uint8_t *cfg, bool bars_known, struct pci_device *d)
{
    uint64_t visited = 0; /* one bit per dword offset */
    uint8_t off = cfg[PCI_CAP_PTR] & 0xfc;
    while (off != 0) {
        d->error_offset = off;
        if (off < 0x40)
            return PCI_ERR_CAP_POINTER;
        if (visited & (1ull << (off / 4)))
            return PCI_ERR_CAP_LOOP;
        visited |= 1ull << (off / 4);
        uint8_t len = cap_length(cfg, off);
        if (len < 2 || (unsigned)off + len > PCI_CFG_SIZE ||
            (cfg[off] == PCI_CAP_MSIX && len < MSIX_CAP_LEN))
            return PCI_ERR_CAP_LENGTH;
        for (uint32_t i = 0; i < d->cap_count; i++) {
            const struct pci_cap *c = &d->caps[i];
            if (off < c->offset + c->length && c->offset < off + len)
                return PCI_ERR_CAP_OVERLAP;
        }
        /* At most one capability per visited dword, so this always fits. */
        d->caps[d->cap_count++] = (struct pci_cap){cfg[off], off, len};
        enum pci_status st = PCI_OK;
        if (bars_known && cfg[off] == PCI_CAP_MSIX)
            st = parse_msix(cfg, off, d);
        else if (bars_known && cfg[off] == PCI_CAP_VENDOR && d->vendor == PCI_VENDOR_VIRTIO)
            st = parse_virtio(cfg, off, len, d);
        if (st != PCI_OK)
            return st;
        off = cfg[off + 1] & 0xfc;
    }
    return PCI_OK;
}

enum pci_status pci_parse(const uint8_t cfg[PCI_CFG_SIZE],
                          const struct pci_bar_probe probes[PCI_MAX_BARS], struct pci_device *d)
{
    if (!cfg || !d)
        return PCI_ERR_NULL;
    zero(d, sizeof(*d));
    d->vendor = ld16(cfg);
    if (d->vendor == PCI_NO_VENDOR)
        return PCI_ERR_NO_DEVICE;
    d->device = ld16(cfg + 2);
    d->command = ld16(cfg + PCI_COMMAND);
    d->status = ld16(cfg + PCI_STATUS);
    d->revision = cfg[8];
    d->prog_if = cfg[9];
    d->subclass = cfg[10];
    d->class_code = cfg[11];
    d->header_type = cfg[0x0e] & 0x7f;
    d->multifunction = cfg[0x0e] & 0x80;
    d->error_offset = 0x0e;
    if (d->header_type > 2)
        return PCI_ERR_HEADER_TYPE;
    if (d->header_type == 0) {
        d->subsystem_vendor = ld16(cfg + 0x2c);
        d->subsystem_id = ld16(cfg + 0x2e);
    }
    d->interrupt_line = cfg[PCI_INTERRUPT_LINE];
    d->interrupt_pin = cfg[PCI_INTERRUPT_LINE + 1];

    unsigned n = bar_count(cfg[0x0e]);
    for (unsigned i = 0; probes && i < n; i++) {
        bool skip;
        d->error_offset = (uint16_t)(PCI_BAR0 + 4 * i);
        enum pci_status st = decode_bar(&probes[i], i + 1 == n, &d->bars[i], &skip);
        if (st != PCI_OK)
            return st;
        if (skip)
            i++; /* its upper half: left PCI_BAR_NONE */
    }
    /* CardBus bridges keep their capability pointer elsewhere. */
    if (d->header_type != 2 && (d->status & PCI_STATUS_CAP_LIST)) {
        enum pci_status st = walk_caps(cfg, probes != 0, d);
        if (st != PCI_OK)
            return st;
    }
    struct pci_virtio *v = &d->virtio;
    v->modern = v->region[PCI_VIRTIO_COMMON].present && v->region[PCI_VIRTIO_NOTIFY].present &&
                v->region[PCI_VIRTIO_ISR].present;
    d->error_offset = 0;
    return PCI_OK;
}

enum pci_status pci_probe(const struct pci_cfg_io *io, struct pci_device *out)
{
    if (!io || !io->read32 || !io->write32 || !out)
        return PCI_ERR_NULL;
    uint8_t cfg[PCI_CFG_SIZE];
    struct pci_bar_probe probes[PCI_MAX_BARS];
    pci_snapshot(io, cfg);
    if (ld16(cfg) == PCI_NO_VENDOR)
        return pci_parse(cfg, 0, out);
    pci_probe_bars(io, cfg, probes);
    return pci_parse(cfg, probes, out);
}

static const char *const status_names[PCI_ERR_COUNT_] = {
    [PCI_OK] = "ok",
    [PCI_ERR_NULL] = "no configuration access, snapshot or output given",
    [PCI_ERR_NO_DEVICE] = "no device (vendor id 0xffff)",
    [PCI_ERR_HEADER_TYPE] = "header type other than 0, 1 or 2",
    [PCI_ERR_BAR_TYPE] = "memory BAR of reserved type 3",
    [PCI_ERR_BAR_64_LAST] = "64-bit BAR in the last slot, with no room for its upper half",
    [PCI_ERR_BAR_SIZE] = "BAR size is not a power of two",
    [PCI_ERR_BAR_ALIGN] = "BAR base is not a multiple of its size, or base + size wraps",
    [PCI_ERR_CAP_POINTER] = "capability pointer into the 64-byte header",
    [PCI_ERR_CAP_LOOP] = "capability list loops",
    [PCI_ERR_CAP_LENGTH] = "capability shorter than its type requires or past byte 255",
    [PCI_ERR_CAP_OVERLAP] = "two capabilities overlap",
    [PCI_ERR_MSIX_BAR] = "MSI-X table or PBA in a reserved, missing or I/O BAR",
    [PCI_ERR_MSIX_RANGE] = "MSI-X table or PBA outside its BAR, or they overlap",
    [PCI_ERR_VIRTIO_BAR] = "virtio structure in a missing or I/O BAR",
    [PCI_ERR_VIRTIO_RANGE] = "virtio structure outside its BAR, too short, or misaligned",
    [PCI_ERR_VIRTIO_NOTIFY] = "virtio notify_off_multiplier is not 0 or an even power of two",
};

const char *pci_status_str(enum pci_status s)
{
    if ((unsigned)s < PCI_ERR_COUNT_ && status_names[s])
        return status_names[s];
    return "unknown status";
}
