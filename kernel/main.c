/*
 * Kernel entry: bring the machine up in dependency order (docs/boot.md).
 *
 *   serial -> GDT/TSS/IDT/PIC -> boot information -> frame allocator ->
 *   kernel page tables -> guarded stacks -> heap -> timer
 *
 * Each phase records its cycle count since the first kernel instruction;
 * `make bench` reads them under QEMU -icount, where cycles are executed
 * guest instructions.
 */
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/paging.h>
#include <arch/platform.h>
#include <arch/trap.h>

#include "account.h"
#include "acpi.h"
#include "boot_manifest.h"
#include "capos.capnp.h"
#include "clock.h"
#include "entropy.h"
#include "heap.h"
#include "kcore/elf64.h"
#include "kcore/mb2.h"
#include "kprintf.h"
#include "memory.h"
#include "pci.h"
#include "percpu.h"
#include "process.h"
#include "registry.h"
#include "ringops.h"
#include "sched.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"
#include "tap.h"
#include "virtio_net.h"

/* Test kernels (build/test/) honour fault=pf|ud|gp|stack on the command
 * line; the shipped kernel compiles that path away. */
#include "test_hooks.h"

#define KERNEL_STACK_PAGES 8
#define IST_STACK_PAGES    2

/* Parsed once; strings point into the boot information, which stays
 * reserved in the frame allocator. */
static struct mb2_info boot_info;

static void boot_phase(const char *name)
{
    kprintf("boot-phase: %-14s %lu cycles\n", name, arch_cycles() - arch_boot_cycles());
}

/* Find "key=value" in the kernel command line; value is not terminated. */
static bool cmdline_value(const char *key, const char **val, size_t *len)
{
    const char *s = boot_info.cmdline;
    size_t n = boot_info.cmdline_len, klen = strlen(key);
    for (size_t i = 0; s && i < n;) {
        while (i < n && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i - start > klen && !strncmp(s + start, key, klen) && s[start + klen] == '=') {
            *val = s + start + klen + 1;
            *len = i - start - klen - 1;
            return true;
        }
    }
    return false;
}

static void parse_boot_info(uint32_t magic, uint64_t info_phys)
{
    if (mb2_check_magic(magic) != MB2_OK)
        panic("boot: not started by a Multiboot2 loader (EAX=%x, expected %x)", magic,
              MB2_BOOTLOADER_MAGIC);
    /* Only the first 4 GiB are mapped this early; read no further. */
    if (info_phys == 0 || info_phys >= BOOT_MAPPED_LIMIT)
        panic("boot: boot information at %lx is outside the first 4 GiB", info_phys);
    size_t limit = BOOT_MAPPED_LIMIT - info_phys;
    if (limit > MB2_MAX_TOTAL_SIZE)
        limit = MB2_MAX_TOTAL_SIZE;
    enum mb2_status st = mb2_parse(phys_to_virt(info_phys), limit, &boot_info);
    if (st != MB2_OK)
        panic("boot: invalid Multiboot2 information at offset %u: %s", boot_info.error_offset,
              mb2_status_str(st));
    kprintf("boot: loader \"%.*s\", command line \"%.*s\"\n", (int)boot_info.bootloader_name_len,
            boot_info.bootloader_name ? boot_info.bootloader_name : "?", (int)boot_info.cmdline_len,
            boot_info.cmdline ? boot_info.cmdline : "");
}

static void check_boot_module(void)
{
    if (boot_info.module_count != 1) {
        kprintf("capOS: boot stopped: expected exactly one boot module (the system manifest), "
                "but the boot loader provided %u\n",
                boot_info.module_count);
        arch_halt(HALT_FAILURE);
    }
    const struct mb2_module *m = &boot_info.modules[0];
    extern char __kernel_phys_start[], __kernel_phys_end[];
    if (m->start < (uint64_t)__kernel_phys_end && m->end > (uint64_t)__kernel_phys_start)
        panic("boot: the boot module [%x, %x) overlaps the kernel image", m->start, m->end);
    kprintf("boot: module \"%.*s\", %u bytes at %x\n", (int)m->cmdline_len,
            m->cmdline ? m->cmdline : "", m->end - m->start, m->start);
}

static void setup_paging(void)
{
    static struct paging_ram_range ram[MB2_MAX_MMAP + MB2_MAX_MODULES + 1];
    int n = memory_ram_ranges(ram, (int)(sizeof(ram) / sizeof(ram[0])));
    paging_init(ram, n);
    cpu_enable_protections();
}

static _Noreturn void kmain_on_kernel_stack(void);

/*
 * The boot module is the SystemManifest: the kernel starts init from it.
 * A module that is an ELF executable instead is started directly as the
 * only program, with every kernel source's object, named as the source
 * ("console", "timer", ..., "bootPackage"); the QEMU tests and demos use
 * that to boot one program without building a manifest.
 */
static void start_boot_program(void)
{
    const struct mb2_module *m = &boot_info.modules[0];
    const struct boot_module module = {phys_to_virt(m->start), m->end - m->start};
    if (!elf64_has_magic(module.data, module.len)) {
        boot_manifest_start(module.data, module.len);
        return;
    }
    struct process_grant grants[KernelSource_COUNT];
    for (int src = 0; src < KernelSource_COUNT; src++)
        grants[src] =
            (struct process_grant){KernelSource_NAMES[src], registry_source_object(src, &module),
                                   KernelSource_IFACES[src]->id, 0};
    /* Test kernels can start several copies (instances=N), for tests
     * that need more than one process before ProcessSpawner exists. */
    unsigned copies = 1;
    const char *v;
    size_t vlen;
    if (CAPOS_TEST_HOOKS && cmdline_value("instances", &v, &vlen) && vlen == 1 && v[0] >= '1' &&
        v[0] <= '8')
        copies = (unsigned)(v[0] - '0');
    /* The copies share the machine's memory evenly (less a page for
     * their account records). */
    uint64_t quota = copies == 1 ? ACCOUNT_ALL_ROOM
                                 : (frame_account_room(&account_machine()->frames) - 1) / copies;
    for (unsigned i = 0; i < copies; i++) {
        const char *why;
        if (!process_create("boot", module.data, module.len, grants, KernelSource_COUNT,
                            account_machine(), quota, &why)) {
            kprintf("capOS: boot stopped: the boot module is not a program the kernel can "
                    "start\n");
            arch_halt(HALT_FAILURE);
        }
    }
}

/* Leave the boot stack (no guard page) for a guarded one. */
static _Noreturn void switch_to_kernel_stack(void)
{
    uint64_t top = kstack_alloc(KERNEL_STACK_PAGES);
    uint64_t df = kstack_alloc(IST_STACK_PAGES);
    uint64_t nmi = kstack_alloc(IST_STACK_PAGES);
    if (!top || !df || !nmi)
        panic("boot: out of memory for kernel stacks");
    tss_set_ist(IST_DOUBLE_FAULT, df);
    tss_set_ist(IST_NMI, nmi);
    tss_set_rsp0(top);
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%1"
                     :
                     : "r"(top), "r"(kmain_on_kernel_stack)
                     : "memory");
    __builtin_unreachable();
}

void kmain(uint32_t magic, uint64_t info_phys);

void kmain(uint32_t magic, uint64_t info_phys)
{
    percpu_init_boot();
    arch_console_init();
    kprintf("\ncapOS booting\n");
    boot_phase("serial-up");

    arch_cpu_init();
    kprintf("cpu: %s,%s\n", cpu_features.vendor, arch_cpu_feature_string());

    parse_boot_info(magic, info_phys);
    check_boot_module();

    memory_init(&boot_info, info_phys);
    memory_report(&boot_info);
    boot_phase("memory-ready");
    /* Before paging_init: firmware tables sit in reserved memory that
     * only the boot page tables map. */
    acpi_init(&boot_info);

    setup_paging();
    boot_phase("paging-on");
    switch_to_kernel_stack();
}

static _Noreturn void kmain_on_kernel_stack(void)
{
    if (!heap_self_test())
        panic("heap: self-test failed");
    kprintf("heap: self-test passed (slab and large blocks, all frames returned)\n");

    kprintf("entropy: CSPRNG seeded from %s\n", entropy_init());

    const char *source = arch_timer_init();
    boot_phase("timer-calibrated");
    arch_interrupts_enable();
    clock_wait_ticks(1);
    boot_phase("timer-running");
    kprintf("timer: %s at %lu Hz, tick %lu Hz; clock from TSC at %lu kHz\n", source,
            arch_timer_source_hz(), arch_timer_tick_hz(), arch_cycles_hz() / 1000);

    const char *fault;
    size_t flen;
    if (CAPOS_TEST_HOOKS && cmdline_value("tap", &fault, &flen) && flen == 1 && fault[0] == '1') {
        tap_enabled = true;
        kprintf("tap: debug tap on\n");
    }
    if (CAPOS_TEST_HOOKS && cmdline_value("ipcfast", &fault, &flen) && flen == 1 &&
        fault[0] == '0') {
        ring_fast_off = true;
        kprintf("ipc: fast path off\n");
    }
    if (CAPOS_TEST_HOOKS && cmdline_value("fault", &fault, &flen)) {
        char kind[8] = {0};
        memcpy(kind, fault, flen < sizeof(kind) - 1 ? flen : sizeof(kind) - 1);
        arch_trigger_fault(kind);
    }

    kprintf("capOS: up. %lu free frames (%lu MiB)\n", frames_free(), frames_free() >> 8);
    uint64_t start_ns = arch_clock_ns(), start_ticks = clock_ticks();
    for (int i = 1; i <= 3; i++) {
        clock_wait_ticks(5);
        kprintf("tick %lu: %lu ms since the timer started\n", clock_ticks(),
                (arch_clock_ns() - start_ns) / 1000000);
    }
    kprintf("timer: %lu ticks in %lu ms of clock time\n", clock_ticks() - start_ticks,
            (arch_clock_ns() - start_ns) / 1000000);

    /* The lock checker's own test (docs/smp.md): lockfault=order takes
     * the kernel lock under a lock of higher rank, lockfault=block reaches
     * a blocking point holding a lock; either must be reported. */
    if (CAPOS_TEST_HOOKS && cmdline_value("lockfault", &fault, &flen))
        lockcheck_plant(fault, flen);

    /* The other CPUs: started and set up; they join the scheduler when it
     * starts (docs/smp.md). The test hook smpfault=N plays a CPU N that
     * never answers its SIPI. */
    uint32_t unanswered = UINT32_MAX;
    if (CAPOS_TEST_HOOKS && cmdline_value("smpfault", &fault, &flen) && flen == 1 &&
        fault[0] >= '0' && fault[0] <= '9')
        unanswered = (uint32_t)(fault[0] - '0');
    smp_init(unanswered);

    /* Devices: PCI functions, then the network device behind the
     * NetworkInterface kernel object (docs/devices.md). */
    pci_init();
    vnet_init();
    if (CAPOS_TEST_HOOKS && cmdline_value("netfault", &fault, &flen) && flen == 5 &&
        !strncmp(fault, "index", 5))
        vnet_inject_bad_used_index();

    arch_interrupts_disable();
    sched_init();
    process_init();
    start_boot_program();
    sched_run_until_idle();
    /* Every account but the two roots should be gone, and the machine
     * account should hold nothing once its spare slab pages go back. */
    heap_pool_trim(account_heap(account_machine()));
    if (!account_audit())
        panic("capOS: the frame ledger does not balance after the last process");
    kprintf("capOS: all processes have exited; process accounts left: %u, frames they hold: "
            "%lu\n",
            account_ledger.accounts - 2, account_machine()->frames.held);
    if (CAPOS_TEST_HOOKS)
        kprintf("ipc: the fast path took %lu ring entries\n", ring_fast_taken);
    arch_halt(HALT_SUCCESS);
}
