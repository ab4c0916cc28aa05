/* Ticket spinlocks, the big kernel lock, and the lock checker. */
#include "spinlock.h"
#include "hotpath.h"

#include <arch/cpu.h>
#include <arch/tlb.h>

#include "kprintf.h"
#include "percpu.h"
#include "sched.h"
#include "string.h"
#include <arch/platform.h>

#include "test_hooks.h"

HOT_DATA struct spinlock kernel_lock = SPINLOCK_INIT("kernel", LOCK_RANK_KERNEL);

/* The checker's record of what this CPU holds. Checked before spinning, so
 * that an order violation is reported even when it would not deadlock this
 * time. */
static void check_acquire(struct percpu *c, const struct spinlock *l, const char *site)
{
    for (uint32_t i = 0; i < c->nheld; i++) {
        const struct spinlock *h = c->held[i].lock;
        if (h == l)
            panic("lock checker: CPU %u takes lock '%s' at %s while already holding it "
                  "(taken at %s)",
                  c->arch.cpu, l->name, site, c->held[i].site);
        if (h->rank >= l->rank)
            panic("lock checker: lock order violated on CPU %u: '%s' (rank %u) taken at %s "
                  "while holding '%s' (rank %u) taken at %s",
                  c->arch.cpu, l->name, l->rank, site, h->name, h->rank, c->held[i].site);
    }
    if (c->nheld == LOCKCHECK_DEPTH)
        panic("lock checker: CPU %u holds %u locks at %s", c->arch.cpu, c->nheld, site);
}

static void record_release(struct percpu *c, const struct spinlock *l)
{
    for (uint32_t i = c->nheld; i-- > 0;) {
        if (c->held[i].lock == l) {
            for (uint32_t j = i; j + 1 < c->nheld; j++)
                c->held[j] = c->held[j + 1];
            c->nheld--;
            return;
        }
    }
    panic("lock checker: CPU %u releases lock '%s', which it does not hold", c->arch.cpu, l->name);
}

void spin_lock_at(struct spinlock *l, const char *site)
{
    struct percpu *c = percpu_this();
    if (CAPOS_TEST_HOOKS)
        check_acquire(c, l, site);
    uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    /* Acquire: what the previous holder wrote is visible once our turn
     * comes. A CPU spinning here has interrupts off, so it answers TLB
     * shootdown requests itself: the holder may be waiting for it. */
    while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
        cpu_pause();
        arch_tlb_service();
    }
    l->owner = c->arch.cpu;
    if (CAPOS_TEST_HOOKS) {
        c->held[c->nheld].lock = l;
        c->held[c->nheld].site = site;
        c->nheld++;
    }
}

void spin_unlock(struct spinlock *l)
{
    if (CAPOS_TEST_HOOKS)
        record_release(percpu_this(), l);
    l->owner = LOCK_NO_OWNER;
    /* Release: everything done under the lock is visible to the next
     * holder before it sees its ticket served. Only the holder writes
     * `serving`, so a plain read of it is exact. */
    __atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

bool spin_held(const struct spinlock *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == cpu_index();
}

/* On a machine with one CPU the kernel lock guards nothing: no other CPU
 * can ever take it (only CPUs started at boot join, and there are none).
 * Release kernels then skip it, which keeps the single-CPU paths as short
 * as before SMP (docs/smp.md); test kernels always take it, so that the
 * checker sees every path. */
HOT_DATA bool kernel_lock_elided;

void kernel_lock_elide_if_alone(bool alone)
{
    kernel_lock_elided = alone && !CAPOS_TEST_HOOKS;
}

bool kernel_lock_enter_slow(void)
{
    if (spin_held(&kernel_lock))
        return false;
    spin_lock(&kernel_lock);
    return true;
}

/* A lock of its own for lockcheck_plant, ranked between the two real ones. */
static struct spinlock planted = SPINLOCK_INIT("planted", 50);

void lockcheck_plant(const char *kind, size_t len)
{
    kprintf("lock checker: planting a '%.*s' mistake\n", (int)len, kind);
    /* Interrupts off, as everywhere locks are held: a timer interrupt
     * would take the kernel lock under `planted` and be reported first. */
    arch_interrupts_disable();
    if (len == 5 && !strncmp(kind, "order", 5)) {
        spin_lock(&planted);
        spin_lock(&kernel_lock); /* rank 10 under rank 50: reported here */
    } else if (len == 5 && !strncmp(kind, "block", 5)) {
        spin_lock(&planted);
        sched_block(arch_clock_ns() + 1000000); /* reported at its blocking point */
    }
    kprintf("lock checker: unknown lockfault '%.*s' (expected order or block)\n", (int)len, kind);
}

void lockcheck_blocking_point(const char *site)
{
    if (!CAPOS_TEST_HOOKS)
        return;
    struct percpu *c = percpu_this();
    for (uint32_t i = 0; i < c->nheld; i++)
        if (c->held[i].lock != &kernel_lock)
            panic("lock checker: CPU %u reaches a blocking point at %s holding lock '%s' "
                  "taken at %s",
                  c->arch.cpu, site, c->held[i].lock->name, c->held[i].site);
}
