/*
 * Kernel heap: slabs for small blocks, frame runs for large ones.
 *
 * Every block starts with a 16-byte header holding a magic value, so kfree
 * can tell a live block from a freed one or from a stray pointer. A slab
 * page starts with a 64-byte page header and has its own free list. A page
 * whose last block is freed goes back to the frame allocator, except one
 * empty page per class: without it, a steady alloc/free pattern (every IPC
 * message) would free a page and build a new one each time.
 */
#include "heap.h"

#include <arch/paging.h>

#include "kprintf.h"
#include "memory.h"
#include "string.h"

#define BLOCK_LIVE       0x4b4c4956u /* "VILK" */
#define BLOCK_FREE       0x4b455246u
#define SLAB_MAGIC       0x42414c53u
#define CLASS_LARGE      0xffffu
#define PAGE_HEADER_SIZE 64

struct block_header {
    uint32_t magic;
    uint16_t class_index;
    uint16_t reserved;
    uint64_t size; /* bytes requested; a free slab block keeps its next pointer here */
};
_Static_assert(sizeof(struct block_header) == 16, "keeps blocks 16-byte aligned");

struct slab_page {
    uint32_t magic;
    uint16_t class_index;
    uint16_t live;
    struct block_header *free; /* next pointer kept in the freed block's size field */
    struct slab_page *next, *prev;
};
_Static_assert(sizeof(struct slab_page) <= PAGE_HEADER_SIZE, "page header fits");

#define CLASS_ELEM_(c, arg) c,
static const uint32_t class_size[] = {HEAP_SLAB_CLASSES(CLASS_ELEM_, 0)};
_Static_assert(sizeof(struct block_header) == HEAP_BLOCK_HEADER, "heap.h says the header size");
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))

/* Pages of each class that have at least one free block. */
static struct slab_page *partial[NCLASSES];
/* Whether partial[] of a class holds an empty page (kept, at most one). */
static bool empty_kept[NCLASSES];
static struct heap_stats stats;

static int class_for(size_t total)
{
    for (unsigned i = 0; i < NCLASSES; i++)
        if (total <= class_size[i])
            return (int)i;
    return -1;
}

static void list_remove(struct slab_page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        partial[pg->class_index] = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = 0;
}

static void list_push(struct slab_page *pg)
{
    pg->prev = 0;
    pg->next = partial[pg->class_index];
    if (pg->next)
        pg->next->prev = pg;
    partial[pg->class_index] = pg;
}

static struct slab_page *slab_new(int ci)
{
    uint64_t pa;
    if (!frame_alloc(&pa))
        return 0;
    struct slab_page *pg = phys_to_virt(pa);
    *pg = (struct slab_page){.magic = SLAB_MAGIC, .class_index = (uint16_t)ci};
    uint32_t bs = class_size[ci];
    /* Thread the free list from the end so blocks are handed out in
     * address order. */
    for (int off = PAGE_HEADER_SIZE + (int)((PAGE_SIZE - PAGE_HEADER_SIZE) / bs - 1) * (int)bs;
         off >= PAGE_HEADER_SIZE; off -= (int)bs) {
        struct block_header *b = (struct block_header *)((char *)pg + off);
        b->magic = BLOCK_FREE;
        b->size = (uint64_t)pg->free;
        pg->free = b;
    }
    stats.frames_in_use++;
    list_push(pg);
    return pg;
}

static uint64_t large_frames(uint64_t size)
{
    return (size + sizeof(struct block_header) + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void *large_alloc(size_t size)
{
    uint64_t frames = large_frames(size);
    uint64_t pa;
    if (!frame_alloc_contig(frames, 1, &pa))
        return 0;
    struct block_header *b = phys_to_virt(pa);
    *b = (struct block_header){.magic = BLOCK_LIVE, .class_index = CLASS_LARGE, .size = size};
    stats.frames_in_use += frames;
    stats.live_blocks++;
    stats.live_bytes += size;
    return b + 1;
}

void *kmalloc(size_t size)
{
    if (size == 0 || size > (1ull << 40))
        return 0;
    int ci = class_for(size + sizeof(struct block_header));
    if (ci < 0)
        return large_alloc(size);
    struct slab_page *pg = partial[ci];
    if (!pg && !(pg = slab_new(ci)))
        return 0;
    if (pg->live == 0)
        empty_kept[ci] = false; /* the kept empty page is in use again */
    struct block_header *b = pg->free;
    pg->free = (struct block_header *)b->size;
    if (!pg->free)
        list_remove(pg);
    pg->live++;
    *b = (struct block_header){.magic = BLOCK_LIVE, .class_index = (uint16_t)ci, .size = size};
    stats.live_blocks++;
    stats.live_bytes += size;
    return b + 1;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

static void release_page(struct slab_page *pg)
{
    list_remove(pg);
    pg->magic = 0;
    stats.frames_in_use--;
    frame_free((uint64_t)pg - DIRECT_MAP_BASE);
}

void kfree(void *p)
{
    if (!p)
        return;
    struct block_header *b = (struct block_header *)p - 1;
    if ((uint64_t)p & 15)
        panic("kfree(%p): not a heap pointer (misaligned)", p);
    if (b->magic != BLOCK_LIVE)
        panic("kfree(%p): %s", p,
              b->magic == BLOCK_FREE ? "double free" : "not a heap block (bad magic)");
    stats.live_blocks--;
    if (b->class_index == CLASS_LARGE) {
        uint64_t frames = large_frames(b->size);
        stats.live_bytes -= b->size;
        b->magic = BLOCK_FREE;
        stats.frames_in_use -= frames;
        frame_free_contig((uint64_t)b - DIRECT_MAP_BASE, frames);
        return;
    }
    struct slab_page *pg = (struct slab_page *)((uint64_t)b & ~(uint64_t)(PAGE_SIZE - 1));
    if (pg->magic != SLAB_MAGIC || pg->class_index != b->class_index || pg->live == 0)
        panic("kfree(%p): slab page header corrupted", p);
    stats.live_bytes -= b->size;
    b->magic = BLOCK_FREE;
    bool was_full = pg->free == 0;
    b->size = (uint64_t)pg->free;
    pg->free = b;
    pg->live--;
    if (was_full)
        list_push(pg);
    if (pg->live == 0) {
        if (!empty_kept[pg->class_index]) {
            empty_kept[pg->class_index] = true;
            return;
        }
        release_page(pg);
    }
}

void heap_trim(void)
{
    for (unsigned ci = 0; ci < NCLASSES; ci++) {
        for (struct slab_page *pg = partial[ci], *next; pg; pg = next) {
            next = pg->next;
            if (pg->live == 0)
                release_page(pg);
        }
        empty_kept[ci] = false;
    }
}

void heap_stats(struct heap_stats *out)
{
    *out = stats;
}

bool heap_self_test(void)
{
    enum { N = 96 };
    static void *blocks[N];
    static size_t sizes[N];
    uint64_t free_before = frames_free();

    for (int i = 0; i < N; i++) {
        /* Every class, the class edges, and large runs of 1-3 frames. */
        sizes[i] = i % 12 == 11 ? 4000 + (size_t)i * 97 : 1 + ((size_t)i * 131) % 2000;
        blocks[i] = kmalloc(sizes[i]);
        if (!blocks[i] || ((uint64_t)blocks[i] & 15)) {
            kprintf("heap: self-test: allocation %d of %zu bytes failed\n", i, sizes[i]);
            return false;
        }
        memset(blocks[i], i & 0xff, sizes[i]);
    }
    /* Free every other block, then check the survivors were not touched. */
    for (int i = 0; i < N; i += 2)
        kfree(blocks[i]);
    for (int i = 1; i < N; i += 2) {
        const unsigned char *b = blocks[i];
        for (size_t j = 0; j < sizes[i]; j++) {
            if (b[j] != (i & 0xff)) {
                kprintf("heap: self-test: block %d overwritten at byte %zu\n", i, j);
                return false;
            }
        }
    }
    for (int i = 1; i < N; i += 2)
        kfree(blocks[i]);
    heap_trim();

    struct heap_stats st;
    heap_stats(&st);
    if (st.live_blocks || st.live_bytes || st.frames_in_use || frames_free() != free_before) {
        kprintf("heap: self-test: leak: %lu blocks, %lu bytes, %lu frames still held; "
                "free frames %lu, expected %lu\n",
                st.live_blocks, st.live_bytes, st.frames_in_use, frames_free(), free_before);
        return false;
    }
    return true;
}
