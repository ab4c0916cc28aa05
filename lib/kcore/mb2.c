/*
 * Multiboot2 boot information parser (Multiboot2 spec 1.0, section 3.6).
 *
 * The structure is treated as hostile. Every read goes through ld32/ld64,
 * which assemble little-endian values byte by byte from an offset that has
 * already been checked against the tag and total size, so there is no
 * out-of-bounds read, no unaligned access and no aliasing question, and the
 * compiler still folds each load into a single mov on x86.
 *
 * Choices the spec leaves open:
 *  - Anything after the end tag (inside total_size) is ignored.
 *  - Tags are only looked for at 8-byte aligned offsets, as the spec places
 *    them; a tag a loader put elsewhere is simply not found.
 *  - Memory map entries of length 0 are dropped (they carry nothing and
 *    would make "base + length - 1" wrap for consumers). The entry count
 *    limit applies to the raw entries, so the result does not depend on
 *    what gets dropped.
 *  - A region must end at or below 2^64 - 1: base + length == 2^64 does not
 *    fit a uint64_t end address and is rejected like any other overflow.
 *  - The entry version is ignored: later versions may only append fields,
 *    and entry_size tells us how far to step.
 *  - ACPI: the new (v2) RSDP wins over the old one whatever their order. Two
 *    tags of the same kind are a duplicate. The RSDP must be at least as
 *    long as its revision's fixed part (20 bytes v1, 36 bytes v2).
 */
#include "kcore/mb2.h"

#define HDR_SIZE       8u /* total_size, reserved */
#define TAG_HDR        8u /* type, size */
#define MMAP_HDR       8u /* entry_size, entry_version (after the tag header) */
#define MMAP_MIN_ENTRY 24u
#define RSDP_V1_LEN    20u
#define RSDP_V2_LEN    36u

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

/*
 * A string field occupies the len bytes at p (the rest of its tag). It is
 * valid only if a NUL occurs among them; its length is up to the first NUL.
 */
static bool get_string(const uint8_t *p, size_t len, const char **s, size_t *slen)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0) {
            *s = (const char *)p;
            *slen = i;
            return true;
        }
    }
    return false;
}

/* Parse one memory map tag whose body (after the tag header) is p[0..len). */
static enum mb2_status parse_mmap(const uint8_t *p, size_t len, struct mb2_info *out)
{
    if (len < MMAP_HDR)
        return MB2_ERR_TAG_SIZE;
    uint32_t esize = ld32(p);
    if (esize < MMAP_MIN_ENTRY || esize % 8 != 0)
        return MB2_ERR_MMAP_ENTRY_SIZE;
    size_t elen = len - MMAP_HDR;
    if (elen % esize != 0)
        return MB2_ERR_MMAP_OVERRUN;
    size_t n = elen / esize;
    if (n > MB2_MAX_MMAP)
        return MB2_ERR_MMAP_TOO_MANY;

    const uint8_t *e = p + MMAP_HDR;
    for (size_t i = 0; i < n; i++, e += esize) {
        uint64_t base = ld64(e);
        uint64_t length = ld64(e + 8);
        uint32_t type = ld32(e + 16);
        if (length == 0)
            continue;
        if (length > UINT64_MAX - base)
            return MB2_ERR_MMAP_RANGE;
        struct mb2_mem_region *r = &out->mmap[out->mmap_count++];
        r->base = base;
        r->length = length;
        r->type = type;
    }
    return MB2_OK;
}

static enum mb2_status parse_module(const uint8_t *p, size_t len, struct mb2_info *out)
{
    if (len < 8)
        return MB2_ERR_TAG_SIZE;
    uint32_t start = ld32(p);
    uint32_t end = ld32(p + 4);
    if (end < start)
        return MB2_ERR_MODULE_RANGE;
    const char *s;
    size_t slen;
    if (!get_string(p + 8, len - 8, &s, &slen))
        return MB2_ERR_BAD_STRING;
    /* Count every module so the caller can refuse a wrong count, but only
     * store as many as fit. */
    if (out->module_count < MB2_MAX_MODULES) {
        struct mb2_module *m = &out->modules[out->module_count];
        m->start = start;
        m->end = end;
        m->cmdline = s;
        m->cmdline_len = slen;
    }
    out->module_count++;
    return MB2_OK;
}

static enum mb2_status parse_acpi(const uint8_t *p, size_t len, bool v2, bool *seen,
                                  struct mb2_info *out)
{
    if (*seen)
        return MB2_ERR_DUPLICATE_TAG;
    *seen = true;
    if (len < (v2 ? RSDP_V2_LEN : RSDP_V1_LEN))
        return MB2_ERR_TAG_SIZE;
    if (v2 || !out->acpi_rsdp_v2) {
        out->acpi_rsdp = p;
        out->acpi_rsdp_len = len;
        out->acpi_rsdp_v2 = v2;
    }
    return MB2_OK;
}

/* Tag-type state that must not leak into *out until parsing is done. */
struct seen {
    bool mmap, acpi_old, acpi_new;
};

static enum mb2_status parse_tag(uint32_t type, const uint8_t *p, size_t len, struct seen *seen,
                                 struct mb2_info *out)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
        if (out->cmdline)
            return MB2_ERR_DUPLICATE_TAG;
        if (!get_string(p, len, &out->cmdline, &out->cmdline_len))
            return MB2_ERR_BAD_STRING;
        return MB2_OK;
    case MB2_TAG_BOOTLOADER_NAME:
        if (out->bootloader_name)
            return MB2_ERR_DUPLICATE_TAG;
        if (!get_string(p, len, &out->bootloader_name, &out->bootloader_name_len))
            return MB2_ERR_BAD_STRING;
        return MB2_OK;
    case MB2_TAG_MODULE:
        return parse_module(p, len, out);
    case MB2_TAG_BASIC_MEMINFO:
        if (out->has_basic_meminfo)
            return MB2_ERR_DUPLICATE_TAG;
        if (len < 8)
            return MB2_ERR_TAG_SIZE;
        out->has_basic_meminfo = true;
        out->mem_lower_kib = ld32(p);
        out->mem_upper_kib = ld32(p + 4);
        return MB2_OK;
    case MB2_TAG_MMAP:
        if (seen->mmap)
            return MB2_ERR_DUPLICATE_TAG;
        seen->mmap = true;
        return parse_mmap(p, len, out);
    case MB2_TAG_ACPI_OLD:
        return parse_acpi(p, len, false, &seen->acpi_old, out);
    case MB2_TAG_ACPI_NEW:
        return parse_acpi(p, len, true, &seen->acpi_new, out);
    case MB2_TAG_EFI64:
        if (out->has_efi64)
            return MB2_ERR_DUPLICATE_TAG;
        if (len < 8)
            return MB2_ERR_TAG_SIZE;
        out->has_efi64 = true;
        out->efi64_system_table = ld64(p);
        return MB2_OK;
    case MB2_TAG_EFI_BS_NOT_TERMINATED:
        out->efi_bs_not_terminated = true;
        return MB2_OK;
    default:
        return MB2_OK; /* unknown tags are skipped */
    }
}

/* Reset *out field by field: a struct assignment could become a memset call,
 * and the arrays are only meaningful up to their counts anyway. */
static void clear_info(struct mb2_info *out)
{
    out->total_size = 0;
    out->cmdline = NULL;
    out->cmdline_len = 0;
    out->bootloader_name = NULL;
    out->bootloader_name_len = 0;
    out->has_basic_meminfo = false;
    out->mem_lower_kib = 0;
    out->mem_upper_kib = 0;
    out->mmap_count = 0;
    out->module_count = 0;
    out->acpi_rsdp = NULL;
    out->acpi_rsdp_len = 0;
    out->acpi_rsdp_v2 = false;
    out->has_efi64 = false;
    out->efi64_system_table = 0;
    out->efi_bs_not_terminated = false;
    out->error_offset = 0;
}

enum mb2_status mb2_parse(const void *buf, size_t buf_len, struct mb2_info *out)
{
    if (!out)
        return MB2_ERR_NULL;
    clear_info(out);
    if (!buf)
        return MB2_ERR_NULL;
    if ((uintptr_t)buf % 8 != 0)
        return MB2_ERR_MISALIGNED;
    if (buf_len < HDR_SIZE)
        return MB2_ERR_TRUNCATED;

    const uint8_t *b = buf;
    uint32_t total = ld32(b);
    if (total < HDR_SIZE + TAG_HDR || total > buf_len || total > MB2_MAX_TOTAL_SIZE)
        return MB2_ERR_TOTAL_SIZE;
    out->total_size = total;

    struct seen seen = {false, false, false};
    /* off is 8-aligned and <= total + 7 throughout; total <= 1 MiB, so none of
     * the sums below can overflow. */
    size_t off = HDR_SIZE;
    for (;;) {
        out->error_offset = (uint32_t)off;
        if (off > total || total - off < TAG_HDR)
            return MB2_ERR_NO_END_TAG;
        uint32_t type = ld32(b + off);
        uint32_t size = ld32(b + off + 4);
        if (size < TAG_HDR)
            return MB2_ERR_TAG_SIZE;
        if (size > total - off)
            return MB2_ERR_TAG_OVERRUN;
        if (type == MB2_TAG_END) {
            if (size != TAG_HDR)
                return MB2_ERR_TAG_SIZE;
            break;
        }
        enum mb2_status st = parse_tag(type, b + off + TAG_HDR, size - TAG_HDR, &seen, out);
        if (st != MB2_OK)
            return st;
        off += ((size_t)size + 7) & ~(size_t)7;
    }
    if (!seen.mmap)
        return MB2_ERR_NO_MMAP;
    out->error_offset = 0;
    return MB2_OK;
}

enum mb2_status mb2_check_magic(uint32_t eax)
{
    return eax == MB2_BOOTLOADER_MAGIC ? MB2_OK : MB2_ERR_BAD_MAGIC;
}

static const char *const status_names[MB2_ERR_COUNT_] = {
    [MB2_OK] = "ok",
    [MB2_ERR_BAD_MAGIC] = "bad multiboot2 magic",
    [MB2_ERR_NULL] = "no boot information",
    [MB2_ERR_MISALIGNED] = "boot information not 8-byte aligned",
    [MB2_ERR_TRUNCATED] = "boot information truncated",
    [MB2_ERR_TOTAL_SIZE] = "bad total size",
    [MB2_ERR_TAG_SIZE] = "tag too small for its type",
    [MB2_ERR_TAG_OVERRUN] = "tag runs past end",
    [MB2_ERR_NO_END_TAG] = "no end tag",
    [MB2_ERR_DUPLICATE_TAG] = "duplicate tag",
    [MB2_ERR_BAD_STRING] = "string not NUL-terminated",
    [MB2_ERR_MMAP_ENTRY_SIZE] = "bad memory map entry size",
    [MB2_ERR_MMAP_OVERRUN] = "memory map entries do not fit the tag",
    [MB2_ERR_MMAP_TOO_MANY] = "too many memory map entries",
    [MB2_ERR_MMAP_RANGE] = "memory region wraps past 2^64",
    [MB2_ERR_MODULE_RANGE] = "module ends before it starts",
    [MB2_ERR_NO_MMAP] = "no memory map",
};

const char *mb2_status_str(enum mb2_status s)
{
    if ((unsigned)s < MB2_ERR_COUNT_ && status_names[s])
        return status_names[s];
    return "unknown status";
}

const char *mb2_mem_type_str(uint32_t type)
{
    switch (type) {
    case MB2_MEM_AVAILABLE:
        return "available";
    case MB2_MEM_RESERVED:
        return "reserved";
    case MB2_MEM_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case MB2_MEM_NVS:
        return "ACPI NVS";
    case MB2_MEM_BADRAM:
        return "bad RAM";
    default:
        return "unknown";
    }
}
