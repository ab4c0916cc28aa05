/*
 * QEMU test program: each thread's FPU/SSE state survives switches
 * (kernel/arch/x86_64/thread.c, arch_switch: FXSAVE/FXRSTOR). User code
 * may use SSE; the kernel never does, so whatever a thread left in XMM0-15
 * and MXCSR must be there when it runs again, whoever ran in between, on
 * whichever CPU.
 *
 * Three threads each load their own pattern into all sixteen XMM
 * registers and their own MXCSR (a different rounding mode each), then
 * block in cap_enter until a timeout (so the CPU goes to another thread or
 * idles), and read everything back: ROUNDS times each. With two CPUs
 * (ALSO_SMP) they also move between CPUs. A thread that got another's
 * state, or a stale one of its own (an earlier round's pattern), fails.
 */
#include <capos/syscall.h>

#include "capos_rt.h"

#include <threads.h>

#include "testlib.h"

#define THREADS 3
#define ROUNDS  40

struct fpu_image {
    uint64_t xmm[32]; /* XMM0-15, two words each */
    uint32_t mxcsr;
};

/* Load *in, block in cap_enter(1, timeout_ns) with nothing to wait for,
 * and store what the registers hold afterwards into *out. The syscall
 * clobbers RCX, R11 and RDX, R8-R10 (docs/abi.md); RDI and RSI come
 * back. */
static void fpu_round(const struct fpu_image *in, struct fpu_image *out, uint64_t timeout_ns)
{
    uint64_t rax = CAPOS_SYS_CAP_ENTER, rdi = 1, rsi = timeout_ns;
    __asm__ volatile("ldmxcsr %[mxi]\n\t"
                     "movdqu 0(%[in]), %%xmm0\n\t"
                     "movdqu 16(%[in]), %%xmm1\n\t"
                     "movdqu 32(%[in]), %%xmm2\n\t"
                     "movdqu 48(%[in]), %%xmm3\n\t"
                     "movdqu 64(%[in]), %%xmm4\n\t"
                     "movdqu 80(%[in]), %%xmm5\n\t"
                     "movdqu 96(%[in]), %%xmm6\n\t"
                     "movdqu 112(%[in]), %%xmm7\n\t"
                     "movdqu 128(%[in]), %%xmm8\n\t"
                     "movdqu 144(%[in]), %%xmm9\n\t"
                     "movdqu 160(%[in]), %%xmm10\n\t"
                     "movdqu 176(%[in]), %%xmm11\n\t"
                     "movdqu 192(%[in]), %%xmm12\n\t"
                     "movdqu 208(%[in]), %%xmm13\n\t"
                     "movdqu 224(%[in]), %%xmm14\n\t"
                     "movdqu 240(%[in]), %%xmm15\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm0, 0(%[out])\n\t"
                     "movdqu %%xmm1, 16(%[out])\n\t"
                     "movdqu %%xmm2, 32(%[out])\n\t"
                     "movdqu %%xmm3, 48(%[out])\n\t"
                     "movdqu %%xmm4, 64(%[out])\n\t"
                     "movdqu %%xmm5, 80(%[out])\n\t"
                     "movdqu %%xmm6, 96(%[out])\n\t"
                     "movdqu %%xmm7, 112(%[out])\n\t"
                     "movdqu %%xmm8, 128(%[out])\n\t"
                     "movdqu %%xmm9, 144(%[out])\n\t"
                     "movdqu %%xmm10, 160(%[out])\n\t"
                     "movdqu %%xmm11, 176(%[out])\n\t"
                     "movdqu %%xmm12, 192(%[out])\n\t"
                     "movdqu %%xmm13, 208(%[out])\n\t"
                     "movdqu %%xmm14, 224(%[out])\n\t"
                     "movdqu %%xmm15, 240(%[out])\n\t"
                     "stmxcsr %[mxo]"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), [mxo] "=m"(out->mxcsr)
                     : [in] "r"(in->xmm), [out] "r"(out->xmm), [mxi] "m"(in->mxcsr)
                     : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory", "xmm0", "xmm1", "xmm2",
                       "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                       "xmm12", "xmm13", "xmm14", "xmm15");
}

static int mismatches[THREADS];

/* Thread `id`'s pattern for round r: every word differs between threads,
 * registers and rounds. MXCSR: all exceptions masked (0x1f80), rounding
 * control id (bits 13-14: nearest, down, up). */
static void pattern(int id, int r, struct fpu_image *img)
{
    for (int i = 0; i < 32; i++)
        img->xmm[i] =
            0x0123456789abcdefull * (uint64_t)(id + 1) ^ (uint64_t)i << 48 ^ (uint64_t)r << 32;
    img->mxcsr = 0x1f80u | (uint32_t)id << 13;
}

static int run(void *arg)
{
    int id = (int)(uintptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct fpu_image in, out;
        pattern(id, r, &in);
        fpu_round(&in, &out, 200000 + 100000 * (uint64_t)id); /* 0.2, 0.3, 0.4 ms */
        if (memcmp(in.xmm, out.xmm, sizeof(in.xmm)) != 0 || in.mxcsr != out.mxcsr) {
            if (mismatches[id]++ == 0)
                capos_printf("fpu-switch: thread %d round %d: XMM0 %lx, MXCSR %x after the "
                             "switch, expected %lx, %x\n",
                             id, r, out.xmm[0], out.mxcsr, in.xmm[0], in.mxcsr);
        }
    }
    return 0;
}

int main(void)
{
    thrd_t t[THREADS - 1];
    for (int i = 1; i < THREADS; i++)
        CHECK(thrd_create(&t[i - 1], run, (void *)(uintptr_t)i) == thrd_success,
              "thread %d started", i);
    run(0);
    for (int i = 1; i < THREADS; i++)
        thrd_join(t[i - 1], 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(mismatches[i] == 0,
              "thread %d found its XMM0-15 and MXCSR as it left them after %d blocking "
              "cap_enters (%d rounds differed)",
              i, ROUNDS, mismatches[i]);
    capos_printf("fpu-switch: %d failures\n", failures);
    return failures;
}
