/* CPU identification, protection bits, halting, and the fault triggers. */
#include <arch/cpu.h>
#include <arch/platform.h>
#include <arch/thread.h>
#include <arch/trap.h>

#include "kprintf.h"
#include "lapic.h"
#include "string.h"

#define DEBUG_EXIT_PORT 0xf4
/* isa-debug-exit makes QEMU exit with (value << 1) | 1. */
#define DEBUG_EXIT_SUCCESS 0x10 /* QEMU exit status 33 */
#define DEBUG_EXIT_FAILURE 0x11 /* QEMU exit status 35 */

struct cpu_features cpu_features;
extern uint64_t boot_tsc;

void cpu_detect(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    uint32_t max_leaf = a;
    memcpy(cpu_features.vendor, &b, 4);
    memcpy(cpu_features.vendor + 4, &d, 4);
    memcpy(cpu_features.vendor + 8, &c, 4);
    cpu_features.vendor[12] = 0;

    cpuid(1, 0, &a, &b, &c, &d);
    cpu_features.apic = d & (1u << 9);
    cpu_features.rdrand = c & (1u << 30);
    if (max_leaf >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        cpu_features.smep = b & (1u << 7);
        cpu_features.smap = b & (1u << 20);
        cpu_features.rdseed = b & (1u << 18);
    }
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    uint32_t max_ext = a;
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        cpu_features.nx = d & (1u << 20);
        cpu_features.pdpe1gb = d & (1u << 26);
    }
    if (max_ext >= 0x80000007) {
        cpuid(0x80000007, 0, &a, &b, &c, &d);
        cpu_features.invariant_tsc = d & (1u << 8);
    }
}

void cpu_enable_protections(void)
{
    /* WP: the kernel honours read-only pages too. NXE was turned on in
     * boot.S before paging; check it stayed on. */
    write_cr0(read_cr0() | CR0_WP);
    if (cpu_features.nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    uint64_t cr4 = read_cr4();
    if (cpu_features.smep)
        cr4 |= CR4_SMEP;
    if (cpu_features.smap)
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
}

/*
 * stac and clac raise #UD on a CPU without SMAP: there, overwrite each of
 * their sites in usercopy.S with a 3-byte no-op, once, at boot. Runs
 * under the boot page tables (the text is still writable; paging_init
 * makes it read-only) and before any other CPU starts; the CPUID after
 * the writes serializes, so no stale decoding of them survives.
 */
static void smap_patch_out(void)
{
    extern const uint64_t arch_smap_sites[], arch_smap_sites_end[];
    static const uint8_t nop3[3] = {0x0f, 0x1f, 0x00}; /* nopl (%rax) */
    for (const uint64_t *s = arch_smap_sites; s < arch_smap_sites_end; s++)
        memcpy((void *)*s, nop3, sizeof(nop3));
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
}

const char *arch_cpu_feature_string(void)
{
    static char buf[96];
    ksnprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s", cpu_features.nx ? " nx" : " (no nx)",
              cpu_features.smep ? " smep" : "", cpu_features.smap ? " smap" : "",
              cpu_features.apic ? " apic" : " (no apic)", cpu_features.rdrand ? " rdrand" : "",
              cpu_features.rdseed ? " rdseed" : "", cpu_features.invariant_tsc ? " invtsc" : "");
    return buf;
}

void arch_cpu_init(void)
{
    cpu_detect();
    if (!cpu_features.smap)
        smap_patch_out();
    arch_syscall_init_cpu();
    gdt_init();
    idt_init();
    pic_init();
}

uint64_t arch_boot_cycles(void)
{
    return boot_tsc;
}

void arch_interrupts_enable(void)
{
    cpu_enable_interrupts();
}

void arch_interrupts_disable(void)
{
    cpu_disable_interrupts();
}

bool arch_interrupts_save_disable(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags & (1u << 9);
}

void arch_interrupts_restore(bool enabled)
{
    if (enabled)
        cpu_enable_interrupts();
}

void arch_wait_for_interrupt(void)
{
    cpu_wait_for_interrupt();
}

void arch_halt(enum halt_status status)
{
    cpu_disable_interrupts();
    kprintf("capOS: halting (%s)\n", status == HALT_SUCCESS ? "success" : "failure");
    outl(DEBUG_EXIT_PORT, status == HALT_SUCCESS ? DEBUG_EXIT_SUCCESS : DEBUG_EXIT_FAILURE);
    /* No debug-exit device (real hardware): stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

static unsigned recurse(volatile unsigned *depth)
{
    volatile char pad[512];
    pad[0] = (char)*depth;
    (*depth)++;
    if (*depth == 0) /* never: the guard page stops us long before a wrap */
        return 0;
    return recurse(depth) + pad[0];
}

void arch_trigger_fault(const char *kind)
{
    kprintf("capOS: triggering a deliberate %s\n", kind);
    if (!strncmp(kind, "pf", 3)) {
        /* Unmapped: the boot identity map is gone. */
        volatile uint64_t *p = (volatile uint64_t *)0xdead000;
        (void)*p;
    } else if (!strncmp(kind, "ud", 3)) {
        __asm__ volatile("ud2");
    } else if (!strncmp(kind, "gp", 3)) {
        /* A non-canonical address: general protection, not a page fault. */
        volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000ull;
        (void)*p;
    } else if (!strncmp(kind, "stack", 6)) {
        /* Run off the kernel stack into its guard page. */
        volatile unsigned depth = 0;
        recurse(&depth);
    }
    panic("unknown fault kind '%s' (expected pf, ud, gp or stack)", kind);
}
