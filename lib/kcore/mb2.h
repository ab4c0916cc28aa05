/*
 * Multiboot2 boot information parser.
 *
 * Pure, freestanding code: it never trusts the structure the boot loader
 * left in memory. Every length is checked against the buffer before it is
 * read, so a truncated, misaligned, overlapping or absurdly sized tag yields
 * a typed error instead of an out-of-bounds read. Strings are returned as
 * (pointer, length) pairs into the caller's buffer and are only reported
 * when they are NUL-terminated inside their tag.
 */
#ifndef CAPOS_LIB_MB2_H
#define CAPOS_LIB_MB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Tag types we interpret (Multiboot2 spec, section 3.6). */
#define MB2_TAG_END                   0
#define MB2_TAG_CMDLINE               1
#define MB2_TAG_BOOTLOADER_NAME       2
#define MB2_TAG_MODULE                3
#define MB2_TAG_BASIC_MEMINFO         4
#define MB2_TAG_MMAP                  6
#define MB2_TAG_ACPI_OLD              14
#define MB2_TAG_ACPI_NEW              15
#define MB2_TAG_EFI64                 12
#define MB2_TAG_EFI_BS_NOT_TERMINATED 18

/* Memory map entry types. */
#define MB2_MEM_AVAILABLE        1
#define MB2_MEM_RESERVED         2
#define MB2_MEM_ACPI_RECLAIMABLE 3
#define MB2_MEM_NVS              4
#define MB2_MEM_BADRAM           5

/* Fixed capacity of the parsed result; more entries is an error, never a
 * silent truncation. */
#define MB2_MAX_MMAP    128
#define MB2_MAX_MODULES 8
/* The largest boot information structure we accept. GRUB's is a few KiB. */
#define MB2_MAX_TOTAL_SIZE (1u << 20)

enum mb2_status {
    MB2_OK = 0,
    MB2_ERR_BAD_MAGIC,       /* EAX did not hold MB2_BOOTLOADER_MAGIC */
    MB2_ERR_NULL,            /* no buffer */
    MB2_ERR_MISALIGNED,      /* buffer not 8-byte aligned (tags are only
                              * looked for at 8-aligned offsets) */
    MB2_ERR_TRUNCATED,       /* buffer shorter than the fixed header */
    MB2_ERR_TOTAL_SIZE,      /* total_size < 16, > buffer or > MB2_MAX_TOTAL_SIZE */
    MB2_ERR_TAG_SIZE,        /* a tag's size is smaller than its type needs,
                              * or an end tag whose size is not 8 */
    MB2_ERR_TAG_OVERRUN,     /* a tag runs past total_size */
    MB2_ERR_NO_END_TAG,      /* tags ran out before an end tag */
    MB2_ERR_DUPLICATE_TAG,   /* a tag that must be unique appears twice */
    MB2_ERR_BAD_STRING,      /* a string not NUL-terminated inside its tag */
    MB2_ERR_MMAP_ENTRY_SIZE, /* entry_size < 24 or not a multiple of 8 */
    MB2_ERR_MMAP_OVERRUN,    /* the entries do not fit the tag exactly */
    MB2_ERR_MMAP_TOO_MANY,   /* more than MB2_MAX_MMAP entries */
    MB2_ERR_MMAP_RANGE,      /* base + length overflows 64 bits */
    MB2_ERR_MODULE_RANGE,    /* module end < start */
    MB2_ERR_NO_MMAP,         /* no memory map tag */
    MB2_ERR_COUNT_
};

struct mb2_mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

struct mb2_module {
    uint32_t start; /* physical, inclusive */
    uint32_t end;   /* physical, exclusive */
    const char *cmdline;
    size_t cmdline_len;
};

struct mb2_info {
    uint32_t total_size;
    const char *cmdline; /* NULL when the tag is absent */
    size_t cmdline_len;
    const char *bootloader_name;
    size_t bootloader_name_len;
    bool has_basic_meminfo;
    uint32_t mem_lower_kib, mem_upper_kib;
    /* Regions in map order. Zero-length entries are dropped; every kept
     * region satisfies base + length <= UINT64_MAX. */
    uint32_t mmap_count;
    struct mb2_mem_region mmap[MB2_MAX_MMAP];
    /* Every module tag seen, even beyond MB2_MAX_MODULES, is counted so that
     * the kernel can refuse a boot with the wrong number of modules. */
    uint32_t module_count;
    struct mb2_module modules[MB2_MAX_MODULES];
    /* Copy of the RSDP inside the tag, or NULL. The v2 (ACPI new) tag wins
     * over the v1 one; acpi_rsdp_len is at least 20 (v1) or 36 (v2). */
    const void *acpi_rsdp;
    size_t acpi_rsdp_len;
    bool acpi_rsdp_v2;
    /* EFI 64-bit system table pointer (tag 12), when booted through UEFI. */
    bool has_efi64;
    uint64_t efi64_system_table;
    /* Tag 18: the loader left EFI boot services running. */
    bool efi_bs_not_terminated;
    /* On error: byte offset of the offending tag inside the buffer; 0 for
     * errors in the fixed header, the end tag's offset for MB2_ERR_NO_MMAP,
     * where the next tag was expected for MB2_ERR_NO_END_TAG. 0 on success. */
    uint32_t error_offset;
};

/*
 * Parse the boot information at buf, of which at most buf_len bytes may be
 * read. buf must stay alive while *out is used (strings point into it).
 * On error *out holds whatever was parsed before the error, plus
 * error_offset, and must not be trusted.
 */
enum mb2_status mb2_parse(const void *buf, size_t buf_len, struct mb2_info *out);

/* Checks magic first: the value the boot loader left in EAX. */
enum mb2_status mb2_check_magic(uint32_t eax);

/* A short human-readable description of a status ("tag runs past end"). */
const char *mb2_status_str(enum mb2_status s);

/* A name for a memory type ("available", "reserved", "ACPI", ...). */
const char *mb2_mem_type_str(uint32_t type);

#endif
