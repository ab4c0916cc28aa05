/*
 * The only two system calls (syscall instruction; number in RAX, arguments
 * in RDI, RSI; result in RAX). Any other number returns CAPOS_E_NO_SYSCALL.
 */
#ifndef CAPOS_SYSCALL_H
#define CAPOS_SYSCALL_H

/* cap_enter(min_complete, timeout_ns): process pending SQEs, then wait until
 * at least min_complete CQEs are available or timeout_ns has passed
 * (UINT64_MAX: no timeout). Returns the number of CQEs available, or a
 * negative CAPOS_E_* error. */
#define CAPOS_SYS_CAP_ENTER 1
/* exit(code): end the process. Does not return. */
#define CAPOS_SYS_EXIT 2

#endif
