/*
 * Host tests for the ELF64 loader validation. Images are built in memory
 * with a small builder and parsed from an exactly sized heap copy, so ASan
 * catches any read past the bytes the parser was given. The last tests
 * parse a real static executable the build compiles (build/host/elf_sample)
 * and compare with what readelf says about it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capos/layout.h"
#include "kcore/elf64.h"

#ifndef ELF_SAMPLE
#define ELF_SAMPLE "build/host/elf_sample"
#endif

#define BASE  CAPOS_USER_IMAGE_BASE
#define LIMIT CAPOS_USER_IMAGE_LIMIT

#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_NOTE      4
#define PT_TLS       7
#define PT_GNU_STACK 0x6474e551u
#define PT_GNU_RELRO 0x6474e552u
#define R            4u
#define W            2u
#define X            1u
#define PG           0x1000u

/* ---- Builder ---- */

static struct {
    uint8_t b[0x8000];
    size_t len;
    uint16_t phnum;
} im; /* each Criterion test runs in its own process */

/* Store v little endian in `width` bytes at off. */
static void put(size_t off, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        im.b[off + i] = (uint8_t)(v >> (8 * i));
}

/* An ELF header with no program headers, entry at 0x401000, file length
 * 0x3000. */
static void begin(void)
{
    memset(&im, 0, sizeof(im));
    memcpy(im.b,
           "\x7f"
           "ELF\x02\x01\x01",
           7);
    put(16, 2, 2);  /* ET_EXEC */
    put(18, 2, 62); /* EM_X86_64 */
    put(20, 4, 1);  /* EV_CURRENT */
    put(24, 8, 0x401000);
    put(32, 8, 64); /* phoff */
    put(52, 2, 64); /* ehsize */
    put(54, 2, 56); /* phentsize */
    im.len = 0x3000;
}

/* Offset of program header i. */
static size_t phoff(uint32_t i)
{
    return 64 + (size_t)i * 56;
}

/* Append a program header; returns its index. */
static uint32_t ph(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz,
                   uint64_t memsz, uint64_t align)
{
    uint32_t i = im.phnum++;
    size_t p = phoff(i);
    put(p, 4, type);
    put(p + 4, 4, flags);
    put(p + 8, 8, off);
    put(p + 16, 8, vaddr);
    put(p + 24, 8, vaddr); /* paddr, ignored */
    put(p + 32, 8, filesz);
    put(p + 40, 8, memsz);
    put(p + 48, 8, align);
    put(56, 2, im.phnum);
    return i;
}

static void set_entry(uint64_t e)
{
    put(24, 8, e);
}

/* One text segment holding the entry point. */
static void minimal(void)
{
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x100, 0x100, PG);
}

/* What the toolchain makes of a small static program (see elf_sample.c):
 * headers, text, rodata, and data+bss starting mid-page with TLS. */
static void typical(void)
{
    begin();
    ph(PT_LOAD, R, 0, 0x400000, 0x200, 0x200, PG);
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x4b, 0x4b, PG);
    ph(PT_LOAD, R, 0x2000, 0x402000, 0x34, 0x34, PG);
    ph(PT_LOAD, R | W, 0x2ffc, 0x403ffc, 0x8, 0x2024, PG);
    ph(PT_NOTE, R, 0x200, 0x400200, 0x24, 0x24, 4);
    ph(PT_TLS, R, 0x2ffc, 0x403ffc, 0x4, 0x8, 4);
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16);
    ph(PT_GNU_RELRO, R, 0x2ffc, 0x403ffc, 0x4, 0x4, 1);
    im.len = 0x3004;
}

/* Parse the first len bytes from an exactly sized heap copy. */
static enum elf64_status parse_n(size_t len, struct elf64_info *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, im.b, len);
    enum elf64_status st = elf64_parse(copy, len, BASE, LIMIT, out);
    free(copy);
    return st;
}

static enum elf64_status parse(struct elf64_info *out)
{
    return parse_n(im.len, out);
}

#define expect(st, idx)                                                                            \
    do {                                                                                           \
        struct elf64_info inf_;                                                                    \
        enum elf64_status got_ = parse(&inf_);                                                     \
        cr_assert_eq(got_, (st), "status \"%s\", expected \"%s\"", elf64_status_str(got_),         \
                     elf64_status_str(st));                                                        \
        cr_assert_eq(inf_.error_phdr, (uint32_t)(idx), "error_phdr %u, expected %u",               \
                     inf_.error_phdr, (uint32_t)(idx));                                            \
    } while (0)

#define NONE ELF64_NO_PHDR

/* What every successful parse must guarantee. */
static void check_invariants(const struct elf64_info *in, size_t len)
{
    cr_assert_geq(in->nsegs, 1);
    cr_assert_leq(in->nsegs, ELF64_MAX_LOADS);
    uint64_t pages = 0;
    bool entry_ok = false;
    for (uint32_t i = 0; i < in->nsegs; i++) {
        const struct elf64_segment *s = &in->segs[i];
        cr_assert_geq(s->vaddr, BASE);
        cr_assert_gt(s->memsz, 0);
        cr_assert_leq(s->memsz, LIMIT - s->vaddr);
        cr_assert_leq(s->filesz, s->memsz);
        cr_assert_leq(s->offset, len);
        cr_assert_leq(s->filesz, len - s->offset);
        cr_assert(s->perms & ELF64_PERM_R);
        cr_assert_neq(s->perms & (ELF64_PERM_W | ELF64_PERM_X), ELF64_PERM_W | ELF64_PERM_X);
        uint64_t lo = s->vaddr / PG, hi = (s->vaddr + s->memsz + PG - 1) / PG;
        pages += hi - lo;
        for (uint32_t j = 0; j < i; j++) {
            const struct elf64_segment *o = &in->segs[j];
            uint64_t olo = o->vaddr / PG, ohi = (o->vaddr + o->memsz + PG - 1) / PG;
            cr_assert(hi <= olo || ohi <= lo, "segments %u and %u share a page", j, i);
        }
        if ((s->perms & ELF64_PERM_X) && in->entry >= s->vaddr && in->entry < s->vaddr + s->filesz)
            entry_ok = true;
    }
    cr_assert(entry_ok);
    cr_assert_eq(in->pages, pages);
    cr_assert_eq(in->error_phdr, NONE);
}

/* ---- Valid images ---- */

Test(elf64, minimal)
{
    minimal();
    struct elf64_info in;
    cr_assert_eq(parse(&in), ELF64_OK);
    check_invariants(&in, im.len);
    cr_assert_eq(in.entry, 0x401000);
    cr_assert_eq(in.nsegs, 1);
    cr_assert_eq(in.segs[0].vaddr, 0x401000);
    cr_assert_eq(in.segs[0].memsz, 0x100);
    cr_assert_eq(in.segs[0].offset, 0x1000);
    cr_assert_eq(in.segs[0].filesz, 0x100);
    cr_assert_eq(in.segs[0].perms, ELF64_PERM_R | ELF64_PERM_X);
    cr_assert_eq(in.segs[0].phdr, 0);
    cr_assert_eq(in.pages, 1);
    cr_assert_not(in.has_tls);
}

Test(elf64, typical_every_field)
{
    typical();
    struct elf64_info in;
    cr_assert_eq(parse(&in), ELF64_OK);
    check_invariants(&in, im.len);
    cr_assert_eq(in.nsegs, 4);
    cr_assert_eq(in.segs[0].perms, ELF64_PERM_R);
    cr_assert_eq(in.segs[1].perms, ELF64_PERM_R | ELF64_PERM_X);
    cr_assert_eq(in.segs[2].perms, ELF64_PERM_R);
    cr_assert_eq(in.segs[3].perms, ELF64_PERM_R | ELF64_PERM_W);
    cr_assert_eq(in.segs[3].vaddr, 0x403ffc);
    cr_assert_eq(in.segs[3].filesz, 8);
    cr_assert_eq(in.segs[3].memsz, 0x2024);
    /* 0x403000..0x406020 is four pages. */
    cr_assert_eq(in.pages, 1 + 1 + 1 + 4);
    cr_assert(in.has_tls);
    cr_assert_eq(in.tls.vaddr, 0x403ffc);
    cr_assert_eq(in.tls.offset, 0x2ffc);
    cr_assert_eq(in.tls.filesz, 4);
    cr_assert_eq(in.tls.memsz, 8);
    cr_assert_eq(in.tls.align, 4);
}

Test(elf64, gnu_osabi_accepted)
{
    minimal();
    im.b[7] = 3;
    expect(ELF64_OK, NONE);
}

Test(elf64, empty_load_dropped)
{
    minimal();
    ph(PT_LOAD, R | W, 0x1000, 0x401000, 0, 0, PG); /* same page, but empty */
    struct elf64_info in;
    cr_assert_eq(parse(&in), ELF64_OK);
    cr_assert_eq(in.nsegs, 1);
}

Test(elf64, align_zero_and_one_accepted)
{
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x100, 0x100, 0);
    ph(PT_LOAD, R, 0x1234, 0x402001, 0x10, 0x10, 1);
    expect(ELF64_OK, NONE);
}

Test(elf64, segments_touching_at_page_boundary)
{
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x1000, 0x1000, PG);
    ph(PT_LOAD, R, 0x2000, 0x402000, 0x10, 0x10, PG);
    expect(ELF64_OK, NONE);
}

Test(elf64, ignored_types)
{
    minimal();
    ph(0, 0, 0, 0, 0, 0, 0);                       /* PT_NULL */
    ph(6, R, 64, 0x400040, 56 * 4, 56 * 4, 8);     /* PT_PHDR */
    ph(0x6474e550u, R, 0x1000, 0x401000, 1, 1, 4); /* PT_GNU_EH_FRAME */
    ph(0x70000001u, R, 0, 0, 0, 0, 0);             /* processor specific */
    expect(ELF64_OK, NONE);
}

Test(elf64, tls_bss_only_align_zero)
{
    minimal();
    ph(PT_TLS, R, 0x2000, 0x402000, 0, 0x40, 0);
    struct elf64_info in;
    cr_assert_eq(parse(&in), ELF64_OK);
    cr_assert(in.has_tls);
    cr_assert_eq(in.tls.memsz, 0x40);
    cr_assert_eq(in.tls.align, 1);
}

Test(elf64, sixteen_segments)
{
    begin();
    for (uint32_t i = 0; i < ELF64_MAX_LOADS; i++)
        ph(PT_LOAD, i == 0 ? R | X : R, 0x1000, 0x401000 + i * PG, 0x10, 0x10, PG);
    expect(ELF64_OK, NONE);
}

/* ---- Arguments and ELF header ---- */

Test(elf64, null_and_bad_range)
{
    minimal();
    struct elf64_info in;
    cr_assert_eq(elf64_parse(NULL, 64, BASE, LIMIT, &in), ELF64_ERR_NULL);
    cr_assert_eq(elf64_parse(im.b, im.len, BASE, LIMIT, NULL), ELF64_ERR_NULL);
    cr_assert_eq(elf64_parse(im.b, im.len, BASE + 1, LIMIT, &in), ELF64_ERR_USER_RANGE);
    cr_assert_eq(elf64_parse(im.b, im.len, BASE, LIMIT - 1, &in), ELF64_ERR_USER_RANGE);
    cr_assert_eq(elf64_parse(im.b, im.len, LIMIT, BASE, &in), ELF64_ERR_USER_RANGE);
    cr_assert_eq(elf64_parse(im.b, im.len, BASE, BASE, &in), ELF64_ERR_USER_RANGE);
    /* The top page of the address space is a legal (page aligned) limit. */
    cr_assert_eq(elf64_parse(im.b, im.len, BASE, UINT64_MAX & ~0xfffull, &in), ELF64_OK);
}

/* One header field set to a bad value, on the minimal image. */
struct hdr_case {
    const char *what;
    size_t off;
    unsigned width; /* bytes: 1, 2, 4 or 8 */
    uint64_t val;
    enum elf64_status want;
};

static const struct hdr_case hdr_cases[] = {
    {"bad magic", 1, 1, 'e', ELF64_ERR_MAGIC},
    {"32-bit class", 4, 1, 1, ELF64_ERR_CLASS},
    {"no class", 4, 1, 0, ELF64_ERR_CLASS},
    {"big endian", 5, 1, 2, ELF64_ERR_DATA},
    {"EI_VERSION 2", 6, 1, 2, ELF64_ERR_VERSION},
    {"e_version 0", 20, 4, 0, ELF64_ERR_VERSION},
    {"FreeBSD OS ABI", 7, 1, 9, ELF64_ERR_OSABI},
    {"ABI version 1", 8, 1, 1, ELF64_ERR_OSABI},
    {"ET_NONE", 16, 2, 0, ELF64_ERR_TYPE},
    {"ET_REL", 16, 2, 1, ELF64_ERR_TYPE},
    {"ET_DYN", 16, 2, 3, ELF64_ERR_TYPE},
    {"ET_CORE", 16, 2, 4, ELF64_ERR_TYPE},
    {"OS-specific type", 16, 2, 0xfe00, ELF64_ERR_TYPE},
    {"EM_386", 18, 2, 3, ELF64_ERR_MACHINE},
    {"EM_AARCH64", 18, 2, 183, ELF64_ERR_MACHINE},
    {"e_flags 1", 48, 4, 1, ELF64_ERR_FLAGS},
    {"e_ehsize 52", 52, 2, 52, ELF64_ERR_EHSIZE},
    {"e_phentsize 32", 54, 2, 32, ELF64_ERR_PHENTSIZE},
    {"e_phentsize 64", 54, 2, 64, ELF64_ERR_PHENTSIZE},
    {"no program headers", 56, 2, 0, ELF64_ERR_PHNUM},
    {"too many program headers", 56, 2, ELF64_MAX_PHDRS + 1, ELF64_ERR_PHNUM},
    {"PN_XNUM", 56, 2, 0xffff, ELF64_ERR_PHNUM},
    {"phoff at end of file", 32, 8, 0x3000, ELF64_ERR_PHOFF},
    {"phoff far past the file", 32, 8, 0x10000000, ELF64_ERR_PHOFF},
    {"phoff misaligned", 32, 8, 68, ELF64_ERR_PHOFF},
    {"phoff 0 (inside the ELF header)", 32, 8, 0, ELF64_ERR_PHOFF},
    {"phoff 56 (inside the ELF header)", 32, 8, 56, ELF64_ERR_PHOFF},
    {"phoff + table wraps", 32, 8, UINT64_MAX - 7, ELF64_ERR_PHOFF},
};

Test(elf64, header_fields)
{
    for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
        const struct hdr_case *c = &hdr_cases[i];
        minimal();
        put(c->off, c->width, c->val);
        struct elf64_info in;
        enum elf64_status got = parse(&in);
        cr_assert_eq(got, c->want, "%s: \"%s\", expected \"%s\"", c->what, elf64_status_str(got),
                     elf64_status_str(c->want));
        cr_assert_eq(in.error_phdr, NONE, "%s", c->what);
    }
}

Test(elf64, truncated_header)
{
    minimal();
    im.len = 63;
    expect(ELF64_ERR_TRUNCATED, NONE);
    im.len = 0;
    expect(ELF64_ERR_TRUNCATED, NONE);
}

Test(elf64, phoff_table_one_byte_short)
{
    minimal();
    memcpy(im.b + im.len - 56, im.b + 64, 56);
    put(32, 8, im.len - 56);
    expect(ELF64_OK, NONE);
    put(32, 8, im.len - 48); /* aligned, but the table ends 8 bytes late */
    expect(ELF64_ERR_PHOFF, NONE);
    im.len = im.len - 1;
    put(32, 8, im.len + 1 - 56);
    expect(ELF64_ERR_PHOFF, NONE);
}

/* ---- Program headers ---- */

/* One program header appended to the minimal image, as index 1. */
struct ph_case {
    const char *what;
    uint32_t type, flags;
    uint64_t off, vaddr, filesz, memsz, align;
    enum elf64_status want;
};

#define TLS_MAX ELF64_MAX_TLS_SIZE
static const struct ph_case ph_cases[] = {
    /* Where a segment lies. */
    {"below the user range", PT_LOAD, R, 0, BASE - PG, 16, 16, PG, ELF64_ERR_SEG_RANGE},
    {"at address 0", PT_LOAD, R, 0, 0, 16, 16, PG, ELF64_ERR_SEG_RANGE},
    {"one byte past the limit", PT_LOAD, R, 0x2000, LIMIT - PG, 16, PG + 1, PG,
     ELF64_ERR_SEG_RANGE},
    {"at the limit", PT_LOAD, R, 0x2000, LIMIT, 16, 16, PG, ELF64_ERR_SEG_RANGE},
    {"in the kernel half", PT_LOAD, R, 0x2000, 0xffffffff80002000, 16, 16, PG, ELF64_ERR_SEG_RANGE},
    {"vaddr + memsz wraps", PT_LOAD, R, 0x2000, 0x402000, 16, UINT64_MAX - 0x401fff, PG,
     ELF64_ERR_SEG_OVERFLOW},
    {"last page of memory", PT_LOAD, R, 0x2000, 0xfffffffffffff000, 16, PG, PG,
     ELF64_ERR_SEG_OVERFLOW},
    {"shares the text page", PT_LOAD, R, 0x1000, 0x401000, 16, 16, PG, ELF64_ERR_SEG_OVERLAP},
    /* Its file bytes. */
    {"filesz > memsz", PT_LOAD, R, 0x2000, 0x402000, 17, 16, PG, ELF64_ERR_SEG_SIZE},
    {"file bytes past the end", PT_LOAD, R, 0x2000, 0x402000, PG + 1, PG + 1, PG,
     ELF64_ERR_SEG_FILE},
    {"offset past the end", PT_LOAD, R, 0x3001, 0x402001, 0, 16, PG, ELF64_ERR_SEG_FILE},
    {"offset + filesz wraps", PT_LOAD, R, UINT64_MAX - 0xfff, 0x402000, 0x2000, 0x2000, PG,
     ELF64_ERR_SEG_FILE},
    /* Alignment. */
    {"align not a power of two", PT_LOAD, R, 0x2000, 0x402000, 16, 16, 0x1001, ELF64_ERR_SEG_ALIGN},
    {"vaddr != offset mod align", PT_LOAD, R, 0x2010, 0x402000, 16, 16, PG, ELF64_ERR_SEG_ALIGN},
    {"align 2^63", PT_LOAD, R, 0x2000, 0x402000, 16, 16, 1ull << 63, ELF64_ERR_SEG_ALIGN},
    /* Permissions. */
    {"W+X", PT_LOAD, R | W | X, 0x2000, 0x402000, 16, 16, PG, ELF64_ERR_SEG_WX},
    {"PF_MASKOS flag", PT_LOAD, R | 0x00100000u, 0x2000, 0x402000, 16, 16, PG, ELF64_ERR_SEG_FLAGS},
    {"no flags", PT_LOAD, 0, 0x2000, 0x402000, 16, 16, PG, ELF64_ERR_SEG_FLAGS},
    {"write-only", PT_LOAD, W, 0x2000, 0x402000, 16, 16, PG, ELF64_ERR_SEG_FLAGS},
    /* Types that would change how the image must be loaded. */
    {"PT_DYNAMIC", PT_DYNAMIC, R, 0x2000, 0x402000, 16, 16, 8, ELF64_ERR_SEG_TYPE},
    {"PT_INTERP", PT_INTERP, R, 0x2000, 0x402000, 16, 16, 1, ELF64_ERR_SEG_TYPE},
    {"PT_SHLIB", 5, R, 0, 0, 0, 0, 0, ELF64_ERR_SEG_TYPE},
    {"generic type 8", 8, R, 0, 0, 0, 0, 0, ELF64_ERR_SEG_TYPE},
    {"below PT_LOOS", 0x5fffffff, R, 0, 0, 0, 0, 0, ELF64_ERR_SEG_TYPE},
    {"above PT_HIPROC", 0x80000000, R, 0, 0, 0, 0, 0, ELF64_ERR_SEG_TYPE},
    {"type 2^32-1", 0xffffffff, R, 0, 0, 0, 0, 0, ELF64_ERR_SEG_TYPE},
    /* TLS. */
    {"TLS in no PT_LOAD", PT_TLS, R, 0x2000, 0x402000, 16, 16, 8, ELF64_ERR_TLS_RANGE},
    {"TLS past its segment", PT_TLS, R, 0x10f8, 0x4010f8, 16, 16, 8, ELF64_ERR_TLS_RANGE},
    {"TLS vaddr != offset", PT_TLS, R, 0x1010, 0x401020, 16, 16, 8, ELF64_ERR_TLS_RANGE},
    {"empty TLS past the file", PT_TLS, R, 0x3001, 0x403000, 0, 16, 8, ELF64_ERR_TLS_RANGE},
    {"TLS offset wraps", PT_TLS, R, UINT64_MAX, 0x401000, 2, 16, 8, ELF64_ERR_TLS_RANGE},
    {"TLS filesz > memsz", PT_TLS, R, 0x1000, 0x401000, 17, 16, 8, ELF64_ERR_TLS_SIZE},
    {"TLS too big", PT_TLS, R, 0x1000, 0x401000, 16, TLS_MAX + 1ull, 8, ELF64_ERR_TLS_SIZE},
    {"TLS align 3", PT_TLS, R, 0x1000, 0x401000, 16, 16, 3, ELF64_ERR_TLS_ALIGN},
    {"TLS align 24", PT_TLS, R, 0x1000, 0x401000, 16, 16, 24, ELF64_ERR_TLS_ALIGN},
    {"TLS align 8192", PT_TLS, R, 0x1000, 0x401000, 16, 16, 8192, ELF64_ERR_TLS_ALIGN},
    {"TLS align 2^63", PT_TLS, R, 0x1000, 0x401000, 16, 16, 1ull << 63, ELF64_ERR_TLS_ALIGN},
    /* Stack. */
    {"executable stack", PT_GNU_STACK, R | W | X, 0, 0, 0, 0, 16, ELF64_ERR_STACK_EXEC},
    /* Accepted, for contrast. */
    {"ends at the end of the file", PT_LOAD, R, 0x2000, 0x402000, PG, PG, PG, ELF64_OK},
    {"ends at the user limit", PT_LOAD, R | W, 0x2000, LIMIT - 3 * PG, 16, 3 * PG, PG, ELF64_OK},
    {"empty TLS at the end", PT_TLS, R, 0x3000, 0x403000, 0, 16, 8, ELF64_OK},
    {"stack RW", PT_GNU_STACK, R | W, 0, 0, 0, 0, 16, ELF64_OK},
};

Test(elf64, one_program_header)
{
    for (size_t i = 0; i < sizeof(ph_cases) / sizeof(ph_cases[0]); i++) {
        const struct ph_case *c = &ph_cases[i];
        minimal();
        ph(c->type, c->flags, c->off, c->vaddr, c->filesz, c->memsz, c->align);
        struct elf64_info in;
        enum elf64_status got = parse(&in);
        cr_assert_eq(got, c->want, "%s: \"%s\", expected \"%s\"", c->what, elf64_status_str(got),
                     elf64_status_str(c->want));
        cr_assert_eq(in.error_phdr, c->want == ELF64_OK ? NONE : 1, "%s: error_phdr %u", c->what,
                     in.error_phdr);
    }
}

Test(elf64, later_segment_covering_earlier)
{
    begin();
    ph(PT_LOAD, R | X, 0x1100, 0x401100, 0x100, 0x100, PG);
    ph(PT_LOAD, R, 0x0, 0x400000, 0x100, 0x3000, PG);
    expect(ELF64_ERR_SEG_OVERLAP, 1);
}

Test(elf64, adjacent_segments_sharing_a_page)
{
    /* Same permissions, no common byte, but one page: still rejected. */
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x800, 0x800, PG);
    ph(PT_LOAD, R | X, 0x1800, 0x401800, 0x800, 0x800, PG);
    expect(ELF64_ERR_SEG_OVERLAP, 1);
    /* bss tail running into the next segment's first page. */
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x10, 0x1001, PG);
    ph(PT_LOAD, R, 0x2000, 0x402000, 0x10, 0x10, PG);
    expect(ELF64_ERR_SEG_OVERLAP, 1);
}

Test(elf64, text_segment_flags)
{
    minimal();
    put(phoff(0) + 4, 4, R | W | X);
    expect(ELF64_ERR_SEG_WX, 0);
    minimal();
    put(phoff(0) + 4, 4, X); /* execute-only cannot be mapped on x86_64 */
    expect(ELF64_ERR_SEG_FLAGS, 0);
}

Test(elf64, too_many_segments)
{
    begin();
    for (uint32_t i = 0; i <= ELF64_MAX_LOADS; i++)
        ph(PT_LOAD, i == 0 ? R | X : R, 0x1000, 0x401000 + i * PG, 0x10, 0x10, PG);
    expect(ELF64_ERR_TOO_MANY, ELF64_MAX_LOADS);
}

Test(elf64, no_load)
{
    begin();
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16);
    expect(ELF64_ERR_NO_LOAD, NONE);
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0, 0, PG);
    expect(ELF64_ERR_NO_LOAD, NONE);
}

Test(elf64, two_tls)
{
    typical();
    ph(PT_TLS, R, 0x2ffc, 0x403ffc, 0x4, 0x8, 4);
    expect(ELF64_ERR_TLS_DUP, 8);
}

Test(elf64, two_stack_headers)
{
    minimal();
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16);
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16);
    expect(ELF64_ERR_STACK_DUP, 2);
}

/* ---- Entry point ---- */

Test(elf64, entry_outside_any_segment)
{
    minimal();
    set_entry(0x402000);
    expect(ELF64_ERR_ENTRY, NONE);
    set_entry(0x400fff);
    expect(ELF64_ERR_ENTRY, NONE);
    set_entry(0);
    expect(ELF64_ERR_ENTRY, NONE);
}

Test(elf64, entry_in_zero_fill_tail)
{
    begin();
    ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x100, 0x200, PG);
    set_entry(0x401100);
    expect(ELF64_ERR_ENTRY, 0);
    set_entry(0x4010ff);
    expect(ELF64_OK, NONE);
}

Test(elf64, entry_in_non_executable_segment)
{
    minimal();
    ph(PT_LOAD, R, 0x2000, 0x402000, 0x100, 0x100, PG);
    set_entry(0x402010);
    expect(ELF64_ERR_ENTRY_NX, 1);
    minimal();
    ph(PT_LOAD, R | W, 0x2000, 0x402000, 0x100, 0x100, PG);
    set_entry(0x402000);
    expect(ELF64_ERR_ENTRY_NX, 1);
}

/* ---- Robustness ---- */

Test(elf64, every_prefix_fails_cleanly)
{
    typical();
    size_t full = im.len;
    for (size_t n = 0; n < full; n++) {
        struct elf64_info in;
        enum elf64_status st = parse_n(n, &in);
        cr_assert_neq(st, ELF64_OK, "prefix %zu parsed", n);
        cr_assert_lt(st, ELF64_ERR_COUNT_);
    }
    struct elf64_info in;
    cr_assert_eq(parse_n(full, &in), ELF64_OK);
}

/* Each single-byte change of the header and program headers either fails
 * or still yields an image that keeps every promise. */
Test(elf64, every_header_byte_flipped)
{
    for (size_t off = 0; off < phoff(8); off++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            typical();
            im.b[off] ^= (uint8_t)(1u << bit);
            struct elf64_info in;
            enum elf64_status st = parse(&in);
            cr_assert_lt(st, ELF64_ERR_COUNT_);
            if (st == ELF64_OK)
                check_invariants(&in, im.len);
        }
    }
}

Test(elf64, status_strings)
{
    for (int i = 0; i < ELF64_ERR_COUNT_; i++) {
        const char *s = elf64_status_str((enum elf64_status)i);
        cr_assert_not_null(s);
        cr_assert_str_neq(s, "unknown error", "status %d has no string", i);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(s, elf64_status_str((enum elf64_status)j));
    }
    cr_assert_str_eq(elf64_status_str(ELF64_ERR_COUNT_), "unknown error");
    cr_assert_str_eq(elf64_status_str((enum elf64_status) - 1), "unknown error");
}

/* ---- A real executable from the toolchain ---- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (built by mk/suite-elf.mk)", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

Test(elf64, toolchain_sample)
{
    /* "ENTRY LOADS TLS" as readelf reported them (see mk/suite-elf.mk). */
    FILE *f = fopen(ELF_SAMPLE ".expect", "r");
    cr_assert_not_null(f, "cannot open " ELF_SAMPLE ".expect");
    unsigned long long entry;
    unsigned loads, tls;
    cr_assert_eq(fscanf(f, "%llx %u %u", &entry, &loads, &tls), 3);
    fclose(f);

    size_t len;
    uint8_t *img = read_file(ELF_SAMPLE, &len);
    struct elf64_info in;
    enum elf64_status st = elf64_parse(img, len, BASE, LIMIT, &in);
    cr_assert_eq(st, ELF64_OK, "sample rejected: %s (phdr %u)", elf64_status_str(st),
                 in.error_phdr);
    check_invariants(&in, len);
    cr_assert_eq(in.entry, entry, "entry %#llx, readelf says %#llx", (unsigned long long)in.entry,
                 entry);
    cr_assert_eq(in.nsegs, loads);
    cr_assert_eq(in.has_tls, tls != 0);
    cr_assert_eq(in.segs[0].vaddr, BASE);
    /* The sample's code and data each got their own kind of segment. */
    bool has_x = false, has_w = false;
    for (uint32_t i = 0; i < in.nsegs; i++) {
        has_x |= (in.segs[i].perms & ELF64_PERM_X) != 0;
        has_w |= (in.segs[i].perms & ELF64_PERM_W) != 0;
    }
    cr_assert(has_x && has_w);
    /* Every prefix of a real image, too. */
    for (size_t n = 0; n < len; n += 7) {
        struct elf64_info p;
        cr_assert_lt(elf64_parse(img, n, BASE, LIMIT, &p), ELF64_ERR_COUNT_);
    }
    free(img);
}
