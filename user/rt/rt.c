/* Runtime start-up, system calls, the ring client, CapSet and releases. */
#include "capos_rt.h"

#include <capos/syscall.h>

#include "capos_threads.h"
#include <string.h>

/* Each thread has its own ring (docs/threads.md), so everything about the
 * ring is thread-local and the ring code needs no lock. */
_Thread_local volatile struct capos_ring *capos_rt_ring;
static const struct capos_capset *capset;
static uint32_t pid;

/* CQEs reaped while waiting for a different user_data. The CQ holds at
 * most 32, so 32 stashed entries always suffice. */
static _Thread_local struct capos_cqe stash[CAPOS_CQ_ENTRIES];
static _Thread_local bool stash_used[CAPOS_CQ_ENTRIES];
_Thread_local unsigned capos_rt_stashed; /* in use: lets the common case skip the scan */
/* Entries ever stashed, and the count at the last capos_ring_wait_new. */
static _Thread_local unsigned stash_adds, stash_adds_seen;

/* Releases ride along with the next submission of the thread that queued
 * them, on its own ring. */
static _Thread_local uint32_t pending_release[CAPOS_SQ_ENTRIES];
static _Thread_local uint32_t npending_release;

_Noreturn void capos_rt_start(volatile struct capos_ring *r, uint32_t p,
                              const struct capos_capset *cs);
void capos_rt_threads_init(void);

_Noreturn void capos_rt_start(volatile struct capos_ring *r, uint32_t p,
                              const struct capos_capset *cs)
{
    capos_rt_ring = r;
    pid = p;
    capset = cs && cs->magic == CAPOS_CAPSET_MAGIC ? cs : 0;
    capos_rt_threads_init();
    int code = main();
    capos_flush_releases();
    capos_exit(code);
}

int64_t capos_syscall_raw(uint64_t nr, uint64_t a0, uint64_t a1)
{
    int64_t ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1)
                     : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory");
    return ret;
}

int64_t capos_cap_enter(uint32_t min_complete, uint64_t timeout_ns)
{
    return capos_syscall_raw(CAPOS_SYS_CAP_ENTER, min_complete, timeout_ns);
}

void capos_exit(int code)
{
    capos_syscall_raw(CAPOS_SYS_EXIT, (uint64_t)(int64_t)code, 0);
    for (;;)
        __asm__ volatile("ud2");
}

uint32_t capos_pid(void)
{
    return pid;
}

volatile struct capos_ring *capos_ring(void)
{
    return capos_rt_ring;
}

uint64_t capos_ring_next_id(void)
{
    /* Unique per ring is enough: each thread's user_data go to its own. */
    static _Thread_local uint64_t next = 1;
    return next++;
}

void capos_rt_set_ring(volatile struct capos_ring *r)
{
    capos_rt_ring = r;
}

static bool reap(uint64_t user_data, struct capos_cqe *out);

/* Transfer descriptors of queued SQEs, one set per SQ slot: the kernel
 * reads them when it takes the SQE, and a slot is reused only after that,
 * so they live exactly as long as they must. */
static _Thread_local struct capos_xfer xfer_store[CAPOS_SQ_ENTRIES][CAPOS_MAX_XFER];

static bool submit_one_xfer(const struct capos_sqe *sqe, const struct capos_xfer *x, uint32_t n);

static bool submit_one(const struct capos_sqe *sqe)
{
    return submit_one_xfer(sqe, 0, 0);
}

static bool submit_one_xfer(const struct capos_sqe *sqe, const struct capos_xfer *x, uint32_t n)
{
    /* We own sq_tail; the kernel publishes sq_head with release order. */
    uint32_t tail = capos_rt_ring->sq_tail;
    uint32_t head = __atomic_load_n(&capos_rt_ring->sq_head, __ATOMIC_ACQUIRE);
    if (tail - head >= CAPOS_SQ_ENTRIES) {
        /* Full: make room in the CQ first (completions are kept for their
         * waiters; those of RELEASEs are dropped), so that the kernel can
         * consume, then let it consume without waiting for anything. */
        struct capos_cqe none;
        reap(0, &none);
        capos_cap_enter(0, 0);
        head = __atomic_load_n(&capos_rt_ring->sq_head, __ATOMIC_ACQUIRE);
        if (tail - head >= CAPOS_SQ_ENTRIES)
            return false;
    }
    /* Whole-struct copy: the compiler does it in registers, where
     * memcpy (no builtins here) would be a call and a byte loop. */
    uint32_t slot = tail & CAPOS_SQ_MASK;
    *(struct capos_sqe *)&capos_rt_ring->sq[slot] = *sqe;
    if (n == 1) {
        /* One descriptor travels in the entry (the kernel reads no user
         * memory for it). */
        capos_rt_ring->sq[slot].flags |= CAPOS_SQE_F_XFER_INLINE;
        capos_rt_ring->sq[slot].xfer_count = 1;
        capos_rt_ring->sq[slot].xfer_addr = capos_xfer_inline(x[0].cap, x[0].mode);
    } else if (n) {
        for (uint32_t i = 0; i < n; i++)
            xfer_store[slot][i] = x[i];
        capos_rt_ring->sq[slot].xfer_count = (uint16_t)n;
        capos_rt_ring->sq[slot].xfer_addr = (uint64_t)xfer_store[slot];
    }
    /* Publish the entry before the tail that makes it visible. */
    __atomic_store_n(&capos_rt_ring->sq_tail, tail + 1, __ATOMIC_RELEASE);
    return true;
}

struct capos_sqe *capos_ring_sqe_slot(void)
{
    if (npending_release)
        return 0;
    uint32_t tail = capos_rt_ring->sq_tail;
    if (tail - __atomic_load_n(&capos_rt_ring->sq_head, __ATOMIC_ACQUIRE) >= CAPOS_SQ_ENTRIES)
        return 0;
    return (struct capos_sqe *)&capos_rt_ring->sq[tail & CAPOS_SQ_MASK];
}

void capos_ring_sqe_publish(void)
{
    /* Publish the entry written in place before the tail that shows it. */
    __atomic_store_n(&capos_rt_ring->sq_tail, capos_rt_ring->sq_tail + 1, __ATOMIC_RELEASE);
}

void capos_flush_releases(void)
{
    uint32_t n = npending_release;
    npending_release = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct capos_sqe sqe = {
            .opcode = CAPOS_OP_RELEASE,
            .cap = pending_release[i],
            .user_data = 0, /* nobody waits for it; reaped as stray */
        };
        submit_one(&sqe);
    }
    if (n)
        capos_cap_enter(0, 0);
}

void capos_release(uint32_t cap)
{
    if (cap == 0)
        return; /* never a capability: "none" */
    if (npending_release == CAPOS_SQ_ENTRIES)
        capos_flush_releases();
    pending_release[npending_release++] = cap;
}

bool capos_ring_submit_xfer(const struct capos_sqe *sqe, const struct capos_xfer *x, uint32_t n)
{
    if (n > CAPOS_MAX_XFER)
        return false;
    /* Queued releases ride along with the next submission. */
    uint32_t nrel = npending_release;
    npending_release = 0;
    for (uint32_t i = 0; i < nrel; i++) {
        struct capos_sqe rel = {.opcode = CAPOS_OP_RELEASE, .cap = pending_release[i]};
        if (!submit_one(&rel))
            return false;
    }
    return submit_one_xfer(sqe, x, n);
}

bool capos_ring_submit(const struct capos_sqe *sqe)
{
    return capos_ring_submit_xfer(sqe, 0, 0);
}

/* Take every posted CQE into the stash; the matching one into *out. */
static bool reap(uint64_t user_data, struct capos_cqe *out)
{
    bool found = false;
    uint32_t head = capos_rt_ring->cq_head;
    uint32_t tail = __atomic_load_n(&capos_rt_ring->cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
        struct capos_cqe c = *(const struct capos_cqe *)&capos_rt_ring->cq[head & CAPOS_CQ_MASK];
        if (c.user_data == 0)
            continue; /* completion of a fire-and-forget RELEASE */
        if (!found && c.user_data == user_data) {
            *out = c;
            found = true;
            continue;
        }
        unsigned i = 0;
        while (i < CAPOS_CQ_ENTRIES && stash_used[i])
            i++;
        if (i == CAPOS_CQ_ENTRIES)
            break; /* stash full: leave the rest in the CQ, never drop one */
        stash[i] = c;
        stash_used[i] = true;
        capos_rt_stashed++;
        stash_adds++;
    }
    /* Hand the slots back to the kernel once read. */
    __atomic_store_n(&capos_rt_ring->cq_head, head, __ATOMIC_RELEASE);
    return found;
}

bool capos_ring_take_any(struct capos_cqe *out)
{
    for (unsigned i = 0; capos_rt_stashed && i < CAPOS_CQ_ENTRIES; i++) {
        if (stash_used[i]) {
            *out = stash[i];
            stash_used[i] = false;
            capos_rt_stashed--;
            return true;
        }
    }
    uint32_t head = capos_rt_ring->cq_head;
    uint32_t tail = __atomic_load_n(&capos_rt_ring->cq_tail, __ATOMIC_ACQUIRE);
    bool found = false;
    for (; head != tail && !found; head++) {
        *out = *(const struct capos_cqe *)&capos_rt_ring->cq[head & CAPOS_CQ_MASK];
        found = out->user_data != 0; /* 0: a fire-and-forget RELEASE */
    }
    __atomic_store_n(&capos_rt_ring->cq_head, head, __ATOMIC_RELEASE);
    return found;
}

bool capos_ring_try_take(uint64_t user_data, struct capos_cqe *out)
{
    for (unsigned i = 0; capos_rt_stashed && i < CAPOS_CQ_ENTRIES; i++) {
        if (stash_used[i] && stash[i].user_data == user_data) {
            *out = stash[i];
            stash_used[i] = false;
            capos_rt_stashed--;
            return true;
        }
    }
    return reap(user_data, out);
}

void capos_ring_wait_new(void)
{
    if (stash_adds != stash_adds_seen) {
        stash_adds_seen = stash_adds;
        return;
    }
    capos_cap_enter(1, UINT64_MAX);
}

bool capos_ring_wait(uint64_t user_data, struct capos_cqe *out)
{
    for (unsigned spins = 0; spins < 1000000; spins++) {
        if (capos_ring_try_take(user_data, out))
            return true;
        capos_cap_enter(1, UINT64_MAX);
    }
    return false;
}

int32_t capos_nop(void)
{
    struct capos_sqe sqe = {.opcode = CAPOS_OP_NOP, .user_data = capos_ring_next_id()};
    struct capos_cqe cqe;
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &cqe))
        return CAPOS_E_INTERNAL;
    return cqe.result;
}

const struct capos_capset *capos_capset(void)
{
    return capset;
}

uint32_t capos_capset_find(const char *name, uint64_t interface_id, const char **why)
{
    size_t len = strlen(name);
    if (!capset || len > CAPOS_CAPSET_NAME_MAX) {
        if (why)
            *why = "no such capability in the CapSet";
        return 0;
    }
    uint32_t n =
        capset->count < CAPOS_CAPSET_MAX_ENTRIES ? capset->count : CAPOS_CAPSET_MAX_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        const struct capos_capset_entry *e = &capset->entries[i];
        if (memcmp(e->name, name, len) != 0 || (len < CAPOS_CAPSET_NAME_MAX && e->name[len]))
            continue;
        if (e->interface_id != interface_id) {
            if (why)
                *why = "the capability has a different interface";
            return 0;
        }
        return e->cap;
    }
    if (why)
        *why = "no such capability in the CapSet";
    return 0;
}
