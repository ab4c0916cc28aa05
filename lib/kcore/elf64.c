/*
 * ELF64 executable validation (System V gABI, x86_64 psABI).
 *
 * The image is treated as hostile. The ELF header is read only once len has
 * been checked to hold it, and program headers only once the whole table has
 * been checked to lie inside the image; every field is assembled little
 * endian byte by byte (no unaligned or aliasing loads). Every end address is
 * computed as "a > limit || b > limit - a", never as a sum that could wrap.
 *
 * Choices the gABI leaves open (docs/elf.md explains them):
 *  - Only ET_EXEC. The kernel does not relocate, so an ET_DYN (PIE) image
 *    would need a base chosen by someone; user programs are linked -no-pie.
 *  - Section headers are ignored: loading needs none of them.
 *  - Two PT_LOADs may not share a page, even when adjacent and even with the
 *    same permissions: the kernel maps each page with one segment's
 *    permissions and fills it from that segment alone.
 *  - Every segment must be readable (x86_64 cannot map a page that is
 *    writable or executable but not readable, so W-only or X-only flags would
 *    be a promise the kernel cannot keep).
 *  - A PT_LOAD with memsz 0 occupies nothing and is dropped after its fields
 *    are checked.
 *  - The entry point must lie in the file-backed bytes of an executable
 *    segment, not in its zero-filled tail.
 *  - OS- and processor-specific program headers (PT_GNU_RELRO,
 *    PT_GNU_EH_FRAME, PT_GNU_PROPERTY, ...) are advisory and ignored, except
 *    PT_GNU_STACK. PT_INTERP and PT_DYNAMIC mean dynamic linking, which is
 *    not supported, and unknown generic types may change how the image must
 *    be loaded: all are rejected.
 */
#include "kcore/elf64.h"

/* ELF header (gABI "ELF Header"). */
#define EH_SIZE       64u
#define EI_CLASS      4
#define EI_DATA       5
#define EI_VERSION    6
#define EI_OSABI      7
#define EI_ABIVERSION 8
#define ELFCLASS64    2
#define ELFDATA2LSB   1
#define EV_CURRENT    1
#define ELFOSABI_SYSV 0
#define ELFOSABI_GNU  3
#define ET_EXEC       2
#define EM_X86_64     62

#define EH_TYPE      16
#define EH_MACHINE   18
#define EH_VERSION   20
#define EH_ENTRY     24
#define EH_PHOFF     32
#define EH_FLAGS     48
#define EH_EHSIZE    52
#define EH_PHENTSIZE 54
#define EH_PHNUM     56

/* Program header. */
#define PH_SIZE   56u
#define PH_TYPE   0
#define PH_FLAGS  4
#define PH_OFFSET 8
#define PH_VADDR  16
#define PH_FILESZ 32
#define PH_MEMSZ  40
#define PH_ALIGN  48

#define PT_NULL      0
#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_NOTE      4
#define PT_SHLIB     5
#define PT_PHDR      6
#define PT_TLS       7
#define PT_LOOS      0x60000000u
#define PT_HIPROC    0x7fffffffu
#define PT_GNU_STACK 0x6474e551u

#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

#define PAGE_MASK ((uint64_t)ELF64_PAGE_SIZE - 1)

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

/* A program header's fields, read once. */
struct phdr {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
};

static void read_phdr(const uint8_t *p, struct phdr *ph)
{
    ph->type = ld32(p + PH_TYPE);
    ph->flags = ld32(p + PH_FLAGS);
    ph->offset = ld64(p + PH_OFFSET);
    ph->vaddr = ld64(p + PH_VADDR);
    ph->filesz = ld64(p + PH_FILESZ);
    ph->memsz = ld64(p + PH_MEMSZ);
    ph->align = ld64(p + PH_ALIGN);
}

static bool is_pow2(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* [off, off + size) lies inside [0, len), computed without wrapping. */
static bool in_file(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= (uint64_t)len - off;
}

/* First page and end (exclusive, rounded up) of a kept segment. The end
 * cannot wrap: vaddr + memsz <= user_limit, which is page aligned. */
static uint64_t page_lo(const struct elf64_segment *s)
{
    return s->vaddr & ~PAGE_MASK;
}

static uint64_t page_hi(const struct elf64_segment *s)
{
    return (s->vaddr + s->memsz + PAGE_MASK) & ~PAGE_MASK;
}

/* Check one PT_LOAD and append it to out->segs unless it is empty. */
static enum elf64_status add_load(const struct phdr *ph, uint32_t idx, size_t len, uint64_t base,
                                  uint64_t limit, struct elf64_info *out)
{
    if (ph->flags & ~(PF_R | PF_W | PF_X))
        return ELF64_ERR_SEG_FLAGS;
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        return ELF64_ERR_SEG_WX;
    if (!(ph->flags & PF_R))
        return ELF64_ERR_SEG_FLAGS;
    if (ph->filesz > ph->memsz)
        return ELF64_ERR_SEG_SIZE;
    if (!in_file(ph->offset, ph->filesz, len))
        return ELF64_ERR_SEG_FILE;
    if (ph->memsz > UINT64_MAX - ph->vaddr)
        return ELF64_ERR_SEG_OVERFLOW;
    if (ph->vaddr < base || ph->vaddr + ph->memsz > limit)
        return ELF64_ERR_SEG_RANGE;
    if (ph->align > 1) {
        if (!is_pow2(ph->align))
            return ELF64_ERR_SEG_ALIGN;
        if ((ph->vaddr & (ph->align - 1)) != (ph->offset & (ph->align - 1)))
            return ELF64_ERR_SEG_ALIGN;
    }
    if (ph->memsz == 0)
        return ELF64_OK;
    if (out->nsegs == ELF64_MAX_LOADS)
        return ELF64_ERR_TOO_MANY;

    struct elf64_segment s = {
        .vaddr = ph->vaddr,
        .memsz = ph->memsz,
        .offset = ph->offset,
        .filesz = ph->filesz,
        .perms = ELF64_PERM_R | ((ph->flags & PF_W) ? ELF64_PERM_W : 0) |
                 ((ph->flags & PF_X) ? ELF64_PERM_X : 0),
        .phdr = idx,
    };
    /* Half-open page ranges [lo, hi) intersect iff each starts before the
     * other ends. */
    for (uint32_t i = 0; i < out->nsegs; i++) {
        const struct elf64_segment *o = &out->segs[i];
        if (page_lo(&s) < page_hi(o) && page_lo(o) < page_hi(&s))
            return ELF64_ERR_SEG_OVERLAP;
    }
    out->segs[out->nsegs++] = s;
    out->pages += (page_hi(&s) - page_lo(&s)) / ELF64_PAGE_SIZE;
    return ELF64_OK;
}

/* Check a PT_TLS's own fields; containment is checked once all PT_LOADs are
 * known. */
static enum elf64_status check_tls(const struct phdr *ph, struct elf64_info *out)
{
    if (out->has_tls)
        return ELF64_ERR_TLS_DUP;
    if (ph->filesz > ph->memsz || ph->memsz > ELF64_MAX_TLS_SIZE)
        return ELF64_ERR_TLS_SIZE;
    uint64_t align = ph->align ? ph->align : 1;
    if (!is_pow2(align) || align > ELF64_MAX_TLS_ALIGN)
        return ELF64_ERR_TLS_ALIGN;
    out->has_tls = true;
    out->tls.vaddr = ph->vaddr;
    out->tls.offset = ph->offset;
    out->tls.filesz = ph->filesz;
    out->tls.memsz = ph->memsz;
    out->tls.align = align;
    return ELF64_OK;
}

/*
 * The template's file bytes must be file bytes of one PT_LOAD, at the same
 * place in memory: the runtime copies the template from user memory, the
 * kernel puts it there from the file. An empty template (only .tbss) is
 * never read, so it needs no home.
 */
static bool tls_contained(const struct elf64_info *out, size_t len)
{
    const struct elf64_tls *t = &out->tls;
    if (!in_file(t->offset, t->filesz, len))
        return false;
    if (t->filesz == 0)
        return true;
    for (uint32_t i = 0; i < out->nsegs; i++) {
        const struct elf64_segment *s = &out->segs[i];
        if (t->offset < s->offset)
            continue;
        uint64_t rel = t->offset - s->offset;
        if (rel > s->filesz || t->filesz > s->filesz - rel)
            continue;
        if (t->vaddr == s->vaddr + rel)
            return true;
    }
    return false;
}

/* Find the segment holding the entry point. */
static enum elf64_status check_entry(const struct elf64_info *out, uint32_t *phdr)
{
    for (uint32_t i = 0; i < out->nsegs; i++) {
        const struct elf64_segment *s = &out->segs[i];
        if (out->entry < s->vaddr || out->entry - s->vaddr >= s->memsz)
            continue;
        *phdr = s->phdr;
        if (!(s->perms & ELF64_PERM_X))
            return ELF64_ERR_ENTRY_NX;
        if (out->entry - s->vaddr >= s->filesz)
            return ELF64_ERR_ENTRY;
        return ELF64_OK;
    }
    return ELF64_ERR_ENTRY;
}

bool elf64_has_magic(const void *image, size_t len)
{
    const uint8_t *p = image;
    return len >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

static enum elf64_status check_header(const uint8_t *p, size_t len)
{
    if (len < EH_SIZE)
        return ELF64_ERR_TRUNCATED;
    if (!elf64_has_magic(p, len))
        return ELF64_ERR_MAGIC;
    if (p[EI_CLASS] != ELFCLASS64)
        return ELF64_ERR_CLASS;
    if (p[EI_DATA] != ELFDATA2LSB)
        return ELF64_ERR_DATA;
    if (p[EI_VERSION] != EV_CURRENT || ld32(p + EH_VERSION) != EV_CURRENT)
        return ELF64_ERR_VERSION;
    /* GNU marks binaries using GNU extensions (IFUNC, unique symbols), which
     * change nothing about loading a static image. */
    if ((p[EI_OSABI] != ELFOSABI_SYSV && p[EI_OSABI] != ELFOSABI_GNU) || p[EI_ABIVERSION] != 0)
        return ELF64_ERR_OSABI;
    if (ld16(p + EH_TYPE) != ET_EXEC)
        return ELF64_ERR_TYPE;
    if (ld16(p + EH_MACHINE) != EM_X86_64)
        return ELF64_ERR_MACHINE;
    if (ld32(p + EH_FLAGS) != 0)
        return ELF64_ERR_FLAGS;
    if (ld16(p + EH_EHSIZE) != EH_SIZE)
        return ELF64_ERR_EHSIZE;
    if (ld16(p + EH_PHENTSIZE) != PH_SIZE)
        return ELF64_ERR_PHENTSIZE;
    uint16_t phnum = ld16(p + EH_PHNUM);
    /* Also rejects PN_XNUM (0xffff), the escape to extended numbering. */
    if (phnum == 0 || phnum > ELF64_MAX_PHDRS)
        return ELF64_ERR_PHNUM;
    uint64_t phoff = ld64(p + EH_PHOFF);
    if (phoff < EH_SIZE || phoff % 8 != 0 || !in_file(phoff, (uint64_t)phnum * PH_SIZE, len))
        return ELF64_ERR_PHOFF;
    return ELF64_OK;
}

static enum elf64_status parse(const uint8_t *p, size_t len, uint64_t base, uint64_t limit,
                               struct elf64_info *out)
{
    enum elf64_status st = check_header(p, len);
    if (st != ELF64_OK)
        return st;
    out->entry = ld64(p + EH_ENTRY);
    uint16_t phnum = ld16(p + EH_PHNUM);
    const uint8_t *table = p + ld64(p + EH_PHOFF);
    uint32_t tls_idx = ELF64_NO_PHDR;
    bool has_stack = false;

    for (uint32_t i = 0; i < phnum; i++) {
        struct phdr ph;
        read_phdr(table + (size_t)i * PH_SIZE, &ph);
        out->error_phdr = i;
        switch (ph.type) {
        case PT_LOAD:
            st = add_load(&ph, i, len, base, limit, out);
            break;
        case PT_TLS:
            st = check_tls(&ph, out);
            tls_idx = i;
            break;
        case PT_GNU_STACK:
            if (has_stack)
                st = ELF64_ERR_STACK_DUP;
            else if (ph.flags & PF_X)
                st = ELF64_ERR_STACK_EXEC;
            has_stack = true;
            break;
        case PT_NULL:
        case PT_NOTE:
        case PT_PHDR:
            break;
        default:
            if (ph.type < PT_LOOS || ph.type > PT_HIPROC)
                st = ELF64_ERR_SEG_TYPE;
            break;
        }
        if (st != ELF64_OK)
            return st;
    }

    out->error_phdr = ELF64_NO_PHDR;
    if (out->nsegs == 0)
        return ELF64_ERR_NO_LOAD;
    if (out->has_tls && !tls_contained(out, len)) {
        out->error_phdr = tls_idx;
        return ELF64_ERR_TLS_RANGE;
    }
    return check_entry(out, &out->error_phdr);
}

enum elf64_status elf64_parse(const void *image, size_t len, uint64_t user_base,
                              uint64_t user_limit, struct elf64_info *out)
{
    if (out == NULL)
        return ELF64_ERR_NULL;
    out->entry = 0;
    out->nsegs = 0;
    out->pages = 0;
    out->has_tls = false;
    out->tls = (struct elf64_tls){0};
    out->error_phdr = ELF64_NO_PHDR;
    if (image == NULL)
        return ELF64_ERR_NULL;
    if ((user_base & PAGE_MASK) || (user_limit & PAGE_MASK) || user_base >= user_limit)
        return ELF64_ERR_USER_RANGE;
    enum elf64_status st = parse(image, len, user_base, user_limit, out);
    if (st == ELF64_OK)
        out->error_phdr = ELF64_NO_PHDR;
    return st;
}

const char *elf64_status_str(enum elf64_status s)
{
    static const char *const names[ELF64_ERR_COUNT_] = {
        [ELF64_OK] = "ok",
        [ELF64_ERR_NULL] = "no image",
        [ELF64_ERR_USER_RANGE] = "bad user address range",
        [ELF64_ERR_TRUNCATED] = "shorter than the ELF header",
        [ELF64_ERR_MAGIC] = "not an ELF file",
        [ELF64_ERR_CLASS] = "not 64-bit ELF",
        [ELF64_ERR_DATA] = "not little endian",
        [ELF64_ERR_VERSION] = "unknown ELF version",
        [ELF64_ERR_OSABI] = "unsupported OS ABI",
        [ELF64_ERR_TYPE] = "not an ET_EXEC executable",
        [ELF64_ERR_MACHINE] = "not x86_64",
        [ELF64_ERR_FLAGS] = "unknown e_flags",
        [ELF64_ERR_EHSIZE] = "bad ELF header size",
        [ELF64_ERR_PHENTSIZE] = "bad program header size",
        [ELF64_ERR_PHNUM] = "bad program header count",
        [ELF64_ERR_PHOFF] = "program headers outside the file",
        [ELF64_ERR_SEG_TYPE] = "unsupported program header type",
        [ELF64_ERR_SEG_FLAGS] = "bad segment flags",
        [ELF64_ERR_SEG_WX] = "segment both writable and executable",
        [ELF64_ERR_SEG_SIZE] = "segment file size exceeds memory size",
        [ELF64_ERR_SEG_FILE] = "segment outside the file",
        [ELF64_ERR_SEG_OVERFLOW] = "segment end overflows",
        [ELF64_ERR_SEG_RANGE] = "segment outside the user range",
        [ELF64_ERR_SEG_ALIGN] = "bad segment alignment",
        [ELF64_ERR_SEG_OVERLAP] = "segments share a page",
        [ELF64_ERR_TOO_MANY] = "too many loadable segments",
        [ELF64_ERR_NO_LOAD] = "no loadable segment",
        [ELF64_ERR_ENTRY] = "entry point outside the loaded code",
        [ELF64_ERR_ENTRY_NX] = "entry point not executable",
        [ELF64_ERR_TLS_DUP] = "more than one TLS segment",
        [ELF64_ERR_TLS_SIZE] = "bad TLS size",
        [ELF64_ERR_TLS_ALIGN] = "bad TLS alignment",
        [ELF64_ERR_TLS_RANGE] = "TLS template outside a loadable segment",
        [ELF64_ERR_STACK_EXEC] = "executable stack requested",
        [ELF64_ERR_STACK_DUP] = "more than one PT_GNU_STACK",
    };
    if ((unsigned)s >= ELF64_ERR_COUNT_ || names[s] == NULL)
        return "unknown error";
    return names[s];
}
