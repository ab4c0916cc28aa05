/*
 * C11 threads over ThreadSpawner, ThreadHandle and ThreadControl
 * (threads.h, docs/threads.md).
 *
 * A thread's record, TLS block, TCB and stack are one heap block. The
 * thread cannot free the stack it runs on, so whoever learns that it has
 * ended does: thrd_join, or for a detached thread the next thrd_create or
 * thrd_join, which join it first (it is already on its way out).
 */
#include <capos/layout.h>
#include <capos/tcb.h>
#include <string.h>
#include <threads.h>

#include "capos.capnp.h"
#include "capos_rt.h"
#include "capos_threads.h"
#include "kcore/tls_layout.h"

#define STACK_SIZE (64 * 1024)

enum { RUNNING, DETACHED, ENDED };

struct capos_thrd {
    uint32_t handle; /* ThreadHandle; 0 for the main thread */
    uint32_t state;  /* RUNNING, DETACHED or ENDED (atomic) */
    thrd_start_t func;
    void *arg;
    struct capos_thrd *dead_next; /* detached and ended, not yet freed */
};

static struct capos_thrd main_thrd;
static struct capos_lock dead_lock = CAPOS_LOCK_INIT;
static struct capos_thrd *dead;

static struct capos_tcb *tcb_self(void)
{
    struct capos_tcb *t;
    __asm__("mov %%fs:0, %0" : "=r"(t));
    return t;
}

thrd_t thrd_current(void)
{
    struct capos_thrd *t = (struct capos_thrd *)tcb_self()->rt[0];
    return t ? t : &main_thrd;
}

int thrd_equal(thrd_t a, thrd_t b)
{
    return a == b;
}

static uint32_t cap_of(const char *name, uint64_t iface)
{
    return capos_capset_find(name, iface, 0);
}

/* Wait for t's end, then free everything of it. */
static int reap(struct capos_thrd *t, int *res)
{
    uint8_t params[64], results[128];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    ThreadHandle_join_Results_r r;
    int rc = ThreadHandle_join_call(&capos_transport, t->handle, &c, &r);
    if (rc != CAPNPC_OK)
        return thrd_error;
    if (res)
        *res = ThreadHandle_join_Results_get_exitCode(r);
    capos_release(t->handle);
    capos_free(t);
    return thrd_success;
}

static void reap_dead(void)
{
    if (!__atomic_load_n(&dead, __ATOMIC_ACQUIRE))
        return;
    capos_lock(&dead_lock);
    struct capos_thrd *list = dead;
    dead = 0;
    capos_unlock(&dead_lock);
    for (struct capos_thrd *t = list, *next; t; t = next) {
        next = t->dead_next;
        reap(t, 0);
    }
}

_Noreturn void capos_rt_thread_start(volatile struct capos_ring *ring, struct capos_thrd *t);
_Noreturn void capos_rt_thread_start(volatile struct capos_ring *ring, struct capos_thrd *t)
{
    capos_rt_set_ring(ring);
    thrd_exit(t->func(t->arg));
}

extern void capos_thread_entry(void); /* start.S */

/* The new thread's TLS block and TCB at tp, built like the kernel built
 * the main thread's (include/capos/tcb.h). */
static void build_tls(uint8_t *tp, const struct capos_tcb *main_tcb, struct capos_thrd *t)
{
    uint8_t *block = tp - main_tcb->tls_block_size;
    memcpy(block, (const void *)(uintptr_t)main_tcb->tls_image, main_tcb->tls_filesz);
    memset(block + main_tcb->tls_filesz, 0, main_tcb->tls_block_size - main_tcb->tls_filesz);
    struct capos_tcb *tcb = (struct capos_tcb *)tp;
    *tcb = *main_tcb;
    tcb->self = tcb;
    tcb->rt[0] = (uint64_t)(uintptr_t)t;
    tcb->rt[1] = 0;
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    uint32_t spawner = cap_of("threads", ThreadSpawner_INTERFACE_ID);
    if (!spawner || !cap_of("threadControl", ThreadControl_INTERFACE_ID) || !capos_park_cap())
        return thrd_error;
    reap_dead();
    const struct capos_tcb *main_tcb = (const struct capos_tcb *)CAPOS_USER_TLS_TCB;
    uint64_t area =
        tls_area_size(main_tcb->tls_block_size, main_tcb->tls_align, sizeof(struct capos_tcb));
    size_t size = sizeof(struct capos_thrd) + area + STACK_SIZE + 16;
    uint8_t *mem = capos_malloc(size);
    if (!mem)
        return thrd_nomem;
    struct capos_thrd *t = (struct capos_thrd *)mem;
    *t = (struct capos_thrd){.state = RUNNING, .func = func, .arg = arg};
    uintptr_t tp = (uintptr_t)tls_place((uint64_t)(uintptr_t)(mem + sizeof(*t)),
                                        main_tcb->tls_block_size, main_tcb->tls_align);
    build_tls((uint8_t *)tp, main_tcb, t);
    uintptr_t stack_top = ((uintptr_t)mem + size) & ~(uintptr_t)15;

    uint8_t params[256], results[128];
    uint32_t rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    ThreadSpawner_spawn_Results_r r;
    int rc = ThreadSpawner_spawn_call(&capos_transport, spawner, &c,
                                      (uint64_t)(uintptr_t)capos_thread_entry, stack_top,
                                      (uint64_t)(uintptr_t)t, tp, &r);
    uint32_t hi = rc == CAPNPC_OK ? ThreadSpawner_spawn_Results_get_thread(r) : UINT32_MAX;
    if (hi >= c.reply.ncaps) {
        capos_free(mem);
        return rc == CAPNPC_EXCEPTION ? thrd_nomem : thrd_error;
    }
    t->handle = rcaps[hi];
    *thr = t;
    return thrd_success;
}

int thrd_join(thrd_t t, int *res)
{
    if (!t || t == &main_thrd || t == thrd_current())
        return thrd_error;
    int rc = reap(t, res);
    reap_dead();
    return rc;
}

int thrd_detach(thrd_t t)
{
    if (!t || t == &main_thrd)
        return thrd_error;
    uint32_t s = RUNNING;
    if (__atomic_compare_exchange_n(&t->state, &s, DETACHED, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return thrd_success; /* it frees itself through the dead list */
    return s == ENDED ? reap(t, 0) : thrd_error;
}

/* ---- thread-specific storage ---- */

static struct capos_lock tss_lock = CAPOS_LOCK_INIT;
static struct {
    bool used;
    tss_dtor_t dtor;
} keys[CAPOS_TSS_KEYS];
static _Thread_local void *tss_values[CAPOS_TSS_KEYS];

int tss_create(tss_t *key, tss_dtor_t dtor)
{
    capos_lock(&tss_lock);
    for (uint32_t i = 0; i < CAPOS_TSS_KEYS; i++) {
        if (!keys[i].used) {
            keys[i].used = true;
            keys[i].dtor = dtor;
            capos_unlock(&tss_lock);
            *key = i;
            return thrd_success;
        }
    }
    capos_unlock(&tss_lock);
    return thrd_error;
}

void tss_delete(tss_t key)
{
    if (key >= CAPOS_TSS_KEYS)
        return;
    capos_lock(&tss_lock);
    keys[key].used = false;
    keys[key].dtor = 0;
    capos_unlock(&tss_lock);
}

void *tss_get(tss_t key)
{
    return key < CAPOS_TSS_KEYS ? tss_values[key] : 0;
}

int tss_set(tss_t key, void *val)
{
    if (key >= CAPOS_TSS_KEYS || !keys[key].used)
        return thrd_error;
    tss_values[key] = val;
    return thrd_success;
}

static void run_tss_dtors(void)
{
    for (int round = 0; round < TSS_DTOR_ITERATIONS; round++) {
        bool any = false;
        for (uint32_t i = 0; i < CAPOS_TSS_KEYS; i++) {
            void *v = tss_values[i];
            tss_dtor_t d = keys[i].used ? keys[i].dtor : 0;
            if (v && d) {
                tss_values[i] = 0;
                d(v);
                any = true;
            }
        }
        if (!any)
            return;
    }
}

/* ---- the end ---- */

void thrd_exit(int res)
{
    run_tss_dtors();
    capos_flush_releases();
    uint32_t control = cap_of("threadControl", ThreadControl_INTERFACE_ID);
    if (!control)
        capos_exit(res); /* a program without threads: its one thread */
    struct capos_thrd *t = thrd_current();
    if (t != &main_thrd) {
        uint32_t s = RUNNING;
        if (!__atomic_compare_exchange_n(&t->state, &s, ENDED, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            /* Detached: whoever reaps next joins and frees us. */
            capos_lock(&dead_lock);
            t->dead_next = dead;
            __atomic_store_n(&dead, t, __ATOMIC_RELEASE);
            capos_unlock(&dead_lock);
        }
    }
    uint8_t params[64], results[64];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    ThreadControl_exit_Results_r r;
    ThreadControl_exit_call(&capos_transport, control, &c, res, &r);
    /* Only if the kernel refused (it never returns from a valid exit). */
    capos_exit(res);
}

/* ---- sleeping ---- */

static uint32_t timer_cap(void)
{
    static uint32_t cap;
    if (!cap)
        cap = cap_of("timer", Timer_INTERFACE_ID);
    return cap;
}

uint64_t capos_clock_ns(void)
{
    uint32_t cap = timer_cap();
    if (!cap)
        return 0;
    uint8_t params[64], results[64];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_now_Results_r r;
    if (Timer_now_call(&capos_transport, cap, &c, &r) != CAPNPC_OK)
        return 0;
    return Timer_now_Results_get_ns(r);
}

int timespec_get(struct timespec *ts, int base)
{
    if (base != TIME_UTC || !timer_cap())
        return 0;
    uint64_t ns = capos_clock_ns();
    ts->tv_sec = (long)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return base;
}

static int sleep_ns(uint64_t ns)
{
    uint32_t cap = timer_cap();
    if (!cap)
        return -2;
    uint8_t params[64], results[64];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_Results_r r;
    return Timer_sleep_call(&capos_transport, cap, &c, ns, &r) == CAPNPC_OK ? 0 : -2;
}

int thrd_sleep(const struct timespec *d, struct timespec *remaining)
{
    if (d->tv_sec < 0 || d->tv_nsec < 0 || d->tv_nsec >= 1000000000L)
        return -2;
    if (remaining)
        *remaining = (struct timespec){0, 0};
    return sleep_ns((uint64_t)d->tv_sec * 1000000000u + (uint64_t)d->tv_nsec);
}

/* A zero sleep: the thread waits in cap_enter for the timer, so that every
 * other runnable thread gets its turn first. */
void thrd_yield(void)
{
    sleep_ns(0);
}

void capos_rt_threads_init(void);
void capos_rt_threads_init(void)
{
    tcb_self()->rt[0] = (uint64_t)(uintptr_t)&main_thrd;
}
