/*
 * libFuzzer target for the ACPI parser (lib/acpi/acpi.c).
 *
 * The input is a fake physical memory image at FUZZ_BASE. It is parsed
 * three ways: as an RSDP, as a MADT and as an MCFG body (those two skip
 * checksums, so the fuzzer reaches the entry parsers directly), and by
 * acpi_discover from an RSDP that names the image's first byte as its RSDT
 * (an XSDT when the image starts with 'X'). When the first byte is odd, the read callback repairs
 * each table's checksum, so that discovery gets past it to the tables' contents. Every result that
 * parses is checked against the documented limits and invariants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"

#define FUZZ_BASE 0x10000u

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct image {
    const uint8_t *data;
    size_t size;
    bool fix_checksums;
};

static bool read_image(void *ctx, uint64_t phys, void *buf, size_t len)
{
    const struct image *im = ctx;
    if (phys < FUZZ_BASE || phys - FUZZ_BASE > im->size || len > im->size - (phys - FUZZ_BASE))
        return false;
    memcpy(buf, im->data + (phys - FUZZ_BASE), len);
    if (im->fix_checksums && len > ACPI_SDT_HEADER_LEN) {
        uint8_t *b = buf, s = 0;
        b[9] = 0;
        for (size_t i = 0; i < len; i++)
            s = (uint8_t)(s + b[i]);
        b[9] = (uint8_t)(0 - s);
    }
    return true;
}

static void check_madt(const struct acpi_madt *m)
{
    CHECK(m->cpu_count <= ACPI_MAX_CPUS);
    CHECK(m->cpus_enabled >= 1 && m->cpus_enabled <= m->cpu_count);
    CHECK(m->cpus_ignored == 0 || m->cpu_count == ACPI_MAX_CPUS);
    for (uint32_t i = 0; i < m->cpu_count; i++) {
        CHECK(m->cpus[i].flags != 0);
        CHECK(m->cpus[i].apic_id != 0xffffffffu);
        for (uint32_t j = 0; j < i; j++)
            CHECK(m->cpus[i].apic_id != m->cpus[j].apic_id);
    }
    CHECK(m->ioapic_count <= ACPI_MAX_IOAPICS);
    for (uint32_t i = 0; i < m->ioapic_count; i++)
        CHECK(m->ioapics[i].address != 0 && m->ioapics[i].address % 16 == 0);
    CHECK(m->override_count <= ACPI_MAX_OVERRIDES);
    for (uint32_t i = 0; i < m->override_count; i++)
        CHECK(m->overrides[i].source_irq < 16);
    CHECK(m->nmi_count <= ACPI_MAX_NMIS);
    for (uint32_t i = 0; i < m->nmi_count; i++)
        CHECK(m->nmis[i].kind != ACPI_NMI_LAPIC || m->nmis[i].lint <= 1);
    CHECK(m->lapic_address != 0 && m->lapic_address % 4096 == 0);
    CHECK(m->error_offset == 0);
}

static void check_mcfg(const struct acpi_mcfg *m)
{
    CHECK(m->count <= ACPI_MAX_ECAM);
    for (uint32_t i = 0; i < m->count; i++) {
        CHECK(m->ecam[i].bus_start <= m->ecam[i].bus_end);
        CHECK(m->ecam[i].base % (1u << 20) == 0 && m->ecam[i].base != 0);
    }
}

static struct acpi_madt madt;
static struct acpi_info info;
static uint8_t scratch[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    struct acpi_rsdp r;
    enum acpi_status st = acpi_parse_rsdp(buf, size, &r);
    CHECK((unsigned)st < ACPI_ERR_COUNT_ && acpi_status_str(st));
    if (st == ACPI_OK)
        CHECK(r.rsdt_address || r.xsdt_address);

    uint32_t tlen;
    if (acpi_check_table(buf, size, &tlen) == ACPI_OK)
        CHECK(tlen >= ACPI_SDT_HEADER_LEN && tlen <= size);

    if (acpi_parse_madt(buf, size, &madt) == ACPI_OK)
        check_madt(&madt);
    struct acpi_mcfg mcfg;
    if (acpi_parse_mcfg(buf, size, &mcfg) == ACPI_OK)
        check_mcfg(&mcfg);

    /* An RSDP naming the image's start as the root table, RSDT or XSDT. */
    struct image im = {buf, size, size && (buf[0] & 1)};
    uint8_t rsdp[36] = "RSD PTR ";
    bool x = size > 0 && buf[0] == 'X';
    rsdp[15] = x ? 2 : 0;
    rsdp[16] = FUZZ_BASE & 0xff;
    rsdp[17] = (FUZZ_BASE >> 8) & 0xff;
    rsdp[18] = (FUZZ_BASE >> 16) & 0xff;
    rsdp[20] = 36;
    if (x) {
        rsdp[24] = rsdp[16];
        rsdp[25] = rsdp[17];
        rsdp[26] = rsdp[18];
    }
    uint8_t s = 0;
    for (int i = 0; i < 20; i++)
        s = (uint8_t)(s + rsdp[i]);
    rsdp[8] = (uint8_t)(0 - s);
    s = 0;
    for (int i = 0; i < 36; i++)
        s = (uint8_t)(s + rsdp[i]);
    rsdp[32] = (uint8_t)(0 - s);
    size_t slen = size > 2 ? 256u + (size_t)buf[2] * 256u : sizeof(scratch);
    st = acpi_discover(rsdp, sizeof(rsdp), read_image, &im, scratch, slen, &info);
    CHECK((unsigned)st < ACPI_ERR_COUNT_);
    if (st == ACPI_OK) {
        CHECK(info.xsdt == x);
        CHECK(info.table_count <= ACPI_MAX_ROOT_ENTRIES);
        check_madt(&info.madt);
        if (info.has_mcfg)
            check_mcfg(&info.mcfg);
        CHECK(info.error_table[0] == 0);
    }
    free(buf);
    return 0;
}
