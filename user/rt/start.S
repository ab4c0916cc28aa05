/*
 * Process entry. The kernel enters here in user mode with
 * RDI = ring page, RSI = process id, RDX = CapSet page, RSP = stack top.
 */
    .text
    .globl _start
_start:
    xor %ebp, %ebp          /* the outermost frame for backtraces */
    and $-16, %rsp
    call capos_rt_start     /* (ring, pid, capset): never returns */
    ud2

/*
 * Thread entry (ThreadSpawner.spawn, user/rt/thread.c). The kernel enters
 * here with RDI = the thread's ring page, RSI = its runtime record,
 * RSP = its stack top (16-byte aligned) and FS = its TCB.
 */
    .globl capos_thread_entry
capos_thread_entry:
    xor %ebp, %ebp
    call capos_rt_thread_start  /* (ring, record): never returns */
    ud2

    .section .note.GNU-stack, "", @progbits
