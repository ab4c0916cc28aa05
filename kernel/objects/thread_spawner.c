/*
 * ThreadSpawner: threads in the caller's own process (docs/threads.md).
 * A singleton: it names no process, so whoever holds it can only make
 * threads of their own, paid for by their own quota.
 *
 * What spawn checks is what can be checked now rather than discovered by a
 * fault later: the entry is mapped executable, the top of the stack is
 * mapped writable, and every address is in the user half.
 */
#include <capos/errors.h>
#include <capos/layout.h>

#include "kcall.h"
#include "kobject.h"
#include "objects/thread_handle.h"
#include "process.h"
#include "registry.h"
#include "thread.h"
#include "usercopy.h"

static bool mapped_with(struct process *p, uint64_t va, uint32_t need)
{
    uint64_t pa;
    uint32_t flags;
    return va < CAPOS_USER_LIMIT && vmspace_translate(&p->vm, va, &pa, &flags) &&
           (flags & VM_USER) && (flags & need) == need;
}

static int spawner_spawn(void *self, ThreadSpawner_spawn_Params_r params,
                         ThreadSpawner_spawn_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    struct thread_start s = {
        .entry = ThreadSpawner_spawn_Params_get_entry(params),
        .stack_top = ThreadSpawner_spawn_Params_get_stackTop(params),
        .arg = ThreadSpawner_spawn_Params_get_arg(params),
        .tls_base = ThreadSpawner_spawn_Params_get_tlsBase(params),
    };
    if (!mapped_with(p, s.entry, VM_EXEC))
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadSpawner.spawn: entry is not an executable user address");
    if (s.stack_top & 15)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadSpawner.spawn: stackTop must be 16-byte aligned");
    if (s.stack_top < 16 || !mapped_with(p, s.stack_top - 16, VM_WRITE))
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadSpawner.spawn: the 16 bytes below stackTop are not writable "
                          "user memory");
    if (s.tls_base >= CAPOS_USER_LIMIT)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadSpawner.spawn: tlsBase is not a user address");
    struct kobject *handle = thread_handle_create(p->account);
    if (!handle)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "ThreadSpawner.spawn: your frame quota cannot pay for a thread handle");
    const char *why;
    struct thread *t = thread_spawn(p, &s, &why);
    if (!t) {
        kobject_unref(handle);
        return kcall_fail(kc, CapException_Type_overloaded, why);
    }
    thread_handle_attach(handle, t);
    uint32_t hi = kcall_add_result_cap(kc, handle, ThreadHandle_INTERFACE_ID, CAPF_NO_TRANSFER);
    kobject_unref(handle);
    ThreadSpawner_spawn_Results_set_thread(results, hi);
    return CAPNPC_OK;
}

static const struct ThreadSpawner_ops spawner_ops = {.spawn = spawner_spawn};

KOBJECT_TYPE(thread_spawner_type, ThreadSpawner, spawner_ops);

KOBJECT_SINGLETON(thread_spawner, threads, ThreadSpawner, thread_spawner_type);
