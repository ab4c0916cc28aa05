/*
 * C11 mutexes, condition variables and call_once (threads.h): user-space
 * atomics that enter the kernel (ParkSpace) only to wait or to wake a
 * waiter. An uncontended mtx_lock + mtx_unlock is two atomic
 * instructions; cnd_signal with no waiter is one load.
 */
#include <threads.h>

#include "capos_rt.h"
#include "capos_threads.h"

static uint64_t deadline_of(const struct timespec *ts)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
        return 1; /* in the past: the wait times out at once */
    uint64_t ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    return ns ? ns : 1;
}

/* The ns left until deadline (0: no deadline), or UINT64_MAX if it has
 * passed. */
static uint64_t time_left(uint64_t deadline)
{
    if (!deadline)
        return 0;
    uint64_t now = capos_clock_ns();
    return now >= deadline ? UINT64_MAX : deadline - now;
}

/* The three-state lock (user/rt/park.c's capos_lock) with a deadline. */
static int lock_until(uint32_t *s, uint64_t deadline)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(s, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return thrd_success;
    if (c != 2)
        c = __atomic_exchange_n(s, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        uint64_t left = time_left(deadline);
        if (left == UINT64_MAX)
            return thrd_timedout;
        if (capos_park_wait(s, 2, left) == CAPOS_PARK_ERROR)
            return thrd_error;
        c = __atomic_exchange_n(s, 2, __ATOMIC_ACQUIRE);
    }
    return thrd_success;
}

int mtx_init(mtx_t *m, int type)
{
    if (type & ~(mtx_recursive | mtx_timed))
        return thrd_error;
    *m = (mtx_t){.type = type};
    return thrd_success;
}

static int lock(mtx_t *m, uint64_t deadline)
{
    thrd_t self = thrd_current();
    if ((m->type & mtx_recursive) && __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == self) {
        m->count++;
        return thrd_success;
    }
    int rc = lock_until(&m->state, deadline);
    if (rc == thrd_success) {
        __atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
        m->count = 1;
    }
    return rc;
}

int mtx_lock(mtx_t *m)
{
    return lock(m, 0);
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return lock(m, deadline_of(ts));
}

int mtx_trylock(mtx_t *m)
{
    thrd_t self = thrd_current();
    if ((m->type & mtx_recursive) && __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == self) {
        m->count++;
        return thrd_success;
    }
    uint32_t c = 0;
    if (!__atomic_compare_exchange_n(&m->state, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return thrd_busy;
    __atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
    m->count = 1;
    return thrd_success;
}

/* mtx_unlock but for its wake: *wake says whether a waiter must be
 * woken (one, on m->state). */
static int release(mtx_t *m, bool *wake)
{
    *wake = false;
    if (__atomic_load_n(&m->owner, __ATOMIC_RELAXED) != thrd_current())
        return thrd_error;
    if (--m->count > 0)
        return thrd_success;
    __atomic_store_n(&m->owner, (thrd_t)0, __ATOMIC_RELAXED);
    if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
        *wake = true;
    }
    return thrd_success;
}

int mtx_unlock(mtx_t *m)
{
    bool wake;
    int rc = release(m, &wake);
    if (wake)
        capos_park_wake(&m->state, 1);
    return rc;
}

void mtx_destroy(mtx_t *m)
{
    (void)m;
}

/* ---- condition variables ---- */

int cnd_init(cnd_t *c)
{
    *c = (cnd_t){0};
    return thrd_success;
}

static int notify(cnd_t *c, uint32_t count)
{
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&c->waiters, __ATOMIC_ACQUIRE))
        capos_park_wake(&c->seq, count);
    return thrd_success;
}

int cnd_signal(cnd_t *c)
{
    return notify(c, 1);
}

int cnd_broadcast(cnd_t *c)
{
    return notify(c, UINT32_MAX);
}

/*
 * Wait for a signal after the one seen at entry: the sequence number is
 * read while m is held, so a signal sent after we unlock changes it and
 * the park returns at once; spurious wake-ups are allowed by C11.
 */
static int wait_until(cnd_t *c, mtx_t *m, uint64_t deadline)
{
    uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    uint32_t count = m->count;
    __atomic_fetch_add(&c->waiters, 1, __ATOMIC_ACQ_REL);
    m->count = 1;
    bool wake;
    if (release(m, &wake) != thrd_success) {
        __atomic_fetch_sub(&c->waiters, 1, __ATOMIC_RELEASE);
        return thrd_error;
    }
    int rc = thrd_success;
    uint64_t left = time_left(deadline);
    /* A locker to wake: the unlock's wake and this wait are one kernel
     * entry (ParkSpace.wakeWait), and the locker runs next. A refused
     * wakeWait woke nobody: the wake is then made on its own. */
    int r = CAPOS_PARK_NOT_WOKEN;
    if (left != UINT64_MAX)
        r = wake ? capos_park_wake_wait(&m->state, 1, &c->seq, seq, left)
                 : capos_park_wait(&c->seq, seq, left);
    if (wake && (left == UINT64_MAX || r == CAPOS_PARK_ERROR))
        capos_park_wake(&m->state, 1);
    if (left == UINT64_MAX)
        rc = thrd_timedout;
    else if (r == CAPOS_PARK_ERROR)
        rc = thrd_error;
    else if (deadline && __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) == seq &&
             time_left(deadline) == UINT64_MAX)
        rc = thrd_timedout;
    __atomic_fetch_sub(&c->waiters, 1, __ATOMIC_RELEASE);
    lock(m, 0);
    m->count = count;
    return rc;
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return wait_until(c, m, 0);
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return wait_until(c, m, deadline_of(ts));
}

void cnd_destroy(cnd_t *c)
{
    (void)c;
}

/* ---- call_once ---- */

enum { ONCE_NEW, ONCE_RUNNING, ONCE_WAITED, ONCE_DONE };

void call_once(once_flag *flag, void (*func)(void))
{
    if (__atomic_load_n(&flag->state, __ATOMIC_ACQUIRE) == ONCE_DONE)
        return;
    uint32_t s = ONCE_NEW;
    if (__atomic_compare_exchange_n(&flag->state, &s, ONCE_RUNNING, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
        func();
        if (__atomic_exchange_n(&flag->state, ONCE_DONE, __ATOMIC_RELEASE) == ONCE_WAITED)
            capos_park_wake(&flag->state, UINT32_MAX);
        return;
    }
    while ((s = __atomic_load_n(&flag->state, __ATOMIC_ACQUIRE)) != ONCE_DONE) {
        if (s == ONCE_RUNNING && !__atomic_compare_exchange_n(&flag->state, &s, ONCE_WAITED, false,
                                                              __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
            continue;
        capos_park_wait(&flag->state, ONCE_WAITED, 0);
    }
}
