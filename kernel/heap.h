#ifndef CAPOS_HEAP_H
#define CAPOS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Kernel heap. Small blocks (up to 2 KiB) come from per-size-class slabs of
 * single frames; larger ones are runs of whole frames. All memory is
 * reached through the direct map. Not interrupt-safe: never call it from
 * an interrupt handler.
 */
void *kmalloc(size_t size);

/* Every block starts with a header of this many bytes. */
#define HEAP_BLOCK_HEADER 16u
/* The slab classes: block sizes, header included, smallest first (2016
 * fits two per page). X(class, arg) is applied to each; heap.c builds its
 * table from this list. */
#define HEAP_SLAB_CLASSES(X, arg)                                                                  \
    X(32, arg) X(64, arg) X(128, arg) X(256, arg) X(512, arg) X(1024, arg) X(2016, arg)
#define HEAP_CLASS_EQ_(c, n) || (c) == (n)
/* Whether n is a slab class: requests of up to n - HEAP_BLOCK_HEADER bytes
 * above the next smaller class then get blocks of one size, so that a
 * freed block can serve any of them. */
#define HEAP_IS_SLAB_CLASS(n) (0 HEAP_SLAB_CLASSES(HEAP_CLASS_EQ_, n))
void *kzalloc(size_t size);
/* Panics on a pointer that kmalloc did not return or that was already
 * freed: heap corruption must stop the kernel, not spread. */
void kfree(void *p);

struct heap_stats {
    uint64_t live_blocks;
    uint64_t live_bytes;    /* as requested */
    uint64_t frames_in_use; /* slab pages plus large runs */
};
void heap_stats(struct heap_stats *out);

/* Allocate and free a mix of sizes, checking contents and that every frame
 * comes back. Returns false (after printing why) on any inconsistency. */
bool heap_self_test(void);

/* Give the empty slab pages the heap keeps for reuse back to the frame
 * allocator. */
void heap_trim(void);

#endif
