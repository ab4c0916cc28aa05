/* BootPackage: the boot module (the framed SystemManifest), read in chunks. */
#include "kcall.h"
#include "kobject.h"
#include "registry.h"

/* A chunk must fit the kernel's results arena with room for framing. */
#define CHUNK_MAX (KCALL_RESULT_ARENA - 256)

static const uint8_t *package;
static uint64_t package_len;

static int manifest_size(void *self, BootPackage_manifestSize_Params_r params,
                         BootPackage_manifestSize_Results_b results, void *ctx)
{
    BootPackage_manifestSize_Results_set_size(results, package_len);
    return CAPNPC_OK;
}

static int read_manifest(void *self, BootPackage_readManifest_Params_r params,
                         BootPackage_readManifest_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t offset = BootPackage_readManifest_Params_get_offset(params);
    uint32_t max = BootPackage_readManifest_Params_get_maxBytes(params);
    uint64_t n = offset >= package_len ? 0 : package_len - offset;
    if (n > max)
        n = max;
    if (n > CHUNK_MAX)
        n = CHUNK_MAX;
    uint8_t *out = BootPackage_readManifest_Results_init_data(results, (uint32_t)n);
    if (n && !out)
        return kcall_fail(kc, CapException_Type_overloaded, "no room for the chunk");
    for (uint64_t i = 0; i < n; i++)
        out[i] = package[offset + i];
    return CAPNPC_OK;
}

static const struct BootPackage_ops boot_package_ops = {
    .manifestSize = manifest_size,
    .readManifest = read_manifest,
};

KOBJECT_TYPE(boot_package_type, BootPackage, boot_package_ops);

static struct kobject boot_package = {.type = &boot_package_type, .refs = 1};

static struct kobject *boot_object(const struct boot_module *m)
{
    package = m->data;
    package_len = m->len;
    return &boot_package;
}

const struct kobject_class boot_package_class = {
    .name = "BootPackage",
    .source = KernelSource_bootPackage,
    .iface = &BootPackage_IFACE,
    .boot_object = boot_object,
};
