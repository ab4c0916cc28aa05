/*
 * PCI configuration space parser: header, BARs (sized), the capability
 * list, MSI-X, and the virtio 1.x PCI capabilities (virtio 1.2, 4.1.4).
 *
 * Pure, freestanding code. Configuration space is reached through
 * caller-supplied callbacks (port I/O, ECAM or, on the host, a fake
 * device), snapshotted once, and parsed from the snapshot: a device that
 * changes its answers between two reads cannot make the parser disagree
 * with itself. Everything a device reports is hostile input: a capability
 * list that loops, points into the header or overlaps itself, a BAR whose
 * size is not a power of two, a virtio structure that lies outside its BAR,
 * an MSI-X table larger than its BAR, all yield typed errors.
 */
#ifndef CAPOS_LIB_PCI_H
#define CAPOS_LIB_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_CFG_SIZE  256u /* the conventional space; we look no further */
#define PCI_MAX_BARS  6
#define PCI_MAX_CAPS  48 /* (256 - 64) / 4: one per dword after the header */
#define PCI_NO_VENDOR 0xffffu

#define PCI_VENDOR_VIRTIO 0x1af4u

/* Configuration space registers. */
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_BAR0             0x10
#define PCI_CAP_PTR          0x34
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_COMMAND_IO       (1u << 0)
#define PCI_COMMAND_MEMORY   (1u << 1)
#define PCI_COMMAND_MASTER   (1u << 2)
#define PCI_COMMAND_INTX_OFF (1u << 10)
#define PCI_STATUS_CAP_LIST  (1u << 4)

/* Capability ids. */
#define PCI_CAP_PM     0x01
#define PCI_CAP_MSI    0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_PCIE   0x10
#define PCI_CAP_MSIX   0x11

enum pci_status {
    PCI_OK = 0,
    PCI_ERR_NULL,          /* no callbacks, buffer or output */
    PCI_ERR_NO_DEVICE,     /* vendor id 0xffff: nothing answers there */
    PCI_ERR_HEADER_TYPE,   /* header layout other than 0, 1 or 2 */
    PCI_ERR_BAR_TYPE,      /* memory BAR of the reserved type 3 */
    PCI_ERR_BAR_64_LAST,   /* a 64-bit BAR in the last slot: no room for its upper half */
    PCI_ERR_BAR_SIZE,      /* size not a power of two */
    PCI_ERR_BAR_ALIGN,     /* base not a multiple of the size, or base + size wraps */
    PCI_ERR_CAP_POINTER,   /* a capability inside the 64-byte header */
    PCI_ERR_CAP_LOOP,      /* the list visits an offset twice */
    PCI_ERR_CAP_LENGTH,    /* a capability shorter than its type needs, or past 256 */
    PCI_ERR_CAP_OVERLAP,   /* two capabilities share bytes */
    PCI_ERR_MSIX_BAR,      /* MSI-X table/PBA in a reserved, missing or I/O BAR */
    PCI_ERR_MSIX_RANGE,    /* MSI-X table or PBA outside its BAR, or overlapping */
    PCI_ERR_VIRTIO_BAR,    /* virtio structure in a missing or I/O BAR */
    PCI_ERR_VIRTIO_RANGE,  /* virtio structure outside its BAR, too short or misaligned */
    PCI_ERR_VIRTIO_NOTIFY, /* notify_off_multiplier not 0 or an even power of 2 */
    PCI_ERR_COUNT_
};

/* Configuration space access; offsets are 4-byte aligned and below 256.
 * write32 is used only to size BARs. */
struct pci_cfg_io {
    uint32_t (*read32)(void *ctx, uint16_t off);
    void (*write32)(void *ctx, uint16_t off, uint32_t v);
    void *ctx;
};

enum pci_bar_kind {
    PCI_BAR_NONE, /* not implemented (or the upper half of a 64-bit BAR) */
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64,
};

struct pci_bar {
    enum pci_bar_kind kind;
    bool prefetchable;
    uint64_t base;
    uint64_t size;
};

/* What a BAR register read back: its value, and after writing all ones
 * (the size mask), for the low and (64-bit) high halves. */
struct pci_bar_probe {
    uint32_t value_lo, mask_lo, value_hi, mask_hi;
};

struct pci_cap {
    uint8_t id;
    uint8_t offset;
    uint8_t length; /* bytes we know it to occupy (2 for unknown types) */
};

struct pci_msix {
    bool present;
    uint8_t cap_offset;
    uint16_t table_size; /* entries, 1..2048 */
    uint8_t table_bar, pba_bar;
    uint32_t table_offset, pba_offset;
};

/* virtio_pci_cap cfg_type values. */
enum pci_virtio_cfg {
    PCI_VIRTIO_COMMON = 1,
    PCI_VIRTIO_NOTIFY = 2,
    PCI_VIRTIO_ISR = 3,
    PCI_VIRTIO_DEVICE = 4,
};

struct pci_virtio_region {
    bool present;
    uint8_t bar;
    uint32_t offset, length;
};

struct pci_virtio {
    /* common, notify and ISR are all present: a virtio 1.x modern device. */
    bool modern;
    struct pci_virtio_region region[5]; /* indexed by enum pci_virtio_cfg */
    uint32_t notify_off_multiplier;
    /* Later instances of a type, and types or BAR numbers we do not use. */
    uint32_t ignored;
};

struct pci_device {
    uint16_t vendor, device;
    uint8_t revision, prog_if, subclass, class_code;
    uint8_t header_type; /* layout, without the multifunction bit */
    bool multifunction;
    uint16_t subsystem_vendor, subsystem_id;
    uint8_t interrupt_line, interrupt_pin;
    uint16_t command, status;
    struct pci_bar bars[PCI_MAX_BARS];
    uint32_t cap_count;
    struct pci_cap caps[PCI_MAX_CAPS];
    struct pci_msix msix;
    struct pci_virtio virtio;
    /* On error: the configuration-space offset of what was wrong. */
    uint16_t error_offset;
};

/* Read the whole 256-byte configuration space once. */
void pci_snapshot(const struct pci_cfg_io *io, uint8_t cfg[PCI_CFG_SIZE]);

/*
 * Size the BARs of the header in cfg (snapshotted): memory and I/O decoding
 * is turned off in the command register while each BAR holds all ones, then
 * everything is written back as it was. probes[] gets what each BAR read.
 */
void pci_probe_bars(const struct pci_cfg_io *io, const uint8_t cfg[PCI_CFG_SIZE],
                    struct pci_bar_probe probes[PCI_MAX_BARS]);

/* Parse a snapshot plus its BAR probes (NULL: BARs are not looked at, and
 * nothing that lives in a BAR can be checked, so MSI-X and virtio are
 * not parsed). Pure. */
enum pci_status pci_parse(const uint8_t cfg[PCI_CFG_SIZE],
                          const struct pci_bar_probe probes[PCI_MAX_BARS], struct pci_device *out);

/* Snapshot, probe and parse the function behind io. */
enum pci_status pci_probe(const struct pci_cfg_io *io, struct pci_device *out);

const char *pci_status_str(enum pci_status s);

#endif
