/*
 * What the QEMU test programs share (testlib.h says what each function
 * does). Linked into every program of user/tests/ (USER_SHARED_tests,
 * mk/link.mk).
 */
#include "testlib.h"

int failures;

/* The calls' own buffers. */
static uint8_t test_params[2048] __attribute__((aligned(8)));
static uint8_t test_results[1024] __attribute__((aligned(8)));

bool test_create_endpoint(uint32_t factory, uint64_t iface, uint32_t *server, uint32_t *client)
{
    uint32_t rcaps[2];
    struct capnpc_call c;
    EndpointFactory_create_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    capnpc_call_caps(&c, 0, 0, rcaps, 2);
    if (EndpointFactory_create_call(&capos_transport, factory, &c, iface, &r) != CAPNPC_OK)
        return false;
    uint32_t s = EndpointFactory_create_Results_get_server(r);
    uint32_t k = EndpointFactory_create_Results_get_client(r);
    if (s >= c.reply.ncaps || k >= c.reply.ncaps || s == k)
        return false;
    *server = rcaps[s];
    *client = rcaps[k];
    return true;
}

uint32_t test_spawn(uint32_t spawner, const char *binary, const struct test_grant *g, uint32_t n,
                    int *rc)
{
    return test_spawn_quota(spawner, binary, g, n, 0, rc);
}

static char exception_text[128];

const char *test_exception_message(void)
{
    return exception_text;
}

/* The one spawn all the others are: with a quota, and one export (name
 * NULL: none) whose client facet goes to *client. */
static uint32_t spawn_with(uint32_t spawner, const char *binary, const struct test_grant *g,
                           uint32_t n, uint32_t quota, const char *export_name, uint64_t iface,
                           uint32_t *client, int *rc)
{
    uint32_t caps[8], rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    capnpc_call_caps(&c, caps, 8, rcaps, 2);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, binary, (uint32_t)strlen(binary));
    ProcessSpawner_spawn_Params_set_binaryName(p, binary, (uint32_t)strlen(binary));
    ProcessSpawner_spawn_Params_set_quota(p, quota);
    List_ProcessSpawner_Grant_b gl = ProcessSpawner_spawn_Params_init_grants(p, n);
    for (uint32_t i = 0; i < n; i++) {
        ProcessSpawner_Grant_b gb = List_ProcessSpawner_Grant_at(gl, i);
        ProcessSpawner_Grant_set_name(gb, g[i].name, (uint32_t)strlen(g[i].name));
        ProcessSpawner_Grant_set_interfaceId(gb, g[i].iface);
        ProcessSpawner_Grant_set_cap(gb, capnpc_call_add_cap(&c, g[i].cap));
    }
    if (export_name) {
        List_Export_b xl = ProcessSpawner_spawn_Params_init_exports(p, 1);
        Export_set_name(List_Export_at(xl, 0), export_name, (uint32_t)strlen(export_name));
        Export_set_interfaceId(List_Export_at(xl, 0), iface);
    }
    ProcessSpawner_spawn_Results_r r;
    int st = ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &r);
    if (rc)
        *rc = st;
    exception_text[0] = 0;
    if (st == CAPNPC_EXCEPTION) {
        struct capn_text m = CapException_get_message(CapException_read_root(&c.msg));
        uint32_t len = m.len < sizeof(exception_text) - 1 ? m.len : sizeof(exception_text) - 1;
        memcpy(exception_text, m.str, len);
        exception_text[len] = 0;
    }
    if (st != CAPNPC_OK)
        return 0;
    if (export_name) {
        List_ProcessSpawner_Grant_r ex = ProcessSpawner_spawn_Results_get_exports(r);
        uint32_t ci = List_ProcessSpawner_Grant_len(ex) == 1
                          ? ProcessSpawner_Grant_get_cap(List_ProcessSpawner_Grant_get(ex, 0))
                          : UINT32_MAX;
        *client = ci < c.reply.ncaps ? rcaps[ci] : 0;
    }
    uint32_t hi = ProcessSpawner_spawn_Results_get_handle(r);
    return hi < c.reply.ncaps ? rcaps[hi] : 0;
}

uint32_t test_spawn_quota(uint32_t spawner, const char *binary, const struct test_grant *g,
                          uint32_t n, uint32_t quota, int *rc)
{
    return spawn_with(spawner, binary, g, n, quota, 0, 0, 0, rc);
}

uint32_t test_spawn_serving(uint32_t spawner, const char *binary, const struct test_grant *g,
                            uint32_t n, const char *export_name, uint64_t iface, uint32_t *client)
{
    *client = 0;
    return spawn_with(spawner, binary, g, n, 0, export_name, iface, client, 0);
}

int32_t test_wait_exit(uint32_t handle)
{
    struct capnpc_call c;
    ProcessHandle_wait_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    if (ProcessHandle_wait_call(&capos_transport, handle, &c, &r) != CAPNPC_OK)
        return INT32_MIN;
    return ProcessHandle_wait_Results_get_exitCode(r);
}

bool test_usage(uint32_t frames, struct test_usage *u)
{
    struct capnpc_call c;
    FrameAllocator_usage_Results_r r;
    capnpc_call_init(&c, test_params, sizeof(test_params), test_results, sizeof(test_results));
    if (FrameAllocator_usage_call(&capos_transport, frames, &c, &r) != CAPNPC_OK)
        return false;
    MemoryUsage_r m = FrameAllocator_usage_Results_get_usage(r);
    *u = (struct test_usage){
        .quota = MemoryUsage_get_quota(m),
        .held = MemoryUsage_get_held(m),
        .pages = MemoryUsage_get_pages(m),
        .tables = MemoryUsage_get_pageTables(m),
        .heap = MemoryUsage_get_kernelHeap(m),
        .stacks = MemoryUsage_get_kernelStacks(m),
        .children = MemoryUsage_get_children(m),
    };
    return true;
}
