/* Ring opcodes: what the kernel does with each valid SQE. */
#ifndef CAPOS_RINGOPS_H
#define CAPOS_RINGOPS_H

struct process;

/* Consume the process's pending SQEs (at most CAPOS_SQ_ENTRIES). */
void ring_dispatch(struct process *p);
/* From the timer interrupt: only opcodes the table marks irq_safe (NOP,
 * RELEASE). */
void ring_poll_irq(struct process *p);

#endif
