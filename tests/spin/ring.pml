/*
 * SPIN model of the capability ring protocol (lib/kcore/ring.c, docs/abi.md).
 *
 * Scaled down so that the search is exhaustive: a 2-entry SQ, a 4-entry
 * CQ, indices that wrap at 8 instead of 2^32. The arithmetic is the real
 * code's: free-running indices, differences taken modulo the index space
 * (WRAP), slots reached through a mask, corruption meaning "more than N
 * apart" (the index space being more than twice N, as 2^32 is for 16 and
 * 32, a tail behind the head also reads as more than N ahead). Indices
 * start at 5 so that six submissions wrap them.
 *
 * Processes:
 *   kernel: ring_process (bounded work, CQ-full backpressure, handler that
 *           may post, defer or stop) and the later posting of deferred
 *           completions, all under the ring's lock, as in the real kernel;
 *   user:   a well-behaved runtime submitting TOTAL entries and reaping
 *           their completions (default), or
 *   hostile: a process writing arbitrary values to every field it owns
 *           (-DHOSTILE).
 *
 * Each read or write of the shared page is its own step; the kernel's
 * private computation is folded into d_steps. SPIN interleaves steps
 * sequentially consistently; the real code gets the same guarantees for
 * these message-passing patterns from acquire/release (see lib/kcore/ring.c).
 *
 * Checked:
 *   - every SQ and CQ slot index is in bounds (asserted; SPIN also traps
 *     out-of-bounds array indices);
 *   - the kernel never overwrites a CQE userspace has not consumed (ghost
 *     "busy" bit per CQ slot), for the well-behaved producer;
 *   - never drops a completion: a deferred completion always finds its
 *     slot (asserted), every submission completes exactly once (asserted
 *     per completion; liveness claim "done");
 *   - progress: under weak fairness every submission completes (claim
 *     "done"), and, with the hostile producer, the kernel always gets
 *     through ring_process (no non-progress cycle, -DNP);
 *   - invariant "inv": used + reserved <= CQ_N always, whatever the
 *     producer does, so the hostile producer can only hurt itself.
 */

#define IDX 8 /* index space (2^32 in the real code) */
#define WRAP(x) ((x) & (IDX - 1))
#define SQ_N 2
#define SQ_MASK (SQ_N - 1)
#define CQ_N 4
#define CQ_MASK (CQ_N - 1)
#define MAXWORK 2 /* the kernel passes max_entries = SQ size */
#define INIT 5
#define TOTAL 6

/*
 * The hostile producer may write any value to sq_tail, cq_head and the SQ
 * slots at any moment. The kernel reads each of them once per use and
 * never reads them back, so that is the same as each kernel read returning
 * an arbitrary value: the model does exactly that (a nondeterministic
 * select) instead of running a scribbling process, which keeps the search
 * small. The values carried in entries do not matter to the kernel and are
 * not modelled in that mode.
 */
#ifdef HOSTILE
#define READ_SQ_TAIL(x) select(x : 0 .. IDX - 1); x = x /* (no jump into the d_step) */
#define READ_CQ_HEAD(x) select(x : 0 .. IDX - 1); x = x
#define WELL_BEHAVED(stmt) skip
#else
#define READ_SQ_TAIL(x) x = sq_tail
#define READ_CQ_HEAD(x) x = cq_head
#define WELL_BEHAVED(stmt) stmt
#endif

/* The ring page. */
byte sq_head = INIT; /* kernel-written */
byte cq_tail = INIT; /* kernel-written */
byte sq_tail = INIT; /* user-written */
byte cq_head = INIT; /* user-written */
byte sq[SQ_N];
byte cq[CQ_N];

/* struct ring_state: the kernel's private copies. */
byte k_sq_head = INIT;
byte k_cq_tail = INIT;
byte k_cq_head = INIT;
byte k_res = 0;

#ifndef HOSTILE
/* Deferred SQEs waiting for their answer (ids, FIFO). */
byte dq[CQ_N];
byte dq_h = 0;
byte dq_n = 0;

/* Ghosts for the checks. */
bit cq_busy[CQ_N]; /* posted and not yet consumed */
byte received = 0; /* completions consumed by the user */
byte stops = 0;    /* RING_STOP answers so far (bounded: see below) */
#endif

#define USED WRAP(k_cq_tail - k_cq_head)
#define INV (USED + k_res <= CQ_N)

ltl inv { [] INV }
#ifndef HOSTILE
ltl done { <> (received == TOTAL) }
#endif

/* ring_cq_ready: read cq_head once; accept it only inside
 * [last accepted head, kernel tail], else treat the CQ as empty. */
inline cq_ready()
{
#ifdef HOSTILE
    READ_CQ_HEAD(h);
#endif
    d_step {
#ifndef HOSTILE
        READ_CQ_HEAD(h); /* acquire, once; the rest is private */
#endif
        if
        :: WRAP(h - k_cq_head) <= WRAP(k_cq_tail - k_cq_head) ->
            k_cq_head = h; fix = 0
        :: else ->
            k_cq_head = h; k_cq_tail = h; fix = 1
        fi;
        h = 0
    }
    if
    :: fix ->
        WELL_BEHAVED(assert(false)); /* a well-behaved producer never trips this */
        cq_tail = k_cq_tail; /* CAPOS_RING_CQ_CORRUPT is raised here */
        fix = 0
    :: else
    fi
}

/* cq_write: the entry first, then the release store of cq_tail. */
inline post(v)
{
    d_step {
        slot = k_cq_tail & CQ_MASK;
        assert(slot < CQ_N);
        WELL_BEHAVED(assert(!cq_busy[slot])); /* never overwrite an unconsumed CQE */
        WELL_BEHAVED(cq[slot] = v);
        WELL_BEHAVED(cq_busy[slot] = 1);
        k_cq_tail = WRAP(k_cq_tail + 1);
        slot = 0;
        v = 0
    }
    cq_tail = k_cq_tail /* release */
}

/* ring_process(r, st, max, handler). */
inline ring_process()
{
#ifdef HOSTILE
    READ_SQ_TAIL(tail);
#endif
    d_step {
#ifndef HOSTILE
        READ_SQ_TAIL(tail); /* acquire, once */
#endif
        n = WRAP(tail - k_sq_head);
        if
        :: n > SQ_N -> k_sq_head = tail; n = 0; fix = 1
        :: else -> fix = 0
        fi;
        if
        :: n < max -> todo = n
        :: else -> todo = max
        fi;
        head = k_sq_head;
        tail = 0; n = 0; max = 0; i = 0
    }
    if
    :: fix ->
        WELL_BEHAVED(assert(false));
        sq_head = k_sq_head; /* CAPOS_RING_SQ_CORRUPT is raised here */
        fix = 0
    :: else
    fi;
    do
    :: i < todo ->
        if
        :: USED + k_res >= CQ_N ->
            cq_ready();
            if
            :: USED + k_res >= CQ_N -> break /* CAPOS_RING_CQ_FULL; the SQEs stay */
            :: else
            fi
        :: else
        fi;
        d_step {
            slot = head & SQ_MASK;
            assert(slot < SQ_N);
            WELL_BEHAVED(v = sq[slot]); /* the one copy; everything below uses v */
            head = WRAP(head + 1);
            slot = 0
        }
        /* The handler. Its slot is reserved while it runs. */
        k_res++;
        if
        :: k_res--; post(v) /* RING_POST */
        :: WELL_BEHAVED(d_step { dq[(dq_h + dq_n) & CQ_MASK] = v; dq_n++; v = 0 }) /* RING_DEFER */
#ifdef HOSTILE
        :: k_res--; head = WRAP(head - 1); break /* RING_STOP */
#else
        :: stops < 1 -> /* RING_STOP; bounded, or the kernel could stop forever */
            k_res--; stops++; v = 0; head = WRAP(head - 1); break
#endif
        fi;
        i++
    :: else -> break
    od;
    if
    :: head != k_sq_head ->
        d_step { k_sq_head = head; idle = 0 }
        sq_head = head /* release, once per batch */
    :: else -> idle = 1 /* consumed nothing */
    fi;
    d_step { todo = 0; head = 0; i = 0 } /* dead values only multiply states */
}

/* ring_post_reserved: the answer to a deferred SQE arrived. */
inline post_reserved()
{
    k_res--;
    cq_ready();
    assert(USED + k_res < CQ_N); /* a reserved completion always has a slot */
    WELL_BEHAVED(d_step { v = dq[dq_h]; dq_h = (dq_h + 1) & CQ_MASK; dq_n-- });
    post(v)
}

active proctype kernel()
{
    byte tail, n, todo, head, i, h, v, slot, max;
    bit fix, idle;
    do
    :: k_res > 0 -> post_reserved(); idle = 0
    :: !(idle && k_res > 0) -> /* an idle kernel waits for deferred answers */
        if
        :: max = 1
        :: max = MAXWORK
        fi;
        ring_process();
progress_kernel:
        skip
    od
}

#ifndef HOSTILE
/*
 * The runtime: submit TOTAL entries with ids 0..TOTAL-1 and reap them all.
 * Each guard is one read of the kernel's index (acquire in the real code);
 * when neither is true the runtime waits, as it would in cap_enter. It
 * may submit several entries before reaping any, so the CQ can fill.
 */
active proctype user()
{
    byte u_tail = INIT, u_head = INIT, next = 0, v;
    short seen = 0;
    do
    :: next < TOTAL && WRAP(u_tail - sq_head) < SQ_N ->
        sq[u_tail & SQ_MASK] = next;
        d_step { next++; u_tail = WRAP(u_tail + 1) }
        sq_tail = u_tail /* release */
    :: cq_tail != u_head ->
        d_step {
            v = cq[u_head & CQ_MASK];
            assert(cq_busy[u_head & CQ_MASK]);
            cq_busy[u_head & CQ_MASK] = 0;
            cq[u_head & CQ_MASK] = 0; /* (model only: forget consumed values) */
            assert(v < TOTAL && !((seen >> v) & 1)); /* exactly once */
            seen = seen | (1 << v);
            received++;
            u_head = WRAP(u_head + 1);
            v = 0
        }
        cq_head = u_head /* release */
    :: received == TOTAL -> break
    od;
    assert(seen == (1 << TOTAL) - 1)
}
#endif
