/* Processes: an address space, a capability table, a ring, threads. */
#ifndef CAPOS_PROCESS_H
#define CAPOS_PROCESS_H

#include <arch/paging.h>
#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "kcall.h"
#include "kcore/cap_table.h"
#include "kcore/frame_ledger.h"
#include "kcore/ring.h"

struct thread;
struct kobject;

/* What a spawned process's parent can still see after the process is gone
 * (ProcessHandle). Shared by the process and its handle; freed with the
 * last of them. */
struct process_status {
    uint32_t refs;
    bool exited;
    int32_t exit_code;
    bool waiting;               /* a ProcessHandle.wait is pending */
    struct kcall_token *waiter; /* its token (owned by the handle) */
};

#define PROCESS_NAME_MAX    32
#define PROCESS_CAP_SLOTS   CAP_DEFAULT_QUOTA
#define PROCESS_FRAME_QUOTA 16384 /* 64 MiB */

struct process {
    uint32_t pid;
    char name[PROCESS_NAME_MAX];
    struct vmspace vm;
    struct cap_table caps;
    struct cap_slot cap_slots[PROCESS_CAP_SLOTS];
    /* The ring page, as the kernel sees it (direct map). */
    volatile struct capos_ring *ring;
    struct ring_state ring_state;
    struct frame_account frames;
    struct thread *main_thread;
    /* A thread blocked in cap_enter waiting for completions, if any. */
    struct thread *cap_enter_waiter;
    uint32_t cap_enter_min;
    /* MemoryObjects mapped into this process, and those charged to it
     * (kernel/objects/memory_object.c). */
    struct mo_mapping *mo_mappings;
    /* Calls of this process whose completion is deferred (kcall.h). */
    struct kcall_token *pending_calls;
    uint32_t outstanding_calls; /* IPC CALLs in flight (endpoint.h limit) */
    uint64_t session_id;        /* random; keys caller-session references */
    /* The reference for the endpoint called last (ids are never reused),
     * so a client calling one server again skips the keyed hash. */
    uint64_t session_ref_ep;
    uint8_t session_ref[16];
    struct memory_object *mo_charged;
    int exit_code;
    bool exited;
    struct process_status *status; /* NULL for processes nobody waits for */
};

/* Every frame a process holds is charged here. */
extern struct frame_ledger process_frames;

/* A bootstrap capability for process_create. */
struct process_grant {
    const char *name;
    struct kobject *object; /* a reference is taken */
    uint64_t interface_id;
    uint32_t flags;
};

/*
 * Load an ELF image into a new process with the given bootstrap
 * capabilities (listed in its CapSet page in this order) and make its main
 * thread runnable. On failure prints why and returns NULL, having freed
 * everything it allocated.
 */
struct process *process_create(const char *name, const void *elf, size_t elf_len,
                               const struct process_grant *grants, unsigned ngrants);

void process_status_unref(struct process_status *st);

/* End the running thread's process with `code`. Does not return. */
_Noreturn void process_exit_current(int code);

struct process *process_current(void);
const struct vmspace *process_vmspace(const struct process *p);

/* Map a fresh zeroed page at va, owned by the address space and charged to
 * the process; false (nothing changed) at quota, out of memory, or if va is
 * already mapped. Undo with process_unmap_anon. */
bool process_map_anon(struct process *p, uint64_t va, uint32_t vm_flags);
/* Unmap an owned page and give its frame back; false if va is not one. */
bool process_unmap_anon(struct process *p, uint64_t va);

/* Wake the process's cap_enter waiter if enough completions are ready. */
void process_notify_completion(struct process *p);

#endif
