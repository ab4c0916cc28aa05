/*
 * QEMU test program: threads inside one process (docs/threads.md), from
 * the user's side and from the attacker's. Runs as init of
 * tests/qemu/systems/threads.cue, with thread-child for the life-and-death
 * cases (a child process per case, so that its death can be watched).
 */
#include <capos/layout.h>
#include <threads.h>

#include "capos_threads.h"
#include "testlib.h"

static uint32_t timer, factory, spawner_caps, control, park, spawner, frames;

/* ---- 8 threads x 10,000 calls: kernel objects and an endpoint ---- */

#define WORKERS 8
#define CALLS   10000

static uint32_t echo_client, echo_server;

static int echo_handler(void *self, Echo_echo_Params_r params, Echo_echo_Results_b results,
                        void *ctx)
{
    struct capn_text t = Echo_echo_Params_get_text(params);
    if (t.len == 4 && memcmp(t.str, "stop", 4) == 0)
        ((struct capos_call_ctx *)ctx)->server->stop = true;
    Echo_echo_Results_set_text(results, t.str, t.len);
    return CAPNPC_OK;
}

static const struct Echo_ops echo_ops = {.echo = echo_handler};

static int serve_thread(void *arg)
{
    struct capos_server srv = {.endpoint = echo_server, .iface = &Echo_IFACE, .ops = &echo_ops};
    int rc = capos_serve(&srv);
    return rc == 0 ? (int)srv.served : -1;
}

static unsigned fmt_u(char *out, unsigned v)
{
    char tmp[12];
    unsigned n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out[len++] = tmp[--n];
    return len;
}

static int call_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, bad = 0;
    uint64_t last = 0;
    for (unsigned i = 0; i < CALLS; i++) {
        uint8_t p[128], r[128];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        Timer_now_Results_r now;
        if (Timer_now_call(&capos_transport, timer, &c, &now) != CAPNPC_OK ||
            Timer_now_Results_get_ns(now) < last)
            bad++;
        else
            last = Timer_now_Results_get_ns(now);
        /* "w<id>:<i>" must come back as it went. */
        char text[24];
        unsigned n = 0;
        text[n++] = 'w';
        n += fmt_u(text + n, id);
        text[n++] = ':';
        n += fmt_u(text + n, i);
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        Echo_echo_Results_r er;
        if (Echo_echo_call(&capos_transport, echo_client, &c, text, n, &er) != CAPNPC_OK) {
            bad++;
            continue;
        }
        struct capn_text back = Echo_echo_Results_get_text(er);
        bad += back.len != n || memcmp(back.str, text, n) != 0;
    }
    return (int)bad;
}

static void test_many_calls(void)
{
    CHECK(test_create_endpoint(factory, Echo_INTERFACE_ID, &echo_server, &echo_client),
          "an endpoint for the call test");
    thrd_t servers[2], workers[WORKERS];
    bool started = true;
    for (int i = 0; i < 2; i++)
        started &= thrd_create(&servers[i], serve_thread, 0) == thrd_success;
    for (int i = 0; i < WORKERS; i++)
        started &= thrd_create(&workers[i], call_worker, (void *)(uintptr_t)i) == thrd_success;
    CHECK(started, "2 server threads and %d client threads started", WORKERS);
    int bad = 0;
    for (int i = 0; i < WORKERS; i++) {
        int r = -1;
        thrd_join(workers[i], &r);
        bad += r;
    }
    CHECK(bad == 0, "%d threads x %d Timer.now and %d Echo calls: every result right (%d wrong)",
          WORKERS, CALLS, CALLS, bad);
    /* One "stop" per server thread. */
    int served = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t p[128], r[128];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        Echo_echo_Results_r er;
        Echo_echo_call(&capos_transport, echo_client, &c, "stop", 4, &er);
    }
    int both = 1;
    for (int i = 0; i < 2; i++) {
        int r = -1;
        thrd_join(servers[i], &r);
        both &= r > 0;
        served += r;
    }
    CHECK(both && served == WORKERS * CALLS + 2,
          "two threads served one endpoint, each some of the %d calls (%d)", WORKERS * CALLS + 2,
          served);
    capos_release(echo_client);
    capos_release(echo_server);
}

/* ---- mutexes and condition variables: 4 producers, 4 consumers ---- */

#define ITEMS 5000
#define QCAP  16

static mtx_t qlock;
static cnd_t not_full, not_empty;
static unsigned queue[QCAP], qhead, qlen, produced_sum, consumed_sum, consumed_n;
static unsigned producers_left;

static int producer(void *arg)
{
    unsigned base = (unsigned)(uintptr_t)arg * ITEMS;
    for (unsigned i = 1; i <= ITEMS; i++) {
        mtx_lock(&qlock);
        while (qlen == QCAP)
            cnd_wait(&not_full, &qlock);
        queue[(qhead + qlen++) % QCAP] = base + i;
        produced_sum += base + i;
        cnd_signal(&not_empty);
        mtx_unlock(&qlock);
    }
    mtx_lock(&qlock);
    if (--producers_left == 0)
        cnd_broadcast(&not_empty);
    mtx_unlock(&qlock);
    return 0;
}

static int consumer(void *arg)
{
    unsigned got = 0;
    for (;;) {
        mtx_lock(&qlock);
        while (qlen == 0 && producers_left)
            cnd_wait(&not_empty, &qlock);
        if (qlen == 0) {
            mtx_unlock(&qlock);
            return (int)got;
        }
        unsigned v = queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qlen--;
        consumed_sum += v;
        consumed_n++;
        got++;
        cnd_signal(&not_full);
        mtx_unlock(&qlock);
    }
}

static void test_producer_consumer(void)
{
    mtx_init(&qlock, mtx_plain);
    cnd_init(&not_full);
    cnd_init(&not_empty);
    producers_left = 4;
    thrd_t t[8];
    for (int i = 0; i < 4; i++)
        thrd_create(&t[i], producer, (void *)(uintptr_t)i);
    for (int i = 4; i < 8; i++)
        thrd_create(&t[i], consumer, 0);
    int got = 0;
    for (int i = 0; i < 8; i++) {
        int r = 0;
        thrd_join(t[i], &r);
        if (i >= 4)
            got += r;
    }
    CHECK(consumed_n == 4 * ITEMS && got == 4 * ITEMS && consumed_sum == produced_sum,
          "4 producers and 4 consumers: %u items through a queue of %d, sums equal (%u/%u)",
          consumed_n, QCAP, consumed_sum, produced_sum);
}

/* A counter under a recursive mutex, and mtx_trylock / mtx_timedlock. */
static mtx_t rec;
static unsigned counter;

static int count_up(void *arg)
{
    for (int i = 0; i < 2000; i++) {
        mtx_lock(&rec);
        mtx_lock(&rec); /* recursive */
        counter++;
        mtx_unlock(&rec);
        mtx_unlock(&rec);
    }
    return 0;
}

/* cnd_wait of a mutex someone waits for: the unlock's wake and the wait
 * are one wakeWait (user/rt/sync.c), and the locker gets the mutex while
 * the waiter waits. */
static mtx_t handed;
static cnd_t handed_cv;
static volatile uint32_t handed_got;

static int take_handed(void *arg)
{
    mtx_lock(&handed);
    handed_got = 1;
    cnd_signal(&handed_cv);
    mtx_unlock(&handed);
    return 0;
}

static void test_cnd_hands_over(void)
{
    mtx_init(&handed, mtx_timed);
    cnd_init(&handed_cv);
    mtx_lock(&handed);
    thrd_t t;
    if (thrd_create(&t, take_handed, 0) != thrd_success) {
        CHECK(false, "thrd_create (take_handed)");
        return;
    }
    /* It finds the mutex held and parks (state 2). */
    while (__atomic_load_n(&handed.state, __ATOMIC_ACQUIRE) != 2)
        thrd_yield();
    struct timespec ms10 = {0, 10000000};
    thrd_sleep(&ms10, 0);
    struct timespec until;
    timespec_get(&until, TIME_UTC);
    until.tv_sec += 10; /* a bound only: a loaded host may stall a CPU for long */
    int rc = thrd_success;
    while (!handed_got && rc == thrd_success)
        rc = cnd_timedwait(&handed_cv, &handed, &until);
    mtx_unlock(&handed);
    CHECK(rc == thrd_success && handed_got,
          "cnd_wait hands the mutex to the thread parked on it, which signals back (%d, %u)", rc,
          handed_got);
    if (handed_got)
        thrd_join(t, 0);
}

static void test_mutex_kinds(void)
{
    mtx_init(&rec, mtx_recursive | mtx_timed);
    thrd_t t[4];
    for (int i = 0; i < 4; i++)
        thrd_create(&t[i], count_up, 0);
    for (int i = 0; i < 4; i++)
        thrd_join(t[i], 0);
    CHECK(counter == 8000, "4 threads x 2000 recursive lock pairs: counter %u (8000)", counter);
    mtx_t m;
    mtx_init(&m, mtx_timed);
    mtx_lock(&m);
    CHECK(mtx_trylock(&m) == thrd_busy, "mtx_trylock on a held mutex: thrd_busy");
    struct timespec ts = {0, 0};
    /* t0 first: the deadline is 2 ms after a later reading, so the wait
     * lasts at least 2 ms from t0. */
    uint64_t t0 = capos_clock_ns();
    timespec_get(&ts, TIME_UTC);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    CHECK(mtx_timedlock(&m, &ts) == thrd_timedout && capos_clock_ns() - t0 >= 2000000,
          "mtx_timedlock on a held mutex times out after 2 ms");
    cnd_t c;
    cnd_init(&c);
    timespec_get(&ts, TIME_UTC);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    CHECK(cnd_timedwait(&c, &m, &ts) == thrd_timedout, "cnd_timedwait with no signal times out");
    CHECK(mtx_unlock(&m) == thrd_success, "the mutex is held again after cnd_timedwait");
}

/* ---- _Thread_local, tss and call_once ---- */

static _Thread_local unsigned tl_zero;
static _Thread_local unsigned tl_init = 0x5eed;
static tss_t key;
static unsigned dtor_runs;

static void dtor(void *v)
{
    __atomic_fetch_add(&dtor_runs, 1, __ATOMIC_RELAXED);
}

static int tls_thread(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    int bad = tl_zero != 0 || tl_init != 0x5eed;
    tl_zero = me;
    tl_init = me * 3;
    tss_set(key, (void *)(uintptr_t)(me + 1));
    thrd_yield();
    bad += tl_zero != me || tl_init != me * 3;
    bad += tss_get(key) != (void *)(uintptr_t)(me + 1);
    return bad;
}

static once_flag once = ONCE_FLAG_INIT;
static unsigned once_runs;

static void once_fn(void)
{
    once_runs++;
    thrd_yield(); /* let the others pile up behind it */
}

static int once_thread(void *arg)
{
    call_once(&once, once_fn);
    return once_runs == 1 ? 0 : 1;
}

static void test_tls(void)
{
    tss_create(&key, dtor);
    thrd_t t[6];
    for (int i = 0; i < 6; i++)
        thrd_create(&t[i], tls_thread, (void *)(uintptr_t)(i + 1));
    int bad = 0;
    for (int i = 0; i < 6; i++) {
        int r = 1;
        thrd_join(t[i], &r);
        bad += r;
    }
    CHECK(bad == 0 && tl_zero == 0 && tl_init == 0x5eed,
          "_Thread_local (.tdata and .tbss) and tss values are per thread (%d wrong)", bad);
    CHECK(dtor_runs == 6, "a tss destructor ran for each of 6 threads (%u)", dtor_runs);
    for (int i = 0; i < 6; i++)
        thrd_create(&t[i], once_thread, 0);
    for (int i = 0; i < 6; i++) {
        int r = 1;
        thrd_join(t[i], &r);
        bad += r;
    }
    CHECK(bad == 0 && once_runs == 1, "call_once from 6 threads ran once (%u)", once_runs);
}

/* ---- join, detach, exit codes ---- */

static int exits_with(void *arg)
{
    thrd_exit((int)(intptr_t)arg);
}

static int returns(void *arg)
{
    return (int)(intptr_t)arg;
}

static unsigned detached_done;

static int detached(void *arg)
{
    __atomic_fetch_add(&detached_done, 1, __ATOMIC_RELEASE);
    return 0;
}

static void test_join_detach(void)
{
    thrd_t a, b, d[4];
    int ra = 0, rb = 0;
    thrd_create(&a, exits_with, (void *)(intptr_t)-7);
    thrd_create(&b, returns, (void *)(intptr_t)42);
    CHECK(thrd_join(a, &ra) == thrd_success && ra == -7, "thrd_exit(-7) is what join sees (%d)",
          ra);
    CHECK(thrd_join(b, &rb) == thrd_success && rb == 42, "returning 42 is what join sees (%d)", rb);
    CHECK(thrd_join(thrd_current(), 0) == thrd_error, "a thread cannot join itself");
    for (int i = 0; i < 4; i++) {
        thrd_create(&d[i], detached, 0);
        thrd_detach(d[i]);
    }
    /* Up to 10 s: the loop ends as soon as all four have run, and on a
     * loaded host a virtual CPU may stall for far longer than the 100 ms
     * this used to allow. */
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 10000 && __atomic_load_n(&detached_done, __ATOMIC_ACQUIRE) < 4; i++)
        thrd_sleep(&ms, 0);
    /* A create reaps detached threads that have ended. */
    thrd_t e;
    thrd_create(&e, returns, 0);
    thrd_join(e, 0);
    CHECK(detached_done == 4, "4 detached threads ran and were reaped");
}

/* ---- hostile arguments ---- */

/* ---- Wake and wait in one kernel entry (capos_park_wake_wait) ---- */

#define PASSES 2000
static uint32_t baton;
static unsigned passes_seen[2];

/* Side `me` (0 or 1) runs while baton == me, then hands it over. */
static int baton_side(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    for (int i = 0; i < PASSES; i++) {
        while (__atomic_load_n(&baton, __ATOMIC_ACQUIRE) != me)
            capos_park_wait(&baton, 1 - me, 0);
        passes_seen[me]++;
        __atomic_store_n(&baton, 1 - me, __ATOMIC_RELEASE);
        /* Wake the other side and wait for the baton back, in one entry;
         * the last pass only wakes. */
        if (i < PASSES - 1)
            capos_park_wake_wait(&baton, 1, &baton, 1 - me, 0);
        else
            capos_park_wake(&baton, 1);
    }
    return 0;
}

static uint32_t refused_word;

static int park_on_refused(void *arg)
{
    test_waiter_note(arg);
    return capos_park_wait(&refused_word, 0, 0);
}

static void test_wake_wait(void)
{
    uint32_t word = 5;
    CHECK(capos_park_wake_wait(&word, 1, &word, 4, 0) == CAPOS_PARK_NOT_WOKEN,
          "wake_wait on a word that no longer holds the expected value returns at once");
    uint64_t t0 = capos_clock_ns();
    CHECK(capos_park_wake_wait(&word, 1, &word, 5, 1000000) == CAPOS_PARK_NOT_WOKEN &&
              capos_clock_ns() - t0 >= 1000000,
          "wake_wait with nobody to wake it times out (not woken, after 1 ms)");
    /* Bad addresses take the kernel's general path, which refuses them
     * with an exception: the runtime's flat calls report an error, and
     * leave no answer behind in the ring for a later call to trip on. */
    uint32_t words[2] = {0, 0};
    const volatile uint32_t *odd = (const volatile uint32_t *)((uintptr_t)words + 1);
    CHECK(capos_park_wait(odd, 0, 0) == CAPOS_PARK_ERROR && capos_park_wake(odd, 1) == 0,
          "park wait and wake on a misaligned address: refused");
    CHECK(capos_park_wake_wait(odd, 1, &words[0], 0, 1000) == CAPOS_PARK_ERROR &&
              capos_park_wake_wait(&words[0], 1, odd, 0, 0) == CAPOS_PARK_ERROR,
          "wake_wait with either address misaligned: refused");
    const volatile uint32_t *unmapped = (const volatile uint32_t *)(uintptr_t)0x10000000ull;
    CHECK(capos_park_wait(unmapped, 0, 0) == CAPOS_PARK_ERROR,
          "park wait on an unmapped address: refused");
    /* A refused wakeWait wakes nobody: a thread parked on the wake
     * address is still there for the next wake. */
    thrd_t sleeper;
    static struct test_waiter sleeper_parked;
    refused_word = 0;
    CHECK(thrd_create(&sleeper, park_on_refused, &sleeper_parked) == thrd_success &&
              test_waiter_wait(&sleeper_parked),
          "a thread to park, parked");
    int refused = capos_park_wake_wait(&refused_word, 1, odd, 0, 0);
    uint32_t woke = capos_park_wake(&refused_word, 1);
    int parked_rc = -2;
    thrd_join(sleeper, &parked_rc);
    CHECK(refused == CAPOS_PARK_ERROR && woke == 1 && parked_rc == CAPOS_PARK_WOKEN,
          "a wakeWait refused for its wait half woke nobody (the parked thread was there for the "
          "next wake: %u woken, it saw %d)",
          woke, parked_rc);
    struct capos_cqe stray;
    CHECK(!capos_ring_take_any(&stray), "the refused calls left no completion behind");
    thrd_t a, b;
    baton = 0;
    bool started = thrd_create(&a, baton_side, (void *)0) == thrd_success &&
                   thrd_create(&b, baton_side, (void *)1) == thrd_success;
    bool joined = started && thrd_join(a, 0) == thrd_success && thrd_join(b, 0) == thrd_success;
    CHECK(joined && passes_seen[0] == PASSES && passes_seen[1] == PASSES,
          "two threads pass a baton %d times each through wake_wait (%u, %u)", PASSES,
          passes_seen[0], passes_seen[1]);
}

static int spawn_raw(uint64_t entry, uint64_t stack, uint64_t tls, uint32_t *handle)
{
    uint8_t p[256], r[256];
    uint32_t rcaps[1] = {0};
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    ThreadSpawner_spawn_Results_r res;
    int rc = test_note_exception(
        &c, ThreadSpawner_spawn_call(&capos_transport, spawner, &c, entry, stack, 0, tls, &res));
    if (handle)
        *handle = rc == CAPNPC_OK ? rcaps[0] : 0;
    return rc;
}

static int park_raw(uint64_t addr, uint32_t expected, uint64_t timeout, bool *woken)
{
    uint8_t p[128], r[128];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    ParkSpace_wait_Results_r res;
    int rc = test_note_exception(
        &c, ParkSpace_wait_call(&capos_transport, park, &c, addr, expected, timeout, &res));
    if (rc == CAPNPC_OK && woken)
        *woken = ParkSpace_wait_Results_get_woken(res);
    return rc;
}

static int wake_raw(uint64_t addr, uint32_t count, uint32_t *n)
{
    uint8_t p[128], r[128];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    ParkSpace_wake_Results_r res;
    int rc = ParkSpace_wake_call(&capos_transport, park, &c, addr, count, &res);
    if (rc == CAPNPC_OK && n)
        *n = ParkSpace_wake_Results_get_woken(res);
    return rc;
}

static void spin_entry(void)
{
    for (;;)
        capos_cap_enter(1, UINT64_MAX);
}

static uint32_t parked_word;

static int parker(void *arg)
{
    test_waiter_note(arg);
    bool woken = false;
    park_raw((uint64_t)(uintptr_t)&parked_word, 0, 0, &woken);
    return woken ? 1 : 0;
}

static void test_hostile(void)
{
    static uint8_t stack[4096] __attribute__((aligned(16)));
    uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack));
    uint64_t good = (uint64_t)(uintptr_t)spin_entry;
    struct {
        const char *what;
        uint64_t entry, stack, tls;
    } bad[] = {
        {"entry in the kernel half", 0xffffffff80100000ull, top, 0},
        {"entry unmapped", 0x10000000ull, top, 0},
        {"entry not executable (the stack)", top - 64, top, 0},
        {"entry 0", 0, top, 0},
        {"stack in the kernel half", good, 0xffff800000010000ull, 0},
        {"stack unmapped", good, 0x300000000000ull, 0},
        {"stack misaligned", good, top - 8, 0},
        {"stack top 0", good, 0, 0},
        {"TLS base in the kernel half", good, top, 0xffff800000000000ull},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = spawn_raw(bad[i].entry, bad[i].stack, bad[i].tls, 0);
        CHECK(rc == CAPNPC_EXCEPTION &&
                  strstr(test_exception_message(), "ThreadSpawner.spawn") != 0,
              "spawn with %s: refused (%s)", bad[i].what, test_exception_message());
    }
    bool woken = true;
    CHECK(park_raw(0x10000000ull, 0, 0, 0) == CAPNPC_EXCEPTION,
          "park on an unmapped address: refused (%s)", test_exception_message());
    CHECK(park_raw(0xffffffff80100000ull, 0, 0, 0) == CAPNPC_EXCEPTION,
          "park on a kernel address: refused (%s)", test_exception_message());
    CHECK(park_raw((uint64_t)(uintptr_t)&parked_word + 1, 0, 0, 0) == CAPNPC_EXCEPTION,
          "park on a misaligned address: refused (%s)", test_exception_message());
    CHECK(park_raw((uint64_t)(uintptr_t)&parked_word, 1, 0, &woken) == CAPNPC_OK && !woken,
          "park when the word differs: returns at once, not woken");
    CHECK(park_raw((uint64_t)(uintptr_t)&parked_word, 0, 1000000, &woken) == CAPNPC_OK && !woken,
          "park with a 1 ms timeout: times out, not woken");
    uint32_t n = 99;
    CHECK(wake_raw(0x10000000ull, UINT32_MAX, &n) == CAPNPC_OK && n == 0,
          "wake with a huge count on an address nobody waits on: 0 woken");
    /* All three parked before the one wake (test_waiter_wait: on two
     * CPUs two yields were not enough, and a parker that came after the
     * wake waited for good). */
    thrd_t t[3];
    static struct test_waiter parked[3];
    bool all_parked = true;
    for (int i = 0; i < 3; i++)
        thrd_create(&t[i], parker, &parked[i]);
    for (int i = 0; i < 3; i++)
        all_parked &= test_waiter_wait(&parked[i]);
    CHECK(all_parked && wake_raw((uint64_t)(uintptr_t)&parked_word, UINT32_MAX, &n) == CAPNPC_OK &&
              n == 3,
          "wake with count 2^32-1 wakes exactly the 3 parked threads (%u)", n);
    if (n != 3)
        return; /* a parker still waits: joining it would never return */
    int all = 0;
    for (int i = 0; i < 3; i++) {
        int r = 0;
        thrd_join(t[i], &r);
        all += r;
    }
    CHECK(all == 3, "each parked thread saw woken = true");
}

/* ---- the thread limit and the quota ---- */

static void test_limits(void)
{
    struct test_usage before, after;
    test_usage(frames, &before);
    uint32_t handles[CAPOS_MAX_THREADS];
    static uint8_t stacks[CAPOS_MAX_THREADS][256] __attribute__((aligned(16)));
    unsigned made = 0;
    int rc = CAPNPC_OK;
    /* The main thread is one of the 64. */
    while (made < CAPOS_MAX_THREADS && rc == CAPNPC_OK) {
        rc = spawn_raw((uint64_t)(uintptr_t)spin_entry,
                       (uint64_t)(uintptr_t)(stacks[made] + sizeof(stacks[made])), 0,
                       &handles[made]);
        if (rc == CAPNPC_OK)
            made++;
    }
    CHECK(made == CAPOS_MAX_THREADS - 1 && rc == CAPNPC_EXCEPTION &&
              strstr(test_exception_message(), "maximum of threads"),
          "thread %u of a process is refused: overloaded (%s)", made + 2, test_exception_message());
    CHECK(test_usage(frames, &after) && after.stacks > before.stacks,
          "their kernel stacks are charged to the process (%lu frames of stacks)", after.stacks);
    (void)handles;
}

/* ---- life and death: a child process per case ---- */

static void kill_child(uint32_t h)
{
    struct timespec ms = {0, 30000000};
    thrd_sleep(&ms, 0);
    uint8_t p[64], r[64];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    ProcessHandle_kill_Results_r kr;
    ProcessHandle_kill_call(&capos_transport, h, &c, &kr);
}

/* Spawn thread-child in `mode`, run meanwhile(handle) if given, and wait
 * for its exit code. */
static int32_t run_child(const char *mode, uint32_t quota, void (*meanwhile)(uint32_t handle))
{
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    char marker[32] = "mode-";
    memcpy(marker + 5, mode, strlen(mode) + 1);
    struct capos_grant g[] = {
        {"console", Console_INTERFACE_ID, console},
        {"timer", Timer_INTERFACE_ID, timer},
        {"threads", ThreadSpawner_INTERFACE_ID, spawner},
        {"threadControl", ThreadControl_INTERFACE_ID, control},
        {"park", ParkSpace_INTERFACE_ID, park},
        {"endpoints", EndpointFactory_INTERFACE_ID, factory},
        {"vm", VirtualMemory_INTERFACE_ID, vm},
        {marker, Timer_INTERFACE_ID, timer},
    };
    int rc;
    uint32_t h = test_spawn_quota(spawner_caps, "thread-child", g, 8, quota, &rc);
    if (!h)
        return INT32_MIN;
    if (meanwhile)
        meanwhile(h);
    int32_t code = test_wait_exit(h);
    capos_release(h);
    return code;
}

/* ---- another process's waiters are out of reach ---- */

static uint32_t isolation_woken, isolation_wakes;

/* While the child parks at TEST_SAME_VA, wake that address of ours again
 * and again with the largest count. */
static void wake_same_va(uint32_t handle)
{
    for (int i = 0; i < 20; i++) {
        struct timespec ms = {0, 10000000};
        thrd_sleep(&ms, 0);
        uint32_t n = 0;
        if (wake_raw(TEST_SAME_VA, UINT32_MAX, &n) == CAPNPC_OK)
            isolation_wakes++;
        isolation_woken += n;
    }
}

static void test_park_isolation(void)
{
    uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    CHECK(test_map_same_va(vm), "a page of ours at the address the other process parks on");
    int32_t code = run_child("park-isolated", 0, wake_same_va);
    CHECK(code == 0 && isolation_wakes == 20 && isolation_woken == 0,
          "20 wakes of the same address from another process woke none of its waiters "
          "(woken %u, child exit %d: 0 timed out, 1 woken)",
          isolation_woken, code);
}

static void test_deaths(void)
{
    static const struct {
        const char *mode;
        bool kill;
        int32_t code;
        const char *what;
    } cases[] = {
        {"exit", false, 7, "exit() while 4 threads block in RECV, park, sleep and join"},
        {"main-exits", false, 9,
         "the main thread's thrd_exit(5), then the last thread's thrd_exit(9)"},
        {"thread-exit", false, 11, "exit(11) from a non-main thread while the others block"},
        {"fault", false, -15, "a page fault in one thread while others block"},
        {"kill", true, killedExitCode, "ProcessHandle.kill while threads block and one spins"},
        {"calls", false, 0, "a thread ends with calls in flight: they are cancelled"},
    };
    struct test_usage base, now;
    test_usage(frames, &base);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t code = run_child(cases[i].mode, 0, cases[i].kill ? kill_child : 0);
        bool usage = test_usage(frames, &now);
        CHECK(code == cases[i].code && usage && now.children == base.children,
              "%s: exit code %d (%d), every frame back (children %lu/%lu)", cases[i].what, code,
              cases[i].code, now.children, base.children);
    }
    int32_t code = run_child("quota", 200, 0);
    CHECK(code == 0, "threads beyond a 200-frame quota are refused: overloaded, no leak (%d)",
          code);
    code = run_child("park-quota", 200, 0);
    CHECK(code == 0,
          "quota used up: a wakeWait that wakes a waiter parks in its record, one that wakes "
          "nobody is refused (child exit %d)",
          code);
}

int main(void)
{
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    spawner = capos_capset_find("threads", ThreadSpawner_INTERFACE_ID, 0);
    control = capos_capset_find("threadControl", ThreadControl_INTERFACE_ID, 0);
    park = capos_capset_find("park", ParkSpace_INTERFACE_ID, 0);
    spawner_caps = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    CHECK(timer && factory && spawner && control && park && spawner_caps && frames,
          "the capabilities of the threads test");
    test_many_calls();
    test_producer_consumer();
    test_mutex_kinds();
    test_cnd_hands_over();
    test_tls();
    test_join_detach();
    test_hostile();
    test_wake_wait();
    test_deaths();
    test_park_isolation();
    test_limits();
    capos_printf("threads: %d failures\n", failures);
    return failures;
}
