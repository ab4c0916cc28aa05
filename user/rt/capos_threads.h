/*
 * The runtime's threading internals (docs/threads.md): parking through
 * the ParkSpace capability "park", the runtime's own lock, and the thread
 * record every thread's TCB points to. Programs use <threads.h>.
 */
#ifndef CAPOS_THREADS_INTERNAL_H
#define CAPOS_THREADS_INTERNAL_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- Parking (ParkSpace) ---- */

enum { CAPOS_PARK_ERROR = -1, CAPOS_PARK_NOT_WOKEN = 0, CAPOS_PARK_WOKEN = 1 };
/* The ParkSpace capability, 0 if the process has none. */
uint32_t capos_park_cap(void);
/* Wait while *addr == expected, until woken or timeout_ns (0: forever). */
int capos_park_wait(const volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
/* Wake at most count waiters on addr; how many were woken. */
uint32_t capos_park_wake(const volatile uint32_t *addr, uint32_t count);
/* Both as one call (ParkSpace.wakeWait): wake at most `count` waiters on
 * wake_addr, then wait while *wait_addr == expected, as capos_park_wait
 * (its result). The hand-over of a ping-pong or of a signal-then-wait:
 * one kernel entry instead of two, and the thread it wakes runs next on
 * this CPU. A bad address in either half refuses the whole call before
 * anyone is woken. */
int capos_park_wake_wait(const volatile uint32_t *wake_addr, uint32_t count,
                         const volatile uint32_t *wait_addr, uint32_t expected, uint64_t timeout_ns);

/* ---- The runtime's lock: uncontended, no kernel entry ---- */

struct capos_lock {
    uint32_t state; /* 0 free, 1 held, 2 held and maybe waited for */
};
#define CAPOS_LOCK_INIT                                                                            \
    {                                                                                              \
        0                                                                                          \
    }
void capos_lock(struct capos_lock *l);
bool capos_trylock(struct capos_lock *l);
void capos_unlock(struct capos_lock *l);

/* ---- Threads ---- */

/* The monotonic clock (Timer "timer"), ns; 0 without the capability. */
uint64_t capos_clock_ns(void);
/* The ring of the running thread becomes r (at thread start). */
void capos_rt_set_ring(volatile struct capos_ring *r);

#endif
