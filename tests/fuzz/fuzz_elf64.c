/*
 * libFuzzer target for the ELF64 loader validation. The input is the image,
 * in a buffer of exactly its size (ASan catches any read past it). After a
 * successful parse every promise of elf64.h is checked again here,
 * independently of the parser's own code, so a logic bug crashes the fuzzer
 * instead of passing silently.
 */
#include <stdint.h>
#include <stdlib.h>

#include "capos/layout.h"
#include "kcore/elf64.h"

#define BASE  CAPOS_USER_IMAGE_BASE
#define LIMIT CAPOS_USER_IMAGE_LIMIT
#define PG    4096u

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static uint64_t first_page(const struct elf64_segment *s)
{
    return s->vaddr / PG;
}

static uint64_t end_page(const struct elf64_segment *s)
{
    return (s->vaddr + s->memsz + PG - 1) / PG;
}

static void check_info(const struct elf64_info *in, size_t len)
{
    check(in->nsegs >= 1 && in->nsegs <= ELF64_MAX_LOADS);
    check(in->error_phdr == ELF64_NO_PHDR);
    uint64_t pages = 0;
    int entry_segs = 0;
    for (uint32_t i = 0; i < in->nsegs; i++) {
        const struct elf64_segment *s = &in->segs[i];
        /* Inside the user range, without wrapping. */
        check(s->vaddr >= BASE && s->vaddr < LIMIT);
        check(s->memsz > 0 && s->memsz <= LIMIT - s->vaddr);
        /* File bytes inside the file. */
        check(s->filesz <= s->memsz);
        check(s->offset <= len && s->filesz <= len - s->offset);
        /* Permissions: always R, never W+X, nothing else. */
        check((s->perms & ~(ELF64_PERM_R | ELF64_PERM_W | ELF64_PERM_X)) == 0);
        check(s->perms & ELF64_PERM_R);
        check(!((s->perms & ELF64_PERM_W) && (s->perms & ELF64_PERM_X)));
        check(i == 0 || s->phdr > in->segs[i - 1].phdr);
        /* No two segments share a page. */
        for (uint32_t j = 0; j < i; j++) {
            const struct elf64_segment *o = &in->segs[j];
            check(end_page(s) <= first_page(o) || end_page(o) <= first_page(s));
        }
        pages += end_page(s) - first_page(s);
        if ((s->perms & ELF64_PERM_X) && in->entry >= s->vaddr && in->entry - s->vaddr < s->filesz)
            entry_segs++;
    }
    check(pages == in->pages);
    /* The entry point is file-backed code of exactly one segment. */
    check(entry_segs == 1);
    if (in->has_tls) {
        const struct elf64_tls *t = &in->tls;
        check(t->filesz <= t->memsz && t->memsz <= ELF64_MAX_TLS_SIZE);
        check(t->align >= 1 && t->align <= ELF64_MAX_TLS_ALIGN && (t->align & (t->align - 1)) == 0);
        check(t->offset <= len && t->filesz <= len - t->offset);
        if (t->filesz > 0) {
            int homes = 0;
            for (uint32_t i = 0; i < in->nsegs; i++) {
                const struct elf64_segment *s = &in->segs[i];
                if (t->vaddr >= s->vaddr && t->vaddr - s->vaddr <= s->filesz &&
                    t->filesz <= s->filesz - (t->vaddr - s->vaddr) &&
                    t->offset - s->offset == t->vaddr - s->vaddr)
                    homes++;
            }
            check(homes == 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf64_info in;
    enum elf64_status st = elf64_parse(data, size, BASE, LIMIT, &in);
    check((unsigned)st < ELF64_ERR_COUNT_);
    check(elf64_status_str(st) != NULL);
    if (st != ELF64_OK)
        return 0;
    check_info(&in, size);
    /* Parsing is a pure function of the bytes. */
    struct elf64_info again;
    check(elf64_parse(data, size, BASE, LIMIT, &again) == ELF64_OK);
    check(again.entry == in.entry && again.nsegs == in.nsegs && again.pages == in.pages);
    return 0;
}
