/*
 * Physical memory set-up and the kernel's frame allocator, a thin wrapper
 * around lib/kcore/frame_bitmap.c (where the logic and its tests live).
 */
#include "memory.h"

#include <arch/smp.h>

#include <arch/layout.h>
#include <arch/paging.h>

#include "kcore/frame_bitmap.h"
#include "kprintf.h"
#include "string.h"

static struct frame_bitmap frames;
static uint64_t total_frames_free_at_boot;
static uint64_t available_bytes;

/* Ranges the direct map must cover, collected once by memory_init. */
#define MAX_RAM_RANGES (MB2_MAX_MMAP + MB2_MAX_MODULES + 1)
static struct paging_ram_range ram_ranges[MAX_RAM_RANGES];
static int nram_ranges;

extern char __kernel_phys_start[], __kernel_phys_end[];

static bool is_ram_type(uint32_t type)
{
    return type == MB2_MEM_AVAILABLE || type == MB2_MEM_ACPI_RECLAIMABLE || type == MB2_MEM_NVS;
}

static void add_ram_range(uint64_t base, uint64_t end)
{
    if (end > base && nram_ranges < MAX_RAM_RANGES)
        ram_ranges[nram_ranges++] = (struct paging_ram_range){base, end};
}

/* The firmware calls the other CPUs' start-up page plain RAM (so writing
 * it clobbers nothing the firmware keeps). */
static bool trampoline_usable;

bool memory_ap_trampoline_usable(void)
{
    return trampoline_usable;
}

void memory_init(const struct mb2_info *info, uint64_t info_phys)
{
    uint64_t nframes = physmem_frame_count(info->mmap, info->mmap_count);
    if (nframes == 0)
        panic("memory: the boot memory map lists no available memory");

    struct phys_range avoid[3 + MB2_MAX_MODULES];
    uint32_t navoid = 0;
    /* The other CPUs' start-up page (arch/smp.h): never handed out. */
    avoid[navoid++] = (struct phys_range){ARCH_AP_TRAMPOLINE_PA, ARCH_AP_TRAMPOLINE_PA + PAGE_SIZE};
    avoid[navoid++] =
        (struct phys_range){(uint64_t)__kernel_phys_start, (uint64_t)__kernel_phys_end};
    avoid[navoid++] = (struct phys_range){info_phys, info_phys + info->total_size};
    for (uint32_t i = 0; i < info->module_count && i < MB2_MAX_MODULES; i++)
        avoid[navoid++] = (struct phys_range){info->modules[i].start, info->modules[i].end};

    /* The bitmap must be reachable through the boot page tables, which
     * map only the first 4 GiB. */
    size_t bytes = fb_storage_bytes(nframes);
    uint64_t storage_pa;
    if (!physmem_find_free(info->mmap, info->mmap_count, avoid, navoid, bytes, BOOT_MAPPED_LIMIT,
                           &storage_pa))
        panic("memory: no room below 4 GiB for a %zu-byte frame bitmap", bytes);

    struct phys_range reserved[4 + MB2_MAX_MODULES];
    for (uint32_t i = 0; i < navoid; i++)
        reserved[i] = avoid[i];
    reserved[navoid] = (struct phys_range){storage_pa, storage_pa + bytes};
    fb_init_from_map(&frames, phys_to_virt(storage_pa), nframes, info->mmap, info->mmap_count,
                     reserved, navoid + 1);
    total_frames_free_at_boot = frames.free_count;

    for (uint32_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mem_region *r = &info->mmap[i];
        if (r->type == MB2_MEM_AVAILABLE)
            available_bytes += r->length;
        if (r->type == MB2_MEM_AVAILABLE && r->base <= ARCH_AP_TRAMPOLINE_PA &&
            ARCH_AP_TRAMPOLINE_PA + PAGE_SIZE <= r->base + r->length)
            trampoline_usable = true;
        if (is_ram_type(r->type))
            add_ram_range(r->base, r->base + r->length);
    }
    for (uint32_t i = 0; i < navoid; i++)
        add_ram_range(avoid[i].base, avoid[i].end);
}

int memory_ram_ranges(struct paging_ram_range *out, int max)
{
    int n = nram_ranges < max ? nram_ranges : max;
    for (int i = 0; i < n; i++)
        out[i] = ram_ranges[i];
    return n;
}

bool frame_alloc(uint64_t *pa_out)
{
    uint64_t f;
    if (fb_alloc(&frames, &f) != FB_OK)
        return false;
    *pa_out = f << FRAME_SHIFT;
    return true;
}

bool frame_alloc_zeroed(uint64_t *pa_out)
{
    if (!frame_alloc(pa_out))
        return false;
    memset(phys_to_virt(*pa_out), 0, FRAME_SIZE);
    return true;
}

bool frame_alloc_contig(uint64_t count, uint64_t align_frames, uint64_t *pa_out)
{
    uint64_t f;
    if (fb_alloc_contig(&frames, count, align_frames, &f) != FB_OK)
        return false;
    *pa_out = f << FRAME_SHIFT;
    return true;
}

void frame_free(uint64_t pa)
{
    enum fb_status s = fb_free(&frames, pa >> FRAME_SHIFT);
    if (s != FB_OK)
        panic("memory: freeing frame %lx: %s", pa, fb_status_str(s));
}

void frame_free_contig(uint64_t pa, uint64_t count)
{
    enum fb_status s = fb_free_contig(&frames, pa >> FRAME_SHIFT, count);
    if (s != FB_OK)
        panic("memory: freeing %lu frames at %lx: %s", count, pa, fb_status_str(s));
}

uint64_t frames_free(void)
{
    return frames.free_count;
}

uint64_t frames_total(void)
{
    return frames.nframes;
}

uint64_t memory_available_bytes(void)
{
    return available_bytes;
}

void memory_report(const struct mb2_info *info)
{
    kprintf("memory map (%u entries):\n", info->mmap_count);
    for (uint32_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mem_region *r = &info->mmap[i];
        kprintf("  %016lx-%016lx %-10s %8lu KiB\n", r->base, r->base + r->length,
                mb2_mem_type_str(r->type), r->length >> 10);
    }
    kprintf("memory: %lu MiB available, %lu frames tracked, %lu free (%lu MiB)\n",
            available_bytes >> 20, frames.nframes, total_frames_free_at_boot,
            (total_frames_free_at_boot * FRAME_SIZE) >> 20);
}

/* Kernel stacks are carved from the stack region by a bump pointer. Freed
 * stacks stay mapped in a small cache keyed by size and are reused first;
 * past the cache they are unmapped and their frames freed. */
static uint64_t kstack_next = KSTACK_REGION_BASE;

#define KSTACK_CACHE 32
static struct {
    uint64_t top;
    unsigned pages;
} kstack_cache[KSTACK_CACHE];
static unsigned kstack_cached;

void kstack_free(uint64_t top, unsigned pages)
{
    if (kstack_cached < KSTACK_CACHE) {
        kstack_cache[kstack_cached].top = top;
        kstack_cache[kstack_cached].pages = pages;
        kstack_cached++;
        return;
    }
    /* The virtual range is not reused: the region has room for 2^18 pages
     * and the cache absorbs the usual churn. */
    for (unsigned i = 1; i <= pages; i++) {
        uint64_t va = top - (uint64_t)i * PAGE_SIZE, pa;
        uint32_t flags;
        if (paging_translate(va, &pa, &flags)) {
            paging_unmap(va);
            frame_free(pa);
        }
    }
}

uint64_t kstack_alloc(unsigned pages)
{
    for (unsigned i = 0; i < kstack_cached; i++) {
        if (kstack_cache[i].pages == pages) {
            uint64_t top = kstack_cache[i].top;
            kstack_cache[i] = kstack_cache[--kstack_cached];
            return top;
        }
    }
    uint64_t span = (uint64_t)(pages + 1) * PAGE_SIZE;
    if (pages == 0 || kstack_next + span > KSTACK_REGION_BASE + KSTACK_REGION_SIZE)
        return 0;
    uint64_t base = kstack_next + PAGE_SIZE; /* kstack_next itself is the guard */
    for (unsigned i = 0; i < pages; i++) {
        uint64_t pa;
        bool have_frame = frame_alloc_zeroed(&pa);
        if (!have_frame || !paging_map(base + i * PAGE_SIZE, pa, VM_WRITE)) {
            /* Undo the pages mapped so far; the region is reused next time. */
            if (have_frame)
                frame_free(pa);
            for (unsigned j = 0; j < i; j++) {
                uint64_t va = base + j * PAGE_SIZE, mapped;
                uint32_t flags;
                if (paging_translate(va, &mapped, &flags)) {
                    paging_unmap(va);
                    frame_free(mapped);
                }
            }
            return 0;
        }
    }
    kstack_next += span;
    return base + (uint64_t)pages * PAGE_SIZE;
}
