/*
 * libFuzzer target: mb2_parse on hostile bytes, then, for every structure
 * that parses, the kernel's bootstrap path: size the frame bitmap from the
 * memory map, place its storage with physmem_find_free, build it with
 * fb_init_from_map and allocate from it. Every step is checked against
 * invariants and an independent, naive model of "usable frame".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcore/frame_bitmap.h"
#include "kcore/mb2.h"

/* 1 GiB of frames, 32 KiB of bitmap: bitmap work dominates each run, and
 * 1<<18 runs over three times faster than 1<<20 while still covering the
 * clamp and every realistic low-memory layout. */
#define MAX_FRAMES  (1u << 18)
#define KERNEL_BASE 0x100000u
#define KERNEL_END  0x200000u

static uint64_t store[MAX_FRAMES / 64];
static struct mb2_info info;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool in_buf(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

static void check_info(const uint8_t *buf, const struct mb2_info *in)
{
    size_t total = in->total_size;
    CHECK(total >= 16 && total <= MB2_MAX_TOTAL_SIZE && in->error_offset == 0);
    if (in->cmdline) {
        CHECK(in_buf(buf, total, in->cmdline, in->cmdline_len + 1));
        CHECK(strlen(in->cmdline) == in->cmdline_len);
    }
    if (in->bootloader_name) {
        CHECK(in_buf(buf, total, in->bootloader_name, in->bootloader_name_len + 1));
        CHECK(strlen(in->bootloader_name) == in->bootloader_name_len);
    }
    CHECK(in->mmap_count <= MB2_MAX_MMAP);
    for (uint32_t i = 0; i < in->mmap_count; i++) {
        CHECK(in->mmap[i].length != 0);
        CHECK(in->mmap[i].length <= UINT64_MAX - in->mmap[i].base);
        CHECK(mb2_mem_type_str(in->mmap[i].type) != NULL);
    }
    for (uint32_t i = 0; i < in->module_count && i < MB2_MAX_MODULES; i++) {
        const struct mb2_module *m = &in->modules[i];
        CHECK(m->start <= m->end);
        CHECK(in_buf(buf, total, m->cmdline, m->cmdline_len + 1));
        CHECK(strlen(m->cmdline) == m->cmdline_len);
    }
    if (in->acpi_rsdp) {
        CHECK(in_buf(buf, total, in->acpi_rsdp, in->acpi_rsdp_len));
        CHECK(in->acpi_rsdp_len >= (in->acpi_rsdp_v2 ? 36u : 20u));
    }
}

/* ---- Naive model of a usable frame ---- */

static bool touches(uint64_t fs, uint64_t fe, uint64_t b, uint64_t e)
{
    return b < fe && fs < e;
}

/* Is [fs, fe) covered by the union of available entries? Clip, sort and
 * sweep: deliberately not the algorithm lib/ uses. */
static bool covered_naive(const struct mb2_info *in, uint64_t fs, uint64_t fe)
{
    uint64_t s[MB2_MAX_MMAP], e[MB2_MAX_MMAP];
    uint32_t k = 0;
    for (uint32_t i = 0; i < in->mmap_count; i++) {
        const struct mb2_mem_region *r = &in->mmap[i];
        uint64_t b = r->base, end = r->base + r->length;
        if (r->type != MB2_MEM_AVAILABLE || !touches(fs, fe, b, end))
            continue;
        uint32_t j = k++;
        for (; j > 0 && s[j - 1] > b; j--)
            s[j] = s[j - 1], e[j] = e[j - 1];
        s[j] = b;
        e[j] = end;
    }
    uint64_t cur = fs;
    for (uint32_t i = 0; i < k && cur < fe; i++) {
        if (s[i] > cur)
            return false;
        if (e[i] > cur)
            cur = e[i];
    }
    return cur >= fe;
}

static bool usable_naive(const struct mb2_info *in, const struct phys_range *rs, uint32_t nr,
                         uint64_t f)
{
    uint64_t fs = f * FRAME_SIZE, fe = fs + FRAME_SIZE;
    if (f == 0)
        return false;
    for (uint32_t i = 0; i < in->mmap_count; i++) {
        const struct mb2_mem_region *r = &in->mmap[i];
        if (r->type != MB2_MEM_AVAILABLE && touches(fs, fe, r->base, r->base + r->length))
            return false;
    }
    for (uint32_t i = 0; i < nr; i++)
        if (rs[i].base < rs[i].end && touches(fs, fe, rs[i].base, rs[i].end))
            return false;
    return covered_naive(in, fs, fe);
}

/* Frames next to every boundary in the map and the reserved list. */
static void check_boundaries(const struct frame_bitmap *fb, const struct mb2_info *in,
                             const struct phys_range *rs, uint32_t nr)
{
    uint64_t n = fb->nframes;
    for (uint32_t i = 0; i < in->mmap_count + nr + 1; i++) {
        uint64_t pts[2];
        if (i < in->mmap_count) {
            pts[0] = in->mmap[i].base;
            pts[1] = in->mmap[i].base + in->mmap[i].length;
        } else if (i < in->mmap_count + nr) {
            pts[0] = rs[i - in->mmap_count].base;
            pts[1] = rs[i - in->mmap_count].end;
        } else {
            pts[0] = 0;
            pts[1] = n * FRAME_SIZE;
        }
        for (int p = 0; p < 2; p++) {
            uint64_t c = pts[p] / FRAME_SIZE;
            for (uint64_t f = c ? c - 1 : 0; f <= c + 1 && f < n; f++)
                CHECK(fb_is_free(fb, f) == usable_naive(in, rs, nr, f));
        }
    }
}

static void check_bitmap(const struct frame_bitmap *fb)
{
    uint64_t words = fb_storage_bytes(fb->nframes) / 8, used = 0;
    for (uint64_t w = 0; w < words; w++)
        used += (uint64_t)__builtin_popcountll(fb->bits[w]);
    CHECK(words * 64 - used == fb->free_count);
    CHECK(!fb_is_free(fb, 0));
    if (fb->nframes % 64)
        CHECK(fb->bits[words - 1] >> (fb->nframes % 64) == ~0ull >> (fb->nframes % 64));
}

/* ---- The kernel's bootstrap, checked ---- */

static void exercise_bitmap(const struct mb2_info *in, const uint8_t *data, size_t size)
{
    uint64_t n = physmem_frame_count(in->mmap, in->mmap_count);
    if (n > MAX_FRAMES)
        n = MAX_FRAMES;
    struct phys_range rs[MB2_MAX_MODULES + 2];
    uint32_t nr = 0;
    rs[nr++] = (struct phys_range){KERNEL_BASE, KERNEL_END};
    for (uint32_t i = 0; i < in->module_count && i < MB2_MAX_MODULES; i++)
        rs[nr++] = (struct phys_range){in->modules[i].start, in->modules[i].end};

    uint64_t bytes = fb_storage_bytes(n), base = 0, limit = 1ull << 32;
    if (n && physmem_find_free(in->mmap, in->mmap_count, rs, nr, bytes, limit, &base)) {
        uint64_t end = base + ((bytes + FRAME_SIZE - 1) & ~(uint64_t)(FRAME_SIZE - 1));
        CHECK(base % FRAME_SIZE == 0 && base >= FRAME_SIZE && end <= limit);
        for (uint64_t f = base / FRAME_SIZE; f < end / FRAME_SIZE; f++)
            CHECK(usable_naive(in, rs, nr, f));
        rs[nr++] = (struct phys_range){base, base + bytes};
    }

    struct frame_bitmap fb;
    fb_init_from_map(&fb, store, n, in->mmap, in->mmap_count, rs, nr);
    check_bitmap(&fb);
    check_boundaries(&fb, in, rs, nr);
    if (n <= 2048)
        for (uint64_t f = 0; f < n; f++)
            CHECK(fb_is_free(&fb, f) == usable_naive(in, rs, nr, f));

    /* Allocate a few frames and a run, then give everything back. */
    uint64_t before = fb.free_count, got[64], ngot = 0, f;
    unsigned want = size ? data[0] % 64 : 0;
    while (ngot < want && fb_alloc(&fb, &f) == FB_OK) {
        CHECK(f > 0 && f < n && !fb_is_free(&fb, f) && usable_naive(in, rs, nr, f));
        got[ngot++] = f;
    }
    CHECK(ngot == want || fb.free_count == 0);
    uint64_t count = 1 + (size > 1 ? data[1] % 32 : 0), align = 1ull << (size % 7), run;
    enum fb_status st = fb_alloc_contig(&fb, count, align, &run);
    if (st == FB_OK) {
        CHECK(run > 0 && run % align == 0 && run + count <= n);
        for (uint64_t i = run; i < run + count; i++)
            CHECK(!fb_is_free(&fb, i) && usable_naive(in, rs, nr, i));
        CHECK(fb_free_contig(&fb, run, count) == FB_OK);
        CHECK(fb_free_contig(&fb, run, count) == FB_ERR_DOUBLE_FREE);
    } else {
        CHECK(st == FB_ERR_NO_MEMORY);
    }
    for (uint64_t i = 0; i < ngot; i++)
        CHECK(fb_free(&fb, got[i]) == FB_OK);
    if (ngot)
        CHECK(fb_free(&fb, got[0]) == FB_ERR_DOUBLE_FREE);
    CHECK(fb.free_count == before);
    check_bitmap(&fb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exactly sized heap copy: malloc aligns to 16, and ASan flags any
     * read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    enum mb2_status st = mb2_parse(buf, size, &info);
    CHECK((unsigned)st < MB2_ERR_COUNT_ && mb2_status_str(st) != NULL);
    if (size > 0)
        CHECK(mb2_parse(buf + 1, size - 1, &info) == MB2_ERR_MISALIGNED);
    st = mb2_parse(buf, size, &info);
    if (st == MB2_OK) {
        check_info(buf, &info);
        /* total_size bytes are all the parser needs. */
        uint32_t nmmap = info.mmap_count;
        CHECK(mb2_parse(buf, info.total_size, &info) == MB2_OK && info.mmap_count == nmmap);
        CHECK(mb2_parse(buf, info.total_size - 1, &info) == MB2_ERR_TOTAL_SIZE);
        CHECK(mb2_parse(buf, size, &info) == MB2_OK);
        exercise_bitmap(&info, data, size);
    } else {
        /* Inside the structure, or where the next tag was expected. */
        CHECK(info.error_offset <= (uint64_t)info.total_size + 7);
    }
    free(buf);
    return 0;
}
