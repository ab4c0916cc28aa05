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

    .section .note.GNU-stack, "", @progbits
