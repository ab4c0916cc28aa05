/* EntropySource: bytes from the kernel CSPRNG. */
#include "entropy.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/objects.h"

#define ENTROPY_MAX_FILL 256

static int entropy_fill_method(void *self, EntropySource_fill_Params_r params,
                               EntropySource_fill_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t len = EntropySource_fill_Params_get_length(params);
    if (!kcall_params_ok(kc))
        return CAPNPC_OK;
    if (len > ENTROPY_MAX_FILL)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "EntropySource.fill: length above 256 bytes");
    uint8_t *out = EntropySource_fill_Results_init_bytes(results, len);
    if (!out && len)
        return kcall_fail(kc, CapException_Type_overloaded, "no room for the result");
    if (len)
        entropy_fill(out, len);
    return CAPNPC_OK;
}

static const struct EntropySource_ops entropy_ops = {
    .fill = entropy_fill_method,
};

static int entropy_call(struct kobject *obj, struct kcall *kc)
{
    return EntropySource_dispatch(&entropy_ops, obj, kc->sqe->method, &kc->params, &kc->results,
                                  kc);
}

static const struct kobject_type entropy_type = {
    .name = "EntropySource",
    .iface = &EntropySource_IFACE,
    .call = entropy_call,
};

static struct kobject entropy = {.type = &entropy_type, .refs = 1};

struct kobject *entropy_object(void)
{
    return &entropy;
}
