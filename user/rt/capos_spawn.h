/*
 * ProcessSpawner.spawn requests, built in one place for every program
 * that starts others with a list of grants (tests, benchmarks); spawn.c.
 */
#ifndef CAPOS_RT_SPAWN_H
#define CAPOS_RT_SPAWN_H

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"

/* One CapSet entry of the child: a capability of ours under a name. */
struct capos_grant {
    const char *name;
    uint64_t iface;
    uint32_t cap;
};

struct capos_spawn_request {
    const char *name; /* the process's name; NULL: the binary's */
    const char *binary;
    const struct capos_grant *grants;
    uint32_t ngrants;
    uint32_t quota;          /* frames; 0: the kernel's default */
    const char *export_name; /* NULL: no export */
    uint64_t export_iface;
    uint32_t nexports; /* copies of that export (more than 1 only to test refusals) */
};

/* The params of r into c, which the caller set up (capnpc_call_init, and
 * capnpc_call_caps with room for r->ngrants capabilities and 1 +
 * nexports result capabilities); false if they did not fit. */
bool capos_spawn_params(struct capnpc_call *c, const struct capos_spawn_request *r);

/* After a successful ProcessSpawner_spawn_send: the child's handle, and
 * (client not NULL) the first export's client facet; 0 for any index
 * the reply does not back. rcaps: the result capability ids. */
uint32_t capos_spawn_result(const struct capnpc_call *c, ProcessSpawner_spawn_Results_r r,
                            const uint32_t *rcaps, uint32_t *client);

#endif
