/*
 * Host tests for the ACPI parser (lib/acpi/acpi.c). Tables are laid out in
 * a fake physical memory with a small builder; the read callback refuses
 * anything outside it, and the parser's scratch buffer is an exactly sized
 * heap block so ASan catches a read past it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"

/* ---- Fake physical memory ---- */

#define MEM_BASE 0xe0000u
#define MEM_SIZE 0x20000u

static uint8_t mem[MEM_SIZE];
static unsigned reads;

static bool read_mem(void *ctx, uint64_t phys, void *buf, size_t len)
{
    (void)ctx;
    reads++;
    if (phys < MEM_BASE || phys - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (phys - MEM_BASE))
        return false;
    memcpy(buf, mem + (phys - MEM_BASE), len);
    return true;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t *at(uint64_t phys)
{
    return mem + (phys - MEM_BASE);
}

static void fix_checksum(uint8_t *p, size_t len, size_t csum_off)
{
    p[csum_off] = 0;
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    p[csum_off] = (uint8_t)(0 - s);
}

/* An RSDP (36 bytes, revision rev) in rsdp[]. */
static uint8_t rsdp[64];

static void make_rsdp(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(rsdp, 0, sizeof(rsdp));
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "CAPOS ", 6);
    rsdp[15] = rev;
    put32(rsdp + 16, rsdt);
    put32(rsdp + 20, 36);
    put64(rsdp + 24, xsdt);
    fix_checksum(rsdp, 20, 8);
    fix_checksum(rsdp, 36, 32);
}

/* A table header at phys with the given signature and length. */
static uint8_t *table(uint64_t phys, const char *sig, uint32_t len)
{
    uint8_t *t = at(phys);
    memset(t, 0, len);
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = 1;
    memcpy(t + 10, "CAPOS ", 6);
    return t;
}

static void seal(uint64_t phys)
{
    uint8_t *t = at(phys);
    uint32_t len;
    memcpy(&len, t + 4, 4);
    fix_checksum(t, len, 9);
}

#define RSDT_AT 0xe0000u
#define XSDT_AT 0xe1000u
#define MADT_AT 0xe2000u
#define MCFG_AT 0xe4000u
#define FACP_AT 0xe5000u

/* MADT builder: entries appended after the 44-byte fixed part. */
static uint8_t madt_buf[32768];
static size_t madt_len;

static void madt_begin(uint32_t lapic, uint32_t flags)
{
    memset(madt_buf, 0, sizeof(madt_buf));
    memcpy(madt_buf, "APIC", 4);
    put32(madt_buf + 36, lapic);
    put32(madt_buf + 40, flags);
    madt_len = 44;
}

static uint8_t *madt_entry(uint8_t type, uint8_t len)
{
    uint8_t *e = madt_buf + madt_len;
    e[0] = type;
    e[1] = len;
    madt_len += len;
    return e;
}

static void lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t *e = madt_entry(0, 8);
    e[2] = uid;
    e[3] = id;
    put32(e + 4, flags);
}

static void x2apic(uint32_t id, uint32_t uid, uint32_t flags)
{
    uint8_t *e = madt_entry(9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint8_t *e = madt_entry(1, 12);
    e[2] = id;
    put32(e + 4, addr);
    put32(e + 8, gsi);
}

static void override(uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = madt_entry(2, 10);
    e[3] = irq;
    put32(e + 4, gsi);
    put16(e + 8, flags);
}

static void lapic_nmi(uint8_t uid, uint16_t flags, uint8_t lint)
{
    uint8_t *e = madt_entry(4, 6);
    e[2] = uid;
    put16(e + 3, flags);
    e[5] = lint;
}

/* The MADT QEMU's q35 gives a 2-CPU machine. */
static void qemu_madt(void)
{
    madt_begin(0xfee00000, 1);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    ioapic(0, 0xfec00000, 0);
    override(0, 2, 0);
    override(5, 5, 0xd);
    override(9, 9, 0xd);
    override(10, 10, 0xd);
    override(11, 11, 0xd);
    lapic_nmi(0xff, 0, 1);
}

static struct acpi_madt madt;

static enum acpi_status parse_madt(void)
{
    put32(madt_buf + 4, (uint32_t)madt_len);
    uint8_t *copy = malloc(madt_len);
    memcpy(copy, madt_buf, madt_len);
    enum acpi_status st = acpi_parse_madt(copy, madt_len, &madt);
    free(copy);
    return st;
}

/* Place the MADT and an MCFG with one entry, list them (and a FACP) in an
 * RSDT and an XSDT. */
static void install_tables(bool with_mcfg)
{
    memset(mem, 0, sizeof(mem));
    put32(madt_buf + 4, (uint32_t)madt_len);
    memcpy(at(MADT_AT), madt_buf, madt_len);
    fix_checksum(at(MADT_AT), madt_len, 9);
    uint8_t *m = table(MCFG_AT, "MCFG", 44 + 16);
    put64(m + 44, 0xb0000000);
    put16(m + 52, 0);
    m[54] = 0;
    m[55] = 0xff;
    seal(MCFG_AT);
    table(FACP_AT, "FACP", 116);
    seal(FACP_AT);
    uint32_t n = with_mcfg ? 3 : 2;
    uint8_t *r = table(RSDT_AT, "RSDT", 36 + 4 * n);
    put32(r + 36, FACP_AT);
    put32(r + 40, MADT_AT);
    if (with_mcfg)
        put32(r + 44, MCFG_AT);
    seal(RSDT_AT);
    uint8_t *x = table(XSDT_AT, "XSDT", 36 + 8 * n);
    put64(x + 36, FACP_AT);
    put64(x + 44, MADT_AT);
    if (with_mcfg)
        put64(x + 52, MCFG_AT);
    seal(XSDT_AT);
}

static struct acpi_info info;

static enum acpi_status discover_with(size_t scratch_len)
{
    void *scratch = malloc(scratch_len);
    enum acpi_status st = acpi_discover(rsdp, 36, read_mem, NULL, scratch, scratch_len, &info);
    free(scratch);
    return st;
}

static enum acpi_status discover(void)
{
    return discover_with(8192);
}

/* ---- RSDP ---- */

Test(acpi_rsdp, v1_and_v2)
{
    struct acpi_rsdp r;
    make_rsdp(0, 0x1234, 0);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_OK);
    cr_assert_eq(r.rsdt_address, 0x1234);
    cr_assert_eq(r.xsdt_address, 0, "a v1 RSDP has no XSDT even if bytes follow");
    cr_assert_str_eq(r.oem_id, "CAPOS ");
    make_rsdp(2, 0x1234, 0x123456789ull);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 36, &r), ACPI_OK);
    cr_assert_eq(r.xsdt_address, 0x123456789ull);
}

Test(acpi_rsdp, hostile)
{
    struct acpi_rsdp r;
    make_rsdp(0, 0x1234, 0);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 19, &r), ACPI_ERR_RSDP_SHORT);
    cr_assert_eq(acpi_parse_rsdp(NULL, 20, &r), ACPI_ERR_NULL);
    rsdp[0] = 'X';
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_ERR_RSDP_SIGNATURE);
    make_rsdp(0, 0x1234, 0);
    rsdp[16] ^= 1;
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_ERR_RSDP_CHECKSUM);
    make_rsdp(0, 0, 0);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_ERR_NO_ROOT);

    make_rsdp(2, 0x1234, 0x5678);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_ERR_RSDP_SHORT, "v2 needs 36 bytes");
    rsdp[24] ^= 1; /* only the extended checksum covers the XSDT address */
    cr_assert_eq(acpi_parse_rsdp(rsdp, 36, &r), ACPI_ERR_RSDP_XCHECKSUM);
    make_rsdp(2, 0x1234, 0x5678);
    put32(rsdp + 20, 64); /* longer than the 36 bytes we hand over */
    fix_checksum(rsdp, 36, 32);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 36, &r), ACPI_ERR_RSDP_LENGTH);
    put32(rsdp + 20, 12);
    fix_checksum(rsdp, 36, 32);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 36, &r), ACPI_ERR_RSDP_LENGTH);
}

/* ---- MADT ---- */

Test(acpi_madt, qemu_two_cpus)
{
    qemu_madt();
    cr_assert_eq(parse_madt(), ACPI_OK);
    cr_assert_eq(madt.cpu_count, 2);
    cr_assert_eq(madt.cpus_enabled, 2);
    cr_assert_eq(madt.cpus[1].apic_id, 1);
    cr_assert_eq(madt.lapic_address, 0xfee00000);
    cr_assert(madt.pcat_compat);
    cr_assert_eq(madt.ioapic_count, 1);
    cr_assert_eq(madt.ioapics[0].address, 0xfec00000);
    cr_assert_eq(madt.override_count, 5);
    cr_assert_eq(madt.overrides[0].gsi, 2);
    cr_assert_eq(madt.nmi_count, 1);
    cr_assert_eq(madt.nmis[0].uid, ACPI_UID_ALL_CPUS);
    cr_assert_eq(madt.nmis[0].lint, 1);
}

Test(acpi_madt, x2apic_online_capable_and_disabled)
{
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    lapic(1, 0xff, 0); /* disabled placeholder with the broadcast id: ignored */
    lapic(2, 0, 0);    /* disabled placeholder repeating id 0: ignored */
    lapic(3, 3, 2);    /* online-capable, not yet enabled */
    x2apic(300, 4, 1);
    uint8_t *e = madt_entry(10, 12); /* x2APIC NMI */
    put32(e + 4, 4);
    e[8] = 0;
    madt_entry(0x7f, 5); /* an unknown type: skipped */
    cr_assert_eq(parse_madt(), ACPI_OK);
    cr_assert_eq(madt.cpu_count, 3);
    cr_assert_eq(madt.cpus_enabled, 2);
    cr_assert_eq(madt.cpus_disabled, 2);
    cr_assert_eq(madt.cpus[1].flags, ACPI_CPU_ONLINE_CAPABLE);
    cr_assert(madt.cpus[2].x2apic);
    cr_assert_eq(madt.cpus[2].apic_id, 300);
    cr_assert_eq(madt.nmis[0].uid, 4);
    cr_assert_eq(madt.unknown_entries, 1);
}

Test(acpi_madt, lapic_address_override)
{
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    uint8_t *e = madt_entry(5, 12);
    put64(e + 4, 0x100fee00000ull);
    cr_assert_eq(parse_madt(), ACPI_OK);
    cr_assert_eq(madt.lapic_address, 0x100fee00000ull);
    e = madt_entry(5, 12);
    put64(e + 4, 0x100fee00000ull);
    cr_assert_eq(parse_madt(), ACPI_ERR_LAPIC_ADDRESS, "two overrides");
    madt_begin(0, 0);
    lapic(0, 0, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_LAPIC_ADDRESS, "no address at all");
    madt_begin(0xfee00010, 0);
    lapic(0, 0, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_LAPIC_ADDRESS, "unaligned address");
}

Test(acpi_madt, cpu_cap)
{
    madt_begin(0xfee00000, 0);
    for (uint32_t i = 0; i < 1000; i++)
        x2apic(i, i, 1);
    cr_assert_eq(parse_madt(), ACPI_OK);
    cr_assert_eq(madt.cpu_count, ACPI_MAX_CPUS);
    cr_assert_eq(madt.cpus_ignored, 1000 - ACPI_MAX_CPUS);
}

Test(acpi_madt, zero_and_short_entry_lengths)
{
    qemu_madt();
    madt_entry(0, 0);
    madt_len += 8;
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_LENGTH, "a 0 length would loop forever");
    cr_assert_eq(madt.error_offset, madt_len - 8);
    madt_begin(0xfee00000, 0);
    madt_entry(0x80, 1);
    madt_len += 1;
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_LENGTH);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    madt_entry(1, 8); /* an IO APIC entry needs 12 */
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_LENGTH);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    madt_entry(9, 12); /* an x2APIC entry needs 16 */
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_LENGTH);
}

Test(acpi_madt, truncated_entries)
{
    qemu_madt();
    lapic(2, 2, 1);
    madt_len -= 3; /* the last entry runs past the table */
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_OVERRUN);
    qemu_madt();
    madt_len += 1; /* one stray byte: not even an entry header */
    cr_assert_eq(parse_madt(), ACPI_ERR_MADT_ENTRY_OVERRUN);
    madt_begin(0xfee00000, 0);
    madt_len = 40;
    cr_assert_eq(parse_madt(), ACPI_ERR_TABLE_LENGTH);
}

Test(acpi_madt, hostile_cpus)
{
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    lapic(1, 0, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_DUPLICATE_APIC_ID);
    madt_begin(0xfee00000, 0);
    lapic(0, 5, 1);
    x2apic(5, 1, 2);
    cr_assert_eq(parse_madt(), ACPI_ERR_DUPLICATE_APIC_ID, "x2APIC repeating a LAPIC id");
    madt_begin(0xfee00000, 0);
    lapic(0, 0xff, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_APIC_ID);
    madt_begin(0xfee00000, 0);
    x2apic(0xffffffffu, 0, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_APIC_ID);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 2);
    lapic(1, 1, 0);
    cr_assert_eq(parse_madt(), ACPI_ERR_NO_CPU, "online-capable only: nothing runs now");
}

Test(acpi_madt, hostile_ioapics)
{
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    ioapic(0, 0, 0);
    cr_assert_eq(parse_madt(), ACPI_ERR_IOAPIC);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    ioapic(0, 0xfec00004, 0);
    cr_assert_eq(parse_madt(), ACPI_ERR_IOAPIC);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    ioapic(0, 0xfec00000, 0);
    ioapic(0, 0xfec01000, 24);
    cr_assert_eq(parse_madt(), ACPI_ERR_IOAPIC, "repeated id");
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    for (uint8_t i = 0; i < 9; i++)
        ioapic(i, 0xfec00000 + 0x1000u * i, 24u * i);
    cr_assert_eq(parse_madt(), ACPI_ERR_TOO_MANY_IOAPICS);
}

Test(acpi_madt, hostile_overrides_and_nmis)
{
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    override(16, 16, 0);
    cr_assert_eq(parse_madt(), ACPI_ERR_OVERRIDE, "IRQ 16 is not ISA");
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    override(3, 3, 2);
    cr_assert_eq(parse_madt(), ACPI_ERR_OVERRIDE, "reserved polarity");
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    override(3, 3, 0);
    override(3, 4, 0);
    cr_assert_eq(parse_madt(), ACPI_ERR_OVERRIDE, "repeated IRQ");
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    uint8_t *e = madt_entry(2, 10);
    e[2] = 1; /* bus 1 */
    cr_assert_eq(parse_madt(), ACPI_ERR_OVERRIDE);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    lapic_nmi(0xff, 0, 2);
    cr_assert_eq(parse_madt(), ACPI_ERR_NMI);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    for (int i = 0; i < ACPI_MAX_NMIS + 1; i++)
        lapic_nmi(0xff, 0, 1);
    cr_assert_eq(parse_madt(), ACPI_ERR_TOO_MANY_NMIS);
    madt_begin(0xfee00000, 0);
    lapic(0, 0, 1);
    e = madt_entry(3, 8);
    put16(e + 2, 0x8);
    cr_assert_eq(parse_madt(), ACPI_ERR_NMI, "reserved trigger mode");
}

/* ---- MCFG ---- */

Test(acpi_mcfg, entries_and_ranges)
{
    uint8_t t[44 + 32] = {0};
    struct acpi_mcfg m;
    put64(t + 44, 0xb0000000);
    t[55] = 0xff;
    put64(t + 60, 0xe0000000);
    put16(t + 68, 1);
    t[70] = 0x10;
    t[71] = 0x1f;
    cr_assert_eq(acpi_parse_mcfg(t, sizeof(t), &m), ACPI_OK);
    cr_assert_eq(m.count, 2);
    cr_assert_eq(m.ecam[1].segment, 1);
    cr_assert_eq(m.ecam[1].bus_start, 0x10);
    cr_assert_eq(acpi_parse_mcfg(t, sizeof(t) - 1, &m), ACPI_ERR_MCFG_ENTRIES);
    t[71] = 0x0f;
    cr_assert_eq(acpi_parse_mcfg(t, sizeof(t), &m), ACPI_ERR_MCFG_RANGE, "end before start");
    t[71] = 0x1f;
    put64(t + 60, 0xe0080000);
    cr_assert_eq(acpi_parse_mcfg(t, sizeof(t), &m), ACPI_ERR_MCFG_RANGE, "unaligned base");
    put64(t + 60, 0xfffffffffff00000ull);
    cr_assert_eq(acpi_parse_mcfg(t, sizeof(t), &m), ACPI_ERR_MCFG_RANGE, "wraps past 2^64");
    uint8_t big[44 + 16 * 9] = {0};
    cr_assert_eq(acpi_parse_mcfg(big, sizeof(big), &m), ACPI_ERR_MCFG_TOO_MANY);
}

/* ---- Discovery through the read callback ---- */

Test(acpi_discover, rsdt_and_xsdt)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(0, RSDT_AT, 0);
    cr_assert_eq(discover(), ACPI_OK, "%s", acpi_status_str(discover()));
    cr_assert(!info.xsdt);
    cr_assert_eq(info.table_count, 3);
    cr_assert_eq(info.madt.cpu_count, 2);
    cr_assert(info.has_mcfg);
    cr_assert_eq(info.mcfg.ecam[0].base, 0xb0000000);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    cr_assert_eq(discover(), ACPI_OK);
    cr_assert(info.xsdt);
    install_tables(false);
    cr_assert_eq(discover(), ACPI_OK);
    cr_assert(!info.has_mcfg);
}

Test(acpi_discover, bad_checksums_and_signatures)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    at(MADT_AT)[50] ^= 1;
    cr_assert_eq(discover(), ACPI_ERR_TABLE_CHECKSUM);
    cr_assert_str_eq(info.error_table, "APIC");
    install_tables(true);
    at(XSDT_AT)[40] ^= 1;
    cr_assert_eq(discover(), ACPI_ERR_TABLE_CHECKSUM);
    install_tables(true);
    memcpy(at(XSDT_AT), "RSDT", 4);
    seal(XSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_TABLE_SIGNATURE, "XSDT address holding an RSDT");
    install_tables(true);
    at(FACP_AT)[50] ^= 1; /* a table we do not parse is not checked */
    cr_assert_eq(discover(), ACPI_OK);
}

Test(acpi_discover, hostile_lengths)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    put32(at(XSDT_AT) + 4, 36 + 8 * 3 + 4); /* not whole entries */
    seal(XSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_ROOT_ENTRIES);
    install_tables(true);
    put32(at(MADT_AT) + 4, 20);
    cr_assert_eq(discover(), ACPI_ERR_TABLE_LENGTH);
    install_tables(true);
    put32(at(MADT_AT) + 4, 0xffffffffu);
    cr_assert_eq(discover(), ACPI_ERR_TABLE_LENGTH);
    install_tables(true);
    cr_assert_eq(discover_with(64), ACPI_ERR_TABLE_TOO_LARGE, "the MADT does not fit");
    install_tables(true);
    put32(at(MADT_AT) + 4, MEM_SIZE); /* runs past readable memory */
    cr_assert_eq(discover_with(MEM_SIZE + 4096), ACPI_ERR_READ);
}

Test(acpi_discover, unreadable_and_duplicate_tables)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(2, RSDT_AT, 0x7fff0000);
    cr_assert_eq(discover(), ACPI_ERR_READ);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    put64(at(XSDT_AT) + 36, 0xdead0000); /* an entry pointing nowhere */
    seal(XSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_READ);
    install_tables(true);
    put64(at(XSDT_AT) + 36, MADT_AT); /* the MADT listed twice */
    seal(XSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_DUPLICATE_TABLE);
    install_tables(true);
    put64(at(XSDT_AT) + 44, FACP_AT); /* no MADT */
    seal(XSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_NO_MADT);
}

Test(acpi_status, every_status_has_a_message)
{
    for (int s = 0; s < ACPI_ERR_COUNT_; s++)
        cr_assert_str_neq(acpi_status_str((enum acpi_status)s), "unknown status", "status %d", s);
    cr_assert_str_eq(acpi_status_str(ACPI_ERR_COUNT_), "unknown status");
}

/* Memory that changes between the header read and the full read: the
 * second copy is what is checked and parsed. */
static unsigned flip_after;

static bool read_flipping(void *ctx, uint64_t phys, void *buf, size_t len)
{
    bool ok = read_mem(ctx, phys, buf, len);
    if (ok && phys == MADT_AT && reads > flip_after)
        memcpy(buf, "APIX", 4);
    return ok;
}

Test(acpi_discover, table_changing_under_the_reader)
{
    qemu_madt();
    install_tables(false);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    /* Reads: XSDT header, XSDT, FACP header, MADT header (4), then the
     * MADT's own header and whole table, which come back changed. */
    reads = 0;
    flip_after = 4;
    void *scratch = malloc(8192);
    enum acpi_status st = acpi_discover(rsdp, 36, read_flipping, NULL, scratch, 8192, &info);
    free(scratch);
    cr_assert(st == ACPI_ERR_TABLE_SIGNATURE || st == ACPI_ERR_TABLE_CHECKSUM, "got %s",
              acpi_status_str(st));
}

Test(acpi_discover, root_table_limits)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(2, RSDT_AT, XSDT_AT);
    /* 129 entries: more than ACPI_MAX_ROOT_ENTRIES. */
    uint8_t *x = table(XSDT_AT, "XSDT", 36 + 8 * (ACPI_MAX_ROOT_ENTRIES + 1));
    for (int i = 0; i <= ACPI_MAX_ROOT_ENTRIES; i++)
        put64(x + 36 + 8 * i, FACP_AT);
    seal(XSDT_AT);
    cr_assert_eq(discover_with(4096), ACPI_ERR_ROOT_ENTRIES);
    /* Exactly the limit is fine (the MADT listed last). */
    x = table(XSDT_AT, "XSDT", 36 + 8 * ACPI_MAX_ROOT_ENTRIES);
    for (int i = 0; i < ACPI_MAX_ROOT_ENTRIES; i++)
        put64(x + 36 + 8 * i, i + 1 == ACPI_MAX_ROOT_ENTRIES ? MADT_AT : FACP_AT);
    seal(XSDT_AT);
    cr_assert_eq(discover_with(4096), ACPI_OK);
    cr_assert_eq(info.table_count, ACPI_MAX_ROOT_ENTRIES);
    /* An empty root table: no MADT. */
    table(RSDT_AT, "RSDT", 36);
    seal(RSDT_AT);
    make_rsdp(0, RSDT_AT, 0);
    cr_assert_eq(discover(), ACPI_ERR_NO_MADT);
}

Test(acpi_discover, duplicate_mcfg_and_bad_mcfg)
{
    qemu_madt();
    install_tables(true);
    make_rsdp(0, RSDT_AT, 0);
    put32(at(RSDT_AT) + 36, MCFG_AT); /* MCFG listed twice */
    seal(RSDT_AT);
    cr_assert_eq(discover(), ACPI_ERR_DUPLICATE_TABLE);
    cr_assert_str_eq(info.error_table, "MCFG");
    install_tables(true);
    at(MCFG_AT)[54] = 1; /* start bus 1 after end bus 0 */
    at(MCFG_AT)[55] = 0;
    seal(MCFG_AT);
    cr_assert_eq(discover(), ACPI_ERR_MCFG_RANGE);
}

Test(acpi_rsdp, revision_1_is_treated_as_acpi_1)
{
    struct acpi_rsdp r;
    make_rsdp(1, 0x1234, 0x5678);
    cr_assert_eq(acpi_parse_rsdp(rsdp, 20, &r), ACPI_OK);
    cr_assert_eq(r.xsdt_address, 0, "only revision 2 and later have an XSDT");
}
