/*
 * ELF64 executable validation for the user program loader.
 *
 * Pure, freestanding code. The image is hostile: it may come from a
 * manifest anyone can write. elf64_parse() reads only inside [image,
 * image + len), assembles every field byte by byte, computes every end
 * address without overflow, and either describes an image the kernel can
 * load as is or returns a typed error. It never loads anything itself.
 *
 * What is accepted (docs/elf.md has the reasons): a little-endian x86_64
 * ET_EXEC image, statically linked, with 1..ELF64_MAX_LOADS non-empty
 * PT_LOAD segments that each lie inside [user_base, user_limit), never share
 * a 4 KiB page with one another, are never both writable and executable, and
 * are always readable. The entry point lies in the file-backed part of an
 * executable segment. At most one PT_TLS, contained in a segment's file
 * bytes. No PT_INTERP, no PT_DYNAMIC, no executable PT_GNU_STACK.
 */
#ifndef CAPOS_LIB_ELF64_H
#define CAPOS_LIB_ELF64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The granule of the overlap check and of the page count. */
#define ELF64_PAGE_SIZE 4096u
/* Most PT_LOAD segments kept (a static binary has four). */
#define ELF64_MAX_LOADS 16u
/* Most program headers of any type (a static glibc binary has about ten). */
#define ELF64_MAX_PHDRS 64u
/* PT_TLS limits: the runtime allocates memsz bytes, aligned, per thread. */
#define ELF64_MAX_TLS_ALIGN 4096u
#define ELF64_MAX_TLS_SIZE  (1u << 20)

/* Segment permissions. Every kept segment has R; never both W and X. */
#define ELF64_PERM_R 1u
#define ELF64_PERM_W 2u
#define ELF64_PERM_X 4u

/* error_phdr when the error is not about one program header. */
#define ELF64_NO_PHDR UINT32_MAX

enum elf64_status {
    ELF64_OK = 0,
    ELF64_ERR_NULL,         /* no image or no output */
    ELF64_ERR_USER_RANGE,   /* user_base/user_limit not page aligned or empty */
    ELF64_ERR_TRUNCATED,    /* shorter than the 64-byte ELF header */
    ELF64_ERR_MAGIC,        /* not \x7fELF */
    ELF64_ERR_CLASS,        /* not ELFCLASS64 */
    ELF64_ERR_DATA,         /* not little endian */
    ELF64_ERR_VERSION,      /* EI_VERSION or e_version is not EV_CURRENT */
    ELF64_ERR_OSABI,        /* OS ABI not SysV/GNU, or ABI version not 0 */
    ELF64_ERR_TYPE,         /* not ET_EXEC */
    ELF64_ERR_MACHINE,      /* not EM_X86_64 */
    ELF64_ERR_FLAGS,        /* e_flags not 0 (x86_64 defines none) */
    ELF64_ERR_EHSIZE,       /* e_ehsize not 64 */
    ELF64_ERR_PHENTSIZE,    /* e_phentsize not 56 */
    ELF64_ERR_PHNUM,        /* 0 or more than ELF64_MAX_PHDRS headers */
    ELF64_ERR_PHOFF,        /* table inside the ELF header, misaligned, or
                             * not entirely inside the file */
    ELF64_ERR_SEG_TYPE,     /* PT_INTERP, PT_DYNAMIC, PT_SHLIB or an unknown
                             * type outside the OS/processor-specific range */
    ELF64_ERR_SEG_FLAGS,    /* unknown flag bits, or a segment without R */
    ELF64_ERR_SEG_WX,       /* both writable and executable */
    ELF64_ERR_SEG_SIZE,     /* filesz > memsz */
    ELF64_ERR_SEG_FILE,     /* offset + filesz overflows or passes the end */
    ELF64_ERR_SEG_OVERFLOW, /* vaddr + memsz overflows 64 bits */
    ELF64_ERR_SEG_RANGE,    /* not inside [user_base, user_limit) */
    ELF64_ERR_SEG_ALIGN,    /* p_align not a power of two, or vaddr and
                             * offset differ modulo p_align */
    ELF64_ERR_SEG_OVERLAP,  /* shares a page with an earlier PT_LOAD */
    ELF64_ERR_TOO_MANY,     /* more than ELF64_MAX_LOADS non-empty PT_LOADs */
    ELF64_ERR_NO_LOAD,      /* no non-empty PT_LOAD */
    ELF64_ERR_ENTRY,        /* entry not in the file bytes of any PT_LOAD */
    ELF64_ERR_ENTRY_NX,     /* entry in a segment that is not executable */
    ELF64_ERR_TLS_DUP,      /* a second PT_TLS */
    ELF64_ERR_TLS_SIZE,     /* filesz > memsz, or memsz > ELF64_MAX_TLS_SIZE */
    ELF64_ERR_TLS_ALIGN,    /* not a power of two, or > ELF64_MAX_TLS_ALIGN */
    ELF64_ERR_TLS_RANGE,    /* template not inside one PT_LOAD's file bytes */
    ELF64_ERR_STACK_EXEC,   /* PT_GNU_STACK asks for an executable stack */
    ELF64_ERR_STACK_DUP,    /* a second PT_GNU_STACK */
    ELF64_ERR_COUNT_
};

/*
 * One loadable segment. The kernel maps the pages covering
 * [vaddr, vaddr + memsz), zero-fills them, then copies the filesz bytes at
 * file offset `offset` to vaddr. vaddr need not be page aligned; the bytes
 * of the first and last page outside the segment stay zero.
 */
struct elf64_segment {
    uint64_t vaddr;  /* user_base <= vaddr */
    uint64_t memsz;  /* > 0; vaddr + memsz <= user_limit */
    uint64_t offset; /* offset + filesz <= len */
    uint64_t filesz; /* <= memsz */
    uint32_t perms;  /* ELF64_PERM_*, always R, never W and X together */
    uint32_t phdr;   /* index of its program header */
};

/*
 * The TLS initialisation image: filesz bytes at vaddr (also at `offset` in
 * the file, inside one PT_LOAD), followed by memsz - filesz zero bytes.
 */
struct elf64_tls {
    uint64_t vaddr;
    uint64_t offset;
    uint64_t filesz;
    uint64_t memsz; /* <= ELF64_MAX_TLS_SIZE */
    uint64_t align; /* a power of two, 1..ELF64_MAX_TLS_ALIGN */
};

struct elf64_info {
    uint64_t entry;
    /* Segments in program header order (not sorted); empty PT_LOADs
     * (memsz 0) are dropped. Pairwise, they share no page. */
    uint32_t nsegs;
    struct elf64_segment segs[ELF64_MAX_LOADS];
    /* Pages the segments cover in total: what loading will allocate. */
    uint64_t pages;
    bool has_tls;
    struct elf64_tls tls;
    /* On error: the program header at fault, or ELF64_NO_PHDR. */
    uint32_t error_phdr;
};

/*
 * Validate the len bytes at image as an executable for the user range
 * [user_base, user_limit) (both page aligned, base < limit) and describe it
 * in *out. The image must stay unchanged while *out is used: the kernel
 * copies segment bytes from it at the offsets given. On error *out must not
 * be used, except for error_phdr.
 */
enum elf64_status elf64_parse(const void *image, size_t len, uint64_t user_base,
                              uint64_t user_limit, struct elf64_info *out);

/* A short human-readable description of a status ("segments overlap"). */
const char *elf64_status_str(enum elf64_status s);

/* Whether image starts with the ELF magic (says what a file claims to be,
 * not that it is valid: elf64_parse decides that). */
bool elf64_has_magic(const void *image, size_t len);

#endif
