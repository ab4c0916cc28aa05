/* Ring opcodes: what the kernel does with each valid SQE. */
#ifndef CAPOS_RINGOPS_H
#define CAPOS_RINGOPS_H

#include <stdbool.h>
#include <stdint.h>

struct capos_sqe;
struct thread;

/* Consume the thread's pending SQEs (at most CAPOS_SQ_ENTRIES), for its
 * process. */
void ring_dispatch(struct thread *t);
/* Before the kernel lock, for a cap_enter that will wait for a
 * completion: whether the only pending SQE is a CALL or RETURN_RECV, then
 * copied and checked into *sqe (ring_peek_sq: the SQ is the thread's own;
 * docs/smp.md says why this part runs unlocked). */
bool ring_peek_fast(struct thread *t, struct capos_sqe *sqe);
/* ring_dispatch, under the kernel lock, for that cap_enter: with the SQE
 * ring_peek_fast copied, if its object finishes by handing
 * over the CPU (docs/ipc.md, "Fast path"), it is done that way and the
 * thread to switch to is returned (the SQE consumed, its completion
 * deferred); else NULL, every SQE issued as ring_dispatch does. */
struct thread *ring_dispatch_or_handoff(struct thread *t, const struct capos_sqe *peeked);
/* Test kernels: `ipcfast=0` on the command line sets ring_fast_off, so
 * that one program can be run both ways and its transcripts compared
 * (tests/qemu/ipc-fast.test, ipc-fast-off.test); ring_fast_taken counts
 * the entries the fast path took, printed once every process has exited. */
extern bool ring_fast_off;
extern uint64_t ring_fast_taken;
/* From the timer interrupt: only opcodes the table marks irq_safe (NOP,
 * RELEASE). */
void ring_poll_irq(struct thread *t);

#endif
