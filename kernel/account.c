/*
 * Accounts over the frame ledger (account.h). The ledger does the
 * arithmetic; this file adds the heap pools and frees accounts when they
 * are done.
 *
 * Freeing a done account frees its struct, which is a block in its
 * parent's pool: that can release the parent's last frame and make the
 * parent done in turn. The chain is walked with a list rather than by
 * recursion, so a deep tree of exited processes cannot overflow the
 * kernel stack.
 */
#include "account.h"

#include "kprintf.h"
#include "memory.h"
#include "string.h"

struct frame_ledger account_ledger;
static struct account kernel_account, machine_account;
static bool ledger_ready;
/* Done accounts waiting to be freed, and whether a reap is running. */
static struct account *reap_list;
static bool reaping;

static void open_root(struct account *a, const char *name, uint64_t quota)
{
    frame_ledger_open(&account_ledger, 0, &a->frames, quota);
    heap_pool_init(&a->heap, a);
    memcpy(a->name, name, strlen(name) + 1);
}

struct account *account_kernel(void)
{
    if (!ledger_ready) {
        frame_ledger_init(&account_ledger);
        open_root(&kernel_account, "kernel", UINT64_MAX);
        ledger_ready = true;
    }
    return &kernel_account;
}

void account_machine_init(void)
{
    account_kernel();
    uint64_t free = frames_free();
    uint64_t quota = free > ACCOUNT_KERNEL_RESERVE ? free - ACCOUNT_KERNEL_RESERVE : 0;
    open_root(&machine_account, "machine", quota);
    kprintf("memory: %lu frames (%lu MiB) for processes, %u kept for the kernel\n", quota,
            quota >> 8, ACCOUNT_KERNEL_RESERVE);
}

struct account *account_machine(void)
{
    return &machine_account;
}

struct account *account_create(struct account *parent, uint64_t quota, const char *name,
                               uint32_t pid, const char **why)
{
    /* The record itself is the parent's: it must outlive the child's own
     * pool, which it contains. */
    struct account *a = kzalloc_in(parent, sizeof(*a));
    if (!a) {
        *why = "the spawner's frame quota is exhausted";
        return 0;
    }
    if (quota == ACCOUNT_ALL_ROOM)
        quota = frame_account_room(&parent->frames);
    enum fl_status st = frame_ledger_open(&account_ledger, &parent->frames, &a->frames, quota);
    if (st != FL_OK) {
        *why = st == FL_ERR_QUOTA ? "the spawner's frame quota has no room for the child's"
                                  : fl_status_str(st);
        kfree(a);
        return 0;
    }
    heap_pool_init(&a->heap, a);
    size_t n = strlen(name);
    memcpy(a->name, name, n < ACCOUNT_NAME_MAX - 1 ? n : ACCOUNT_NAME_MAX - 1);
    a->pid = pid;
    return a;
}

/* Free a and every ancestor its freeing makes done. */
static void reap(struct account *a)
{
    a->reap_next = reap_list;
    reap_list = a;
    if (reaping)
        return; /* the loop below, further up the stack, takes it */
    reaping = true;
    while (reap_list) {
        struct account *x = reap_list;
        reap_list = x->reap_next;
        if (frame_ledger_remove(&account_ledger, &x->frames) != FL_OK || !heap_pool_empty(&x->heap))
            panic("account %s: freed while holding memory", x->name);
        /* The record is a block of the parent's pool. Freeing it may give
         * back the parent's last frame; if that makes the parent done, its
         * release queues it here. */
        kfree(x);
    }
    reaping = false;
}

static void settle(struct account *a)
{
    if (frame_account_done(&a->frames))
        reap(a);
}

void account_close(struct account *a)
{
    heap_pool_trim(&a->heap);
    frame_ledger_close(&account_ledger, &a->frames);
    settle(a);
}

bool account_charge(struct account *a, enum fl_kind kind, uint64_t n)
{
    return frame_ledger_charge(&account_ledger, &a->frames, kind, n) == FL_OK;
}

void account_release(struct account *a, enum fl_kind kind, uint64_t n)
{
    enum fl_status st = frame_ledger_release(&account_ledger, &a->frames, kind, n);
    if (st != FL_OK)
        panic("account %s: releasing %lu frames of %s: %s", a->name, n, fl_kind_str(kind),
              fl_status_str(st));
    settle(a);
}

bool account_frame_alloc(struct account *a, enum fl_kind kind, uint64_t *pa_out)
{
    if (!account_charge(a, kind, 1))
        return false;
    if (!frame_alloc_zeroed(pa_out)) {
        account_release(a, kind, 1);
        return false;
    }
    return true;
}

void account_frame_free(struct account *a, enum fl_kind kind, uint64_t pa)
{
    frame_free(pa);
    account_release(a, kind, 1);
}

bool account_audit(void)
{
    enum fl_status st = frame_ledger_audit(&account_ledger);
    if (st != FL_OK)
        kprintf("account: ledger audit failed: %s\n", fl_status_str(st));
    return st == FL_OK;
}
