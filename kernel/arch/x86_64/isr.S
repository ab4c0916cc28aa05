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
 * RFLAGS in R11, cleared IF (SFMASK), and left RSP on the user stack. Build
 * the same struct trap_frame an interrupt from user mode would, so that
 * blocking, switching and returning work one way for both.
 */
#define PERCPU_KERNEL_RSP 0
#define PERCPU_USER_RSP 8
#define SYSCALL_VECTOR 256
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $0x1b                 /* user SS: GDT_USER_DATA | 3 */
    pushq %gs:PERCPU_USER_RSP
    pushq %r11
    pushq $0x23                 /* user CS: GDT_USER_CODE | 3 */
    pushq %rcx
    pushq $0
    pushq $SYSCALL_VECTOR
    push_regs
    cld
    mov %rsp, %rdi
    call syscall_dispatch

    /* Return with sysretq, unless the return address is not a canonical
     * user address (sysretq would fault in ring 0 on it): then iretq. */
    movq 17*8(%rsp), %rcx
    movq %rcx, %r11
    shrq $47, %r11
    jnz trap_return
    pop_regs
    add $16, %rsp           /* vector and error code */
    movq (%rsp), %rcx       /* RIP */
    movq 16(%rsp), %r11     /* RFLAGS */
    movq 24(%rsp), %rsp     /* the user stack; IF is still clear */
    swapgs
    sysretq

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
