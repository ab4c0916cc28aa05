/* ProcessSpawner.spawn requests (capos_spawn.h). */
#include "capos_spawn.h"

#include <string.h>

bool capos_spawn_params(struct capnpc_call *c, const struct capos_spawn_request *r)
{
    const char *name = r->name ? r->name : r->binary;
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(c);
    ProcessSpawner_spawn_Params_set_name(p, name, (uint32_t)strlen(name));
    ProcessSpawner_spawn_Params_set_binaryName(p, r->binary, (uint32_t)strlen(r->binary));
    ProcessSpawner_spawn_Params_set_quota(p, r->quota);
    List_ProcessSpawner_Grant_b gl = ProcessSpawner_spawn_Params_init_grants(p, r->ngrants);
    for (uint32_t i = 0; i < r->ngrants; i++) {
        ProcessSpawner_Grant_b g = List_ProcessSpawner_Grant_at(gl, i);
        ProcessSpawner_Grant_set_name(g, r->grants[i].name, (uint32_t)strlen(r->grants[i].name));
        ProcessSpawner_Grant_set_interfaceId(g, r->grants[i].iface);
        ProcessSpawner_Grant_set_cap(g, capnpc_call_add_cap(c, r->grants[i].cap));
    }
    if (r->export_name && r->nexports) {
        List_Export_b xl = ProcessSpawner_spawn_Params_init_exports(p, r->nexports);
        for (uint32_t i = 0; i < r->nexports; i++) {
            Export_set_name(List_Export_at(xl, i), r->export_name,
                            (uint32_t)strlen(r->export_name));
            Export_set_interfaceId(List_Export_at(xl, i), r->export_iface);
        }
    }
    return c->bld.err == CAPN_OK;
}

uint32_t capos_spawn_result(const struct capnpc_call *c, ProcessSpawner_spawn_Results_r r,
                            const uint32_t *rcaps, uint32_t *client)
{
    if (client) {
        List_ProcessSpawner_Grant_r ex = ProcessSpawner_spawn_Results_get_exports(r);
        uint32_t i = List_ProcessSpawner_Grant_len(ex)
                         ? ProcessSpawner_Grant_get_cap(List_ProcessSpawner_Grant_get(ex, 0))
                         : UINT32_MAX;
        *client = i < c->reply.ncaps ? rcaps[i] : 0;
    }
    uint32_t h = ProcessSpawner_spawn_Results_get_handle(r);
    return h < c->reply.ncaps ? rcaps[h] : 0;
}
