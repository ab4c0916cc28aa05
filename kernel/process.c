/*
 * Process creation from an ELF image, and process exit.
 *
 * Every user page a process owns (ELF segments, stack, ring, CapSet page,
 * anonymous memory) is mapped "owned" in its address space and charged to
 * its account as FL_PAGES, so destroying the address space frees exactly
 * what the account holds of them; a mismatch is a kernel bug and panics.
 * The process struct itself is a block of its own account's heap.
 */
#include "process.h"

#include <arch/paging.h>
#include <capos/capset.h>
#include <capos/errors.h>
#include <capos/layout.h>

#include "account.h"
#include "heap.h"
#include "kcore/elf64.h"
#include "kobject.h"
#include "kprintf.h"
#include "memory.h"
#include "registry.h"
#include "sched.h"
#include "string.h"
#include "thread.h"

static uint32_t next_pid = 1;

void process_init(void)
{
    registry_init();
    account_machine_init();
}

struct vmspace *process_vmspace(struct process *p)
{
    return &p->vm;
}

/* Map one fresh zeroed page, owned by and charged to p. */
static bool map_new_page(struct process *p, uint64_t va, uint32_t flags, uint64_t *pa_out)
{
    uint64_t pa;
    if (!account_frame_alloc(p->account, FL_PAGES, &pa))
        return false;
    if (!vmspace_map(&p->vm, va, pa, flags, true)) {
        account_frame_free(p->account, FL_PAGES, pa);
        return false;
    }
    if (pa_out)
        *pa_out = pa;
    return true;
}

bool process_map_anon(struct process *p, uint64_t va, uint32_t vm_flags)
{
    return map_new_page(p, va, vm_flags, 0);
}

bool process_unmap_anon(struct process *p, uint64_t va)
{
    uint64_t pa;
    uint32_t flags;
    bool owned;
    /* Only owned pages: a MemoryObject's pages go through its unmap. */
    if (!vmspace_translate(&p->vm, va, &pa, &flags) || !(flags & VM_OWNED))
        return false;
    vmspace_unmap(&p->vm, va, &pa, &owned);
    account_frame_free(p->account, FL_PAGES, pa);
    return true;
}

static bool load_segment(struct process *p, const uint8_t *image, const struct elf64_segment *s)
{
    uint32_t flags =
        (s->perms & ELF64_PERM_W ? VM_WRITE : 0) | (s->perms & ELF64_PERM_X ? VM_EXEC : 0);
    uint64_t first = s->vaddr & ~0xfffull, end = s->vaddr + s->memsz;
    for (uint64_t va = first; va < end; va += PAGE_SIZE) {
        uint64_t pa;
        if (!map_new_page(p, va, flags, &pa))
            return false;
        /* The part of [vaddr, vaddr + filesz) that falls in this page. */
        uint64_t lo = va > s->vaddr ? va : s->vaddr;
        uint64_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE : s->vaddr + s->filesz;
        if (lo < hi)
            memcpy((uint8_t *)phys_to_virt(pa) + (lo - va), image + s->offset + (lo - s->vaddr),
                   hi - lo);
    }
    return true;
}

static bool build_capset(struct process *p, const struct process_grant *grants, unsigned n)
{
    uint64_t pa;
    if (!map_new_page(p, CAPOS_USER_CAPSET_ADDR, VM_READ, &pa))
        return false;
    struct capos_capset *cs = phys_to_virt(pa);
    cs->magic = CAPOS_CAPSET_MAGIC;
    for (unsigned i = 0; i < n; i++) {
        struct cap_entry e = {
            .object = grants[i].object,
            .interface_id = grants[i].interface_id,
            .flags = grants[i].flags,
        };
        uint32_t id;
        if (cap_table_insert(&p->caps, &e, &id) != CAP_OK)
            return false;
        kobject_ref(grants[i].object);
        struct capos_capset_entry *ce = &cs->entries[cs->count++];
        size_t len = strlen(grants[i].name);
        memcpy(ce->name, grants[i].name, len < CAPOS_CAPSET_NAME_MAX ? len : CAPOS_CAPSET_NAME_MAX);
        ce->interface_id = grants[i].interface_id;
        ce->cap = id;
    }
    return true;
}

static void drop_cap(void *ctx, uint32_t id, const struct cap_entry *e)
{
    (void)ctx;
    (void)id;
    kobject_unref(e->object);
}

/* Free everything a process holds except its thread and the struct, and
 * close its account: from now on it only pays for what others still use. */
static void process_release(struct process *p)
{
    cap_table_drain(&p->caps, drop_cap, 0);
    registry_process_exit(p);
    struct frame_account *f = &p->account->frames;
    if (p->vm.pml4_phys) {
        uint64_t owned = vmspace_destroy(&p->vm);
        if (owned > f->by_kind[FL_PAGES] || f->by_kind[FL_TABLES] != 0)
            panic("process %s: frame ledger off after exit: %lu pages freed, %lu charged, "
                  "%lu page tables left",
                  p->name, owned, f->by_kind[FL_PAGES], f->by_kind[FL_TABLES]);
        account_release(p->account, FL_PAGES, owned);
    }
    account_close(p->account);
}

struct process *process_create(const char *name, const void *elf, size_t elf_len,
                               const struct process_grant *grants, unsigned ngrants,
                               struct account *parent, uint64_t quota, const char **why)
{
    struct elf64_info info;
    *why = "invalid ELF image";
    enum elf64_status es =
        elf64_parse(elf, elf_len, CAPOS_USER_IMAGE_BASE, CAPOS_USER_IMAGE_LIMIT, &info);
    if (es != ELF64_OK) {
        if (info.error_phdr == ELF64_NO_PHDR)
            kprintf("process %s: invalid ELF image: %s\n", name, elf64_status_str(es));
        else
            kprintf("process %s: invalid ELF image: %s (program header %u)\n", name,
                    elf64_status_str(es), info.error_phdr);
        return 0;
    }
    if (ngrants > CAPOS_CAPSET_MAX_ENTRIES || ngrants > PROCESS_CAP_SLOTS) {
        kprintf("process %s: %u bootstrap capabilities, at most %u fit\n", name, ngrants,
                (unsigned)CAPOS_CAPSET_MAX_ENTRIES);
        *why = "too many bootstrap capabilities";
        return 0;
    }
    struct account *acct = account_create(parent, quota, name, next_pid, why);
    if (!acct) {
        kprintf("process %s: %s\n", name, *why);
        return 0;
    }
    size_t slots_at =
        (sizeof(struct process) + registry_process_state_size() + _Alignof(struct cap_slot) - 1) &
        ~(_Alignof(struct cap_slot) - 1);
    struct process *p = kzalloc_in(acct, slots_at + PROCESS_CAP_SLOTS * sizeof(struct cap_slot));
    if (!p) {
        *why = "its frame quota is too small for the process itself";
        kprintf("process %s: %s\n", name, *why);
        account_close(acct);
        return 0;
    }
    p->account = acct;
    size_t nlen = strlen(name);
    memcpy(p->name, name, nlen < PROCESS_NAME_MAX - 1 ? nlen : PROCESS_NAME_MAX - 1);
    cap_table_init(&p->caps, (struct cap_slot *)((uint8_t *)p + slots_at), PROCESS_CAP_SLOTS,
                   PROCESS_CAP_SLOTS);
    *why = "its frame quota is too small to load it";
    if (!vmspace_create(&p->vm, acct))
        goto fail;

    for (uint32_t i = 0; i < info.nsegs; i++)
        if (!load_segment(p, elf, &info.segs[i]))
            goto fail;
    /* The stack; the page below it stays unmapped as a guard. */
    for (uint64_t va = CAPOS_USER_STACK_TOP - CAPOS_USER_STACK_SIZE; va < CAPOS_USER_STACK_TOP;
         va += PAGE_SIZE)
        if (!map_new_page(p, va, VM_WRITE, 0))
            goto fail;
    if (!build_capset(p, grants, ngrants))
        goto fail;

    p->pid = next_pid++;
    if (!thread_create_main(p, info.entry, info.has_tls ? &info.tls : 0, elf))
        goto fail;
    thread_start_running(p->main_thread);
    kprintf("process %s: pid %u started, %lu of %lu frames\n", p->name, p->pid, acct->frames.held,
            acct->frames.quota);
    return p;

fail:
    kprintf("process %s: %s (%lu frames)\n", name, *why, quota);
    process_release(p);
    kfree(p);
    return 0;
}

void process_exit_current(int code)
{
    struct process *p = process_current();
    if (!p->exited) {
        p->exit_code = code;
        p->exited = true;
        /* Threads running on other CPUs cannot be ended from here: they
         * stop at their next kernel exit (kernel_return_to_user), as if
         * killed, and the last one to stop frees the process. */
        p->kill_pending = true;
        p->kill_code = code;
        kprintf("process %s: pid %u exited with code %d\n", p->name, p->pid, code);
        thread_end_all(p, thread_current());
    } else {
        thread_leave_exiting(p, thread_current());
    }
    /* The thread outlives the struct by one switch; schedule() does not
     * look at a dead thread's process. */
    thread_current()->process = 0;
    if (p->nthreads == 0) {
        process_release(p);
        kfree(p);
    }
    sched_exit_thread();
}

void process_kill(struct process *p, int code)
{
    if (p->exited || p->kill_pending)
        return;
    p->kill_pending = true;
    p->kill_code = code;
    kprintf("process %s: pid %u killed by %s (pid %u)\n", p->name, p->pid, process_current()->name,
            process_current()->pid);
    /* Threads blocked in cap_enter: wake them to reach the safe point;
     * threads running on other CPUs: interrupt them to reach it. */
    thread_wake_all(p);
}

void process_exit_killed(void)
{
    process_exit_current(process_current()->kill_code);
}
