/*
 * ThreadControl: the calling thread's control over itself. A singleton
 * that acts on whichever thread calls it, so it grants nothing a thread
 * could use on another.
 */
#include <capos/layout.h>

#include "kcall.h"
#include "kobject.h"
#include "registry.h"
#include "sched.h"

/* The thread ends at the safe point right after this batch of SQEs
 * (cap_enter: thread_exit_if_pending), not in the middle of the ring
 * consumer; this call's own completion is posted but never seen. */
static int control_exit(void *self, ThreadControl_exit_Params_r params,
                        ThreadControl_exit_Results_b results, void *ctx)
{
    struct thread *t = thread_current();
    t->exit_pending = true;
    t->exit_code = ThreadControl_exit_Params_get_code(params);
    return CAPNPC_OK;
}

static int control_set_tls(void *self, ThreadControl_setTlsBase_Params_r params,
                           ThreadControl_setTlsBase_Results_b results, void *ctx)
{
    uint64_t addr = ThreadControl_setTlsBase_Params_get_addr(params);
    if (addr >= CAPOS_USER_LIMIT)
        return kcall_fail(ctx, CapException_Type_invalidArgument,
                          "ThreadControl.setTlsBase: not a user address");
    arch_thread_set_tls(&thread_current()->arch, addr, 1);
    return CAPNPC_OK;
}

static const struct ThreadControl_ops control_ops = {
    .exit = control_exit,
    .setTlsBase = control_set_tls,
};

KOBJECT_TYPE(thread_control_type, ThreadControl, control_ops);

KOBJECT_SINGLETON(thread_control, threadControl, ThreadControl, thread_control_type);
