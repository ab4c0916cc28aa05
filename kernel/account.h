/*
 * Accounts: who pays for the memory the kernel hands out (docs/memory.md).
 *
 * Every process has an account carved out of its spawner's (the frame
 * ledger's tree, lib/kcore/frame_ledger.h). Everything the kernel allocates
 * because a process asked is charged to an account: user pages, page
 * tables, kernel stacks, and kernel heap blocks (kernel objects, message
 * buffers), which live in the account's own heap pool. An account outlives
 * its process while it still pays for something another process holds (a
 * MemoryObject, an endpoint, a message), and is freed when the last such
 * thing goes.
 *
 * Two roots: the kernel's own account (boot objects and kernel singletons;
 * it has no quota beyond the machine) and the machine account, whose
 * quota is the memory left when the first process starts minus a reserve
 * for the kernel, and which every process account descends from.
 */
#ifndef CAPOS_ACCOUNT_H
#define CAPOS_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "heap.h"
#include "kcore/frame_ledger.h"

#define ACCOUNT_NAME_MAX 32

struct account {
    struct frame_account frames;
    struct heap_pool heap;
    char name[ACCOUNT_NAME_MAX]; /* the process it was made for */
    uint32_t pid;
    struct account *reap_next; /* on the list of done accounts to free */
};

/* Frames kept back from the machine account for the kernel's own growth:
 * the page tables of the kernel stack and heap regions, cached kernel
 * stacks, the kernel account's heap. */
#define ACCOUNT_KERNEL_RESERVE 2048

extern struct frame_ledger account_ledger;

/* The kernel's own account; usable from the first kmalloc. */
struct account *account_kernel(void);
/* Open the machine account on the memory free now, less the reserve. */
void account_machine_init(void);
struct account *account_machine(void);

/* A new open account of `quota` frames carved out of parent's; NULL if
 * the parent lacks the room (*why says which limit). ACCOUNT_ALL_ROOM
 * takes all the parent has left once it has paid for the record. */
#define ACCOUNT_ALL_ROOM UINT64_MAX
struct account *account_create(struct account *parent, uint64_t quota, const char *name,
                               uint32_t pid, const char **why);
/* The process is gone: no more charges, unused quota back to the parent;
 * the account is freed as soon as it holds nothing. */
void account_close(struct account *a);

bool account_charge(struct account *a, enum fl_kind kind, uint64_t n);
void account_release(struct account *a, enum fl_kind kind, uint64_t n);

/* A zeroed frame charged to a as `kind`, or false (nothing charged). */
bool account_frame_alloc(struct account *a, enum fl_kind kind, uint64_t *pa_out);
void account_frame_free(struct account *a, enum fl_kind kind, uint64_t pa);

static inline struct heap_pool *account_heap(struct account *a)
{
    return &a->heap;
}

/* Closed accounts keep no empty slab pages: they would never be done. */
static inline bool account_closed(const struct account *a)
{
    return a->frames.closed;
}

/* Check the ledger's invariants; false (after printing why) if broken. */
bool account_audit(void);

#endif
