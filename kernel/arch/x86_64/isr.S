/*
 * Interrupt and exception entry stubs. Each vector pushes a zero where the
 * CPU pushes no error code, then its vector number, so that every entry
 * reaches trap_common with the same struct trap_frame layout.
 */
    .text

/* The general registers, in struct trap_frame order (r15 lowest). */
.macro push_regs
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm
.macro pop_regs
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

/* Vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30. */
.macro isr_stub vec
    .balign 16
isr_\vec:
    .if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
    pushq $0
    .endif
    pushq $\vec
    jmp trap_common
.endm

.altmacro
.macro isr_stub_n n
    isr_stub %n
.endm

vec = 0
.rept 256
    isr_stub_n %vec
    vec = vec + 1
.endr

trap_common:
    /* From user mode (CPL 3 in the saved CS), GS still holds the user's
     * base: swap in the kernel's per-CPU area. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    push_regs
    cld
    mov %rsp, %rdi
    /* The frame may sit at any 8-byte offset; the C ABI wants 16. */
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_dispatch
    mov %rbx, %rsp

/* Pop a struct trap_frame and return to where it says. */
    .globl trap_return
trap_return:
    pop_regs
    add $16, %rsp       /* vector and error code */
    testb $3, 8(%rsp)
    jz 2f
    swapgs
2:  iretq

/*
 * System call entry (LSTAR). The CPU has put the user RIP in RCX and
 * RFLAGS in R11, cleared IF (SFMASK), and left RSP on the user stack.
 *
 * Only what the way back needs goes into the struct trap_frame: RIP,
 * RFLAGS and RSP for sysretq, RAX, RDI and RSI (the number and the
 * arguments, which syscall_dispatch reads; RDI and RSI are given back).
 * RBX, RBP and R12-R15 stay in their registers: the C code preserves them
 * (a thread that blocks keeps them on its kernel stack, context.S). RCX,
 * R11, RDX and R8-R10 are the caller's to lose (docs/abi.md); RDX and
 * R8-R10 go back zeroed, so no kernel value leaves in them. The frame's
 * other slots hold whatever the stack held: nothing reads them, and the
 * one way out through them, trap_return, fills them first.
 */
#define PERCPU_KERNEL_RSP 0
#define SYSCALL_VECTOR 256
#define TF_R15 0
#define TF_R14 8
#define TF_R13 16
#define TF_R12 24
#define TF_R11 32
#define TF_R10 40
#define TF_R9 48
#define TF_R8 56
#define TF_RBP 64
#define TF_RDI 72
#define TF_RSI 80
#define TF_RDX 88
#define TF_RCX 96
#define TF_RBX 104
#define TF_RAX 112
#define TF_VECTOR 120
#define TF_ERROR 128
#define TF_RIP 136
#define TF_CS 144
#define TF_RFLAGS 152
#define TF_RSP 160
#define TF_SS 168
#define TF_SIZE 176
    .section .text.hot, "ax" /* kernel/hotpath.h */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %rdx              /* RDX is the caller's to lose */
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    sub $TF_SIZE, %rsp
    mov %rdx, TF_RSP(%rsp)
    mov %rcx, TF_RIP(%rsp)
    mov %r11, TF_RFLAGS(%rsp)
    mov %rax, TF_RAX(%rsp)
    mov %rdi, TF_RDI(%rsp)
    mov %rsi, TF_RSI(%rsp)
    cld
    mov %rsp, %rdi
    call syscall_dispatch

    /* Return with sysretq, unless the return address is not a canonical
     * user address (sysretq would fault in ring 0 on it): then iretq. */
    mov TF_RIP(%rsp), %rcx
    mov %rcx, %r11
    shr $47, %r11
    jnz 1f
    mov TF_RAX(%rsp), %rax
    mov TF_RDI(%rsp), %rdi
    mov TF_RSI(%rsp), %rsi
    mov TF_RFLAGS(%rsp), %r11
    xor %edx, %edx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    mov TF_RSP(%rsp), %rsp      /* the user stack; IF is still clear */
    swapgs
    sysretq

    /* The iretq way: trap_return pops a whole frame, so fill in what
     * the entry left out (the preserved registers are still the user's). */
1:  mov %r15, TF_R15(%rsp)
    mov %r14, TF_R14(%rsp)
    mov %r13, TF_R13(%rsp)
    mov %r12, TF_R12(%rsp)
    mov %rbp, TF_RBP(%rsp)
    mov %rbx, TF_RBX(%rsp)
    xor %eax, %eax
    mov %rax, TF_R11(%rsp)
    mov %rax, TF_R10(%rsp)
    mov %rax, TF_R9(%rsp)
    mov %rax, TF_R8(%rsp)
    mov %rax, TF_RDX(%rsp)
    mov %rax, TF_RCX(%rsp)
    movq $0x23, TF_CS(%rsp)     /* user CS: GDT_USER_CODE | 3 */
    movq $0x1b, TF_SS(%rsp)     /* user SS: GDT_USER_DATA | 3 */
    jmp trap_return

    .text
/* A new thread's first return (arch_thread_init_user): it leaves the
 * kernel as every thread does, through kernel_return_to_user, and then
 * pops the frame it was created with. */
    .globl thread_first_entry
thread_first_entry:
    call kernel_return_to_user
    jmp trap_return

/* Table of stub addresses for idt_init(). */
.macro isr_addr n
    .quad isr_\n
.endm
    .section .rodata
    .balign 8
    .globl isr_table
isr_table:
vec = 0
.rept 256
    isr_addr %vec
    vec = vec + 1
.endr

    .section .note.GNU-stack, "", @progbits
