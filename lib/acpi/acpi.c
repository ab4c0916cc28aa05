/*
 * ACPI table parser (acpi.h).
 *
 * Every multi-byte field is assembled byte by byte (ld16/ld32/ld64) from an
 * offset already checked against a length that has itself been checked, so
 * there is no out-of-bounds or unaligned read whatever the firmware wrote.
 *
 * Choices the specification leaves open, and why:
 *  - The XSDT is used when the RSDP is revision 2 or later and names one;
 *    otherwise the RSDT. A firmware that lists both means the same tables.
 *  - Two MADTs or two MCFGs are an error rather than "first wins": which
 *    one the OS is meant to use is not defined, and guessing could start
 *    CPUs that do not exist.
 *  - A CPU entry counts if it is enabled or online-capable (ACPI 6.3+:
 *    it may be brought up later); entries with neither flag are counted in
 *    cpus_disabled and otherwise ignored, including their APIC ids (firmware
 *    often lists placeholder entries with id 0 or 0xff).
 *  - Usable CPUs beyond ACPI_MAX_CPUS are counted, not stored: the machine
 *    still boots, on fewer CPUs, and the log says how many were left out.
 *  - Unknown MADT entry types are skipped (counted) since newer ACPI
 *    versions add types, but every entry, known or not, must have a length
 *    of at least 2 that stays inside the table: a zero length would loop
 *    forever, an overrun would read another table's bytes.
 */
#include "acpi/acpi.h"

#define MADT_FIXED_LEN 44u /* header, local APIC address, flags */
#define MCFG_FIXED_LEN 44u /* header, 8 reserved bytes */
#define MCFG_ENTRY_LEN 16u

/* MADT entry types (ACPI 6.5, table 5.21) and their minimum lengths. */
#define MADT_LAPIC         0
#define MADT_IOAPIC        1
#define MADT_OVERRIDE      2
#define MADT_NMI_SOURCE    3
#define MADT_LAPIC_NMI     4
#define MADT_LAPIC_ADDRESS 5
#define MADT_X2APIC        9
#define MADT_X2APIC_NMI    10

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static bool sig_is(const uint8_t *p, const char *sig)
{
    for (int i = 0; i < 4; i++)
        if (p[i] != (uint8_t)sig[i])
            return false;
    return true;
}

static void zero(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = 0;
}

enum acpi_status acpi_parse_rsdp(const void *buf, size_t len, struct acpi_rsdp *out)
{
    if (!buf || !out)
        return ACPI_ERR_NULL;
    zero(out, sizeof(*out));
    const uint8_t *p = buf;
    if (len < ACPI_RSDP_V1_LEN)
        return ACPI_ERR_RSDP_SHORT;
    static const char sig[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
    for (int i = 0; i < 8; i++)
        if (p[i] != (uint8_t)sig[i])
            return ACPI_ERR_RSDP_SIGNATURE;
    if (sum(p, ACPI_RSDP_V1_LEN) != 0)
        return ACPI_ERR_RSDP_CHECKSUM;
    out->revision = p[15];
    for (int i = 0; i < 6; i++)
        out->oem_id[i] = (char)(p[9 + i] >= 0x20 && p[9 + i] < 0x7f ? p[9 + i] : '?');
    out->oem_id[6] = 0;
    out->rsdt_address = ld32(p + 16);
    /* Revision 0 is ACPI 1.0 (20 bytes); 2 and later have the extended
     * part. Revision 1 was never assigned; treat it like 0. */
    if (out->revision >= 2) {
        if (len < ACPI_RSDP_V2_LEN)
            return ACPI_ERR_RSDP_SHORT;
        uint32_t xlen = ld32(p + 20);
        if (xlen < ACPI_RSDP_V2_LEN || xlen > len)
            return ACPI_ERR_RSDP_LENGTH;
        if (sum(p, xlen) != 0)
            return ACPI_ERR_RSDP_XCHECKSUM;
        out->xsdt_address = ld64(p + 24);
    }
    if (out->rsdt_address == 0 && out->xsdt_address == 0)
        return ACPI_ERR_NO_ROOT;
    return ACPI_OK;
}

enum acpi_status acpi_check_table(const void *buf, size_t len, uint32_t *table_len)
{
    if (!buf)
        return ACPI_ERR_NULL;
    const uint8_t *p = buf;
    if (len < ACPI_SDT_HEADER_LEN)
        return ACPI_ERR_TABLE_LENGTH;
    uint32_t tlen = ld32(p + 4);
    if (tlen < ACPI_SDT_HEADER_LEN || tlen > len || tlen > ACPI_MAX_TABLE_LEN)
        return ACPI_ERR_TABLE_LENGTH;
    if (sum(p, tlen) != 0)
        return ACPI_ERR_TABLE_CHECKSUM;
    if (table_len)
        *table_len = tlen;
    return ACPI_OK;
}

/* ---- MADT ---- */

static enum acpi_status add_cpu(struct acpi_madt *m, uint32_t apic_id, uint32_t uid, uint32_t flags,
                                bool x2apic)
{
    flags &= ACPI_CPU_ENABLED | ACPI_CPU_ONLINE_CAPABLE;
    if (flags == 0) {
        m->cpus_disabled++;
        return ACPI_OK;
    }
    if ((!x2apic && apic_id == 0xff) || apic_id == 0xffffffffu)
        return ACPI_ERR_APIC_ID;
    for (uint32_t i = 0; i < m->cpu_count; i++)
        if (m->cpus[i].apic_id == apic_id)
            return ACPI_ERR_DUPLICATE_APIC_ID;
    if (m->cpu_count == ACPI_MAX_CPUS) {
        m->cpus_ignored++;
        return ACPI_OK;
    }
    struct acpi_cpu *c = &m->cpus[m->cpu_count++];
    c->apic_id = apic_id;
    c->uid = uid;
    c->flags = flags;
    c->x2apic = x2apic;
    if (flags & ACPI_CPU_ENABLED)
        m->cpus_enabled++;
    return ACPI_OK;
}

static enum acpi_status add_ioapic(struct acpi_madt *m, const uint8_t *e)
{
    uint8_t id = e[2];
    uint32_t addr = ld32(e + 4), gsi = ld32(e + 8);
    /* The registers are two 32-bit windows at +0 and +0x10. */
    if (addr == 0 || addr % 16 != 0)
        return ACPI_ERR_IOAPIC;
    for (uint32_t i = 0; i < m->ioapic_count; i++)
        if (m->ioapics[i].id == id || m->ioapics[i].address == addr ||
            m->ioapics[i].gsi_base == gsi)
            return ACPI_ERR_IOAPIC;
    if (m->ioapic_count == ACPI_MAX_IOAPICS)
        return ACPI_ERR_TOO_MANY_IOAPICS;
    m->ioapics[m->ioapic_count++] = (struct acpi_ioapic){id, addr, gsi};
    return ACPI_OK;
}

/* MPS INTI flags: polarity 2 and trigger mode 2 are reserved, as are bits
 * 4 and up. */
static bool inti_flags_ok(uint16_t f)
{
    return (f & 3) != 2 && ((f >> 2) & 3) != 2 && (f >> 4) == 0;
}

static enum acpi_status add_override(struct acpi_madt *m, const uint8_t *e)
{
    uint8_t bus = e[2], irq = e[3];
    uint32_t gsi = ld32(e + 4);
    uint16_t flags = ld16(e + 8);
    if (bus != 0 || irq > 15 || !inti_flags_ok(flags))
        return ACPI_ERR_OVERRIDE;
    for (uint32_t i = 0; i < m->override_count; i++)
        if (m->overrides[i].source_irq == irq)
            return ACPI_ERR_OVERRIDE;
    if (m->override_count == ACPI_MAX_OVERRIDES)
        return ACPI_ERR_TOO_MANY_OVERRIDES;
    m->overrides[m->override_count++] = (struct acpi_override){irq, gsi, flags};
    return ACPI_OK;
}

static enum acpi_status add_nmi(struct acpi_madt *m, struct acpi_nmi n)
{
    if (!inti_flags_ok(n.flags) || (n.kind == ACPI_NMI_LAPIC && n.lint > 1))
        return ACPI_ERR_NMI;
    if (m->nmi_count == ACPI_MAX_NMIS)
        return ACPI_ERR_TOO_MANY_NMIS;
    m->nmis[m->nmi_count++] = n;
    return ACPI_OK;
}

static uint8_t madt_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC:
        return 8;
    case MADT_IOAPIC:
        return 12;
    case MADT_OVERRIDE:
        return 10;
    case MADT_NMI_SOURCE:
        return 8;
    case MADT_LAPIC_NMI:
        return 6;
    case MADT_LAPIC_ADDRESS:
        return 12;
    case MADT_X2APIC:
        return 16;
    case MADT_X2APIC_NMI:
        return 12;
    default:
        return 2;
    }
}

static enum acpi_status madt_entry(struct acpi_madt *m, const uint8_t *e)
{
    switch (e[0]) {
    case MADT_LAPIC:
        return add_cpu(m, e[3], e[2], ld32(e + 4), false);
    case MADT_X2APIC:
        return add_cpu(m, ld32(e + 4), ld32(e + 12), ld32(e + 8), true);
    case MADT_IOAPIC:
        return add_ioapic(m, e);
    case MADT_OVERRIDE:
        return add_override(m, e);
    case MADT_NMI_SOURCE:
        return add_nmi(m, (struct acpi_nmi){
                              .kind = ACPI_NMI_SOURCE, .flags = ld16(e + 2), .gsi = ld32(e + 4)});
    case MADT_LAPIC_NMI:
        return add_nmi(m, (struct acpi_nmi){.kind = ACPI_NMI_LAPIC,
                                            .flags = ld16(e + 3),
                                            .uid = e[2] == 0xff ? ACPI_UID_ALL_CPUS : e[2],
                                            .lint = e[5]});
    case MADT_X2APIC_NMI:
        return add_nmi(
            m, (struct acpi_nmi){
                   .kind = ACPI_NMI_LAPIC, .flags = ld16(e + 2), .uid = ld32(e + 4), .lint = e[8]});
    case MADT_LAPIC_ADDRESS: {
        uint64_t a = ld64(e + 4);
        if (m->lapic_override || a == 0 || a % 4096 != 0)
            return ACPI_ERR_LAPIC_ADDRESS;
        m->lapic_override = true;
        m->lapic_address = a;
        return ACPI_OK;
    }
    default:
        m->unknown_entries++;
        return ACPI_OK;
    }
}

enum acpi_status acpi_parse_madt(const void *buf, size_t len, struct acpi_madt *out)
{
    if (!buf || !out)
        return ACPI_ERR_NULL;
    zero(out, sizeof(*out));
    const uint8_t *p = buf;
    if (len < MADT_FIXED_LEN)
        return ACPI_ERR_TABLE_LENGTH;
    uint32_t lapic32 = ld32(p + 36);
    out->pcat_compat = ld32(p + 40) & 1;
    /* len - off >= 2 before each entry; off only grows by a checked
     * length, so it never passes len. */
    for (size_t off = MADT_FIXED_LEN; off < len;) {
        out->error_offset = (uint32_t)off;
        if (len - off < 2)
            return ACPI_ERR_MADT_ENTRY_OVERRUN;
        const uint8_t *e = p + off;
        uint8_t elen = e[1];
        if (elen < madt_min_len(e[0]))
            return ACPI_ERR_MADT_ENTRY_LENGTH;
        if (elen > len - off)
            return ACPI_ERR_MADT_ENTRY_OVERRUN;
        enum acpi_status st = madt_entry(out, e);
        if (st != ACPI_OK)
            return st;
        off += elen;
    }
    out->error_offset = 0;
    if (!out->lapic_override) {
        if (lapic32 == 0 || lapic32 % 4096 != 0)
            return ACPI_ERR_LAPIC_ADDRESS;
        out->lapic_address = lapic32;
    }
    if (out->cpus_enabled == 0)
        return ACPI_ERR_NO_CPU;
    return ACPI_OK;
}

/* ---- MCFG ---- */

enum acpi_status acpi_parse_mcfg(const void *buf, size_t len, struct acpi_mcfg *out)
{
    if (!buf || !out)
        return ACPI_ERR_NULL;
    zero(out, sizeof(*out));
    const uint8_t *p = buf;
    if (len < MCFG_FIXED_LEN)
        return ACPI_ERR_TABLE_LENGTH;
    if ((len - MCFG_FIXED_LEN) % MCFG_ENTRY_LEN != 0)
        return ACPI_ERR_MCFG_ENTRIES;
    size_t n = (len - MCFG_FIXED_LEN) / MCFG_ENTRY_LEN;
    if (n > ACPI_MAX_ECAM)
        return ACPI_ERR_MCFG_TOO_MANY;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = p + MCFG_FIXED_LEN + i * MCFG_ENTRY_LEN;
        struct acpi_ecam c = {ld64(e), ld16(e + 8), e[10], e[11]};
        /* Bus b's space is at base + (b << 20): the base must be 1 MiB
         * aligned and the last bus's megabyte must not wrap. */
        uint64_t end_off = ((uint64_t)c.bus_end + 1) << 20;
        if (c.bus_end < c.bus_start || c.base % (1u << 20) != 0 || c.base == 0 ||
            c.base > UINT64_MAX - end_off)
            return ACPI_ERR_MCFG_RANGE;
        out->ecam[out->count++] = c;
    }
    return ACPI_OK;
}

/* ---- Discovery ---- */

/* Read the table at phys into scratch and check its length and checksum. */
static enum acpi_status read_table(acpi_read_fn read, void *ctx, uint64_t phys, uint8_t *scratch,
                                   size_t scratch_len, uint32_t *len_out)
{
    if (!read(ctx, phys, scratch, ACPI_SDT_HEADER_LEN))
        return ACPI_ERR_READ;
    uint32_t len = ld32(scratch + 4);
    if (len < ACPI_SDT_HEADER_LEN || len > ACPI_MAX_TABLE_LEN)
        return ACPI_ERR_TABLE_LENGTH;
    if (len > scratch_len)
        return ACPI_ERR_TABLE_TOO_LARGE;
    /* Read the whole table again, header included, so that the checksum
     * covers exactly the bytes parsed. */
    if (!read(ctx, phys, scratch, len))
        return ACPI_ERR_READ;
    return acpi_check_table(scratch, len, len_out);
}

static void set_error_table(struct acpi_info *out, const char *sig)
{
    for (int i = 0; i < 4; i++)
        out->error_table[i] = sig[i];
    out->error_table[4] = 0;
}

enum acpi_status acpi_discover(const void *rsdp, size_t rsdp_len, acpi_read_fn read, void *ctx,
                               void *scratch, size_t scratch_len, struct acpi_info *out)
{
    if (!out)
        return ACPI_ERR_NULL;
    zero(out, sizeof(*out));
    if (!rsdp || !read || !scratch)
        return ACPI_ERR_NULL;
    enum acpi_status st = acpi_parse_rsdp(rsdp, rsdp_len, &out->rsdp);
    if (st != ACPI_OK)
        return st;

    out->xsdt = out->rsdp.xsdt_address != 0;
    set_error_table(out, out->xsdt ? "XSDT" : "RSDT");
    uint64_t root = out->xsdt ? out->rsdp.xsdt_address : out->rsdp.rsdt_address;
    uint8_t *s = scratch;
    uint32_t len;
    if (scratch_len < ACPI_SDT_HEADER_LEN)
        return ACPI_ERR_TABLE_TOO_LARGE;
    st = read_table(read, ctx, root, s, scratch_len, &len);
    if (st != ACPI_OK)
        return st;
    if (!sig_is(s, out->xsdt ? "XSDT" : "RSDT"))
        return ACPI_ERR_TABLE_SIGNATURE;
    size_t esize = out->xsdt ? 8 : 4, body = len - ACPI_SDT_HEADER_LEN;
    if (body % esize != 0 || body / esize > ACPI_MAX_ROOT_ENTRIES)
        return ACPI_ERR_ROOT_ENTRIES;
    uint32_t n = (uint32_t)(body / esize);
    /* The scratch buffer is reused for each table: keep the addresses. */
    uint64_t tables[ACPI_MAX_ROOT_ENTRIES];
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = s + ACPI_SDT_HEADER_LEN + i * esize;
        tables[i] = out->xsdt ? ld64(e) : ld32(e);
    }
    out->table_count = n;

    bool have_madt = false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t hdr[ACPI_SDT_HEADER_LEN];
        set_error_table(out, "????");
        if (!read(ctx, tables[i], hdr, sizeof(hdr)))
            return ACPI_ERR_READ;
        bool madt = sig_is(hdr, "APIC"), mcfg = sig_is(hdr, "MCFG");
        if (!madt && !mcfg)
            continue;
        set_error_table(out, madt ? "APIC" : "MCFG");
        if ((madt && have_madt) || (mcfg && out->has_mcfg))
            return ACPI_ERR_DUPLICATE_TABLE;
        st = read_table(read, ctx, tables[i], s, scratch_len, &len);
        if (st != ACPI_OK)
            return st;
        /* The signature is read again with the table: it could differ
         * from the first read if the memory changed under us. */
        if (!sig_is(s, madt ? "APIC" : "MCFG"))
            return ACPI_ERR_TABLE_SIGNATURE;
        if (madt) {
            st = acpi_parse_madt(s, len, &out->madt);
            have_madt = true;
        } else {
            st = acpi_parse_mcfg(s, len, &out->mcfg);
            out->has_mcfg = true;
        }
        if (st != ACPI_OK)
            return st;
    }
    if (!have_madt) {
        set_error_table(out, "APIC");
        return ACPI_ERR_NO_MADT;
    }
    out->error_table[0] = 0;
    return ACPI_OK;
}

static const char *const status_names[ACPI_ERR_COUNT_] = {
    [ACPI_OK] = "ok",
    [ACPI_ERR_NULL] = "no buffer, read callback or output given",
    [ACPI_ERR_RSDP_SHORT] = "RSDP shorter than 20 bytes (36 for revision 2 and later)",
    [ACPI_ERR_RSDP_SIGNATURE] = "RSDP signature is not \"RSD PTR \"",
    [ACPI_ERR_RSDP_CHECKSUM] = "RSDP checksum: the first 20 bytes do not sum to 0",
    [ACPI_ERR_RSDP_LENGTH] = "RSDP length below 36 or beyond the bytes given",
    [ACPI_ERR_RSDP_XCHECKSUM] = "RSDP extended checksum: its length bytes do not sum to 0",
    [ACPI_ERR_NO_ROOT] = "RSDP names neither an RSDT nor an XSDT",
    [ACPI_ERR_READ] = "table lies in memory that cannot be read",
    [ACPI_ERR_TABLE_LENGTH] = "table length below its fixed part or above 256 KiB",
    [ACPI_ERR_TABLE_TOO_LARGE] = "table longer than the buffer for it",
    [ACPI_ERR_TABLE_SIGNATURE] = "table signature is not the one expected",
    [ACPI_ERR_TABLE_CHECKSUM] = "table checksum: its bytes do not sum to 0",
    [ACPI_ERR_ROOT_ENTRIES] = "root table is not a header plus at most 128 whole entries",
    [ACPI_ERR_DUPLICATE_TABLE] = "table appears twice in the root table",
    [ACPI_ERR_NO_MADT] = "no MADT (\"APIC\") table",
    [ACPI_ERR_MADT_ENTRY_LENGTH] = "MADT entry shorter than its type requires (or below 2)",
    [ACPI_ERR_MADT_ENTRY_OVERRUN] = "MADT entry runs past the end of the table",
    [ACPI_ERR_APIC_ID] = "CPU with the broadcast APIC id",
    [ACPI_ERR_DUPLICATE_APIC_ID] = "two CPUs with the same APIC id",
    [ACPI_ERR_NO_CPU] = "MADT lists no enabled CPU",
    [ACPI_ERR_TOO_MANY_IOAPICS] = "more than 8 IO APICs",
    [ACPI_ERR_IOAPIC] = "IO APIC address 0 or not 16-byte aligned, or id, address or GSI base "
                        "repeated",
    [ACPI_ERR_TOO_MANY_OVERRIDES] = "more than 16 interrupt source overrides",
    [ACPI_ERR_OVERRIDE] = "interrupt source override not for an ISA IRQ 0-15, with reserved "
                          "flags, or repeated",
    [ACPI_ERR_TOO_MANY_NMIS] = "more than 16 NMI entries",
    [ACPI_ERR_NMI] = "NMI entry with reserved flags or a LINT pin other than 0 or 1",
    [ACPI_ERR_LAPIC_ADDRESS] = "local APIC address 0, not page aligned, or overridden twice",
    [ACPI_ERR_MCFG_ENTRIES] = "MCFG length is not its header plus whole 16-byte entries",
    [ACPI_ERR_MCFG_TOO_MANY] = "more than 8 MCFG entries",
    [ACPI_ERR_MCFG_RANGE] = "MCFG entry: end bus before start bus, base 0 or not 1 MiB aligned, "
                            "or the range wraps",
};

const char *acpi_status_str(enum acpi_status s)
{
    if ((unsigned)s < ACPI_ERR_COUNT_ && status_names[s])
        return status_names[s];
    return "unknown status";
}
