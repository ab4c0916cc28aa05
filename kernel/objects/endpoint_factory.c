/* EndpointFactory: endpoints made at run time (kernel source "endpoints"). */
#include "kcall.h"
#include "kobject.h"
#include "objects/endpoint.h"
#include "process.h"
#include "registry.h"

static int factory_create(void *self, EndpointFactory_create_Params_r params,
                          EndpointFactory_create_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t iface = EndpointFactory_create_Params_get_interfaceId(params);
    if (iface == 0)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "create: interfaceId is 0; expected the id of the interface served");
    struct kobject *owner, *client;
    if (!endpoint_create(kc->caller->account, &owner, &client))
        return kcall_fail(kc, CapException_Type_overloaded,
                          "create: your frame quota cannot pay for another endpoint");
    uint32_t s = kcall_add_result_cap(kc, owner, iface, CAPF_OWNER);
    uint32_t c = kcall_add_result_cap(kc, client, iface, CAPF_CLIENT);
    kobject_unref(owner);
    kobject_unref(client);
    if (s == CAPNPC_NO_CAP || c == CAPNPC_NO_CAP)
        return kcall_fail(kc, CapException_Type_failed, "create: no room for the results");
    EndpointFactory_create_Results_set_server(results, s);
    EndpointFactory_create_Results_set_client(results, c);
    return CAPNPC_OK;
}

static const struct EndpointFactory_ops factory_ops = {.create = factory_create};

KOBJECT_TYPE(factory_type, EndpointFactory, factory_ops);

KOBJECT_SINGLETON(endpoint_factory, endpoints, EndpointFactory, factory_type);
