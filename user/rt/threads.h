/*
 * C11 <threads.h> for capOS programs (docs/threads.md): threads over the
 * ThreadSpawner ("threads"), ThreadHandle and ThreadControl
 * ("threadControl") capabilities; mutexes, condition variables and
 * call_once as user-space atomics that park through ParkSpace ("park")
 * only when they must wait. A program needs all three capabilities to
 * create threads.
 *
 * Times: TIME_UTC is the monotonic clock since boot (Timer.now, "timer"),
 * the only clock capOS has; timed waits take absolute times on it, as
 * timespec_get(&ts, TIME_UTC) reads them.
 */
#ifndef CAPOS_C11_THREADS_H
#define CAPOS_C11_THREADS_H

#include <stdint.h>

#ifndef CAPOS_TIMESPEC_DEFINED
#define CAPOS_TIMESPEC_DEFINED
struct timespec {
    long tv_sec;
    long tv_nsec;
};
#endif
#define TIME_UTC 1
int timespec_get(struct timespec *ts, int base);

enum { thrd_success, thrd_nomem, thrd_timedout, thrd_busy, thrd_error };

typedef struct capos_thrd *thrd_t;
typedef int (*thrd_start_t)(void *);

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg);
int thrd_equal(thrd_t a, thrd_t b);
thrd_t thrd_current(void);
int thrd_sleep(const struct timespec *duration, struct timespec *remaining);
void thrd_yield(void);
_Noreturn void thrd_exit(int res);
int thrd_detach(thrd_t thr);
int thrd_join(thrd_t thr, int *res);

enum { mtx_plain = 0, mtx_recursive = 1, mtx_timed = 2 };

typedef struct {
    uint32_t state; /* 0 free, 1 held, 2 held with waiters */
    int type;
    thrd_t owner; /* recursive mutexes */
    uint32_t count;
} mtx_t;

int mtx_init(mtx_t *m, int type);
int mtx_lock(mtx_t *m);
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts);
int mtx_trylock(mtx_t *m);
int mtx_unlock(mtx_t *m);
void mtx_destroy(mtx_t *m);

typedef struct {
    uint32_t seq;     /* bumped by every signal and broadcast */
    uint32_t waiters; /* threads in cnd_wait: signals without any stay in user space */
} cnd_t;

int cnd_init(cnd_t *c);
int cnd_signal(cnd_t *c);
int cnd_broadcast(cnd_t *c);
int cnd_wait(cnd_t *c, mtx_t *m);
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts);
void cnd_destroy(cnd_t *c);

#define TSS_DTOR_ITERATIONS 4
#define CAPOS_TSS_KEYS      64
typedef uint32_t tss_t;
typedef void (*tss_dtor_t)(void *);

int tss_create(tss_t *key, tss_dtor_t dtor);
void tss_delete(tss_t key);
void *tss_get(tss_t key);
int tss_set(tss_t key, void *val);

typedef struct {
    uint32_t state; /* 0 not run, 1 running, 2 running with waiters, 3 done */
} once_flag;
#define ONCE_FLAG_INIT                                                                             \
    {                                                                                              \
        0                                                                                          \
    }
void call_once(once_flag *flag, void (*func)(void));

#define thread_local _Thread_local

#endif
