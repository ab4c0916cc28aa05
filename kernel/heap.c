/*
 * Kernel heap: slabs for small blocks, mapped frames for large ones, each
 * block in its account's own pool (heap.h).
 *
 * Every block starts with a 16-byte header holding a magic value, so kfree
 * can tell a live block from a freed one or from a stray pointer. A slab
 * page starts with a 64-byte page header naming its pool and has its own
 * free list. A page whose last block is freed goes back to the frame
 * allocator, except one empty page per class and pool: without it, a
 * steady alloc/free pattern (every IPC message) would free a page and
 * build a new one each time.
 *
 * A large block is a run of frames allocated one by one and mapped side
 * by side in the heap region (arch/layout.h), whose addresses come from a
 * bitmap: physical fragmentation, which a process could cause on purpose,
 * cannot make it fail. The region's page tables are the kernel's own and
 * stay once made (at most 513 frames for the 1 GiB region).
 */
#include "heap.h"

#include <arch/layout.h>
#include <arch/paging.h>

#include "account.h"
#include "kcore/frame_bitmap.h"
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
    struct heap_pool *pool;
};
_Static_assert(sizeof(struct slab_page) <= PAGE_HEADER_SIZE, "page header fits");

/* What starts a large block's first page, before the block header. */
struct large_header {
    struct heap_pool *pool;
    uint64_t pages;
    struct block_header b;
};
_Static_assert(sizeof(struct large_header) % 16 == 0, "keeps large blocks 16-byte aligned");

#define CLASS_ELEM_(c, arg) c,
static const uint32_t class_size[] = {HEAP_SLAB_CLASSES(CLASS_ELEM_, 0)};
_Static_assert(sizeof(struct block_header) == HEAP_BLOCK_HEADER, "heap.h says the header size");
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))
_Static_assert(NCLASSES == HEAP_NCLASSES, "heap.h counts the classes");

static struct heap_stats stats;

/* Addresses in the heap region, one bit per page (slot 0 is never used). */
#define HEAP_REGION_PAGES (HEAP_REGION_SIZE / PAGE_SIZE)
static uint64_t region_bits[HEAP_REGION_PAGES / 64];
static struct frame_bitmap region;

static int class_for(size_t total)
{
    for (unsigned i = 0; i < NCLASSES; i++)
        if (total <= class_size[i])
            return (int)i;
    return -1;
}

void heap_pool_init(struct heap_pool *pool, struct account *owner)
{
    *pool = (struct heap_pool){.owner = owner};
}

bool heap_pool_empty(const struct heap_pool *pool)
{
    if (pool->kept_large)
        return false;
    for (unsigned i = 0; i < NCLASSES; i++)
        if (pool->partial[i])
            return false;
    return true;
}

static void list_remove(struct slab_page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        pg->pool->partial[pg->class_index] = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = 0;
}

static void list_push(struct slab_page *pg)
{
    struct slab_page **head = &pg->pool->partial[pg->class_index];
    pg->prev = 0;
    pg->next = *head;
    if (pg->next)
        pg->next->prev = pg;
    *head = pg;
}

static struct slab_page *slab_new(struct heap_pool *pool, int ci)
{
    uint64_t pa;
    if (!account_charge(pool->owner, FL_HEAP, 1))
        return 0;
    if (!frame_alloc(&pa)) {
        account_release(pool->owner, FL_HEAP, 1);
        return 0;
    }
    struct slab_page *pg = phys_to_virt(pa);
    *pg = (struct slab_page){.magic = SLAB_MAGIC, .class_index = (uint16_t)ci, .pool = pool};
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

static uint64_t large_pages(uint64_t size)
{
    return (size + sizeof(struct large_header) + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Unmap the first `mapped` pages of a large block at va and free them and
 * its addresses. */
static void large_unmap(uint64_t va, uint64_t mapped, uint64_t slots)
{
    for (uint64_t i = 0; i < mapped; i++) {
        uint64_t pa;
        uint32_t flags;
        if (!paging_translate(va + i * PAGE_SIZE, &pa, &flags))
            panic("heap: large block page %lx not mapped", va + i * PAGE_SIZE);
        paging_unmap(va + i * PAGE_SIZE);
        frame_free(pa);
    }
    fb_free_contig(&region, (va - HEAP_REGION_BASE) / PAGE_SIZE, slots);
}

static void *large_alloc(struct heap_pool *pool, size_t size)
{
    uint64_t pages = large_pages(size);
    uint64_t slot;
    struct large_header *kept = pool->kept_large;
    if (kept && kept->pages == pages) {
        pool->kept_large = 0;
        kept->b =
            (struct block_header){.magic = BLOCK_LIVE, .class_index = CLASS_LARGE, .size = size};
        stats.live_blocks++;
        stats.live_bytes += size;
        return &kept->b + 1;
    }
    if (!region.bits) {
        fb_init(&region, region_bits, HEAP_REGION_PAGES);
        fb_release_range(&region, 1, HEAP_REGION_PAGES - 1);
    }
    if (!account_charge(pool->owner, FL_HEAP, pages))
        return 0;
    /* One unmapped page after each block catches a run off its end. */
    if (fb_alloc_contig(&region, pages + 1, 1, &slot) != FB_OK) {
        account_release(pool->owner, FL_HEAP, pages);
        return 0;
    }
    uint64_t va = HEAP_REGION_BASE + slot * PAGE_SIZE;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa;
        bool have = frame_alloc(&pa);
        if (!have || !paging_map(va + i * PAGE_SIZE, pa, VM_WRITE)) {
            if (have)
                frame_free(pa);
            large_unmap(va, i, pages + 1);
            account_release(pool->owner, FL_HEAP, pages);
            return 0;
        }
    }
    struct large_header *h = (struct large_header *)va;
    *h = (struct large_header){.pool = pool, .pages = pages};
    h->b = (struct block_header){.magic = BLOCK_LIVE, .class_index = CLASS_LARGE, .size = size};
    stats.frames_in_use += pages;
    stats.live_blocks++;
    stats.live_bytes += size;
    return &h->b + 1;
}

void *kmalloc_in(struct account *a, size_t size)
{
    if (size == 0 || size > (1ull << 30))
        return 0;
    struct heap_pool *pool = account_heap(a);
    int ci = class_for(size + sizeof(struct block_header));
    if (ci < 0)
        return large_alloc(pool, size);
    struct slab_page *pg = pool->partial[ci];
    if (!pg && !(pg = slab_new(pool, ci)))
        return 0;
    if (pg->live == 0)
        pool->empty_kept[ci] = false; /* the kept empty page is in use again */
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

void *kzalloc_in(struct account *a, size_t size)
{
    void *p = kmalloc_in(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *kmalloc(size_t size)
{
    return kmalloc_in(account_kernel(), size);
}

void *kzalloc(size_t size)
{
    return kzalloc_in(account_kernel(), size);
}

/* The header of a live block; panics on anything else. */
static struct block_header *live_block(const void *p)
{
    struct block_header *b = (struct block_header *)p - 1;
    if ((uint64_t)p & 15)
        panic("heap: %p is not a heap pointer (misaligned)", p);
    if (b->magic != BLOCK_LIVE)
        panic("heap: %p: %s", p,
              b->magic == BLOCK_FREE ? "a freed block" : "not a heap block (bad magic)");
    return b;
}

static struct slab_page *page_of(const struct block_header *b)
{
    struct slab_page *pg = (struct slab_page *)((uint64_t)b & ~(uint64_t)(PAGE_SIZE - 1));
    if (pg->magic != SLAB_MAGIC || pg->class_index != b->class_index || pg->live == 0)
        panic("heap: block %p: slab page header corrupted", (const void *)(b + 1));
    return pg;
}

/* Free a slab page; the caller releases its charge. */
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
    struct block_header *b = live_block(p);
    stats.live_blocks--;
    stats.live_bytes -= b->size;
    /* The account is released last: it may reap accounts, which frees
     * blocks, so the heap must be consistent by then. */
    if (b->class_index == CLASS_LARGE) {
        struct large_header *h = (struct large_header *)((char *)p - sizeof(*h));
        struct account *owner = h->pool->owner;
        uint64_t pages = h->pages;
        b->magic = BLOCK_FREE;
        if (!h->pool->kept_large && pages <= HEAP_KEEP_LARGE_PAGES && !account_closed(owner)) {
            h->pool->kept_large = h; /* still mapped and charged */
            return;
        }
        stats.frames_in_use -= pages;
        large_unmap((uint64_t)h, pages, pages + 1);
        account_release(owner, FL_HEAP, pages);
        return;
    }
    struct slab_page *pg = page_of(b);
    b->magic = BLOCK_FREE;
    bool was_full = pg->free == 0;
    b->size = (uint64_t)pg->free;
    pg->free = b;
    pg->live--;
    if (was_full)
        list_push(pg);
    if (pg->live == 0) {
        struct heap_pool *pool = pg->pool;
        if (!pool->empty_kept[pg->class_index] && !account_closed(pool->owner)) {
            pool->empty_kept[pg->class_index] = true;
            return;
        }
        release_page(pg);
        account_release(pool->owner, FL_HEAP, 1);
    }
}

void heap_pool_trim(struct heap_pool *pool)
{
    uint64_t freed = 0;
    struct large_header *kept = pool->kept_large;
    if (kept) {
        pool->kept_large = 0;
        stats.frames_in_use -= kept->pages;
        freed += kept->pages;
        large_unmap((uint64_t)kept, kept->pages, kept->pages + 1);
    }
    for (unsigned ci = 0; ci < NCLASSES; ci++) {
        for (struct slab_page *pg = pool->partial[ci], *next; pg; pg = next) {
            next = pg->next;
            if (pg->live == 0) {
                release_page(pg);
                freed++;
            }
        }
        pool->empty_kept[ci] = false;
    }
    if (freed)
        account_release(pool->owner, FL_HEAP, freed);
}

void heap_trim(void)
{
    heap_pool_trim(account_heap(account_kernel()));
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
    /* The heap region's page tables are made by the first large block and
     * stay; make them before counting. */
    kfree(kmalloc(PAGE_SIZE));
    heap_trim();
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
