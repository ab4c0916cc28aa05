/*
 * QEMU test program: the registers a system call gives back (docs/abi.md,
 * "System calls"). RBX, RBP, R12-R15, RDI and RSI keep the caller's
 * values; RDX and R8-R10 come back zero, whatever the kernel left in
 * them; RCX holds the return address and R11 RFLAGS. Checked for a
 * cap_enter that returns at once, one that blocks until its timeout (the
 * thread is switched out and back), an unknown number, and a cap_enter
 * that runs a NOP from the ring.
 */
#include <capos/syscall.h>

#include "capos_rt.h"

/* The registers loaded before the syscall instruction, and what each
 * held after it. The offsets are the assembly's. */
struct probe {
    uint64_t rbx, rbp, r12, r13, r14, r15, rdx, r8, r9, r10; /* in */
    uint64_t nr, a0, a1;
    uint64_t o_rax, o_rbx, o_rbp, o_r12, o_r13, o_r14, o_r15; /* out */
    uint64_t o_rdx, o_r8, o_r9, o_r10, o_rsi, o_rcx, o_r11, o_rdi;
};
_Static_assert(__builtin_offsetof(struct probe, nr) == 80 &&
                   __builtin_offsetof(struct probe, o_rax) == 104 &&
                   __builtin_offsetof(struct probe, o_rdi) == 216,
               "regs_probe's offsets");

void regs_probe(struct probe *p);
extern const char regs_probe_return[];

/* The callee-saved registers are the caller's (they are saved here); the
 * probe's own pointer waits on the stack while RDI is an argument. */
__asm__(".text\n"
        ".globl regs_probe\n"
        "regs_probe:\n"
        "    push %rbx\n    push %rbp\n    push %r12\n    push %r13\n"
        "    push %r14\n    push %r15\n    push %rdi\n"
        "    mov 0(%rdi), %rbx\n    mov 8(%rdi), %rbp\n    mov 16(%rdi), %r12\n"
        "    mov 24(%rdi), %r13\n    mov 32(%rdi), %r14\n    mov 40(%rdi), %r15\n"
        "    mov 48(%rdi), %rdx\n    mov 56(%rdi), %r8\n    mov 64(%rdi), %r9\n"
        "    mov 72(%rdi), %r10\n    mov 80(%rdi), %rax\n    mov 96(%rdi), %rsi\n"
        "    mov 88(%rdi), %rdi\n"
        "    syscall\n"
        ".globl regs_probe_return\n"
        "regs_probe_return:\n"
        "    xchg %rdi, (%rsp)\n" /* the probe back; what RDI held on the stack */
        "    mov %rax, 104(%rdi)\n    mov %rbx, 112(%rdi)\n    mov %rbp, 120(%rdi)\n"
        "    mov %r12, 128(%rdi)\n    mov %r13, 136(%rdi)\n    mov %r14, 144(%rdi)\n"
        "    mov %r15, 152(%rdi)\n    mov %rdx, 160(%rdi)\n    mov %r8, 168(%rdi)\n"
        "    mov %r9, 176(%rdi)\n    mov %r10, 184(%rdi)\n    mov %rsi, 192(%rdi)\n"
        "    mov %rcx, 200(%rdi)\n    mov %r11, 208(%rdi)\n"
        "    pop %rax\n    mov %rax, 216(%rdi)\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n    pop %rbx\n"
        "    ret\n");

static int failures;

static void expect(const char *what, const char *reg, uint64_t got, uint64_t want)
{
    if (got == want)
        return;
    capos_printf("syscall-regs: %s: %s is %lx, expected %lx\n", what, reg, got, want);
    failures++;
}

/* One system call with every register set to a pattern (seeded, so that
 * each case's values differ). */
static void check(const char *what, uint64_t nr, uint64_t a0, uint64_t a1, int64_t want_rax)
{
    static uint64_t seed = 0x5ca1ab1e00000000ull;
    struct probe p = {0};
    uint64_t *in = &p.rbx;
    for (int i = 0; i < 10; i++)
        in[i] = (seed += 0x0101010101010101ull) ^ 0x8000000000000000ull;
    p.nr = nr;
    p.a0 = a0;
    p.a1 = a1;
    regs_probe(&p);
    expect(what, "RAX", p.o_rax, (uint64_t)want_rax);
    expect(what, "RBX", p.o_rbx, p.rbx);
    expect(what, "RBP", p.o_rbp, p.rbp);
    expect(what, "R12", p.o_r12, p.r12);
    expect(what, "R13", p.o_r13, p.r13);
    expect(what, "R14", p.o_r14, p.r14);
    expect(what, "R15", p.o_r15, p.r15);
    expect(what, "RDI", p.o_rdi, a0);
    expect(what, "RSI", p.o_rsi, a1);
    expect(what, "RDX", p.o_rdx, 0);
    expect(what, "R8", p.o_r8, 0);
    expect(what, "R9", p.o_r9, 0);
    expect(what, "R10", p.o_r10, 0);
    expect(what, "RCX", p.o_rcx, (uint64_t)(uintptr_t)regs_probe_return);
    /* IF set (user code runs with interrupts on), bit 1 always set. */
    expect(what, "R11 & (IF | 2)", p.o_r11 & 0x202, 0x202);
}

int main(void)
{
    check("cap_enter(0, 0)", CAPOS_SYS_CAP_ENTER, 0, 0, 0);
    check("an unknown number", 77, 0x1234, 0x5678, CAPOS_E_NO_SYSCALL);
    /* Blocks until the timeout: the thread is switched out and back. */
    check("cap_enter(1, 2 ms) with nothing to wait for", CAPOS_SYS_CAP_ENTER, 1, 2000000, 0);
    /* A NOP in the ring: consumed, completed, one CQE ready. */
    struct capos_sqe nop = {.opcode = CAPOS_OP_NOP, .user_data = 7};
    if (!capos_ring_submit(&nop)) {
        capos_printf("syscall-regs: the NOP was not queued\n");
        return 2;
    }
    check("cap_enter(1, forever) running a NOP", CAPOS_SYS_CAP_ENTER, 1, UINT64_MAX, 1);
    if (failures)
        return 1;
    capos_printf("syscall-regs: registers as docs/abi.md says in 4 cases\n");
    return 0;
}
