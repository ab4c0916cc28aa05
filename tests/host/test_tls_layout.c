/* The TLS layout arithmetic (lib/kcore/tls_layout.h): every alignment the
 * ELF parser admits, sizes around each boundary, any base. */
#include <criterion/criterion.h>

#include "kcore/tls_layout.h"
#include "test_rng.h"

#define TCB 64u

Test(tls_layout, block_size_rounds_to_the_alignment)
{
    cr_assert_eq(tls_block_size(0, 8), 0);
    cr_assert_eq(tls_block_size(1, 8), 8);
    cr_assert_eq(tls_block_size(8, 8), 8);
    cr_assert_eq(tls_block_size(0x47c, 8), 0x480);
    cr_assert_eq(tls_block_size(5, 1), 5);
    cr_assert_eq(tls_block_size(5, 0), 5, "align 0 (no PT_TLS) counts as 1");
    cr_assert_eq(tls_block_size(4097, 4096), 8192);
}

/* For every admitted alignment and many sizes and bases: the thread
 * pointer is aligned for the TCB and the segment, the block below it is
 * aligned for the segment and starts inside the area, and block + TCB end
 * inside it. */
Test(tls_layout, every_alignment_and_base)
{
    rng = 0x7153;
    for (uint64_t align = 1; align <= 4096; align <<= 1) {
        for (int k = 0; k < 300; k++) {
            uint64_t memsz = k < 20 ? (uint64_t)k * align / 4 : rnd(1u << 20);
            uint64_t base = rnd(1ull << 40) & ~15ull;
            uint64_t block = tls_block_size(memsz, align);
            uint64_t tp = tls_place(base, block, align);
            uint64_t end = base + tls_area_size(block, align, TCB);
            cr_assert(block >= memsz && block - memsz < align);
            cr_assert_eq(tp % tls_tp_align(align), 0);
            cr_assert_eq((tp - block) % align, 0, "block misaligned: align %lu", align);
            cr_assert(tp - block >= base, "block below the area");
            cr_assert(tp + TCB <= end, "TCB past the area: align %lu memsz %lu", align, memsz);
        }
    }
}

Test(tls_layout, a_page_aligned_tcb_needs_no_padding)
{
    /* The kernel's main-thread layout: the TCB page at a fixed address. */
    uint64_t tcb = 0x00007fffffdff000ull;
    for (uint64_t align = 1; align <= 4096; align <<= 1) {
        uint64_t block = tls_block_size(1000, align);
        cr_assert_eq(tls_place(tcb - block, block, align), tcb);
    }
}
