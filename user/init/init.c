/*
 * init: the first process. Reads the SystemManifest through BootPackage,
 * validates the whole service graph (lib/manifest.c, the same checker
 * mkmanifest uses) before starting anything, spawns every service with
 * exactly the capabilities the manifest grants it, and supervises them:
 * a service whose restart policy asks for it is started again (at most
 * MAX_RESTARTS times). init exits when no service is left running.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "manifest.h"

#define MAX_RESTARTS 3

struct service {
    Service_r cfg;
    uint32_t handle; /* ProcessHandle capability, 0 when not running */
    uint64_t wait_id;
    uint8_t results[64] __attribute__((aligned(8)));
    unsigned restarts;
};

static struct service services[MANIFEST_MAX_SERVICES];
static uint32_t nservices;
static uint32_t spawner;
static struct manifest m;

/* Init's own capability for a kernel source, by the CapSet entry init got
 * for it (manifest_check verified init holds every source it grants). */
static uint32_t held_kernel_cap(uint16_t src, uint64_t iface)
{
    Init_r init = InitConfig_get_init(SystemManifest_get_initConfig(m.root));
    List_CapGrant_r caps = Init_get_caps(init);
    for (uint32_t i = 0; i < List_CapGrant_len(caps); i++) {
        CapGrant_r g = List_CapGrant_get(caps, i);
        CapGrant_source_r s = CapGrant_get_source(g);
        if (CapGrant_source_which(s) == CapGrant_source_which_kernel &&
            CapGrant_source_get_kernel(s) == src) {
            struct capn_text name = CapGrant_get_name(g);
            char buf[MANIFEST_NAME_MAX + 1];
            memcpy(buf, name.str, name.len);
            buf[name.len] = 0;
            return capos_capset_find(buf, iface, 0);
        }
    }
    return 0;
}

static bool start(struct service *s)
{
    static uint8_t params[4096] __attribute__((aligned(8)));
    static uint8_t results[256] __attribute__((aligned(8)));
    uint32_t caps[MANIFEST_MAX_CAPS], result_caps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, MANIFEST_MAX_CAPS, result_caps, 2);

    struct capn_text name = Service_get_name(s->cfg), bin = Service_get_binary(s->cfg);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, name.str, name.len);
    ProcessSpawner_spawn_Params_set_binaryName(p, bin.str, bin.len);
    List_CapGrant_r grants = Service_get_caps(s->cfg);
    uint32_t n = List_CapGrant_len(grants);
    List_ProcessSpawner_Grant_b out = ProcessSpawner_spawn_Params_init_grants(p, n);
    for (uint32_t i = 0; i < n; i++) {
        CapGrant_r g = List_CapGrant_get(grants, i);
        CapGrant_source_r src = CapGrant_get_source(g);
        if (CapGrant_source_which(src) != CapGrant_source_which_kernel) {
            capos_printf("init: %.*s: capability %u comes from another service's export; "
                         "exports need endpoints, which this system does not have yet\n",
                         (int)name.len, name.str, i);
            return false;
        }
        uint64_t iface = CapGrant_get_interfaceId(g);
        uint32_t cap = held_kernel_cap((uint16_t)CapGrant_source_get_kernel(src), iface);
        struct capn_text gname = CapGrant_get_name(g);
        ProcessSpawner_Grant_b gb = List_ProcessSpawner_Grant_at(out, i);
        ProcessSpawner_Grant_set_name(gb, gname.str, gname.len);
        ProcessSpawner_Grant_set_interfaceId(gb, iface);
        ProcessSpawner_Grant_set_cap(gb, capnpc_call_add_cap(&c, cap));
    }
    ProcessSpawner_spawn_Results_r r;
    int rc = ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &r);
    if (rc != CAPNPC_OK) {
        const char *why = "transport error";
        struct capn_text msg = {0};
        if (rc == CAPNPC_EXCEPTION) {
            msg = CapException_get_message(CapException_read_root(&c.msg));
            why = "exception";
        }
        capos_printf("init: could not start %.*s: %s %d %.*s\n", (int)name.len, name.str, why, rc,
                     (int)msg.len, msg.str ? msg.str : "");
        return false;
    }
    uint32_t hi = ProcessSpawner_spawn_Results_get_handle(r);
    s->handle = hi < c.reply.ncaps ? result_caps[hi] : 0;
    capos_printf("init: started %.*s\n", (int)name.len, name.str);
    return s->handle != 0;
}

/* Queue a ProcessHandle.wait for s without waiting for it. */
static void watch(struct service *s)
{
    static uint8_t params[64] __attribute__((aligned(8)));
    /* An empty struct as the params: header, then the root pointer. */
    static const uint64_t empty[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    (void)params;
    s->wait_id = capos_ring_next_id();
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .cap = s->handle,
        .interface_id = ProcessHandle_INTERFACE_ID,
        .method = ProcessHandle_wait_METHOD,
        .params_addr = (uint64_t)empty,
        .params_len = sizeof(empty),
        .result_addr = (uint64_t)s->results,
        .result_len = sizeof(s->results),
        .user_data = s->wait_id,
    };
    if (!capos_ring_submit(&sqe))
        capos_panic("init: ring full while watching services");
}

static int32_t exit_code_of(struct service *s, const struct capos_cqe *cqe)
{
    if (cqe->result != 0)
        return INT32_MIN;
    struct capn_seg segs[2];
    struct capn_msg msg;
    if (capn_msg_read(&msg, segs, 2, s->results, cqe->result_len, 0) != CAPN_OK)
        return INT32_MIN;
    return ProcessHandle_wait_Results_get_exitCode(ProcessHandle_wait_Results_read_root(&msg));
}

static bool load_manifest(void)
{
    uint32_t boot = capos_capset_find("boot", BootPackage_INTERFACE_ID, 0);
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    if (!boot || !spawner) {
        capos_printf("init: needs \"boot\" (BootPackage) and \"spawner\" (ProcessSpawner)\n");
        return false;
    }
    static uint8_t params[64] __attribute__((aligned(8)));
    static uint8_t results[16384] __attribute__((aligned(8)));
    struct capnpc_call c;
    BootPackage_manifestSize_Results_r sr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (BootPackage_manifestSize_call(&capos_transport, boot, &c, &sr) != CAPNPC_OK)
        return false;
    uint64_t size = BootPackage_manifestSize_Results_get_size(sr);
    uint8_t *buf = capos_malloc(size ? size : 1);
    if (!buf) {
        capos_printf("init: no memory for a %lu-byte manifest\n", size);
        return false;
    }
    for (uint64_t off = 0; off < size;) {
        BootPackage_readManifest_Results_r rr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (BootPackage_readManifest_call(&capos_transport, boot, &c, off, 16000, &rr) !=
            CAPNPC_OK)
            return false;
        struct capn_data d = BootPackage_readManifest_Results_get_data(rr);
        if (d.len == 0 || d.len > size - off)
            return false;
        memcpy(buf + off, d.ptr, d.len);
        off += d.len;
    }
    struct manifest_error e;
    if (manifest_open(&m, buf, size, &e) != 0 || manifest_check(&m, &e) != 0) {
        capos_printf("init: the manifest is invalid: %s%s%s\n", e.path, e.path[0] ? ": " : "",
                     e.msg);
        return false;
    }
    capos_printf("init: manifest of %lu bytes checked: %u services\n", size,
                 List_Service_len(InitConfig_get_services(SystemManifest_get_initConfig(m.root))));
    return true;
}

int main(void)
{
    if (!load_manifest())
        return 1;
    List_Service_r list = InitConfig_get_services(SystemManifest_get_initConfig(m.root));
    nservices = List_Service_len(list);
    uint32_t running = 0;
    for (uint32_t i = 0; i < nservices; i++) {
        services[i].cfg = List_Service_get(list, i);
        if (start(&services[i])) {
            watch(&services[i]);
            running++;
        }
    }
    while (running > 0) {
        capos_cap_enter(1, UINT64_MAX);
        for (uint32_t i = 0; i < nservices; i++) {
            struct service *s = &services[i];
            struct capos_cqe cqe;
            if (!s->handle || !capos_ring_try_take(s->wait_id, &cqe))
                continue;
            int32_t code = exit_code_of(s, &cqe);
            struct capn_text name = Service_get_name(s->cfg);
            capos_printf("init: %.*s exited with code %d\n", (int)name.len, name.str, code);
            capos_release(s->handle);
            s->handle = 0;
            running--;
            RestartPolicy policy = Service_get_restart(s->cfg);
            bool again = policy == RestartPolicy_always || (policy == RestartPolicy_onFailure && code != 0);
            if (again && s->restarts < MAX_RESTARTS) {
                s->restarts++;
                capos_printf("init: restarting %.*s (%u of %u)\n", (int)name.len, name.str,
                             s->restarts, MAX_RESTARTS);
                if (start(s)) {
                    watch(s);
                    running++;
                }
            }
        }
    }
    capos_printf("init: no service left running; exiting\n");
    return 0;
}
