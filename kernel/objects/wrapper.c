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
#include "kcore/ring.h"
#include "kobject.h"
#include "objects/endpoint.h"
#include "process.h"
#include "registry.h"

#define WRAP_METHODS 256 /* ordinals that can be allowed */

/*
 * What a Revoker ends: shared by a revocable wrapper, every wrapper made
 * from it and the Revoker itself (each holds a reference). After revoke a
 * wrapper fails every call, and drops its reference to the wrapped object
 * on the first such call (or when it goes).
 */
struct revocation {
    struct kobject obj; /* the Revoker capability */
    bool revoked;
};

#define WRAP_MAX_REVOCATIONS 4 /* revocable wrappers of revocable wrappers ... */

struct wrapper {
    struct kobject obj;
    struct kobject *inner; /* never a wrapper; 0 once revoked */
    /* Any of these revoked ends the wrapper. Wrapping a wrapper copies its
     * revocations (and adds one if revocable), so wrappers never chain:
     * a call is one hop, and releasing one frees one object. */
    struct revocation *rev[WRAP_MAX_REVOCATIONS];
    uint32_t nrev;
    uint64_t allowed[WRAP_METHODS / 64];
};

static const struct kobject_type wrapper_type, revoker_type;

static bool wrapper_revoked(const struct wrapper *w)
{
    for (uint32_t i = 0; i < w->nrev; i++)
        if (w->rev[i]->revoked)
            return true;
    return false;
}

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
    if (wrapper_revoked(w)) {
        if (inner) {
            w->inner = 0;
            kobject_unref(inner);
        }
        kcall_fail_sqe(p, sqe, cqe, CapException_Type_disconnected, "this capability was revoked");
        return RING_POST;
    }
    if (inner->type->ring_call)
        return inner->type->ring_call(inner, p, e, sqe, cqe);
    return kcall_execute(p, inner, sqe, cqe) ? RING_POST : RING_DEFER;
}

static void wrapper_destroy(struct kobject *obj)
{
    struct wrapper *w = (struct wrapper *)obj;
    if (w->inner)
        kobject_unref(w->inner);
    for (uint32_t i = 0; i < w->nrev; i++)
        kobject_unref(&w->rev[i]->obj);
    kfree(w);
}

static void revoker_destroy(struct kobject *obj)
{
    kfree(obj);
}

static const struct kobject_type wrapper_type = {
    .name = "Wrapper",
    .ring_call = wrapper_call,
    .destroy = wrapper_destroy,
};

/* A wrapper of the call's capability `index` allowing `methods`; revocable
 * if `revocable` (its Revoker in *rev). Fails the call (returns nonzero
 * through kcall_fail) on bad input. */
static int make_wrapper(struct kcall *kc, uint32_t index, List_UInt16_r methods, bool revocable,
                        uint32_t *wrapped, uint32_t *revoker)
{
    uint64_t iface;
    uint32_t flags;
    struct kobject *target = kcall_param_cap(kc, index, &iface, &flags);
    if (!target)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "wrap: cap names no capability of the call");
    if (List_UInt16_len(methods) > WRAP_METHODS)
        return kcall_fail(kc, CapException_Type_invalidArgument, "wrap: more than 256 methods");
    struct wrapper *w = kzalloc_in(kc->caller->account, sizeof(*w));
    struct revocation *r = revocable ? kzalloc_in(kc->caller->account, sizeof(*r)) : 0;
    if (!w || (revocable && !r)) {
        kfree(w);
        kfree(r);
        return kcall_fail(kc, CapException_Type_overloaded,
                          "wrap: your frame quota cannot pay for another wrapper");
    }
    kobject_init(&w->obj, &wrapper_type);
    for (uint32_t i = 0; i < List_UInt16_len(methods); i++) {
        uint16_t m = List_UInt16_get(methods, i);
        if (m < WRAP_METHODS)
            w->allowed[m / 64] |= 1ull << (m % 64);
    }
    if (endpoint_is_owner(target)) {
        /* A wrapper can only CALL: it wraps the client facet, so that it
         * never keeps the endpoint open once its owners are gone. */
        target = endpoint_client_of(target);
    } else if (target->type == &wrapper_type) {
        /* Narrow the existing wrapper's set, keep its revocations, and
         * wrap its target: chains never grow. */
        struct wrapper *old = (struct wrapper *)target;
        if (wrapper_revoked(old)) {
            kfree(w);
            kfree(r);
            return kcall_fail(kc, CapException_Type_disconnected,
                              "wrap: that capability was revoked");
        }
        if (old->nrev + (r ? 1 : 0) > WRAP_MAX_REVOCATIONS) {
            kfree(w);
            kfree(r);
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "wrapRevocable: at most 4 revocable wrappers may be nested");
        }
        for (int k = 0; k < WRAP_METHODS / 64; k++)
            w->allowed[k] &= old->allowed[k];
        for (uint32_t i = 0; i < old->nrev; i++)
            w->rev[w->nrev++] = (struct revocation *)kobject_ref(&old->rev[i]->obj);
        target = old->inner;
    }
    w->inner = kobject_ref(target);
    if (r) {
        kobject_init(&r->obj, &revoker_type);
        w->rev[w->nrev++] = (struct revocation *)kobject_ref(&r->obj);
    }
    /* A wrapper only CALLs, even of an owner side (it wraps the client). */
    *wrapped = kcall_add_result_cap(kc, &w->obj, iface, flags & ~CAPF_OWNER);
    kobject_unref(&w->obj);
    if (r) {
        *revoker = kcall_add_result_cap(kc, &r->obj, Revoker_INTERFACE_ID, 0);
        kobject_unref(&r->obj);
    }
    if (*wrapped == CAPNPC_NO_CAP || (r && *revoker == CAPNPC_NO_CAP))
        return kcall_fail(kc, CapException_Type_failed, "wrap: no room for the result");
    return CAPNPC_OK;
}

static int wrap(void *self, Attenuator_wrap_Params_r params, Attenuator_wrap_Results_b results,
                void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t index = Attenuator_wrap_Params_get_cap(params);
    List_UInt16_r methods = Attenuator_wrap_Params_get_methods(params);
    uint32_t out;
    int rc = make_wrapper(kc, index, methods, false, &out, 0);
    if (rc == CAPNPC_OK)
        Attenuator_wrap_Results_set_wrapped(results, out);
    return rc;
}

static int wrap_revocable(void *self, Attenuator_wrapRevocable_Params_r params,
                          Attenuator_wrapRevocable_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t index = Attenuator_wrapRevocable_Params_get_cap(params);
    List_UInt16_r methods = Attenuator_wrapRevocable_Params_get_methods(params);
    uint32_t out, rev;
    int rc = make_wrapper(kc, index, methods, true, &out, &rev);
    if (rc == CAPNPC_OK) {
        Attenuator_wrapRevocable_Results_set_wrapped(results, out);
        Attenuator_wrapRevocable_Results_set_revoker(results, rev);
    }
    return rc;
}

static int revoke(void *self, Revoker_revoke_Params_r params, Revoker_revoke_Results_b results,
                  void *ctx)
{
    /* Wrappers drop their reference to the wrapped object on their next
     * call (or when they go); the flag is what makes them fail from now. */
    ((struct revocation *)self)->revoked = true;
    return CAPNPC_OK;
}

static const struct Revoker_ops revoker_ops = {.revoke = revoke};

KOBJECT_TYPE(revoker_type, Revoker, revoker_ops, .destroy = revoker_destroy);

static const struct Attenuator_ops attenuator_ops = {.wrap = wrap, .wrapRevocable = wrap_revocable};

KOBJECT_TYPE(attenuator_type, Attenuator, attenuator_ops);

KOBJECT_SINGLETON(attenuator, attenuator, Attenuator, attenuator_type);
