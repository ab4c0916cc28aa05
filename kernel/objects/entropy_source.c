/* EntropySource: bytes from the kernel CSPRNG. */
#include "entropy.h"
#include "kcall.h"
#include "kobject.h"
#include "registry.h"

#define ENTROPY_MAX_FILL 256

static int entropy_fill_method(void *self, EntropySource_fill_Params_r params,
                               EntropySource_fill_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t len = EntropySource_fill_Params_get_length(params);
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

KOBJECT_TYPE(entropy_type, EntropySource, entropy_ops);

KOBJECT_SINGLETON(entropy_source, entropy, EntropySource, entropy_type);
