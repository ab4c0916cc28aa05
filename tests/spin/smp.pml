/*
 * SPIN models of the SMP protocols of the big-kernel-lock kernel
 * (docs/smp.md; explained, with the state counts, in docs/smp-model.md).
 *
 * Two models share this file; the preprocessor picks one:
 *
 *   (default)  WAKE: cross-CPU wake-up. Two CPUs, three threads (-DNT=2:
 *              two), per-CPU FIFO run queues under the BKL, the idle loop
 *              with its atomic `sti; hlt`, reschedule IPIs latched in the
 *              local APIC.
 *   -DTLB      TLB shootdown. Three CPUs, one page of one address space
 *              (A), a TLB entry per CPU, the active-CPU mask, pending bits,
 *              shootdown IPIs, the lock's spin loop servicing shootdowns,
 *              the CR3 write deferred from the switch to the way out.
 *
 * Common to both:
 *
 *   - One process per CPU; each CPU's kernel code, interrupt handlers and
 *     user-mode code are steps of that process. Interrupts are taken only
 *     where IF = 1 (user mode, halted), and there an interrupt latched in
 *     the APIC is taken before anything else the CPU could do (the guard
 *     of every other user-mode step is "no interrupt pending"), as the
 *     hardware takes it at the next instruction boundary.
 *   - A latched IPI is one bit per CPU: IPIs sent while one is pending
 *     merge into it; it stays latched while the CPU has IF = 0.
 *   - The BKL is a ticket lock (next_ticket, serving), tickets modulo the
 *     number of CPUs (at most that many are outstanding). "owner" is a
 *     ghost that checks mutual exclusion.
 *
 * Mutations (each removes one essential step; the check must then FAIL,
 * which the suite checks too, so that the model cannot pass vacuously):
 *
 *   WAKE  -DNO_IPI          the waker does not send the reschedule IPI to
 *                           the idle target CPU
 *         -DSPLIT_STI_HLT   `sti` and `hlt` are not one atomic step: the
 *                           wake-up IPI can be taken between them, and the
 *                           CPU then halts with nothing pending
 *   TLB   -DNO_SPIN_FLUSH   the BKL's spin loop does not service shootdown
 *                           requests (a CPU spinning there has IF = 0)
 *         -DNO_WAIT         the sender does not wait for the pending bits
 *                           to clear before it frees the frame
 *         -DIPI_FIRST       the sender sends the IPI before setting the
 *                           pending bit (instead of after)
 *         -DNO_DEFER_MASK   a switch away from A clears A's CPU-set bit at
 *                           once, while CR3 (written only on the way out)
 *                           still holds A
 */

#define NONE 255

byte next_ticket = 0;
byte serving = 0;
byte owner = NONE; /* ghost: the CPU holding the BKL */

/* ---------------------------------------------------------------------- */
#ifndef TLB
/* WAKE */

#define NCPU 2
#ifndef NT
#define NT 3 /* threads */
#endif
#define IDLE NT /* cur[c] == IDLE: CPU c runs its idle thread */
#define BLOCKED 0
#define QUEUED 1
#define RUNNING 2
#define OTHER (1 - me) /* the other CPU */

byte cur[NCPU] = IDLE; /* under the BKL: the thread CPU c runs (IDLE: idle) */
byte qa[NCPU * NT];    /* under the BKL: CPU c's FIFO run queue, qa[c*NT ..] */
byte qn[NCPU];         /* under the BKL: its length */
byte st[NT];           /* under the BKL: BLOCKED, QUEUED, RUNNING */
byte last[NT];         /* under the BKL: the CPU a thread last ran on */
bit sig[NT];           /* under the BKL: a wake-up that found the thread awake */
bit ipi[NCPU];         /* reschedule IPI latched in CPU c's local APIC */
bit halted[NCPU];      /* ghost: CPU c is halted in `hlt` */

#define STUCK(c) (halted[c] && qn[c] != 0)
#define RUNS(th) (st[th] == QUEUED -> <> (st[th] == RUNNING))

/*
 * Liveness, under weak fairness: every queued thread eventually runs, and
 * no CPU stays halted forever with a non-empty run queue.
 */
ltl nolost {
    [] RUNS(0) && [] RUNS(1) &&
#if NT > 2
    [] RUNS(2) &&
#endif
    [] <> !STUCK(0) && [] <> !STUCK(1)
}

inline lock()
{
    atomic { t = next_ticket; next_ticket = (next_ticket + 1) % NCPU }
    d_step { serving == t -> assert(owner == NONE); owner = me; t = 0 }
}

inline unlock()
{
    d_step { assert(owner == me); owner = NONE; serving = (serving + 1) % NCPU }
}

inline enqueue(c, th)
{
    assert(qn[c] < NT);
    qa[c * NT + qn[c]] = th;
    qn[c]++;
    st[th] = QUEUED
}

/* Take the head of CPU c's queue into x. */
inline dequeue(c)
{
    d_step {
        assert(qn[c] > 0);
        x = qa[c * NT];
        i = 0;
        do
        :: i < NT - 1 -> qa[c * NT + i] = qa[c * NT + i + 1]; i++
        :: else -> break
        od;
        qa[c * NT + NT - 1] = 0; /* (model only: forget dead slots) */
        qn[c]--;
        i = 0
    }
}

/*
 * The waker (holding the BKL): make thread o runnable. Target: its last
 * CPU if idle, else any idle CPU, else its last CPU. With two CPUs and the
 * waker running here (so this CPU is not idle), "any idle CPU" is the
 * other CPU if it is idle.
 */
inline wake(o)
{
    d_step {
        if
        :: st[o] == BLOCKED ->
            if
            :: cur[last[o]] == IDLE -> tgt = last[o]
            :: cur[last[o]] != IDLE && cur[OTHER] == IDLE -> tgt = OTHER
            :: else -> tgt = last[o]
            fi;
            enqueue(tgt, o)
        :: else ->
            sig[o] = 1; tgt = NONE
        fi;
        o = 0
    }
    /* ESSENTIAL STEP (mutation NO_IPI removes it): reschedule IPI to an
     * idle target CPU other than this one. */
#ifndef NO_IPI
    if
    :: tgt != NONE && tgt != me && cur[tgt] == IDLE -> ipi[tgt] = 1
    :: else
    fi;
#endif
    tgt = 0
}

/* The reschedule IPI's handler: kernel entry (BKL), ack, return. */
inline rsched_irq()
{
    lock();
    ipi[me] = 0;
    unlock()
}

/* A switch, holding the BKL (load_space): it names the next thread's
 * space; CR3 is written later (sync). */
inline switch_spaces()
{
    d_step {
        if
        :: named[me] ->
            named[me] = 0;
#ifdef NO_DEFER_MASK
            mask[me] = 0
#else
            /* ESSENTIAL STEP (mutation NO_DEFER_MASK clears the bit at
             * once): the bit stays while CR3 still holds A, which it does
             * until the sync; only a space named and left again before
             * any sync (never in CR3) loses it here. */
            if
            :: !cr3[me] -> mask[me] = 0
            :: else
            fi
#endif
        :: else -> named[me] = 1; mask[me] = 1
        fi
    }
}

/* The way out, after the unlock (IF = 0; vmspace_sync): CR3 catches up
 * with the named space (the write drops every translation), then the
 * bit of a space CR3 no longer holds is cleared. */
inline sync()
{
    if
    :: cr3[me] != named[me] ->
        d_step { cr3[me] = named[me]; tlb[me] = 0 };
        if
        :: !cr3[me] -> mask[me] = 0
        :: else
        fi
    :: else
    fi
}

active [NCPU] proctype cpu()
{
    byte me = _pid;
    byte t, x, o, i, tgt;

    assert(me < NCPU);
    /* CPU 0 runs thread 0, CPU 1 is idle; the other threads are blocked
     * and last ran on CPU 1. */
    if
    :: me == 0 -> d_step { cur[0] = 0; st[0] = RUNNING; last[0] = 0 } goto user
    :: else ->
        d_step {
            cur[me] = IDLE;
            i = 1;
            do
            :: i < NT -> last[i] = 1; i++
            :: else -> i = 0; break
            od
        }
        goto idle
    fi;

idle: /* the idle thread, IF = 0, not holding the BKL */
    lock();
idle_loop: /* holding the BKL, cur[me] == IDLE */
    if
    :: qn[me] != 0 -> dequeue(me); goto dispatch
    :: qn[me] == 0 && qn[OTHER] != 0 -> dequeue(OTHER); goto dispatch /* steal */
    :: else ->
        unlock();
#ifdef SPLIT_STI_HLT
        /* MUTATION: `sti`, then an instruction boundary at which the
         * latched IPI is taken, then `hlt`. */
        if
        :: ipi[me] -> rsched_irq()
        :: else
        fi;
        halted[me] = 1;
#else
        /* ESSENTIAL STEP (mutation SPLIT_STI_HLT splits it): `sti; hlt` as
         * one step: an IPI already latched ends the halt at once. */
        halted[me] = 1;
#endif
end_halted:
        ipi[me]; /* an interrupt ends the halt (there is no tick while idle) */
        halted[me] = 0;
        rsched_irq();
        /* cli */
        goto idle
    fi;

dispatch: /* holding the BKL; x is the thread to run */
    atomic {
        assert(x < NT && st[x] == QUEUED && cur[me] == IDLE);
        cur[me] = x; st[x] = RUNNING; last[x] = me; x = 0
    }
    unlock();
    /* the window back to user mode, IF = 0: a latched IPI waits */
user: /* IF = 1; cur[me] is a thread */
    if
    :: ipi[me] -> /* interrupt from user mode */
        lock();
        ipi[me] = 0
    :: !ipi[me] -> /* system call: wake another thread */
        lock();
        if
        :: o = (cur[me] + 1) % NT
#if NT > 2
        :: o = (cur[me] + 2) % NT
#endif
        fi;
        wake(o)
    :: !ipi[me] -> /* system call: wait for a wake-up */
        lock();
        if
        :: sig[cur[me]] -> sig[cur[me]] = 0
        :: else ->
            d_step { st[cur[me]] = BLOCKED; cur[me] = IDLE }
            goto idle_loop
        fi
    fi;
    /* Return to user mode. The thread's slice ends if others wait here
     * (the timer tick, which runs while threads do, abstracted: every
     * kernel exit is a possible end of slice). FIFO: the queue's head
     * runs, this thread goes behind. */
    if
    :: qn[me] != 0 ->
        dequeue(me);
        d_step { enqueue(me, cur[me]); cur[me] = IDLE }
        goto dispatch
    :: else ->
        unlock();
        goto user
    fi
}

/*
 * When nothing can move any more (every CPU halted with nothing latched),
 * no run queue may hold a thread.
 */
active proctype watchdog()
{
    timeout -> assert(qn[0] == 0 && qn[1] == 0)
}

/* ---------------------------------------------------------------------- */
#else
/* TLB */

#define NCPU 3

bit mask[NCPU] = 1; /* A's CPU set (vmspace.cpus): CPU c names A or its CR3
                    * still holds A (everyone starts in A) */
bit named[NCPU] = 1; /* CPU c's running thread is in A (arch_percpu.loaded) */
bit cr3[NCPU] = 1;   /* CPU c's CR3 holds A (arch_percpu.in_cr3): it follows
                      * `named` only on the way out of the kernel */
bit tlb[NCPU];   /* CPU c's TLB holds the page's translation */
bit pend[NCPU];  /* shootdown request pending for CPU c */
bit ipi[NCPU];   /* shootdown IPI latched in CPU c's local APIC */
bit mapped = 1;  /* the page's PTE is present */
bit freed = 0;   /* the frame it mapped has been freed */
bit waiting = 0; /* a sender waits for the pending bits to clear */

/* Liveness, under weak fairness: a sender always finishes. */
ltl done { [] (waiting -> <> !waiting) }

/* The flush a receiver does for a pending request: invlpg, then clear. */
#define SERVICE d_step { pend[me] -> tlb[me] = 0; pend[me] = 0 }

inline lock()
{
    atomic { t = next_ticket; next_ticket = (next_ticket + 1) % NCPU }
    do
    :: d_step { serving == t -> assert(owner == NONE); owner = me; t = 0 }
        break
#ifndef NO_SPIN_FLUSH
    /* ESSENTIAL STEP (mutation NO_SPIN_FLUSH removes it): the spin loop
     * services a pending shootdown (IF = 0 here: the IPI waits). */
    :: SERVICE
#endif
    od
}

inline unlock()
{
    d_step { assert(owner == me); owner = NONE; serving = (serving + 1) % NCPU }
}

/* The shootdown IPI's handler: no BKL. */
inline shootdown_irq()
{
    d_step {
        ipi[me] = 0;
        if
        :: pend[me] -> tlb[me] = 0; pend[me] = 0
        :: else
        fi
    }
}

/* Holding the BKL: unmap the page, shoot it down, free the frame. */
inline unmap()
{
    d_step { mapped = 0; tlb[me] = 0 } /* clear the PTE; local invlpg */
    c = 0;
    do
    :: c < NCPU ->
        if
        :: c != me && mask[c] ->
#ifdef IPI_FIRST
            ipi[c] = 1;
            pend[c] = 1
#else
            /* ESSENTIAL STEP (mutation IPI_FIRST swaps them): the pending
             * bit is set before the IPI is sent. */
            pend[c] = 1;
            ipi[c] = 1
#endif
        :: else
        fi;
        c++
    :: else -> c = 0; break
    od;
#ifndef NO_WAIT
    /* ESSENTIAL STEP (mutation NO_WAIT removes it): spin until every
     * pending bit is clear. */
    waiting = 1;
    (pend[0] + pend[1] + pend[2] == 0); /* (NCPU == 3) */
    waiting = 0;
#endif
    atomic {
        /* the call returns: no CPU holds the translation; free the frame */
        assert(!tlb[0] && !tlb[1] && !tlb[2]);
        freed = 1
    }
}

/* A switch, holding the BKL (load_space): it names the next thread's
 * space; CR3 is written later (sync). */
inline switch_spaces()
{
    d_step {
        if
        :: named[me] ->
            named[me] = 0;
#ifdef NO_DEFER_MASK
            mask[me] = 0
#else
            /* ESSENTIAL STEP (mutation NO_DEFER_MASK clears the bit at
             * once): the bit stays while CR3 still holds A, which it does
             * until the sync; only a space named and left again before
             * any sync (never in CR3) loses it here. */
            if
            :: !cr3[me] -> mask[me] = 0
            :: else
            fi
#endif
        :: else -> named[me] = 1; mask[me] = 1
        fi
    }
}

/* The way out, after the unlock (IF = 0; vmspace_sync): CR3 catches up
 * with the named space (the write drops every translation), then the
 * bit of a space CR3 no longer holds is cleared. */
inline sync()
{
    if
    :: cr3[me] != named[me] ->
        d_step { cr3[me] = named[me]; tlb[me] = 0 };
        if
        :: !cr3[me] -> mask[me] = 0
        :: else
        fi
    :: else
    fi
}

active [NCPU] proctype cpu()
{
    byte me = _pid;
    byte t, c;

    assert(me < NCPU);

user: /* IF = 1 */
    do
    :: ipi[me] -> shootdown_irq()
    :: !ipi[me] && tlb[me] -> assert(!freed) /* use the translation */
    :: !ipi[me] && cr3[me] && mapped && !tlb[me] -> tlb[me] = 1 /* page walk */
    :: !ipi[me] -> break /* system call, or another interrupt */
    od;

kernel: /* IF = 0 */
    lock();
    if
    :: mapped -> unmap()
    :: !mapped -> d_step { mapped = 1; freed = 0 } /* map a new frame */
    :: switch_spaces()
    /* a speculative page walk: through whatever CR3 holds, even after a
     * switch has named another space */
    :: cr3[me] && mapped && !tlb[me] -> tlb[me] = 1
    :: skip
    fi;
    unlock();
    sync();
    if
    :: goto user /* the window back to user mode (IF = 0) */
    :: skip
    fi;

    /* idle: `sti; hlt`, one step */
end_halted:
    if
    :: ipi[me] -> shootdown_irq()
    :: true /* another interrupt (timer, reschedule) */
    fi;
    /* cli */
    goto kernel
}

#endif
