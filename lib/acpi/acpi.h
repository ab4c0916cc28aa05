/*
 * ACPI table parser for CPU, interrupt-controller and PCI discovery
 * (ACPI 6.5: RSDP 5.2.5, RSDT/XSDT 5.2.7-8, MADT 5.2.12, and the PCI
 * Firmware spec's MCFG).
 *
 * Pure, freestanding code: firmware tables are hostile input. Tables are
 * reached through a caller-supplied "read physical memory" callback and
 * copied into a caller-supplied scratch buffer before they are looked at,
 * so the parser runs unchanged on the host, never reads a byte twice from
 * memory the firmware (or a device) could change, and never reads past what
 * a length field it has already checked allows.
 *
 * Limits are fixed and documented here; going past one is either a typed
 * error or, for CPUs, a counted "ignored" (a machine with more CPUs than we
 * schedule on still boots, on the first ACPI_MAX_CPUS).
 */
#ifndef CAPOS_LIB_ACPI_H
#define CAPOS_LIB_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS         64  /* CPUs recorded; more are counted in cpus_ignored */
#define ACPI_MAX_IOAPICS      8   /* more is an error (no PC has that many) */
#define ACPI_MAX_OVERRIDES    16  /* one per ISA IRQ */
#define ACPI_MAX_NMIS         16  /* NMI sources and local APIC NMI entries */
#define ACPI_MAX_ECAM         8   /* MCFG allocations (PCI segment groups) */
#define ACPI_MAX_ROOT_ENTRIES 128 /* tables listed by the RSDT/XSDT */
/* The largest table read: MADTs are a few KiB even with hundreds of CPUs. */
#define ACPI_MAX_TABLE_LEN (256u * 1024)

#define ACPI_SDT_HEADER_LEN 36u
#define ACPI_RSDP_V1_LEN    20u
#define ACPI_RSDP_V2_LEN    36u

enum acpi_status {
    ACPI_OK = 0,
    ACPI_ERR_NULL,               /* no buffer, callback or output */
    ACPI_ERR_RSDP_SHORT,         /* fewer than 20 bytes (36 for revision >= 2) */
    ACPI_ERR_RSDP_SIGNATURE,     /* not "RSD PTR " */
    ACPI_ERR_RSDP_CHECKSUM,      /* the first 20 bytes do not sum to 0 */
    ACPI_ERR_RSDP_LENGTH,        /* v2 length < 36 or beyond the bytes given */
    ACPI_ERR_RSDP_XCHECKSUM,     /* v2 extended checksum over `length` bytes */
    ACPI_ERR_NO_ROOT,            /* neither an RSDT nor an XSDT address */
    ACPI_ERR_READ,               /* the callback could not read a table */
    ACPI_ERR_TABLE_LENGTH,       /* a table's length < its fixed part or > the limit */
    ACPI_ERR_TABLE_TOO_LARGE,    /* a table is longer than the scratch buffer */
    ACPI_ERR_TABLE_SIGNATURE,    /* the root table is not "RSDT"/"XSDT" */
    ACPI_ERR_TABLE_CHECKSUM,     /* a table's bytes do not sum to 0 */
    ACPI_ERR_ROOT_ENTRIES,       /* root length not header + whole entries, or too many */
    ACPI_ERR_DUPLICATE_TABLE,    /* two MADTs or two MCFGs */
    ACPI_ERR_NO_MADT,            /* no "APIC" table */
    ACPI_ERR_MADT_ENTRY_LENGTH,  /* an entry's length < 2 or < what its type needs */
    ACPI_ERR_MADT_ENTRY_OVERRUN, /* an entry runs past the end of the table */
    ACPI_ERR_APIC_ID,            /* APIC id 0xff (LAPIC) / 0xffffffff (x2APIC) */
    ACPI_ERR_DUPLICATE_APIC_ID,  /* two enabled or online-capable CPUs share an id */
    ACPI_ERR_NO_CPU,             /* no enabled CPU at all */
    ACPI_ERR_TOO_MANY_IOAPICS,
    ACPI_ERR_IOAPIC, /* address 0 or unaligned, duplicate id, overlapping GSIs */
    ACPI_ERR_TOO_MANY_OVERRIDES,
    ACPI_ERR_OVERRIDE, /* bus not ISA, IRQ > 15, reserved flags, duplicate IRQ */
    ACPI_ERR_TOO_MANY_NMIS,
    ACPI_ERR_NMI,           /* LINT# not 0 or 1, or reserved flags */
    ACPI_ERR_LAPIC_ADDRESS, /* address 0, unaligned, or two overrides */
    ACPI_ERR_MCFG_ENTRIES,  /* length not header + whole 16-byte entries */
    ACPI_ERR_MCFG_TOO_MANY,
    ACPI_ERR_MCFG_RANGE, /* end bus < start bus, base not 1 MiB aligned, or wraps */
    ACPI_ERR_COUNT_
};

/* Reads len bytes of physical memory at phys into buf; false if the range
 * is not readable (not mapped, above what the caller can reach). */
typedef bool (*acpi_read_fn)(void *ctx, uint64_t phys, void *buf, size_t len);

struct acpi_rsdp {
    uint8_t revision;
    char oem_id[7]; /* NUL-terminated copy */
    uint32_t rsdt_address;
    uint64_t xsdt_address; /* 0 before revision 2 */
};

#define ACPI_CPU_ENABLED        (1u << 0)
#define ACPI_CPU_ONLINE_CAPABLE (1u << 1)

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;   /* ACPI processor UID */
    uint32_t flags; /* ACPI_CPU_*; every recorded CPU has one of the two */
    bool x2apic;    /* from an x2APIC entry */
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

struct acpi_override {
    uint8_t source_irq; /* ISA IRQ 0..15 */
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3 */
};

enum acpi_nmi_kind {
    ACPI_NMI_SOURCE, /* an IO APIC input wired to NMI (gsi) */
    ACPI_NMI_LAPIC,  /* a local APIC LINT pin wired to NMI (uid, lint) */
};

#define ACPI_UID_ALL_CPUS 0xffffffffu

struct acpi_nmi {
    enum acpi_nmi_kind kind;
    uint16_t flags;
    uint32_t gsi; /* ACPI_NMI_SOURCE */
    uint32_t uid; /* ACPI_NMI_LAPIC: ACPI_UID_ALL_CPUS means every CPU */
    uint8_t lint; /* ACPI_NMI_LAPIC: 0 or 1 */
};

struct acpi_madt {
    uint64_t lapic_address; /* after any address override */
    bool lapic_override;
    bool pcat_compat;       /* dual 8259s present (to be masked) */
    uint32_t cpu_count;     /* recorded in cpus[], enabled or online-capable */
    uint32_t cpus_enabled;  /* of those, enabled now */
    uint32_t cpus_ignored;  /* usable entries beyond ACPI_MAX_CPUS */
    uint32_t cpus_disabled; /* entries neither enabled nor online-capable */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    uint32_t ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    uint32_t override_count;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    uint32_t nmi_count;
    struct acpi_nmi nmis[ACPI_MAX_NMIS];
    uint32_t unknown_entries; /* entry types we skip (GIC, wakeup, ...) */
    /* On error: byte offset of the offending entry in the table. */
    uint32_t error_offset;
};

struct acpi_ecam {
    uint64_t base; /* configuration space of bus 0 of the segment */
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

struct acpi_mcfg {
    uint32_t count;
    struct acpi_ecam ecam[ACPI_MAX_ECAM];
};

struct acpi_info {
    struct acpi_rsdp rsdp;
    bool xsdt;            /* the root table used */
    uint32_t table_count; /* entries in the root table */
    struct acpi_madt madt;
    bool has_mcfg;
    struct acpi_mcfg mcfg;
    /* On error: the signature of the table being parsed ("" for the RSDP). */
    char error_table[5];
};

/* Validate an RSDP (the bytes from the Multiboot2 ACPI tag). */
enum acpi_status acpi_parse_rsdp(const void *buf, size_t len, struct acpi_rsdp *out);

/* Check a whole table: length field within [ACPI_SDT_HEADER_LEN, len] and
 * checksum. The signature is not checked. *table_len gets the length. */
enum acpi_status acpi_check_table(const void *buf, size_t len, uint32_t *table_len);

/* Parse a MADT's body (buf holds the whole table, len its checked length);
 * the checksum is not checked here. */
enum acpi_status acpi_parse_madt(const void *buf, size_t len, struct acpi_madt *out);

/* Parse an MCFG (whole table, checked length); no checksum check. */
enum acpi_status acpi_parse_mcfg(const void *buf, size_t len, struct acpi_mcfg *out);

/*
 * From the RSDP bytes, walk the root table and parse the MADT (required)
 * and MCFG (optional) read through `read`. scratch (scratch_len bytes)
 * holds one table at a time; tables longer than it are refused.
 */
enum acpi_status acpi_discover(const void *rsdp, size_t rsdp_len, acpi_read_fn read, void *ctx,
                               void *scratch, size_t scratch_len, struct acpi_info *out);

/* What went wrong, and what was expected ("MADT entry shorter than its
 * type requires"). */
const char *acpi_status_str(enum acpi_status s);

#endif
