/*
 * x86_64 four-level page tables for the kernel half.
 *
 * All 256 kernel-half PML4 slots get their PDPT up front. It costs 1 MiB,
 * but every future address space can then share the kernel half by copying
 * those 256 entries once, and no later kernel mapping ever has to be
 * propagated into existing address spaces.
 */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/platform.h>
#include <capos/layout.h>

#include "account.h"
#include "hotpath.h"
#include "kprintf.h"
#include "memory.h"
#include "string.h"
#include "tlb_internal.h"

#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_PWT   (1ull << 3)
#define PTE_PCD   (1ull << 4)
#define PTE_PS    (1ull << 7)
#define PTE_G     (1ull << 8)
#define PTE_OWNED (1ull << 9) /* software bit: the address space owns this frame */
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull

#define LARGE_PAGE (2ull << 20)

static uint64_t *kernel_pml4;
HOT_DATA static uint64_t kernel_pml4_phys;
/* NX is a reserved bit (faults) when EFER.NXE is off. */
static uint64_t pte_nx;

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char __kernel_phys_start[], __boot_phys_end[];

static uint64_t *alloc_table(void)
{
    uint64_t pa;
    if (!frame_alloc_zeroed(&pa))
        return 0;
    return phys_to_virt(pa);
}

static unsigned idx(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/*
 * The entry for va at `level` (0 = PT) under root, creating tables above it
 * when asked: charged to `acct` as FL_TABLES for a user address space, the
 * kernel's own (from its reserve) for the kernel half (acct NULL). Tables
 * on the way to a user page carry the U bit (the CPU checks it at every
 * level); kernel-half tables never do.
 */
static uint64_t *walk_in(uint64_t *root, uint64_t va, int level, bool create, struct account *acct)
{
    uint64_t *table = root;
    uint64_t table_bits = PTE_P | PTE_W | (va < CAPOS_USER_LIMIT ? PTE_U : 0);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &table[idx(va, l)];
        if (!(*e & PTE_P)) {
            if (!create)
                return 0;
            uint64_t pa;
            if (acct ? !account_frame_alloc(acct, FL_TABLES, &pa) : !frame_alloc_zeroed(&pa))
                return 0;
            *e = pa | table_bits;
        } else if (*e & PTE_PS) {
            return 0; /* covered by a large page */
        }
        table = phys_to_virt(*e & PTE_ADDR);
    }
    return &table[idx(va, level)];
}

static uint64_t *walk(uint64_t va, int level, bool create)
{
    return walk_in(kernel_pml4, va, level, create, 0);
}

static uint64_t pte_bits(uint32_t f)
{
    uint64_t b = PTE_P | PTE_G;
    if (f & VM_WRITE)
        b |= PTE_W;
    if (!(f & VM_EXEC))
        b |= pte_nx;
    if (f & VM_UNCACHED)
        b |= PTE_PCD | PTE_PWT;
    if (f & VM_USER)
        b = (b | PTE_U) & ~PTE_G;
    return b;
}

bool paging_map(uint64_t va, uint64_t pa, uint32_t vm_flags)
{
    uint64_t *e = walk(va, 0, true);
    if (!e)
        return false;
    *e = (pa & PTE_ADDR) | pte_bits(vm_flags);
    invlpg(va);
    return true;
}

void paging_unmap(uint64_t va)
{
    uint64_t *e = walk(va, 0, false);
    if (e) {
        *e = 0;
        invlpg(va);
        /* The kernel half is in every address space: every CPU may hold
         * the translation (and the address may be mapped again soon). */
        tlb_shootdown(tlb_online_cpus(), va);
    }
}

static bool translate_in(uint64_t *root, uint64_t va, uint64_t *pa_out, uint32_t *flags_out)
{
    uint64_t *table = root;
    for (int l = 3; l >= 0; l--) {
        uint64_t e = table[idx(va, l)];
        if (!(e & PTE_P))
            return false;
        if (l == 0 || (e & PTE_PS)) {
            uint64_t page = l == 0 ? 4096 : 1ull << (12 + 9 * l);
            *pa_out = (e & PTE_ADDR & ~(page - 1)) | (va & (page - 1));
            *flags_out = (e & PTE_W ? VM_WRITE : 0) | (e & pte_nx ? 0 : VM_EXEC) |
                         (e & PTE_U ? VM_USER : 0) | (e & PTE_PCD ? VM_UNCACHED : 0) |
                         (l == 0 && (e & PTE_OWNED) ? VM_OWNED : 0);
            return true;
        }
        table = phys_to_virt(e & PTE_ADDR);
    }
    return false;
}

bool paging_translate(uint64_t va, uint64_t *pa_out, uint32_t *flags_out)
{
    return translate_in(kernel_pml4, va, pa_out, flags_out);
}

static void map_range(uint64_t va, uint64_t va_end, uint64_t pa, uint32_t flags)
{
    for (; va < va_end; va += 4096, pa += 4096)
        if (!paging_map(va, pa, flags))
            panic("paging: out of memory mapping the kernel image at %lx", va);
}

static void map_image(void)
{
    uint64_t boot_pa = (uint64_t)__kernel_phys_start;
    /* The .boot sections hold the boot stack we are still running on.
     * Their code is never executed again, so map them without X. */
    map_range(KERNEL_VMA + boot_pa, KERNEL_VMA + (uint64_t)__boot_phys_end, boot_pa, VM_WRITE);
    map_range((uint64_t)__text_start, (uint64_t)__text_end, kernel_virt_to_phys(__text_start),
              VM_EXEC);
    map_range((uint64_t)__rodata_start, (uint64_t)__rodata_end, kernel_virt_to_phys(__rodata_start),
              VM_READ);
    map_range((uint64_t)__data_start, (uint64_t)__data_end, kernel_virt_to_phys(__data_start),
              VM_WRITE);
}

static void map_direct(const struct paging_ram_range *ram, int nram)
{
    for (int i = 0; i < nram; i++) {
        uint64_t pa = ram[i].base & ~(LARGE_PAGE - 1);
        for (; pa < ram[i].end && pa < DIRECT_MAP_SIZE; pa += LARGE_PAGE) {
            uint64_t *e = walk(DIRECT_MAP_BASE + pa, 1, true);
            if (!e)
                panic("paging: out of memory building the direct map");
            *e = pa | PTE_P | PTE_W | PTE_PS | PTE_G | pte_nx;
        }
    }
}

void paging_init(const struct paging_ram_range *ram, int nram)
{
    pte_nx = cpu_features.nx ? PTE_NX : 0;
    kernel_pml4 = alloc_table();
    if (!kernel_pml4)
        panic("paging: no frame for the kernel PML4");
    kernel_pml4_phys = (uint64_t)kernel_pml4 - DIRECT_MAP_BASE;

    /* Until CR3 changes, the new tables are reached through the boot
     * direct map, which covers the first 4 GiB: memory_init() hands out
     * frames only from there. */
    for (int i = 256; i < 512; i++) {
        uint64_t *t = alloc_table();
        if (!t)
            panic("paging: no frame for the kernel half");
        kernel_pml4[i] = ((uint64_t)t - DIRECT_MAP_BASE) | PTE_P | PTE_W;
    }
    map_direct(ram, nram);
    map_image();
    write_cr3(kernel_pml4_phys);
}

/* ---- User address spaces ---- */

static uint64_t *root_of(const struct vmspace *vs)
{
    return phys_to_virt(vs->pml4_phys);
}

/* A mapping went away or lost a permission: forget the cached page. */
static void forget_last(struct vmspace *vs)
{
    vs->seen[0].va = vs->seen[1].va = 1;
}

/* va's translation in vs changed: drop it here and on every other CPU
 * whose CR3 holds vs (its threads may run there in user mode now). */
static void flush_user_page(const struct vmspace *vs, uint64_t va)
{
    if (read_cr3() == vs->pml4_phys)
        invlpg(va);
    tlb_shootdown(__atomic_load_n(&vs->cpus, __ATOMIC_ACQUIRE), va);
}

bool vmspace_create(struct vmspace *vs, struct account *acct)
{
    uint64_t pa;
    forget_last(vs);
    if (!account_frame_alloc(acct, FL_TABLES, &pa))
        return false;
    uint64_t *pml4 = phys_to_virt(pa);
    vs->acct = acct;
    vs->cpus = 0;
    /* The kernel half is shared: its 256 PDPTs were allocated once by
     * paging_init, so copying the entries is enough forever. */
    for (int i = 256; i < 512; i++)
        pml4[i] = kernel_pml4[i];
    vs->pml4_phys = (uint64_t)pml4 - DIRECT_MAP_BASE;
    return true;
}

bool vmspace_map(struct vmspace *vs, uint64_t va, uint64_t pa, uint32_t vm_flags, bool owned)
{
    if (va >= CAPOS_USER_LIMIT || (va & 0xfff))
        return false;
    uint64_t *e = walk_in(root_of(vs), va, 0, true, vs->acct);
    if (!e || (*e & PTE_P))
        return false;
    *e = (pa & PTE_ADDR) | (pte_bits(vm_flags | VM_USER)) | (owned ? PTE_OWNED : 0);
    return true;
}

static bool table_empty(const uint64_t *t)
{
    for (int i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

/*
 * va's page-table entry was just cleared: free the tables on its path
 * that are now empty, lowest first (the PML4 stays), so that mapping and
 * unmapping at ever new addresses cannot pile up tables. Scanning 512
 * entries per level is cheap beside the map and unmap calls themselves.
 * The caller's invlpg afterwards also drops the CPU's cached upper-level
 * entries for va (INVLPG flushes the paging-structure caches).
 */
static void free_empty_tables(struct vmspace *vs, uint64_t va)
{
    uint64_t *path[4];
    uint64_t *t = root_of(vs);
    for (int l = 3; l >= 0; l--) {
        path[l] = t;
        if (l > 0)
            t = phys_to_virt(t[idx(va, l)] & PTE_ADDR);
    }
    for (int l = 0; l < 3 && table_empty(path[l]); l++) {
        path[l + 1][idx(va, l + 1)] = 0;
        account_frame_free(vs->acct, FL_TABLES, (uint64_t)path[l] - DIRECT_MAP_BASE);
    }
}

bool vmspace_unmap(struct vmspace *vs, uint64_t va, uint64_t *pa_out, bool *owned_out)
{
    if (va >= CAPOS_USER_LIMIT)
        return false;
    uint64_t *e = walk_in(root_of(vs), va, 0, false, 0);
    if (!e || !(*e & PTE_P))
        return false;
    *pa_out = *e & PTE_ADDR;
    *owned_out = *e & PTE_OWNED;
    *e = 0;
    forget_last(vs);
    free_empty_tables(vs, va);
    flush_user_page(vs, va);
    return true;
}

bool vmspace_protect(struct vmspace *vs, uint64_t va, uint32_t vm_flags)
{
    if (va >= CAPOS_USER_LIMIT)
        return false;
    uint64_t *e = walk_in(root_of(vs), va, 0, false, 0);
    if (!e || !(*e & PTE_P))
        return false;
    *e = (*e & (PTE_ADDR | PTE_OWNED)) | pte_bits(vm_flags | VM_USER);
    forget_last(vs);
    flush_user_page(vs, va);
    return true;
}

bool vmspace_translate(const struct vmspace *vs, uint64_t va, uint64_t *pa_out, uint32_t *flags_out)
{
    if (va >= CAPOS_USER_LIMIT)
        return false;
    return translate_in(root_of(vs), va, pa_out, flags_out);
}

void *vmspace_user_page_walk(struct vmspace *vs, uint64_t va, bool write)
{
    /* Not among the pages found last (vmspace_user_page): the walk, four
     * loads and one test each, the CPU's own rule: U (and W, to write) at
     * every level. */
    uint64_t page = va & ~0xfffull;
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    if (va >= CAPOS_USER_LIMIT)
        return 0;
    const uint64_t *table = root_of(vs);
    for (int l = 3; l > 0; l--) {
        uint64_t e = table[idx(va, l)];
        /* The user half is mapped with 4 KiB pages only. */
        if ((e & need) != need || (e & PTE_PS))
            return 0;
        table = phys_to_virt(e & PTE_ADDR);
    }
    uint64_t e = table[idx(va, 0)];
    if ((e & need) != need)
        return 0;
    /* The newer one moves over: a buffer across two pages keeps both. */
    vs->seen[1] = vs->seen[0];
    vs->seen[0] = (struct vm_seen){.va = page,
                                   .page = phys_to_virt(e & PTE_ADDR),
                                   .writable = write}; /* the walk checked W only if asked */
    return vs->seen[0].page + (va & 0xfff);
}

/*
 * A switch names the address space the next thread needs (`loaded`); CR3
 * itself is written later, by vmspace_sync, when the kernel lock has been
 * let go on the way out (a copy through CR3 before that asks
 * vmspace_in_cr3 first: usercopy.h). Why: under TCG a CR3 write drops
 * the whole software TLB, and every page touched after it is walked
 * again; done under the lock, that refill held up every other CPU
 * (docs/smp.md). A switch there and back before the way out writes
 * nothing.
 *
 * vs->cpus holds every CPU whose CR3 may hold vs or whose TLB may keep
 * its translations, the targets of a shootdown:
 * - the space a switch names gets this CPU's bit at once, under the
 *   kernel lock, before any user access can cache a translation;
 * - the space CR3 still holds keeps its bit until vmspace_sync has
 *   replaced it (a CR3 load drops every non-global translation);
 * - a space named and left again before any sync was never in CR3 and
 *   loses its bit at once.
 * Senders read the mask under the kernel lock; a bit cleared by a sync
 * outside it only spares that CPU a needless flush.
 */
__attribute__((always_inline)) static inline void load_space(struct vmspace *vs)
{
    struct arch_percpu *pc = arch_percpu_self();
    if (pc->loaded == vs)
        return;
    if (pc->loaded && pc->loaded != pc->in_cr3)
        __atomic_fetch_and(&pc->loaded->cpus, ~pc->cpu_bit, __ATOMIC_RELEASE);
    if (vs)
        __atomic_fetch_or(&vs->cpus, pc->cpu_bit, __ATOMIC_SEQ_CST);
    pc->loaded = vs;
}

FAST_PATH void vmspace_sync_slow(void)
{
    struct arch_percpu *pc = arch_percpu_self();
    struct vmspace *old = pc->in_cr3, *vs = pc->loaded;
    write_cr3(vs ? vs->pml4_phys : kernel_pml4_phys);
    pc->in_cr3 = vs;
    if (old)
        __atomic_fetch_and(&old->cpus, ~pc->cpu_bit, __ATOMIC_RELEASE);
}

/* Inlined (at link time) into arch_switch, its one caller, for the
 * reason given there. */
inline __attribute__((always_inline)) void vmspace_activate(struct vmspace *vs)
{
    load_space(vs);
}

void vmspace_activate_kernel(void)
{
    load_space(0);
}

void paging_load_kernel_tables(void)
{
    write_cr3(kernel_pml4_phys);
}

/* Free the tables below `table` at `level`; owned leaf frames go back to
 * the allocator and are counted so the caller can settle its ledger, and
 * freed tables are added to *tables. */
static uint64_t free_level(uint64_t *table, int level, uint64_t *tables)
{
    uint64_t owned = 0;
    for (int i = 0; i < 512; i++) {
        uint64_t e = table[i];
        if (!(e & PTE_P))
            continue;
        if (level == 0) {
            if (e & PTE_OWNED) {
                frame_free(e & PTE_ADDR);
                owned++;
            }
        } else {
            owned += free_level(phys_to_virt(e & PTE_ADDR), level - 1, tables);
            frame_free(e & PTE_ADDR);
            (*tables)++;
        }
    }
    return owned;
}

uint64_t vmspace_destroy(struct vmspace *vs)
{
    uint64_t *pml4 = root_of(vs);
    struct arch_percpu *pc = arch_percpu_self();
    if (pc->loaded == vs)
        vmspace_activate_kernel();
    if (pc->in_cr3 == vs)
        vmspace_sync();
    /* Its last thread has stopped, so no CPU names it any more; one that
     * switched away from it may still be on its way out of the kernel,
     * past the kernel lock and about to replace CR3 (interrupts off, a
     * few instructions): wait for that. Its tables must not be freed
     * while a CR3 holds them. */
    uint64_t give_up = arch_clock_ns() + 1000000000ull;
    while (__atomic_load_n(&vs->cpus, __ATOMIC_ACQUIRE)) {
        if (arch_clock_ns() > give_up)
            panic("vmspace: CPUs %#x still hold a dead address space in CR3 after 1 s",
                  __atomic_load_n(&vs->cpus, __ATOMIC_RELAXED));
        cpu_pause();
    }
    uint64_t owned = 0, tables = 1; /* the PML4 */
    for (int i = 0; i < 256; i++) {
        if (pml4[i] & PTE_P) {
            owned += free_level(phys_to_virt(pml4[i] & PTE_ADDR), 2, &tables);
            frame_free(pml4[i] & PTE_ADDR);
            tables++;
        }
    }
    frame_free(vs->pml4_phys);
    vs->pml4_phys = 0;
    forget_last(vs);
    account_release(vs->acct, FL_TABLES, tables);
    return owned;
}
