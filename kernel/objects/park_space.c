/*
 * ParkSpace: a futex private to the caller's address space
 * (docs/threads.md). The waiting side is lib/kcore/park.c's table, keyed
 * by (process id, address) compared whole, so no choice of addresses lets
 * one process wake another's waiters. A wait is a deferred completion like
 * Timer.sleep: the waiting thread blocks in cap_enter as for any call.
 *
 * On one CPU nothing can change the word between the check and the park;
 * with several CPUs the bucket lock will cover both.
 */
#include <arch/platform.h>
#include <capos/errors.h>

#include "heap.h"
#include "hotpath.h"
#include "kcall.h"
#include "kcore/park.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "sched.h"
#include "thread.h"
#include "usercopy.h"

struct park_wait {
    struct pending_call call; /* first: the abandon hook gets this pointer */
    struct park_waiter waiter;
    uint64_t deadline_ns;    /* UINT64_MAX: none */
    struct park_wait *timed; /* in `timed_waits` when it has a deadline */
    /* The wait half of a wakeWait: its answer also carries how many the
     * wake half woke. */
    bool wake_wait;
    uint32_t wakes;
};

#define PARK_BUCKETS 256
static struct park_bucket buckets[PARK_BUCKETS];
static struct park_table table = {.buckets = buckets, .mask = PARK_BUCKETS - 1};
static struct park_wait *timed_waits; /* unsorted; few at a time */

/* Per process: one waiter record kept for its next wait, so that a lock
 * handed back and forth allocates nothing (the heap would work on every
 * wait otherwise). Charged to the process like any waiter; freed when it
 * exits. Only one is kept, so a process never holds more than it used. */
struct park_process {
    struct park_wait *spare;
};
HOT_DATA static uint32_t park_state_offset;

static struct park_process *park_of(struct process *p)
{
    return process_object_state(p, park_state_offset);
}

__attribute__((always_inline)) static inline struct park_wait *wait_alloc(struct process *p)
{
    struct park_process *pp = park_of(p);
    struct park_wait *pw = pp->spare;
    if (!pw)
        return kzalloc_in(p->account, sizeof(*pw));
    pp->spare = 0;
    /* Not cleared as a whole (a tenth of a park round trip): what is not
     * set here is set before it is read, the call by pending_call_start
     * (and abandon by wait_new), the waiter by park_enqueue, the
     * deadline by wait_park. */
    pw->timed = 0;
    pw->wake_wait = false;
    pw->wakes = 0;
    return pw;
}

/* p: the process the wait was for (alive: its exit hook has not run). */
__attribute__((always_inline)) static inline void wait_free(struct process *p, struct park_wait *pw)
{
    struct park_process *pp = park_of(p);
    if (!pp->spare)
        pp->spare = pw;
    else
        kfree(pw);
}

static void park_process_exit(struct process *p)
{
    kfree(park_of(p)->spare);
    park_of(p)->spare = 0;
}

static struct park_wait *wait_of(struct park_waiter *w)
{
    return (struct park_wait *)((char *)w - __builtin_offsetof(struct park_wait, waiter));
}

__attribute__((always_inline)) static inline void untime(struct park_wait *pw)
{
    if (pw->deadline_ns == UINT64_MAX)
        return;
    for (struct park_wait **pp = &timed_waits; *pp; pp = &(*pp)->timed) {
        if (*pp == pw) {
            *pp = pw->timed;
            return;
        }
    }
}

/* A finished wait's results: one data word, answered flat whichever path
 * decoded the call. Returns the word count. */
__attribute__((always_inline)) static inline uint32_t wait_results(const struct park_wait *pw,
                                                                   bool woken, uint64_t *word)
{
    *word = 0;
    if (pw->wake_wait) {
        ParkSpace_wakeWait_Results_b r = CAPN_FLAT_BUILDER(ParkSpace_wakeWait_Results, word);
        ParkSpace_wakeWait_Results_set_wakes(r, pw->wakes);
        ParkSpace_wakeWait_Results_set_woken(r, woken);
        return CAPN_FLAT_WORDS(ParkSpace_wakeWait_Results);
    }
    ParkSpace_wait_Results_set_woken(CAPN_FLAT_BUILDER(ParkSpace_wait_Results, word), woken);
    return CAPN_FLAT_WORDS(ParkSpace_wait_Results);
}

/* Answer a wait that has left the table, and free it; with handoff, the
 * thread runs next on this CPU (pending_call.h). Parked waits leave the
 * table when their caller goes (wait_abandon), so the caller is alive. */
static void finish(struct park_wait *pw, bool woken, bool handoff)
{
    untime(pw);
    uint64_t word;
    uint32_t n = wait_results(pw, woken, &word);
    struct process *p = pw->call.caller; /* answering forgets it */
    pending_call_complete_flat(&pw->call, &word, n, handoff);
    wait_free(p, pw);
}

/* The waiting thread ended or cancelled: nobody reads the answer. */
static void wait_abandon(struct pending_call *pc, struct process *caller)
{
    struct park_wait *pw = (struct park_wait *)pc;
    park_remove(&table, &pw->waiter);
    untime(pw);
    wait_free(caller, pw);
}

/* How a wait, decoded by either path, went: parked (or, from wait_check,
 * would park), or why not; nothing has happened when it did not park. */
enum wait_start {
    WAIT_PARKED,
    WAIT_VALUE_DIFFERS,
    WAIT_MISALIGNED,
    WAIT_UNREADABLE,
    WAIT_NO_MEMORY
};

/* Whether a wait on the word at addr would park (WAIT_PARKED) or why
 * not; allocates nothing. */
__attribute__((always_inline)) static inline enum wait_start
wait_check(struct process *p, uint64_t addr, uint32_t expected)
{
    if (addr & 3)
        return WAIT_MISALIGNED;
    uint32_t now_value;
    if (copy_u32_from_user(p, &now_value, addr) != 0)
        return WAIT_UNREADABLE;
    return now_value == expected ? WAIT_PARKED : WAIT_VALUE_DIFFERS;
}

/* A new record for a wait that will park. */
__attribute__((always_inline)) static inline struct park_wait *wait_new(struct process *p)
{
    struct park_wait *pw = wait_alloc(p);
    if (pw)
        pw->call.abandon = wait_abandon;
    return pw;
}

__attribute__((always_inline)) static inline void wait_park(struct process *p, struct park_wait *pw,
                                                            uint64_t addr, uint64_t timeout)
{
    pw->deadline_ns = UINT64_MAX;
    if (timeout) {
        uint64_t now = arch_clock_ns();
        pw->deadline_ns = timeout > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout;
        pw->timed = timed_waits;
        timed_waits = pw;
        sched_deadline_added(pw->deadline_ns);
    }
    park_enqueue(&table, &pw->waiter, park_key(p->pid, addr));
}

static enum wait_start wait_start(struct process *p, uint64_t addr, uint32_t expected,
                                  uint64_t timeout, struct park_wait **out)
{
    enum wait_start st = wait_check(p, addr, expected);
    if (st != WAIT_PARKED)
        return st;
    if (!(*out = wait_new(p)))
        return WAIT_NO_MEMORY;
    wait_park(p, *out, addr, timeout);
    return st;
}

static void woken(void *ctx, struct park_waiter *w)
{
    finish(wait_of(w), true, false);
}

/* wakeWait, decoded by either path. Every check of both halves comes
 * first (WAKE_MISALIGNED or the wait's refusal), so that a refused call
 * wakes nobody; then the wake, then the wait. *wakes: how many woke.
 *
 * When the caller parks, the first waiter woken runs next (a handoff),
 * and the caller parks in that waiter's record, answered: the record is
 * p's (keys are per process) and charged to p, so a wakeWait that wakes
 * anyone allocates nothing and cannot run out of memory; only one that
 * wakes nobody takes a new record (which may fail, before anything
 * happened). The fast path does exactly this (park_fast_call). */
#define WAKE_MISALIGNED (WAIT_NO_MEMORY + 1)

/* A wakeWait's wake and park once a waiter is found (first, in bucket,
 * from park_first; checks all done, nothing fails from here): first is
 * woken, then the rest of count, and the caller parks in first's record,
 * answered. quiet (the fast path): first's answer is posted without
 * waking its thread, which *quiet returns for the caller to switch to;
 * otherwise first gets the handoff. */
__attribute__((always_inline)) static inline struct park_wait *
hand_over(struct process *p, struct park_key key, uint32_t count, struct park_bucket *bucket,
          struct park_waiter *first, uint64_t wait_addr, uint64_t timeout, struct thread **quiet)
{
    park_unlink(&table, bucket, first);
    struct park_wait *pw = wait_of(first);
    untime(pw);
    uint64_t word;
    uint32_t n = wait_results(pw, true, &word);
    if (quiet)
        *quiet = pending_call_complete_flat_quiet(&pw->call, &word, n);
    else
        pending_call_complete_flat(&pw->call, &word, n, true);
    pw->timed = 0;
    pw->wake_wait = true;
    pw->wakes = 1 + (count > 1 ? park_wake(&table, key, count - 1, woken, 0) : 0);
    wait_park(p, pw, wait_addr, timeout);
    return pw;
}

static int wake_wait_start(struct process *p, uint64_t wake_addr, uint32_t count,
                           uint64_t wait_addr, uint32_t expected, uint64_t timeout, uint32_t *wakes,
                           struct park_wait **out)
{
    if (wake_addr & 3)
        return WAKE_MISALIGNED;
    enum wait_start st = wait_check(p, wait_addr, expected);
    if (st != WAIT_PARKED && st != WAIT_VALUE_DIFFERS)
        return st;
    struct park_key key = park_key(p->pid, wake_addr);
    if (st == WAIT_VALUE_DIFFERS) {
        *wakes = park_wake(&table, key, count, woken, 0);
        return st;
    }
    struct park_bucket *bucket;
    struct park_waiter *first = count ? park_first(&table, key, &bucket) : 0;
    struct park_wait *pw;
    if (first) {
        pw = hand_over(p, key, count, bucket, first, wait_addr, timeout, 0);
    } else {
        if (!(pw = wait_new(p)))
            return WAIT_NO_MEMORY;
        pw->wake_wait = true; /* wakes 0: wait_new cleared it */
        wait_park(p, pw, wait_addr, timeout);
    }
    *wakes = pw->wakes;
    *out = pw;
    return st;
}

static int space_wait(void *self, ParkSpace_wait_Params_r params, ParkSpace_wait_Results_b results,
                      void *ctx)
{
    struct kcall *kc = ctx;
    struct park_wait *pw = 0;
    switch (wait_start(kc->caller, ParkSpace_wait_Params_get_addr(params),
                       ParkSpace_wait_Params_get_expected(params),
                       ParkSpace_wait_Params_get_timeoutNs(params), &pw)) {
    case WAIT_PARKED:
        return kcall_defer(kc, &pw->call);
    case WAIT_VALUE_DIFFERS:
        ParkSpace_wait_Results_set_woken(results, false);
        return CAPNPC_OK;
    case WAIT_MISALIGNED:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wait: addr must be 4-byte aligned");
    case WAIT_UNREADABLE:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wait: addr is not readable memory of yours");
    case WAIT_NO_MEMORY:
    default:
        return kcall_fail(kc, CapException_Type_overloaded,
                          "ParkSpace.wait: your frame quota cannot pay for another waiter");
    }
}

static int space_wake(void *self, ParkSpace_wake_Params_r params, ParkSpace_wake_Results_b results,
                      void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t addr = ParkSpace_wake_Params_get_addr(params);
    if (addr & 3)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wake: addr must be 4-byte aligned");
    uint32_t n = park_wake(&table, park_key(kc->caller->pid, addr),
                           ParkSpace_wake_Params_get_count(params), woken, 0);
    ParkSpace_wake_Results_set_woken(results, n);
    return CAPNPC_OK;
}

static int space_wake_wait(void *self, ParkSpace_wakeWait_Params_r params,
                           ParkSpace_wakeWait_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct park_wait *pw = 0;
    uint32_t wakes = 0;
    switch (wake_wait_start(kc->caller, ParkSpace_wakeWait_Params_get_wakeAddr(params),
                            ParkSpace_wakeWait_Params_get_count(params),
                            ParkSpace_wakeWait_Params_get_waitAddr(params),
                            ParkSpace_wakeWait_Params_get_expected(params),
                            ParkSpace_wakeWait_Params_get_timeoutNs(params), &wakes, &pw)) {
    case WAIT_PARKED:
        return kcall_defer(kc, &pw->call);
    case WAIT_VALUE_DIFFERS:
        ParkSpace_wakeWait_Results_set_wakes(results, wakes);
        ParkSpace_wakeWait_Results_set_woken(results, false);
        return CAPNPC_OK;
    case WAKE_MISALIGNED:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wakeWait: wakeAddr must be 4-byte aligned");
    case WAIT_MISALIGNED:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wakeWait: waitAddr must be 4-byte aligned");
    case WAIT_UNREADABLE:
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wakeWait: waitAddr is not readable memory of yours");
    case WAIT_NO_MEMORY:
    default:
        return kcall_fail(kc, CapException_Type_overloaded,
                          "ParkSpace.wakeWait: your frame quota cannot pay for another waiter");
    }
}

static uint64_t park_next_deadline(void)
{
    uint64_t next = UINT64_MAX;
    for (struct park_wait *pw = timed_waits; pw; pw = pw->timed)
        next = pw->deadline_ns < next ? pw->deadline_ns : next;
    return next;
}

/* Every timer interrupt: end the waits whose time has come. */
static void park_expire(uint64_t now_ns)
{
    for (struct park_wait **pp = &timed_waits; *pp;) {
        struct park_wait *pw = *pp;
        if (pw->deadline_ns <= now_ns) {
            *pp = pw->timed;
            pw->deadline_ns = UINT64_MAX; /* off the list already */
            park_remove(&table, &pw->waiter);
            finish(pw, false, false);
        } else {
            pp = &pw->timed;
        }
    }
}

static const struct ParkSpace_ops park_ops = {
    .wait = space_wait, .wake = space_wake, .wakeWait = space_wake_wait};

/* wait, wake and wakeWait are the hot path of every contended lock: answered flat
 * (kcall.h) when the params have the stubs' shape and nothing goes wrong;
 * everything else, errors included, through the general path, which
 * decodes any valid encoding and words each error. */
static int park_ring_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                          const struct capos_sqe *sqe, struct capos_cqe *cqe);

static struct thread *park_fast_call(struct kobject *obj, struct process *p,
                                     const struct capos_sqe *sqe);

KOBJECT_TYPE(park_type, ParkSpace, park_ops, .ring_call = park_ring_call,
             .fast_call = park_fast_call);

/*
 * The fast path (docs/ipc.md, "Fast path"; docs/threads.md): a wakeWait
 * in the stubs' flat shape whose first woken thread waits in cap_enter
 * for just that answer, while the caller parks: what wake_wait_start does,
 * in its order (both halves checked, the wake, the park), with that
 * thread's answer posted without waking it, so that the caller switches
 * straight to it. Anything else (a refused call, no waiter, a waiter that
 * is not simply waiting, a value that differs) changes nothing and goes
 * to park_ring_call.
 */
FAST_PATH static struct thread *park_fast_call(struct kobject *obj, struct process *p,
                                               const struct capos_sqe *sqe)
{
    uint64_t w[KCALL_FLAT_MAX_WORDS];
    if (sqe->method != ParkSpace_wakeWait_METHOD ||
        !kcall_flat_params(p, sqe, w, CAPN_FLAT_WORDS(ParkSpace_wakeWait_Params)))
        return 0;
    ParkSpace_wakeWait_Params_r params = CAPN_FLAT_READER(ParkSpace_wakeWait_Params, w);
    uint64_t wake_addr = ParkSpace_wakeWait_Params_get_wakeAddr(params);
    uint64_t wait_addr = ParkSpace_wakeWait_Params_get_waitAddr(params);
    uint32_t count = ParkSpace_wakeWait_Params_get_count(params);
    struct park_key key = park_key(p->pid, wake_addr);
    struct park_bucket *bucket;
    struct park_waiter *first = (wake_addr & 3) || !count ? 0 : park_first(&table, key, &bucket);
    if (!first || !thread_waits_for_one(wait_of(first)->call.thread))
        return 0;
    if (wait_check(p, wait_addr, ParkSpace_wakeWait_Params_get_expected(params)) != WAIT_PARKED)
        return 0;
    /* Nothing fails from here on: wake_wait_start's wake and park, with
     * the first waiter answered without waking its thread (the caller
     * switches to it). */
    struct thread *next;
    struct park_wait *pw = hand_over(p, key, count, bucket, first, wait_addr,
                                     ParkSpace_wakeWait_Params_get_timeoutNs(params), &next);
    pending_call_start(&pw->call, p, sqe);
    return next;
}

static int park_ring_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                          const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    uint64_t w[KCALL_FLAT_MAX_WORDS], r = 0;
    if (sqe->method == ParkSpace_wake_METHOD &&
        kcall_flat_params(p, sqe, w, CAPN_FLAT_WORDS(ParkSpace_wake_Params))) {
        ParkSpace_wake_Params_r params = CAPN_FLAT_READER(ParkSpace_wake_Params, w);
        uint64_t addr = ParkSpace_wake_Params_get_addr(params);
        if (!(addr & 3)) {
            uint32_t n = park_wake(&table, park_key(p->pid, addr),
                                   ParkSpace_wake_Params_get_count(params), woken, 0);
            ParkSpace_wake_Results_set_woken(CAPN_FLAT_BUILDER(ParkSpace_wake_Results, &r), n);
            kcall_flat_results(p, sqe, cqe, &r, CAPN_FLAT_WORDS(ParkSpace_wake_Results));
            return RING_POST;
        }
    } else if (sqe->method == ParkSpace_wait_METHOD &&
               kcall_flat_params(p, sqe, w, CAPN_FLAT_WORDS(ParkSpace_wait_Params))) {
        ParkSpace_wait_Params_r params = CAPN_FLAT_READER(ParkSpace_wait_Params, w);
        struct park_wait *pw = 0;
        switch (wait_start(p, ParkSpace_wait_Params_get_addr(params),
                           ParkSpace_wait_Params_get_expected(params),
                           ParkSpace_wait_Params_get_timeoutNs(params), &pw)) {
        case WAIT_PARKED:
            pending_call_start(&pw->call, p, sqe);
            return RING_DEFER;
        case WAIT_VALUE_DIFFERS:
            ParkSpace_wait_Results_set_woken(CAPN_FLAT_BUILDER(ParkSpace_wait_Results, &r), false);
            kcall_flat_results(p, sqe, cqe, &r, CAPN_FLAT_WORDS(ParkSpace_wait_Results));
            return RING_POST;
        default:
            break; /* the general path words the error */
        }
    } else if (sqe->method == ParkSpace_wakeWait_METHOD &&
               kcall_flat_params(p, sqe, w, CAPN_FLAT_WORDS(ParkSpace_wakeWait_Params))) {
        ParkSpace_wakeWait_Params_r params = CAPN_FLAT_READER(ParkSpace_wakeWait_Params, w);
        struct park_wait *pw = 0;
        uint32_t wakes = 0;
        switch (wake_wait_start(p, ParkSpace_wakeWait_Params_get_wakeAddr(params),
                                ParkSpace_wakeWait_Params_get_count(params),
                                ParkSpace_wakeWait_Params_get_waitAddr(params),
                                ParkSpace_wakeWait_Params_get_expected(params),
                                ParkSpace_wakeWait_Params_get_timeoutNs(params), &wakes, &pw)) {
        case WAIT_PARKED:
            pending_call_start(&pw->call, p, sqe);
            return RING_DEFER;
        case WAIT_VALUE_DIFFERS: {
            ParkSpace_wakeWait_Results_b b = CAPN_FLAT_BUILDER(ParkSpace_wakeWait_Results, &r);
            ParkSpace_wakeWait_Results_set_wakes(b, wakes);
            ParkSpace_wakeWait_Results_set_woken(b, false);
            kcall_flat_results(p, sqe, cqe, &r, CAPN_FLAT_WORDS(ParkSpace_wakeWait_Results));
            return RING_POST;
        }
        default:
            break; /* nothing happened: the general path words the error */
        }
    }
    return kcall_execute(p, obj, sqe, cqe) ? RING_POST : RING_DEFER;
}

KOBJECT_SINGLETON(park_space, park, ParkSpace, park_type, .tick = park_expire,
                  .next_deadline = park_next_deadline,
                  .process_state_size = sizeof(struct park_process),
                  .process_state_offset = &park_state_offset, .process_exit = park_process_exit);
