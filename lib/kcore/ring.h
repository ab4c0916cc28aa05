/*
 * The kernel side of the capability ring (include/capos/ring.h,
 * docs/abi.md): pure functions over the shared page, which a hostile
 * process can rewrite at any moment, and a small kernel-private state.
 *
 * The kernel's own copies of sq_head and cq_tail live in struct ring_state
 * and are the only ones it believes; it writes them out to the page for
 * userspace to see and never reads them back. From the page it reads only
 * sq_tail, cq_head and SQE slots, each once, and validates what it read.
 *
 * Invariants, after every call (checked by the tests):
 *   - st->cq_tail - st->cq_head + st->cq_reserved <= CAPOS_CQ_ENTRIES, so
 *     at most 32 CQEs are ever outstanding, counting promised ones;
 *   - a deferred completion always finds a free CQ slot;
 *   - no CQE is overwritten before userspace consumed it, unless userspace
 *     itself corrupted cq_head;
 *   - SQ slots are read only through masked indices.
 *
 * The functions are not reentrant for one ring, and they take no lock.
 * What keeps two of them off one ring at once is that the kernel has one
 * CPU and is not preemptible: it runs with interrupts off (except in the
 * idle loop), and the timer polls a ring only when it interrupted user
 * mode (kernel/sched.h, ring_poll_irq). A kernel on several CPUs would need
 * a lock per ring around every call.
 */
#ifndef CAPOS_LIB_RING_H
#define CAPOS_LIB_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <capos/ring.h>

struct ring_state {
    uint32_t sq_head;       /* next SQE to consume */
    uint32_t cq_tail;       /* next CQ slot to fill */
    uint32_t cq_head;       /* last cq_head accepted from userspace */
    uint32_t cq_reserved;   /* CQ slots promised to deferred completions */
    uint32_t cq_full_count; /* times SQEs were left because the CQ was full */
};

/*
 * CQ slots kept for control opcodes (RELEASE, CANCEL: ring_opdef.control):
 * other SQEs are left queued (CAPOS_RING_CQ_FULL) once fewer than this
 * many plus one slots are free, so that a process whose CQ is full of
 * pending calls (say, long Timer.sleeps) can always release a capability
 * or cancel one of them. Two: a RELEASE and a CANCEL.
 */
#define RING_CONTROL_SLOTS CAPOS_CQ_CONTROL_SLOTS

/* What a handler wants done with the SQE it was given. */
enum ring_action {
    RING_POST,  /* post *cqe now */
    RING_DEFER, /* completes later through ring_post_reserved (a CQ slot is reserved) */
    RING_STOP,  /* not now: leave this SQE queued and stop (e.g. a CALL in IRQ context) */
};

/*
 * Called for every valid SQE except NOP (which the ring completes itself).
 * sqe is the kernel's private copy, already checked by ring_check_sqe.
 * cqe is pre-filled: user_data echoed, everything else 0; user_data is
 * echoed whatever the handler writes there. A CQ slot is reserved for this
 * SQE while the handler runs, so it may post other completions on the same
 * ring (ring_post_cqe, ring_post_reserved) without taking that slot. It
 * must not call ring_process.
 */
typedef enum ring_action (*ring_handler)(void *ctx, const struct capos_sqe *sqe,
                                         struct capos_cqe *cqe);

struct ring_counts {
    uint32_t consumed; /* SQEs taken off the SQ */
    uint32_t posted;   /* CQEs written by this call */
    uint32_t invalid;  /* of them, error CQEs for SQEs that failed validation */
    uint32_t deferred; /* SQEs whose completion was deferred */
    uint32_t left;     /* SQEs still queued when the call returned */
    uint32_t events;   /* CAPOS_RING_* conditions met by this call */
};

/* Start a ring: zero state, and the kernel-written header of the page. */
void ring_init(volatile struct capos_ring *r, struct ring_state *st);

/*
 * SQEs waiting, 0..CAPOS_SQ_ENTRIES. A sq_tail more than 16 ahead of the
 * kernel's head (or behind it) is corruption: everything queued is
 * discarded, CAPOS_RING_SQ_CORRUPT is set in the page and in *events, and
 * 0 is returned.
 */
uint32_t ring_sq_pending(volatile struct capos_ring *r, struct ring_state *st, uint32_t *events);

/*
 * CQEs posted and not yet consumed by userspace. A cq_head outside
 * [last accepted head, cq_tail] is corruption: the CQ is treated as empty
 * (the kernel's tail moves to userspace's head), CAPOS_RING_CQ_CORRUPT is
 * set in the page and in *events. This is what cap_enter returns.
 */
/* Inline: cap_enter asks twice per round trip (before it waits, after it
 * wakes), and the call costs as much as the check. */
uint32_t ring_cq_corrupt(volatile struct capos_ring *r, struct ring_state *st, uint32_t head,
                         uint32_t *events); /* the corrupt case, out of line */
static inline uint32_t ring_cq_ready(volatile struct capos_ring *r, struct ring_state *st,
                                     uint32_t *events)
{
    /* Acquire: pairs with userspace's release store of cq_head; its reads of
     * the CQEs it consumed happen before we overwrite those slots. */
    uint32_t head = __atomic_load_n(&r->cq_head, __ATOMIC_ACQUIRE);
    /* Userspace can only consume what we posted and cannot un-consume:
     * head must lie in [last accepted head, our tail]. This keeps the
     * outstanding count from ever growing behind our back, which is what
     * makes a reserved slot a guaranteed slot. */
    if (__builtin_expect(head - st->cq_head <= st->cq_tail - st->cq_head, 1)) {
        st->cq_head = head;
        return st->cq_tail - head;
    }
    return ring_cq_corrupt(r, st, head, events);
}

/* CQ slots free for new completions (excluding reserved ones). */
uint32_t ring_cq_space(volatile struct capos_ring *r, struct ring_state *st, uint32_t *events);

/* Copy SQ slot (index & mask) into *out, reading each word of the page once. */
void ring_fetch_sqe(const volatile struct capos_ring *r, uint32_t index, struct capos_sqe *out);

/* 0 if the copy is a well-formed SQE, else the CAPOS_E_* its CQE carries. */
int32_t ring_check_sqe(const struct capos_sqe *sqe);

/* Post one CQE if a free slot exists; false (nothing written) if full. */
bool ring_post_cqe(volatile struct capos_ring *r, struct ring_state *st,
                   const struct capos_cqe *cqe);

/*
 * Post the completion of a deferred SQE into its reserved slot. Cannot
 * fail while a reservation is held; false only if none is (a kernel bug).
 */
bool ring_post_reserved(volatile struct capos_ring *r, struct ring_state *st,
                        const struct capos_cqe *cqe);

/* Give back a reservation whose completion will never be posted. */
void ring_cancel_reserved(struct ring_state *st);

/*
 * Consume up to max SQEs: NOPs complete here, invalid SQEs get an error CQE,
 * the rest go to handler. Stops early when the CQ has no free slot (sets
 * CAPOS_RING_CQ_FULL; the SQEs stay queued) or when the handler says
 * RING_STOP. sq_head is published once, at the end.
 */
struct ring_counts ring_process(volatile struct capos_ring *r, struct ring_state *st, uint32_t max,
                                ring_handler handler, void *ctx);

/*
 * The fast path (docs/ipc.md, "Fast path"): true, with a copy of the SQE
 * in *out, when exactly one SQE waits, its opcode is one of `opcodes` (a
 * mask of 1 << CAPOS_OP_*; never NOP, which ring_process completes
 * itself), it is valid, and ring_process
 * would give it a CQ slot; nothing is consumed. The caller issues it with
 * ring_issue_peeked (or leaves it for ring_process). false means only "not
 * this way": the SQE may be invalid, the CQ full, or more waiting.
 */
bool ring_peek_single(volatile struct capos_ring *r, struct ring_state *st, uint32_t opcodes,
                      struct capos_sqe *out);
/*
 * ring_peek_single in its two halves, for a caller that must copy the
 * entry before it may read the CQ's state: the kernel peeks at a thread's
 * SQ (its own: only that thread's system calls consume it) before taking
 * the kernel lock, and asks about CQ room (other CPUs post completions
 * under that lock) after. ring_peek_single(...) is exactly
 * ring_cq_has_room(st) && ring_peek_sq(...).
 */
bool ring_peek_sq(volatile struct capos_ring *r, const struct ring_state *st, uint32_t opcodes,
                  struct capos_sqe *out);
static inline bool ring_cq_has_room(const struct ring_state *st)
{
    return st->cq_tail - st->cq_head + st->cq_reserved < CAPOS_CQ_ENTRIES - RING_CONTROL_SLOTS;
}
/* Issue the SQE ring_peek_single returned through handler, exactly as
 * ring_process would (its CQ slot reserved while the handler runs; then
 * posted, kept for a deferred completion, or, for RING_STOP, the entry
 * left queued); returns what the handler answered. */
enum ring_action ring_issue_peeked(volatile struct capos_ring *r, struct ring_state *st,
                                   const struct capos_sqe *sqe, ring_handler handler, void *ctx);
/* The same for an entry whose work is done and whose completion comes
 * later (what a handler answering RING_DEFER leaves), without a handler. */
void ring_consume_deferred(volatile struct capos_ring *r, struct ring_state *st);

#endif
