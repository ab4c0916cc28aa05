/* Processes: an address space, a capability table, threads (thread.h). */
#ifndef CAPOS_PROCESS_H
#define CAPOS_PROCESS_H

#include <arch/paging.h>
#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "kcore/cap_table.h"
#include "kcore/ring.h"
#include "pending_call.h"
#include "sched.h"

struct thread;
struct kobject;

#define PROCESS_NAME_MAX  32
#define PROCESS_CAP_SLOTS CAP_DEFAULT_QUOTA
/* The quota of a child whose spawner names none: 16 MiB. */
#define PROCESS_DEFAULT_QUOTA 4096

struct process {
    uint32_t pid;
    char name[PROCESS_NAME_MAX];
    struct vmspace vm;
    /* Its slots follow object_state in the same block (process_create):
     * the table's header, the low slots and the per-class state (IPC's
     * calls in flight among them) then share the struct's first page, the
     * one page of the process a round trip touches (docs/smp.md). */
    struct cap_table caps;
    /* Pays for everything the process makes the kernel allocate,
     * this struct included (account.h). */
    struct account *account;
    /* Its threads (thread.h), each with its own ring; slot i of
     * slots_used is taken by one of them. */
    struct thread *threads;
    struct thread *main_thread; /* NULL once it has ended */
    uint32_t nthreads;
    uint64_t slots_used;
    int exit_code;
    bool exited;
    /* process_kill: exit with kill_code at the next safe point. */
    bool kill_pending;
    int kill_code;
    /* Per-process state of kernel object classes (objects/registry.h),
     * registry_process_state_size() bytes, zeroed at creation. */
    uint8_t object_state[] __attribute__((aligned(8)));
};

/* A class's per-process state, at the offset the registry gave it. */
static inline void *process_object_state(struct process *p, uint32_t offset)
{
    return p->object_state + offset;
}

/* A bootstrap capability for process_create. */
struct process_grant {
    const char *name;
    struct kobject *object; /* a reference is taken */
    uint64_t interface_id;
    uint32_t flags;
};

/* Before the first process: the object registry and the frame ledger. */
void process_init(void);

/*
 * Load an ELF image into a new process with the given bootstrap
 * capabilities (listed in its CapSet page in this order) and make its main
 * thread runnable. Its account gets `quota` frames carved out of
 * `parent`'s. On failure sets *why, prints it and returns NULL, having
 * freed everything it allocated.
 */
struct process *process_create(const char *name, const void *elf, size_t elf_len,
                               const struct process_grant *grants, unsigned ngrants,
                               struct account *parent, uint64_t quota, const char **why);

/* End the running thread's process with `code`. Does not return. */
_Noreturn void process_exit_current(int code);

/*
 * Make p exit with `code` the next time one of its threads is at a safe
 * point in the kernel: returning from cap_enter (blocked threads are woken
 * for it) or a timer tick in user mode. p is not running: there is one
 * CPU and the caller is running.
 */
void process_kill(struct process *p, int code);
/* The safe point: exit if the running process was killed. */
_Noreturn void process_exit_killed(void);
static inline void process_exit_if_killed(struct process *p)
{
    if (__builtin_expect(p && p->kill_pending, 0))
        process_exit_killed();
}

/* process_current(): sched.h. */
struct vmspace *process_vmspace(struct process *p);

/* Map a fresh zeroed page at va, owned by the address space and charged to
 * the process; false (nothing changed) at quota, out of memory, or if va is
 * already mapped. Undo with process_unmap_anon. */
bool process_map_anon(struct process *p, uint64_t va, uint32_t vm_flags);
/* Unmap an owned page and give its frame back; false if va is not one. */
bool process_unmap_anon(struct process *p, uint64_t va);

#endif
