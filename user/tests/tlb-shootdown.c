/*
 * QEMU test program: no stale translation survives the unmap that removed
 * it (docs/smp.md, TLB shootdown).
 *
 * A writer thread keeps incrementing a counter in page V. On a machine
 * with several CPUs it runs on another CPU than main, in user mode, so
 * that CPU's TLB holds V's translation. Each round, main stops the writer
 * (it then only polls a flag in .bss, never entering the kernel), unmaps
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

static volatile uint32_t go, stopped, quit;

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
    while (!quit) {
        if (go) {
            (*v)++;
            stopped = 0;
        } else {
            stopped = 1;
        }
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

static bool wait_stopped(void)
{
    for (unsigned nap = 0; nap < WAIT_NAPS; nap++) {
        for (unsigned i = 0; i < SPIN_BATCH; i++)
            if (stopped)
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
    go = 1;
    for (unsigned r = 0; r < ROUNDS; r++) {
        if (!wait_count(v, WRITES)) {
            stuck++;
            break;
        }
        go = 0;
        if (!wait_stopped()) {
            stuck++;
            break;
        }
        if (!vm_call(0, V) || !vm_call(1, DECOY) || !vm_call(1, V)) {
            stuck++;
            break;
        }
        go = 1;
        /* The writer's increments must show in the new V, and none may
         * reach the decoy (which may hold V's old frame). */
        bool seen = wait_count(v, WRITES);
        if (seen && *decoy == 0)
            good++;
        else
            stale++;
        go = 0;
        if (!wait_stopped() || !vm_call(0, DECOY)) {
            stuck++;
            break;
        }
        go = 1;
    }
    quit = 1;
    thrd_join(w, 0);
    CHECK(stuck == 0, "every round ran (%u stuck)", stuck);
    CHECK(stale == 0 && good == ROUNDS,
          "after %u unmaps of a page another thread kept writing, its writes landed in the page "
          "mapped there afterwards, never in the old frame (%u good, %u stale)",
          ROUNDS, good, stale);
    capos_printf("tlb-shootdown: %d failures\n", failures);
    return failures;
}
