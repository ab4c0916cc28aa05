/* Physical memory: the frame allocator built from the boot memory map. */
#ifndef CAPOS_MEMORY_H
#define CAPOS_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "kcore/mb2.h"

/*
 * Build the frame allocator from the parsed boot information. Reserves
 * frame 0, the kernel image, the boot module(s), the boot information
 * structure (info_phys, info->total_size), the bitmap itself and every
 * non-available region. Panics with a clear message if memory is unusable.
 */
void memory_init(const struct mb2_info *info, uint64_t info_phys);

/* One zeroed 4 KiB frame; false when memory is exhausted. */
bool frame_alloc_zeroed(uint64_t *pa_out);
bool frame_alloc(uint64_t *pa_out);
/* Panics on a double free or a frame outside RAM: both are kernel bugs. */
void frame_free(uint64_t pa);
/* count contiguous frames, the first aligned to align_frames. */
bool frame_alloc_contig(uint64_t count, uint64_t align_frames, uint64_t *pa_out);
void frame_free_contig(uint64_t pa, uint64_t count);

uint64_t frames_free(void);
uint64_t frames_total(void);
/* Bytes of RAM the memory map reports as available. */
uint64_t memory_available_bytes(void);
/* Whether the firmware's memory map has ARCH_AP_TRAMPOLINE_PA as
 * available RAM (the frame allocator never hands that page out). */
bool memory_ap_trampoline_usable(void);

/* Print the memory map and the allocator state. */
void memory_report(const struct mb2_info *info);

/* The RAM ranges the direct map must cover (available, ACPI, module,
 * boot information). Valid after memory_init. */
struct paging_ram_range;
int memory_ram_ranges(struct paging_ram_range *out, int max);

/*
 * A kernel stack of `pages` pages in the stack region, with an unmapped
 * guard page below it so that an overflow faults instead of corrupting
 * memory. Returns the top (initial RSP), or 0 when out of memory.
 */
uint64_t kstack_alloc(unsigned pages);
void kstack_free(uint64_t top, unsigned pages);

#endif
