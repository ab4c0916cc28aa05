/*
 * QEMU test program: no stale translation survives the unmap that removed
 * it (docs/smp.md, TLB shootdown).
 *
 * A writer thread keeps incrementing a counter in page V. On a machine
 * with several CPUs it runs on another CPU than main, in user mode, so
 * that CPU's TLB holds V's translation. Each round, main stops the writer
 * (it then only polls flags in .bss, never entering the kernel), unmaps
 * V, maps a decoy page first (it gets the frame V just gave back, if the
 * allocator hands that out again) and then V again (a new frame), and
 * lets the writer go on. Its writes must land in the new V: with a stale
 * translation they would go to the old frame, i.e. the decoy, and the new
 * V would stay 0.
 */
#include "capos_rt.h"

#include <threads.h>

#include "testlib.h"

#define PAGE   4096ull
#define V      0x200000000ull
#define DECOY  0x200100000ull
#define ROUNDS 100
#define WRITES 1000
/* A wait spins this long, then sleeps 50 us (so that a writer sharing
 * this CPU runs), at most WAIT_NAPS times: a bound in time, not in the
 * speed of an overloaded host. */
#define SPIN_BATCH 100000
#define WAIT_NAPS  200000

static uint8_t params[256], results[256];
static struct capnpc_call c;
static uint32_t vm;

/* The stop handshake. main asks by clearing go and then bumping
 * stop_asked; the writer answers a request by copying it to stop_seen,
 * in an iteration that found go clear. All sequentially consistent: a
 * writer that has seen the new request reads go after main cleared it,
 * so it increments no more until main sets go again. (A plain "stopped"
 * flag could still hold the previous round's 1 while the writer, having
 * just read go set, was about to write the page main then unmapped.) */
static uint32_t go, quit, stop_asked, stop_seen;

static bool vm_call(int which, uint64_t va)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = which ? VirtualMemory_map_call(&capos_transport, vm, &c, va, 1, true, false, 0)
                   : VirtualMemory_unmap_call(&capos_transport, vm, &c, va, 1, 0);
    return rc == CAPNPC_OK;
}

static int writer(void *arg)
{
    (void)arg;
    volatile uint64_t *v = (volatile uint64_t *)V;
    while (!__atomic_load_n(&quit, __ATOMIC_SEQ_CST)) {
        uint32_t asked = __atomic_load_n(&stop_asked, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&go, __ATOMIC_SEQ_CST))
            (*v)++;
        else
            __atomic_store_n(&stop_seen, asked, __ATOMIC_SEQ_CST);
    }
    return 0;
}

/* Wait until *p reaches n; false if it never does. */
static bool wait_count(volatile uint64_t *p, uint64_t n)
{
    for (unsigned nap = 0; nap < WAIT_NAPS; nap++) {
        for (unsigned i = 0; i < SPIN_BATCH; i++)
            if (*p >= n)
                return true;
        capos_cap_enter(1, 50000);
    }
    return false;
}

/* Stop the writer: true once it writes no more. */
static bool stop_writer(void)
{
    __atomic_store_n(&go, 0, __ATOMIC_SEQ_CST);
    uint32_t asked = __atomic_add_fetch(&stop_asked, 1, __ATOMIC_SEQ_CST);
    for (unsigned nap = 0; nap < WAIT_NAPS; nap++) {
        for (unsigned i = 0; i < SPIN_BATCH; i++)
            if (__atomic_load_n(&stop_seen, __ATOMIC_SEQ_CST) == asked)
                return true;
        capos_cap_enter(1, 50000);
    }
    return false;
}

int main(void)
{
    vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    CHECK(vm != 0, "capset: vm found");
    CHECK(vm_call(1, V), "page V mapped");
    thrd_t w;
    CHECK(thrd_create(&w, writer, 0) == thrd_success, "writer thread started");
    volatile uint64_t *v = (volatile uint64_t *)V, *decoy = (volatile uint64_t *)DECOY;
    unsigned good = 0, stale = 0, stuck = 0;
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    for (unsigned r = 0; r < ROUNDS; r++) {
        /* Fresh writes, so that the writer's CPU has V's translation now
         * (V holds the last round's count already). */
        if (!wait_count(v, *v + WRITES)) {
            stuck++;
            break;
        }
        if (!stop_writer()) {
            stuck++;
            break;
        }
        if (!vm_call(0, V) || !vm_call(1, DECOY) || !vm_call(1, V)) {
            stuck++;
            break;
        }
        __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
        /* The writer's increments must show in the new V, and none may
         * reach the decoy (which may hold V's old frame). */
        bool seen = wait_count(v, WRITES);
        if (seen && *decoy == 0)
            good++;
        else
            stale++;
        if (!stop_writer() || !vm_call(0, DECOY)) {
            stuck++;
            break;
        }
        __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
    thrd_join(w, 0);
    CHECK(stuck == 0, "every round ran (%u stuck)", stuck);
    CHECK(stale == 0 && good == ROUNDS,
          "after %u unmaps of a page another thread kept writing, its writes landed in the page "
          "mapped there afterwards, never in the old frame (%u good, %u stale)",
          ROUNDS, good, stale);
    capos_printf("tlb-shootdown: %d failures\n", failures);
    return failures;
}
