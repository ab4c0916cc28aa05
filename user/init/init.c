/*
 * init: the first process. Reads the SystemManifest through BootPackage,
 * validates the whole service graph (lib/manifest/manifest.c, the same checker
 * mkmanifest uses) before starting anything, spawns every service with
 * exactly the capabilities the manifest grants it, and supervises them:
 * a service whose restart policy asks for it is started again (at most
 * MAX_RESTARTS times). init exits when no service is left running.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "manifest/manifest.h"

#define MAX_RESTARTS 3

struct service {
    Service_r cfg;
    bool started_once;
    /* Client facets of its exports, from its spawn (kept across restarts
     * only until the next spawn replaces them). */
    uint32_t nexports;
    uint32_t export_caps[MANIFEST_MAX_EXPORTS];
    struct capn_text export_names[MANIFEST_MAX_EXPORTS];
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

static bool same(struct capn_text a, struct capn_text b)
{
    return a.len == b.len && memcmp(a.str, b.str, a.len) == 0;
}

/* The client facet of `export` of service `name`, once it was spawned. */
static uint32_t export_cap(struct capn_text name, struct capn_text export)
{
    for (uint32_t i = 0; i < nservices; i++) {
        struct service *s = &services[i];
        if (!same(Service_get_name(s->cfg), name))
            continue;
        for (uint32_t k = 0; k < s->nexports; k++)
            if (same(s->export_names[k], export))
                return s->export_caps[k];
    }
    return 0;
}

/* Every service-sourced grant of s can be satisfied now. */
static bool ready(const struct service *s)
{
    List_CapGrant_r grants = Service_get_caps(s->cfg);
    for (uint32_t i = 0; i < List_CapGrant_len(grants); i++) {
        CapGrant_source_r src = CapGrant_get_source(List_CapGrant_get(grants, i));
        if (CapGrant_source_which(src) != CapGrant_source_which_service)
            continue;
        CapGrant_source_service_r from = CapGrant_source_get_service(src);
        if (!export_cap(CapGrant_source_service_get_name(from),
                        CapGrant_source_service_get_export(from)))
            return false;
    }
    return true;
}

static bool start(struct service *s)
{
    static uint8_t params[4096] __attribute__((aligned(8)));
    /* The spawn results: 128 bytes plus 96 per export (ProcessSpawner). */
    static uint8_t results[128 + 96 * MANIFEST_MAX_EXPORTS] __attribute__((aligned(8)));
    uint32_t caps[MANIFEST_MAX_CAPS], result_caps[1 + MANIFEST_MAX_EXPORTS];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, MANIFEST_MAX_CAPS, result_caps, 1 + MANIFEST_MAX_EXPORTS);

    struct capn_text name = Service_get_name(s->cfg), bin = Service_get_binary(s->cfg);
    ProcessSpawner_spawn_Params_b p = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(p, name.str, name.len);
    ProcessSpawner_spawn_Params_set_binaryName(p, bin.str, bin.len);
    /* MiB to frames; 0 keeps the kernel's default. The validator bounded
     * it, so this cannot overflow. */
    ProcessSpawner_spawn_Params_set_quota(p, Service_get_memoryMiB(s->cfg) * 256u);
    List_CapGrant_r grants = Service_get_caps(s->cfg);
    uint32_t n = List_CapGrant_len(grants);
    List_ProcessSpawner_Grant_b out = ProcessSpawner_spawn_Params_init_grants(p, n);
    for (uint32_t i = 0; i < n; i++) {
        CapGrant_r g = List_CapGrant_get(grants, i);
        CapGrant_source_r src = CapGrant_get_source(g);
        uint64_t iface = CapGrant_get_interfaceId(g);
        uint32_t cap;
        if (CapGrant_source_which(src) == CapGrant_source_which_kernel) {
            cap = held_kernel_cap((uint16_t)CapGrant_source_get_kernel(src), iface);
        } else {
            CapGrant_source_service_r from = CapGrant_source_get_service(src);
            cap = export_cap(CapGrant_source_service_get_name(from),
                             CapGrant_source_service_get_export(from));
        }
        struct capn_text gname = CapGrant_get_name(g);
        ProcessSpawner_Grant_b gb = List_ProcessSpawner_Grant_at(out, i);
        ProcessSpawner_Grant_set_name(gb, gname.str, gname.len);
        ProcessSpawner_Grant_set_interfaceId(gb, iface);
        ProcessSpawner_Grant_set_cap(gb, capnpc_call_add_cap(&c, cap));
    }
    List_Export_r exports = Service_get_exports(s->cfg);
    uint32_t ne = List_Export_len(exports);
    List_Export_b xb = ProcessSpawner_spawn_Params_init_exports(p, ne);
    for (uint32_t i = 0; i < ne; i++) {
        Export_r x = List_Export_get(exports, i);
        struct capn_text xn = Export_get_name(x);
        Export_set_name(List_Export_at(xb, i), xn.str, xn.len);
        Export_set_interfaceId(List_Export_at(xb, i), Export_get_interfaceId(x));
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
    /* Earlier facets (a restarted service) point at a closed endpoint. */
    for (uint32_t k = 0; k < s->nexports; k++)
        capos_release(s->export_caps[k]);
    List_ProcessSpawner_Grant_r got = ProcessSpawner_spawn_Results_get_exports(r);
    s->nexports = 0;
    for (uint32_t k = 0; k < List_ProcessSpawner_Grant_len(got) && k < MANIFEST_MAX_EXPORTS; k++) {
        ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(got, k);
        uint32_t ci = ProcessSpawner_Grant_get_cap(g);
        if (ci >= c.reply.ncaps)
            continue;
        /* The names live in the manifest, which outlives the reply. */
        s->export_names[s->nexports] = Export_get_name(List_Export_get(exports, k));
        s->export_caps[s->nexports++] = result_caps[ci];
    }
    capos_printf("init: started %.*s\n", (int)name.len, name.str);
    return s->handle != 0;
}

/* Queue a ProcessHandle.wait for s without waiting for it. */
static void watch(struct service *s)
{
    /* An empty struct as the params: header, then the root pointer. */
    static const uint64_t empty[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
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
        if (BootPackage_readManifest_call(&capos_transport, boot, &c, off, 16000, &rr) != CAPNPC_OK)
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
    for (uint32_t i = 0; i < nservices; i++)
        services[i].cfg = List_Service_get(list, i);
    /* Start services as their providers' exports become available; the
     * manifest check guarantees there is no cycle. */
    for (bool progress = true; progress;) {
        progress = false;
        for (uint32_t i = 0; i < nservices; i++) {
            struct service *s = &services[i];
            if (s->started_once || !ready(s))
                continue;
            s->started_once = true;
            progress = true;
            if (start(s)) {
                watch(s);
                running++;
            }
        }
    }
    while (running > 0) {
        capos_ring_wait_new();
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
            bool again =
                policy == RestartPolicy_always || (policy == RestartPolicy_onFailure && code != 0);
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
