/*
 * Host tests for the frame bitmap allocator and the memory-map helpers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kcore/frame_bitmap.h"
#include "test_rng.h"

#define AVAIL MB2_MEM_AVAILABLE
#define RSVD  MB2_MEM_RESERVED
#define MiB   (1ull << 20)

static uint64_t store[(1u << 20) / 64]; /* up to 1M frames (4 GiB) */

/* The allocator's invariants, checked the slow way. */
static void check(const struct frame_bitmap *fb)
{
    uint64_t nfree = 0;
    for (uint64_t f = 0; f < fb->nframes; f++) {
        bool is_free = !(fb->bits[f / 64] >> (f % 64) & 1);
        cr_assert_eq(fb_is_free(fb, f), is_free);
        nfree += is_free;
        if (f < fb->next_hint)
            cr_assert_not(is_free, "frame %lu free below hint %lu", f, fb->next_hint);
    }
    cr_assert_eq(nfree, fb->free_count);
    cr_assert_not(fb_is_free(fb, 0));
    cr_assert_not(fb_is_free(fb, fb->nframes));
    if (fb->nframes % 64) /* the tail of the last word stays set */
        cr_assert_eq(fb->bits[fb->nframes / 64] >> (fb->nframes % 64), ~0ull >> (fb->nframes % 64));
}

static void all_free(struct frame_bitmap *fb, uint64_t n)
{
    fb_init(fb, store, n);
    fb_release_range(fb, 0, n);
}

Test(fb, storage_bytes)
{
    cr_assert_eq(fb_storage_bytes(0), 0);
    cr_assert_eq(fb_storage_bytes(1), 8);
    cr_assert_eq(fb_storage_bytes(64), 8);
    cr_assert_eq(fb_storage_bytes(65), 16);
    cr_assert_eq(fb_storage_bytes(1u << 20), 128 * 1024);
    cr_assert_eq(fb_storage_bytes(1ull << 52), 1ull << 49); /* the worst a map can ask */
}

Test(fb, status_strings)
{
    cr_assert_str_eq(fb_status_str(FB_OK), "ok");
    cr_assert_str_eq(fb_status_str(FB_ERR_DOUBLE_FREE), "double free");
    cr_assert_str_eq(fb_status_str(FB_ERR_RANGE), "frame out of range");
    cr_assert_str_eq(fb_status_str(FB_ERR_NO_MEMORY), "out of physical memory");
    cr_assert_str_eq(fb_status_str(FB_ERR_INVALID), "invalid argument");
    cr_assert_str_eq(fb_status_str((enum fb_status)99), "unknown status");
}

Test(fb, init_reserves_everything)
{
    struct frame_bitmap fb;
    memset(store, 0, 64);
    fb_init(&fb, store, 300);
    cr_assert_eq(fb.free_count, 0);
    uint64_t f;
    cr_assert_eq(fb_alloc(&fb, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 1, &f), FB_ERR_NO_MEMORY);
    check(&fb);
}

Test(fb, release_and_reserve_are_exact_and_clamped)
{
    struct frame_bitmap fb;
    fb_init(&fb, store, 1000);
    fb_release_range(&fb, 10, 10);
    cr_assert_eq(fb.free_count, 10);
    fb_release_range(&fb, 15, 10); /* overlaps: only 5 new */
    cr_assert_eq(fb.free_count, 15);
    fb_reserve_range(&fb, 0, 12);
    cr_assert_eq(fb.free_count, 13);
    fb_reserve_range(&fb, 0, 12); /* again: no change */
    cr_assert_eq(fb.free_count, 13);
    fb_release_range(&fb, 990, 100); /* clamped at 1000 */
    cr_assert_eq(fb.free_count, 23);
    fb_release_range(&fb, 5000, 10);
    fb_release_range(&fb, 500, 0);
    cr_assert_eq(fb.free_count, 23);
    fb_release_range(&fb, 0, 1); /* frame 0 is never released */
    cr_assert_eq(fb.free_count, 23);
    fb_release_range(&fb, 0, UINT64_MAX);
    cr_assert_eq(fb.free_count, 999);
    fb_reserve_range(&fb, 100, UINT64_MAX);
    cr_assert_eq(fb.free_count, 99);
    fb_reserve_range(&fb, UINT64_MAX, UINT64_MAX);
    cr_assert_eq(fb.free_count, 99);
    check(&fb);
}

Test(fb, alloc_lowest_first_until_exhausted)
{
    struct frame_bitmap fb;
    all_free(&fb, 100); /* not a multiple of 64: the tail must never leak */
    cr_assert_eq(fb.free_count, 99);
    uint64_t f;
    for (uint64_t want = 1; want < 100; want++) {
        cr_assert_eq(fb_alloc(&fb, &f), FB_OK);
        cr_assert_eq(f, want);
    }
    cr_assert_eq(fb.free_count, 0);
    cr_assert_eq(fb_alloc(&fb, &f), FB_ERR_NO_MEMORY);
    check(&fb);
    cr_assert_eq(fb_free(&fb, 42), FB_OK);
    cr_assert_eq(fb_free(&fb, 7), FB_OK);
    cr_assert_eq(fb_alloc(&fb, &f), FB_OK);
    cr_assert_eq(f, 7); /* freed frames below the hint are found again */
    cr_assert_eq(fb_alloc(&fb, &f), FB_OK);
    cr_assert_eq(f, 42);
    check(&fb);
}

Test(fb, free_errors)
{
    struct frame_bitmap fb;
    all_free(&fb, 128);
    uint64_t f;
    cr_assert_eq(fb_alloc(&fb, &f), FB_OK);
    cr_assert_eq(fb_free(&fb, f), FB_OK);
    uint64_t before = fb.free_count;
    cr_assert_eq(fb_free(&fb, f), FB_ERR_DOUBLE_FREE);
    cr_assert_eq(fb_free(&fb, 77), FB_ERR_DOUBLE_FREE); /* never allocated */
    cr_assert_eq(fb.free_count, before);
    cr_assert_eq(fb_free(&fb, 0), FB_ERR_RANGE);
    cr_assert_eq(fb_free(&fb, 128), FB_ERR_RANGE);
    cr_assert_eq(fb_free(&fb, UINT64_MAX), FB_ERR_RANGE);
    cr_assert_eq(fb.free_count, before);
    check(&fb);
}

Test(fb, contig_alignment_and_lowest_run)
{
    struct frame_bitmap fb;
    all_free(&fb, 1024);
    uint64_t f;
    cr_assert_eq(fb_alloc_contig(&fb, 3, 1, &f), FB_OK);
    cr_assert_eq(f, 1);
    cr_assert_eq(fb_alloc_contig(&fb, 4, 4, &f), FB_OK);
    cr_assert_eq(f, 4);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 2, &f), FB_OK);
    cr_assert_eq(f, 8);
    cr_assert_eq(fb_alloc_contig(&fb, 16, 16, &f), FB_OK);
    cr_assert_eq(f, 16);
    cr_assert_eq(fb_alloc_contig(&fb, 200, 512, &f), FB_OK);
    cr_assert_eq(f, 512);
    cr_assert_eq(fb_alloc(&fb, &f), FB_OK);
    cr_assert_eq(f, 9); /* single frames still come from the bottom */
    cr_assert_eq(fb_alloc_contig(&fb, 480, 32, &f), FB_OK);
    cr_assert_eq(f, 32); /* [32, 512) exactly fills the gap */
    /* Now the only fit ends exactly at the last frame. */
    cr_assert_eq(fb_alloc_contig(&fb, 312, 8, &f), FB_OK);
    cr_assert_eq(f, 712);
    cr_assert_eq(fb_is_free(&fb, 1023), false);
    cr_assert_eq(fb.free_count, 6); /* frames 10..15 */
    for (uint64_t i = 10; i < 16; i++)
        cr_assert(fb_is_free(&fb, i));
    check(&fb);
}

Test(fb, contig_skips_holes)
{
    struct frame_bitmap fb;
    fb_init(&fb, store, 4096);
    fb_release_range(&fb, 10, 5);    /* too short */
    fb_release_range(&fb, 100, 70);  /* long enough but badly aligned for 64 */
    fb_release_range(&fb, 200, 300); /* first run with a 64-aligned start */
    uint64_t f;
    cr_assert_eq(fb_alloc_contig(&fb, 6, 1, &f), FB_OK);
    cr_assert_eq(f, 100);
    cr_assert_eq(fb_alloc_contig(&fb, 64, 64, &f), FB_OK);
    cr_assert_eq(f, 256);
    cr_assert_eq(fb_alloc_contig(&fb, 5, 1, &f), FB_OK);
    cr_assert_eq(f, 10);
    cr_assert_eq(fb_alloc_contig(&fb, 500, 1, &f), FB_ERR_NO_MEMORY); /* > free_count */
    cr_assert_eq(fb_alloc_contig(&fb, 181, 1, &f), FB_ERR_NO_MEMORY); /* longest is 180 */
    cr_assert_eq(fb_alloc_contig(&fb, 180, 1, &f), FB_OK);
    cr_assert_eq(f, 320);
    check(&fb);
}

Test(fb, contig_invalid_and_impossible)
{
    struct frame_bitmap fb;
    all_free(&fb, 256);
    uint64_t f = 12345;
    cr_assert_eq(fb_alloc_contig(&fb, 0, 1, &f), FB_ERR_INVALID);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 0, &f), FB_ERR_INVALID);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 3, &f), FB_ERR_INVALID);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 96, &f), FB_ERR_INVALID);
    cr_assert_eq(fb_alloc_contig(&fb, 256, 1, &f), FB_ERR_NO_MEMORY); /* frame 0 */
    cr_assert_eq(fb_alloc_contig(&fb, UINT64_MAX, 1, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 256, &f), FB_ERR_NO_MEMORY); /* only frame 0 */
    cr_assert_eq(fb_alloc_contig(&fb, 1, 1ull << 63, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(fb_alloc_contig(&fb, 129, 128, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(f, 12345);
    cr_assert_eq(fb.free_count, 255);
    /* Enough free frames in total, but every other one is taken. */
    for (uint64_t i = 2; i < 256; i += 2)
        fb_reserve_range(&fb, i, 1);
    cr_assert_eq(fb_alloc_contig(&fb, 2, 1, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 2, &f), FB_ERR_NO_MEMORY);
    cr_assert_eq(fb_alloc_contig(&fb, 1, 1, &f), FB_OK);
    cr_assert_eq(f, 1);
    check(&fb);
}

Test(fb, free_contig_all_or_nothing)
{
    struct frame_bitmap fb;
    all_free(&fb, 512);
    uint64_t f;
    cr_assert_eq(fb_alloc_contig(&fb, 100, 4, &f), FB_OK);
    cr_assert_eq(f, 4);
    cr_assert_eq(fb_free(&fb, 60), FB_OK);
    uint64_t before = fb.free_count;
    cr_assert_eq(fb_free_contig(&fb, 4, 100), FB_ERR_DOUBLE_FREE);
    cr_assert_eq(fb.free_count, before);
    for (uint64_t i = 4; i < 104; i++)
        cr_assert_eq(fb_is_free(&fb, i), i == 60);
    cr_assert_eq(fb_free_contig(&fb, 4, 56), FB_OK);
    cr_assert_eq(fb_free_contig(&fb, 61, 43), FB_OK);
    cr_assert_eq(fb.free_count, 511);
    cr_assert_eq(fb_free_contig(&fb, 4, 0), FB_ERR_INVALID);
    cr_assert_eq(fb_free_contig(&fb, 0, 1), FB_ERR_RANGE);
    cr_assert_eq(fb_free_contig(&fb, 500, 13), FB_ERR_RANGE);
    cr_assert_eq(fb_free_contig(&fb, 1, UINT64_MAX), FB_ERR_RANGE);
    cr_assert_eq(fb_free_contig(&fb, 512, 1), FB_ERR_RANGE);
    check(&fb);
}

/* ---- Memory map ---- */

static const struct mb2_mem_region grub_map[] = {
    {0x0, 0x9fc00, AVAIL},         {0x9fc00, 0x400, RSVD},      {0xf0000, 0x10000, RSVD},
    {0x100000, 0x1fee0000, AVAIL}, {0x1ffe0000, 0x20000, RSVD}, {0xfffc0000, 0x40000, RSVD},
};

Test(fb, frame_count)
{
    cr_assert_eq(physmem_frame_count(NULL, 0), 0);
    cr_assert_eq(physmem_frame_count(grub_map, 6), 0x1ffe0);
    const struct mb2_mem_region m[] = {
        {0x1000, 0x800, AVAIL},       /* partial frame: rounded up */
        {0x10000000, 0x1000, RSVD},   /* ignored: not available */
        {0x5000000, 0, AVAIL},        /* ignored: empty */
        {UINT64_MAX - 10, 100, RSVD}, /* overflowing, not available */
    };
    cr_assert_eq(physmem_frame_count(m, 4), 2);
    const struct mb2_mem_region top[] = {{UINT64_MAX - 10, 100, AVAIL}};
    cr_assert_eq(physmem_frame_count(top, 1), 1ull << 52); /* saturated */
}

Test(fb, init_from_realistic_map)
{
    struct frame_bitmap fb;
    uint64_t n = physmem_frame_count(grub_map, 6);
    fb_init_from_map(&fb, store, n, grub_map, 6, NULL, 0);
    cr_assert_not(fb_is_free(&fb, 0));
    for (uint64_t f = 1; f < 0x9f; f++)
        cr_assert(fb_is_free(&fb, f));
    for (uint64_t f = 0x9f; f < 0x100; f++) /* partial frame, hole, ROM */
        cr_assert_not(fb_is_free(&fb, f));
    cr_assert(fb_is_free(&fb, 0x100));
    cr_assert(fb_is_free(&fb, n - 1));
    cr_assert_eq(fb.free_count, 0x9e + (n - 0x100));
    check(&fb);
}

Test(fb, partial_frames_at_region_edges)
{
    const struct mb2_mem_region m[] = {
        {0x1800, 0x4000, AVAIL}, /* [0x1800, 0x5800): frames 2..4 whole */
        {0x3800, 0x100, RSVD},   /* inside frame 3 */
        {0x8000, 0xfff, AVAIL},  /* one byte short of a frame */
        {0xa000, 0x1800, AVAIL}, /* two entries meeting inside frame 11 */
        {0xb800, 0x800, AVAIL},  /* ... cover it together */
        {0xd000, 0x800, AVAIL},  /* a gap inside frame 13 ... */
        {0xd900, 0x700, AVAIL},  /* ... keeps it reserved */
    };
    struct frame_bitmap fb;
    fb_init_from_map(&fb, store, 16, m, 7, NULL, 0);
    for (uint64_t f = 0; f < 16; f++)
        cr_assert_eq(fb_is_free(&fb, f), f == 2 || f == 4 || f == 10 || f == 11, "frame %lu", f);
    check(&fb);
    /* physmem_find_free agrees on frame granularity. */
    uint64_t b;
    cr_assert(physmem_find_free(m, 7, NULL, 0, 0x2000, UINT64_MAX, &b));
    cr_assert_eq(b, 0xa000);
}

Test(fb, overlapping_entries_reserved_wins)
{
    const struct mb2_mem_region before[] = {
        {0x40000, 0x10000, RSVD},
        {0, 0x100000, AVAIL},
        {0x80000, 0x100000, AVAIL}, /* overlapping available: union */
        {0x20000, 0x1000, MB2_MEM_BADRAM},
    };
    struct mb2_mem_region after[4] = {before[1], before[2], before[0], before[3]};
    for (int order = 0; order < 2; order++) {
        struct frame_bitmap fb;
        fb_init_from_map(&fb, store, 0x200, order ? after : before, 4, NULL, 0);
        for (uint64_t f = 0; f < 0x200; f++) {
            bool want = f != 0 && f != 0x20 && (f < 0x40 || f >= 0x50) && f < 0x180;
            cr_assert_eq(fb_is_free(&fb, f), want, "order %d frame %lx", order, f);
        }
        check(&fb);
    }
}

Test(fb, reserved_ranges_list)
{
    const struct mb2_mem_region m[] = {{0, 0x800000, AVAIL}};
    const struct phys_range r[] = {
        {0x100000, 0x123456},   /* kernel: partial last frame reserved */
        {0x300800, 0x301000},   /* module inside one frame */
        {0x500000, 0x500000},   /* empty */
        {0x600000, 0x400000},   /* inverted: ignored */
        {0x7ff000, UINT64_MAX}, /* runs off the bitmap: clamped */
    };
    struct frame_bitmap fb;
    fb_init_from_map(&fb, store, 0x800, m, 1, r, 5);
    for (uint64_t f = 0; f < 0x800; f++) {
        bool want = f != 0 && !(f >= 0x100 && f <= 0x123) && f != 0x300 && f != 0x7ff;
        cr_assert_eq(fb_is_free(&fb, f), want, "frame %lx", f);
    }
    check(&fb);
}

Test(fb, map_beyond_bitmap_and_near_top)
{
    const struct mb2_mem_region m[] = {
        {0, 0x10000000, AVAIL},
        {UINT64_MAX - 0x3fff, 0x3fff, AVAIL},
        {UINT64_MAX - 0x1000, 0x1000, RSVD},
        {UINT64_MAX - 10, 100, RSVD}, /* overflowing: clamped, no wrap to 0 */
    };
    struct frame_bitmap fb;
    fb_init_from_map(&fb, store, 100, m, 4, NULL, 0);
    cr_assert_eq(fb.free_count, 99);
    check(&fb);
}

/* ---- physmem_find_free ---- */

static const struct mb2_mem_region two[] = {
    {0, 0xa0000, AVAIL},
    {0x100000, 0x7f00000, AVAIL},
};

Test(fb, find_free_basic)
{
    uint64_t b = 0;
    cr_assert(physmem_find_free(two, 2, NULL, 0, 0x20000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x1000); /* never frame 0 */
    const struct phys_range lowav[] = {{0x1000, 0x1800}};
    cr_assert(physmem_find_free(two, 2, lowav, 1, 0x20000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x2000);
    cr_assert(physmem_find_free(two, 2, NULL, 0, 0x100000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x100000); /* does not fit below 640 KiB */
    const struct phys_range kern[] = {
        {0x1000, 0x30000}, {0x100000, 0x18a123}, {0x200000, 0x201000}};
    cr_assert(physmem_find_free(two, 2, kern, 3, 0x75000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x18b000); /* ends exactly where the next range starts */
    cr_assert(physmem_find_free(two, 2, kern, 3, 0x7e000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x201000);
    cr_assert(physmem_find_free(two, 2, NULL, 0, 1, UINT64_MAX, &b));
    cr_assert_eq(b, 0x1000);
}

Test(fb, find_free_limits_and_failures)
{
    uint64_t b = 77;
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, 0, UINT64_MAX, &b));
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, UINT64_MAX, UINT64_MAX, &b));
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, 0x9f001, 0xa0000, &b)); /* rounds up */
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, 0x8000000, UINT64_MAX, &b));
    cr_assert_not(physmem_find_free(NULL, 0, NULL, 0, 0x1000, UINT64_MAX, &b));
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, 0x100000, 0x1ff000, &b));
    cr_assert_eq(b, 77);
    cr_assert(physmem_find_free(two, 2, NULL, 0, 0x100000, 0x200000, &b));
    cr_assert_eq(b, 0x100000); /* ends exactly at the limit */
    cr_assert(physmem_find_free(two, 2, NULL, 0, 0x9f000, 0xa0000, &b));
    cr_assert_eq(b, 0x1000);
    cr_assert_not(physmem_find_free(two, 2, NULL, 0, 0x1000, 0x1000, &b));
}

Test(fb, find_free_conservative)
{
    const struct mb2_mem_region m[] = {
        {0, 0x1000000, AVAIL},
        {0x1000, 0x2000, RSVD},
        {0x5010, 0x10, MB2_MEM_NVS}, /* spoils the whole frame at 0x5000 */
        {0x4000, 0x10000, AVAIL},    /* overlap with available changes nothing */
    };
    uint64_t b;
    cr_assert(physmem_find_free(m, 4, NULL, 0, 0x1000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x3000);
    cr_assert(physmem_find_free(m, 4, NULL, 0, 0x3000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x6000);
    /* A run may span adjacent and overlapping available entries... */
    const struct mb2_mem_region adj[] = {
        {0x1000, 0x2000, AVAIL}, {0x3000, 0x3000, AVAIL}, {0x2000, 0x5000, AVAIL}};
    cr_assert(physmem_find_free(adj, 3, NULL, 0, 0x6000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x1000);
    /* ...but not a hole between them. */
    const struct mb2_mem_region gap[] = {{0x1000, 0x2000, AVAIL}, {0x3800, 0x8000, AVAIL}};
    cr_assert(physmem_find_free(gap, 2, NULL, 0, 0x3000, UINT64_MAX, &b));
    cr_assert_eq(b, 0x4000);
}

Test(fb, find_free_near_top_of_address_space)
{
    const struct mb2_mem_region m[] = {
        {UINT64_MAX - 0xffff, 0xffff, AVAIL}, /* [2^64 - 64 KiB, 2^64 - 1) */
        {UINT64_MAX - 0x1fff, 0x1fff, RSVD},
        {UINT64_MAX - 10, 100, RSVD}, /* would overflow: saturated */
    };
    const struct phys_range av[] = {{UINT64_MAX - 0xffff, UINT64_MAX - 0xe000}};
    uint64_t b;
    cr_assert(physmem_find_free(m, 3, av, 1, 0x2000, UINT64_MAX, &b));
    cr_assert_eq(b, UINT64_MAX - 0xdfff);
    cr_assert(physmem_find_free(m, 3, av, 1, 0xc000, UINT64_MAX, &b));
    cr_assert_eq(b, UINT64_MAX - 0xdfff);
    cr_assert_not(physmem_find_free(m, 3, av, 1, 0xd000, UINT64_MAX, &b));
    const struct phys_range top[] = {{0x1000, UINT64_MAX}};
    cr_assert_not(physmem_find_free(two, 2, top, 1, 0x1000, UINT64_MAX, &b));
}

/* How the kernel builds its allocator: place the bitmap with
 * physmem_find_free, then reserve it along with kernel and module. */
Test(fb, kernel_bootstrap_recipe)
{
    uint64_t n = physmem_frame_count(grub_map, 6);
    struct phys_range r[3] = {{0x100000, 0x180000}, {0x180000, 0x181234}};
    uint64_t base;
    cr_assert(physmem_find_free(grub_map, 6, r, 2, fb_storage_bytes(n), 1ull << 30, &base));
    cr_assert_eq(base, 0x1000); /* 16 KiB: fits in low memory */
    r[2] = (struct phys_range){base, base + fb_storage_bytes(n)};
    struct frame_bitmap fb;
    fb_init_from_map(&fb, store, n, grub_map, 6, r, 3);
    uint64_t f, got = 0;
    while (fb_alloc(&fb, &f) == FB_OK) {
        uint64_t a = f << FRAME_SHIFT;
        cr_assert(a >= base + fb_storage_bytes(n) && (a < 0x100000 || a >= 0x182000) &&
                      (a < 0x9f000 || a >= 0x100000),
                  "frame %lx", f);
        got++;
    }
    cr_assert_eq(got, 0x9e - 4 + (n - 0x100) - 0x82);
    cr_assert_eq(fb.free_count, 0);
}

/* ---- Randomized properties ---- */

/* Brute force over 256-byte units: compares physmem_find_free against the
 * definition on random small maps. */
Test(fb, find_free_matches_brute_force)
{
    rng = 0x1234567887654321ull;
    enum { UNITS = 64 * 16, UNIT = 256, PER_PAGE = 16 };
    for (int iter = 0; iter < 3000; iter++) {
        struct mb2_mem_region m[8];
        struct phys_range av[3];
        uint32_t n = (uint32_t)rnd(9), na = (uint32_t)rnd(4);
        bool ok[UNITS] = {false}, bad[UNITS] = {false};
        for (uint32_t i = 0; i < n; i++) {
            uint64_t s = rnd(UNITS), l = rnd(UNITS / 2);
            m[i] = (struct mb2_mem_region){s * UNIT, l * UNIT, rnd(3) ? AVAIL : 1 + rnd(5)};
            for (uint64_t u = s; u < s + l && u < UNITS; u++)
                (m[i].type == AVAIL ? ok : bad)[u] = true;
        }
        for (uint32_t i = 0; i < na; i++) {
            uint64_t s = rnd(UNITS), e = s + rnd(UNITS / 4);
            av[i] = (struct phys_range){s * UNIT, e * UNIT};
            for (uint64_t u = s; u < e && u < UNITS; u++)
                bad[u] = true;
        }
        uint64_t pages = 1 + rnd(8), limit = rnd(UNITS + 1) * UNIT;
        uint64_t size = pages * 4096 - rnd(4096); /* rounds up to pages */
        uint64_t want = 0;
        bool found = false;
        for (uint64_t p = 1; !found && (p + pages) * 4096 <= limit; p++) {
            bool good = true;
            for (uint64_t u = p * PER_PAGE; good && u < (p + pages) * PER_PAGE; u++)
                good = ok[u] && !bad[u];
            if (good)
                found = true, want = p * 4096;
        }
        uint64_t got = 0;
        bool r = physmem_find_free(m, n, av, na, size, limit, &got);
        cr_assert_eq(r, found, "iter %d", iter);
        if (found)
            cr_assert_eq(got, want, "iter %d", iter);
    }
}

/* Reference model: a bool array, lowest-first allocation. */
static bool used[700];

static uint64_t model_run(uint64_t n, uint64_t count, uint64_t align)
{
    for (uint64_t s = align; s < n && count <= n - s; s += align) {
        uint64_t i = 0;
        while (i < count && !used[s + i])
            i++;
        if (i == count)
            return s;
    }
    return 0;
}

Test(fb, random_ops_match_model)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        uint64_t n = 1 + rnd(sizeof(used));
        struct frame_bitmap fb;
        fb_init(&fb, store, n);
        for (uint64_t i = 0; i < n; i++)
            used[i] = true;
        for (int op = 0; op < 3000; op++) {
            uint64_t a = rnd(n + 2), c = 1 + rnd(rnd(4) ? 4 : 80), f = 0, want;
            uint64_t align = 1ull << rnd(8);
            enum fb_status st, exp;
            switch (rnd(7)) {
            case 0: /* release or reserve a range */
                if (rnd(2)) {
                    fb_release_range(&fb, a, c);
                    for (uint64_t i = a == 0 ? 1 : a; i < a + c && i < n; i++)
                        used[i] = false;
                } else {
                    fb_reserve_range(&fb, a, c);
                    for (uint64_t i = a; i < a + c && i < n; i++)
                        used[i] = true;
                }
                break;
            case 1:
            case 2:
                want = model_run(n, 1, 1);
                st = fb_alloc(&fb, &f);
                cr_assert_eq(st, want ? FB_OK : FB_ERR_NO_MEMORY);
                if (want) {
                    cr_assert_eq(f, want);
                    used[f] = true;
                }
                break;
            case 3:
                if (rnd(10) == 0)
                    align = 3 + 2 * rnd(5); /* odd: invalid */
                want = (align & (align - 1)) ? 0 : model_run(n, c, align);
                st = fb_alloc_contig(&fb, c, align, &f);
                exp = (align & (align - 1)) ? FB_ERR_INVALID : want ? FB_OK : FB_ERR_NO_MEMORY;
                cr_assert_eq(st, exp, "seed %lu op %d", seed, op);
                if (want)
                    cr_assert_eq(f, want);
                for (uint64_t i = 0; want && i < c; i++)
                    used[f + i] = true;
                break;
            case 4:
            case 5:
                exp = a == 0 || a >= n ? FB_ERR_RANGE : used[a] ? FB_OK : FB_ERR_DOUBLE_FREE;
                cr_assert_eq(fb_free(&fb, a), exp);
                if (exp == FB_OK)
                    used[a] = false;
                break;
            default:
                exp = a == 0 || a >= n || c > n - a ? FB_ERR_RANGE : FB_OK;
                for (uint64_t i = a; exp == FB_OK && i < a + c; i++)
                    if (!used[i])
                        exp = FB_ERR_DOUBLE_FREE;
                cr_assert_eq(fb_free_contig(&fb, a, c), exp);
                for (uint64_t i = a; exp == FB_OK && i < a + c; i++)
                    used[i] = false;
            }
            uint64_t nfree = 0;
            for (uint64_t i = 0; i < n; i++) {
                cr_assert_eq(fb_is_free(&fb, i), !used[i], "seed %lu op %d frame %lu", seed, op, i);
                nfree += !used[i];
            }
            cr_assert_eq(fb.free_count, nfree);
        }
        check(&fb);
    }
}
