/*
 * Physical frame allocator: one bit per 4 KiB frame, 1 = in use or
 * reserved, 0 = free. Pure, freestanding code with no allocation of its own:
 * the caller supplies the bit storage.
 *
 * Frame numbers are physical addresses >> 12. Frame 0 is never handed out.
 */
#ifndef CAPOS_LIB_FRAME_BITMAP_H
#define CAPOS_LIB_FRAME_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcore/mb2.h"

#define FRAME_SIZE  4096u
#define FRAME_SHIFT 12

enum fb_status {
    FB_OK = 0,
    FB_ERR_RANGE,       /* frame number outside the bitmap */
    FB_ERR_DOUBLE_FREE, /* freeing a frame that is already free */
    FB_ERR_NO_MEMORY,   /* no free frame, or no free run of that length */
    FB_ERR_INVALID,     /* a zero count, alignment not a power of two, ... */
};

struct frame_bitmap {
    uint64_t *bits;
    uint64_t nframes;    /* frames covered by the bitmap */
    uint64_t free_count; /* frames currently free */
    uint64_t next_hint;  /* every frame below it is in use, so the single-frame
                          * search starts here and still finds the lowest */
};

/* Bytes of storage needed to cover nframes frames (a multiple of 8). */
size_t fb_storage_bytes(uint64_t nframes);

/* Set up a bitmap with every frame reserved. */
void fb_init(struct frame_bitmap *fb, uint64_t *storage, uint64_t nframes);

/* Mark [first, first+count) free or reserved, clamped to the bitmap (and
 * releasing never frees frame 0). Used only while building the map; they do
 * not report double frees. */
void fb_release_range(struct frame_bitmap *fb, uint64_t first, uint64_t count);
void fb_reserve_range(struct frame_bitmap *fb, uint64_t first, uint64_t count);

bool fb_is_free(const struct frame_bitmap *fb, uint64_t frame);

/* The lowest free frame. */
enum fb_status fb_alloc(struct frame_bitmap *fb, uint64_t *frame_out);
/* The lowest run of count free frames whose first frame is a multiple of
 * align_frames (a power of two). */
enum fb_status fb_alloc_contig(struct frame_bitmap *fb, uint64_t count, uint64_t align_frames,
                               uint64_t *first_out);
/* Frame 0 or a frame past the bitmap is FB_ERR_RANGE. */
enum fb_status fb_free(struct frame_bitmap *fb, uint64_t frame);
/* Frees all or nothing: a double free anywhere in the run changes nothing. */
enum fb_status fb_free_contig(struct frame_bitmap *fb, uint64_t first, uint64_t count);

const char *fb_status_str(enum fb_status s);

/* A physical byte range [base, end). */
struct phys_range {
    uint64_t base;
    uint64_t end;
};

/*
 * Frames needed to cover every available region of the memory map: the
 * highest available address, rounded up, in frames. 0 if none.
 */
uint64_t physmem_frame_count(const struct mb2_mem_region *map, uint32_t n);

/*
 * Find a page-aligned physical range of `size` bytes (rounded up to whole
 * frames; 0 finds nothing) inside available memory, ending at or below
 * `limit`, overlapping none of `avoid` (empty or inverted ranges are
 * ignored), and not containing frame 0. Lowest such address wins. Returns false if none.
 * Overlapping map entries are treated conservatively: a byte is usable only
 * if some entry says available and no entry says otherwise.
 */
bool physmem_find_free(const struct mb2_mem_region *map, uint32_t n, const struct phys_range *avoid,
                       uint32_t navoid, uint64_t size, uint64_t limit, uint64_t *base_out);

/*
 * Build the allocator from the memory map: frames wholly covered by
 * available regions (several adjacent entries may cover one frame) become
 * free; then frame 0, every non-available region (partially covered frames
 * included) and every range in `reserved` (kernel image, boot module, the
 * bitmap storage itself, ...; empty or inverted ranges are ignored) are
 * reserved. A frame ends up free exactly when physmem_find_free would
 * consider it usable. Worst case O(n^3) for n map entries (n <= 128) plus
 * O(nframes / 64) per region.
 */
void fb_init_from_map(struct frame_bitmap *fb, uint64_t *storage, uint64_t nframes,
                      const struct mb2_mem_region *map, uint32_t n,
                      const struct phys_range *reserved, uint32_t nreserved);

#endif
