/* Ring opcodes: what the kernel does with each valid SQE. */
#ifndef CAPOS_RINGOPS_H
#define CAPOS_RINGOPS_H

#include <stdbool.h>
#include <stdint.h>

struct thread;

/* Consume the thread's pending SQEs (at most CAPOS_SQ_ENTRIES), for its
 * process. */
void ring_dispatch(struct thread *t);
/* The fast path (docs/ipc.md): if the thread's only pending SQE is a CALL
 * or RETURN_RECV whose object can finish it by handing over the CPU, do
 * it, consume the SQE (its completion deferred) and return the thread to
 * switch to; else NULL, nothing changed. */
struct thread *ring_dispatch_fast(struct thread *t);
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
