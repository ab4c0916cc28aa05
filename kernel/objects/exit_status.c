/* Exit status shared by a handle and what it names (exit_status.h). */
#include "objects/exit_status.h"

#include <capos/errors.h>

#include "heap.h"

struct exit_handle *exit_handle_new(struct account *a, size_t size, const struct kobject_type *type)
{
    struct exit_handle *h = kzalloc_in(a, size);
    struct exit_status *st = kzalloc_in(a, sizeof(*st));
    if (!h || !st) {
        kfree(h);
        kfree(st);
        return 0;
    }
    kobject_init(&h->obj, type);
    st->refs = 1;
    h->status = st;
    return h;
}

void exit_status_unref(struct exit_status *st)
{
    if (--st->refs == 0)
        kfree(st);
}

bool exit_status_wait(struct exit_status *st, struct pending_call *waiter, struct kcall *kc,
                      const char *busy, int *rc)
{
    if (st->exited)
        return false;
    if (st->waiting) {
        *rc = kcall_fail(kc, CapException_Type_failed, busy);
        return true;
    }
    st->waiting = true;
    st->waiter = waiter;
    *rc = kcall_defer(kc, waiter);
    return true;
}

void exit_status_wait_abandoned(struct exit_status *st)
{
    st->waiting = false;
}

void exit_status_report(struct exit_status *st, int32_t code, pending_build_fn build)
{
    st->exited = true;
    st->exit_code = code;
    if (st->waiting) {
        st->waiting = false;
        pending_call_complete_with(st->waiter, build, &st->exit_code);
    }
    exit_status_unref(st);
}

void exit_status_handle_gone(struct exit_status *st)
{
    if (st->waiting) {
        st->waiting = false;
        pending_call_complete(st->waiter, CAPOS_E_DISCONNECTED);
    }
    exit_status_unref(st);
}
