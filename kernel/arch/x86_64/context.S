/*
 * context_switch(uint64_t *save_rsp, uint64_t new_rsp): save the callee-
 * saved registers on the current stack, store RSP, load the other thread's
 * RSP and pop its registers. A new thread's stack is prepared so that the
 * first "return" lands in thread_first_entry.
 */
    .section .text.hot, "ax" /* kernel/hotpath.h */
    .globl context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .section .note.GNU-stack, "", @progbits
