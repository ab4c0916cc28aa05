/*
 * Kernel page tables. Generic code asks for mappings by virtual address and
 * abstract permissions; the x86_64 bits stay in paging.c.
 */
#ifndef CAPOS_ARCH_PAGING_H
#define CAPOS_ARCH_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/layout.h>
#include <arch/percpu.h>

#define VM_READ     0u /* every mapping is readable */
#define VM_WRITE    (1u << 0)
#define VM_EXEC     (1u << 1)
#define VM_USER     (1u << 2)
#define VM_UNCACHED (1u << 3)
/* Reported by vmspace_translate only: the address space owns the frame. */
#define VM_OWNED (1u << 4)

/* A physical range [base, end) of RAM to place in the direct map. */
struct paging_ram_range {
    uint64_t base, end;
};

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(DIRECT_MAP_BASE + pa);
}

static inline uint64_t kernel_virt_to_phys(const void *va)
{
    return (uint64_t)va - KERNEL_VMA;
}

/*
 * Build the kernel's own page tables (image sections with their own
 * permissions, the direct map over `ram`) and switch to them. The boot
 * identity map is gone afterwards, so a NULL dereference faults.
 */
void paging_init(const struct paging_ram_range *ram, int nram);

/* Map one 4 KiB page into the kernel half. False if out of frames. */
bool paging_map(uint64_t va, uint64_t pa, uint32_t vm_flags);
void paging_unmap(uint64_t va);
/* Translate va; false if not mapped. */
bool paging_translate(uint64_t va, uint64_t *pa_out, uint32_t *vm_flags_out);

/* Copy between kernel memory and the current address space's user memory
 * (range-checked by the caller); 0, or nonzero after a page fault. */
int arch_user_copy(void *dst, const void *src, size_t n);
/* The same for one aligned 4-byte word, read from user memory. */
int arch_user_load32(uint32_t *dst, const void *src);

/*
 * User address spaces: a private lower half and the shared kernel half.
 * `owned` marks frames the address space frees when it is destroyed (ELF
 * segments, stack, anonymous memory); shared frames (MemoryObject mappings)
 * are not owned.
 */
struct account;
struct vmspace {
    uint64_t pml4_phys;
    struct account *acct; /* pays for the page tables (FL_TABLES) */
    uint32_t cpus;        /* CPUs whose CR3 holds it (bit per index): shootdown targets */
    /* The last two pages vmspace_user_page found (an IPC buffer is used
     * again and again, and may cross a page boundary): user address (1:
     * none), kernel address, and whether it was found writable. Dropped
     * by every unmap and protect. */
    struct vm_seen {
        uint64_t va;
        uint8_t *page;
        bool writable;
    } seen[2];
};

/* An empty address space whose page tables are charged to acct; empty
 * tables are freed again when their last page is unmapped. */
bool vmspace_create(struct vmspace *vs, struct account *acct);
/* Map one user page; fails if va is not a user address or already mapped. */
bool vmspace_map(struct vmspace *vs, uint64_t va, uint64_t pa, uint32_t vm_flags, bool owned);
bool vmspace_unmap(struct vmspace *vs, uint64_t va, uint64_t *pa_out, bool *owned_out);
bool vmspace_protect(struct vmspace *vs, uint64_t va, uint32_t vm_flags);
bool vmspace_translate(const struct vmspace *vs, uint64_t va, uint64_t *pa_out,
                       uint32_t *flags_out);
/* The kernel's (direct-map) address of user byte va, if the CPU would let
 * user code read it (write: and write it); NULL otherwise. The two pages
 * found last are asked first, inline: each fast-path IPC hook asks once,
 * and under TCG a call's return is an indirect jump looked up again after
 * every CR3 write (docs/smp.md). The walk is out of line. */
void *vmspace_user_page_walk(struct vmspace *vs, uint64_t va, bool write);
static inline void *vmspace_user_page(struct vmspace *vs, uint64_t va, bool write)
{
    /* Only unmap and protect can take a page found away, and both drop
     * it. */
    uint64_t page = va & ~0xfffull;
    for (int i = 0; i < 2; i++)
        if (page == vs->seen[i].va && (vs->seen[i].writable || !write))
            return vs->seen[i].page + (va & 0xfff);
    return vmspace_user_page_walk(vs, va, write);
}
void vmspace_activate(struct vmspace *vs);
void vmspace_activate_kernel(void);
/* Whether this CPU's CR3 holds vs now (NULL: the kernel's tables), so
 * that vs's user addresses reach vs's memory (arch_user_copy). After a
 * switch, until vmspace_sync, it holds the previous thread's. */
static inline bool vmspace_in_cr3(const struct vmspace *vs)
{
    const struct vmspace *in;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(in) : "i"(ARCH_PERCPU_IN_CR3));
    return in == vs;
}
/* Make CR3 hold the space the last activate named (paging.c says why
 * the write waits): on every way out of the kernel lock. Before that, a
 * copy through CR3 asks vmspace_in_cr3 first (usercopy.h). */
void vmspace_sync_slow(void);
static inline void vmspace_sync(void)
{
    /* Three instructions when CR3 is up to date: this is on every way out
     * of the kernel. */
    __asm__ goto("mov %%gs:%c0, %%rax\n\t"
                 "cmp %%gs:%c1, %%rax\n\t"
                 "jne %l2"
                 :
                 : "i"(ARCH_PERCPU_LOADED), "i"(ARCH_PERCPU_IN_CR3)
                 : "rax", "cc"
                 : behind);
    return;
behind:
    vmspace_sync_slow();
}
/* Load the kernel's page tables without the per-CPU bookkeeping: a
 * starting CPU, before its per-CPU area exists. */
void paging_load_kernel_tables(void);
/* Free every user page table (releasing their charge) and owned frame;
 * returns the owned frames freed, for the caller to release. */
uint64_t vmspace_destroy(struct vmspace *vs);

#endif
