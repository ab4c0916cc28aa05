/*
 * Attenuation: a capability that forwards only some methods of another
 * (SPEC §5: the interface is the permission). A wrapper has the interface
 * of what it wraps; a CALL of a hidden method fails with an `unimplemented`
 * CapException, anything else goes to the wrapped object as if called
 * directly. Wrapping a wrapper intersects the method sets and wraps the
 * original, so chains never grow. A wrapper is never an endpoint's owner
 * side: it cannot RECV or RETURN.
 */
#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/objects.h"
#include "process.h"
#include "ring.h"

#define WRAP_METHODS 256 /* ordinals that can be allowed */

struct wrapper {
    struct kobject obj;
    struct kobject *inner;
    uint64_t allowed[WRAP_METHODS / 64];
};

static const struct kobject_type wrapper_type;

static int wrapper_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                        const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct wrapper *w = (struct wrapper *)obj;
    if (sqe->method >= WRAP_METHODS || !(w->allowed[sqe->method / 64] >> (sqe->method % 64) & 1)) {
        kcall_fail_sqe(p, sqe, cqe, CapException_Type_unimplemented,
                       "this capability does not offer that method");
        return RING_POST;
    }
    struct kobject *inner = w->inner;
    if (inner->type->ring_call)
        return inner->type->ring_call(inner, p, e, sqe, cqe);
    return kcall_execute(p, inner, sqe, cqe) ? RING_POST : RING_DEFER;
}

static void wrapper_destroy(struct kobject *obj)
{
    struct wrapper *w = (struct wrapper *)obj;
    kobject_unref(w->inner);
    kfree(w);
}

static const struct kobject_type wrapper_type = {
    .name = "Wrapper",
    .ring_call = wrapper_call,
    .destroy = wrapper_destroy,
};

static int wrap(void *self, Attenuator_wrap_Params_r params, Attenuator_wrap_Results_b results,
                void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t index = Attenuator_wrap_Params_get_cap(params);
    List_UInt16_r methods = Attenuator_wrap_Params_get_methods(params);
    if (!kcall_params_ok(kc))
        return CAPNPC_OK;
    uint64_t iface;
    uint32_t flags;
    struct kobject *target = kcall_param_cap(kc, index, &iface, &flags);
    if (!target)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "wrap: cap names no capability of the call");
    if (List_UInt16_len(methods) > WRAP_METHODS)
        return kcall_fail(kc, CapException_Type_invalidArgument, "wrap: more than 256 methods");
    struct wrapper *w = kzalloc(sizeof(*w));
    if (!w)
        return kcall_fail(kc, CapException_Type_overloaded, "wrap: out of kernel memory");
    kobject_init(&w->obj, &wrapper_type);
    for (uint32_t i = 0; i < List_UInt16_len(methods); i++) {
        uint16_t m = List_UInt16_get(methods, i);
        if (m < WRAP_METHODS)
            w->allowed[m / 64] |= 1ull << (m % 64);
    }
    if (target->type == &wrapper_type) {
        /* Narrow the existing wrapper's set and wrap its target. */
        struct wrapper *old = (struct wrapper *)target;
        for (int k = 0; k < WRAP_METHODS / 64; k++)
            w->allowed[k] &= old->allowed[k];
        target = old->inner;
    }
    w->inner = kobject_ref(target);
    uint32_t out = kcall_add_result_cap(kc, &w->obj, iface, flags);
    kobject_unref(&w->obj);
    if (out == CAPNPC_NO_CAP)
        return kcall_fail(kc, CapException_Type_failed, "wrap: no room for the result");
    Attenuator_wrap_Results_set_wrapped(results, out);
    return CAPNPC_OK;
}

static const struct Attenuator_ops attenuator_ops = {.wrap = wrap};

static int attenuator_call(struct kobject *obj, struct kcall *kc)
{
    return Attenuator_dispatch(&attenuator_ops, obj, kc->sqe->method, &kc->params, &kc->results,
                               kc);
}

static const struct kobject_type attenuator_type = {
    .name = "Attenuator",
    .iface = &Attenuator_IFACE,
    .call = attenuator_call,
};

static struct kobject attenuator = {.type = &attenuator_type, .refs = 1};

struct kobject *attenuator_object(void)
{
    return &attenuator;
}
