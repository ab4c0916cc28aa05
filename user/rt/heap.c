/*
 * The user heap: first fit over an address-ordered free list with
 * coalescing, in memory mapped on demand through the VirtualMemory
 * capability named "vm". Without that capability malloc returns NULL.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "capos_threads.h"

#define HEAP_BASE  0x0000200000000000ull /* inside the VM range */
#define HEAP_LIMIT 0x0000200040000000ull /* 1 GiB */
#define GROW_PAGES 16                    /* 64 KiB at a time */
#define ALIGN      16

struct block {
    size_t size; /* whole block, header included; a multiple of ALIGN */
    struct block *next_free;
};
#define HEADER ALIGN /* keeps payloads 16-byte aligned */

/* One lock for the heap: threads of a process share it. */
static struct capos_lock heap_lock = CAPOS_LOCK_INIT;
static struct block *free_list; /* address order */
static uint64_t heap_end = HEAP_BASE;

static void free_locked(struct block *b);

static bool grow(size_t need)
{
    static uint32_t vm;
    if (!vm && !(vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0)))
        return false;
    uint32_t pages = GROW_PAGES;
    while ((uint64_t)pages * 4096 < need)
        pages *= 2;
    if (heap_end + (uint64_t)pages * 4096 > HEAP_LIMIT)
        return false;
    uint8_t params[128], results[128];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (VirtualMemory_map_call(&capos_transport, vm, &c, heap_end, pages, true, false, 0) !=
        CAPNPC_OK)
        return false;
    struct block *b = (struct block *)heap_end;
    b->size = (size_t)pages * 4096;
    heap_end += (uint64_t)pages * 4096;
    free_locked(b);
    return true;
}

static void *malloc_locked(size_t n)
{
    if (n == 0 || n > HEAP_LIMIT - HEAP_BASE)
        return 0;
    size_t need = (n + HEADER + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    for (int attempt = 0; attempt < 2; attempt++) {
        for (struct block **pp = &free_list; *pp; pp = &(*pp)->next_free) {
            struct block *b = *pp;
            if (b->size < need)
                continue;
            if (b->size - need >= 2 * HEADER) {
                /* Split: the tail stays free in b's place. */
                struct block *rest = (struct block *)((uint8_t *)b + need);
                rest->size = b->size - need;
                rest->next_free = b->next_free;
                *pp = rest;
                b->size = need;
            } else {
                *pp = b->next_free;
            }
            b->next_free = 0;
            return (uint8_t *)b + HEADER;
        }
        if (!grow(need))
            return 0;
    }
    return 0;
}

static void free_locked(struct block *b)
{
    struct block **pp = &free_list;
    while (*pp && *pp < b)
        pp = &(*pp)->next_free;
    b->next_free = *pp;
    *pp = b;
    /* Merge with the next block, then with the previous one. */
    if (b->next_free && (uint8_t *)b + b->size == (uint8_t *)b->next_free) {
        b->size += b->next_free->size;
        b->next_free = b->next_free->next_free;
    }
    if (pp != &free_list) {
        struct block *prev = (struct block *)((uint8_t *)pp - offsetof(struct block, next_free));
        if ((uint8_t *)prev + prev->size == (uint8_t *)b) {
            prev->size += b->size;
            prev->next_free = b->next_free;
        }
    }
}

void *capos_malloc(size_t n)
{
    capos_lock(&heap_lock);
    void *p = malloc_locked(n);
    capos_unlock(&heap_lock);
    return p;
}

void capos_free(void *p)
{
    if (!p)
        return;
    capos_lock(&heap_lock);
    free_locked((struct block *)((uint8_t *)p - HEADER));
    capos_unlock(&heap_lock);
}
