/*
 * Host tests for the multiboot2 parser. Structures are built with a small
 * builder and parsed from an exactly sized heap copy, so ASan catches any
 * read past the buffer the parser was given.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcore/mb2.h"

/* ---- Builder ---- */

struct mb {
    uint64_t words[4096]; /* 32 KiB, 8-aligned */
    size_t len;
};

static struct mb m; /* each Criterion test runs in its own process */

static uint8_t *bytes(void)
{
    return (uint8_t *)m.words;
}

static void put32(size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        bytes()[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(size_t off, uint64_t v)
{
    put32(off, (uint32_t)v);
    put32(off + 4, (uint32_t)(v >> 32));
}

static void begin(void)
{
    memset(&m, 0, sizeof(m));
    m.len = 8;
}

/* Append a tag with the given body; returns its offset. */
static size_t tag(uint32_t type, const void *body, size_t blen)
{
    size_t off = m.len;
    put32(off, type);
    put32(off + 4, (uint32_t)(8 + blen));
    if (blen)
        memcpy(bytes() + off + 8, body, blen);
    m.len = (off + 8 + blen + 7) & ~(size_t)7;
    return off;
}

static size_t str_tag(uint32_t type, const char *s)
{
    return tag(type, s, strlen(s) + 1);
}

static size_t module_tag(uint32_t start, uint32_t end, const char *s)
{
    uint8_t body[256];
    size_t n = strlen(s) + 1;
    memset(body, 0, 8);
    memcpy(body + 8, s, n);
    size_t off = tag(MB2_TAG_MODULE, body, 8 + n);
    put32(off + 8, start);
    put32(off + 12, end);
    return off;
}

static size_t meminfo_tag(uint32_t lower, uint32_t upper)
{
    size_t off = tag(MB2_TAG_BASIC_MEMINFO, "\0\0\0\0\0\0\0\0", 8);
    put32(off + 8, lower);
    put32(off + 12, upper);
    return off;
}

struct ent {
    uint64_t base, len;
    uint32_t type;
};

/* A memory map tag with entries of esize bytes (>= 24). */
static size_t mmap_tag_sized(const struct ent *e, size_t n, uint32_t esize)
{
    size_t off = m.len;
    size_t size = 16 + n * esize;
    memset(bytes() + off, 0, size);
    put32(off, MB2_TAG_MMAP);
    put32(off + 4, (uint32_t)size);
    put32(off + 8, esize);
    put32(off + 12, 0);
    for (size_t i = 0; i < n; i++) {
        size_t p = off + 16 + i * esize;
        put64(p, e[i].base);
        put64(p + 8, e[i].len);
        put32(p + 16, e[i].type);
    }
    m.len = (off + size + 7) & ~(size_t)7;
    return off;
}

static size_t mmap_tag(const struct ent *e, size_t n)
{
    return mmap_tag_sized(e, n, 24);
}

static const struct ent small_map[] = {
    {0, 0x9fc00, MB2_MEM_AVAILABLE},
    {0x100000, 0x7ee0000, MB2_MEM_AVAILABLE},
};

/* End tag, and total_size covering everything so far. */
static size_t finish(void)
{
    size_t off = tag(MB2_TAG_END, NULL, 0);
    put32(0, (uint32_t)m.len);
    return off;
}

/* ---- Parsing ---- */

static uint8_t *copy; /* kept reachable so strings stay valid */

static enum mb2_status parse_len(size_t len, struct mb2_info *out)
{
    free(copy);
    copy = malloc(len ? len : 1); /* glibc malloc: 16-byte aligned */
    memcpy(copy, bytes(), len);
    return mb2_parse(copy, len, out);
}

static enum mb2_status parse(struct mb2_info *out)
{
    return parse_len(m.len, out);
}

#define EXPECT(st, off)                                                                            \
    do {                                                                                           \
        struct mb2_info inf_;                                                                      \
        enum mb2_status got_ = parse(&inf_);                                                       \
        cr_assert_eq(got_, (st), "status %s, expected %s", mb2_status_str(got_),                   \
                     mb2_status_str(st));                                                          \
        cr_assert_eq(inf_.error_offset, (off), "error_offset %u, expected %u",                     \
                     (unsigned)inf_.error_offset, (unsigned)(off));                                \
    } while (0)

/* A valid map, then one tag that must fail with st at its own offset. */
static void bad_tag(uint32_t type, const void *body, size_t blen, enum mb2_status st)
{
    begin();
    mmap_tag(small_map, 2);
    size_t t = tag(type, body, blen);
    finish();
    EXPECT(st, t);
}

/* Whatever the input, a successful parse must describe sane data that lies
 * inside the buffer. */
static void check_invariants(const uint8_t *buf, size_t len, const struct mb2_info *in)
{
    const uint8_t *end = buf + len;
    if (in->cmdline) {
        cr_assert((const uint8_t *)in->cmdline >= buf &&
                  (const uint8_t *)in->cmdline + in->cmdline_len < end);
        cr_assert_eq(in->cmdline[in->cmdline_len], 0);
        cr_assert_eq(strlen(in->cmdline), in->cmdline_len);
    }
    if (in->bootloader_name) {
        cr_assert((const uint8_t *)in->bootloader_name + in->bootloader_name_len < end);
        cr_assert_eq(in->bootloader_name[in->bootloader_name_len], 0);
    }
    cr_assert_leq(in->mmap_count, MB2_MAX_MMAP);
    for (uint32_t i = 0; i < in->mmap_count; i++) {
        cr_assert_neq(in->mmap[i].length, 0);
        cr_assert_leq(in->mmap[i].length, UINT64_MAX - in->mmap[i].base);
    }
    for (uint32_t i = 0; i < in->module_count && i < MB2_MAX_MODULES; i++) {
        const struct mb2_module *mo = &in->modules[i];
        cr_assert_leq(mo->start, mo->end);
        cr_assert_eq(mo->cmdline[mo->cmdline_len], 0);
        cr_assert((const uint8_t *)mo->cmdline + mo->cmdline_len < end);
    }
    if (in->acpi_rsdp)
        cr_assert((const uint8_t *)in->acpi_rsdp + in->acpi_rsdp_len <= end);
}

/* ---- A realistic GRUB (BIOS) structure ---- */

static const struct ent grub_map[] = {
    {0x0, 0x9fc00, MB2_MEM_AVAILABLE},       {0x9fc00, 0x400, MB2_MEM_RESERVED},
    {0xf0000, 0x10000, MB2_MEM_RESERVED},    {0x100000, 0x1fee0000, MB2_MEM_AVAILABLE},
    {0x1ffe0000, 0x20000, MB2_MEM_RESERVED}, {0xfffc0000, 0x40000, MB2_MEM_RESERVED},
};
static const uint8_t rsdp_v1[20] = "RSD PTR \x42"
                                   "BOCHS \0\x50\x1e\xfe\x1f";

static size_t off_cmd, off_name, off_mod, off_mmap, off_acpi;

static void build_grub(void)
{
    begin();
    off_cmd = str_tag(MB2_TAG_CMDLINE, "console=ttyS0 loglevel=3");
    off_name = str_tag(MB2_TAG_BOOTLOADER_NAME, "GRUB 2.06-13+deb12u1");
    off_mod = module_tag(0x10c000, 0x10e345, "manifest.bin");
    meminfo_tag(639, 523136);
    tag(5, "\xe0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 12); /* boot device */
    off_mmap = mmap_tag(grub_map, 6);
    off_acpi = tag(MB2_TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
    tag(21, "\0\0\x10\0", 4); /* image load base */
    finish();
}

Test(mb2, realistic_grub_every_field)
{
    build_grub();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.total_size, m.len);
    cr_assert_eq((const uint8_t *)in.cmdline, copy + off_cmd + 8);
    cr_assert_eq(in.cmdline_len, 24);
    cr_assert_str_eq(in.cmdline, "console=ttyS0 loglevel=3");
    cr_assert_eq((const uint8_t *)in.bootloader_name, copy + off_name + 8);
    cr_assert_eq(in.bootloader_name_len, 20);
    cr_assert_str_eq(in.bootloader_name, "GRUB 2.06-13+deb12u1");
    cr_assert(in.has_basic_meminfo);
    cr_assert_eq(in.mem_lower_kib, 639);
    cr_assert_eq(in.mem_upper_kib, 523136);
    cr_assert_eq(in.mmap_count, 6);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(in.mmap[i].base, grub_map[i].base);
        cr_assert_eq(in.mmap[i].length, grub_map[i].len);
        cr_assert_eq(in.mmap[i].type, grub_map[i].type);
    }
    cr_assert_eq(in.module_count, 1);
    cr_assert_eq(in.modules[0].start, 0x10c000);
    cr_assert_eq(in.modules[0].end, 0x10e345);
    cr_assert_eq((const uint8_t *)in.modules[0].cmdline, copy + off_mod + 16);
    cr_assert_eq(in.modules[0].cmdline_len, 12);
    cr_assert_str_eq(in.modules[0].cmdline, "manifest.bin");
    cr_assert_eq(in.acpi_rsdp, copy + off_acpi + 8);
    cr_assert_eq(in.acpi_rsdp_len, 20);
    cr_assert_not(in.acpi_rsdp_v2);
    cr_assert_eq(memcmp(in.acpi_rsdp, "RSD PTR ", 8), 0);
    cr_assert_not(in.has_efi64);
    cr_assert_not(in.efi_bs_not_terminated);
    cr_assert_eq(in.error_offset, 0);
    check_invariants(copy, m.len, &in);
}

Test(mb2, uefi_tags)
{
    begin();
    uint8_t rsdp2[36] = "RSD PTR ";
    rsdp2[15] = 2;
    tag(MB2_TAG_ACPI_OLD, rsdp_v1, 20);
    size_t efi = tag(MB2_TAG_EFI64, "\0\0\0\0\0\0\0\0", 8);
    put64(efi + 8, 0x7fe8f018ull);
    size_t nw = tag(MB2_TAG_ACPI_NEW, rsdp2, 36);
    tag(MB2_TAG_EFI_BS_NOT_TERMINATED, NULL, 0);
    tag(17, "\x30\0\0\0\1\0\0\0", 8); /* EFI memory map, skipped */
    mmap_tag(small_map, 2);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert(in.has_efi64);
    cr_assert_eq(in.efi64_system_table, 0x7fe8f018ull);
    cr_assert(in.efi_bs_not_terminated);
    cr_assert(in.acpi_rsdp_v2);
    cr_assert_eq(in.acpi_rsdp, copy + nw + 8);
    cr_assert_eq(in.acpi_rsdp_len, 36);
    cr_assert_eq(in.cmdline, NULL);
    cr_assert_eq(in.bootloader_name, NULL);
    cr_assert_not(in.has_basic_meminfo);
    cr_assert_eq(in.module_count, 0);
}

Test(mb2, acpi_new_wins_in_either_order)
{
    uint8_t rsdp2[36] = "RSD PTR ";
    begin();
    size_t nw = tag(MB2_TAG_ACPI_NEW, rsdp2, 36);
    tag(MB2_TAG_ACPI_OLD, rsdp_v1, 20);
    mmap_tag(small_map, 2);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert(in.acpi_rsdp_v2);
    cr_assert_eq(in.acpi_rsdp, copy + nw + 8);
}

Test(mb2, acpi_too_short_or_duplicate)
{
    uint8_t rsdp2[36] = "RSD PTR ";
    bad_tag(MB2_TAG_ACPI_OLD, rsdp_v1, 19, MB2_ERR_TAG_SIZE);
    bad_tag(MB2_TAG_ACPI_NEW, rsdp2, 35, MB2_ERR_TAG_SIZE);
    begin();
    tag(MB2_TAG_ACPI_NEW, rsdp2, 36);
    size_t t = tag(MB2_TAG_ACPI_NEW, rsdp2, 36);
    finish();
    EXPECT(MB2_ERR_DUPLICATE_TAG, t);
}

Test(mb2, magic)
{
    cr_assert_eq(mb2_check_magic(0x36d76289u), MB2_OK);
    cr_assert_eq(mb2_check_magic(0x2badb002u), MB2_ERR_BAD_MAGIC); /* multiboot 1 */
    cr_assert_eq(mb2_check_magic(0), MB2_ERR_BAD_MAGIC);
}

Test(mb2, status_and_type_strings)
{
    for (int i = 0; i < MB2_ERR_COUNT_; i++) {
        const char *s = mb2_status_str((enum mb2_status)i);
        cr_assert(s && *s && strcmp(s, "unknown status") != 0, "status %d", i);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(s, mb2_status_str((enum mb2_status)j));
    }
    cr_assert_str_eq(mb2_status_str(MB2_ERR_COUNT_), "unknown status");
    cr_assert_str_eq(mb2_status_str((enum mb2_status) - 1), "unknown status");
    cr_assert_str_eq(mb2_status_str(MB2_ERR_TAG_OVERRUN), "tag runs past end");
    cr_assert_str_eq(mb2_mem_type_str(MB2_MEM_AVAILABLE), "available");
    cr_assert_str_eq(mb2_mem_type_str(MB2_MEM_RESERVED), "reserved");
    cr_assert_str_eq(mb2_mem_type_str(MB2_MEM_ACPI_RECLAIMABLE), "ACPI reclaimable");
    cr_assert_str_eq(mb2_mem_type_str(MB2_MEM_NVS), "ACPI NVS");
    cr_assert_str_eq(mb2_mem_type_str(MB2_MEM_BADRAM), "bad RAM");
    cr_assert_str_eq(mb2_mem_type_str(0), "unknown");
    cr_assert_str_eq(mb2_mem_type_str(0xffffffffu), "unknown");
}

/* ---- Header ---- */

Test(mb2, null_and_short_buffers)
{
    struct mb2_info in;
    cr_assert_eq(mb2_parse(NULL, 64, &in), MB2_ERR_NULL);
    build_grub();
    cr_assert_eq(mb2_parse(bytes(), m.len, NULL), MB2_ERR_NULL);
    for (size_t len = 0; len < 8; len++)
        cr_assert_eq(parse_len(len, &in), MB2_ERR_TRUNCATED, "len %zu", len);
}

Test(mb2, misaligned_buffer)
{
    build_grub();
    uint8_t *raw = malloc(m.len + 8);
    for (size_t shift = 1; shift < 8; shift++) {
        memcpy(raw + shift, bytes(), m.len);
        struct mb2_info in;
        cr_assert_eq(mb2_parse(raw + shift, m.len, &in), MB2_ERR_MISALIGNED, "shift %zu", shift);
    }
    free(raw);
}

Test(mb2, bad_total_size)
{
    static const uint32_t bad[] = {0, 1, 8, 15, 0xffffffffu, 0x80000000u};
    build_grub();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put32(0, bad[i]);
        EXPECT(MB2_ERR_TOTAL_SIZE, 0);
    }
    put32(0, (uint32_t)m.len + 8); /* larger than the buffer */
    EXPECT(MB2_ERR_TOTAL_SIZE, 0);
    put32(0, (uint32_t)m.len);
    struct mb2_info in;
    cr_assert_eq(parse_len(m.len + 8, &in), MB2_OK); /* smaller buffer: fine */
}

Test(mb2, max_total_size_boundary)
{
    /* A structure of exactly MB2_MAX_TOTAL_SIZE passes; one more tag-step
     * (MAX + 8) fails even with a buffer big enough to hold it. */
    for (uint32_t extra = 0; extra <= 8; extra += 8) {
        size_t total = MB2_MAX_TOTAL_SIZE + extra;
        uint64_t *w = calloc(total / 8, 8);
        uint8_t *b = (uint8_t *)w;
        uint32_t hdr[] = {(uint32_t)total, 0};
        memcpy(b, hdr, 8);
        uint32_t mm[] = {MB2_TAG_MMAP, 16, 24, 0};
        memcpy(b + 8, mm, 16);
        uint32_t big[] = {0x1234, (uint32_t)(total - 32)}; /* unknown, fills the gap */
        memcpy(b + 24, big, 8);
        uint32_t endt[] = {MB2_TAG_END, 8};
        memcpy(b + total - 8, endt, 8);
        struct mb2_info in;
        cr_assert_eq(mb2_parse(b, total, &in), extra ? MB2_ERR_TOTAL_SIZE : MB2_OK);
        free(w);
    }
}

/* ---- Tag walk ---- */

Test(mb2, tag_size_smaller_than_header)
{
    for (uint32_t sz = 0; sz < 8; sz++) {
        build_grub();
        put32(off_name + 4, sz);
        EXPECT(MB2_ERR_TAG_SIZE, off_name);
    }
}

Test(mb2, absurd_tag_size)
{
    build_grub();
    put32(off_mmap + 4, 0xffffffffu);
    EXPECT(MB2_ERR_TAG_OVERRUN, off_mmap);
    build_grub();
    put32(off_cmd + 4, 0xfffffff8u);
    EXPECT(MB2_ERR_TAG_OVERRUN, off_cmd);
}

Test(mb2, tag_runs_past_end)
{
    begin();
    mmap_tag(small_map, 2);
    size_t t = str_tag(MB2_TAG_CMDLINE, "abc");
    size_t e = finish();
    put32(t + 4, (uint32_t)(m.len - t + 1)); /* one byte past total_size */
    EXPECT(MB2_ERR_TAG_OVERRUN, t);
    put32(t + 4, (uint32_t)(m.len - t)); /* swallows the end tag exactly */
    EXPECT(MB2_ERR_NO_END_TAG, m.len);
    /* Oversized cmdline overlapping the end tag: the string is still
     * NUL-terminated inside, but the end tag is gone. */
    put32(t + 4, (uint32_t)(e - t + 4));
    EXPECT(MB2_ERR_NO_END_TAG, e + 8);
}

Test(mb2, no_end_tag)
{
    begin();
    mmap_tag(small_map, 2);
    put32(0, (uint32_t)m.len); /* tags fill the structure exactly */
    EXPECT(MB2_ERR_NO_END_TAG, m.len);
    begin();
    mmap_tag(small_map, 2);
    size_t t = tag(0x99, "x", 1); /* size 9: next tag would be at t + 16 */
    put32(0, (uint32_t)(t + 9));
    EXPECT(MB2_ERR_NO_END_TAG, t + 16);
}

Test(mb2, end_tag_must_have_size_8)
{
    static const uint32_t bad[] = {0, 4, 7, 9, 16};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin();
        mmap_tag(small_map, 2);
        size_t e = finish();
        m.len += 8; /* room for a 16-byte end tag */
        put32(0, (uint32_t)m.len);
        put32(e + 4, bad[i]);
        EXPECT(MB2_ERR_TAG_SIZE, e);
    }
    begin();
    mmap_tag(small_map, 2);
    size_t e = finish();
    put32(e + 4, 0xffffffffu);
    EXPECT(MB2_ERR_TAG_OVERRUN, e);
}

Test(mb2, data_after_end_tag_ignored)
{
    begin();
    mmap_tag(small_map, 2);
    finish();
    tag(MB2_TAG_MMAP, NULL, 0); /* garbage that would be an error */
    put32(0, (uint32_t)m.len);
    EXPECT(MB2_OK, 0);
}

Test(mb2, unknown_tags_skipped)
{
    begin();
    tag(0x7777, "abcde", 5);
    tag(0xffffffffu, NULL, 0);
    tag(8, "0123456789abcdefghijklmnopq", 27); /* framebuffer: not interpreted */
    mmap_tag(small_map, 2);
    tag(0x10000, "z", 1);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.mmap_count, 2);
}

Test(mb2, misaligned_tag_not_found)
{
    /* A loader placing the mmap tag right after a 13-byte tag, at offset 21
     * instead of 24: the parser only looks at aligned offsets and reads the
     * middle of that tag as garbage. */
    begin();
    tag(MB2_TAG_CMDLINE, "abcd", 5);
    m.len = 8 + 13;
    mmap_tag(small_map, 2); /* written at 21; the builder pads m.len to 88 */
    finish();
    struct mb2_info in;
    cr_assert_neq(parse(&in), MB2_OK);
    cr_assert_eq(in.error_offset, 24);
}

Test(mb2, no_mmap)
{
    begin();
    str_tag(MB2_TAG_CMDLINE, "x");
    size_t e = finish();
    EXPECT(MB2_ERR_NO_MMAP, e);
}

/* Two tags of a unique type: the second one is the error. An 8-byte body
 * "x\0..." is a valid string, meminfo and EFI64 table pointer alike. */
static void dup_case(uint32_t type)
{
    begin();
    if (type != MB2_TAG_MMAP)
        mmap_tag(small_map, 2);
    size_t t = 0;
    for (int i = 0; i < 2; i++)
        t = type == MB2_TAG_MMAP ? mmap_tag(small_map, 1) : tag(type, "x\0\0\0\0\0\0", 8);
    finish();
    EXPECT(MB2_ERR_DUPLICATE_TAG, t);
}

Test(mb2, duplicate_tags)
{
    dup_case(MB2_TAG_CMDLINE);
    dup_case(MB2_TAG_BOOTLOADER_NAME);
    dup_case(MB2_TAG_BASIC_MEMINFO);
    dup_case(MB2_TAG_MMAP);
    dup_case(MB2_TAG_EFI64);
}

Test(mb2, duplicate_empty_mmap)
{
    begin();
    mmap_tag(NULL, 0);
    size_t t = mmap_tag(NULL, 0);
    finish();
    EXPECT(MB2_ERR_DUPLICATE_TAG, t);
}

/* ---- Strings ---- */

Test(mb2, unterminated_strings)
{
    /* The builder zero-pads each tag to 8 bytes: the NUL in the padding
     * must not count. */
    static const uint32_t types[] = {MB2_TAG_CMDLINE, MB2_TAG_BOOTLOADER_NAME};
    for (int i = 0; i < 2; i++) {
        bad_tag(types[i], "abc", 3, MB2_ERR_BAD_STRING);
        bad_tag(types[i], NULL, 0, MB2_ERR_BAD_STRING); /* no room for even the NUL */
    }
    begin();
    mmap_tag(small_map, 2);
    size_t t = module_tag(0x1000, 0x2000, "mod");
    put32(t + 4, 8 + 8 + 3); /* drop the NUL */
    finish();
    EXPECT(MB2_ERR_BAD_STRING, t);
}

Test(mb2, string_stops_at_first_nul)
{
    begin();
    mmap_tag(small_map, 2);
    tag(MB2_TAG_CMDLINE, "ab\0cd\0", 6);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.cmdline_len, 2);
    cr_assert_str_eq(in.cmdline, "ab");
}

/* ---- Modules and meminfo ---- */

Test(mb2, modules_beyond_capacity_counted)
{
    begin();
    mmap_tag(small_map, 2);
    for (uint32_t i = 0; i < 11; i++) {
        char name[16];
        snprintf(name, sizeof(name), "mod%u", i);
        module_tag(0x200000 + i * 0x1000, 0x200000 + i * 0x1000 + 0x800, name);
    }
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.module_count, 11);
    for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "mod%u", i);
        cr_assert_eq(in.modules[i].start, 0x200000 + i * 0x1000);
        cr_assert_eq(in.modules[i].end, 0x200800 + i * 0x1000);
        cr_assert_str_eq(in.modules[i].cmdline, name);
    }
}

Test(mb2, module_ranges)
{
    begin();
    mmap_tag(small_map, 2);
    size_t t = module_tag(0x5000, 0x4fff, "m");
    finish();
    EXPECT(MB2_ERR_MODULE_RANGE, t);
    begin();
    mmap_tag(small_map, 2);
    module_tag(0x5000, 0x5000, ""); /* empty module, empty string */
    module_tag(0, 0xffffffffu, "all");
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.module_count, 2);
    cr_assert_eq(in.modules[0].cmdline_len, 0);
    cr_assert_eq(in.modules[1].end, 0xffffffffu);
}

Test(mb2, fixed_fields_need_room)
{
    bad_tag(MB2_TAG_MODULE, "\0\0\0\0\0\0\0", 7, MB2_ERR_TAG_SIZE);
    bad_tag(MB2_TAG_BASIC_MEMINFO, "\0\0\0\0", 4, MB2_ERR_TAG_SIZE);
    bad_tag(MB2_TAG_EFI64, "\0\0\0\0", 4, MB2_ERR_TAG_SIZE);
    begin();
    size_t t = tag(MB2_TAG_MMAP, "\x18\0\0\0", 4); /* no entry_version */
    finish();
    EXPECT(MB2_ERR_TAG_SIZE, t);
}

/* ---- Memory map ---- */

Test(mb2, mmap_bad_entry_size)
{
    static const uint32_t bad[] = {0, 8, 16, 20, 23, 25, 28, 36, 0xffffffffu};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin();
        size_t t = mmap_tag(small_map, 2);
        put32(t + 8, bad[i]);
        finish();
        EXPECT(MB2_ERR_MMAP_ENTRY_SIZE, t);
    }
    begin();
    size_t t = mmap_tag(small_map, 2);
    put32(t + 8, 0xfffffff8u); /* aligned but absurd: the entries do not fit */
    finish();
    EXPECT(MB2_ERR_MMAP_OVERRUN, t);
}

Test(mb2, mmap_entries_past_tag_end)
{
    begin();
    size_t t = mmap_tag(small_map, 2);
    put32(t + 4, 16 + 24 + 12); /* 1.5 entries */
    finish();
    EXPECT(MB2_ERR_MMAP_OVERRUN, t);
    begin();
    t = mmap_tag(small_map, 2);
    put32(t + 4, 16 + 24 * 3); /* claims 3 entries: runs past the end tag */
    finish();
    EXPECT(MB2_ERR_TAG_OVERRUN, t);
}

Test(mb2, mmap_larger_entries)
{
    begin();
    mmap_tag_sized(grub_map, 6, 40);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.mmap_count, 6);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(in.mmap[i].base, grub_map[i].base);
        cr_assert_eq(in.mmap[i].length, grub_map[i].len);
        cr_assert_eq(in.mmap[i].type, grub_map[i].type);
    }
}

Test(mb2, mmap_capacity)
{
    static struct ent e[MB2_MAX_MMAP + 1];
    for (int i = 0; i <= MB2_MAX_MMAP; i++)
        e[i] = (struct ent){(uint64_t)i << 20, 1 << 20, MB2_MEM_AVAILABLE};
    begin();
    mmap_tag(e, MB2_MAX_MMAP);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.mmap_count, MB2_MAX_MMAP);
    cr_assert_eq(in.mmap[MB2_MAX_MMAP - 1].base, (uint64_t)(MB2_MAX_MMAP - 1) << 20);
    begin();
    size_t t = mmap_tag(e, MB2_MAX_MMAP + 1);
    finish();
    EXPECT(MB2_ERR_MMAP_TOO_MANY, t);
    e[0].len = 0; /* the limit counts raw entries, dropped or not */
    begin();
    mmap_tag(e, MB2_MAX_MMAP + 1);
    finish();
    EXPECT(MB2_ERR_MMAP_TOO_MANY, t);
}

Test(mb2, mmap_range_overflow)
{
    struct ent e[] = {{UINT64_MAX - 10, 11, MB2_MEM_RESERVED}};
    begin();
    size_t t = mmap_tag(e, 1); /* ends exactly at 2^64: not representable */
    finish();
    EXPECT(MB2_ERR_MMAP_RANGE, t);
    e[0] = (struct ent){0x1000, UINT64_MAX, MB2_MEM_AVAILABLE};
    begin();
    t = mmap_tag(e, 1);
    finish();
    EXPECT(MB2_ERR_MMAP_RANGE, t);
    e[0] = (struct ent){UINT64_MAX - 4095, 4095, MB2_MEM_RESERVED};
    begin();
    mmap_tag(e, 1);
    finish();
    EXPECT(MB2_OK, 0);
}

Test(mb2, mmap_zero_length_dropped)
{
    const struct ent e[] = {
        {0x1000, 0, MB2_MEM_AVAILABLE},
        {0x100000, 0x1000, MB2_MEM_AVAILABLE},
        {UINT64_MAX, 0, MB2_MEM_RESERVED},
        {0x200000, 0x2000, MB2_MEM_NVS},
    };
    begin();
    mmap_tag(e, 4);
    finish();
    struct mb2_info in;
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.mmap_count, 2);
    cr_assert_eq(in.mmap[0].base, 0x100000);
    cr_assert_eq(in.mmap[1].base, 0x200000);
    cr_assert_eq(in.mmap[1].type, MB2_MEM_NVS);
    begin();
    mmap_tag(NULL, 0); /* an empty map is legal; the kernel decides */
    finish();
    cr_assert_eq(parse(&in), MB2_OK);
    cr_assert_eq(in.mmap_count, 0);
}

/* ---- Robustness sweeps ---- */

Test(mb2, every_prefix_fails_cleanly)
{
    build_grub();
    size_t total = m.len;
    struct mb2_info in;
    for (size_t len = 0; len < total; len++) {
        /* The header still claims the full size. */
        cr_assert_neq(parse_len(len, &in), MB2_OK, "len %zu", len);
        /* The header agrees with the cut: the end tag is always lost. */
        if (len >= 8) {
            put32(0, (uint32_t)len);
            cr_assert_neq(parse_len(len, &in), MB2_OK, "len %zu", len);
            put32(0, (uint32_t)total);
        }
    }
    cr_assert_eq(parse_len(total, &in), MB2_OK);
}

Test(mb2, corrupted_bytes_and_words)
{
    static const uint8_t bvals[] = {0x00, 0x01, 0x07, 0x08, 0x7f, 0x80, 0xff};
    static const uint32_t wvals[] = {0, 7, 8, 9, 16, 24, 0x7fffffffu, 0xfffffff8u, 0xffffffffu};
    build_grub();
    size_t total = m.len;
    struct mb2_info in;
    for (size_t off = 0; off < total; off++) {
        uint8_t saved = bytes()[off];
        for (size_t v = 0; v < sizeof(bvals); v++) {
            bytes()[off] = bvals[v];
            if (parse(&in) == MB2_OK)
                check_invariants(copy, total, &in);
        }
        bytes()[off] = saved;
    }
    for (size_t off = 0; off + 4 <= total; off += 4) {
        uint8_t saved[4];
        memcpy(saved, bytes() + off, 4);
        for (size_t v = 0; v < sizeof(wvals) / sizeof(wvals[0]); v++) {
            put32(off, wvals[v]);
            if (parse(&in) == MB2_OK)
                check_invariants(copy, total, &in);
        }
        memcpy(bytes() + off, saved, 4);
    }
}

Test(mb2, random_garbage)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    struct mb2_info in;
    for (int iter = 0; iter < 20000; iter++) {
        build_grub();
        int flips = 1 + iter % 8;
        for (int i = 0; i < flips; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            bytes()[s % m.len] ^= (uint8_t)(1u << ((s >> 32) % 8));
        }
        if (parse(&in) == MB2_OK)
            check_invariants(copy, m.len, &in);
    }
}
