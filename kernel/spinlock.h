/*
 * Ticket spinlocks, and the big kernel lock (docs/smp.md).
 *
 * A ticket lock serves CPUs in the order they asked: none can be passed
 * over forever, unlike a test-and-set lock. Kernel code runs with
 * interrupts off, so a lock is never taken by an interrupt handler on a
 * CPU that already holds it (interrupts are masked wherever a lock is
 * held).
 *
 * Every lock has a rank; a CPU takes locks in increasing rank only. Test
 * kernels (CAPOS_TEST_HOOKS) check that at run time: taking a lock of a
 * rank not above every lock the CPU holds, or holding a lock other than
 * the kernel lock at a blocking point, is a panic naming both places.
 */
#ifndef CAPOS_SPINLOCK_H
#define CAPOS_SPINLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/paging.h>

struct spinlock {
    uint32_t next;    /* the ticket the next CPU to ask gets */
    uint32_t serving; /* the ticket that holds the lock */
    uint32_t owner;   /* the holding CPU's index, or LOCK_NO_OWNER (diagnostics, nesting) */
    uint32_t rank;    /* lock order: held locks must all rank lower */
    const char *name;
};

#define LOCK_NO_OWNER UINT32_MAX
#define SPINLOCK_INIT(n, r)                                                                        \
    {                                                                                              \
        .owner = LOCK_NO_OWNER, .rank = (r), .name = (n)                                           \
    }

/* The lock order, outermost first. */
enum lock_rank {
    LOCK_RANK_KERNEL = 10,  /* the big kernel lock: all kernel objects and scheduler state */
    LOCK_RANK_CONSOLE = 90, /* the serial console's output (a leaf) */
};

#define LOCK_STR2(x) #x
#define LOCK_STR(x)  LOCK_STR2(x)
#define LOCK_SITE    __FILE__ ":" LOCK_STR(__LINE__)

void spin_lock_at(struct spinlock *l, const char *site);
void spin_unlock(struct spinlock *l);
#define spin_lock(l) spin_lock_at((l), LOCK_SITE)
/* Whether the running CPU holds l. */
bool spin_held(const struct spinlock *l);

/*
 * The big kernel lock: held by a CPU whenever it runs kernel code, from
 * the entry from user mode (or from an idle halt) to the return, across
 * thread switches on that CPU (the lock belongs to the CPU, not the
 * thread). Every kernel object, the run queues and the frame allocator
 * are guarded by it; docs/smp.md says why that is enough for now.
 */
extern struct spinlock kernel_lock;
extern bool kernel_lock_elided; /* kernel_lock_elide_if_alone */
bool kernel_lock_enter_slow(void);
/* Take it on a kernel entry; false (and nothing done) if this CPU already
 * holds it, as on a fault inside the kernel. Inline: on every entry. */
static inline bool kernel_lock_enter(void)
{
    return kernel_lock_elided || kernel_lock_enter_slow();
}
/* Every way out of the kernel lock (to user mode, to an idle halt) comes
 * here, so this is also where CR3 catches up with the last switch
 * (vmspace_sync): after the unlock, so that the other CPUs need not wait
 * for the TLB refill a CR3 write brings. */
static inline void kernel_lock_leave(void)
{
    if (!kernel_lock_elided)
        spin_unlock(&kernel_lock);
    vmspace_sync();
}
/* Called once, before the scheduler starts: `alone` says no other CPU
 * was started, so the lock may be skipped (never in test kernels). */
void kernel_lock_elide_if_alone(bool alone);

/* Lock checker (test kernels): a blocking point (sched_block, a switch
 * away from a thread) must hold no lock but the kernel lock. */
void lockcheck_blocking_point(const char *site);

/* Test kernels: plant a lock mistake for the checker to report ("order"
 * or "block", from the lockfault= hook). Returns only for an unknown kind. */
void lockcheck_plant(const char *kind, size_t len);

#endif
