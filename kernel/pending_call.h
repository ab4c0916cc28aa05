/*
 * Pending calls: ring operations that complete later than the cap_enter
 * that submitted them (Timer.sleep, ProcessHandle.wait, TerminalSession
 * reads, an endpoint CALL waiting for its RETURN, a RECV waiting for a
 * CALL).
 *
 * The ring keeps a CQ slot reserved for each (lib/kcore/ring.h:
 * RING_DEFER), so the completion can always be posted. The object that
 * will complete the operation embeds a struct pending_call, which records
 * where the answer goes (user_data, result buffer) and links the call into
 * its caller's list, so that an exiting caller can let go of it:
 *
 *   start     the handler returns RING_DEFER (kcall_defer for object calls)
 *   complete  the owner posts the CQE (pending_call_complete*), once
 *   abandon   the caller exits first: caller becomes NULL, the optional
 *             abandon hook runs, and completing it later does nothing.
 *             The owner still frees its own memory.
 *   cancel    the caller's CANCEL names it by user_data: it completes at
 *             once with CAPOS_E_CANCELLED, then is abandoned as above.
 */
#ifndef CAPOS_PENDING_CALL_H
#define CAPOS_PENDING_CALL_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

struct process;
struct thread;
struct capn_bld;

struct pending_call {
    struct process *caller; /* NULL once the caller has exited */
    struct thread *thread;  /* the caller's thread whose ring gets the answer */
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
    /* Run when the call ends early: its caller exits, or cancels it (CANCEL).
     * pc->caller is already NULL; `caller` is the process the call was for
     * (still whole: its capability table and per-process state exist). The
     * owner drops what it keeps only for this call, gives back what it took
     * from the caller, and may free the struct. NULL: the owner notices a
     * dead caller when it completes, and keeps nothing of the caller's. */
    void (*abandon)(struct pending_call *pc, struct process *caller);
    struct pending_call *next, *prev; /* the calling thread's pending calls */
};

/* Record sqe's answer address and link pc into the pending calls of the
 * running thread, which submitted sqe (of process p). */
void pending_call_start(struct pending_call *pc, struct process *p, const struct capos_sqe *sqe);

/* Post the call's CQE (user_data is filled in) into its reserved slot and
 * wake the caller if it waits for that many completions; pc must be live
 * (caller not NULL). */
void pending_call_post(struct pending_call *pc, struct capos_cqe *cqe);
/* The same, and a caller it wakes runs next, on the rest of the running
 * thread's slice (IPC's direct handoff, docs/scheduling.md). */
void pending_call_post_handoff(struct pending_call *pc, struct capos_cqe *cqe);

/* The same without waking anyone: returns the caller's thread, whose
 * cap_enter the running thread is about to switch to (the fast path,
 * sched_block_handoff). */
struct thread *pending_call_post_quiet(struct pending_call *pc, struct capos_cqe *cqe);

/* Complete with a bare result; nothing happens if the caller is gone. */
void pending_call_complete(struct pending_call *pc, int32_t result);

/* Complete with results built by `build` (framed and copied out). */
typedef void (*pending_build_fn)(struct capn_bld *results, void *arg);
void pending_call_complete_with(struct pending_call *pc, pending_build_fn build, void *arg);
/* Complete with one struct of n data words as the results, framed flat
 * (kcall.h: kcall_write_flat), without the general builder; with handoff
 * as pending_call_post_handoff. */
void pending_call_complete_flat(struct pending_call *pc, const uint64_t *words, uint32_t n,
                                bool handoff);
/* The same without waking anyone (pc's caller must be alive): returns the
 * caller's thread, as pending_call_post_quiet. */
struct thread *pending_call_complete_flat_quiet(struct pending_call *pc, const uint64_t *words,
                                                uint32_t n);

/* Thread t of p is ending (alone, or with its process): every pending call
 * of it is abandoned. */
void pending_calls_abandon(struct thread *t, struct process *p);

/* CANCEL: complete the running thread's earliest pending call with this
 * user_data with CAPOS_E_CANCELLED and abandon it. 0, or CAPOS_E_NOT_FOUND. */
int pending_call_cancel(struct process *p, uint64_t user_data);

#endif
