/*
 * The service graph of a SystemManifest (manifest.h): unique service names,
 * binaries, exports, every capability source resolved with a matching
 * interface, and no dependency cycles.
 */
#include "manifest/manifest.h"
#include "manifest/manifest_impl.h"

/* ---- The service graph ---- */

#define SERVICES "initConfig.services"

/* "service.export", quoted. */
static void put_ref(struct sbuf *b, struct capn_text svc, struct capn_text exp)
{
    mf_put(b, "\"");
    mf_put_esc(b, svc);
    mf_put(b, ".");
    mf_put_esc(b, exp);
    mf_put(b, "\"");
}

static int find_service(const struct mf_graph *g, struct capn_text name)
{
    for (uint32_t j = 0; j < g->n; j++)
        if (capn_text_eq(g->names[j], name))
            return (int)j;
    return -1;
}

static int find_export(List_Export_r ex, struct capn_text name)
{
    uint32_t n = List_Export_len(ex);
    for (uint32_t k = 0; k < n && k < MANIFEST_MAX_EXPORTS; k++)
        if (capn_text_eq(Export_get_name(List_Export_get(ex, k)), name))
            return (int)k;
    return -1;
}

static int find_cap(List_CapGrant_r caps, uint32_t n, struct capn_text name)
{
    for (uint32_t k = 0; k < n; k++)
        if (capn_text_eq(CapGrant_get_name(List_CapGrant_get(caps, k)), name))
            return (int)k;
    return -1;
}

static bool check_exports(struct ck *c, int i, List_Export_r ex, uint32_t nex, List_CapGrant_r caps,
                          uint32_t ncaps)
{
    struct sbuf *b;
    for (uint32_t k = 0; k < nex; k++) {
        Export_r x = List_Export_get(ex, k);
        struct capn_text name = Export_get_name(x);
        if (!mf_check_name(c, name, SERVICES, i, "exports", (int)k, "name"))
            return false;
        int dup = find_export(ex, name), cap = find_cap(caps, ncaps, name);
        if ((uint32_t)dup < k || cap >= 0) {
            b = mf_fail(c, MANIFEST_E_DUPLICATE, SERVICES, i, "exports", (int)k, "name");
            mf_put_q(b, name);
            mf_put(b, (uint32_t)dup < k ? " is also the name of exports["
                                        : " is also the name of caps[");
            mf_put_u(b, (uint32_t)dup < k ? (uint32_t)dup : (uint32_t)cap);
            mf_put(b, "]: a service's caps and exports share its CapSet, so names must be unique");
            return false;
        }
        if (Export_get_interfaceId(x) == 0) {
            mf_put(mf_fail(c, MANIFEST_E_INTERFACE, SERVICES, i, "exports", (int)k, "interfaceId"),
                   "missing: expected the id of the interface the export serves");
            return false;
        }
    }
    return mf_msg_ok(c, SERVICES, i, "exports", -1, NULL);
}

/* A service's own fields; its service sources are resolved later. */
static bool check_service(struct ck *c, struct mf_graph *g, uint32_t i)
{
    struct proc p = {SERVICES, (int)i};
    Service_r s = List_Service_get(g->svcs, i);
    struct sbuf *b;
    if (!mf_check_binary_ref(c, Service_get_binary(s), p.base, p.i))
        return false;
    unsigned restart = Service_get_restart(s);
    if (restart >= RestartPolicy_COUNT) {
        b = mf_fail(c, MANIFEST_E_VALUE, p.base, p.i, "restart", -1, NULL);
        mf_put(b, "unknown restart policy ");
        mf_put_u(b, restart);
        mf_put(b, ": expected never, onFailure or always");
        return false;
    }
    uint32_t mib = Service_get_memoryMiB(s);
    if (mib > MANIFEST_MAX_MEMORY_MIB) {
        b = mf_fail(c, MANIFEST_E_VALUE, p.base, p.i, "memoryMiB", -1, NULL);
        mf_put_u(b, mib);
        mf_put(b, " MiB is more than the 65536 a service may ask for");
        return false;
    }
    List_Export_r ex = Service_get_exports(s);
    List_CapGrant_r caps = Service_get_caps(s);
    uint32_t nex = List_Export_len(ex), ncaps = List_CapGrant_len(caps);
    if (!mf_msg_ok(c, p.base, p.i, NULL, -1, NULL) ||
        !mf_check_len(c, ncaps, MANIFEST_MAX_CAPS, "capabilities", p.base, p.i, "caps") ||
        !mf_check_len(c, nex, MANIFEST_MAX_EXPORTS, "exports", p.base, p.i, "exports"))
        return false;
    if (ncaps + nex > MANIFEST_MAX_CAPS) {
        b = mf_fail(c, MANIFEST_E_TOO_MANY, p.base, p.i, "caps", -1, NULL);
        mf_put_u(b, ncaps);
        mf_put(b, " capabilities and ");
        mf_put_u(b, nex);
        mf_put(b, " exports; a CapSet holds at most 64");
        return false;
    }
    return mf_check_caps(c, p, caps, ncaps) && check_exports(c, p.i, ex, nex, caps, ncaps);
}

/* Service sources: the service and its export exist, with the interface
 * the grant expects. Records the dependency for the cycle check. */
static bool resolve_caps(struct ck *c, struct mf_graph *g, uint32_t i)
{
    Service_r s = List_Service_get(g->svcs, i);
    List_CapGrant_r caps = Service_get_caps(s);
    uint32_t n = List_CapGrant_len(caps);
    struct sbuf *b;
    for (uint32_t k = 0; k < n; k++) {
        CapGrant_r cap = List_CapGrant_get(caps, k);
        CapGrant_source_r src = CapGrant_get_source(cap);
        if (CapGrant_source_which(src) != CapGrant_source_which_service)
            continue;
        CapGrant_source_service_r ref = CapGrant_source_get_service(src);
        struct capn_text sn = CapGrant_source_service_get_name(ref);
        struct capn_text xn = CapGrant_source_service_get_export(ref);
        if (!mf_check_name(c, sn, SERVICES, (int)i, "caps", (int)k, "source.service.name") ||
            !mf_check_name(c, xn, SERVICES, (int)i, "caps", (int)k, "source.service.export"))
            return false;
        int j = find_service(g, sn);
        List_Export_r ex = j < 0 ? (List_Export_r){0}
                                 : Service_get_exports(List_Service_get(g->svcs, (uint32_t)j));
        int x = j < 0 ? -1 : find_export(ex, xn);
        if (x < 0) {
            b = mf_fail(c, MANIFEST_E_SOURCE, SERVICES, (int)i, "caps", (int)k, "source");
            mf_put(b, "no service exports ");
            put_ref(b, sn, xn);
            mf_put(b, j < 0 ? ": there is no service " : ": service ");
            mf_put_q(b, sn);
            if (j >= 0) {
                mf_put(b, " has no export ");
                mf_put_q(b, xn);
            }
            return false;
        }
        uint64_t want = CapGrant_get_interfaceId(cap);
        uint64_t have = Export_get_interfaceId(List_Export_get(ex, (uint32_t)x));
        if (want != have) {
            b = mf_fail(c, MANIFEST_E_INTERFACE, SERVICES, (int)i, "caps", (int)k, "interfaceId");
            mf_put(b, "expects ");
            mf_put_iface(b, want);
            mf_put(b, ", but ");
            put_ref(b, sn, xn);
            mf_put(b, " is a ");
            mf_put_iface(b, have);
            return false;
        }
        g->deps[i] |= 1ull << j;
    }
    return mf_msg_ok(c, SERVICES, (int)i, "caps", -1, NULL);
}

/* stack[q..sp-1] is a dependency path ending in a service that uses v =
 * stack[q]. Report it at the grant that closes the cycle. */
static bool report_cycle(struct ck *c, struct mf_graph *g, const uint8_t *stack, uint32_t sp,
                         uint32_t v)
{
    uint32_t u = stack[sp - 1], q = 0;
    while (stack[q] != v)
        q++;
    List_CapGrant_r caps = Service_get_caps(List_Service_get(g->svcs, u));
    uint32_t n = List_CapGrant_len(caps), k = 0;
    for (; k < n; k++) {
        CapGrant_source_r src = CapGrant_get_source(List_CapGrant_get(caps, k));
        if (CapGrant_source_which(src) == CapGrant_source_which_service &&
            capn_text_eq(CapGrant_source_service_get_name(CapGrant_source_get_service(src)),
                         g->names[v]))
            break;
    }
    struct sbuf *b = mf_fail(c, MANIFEST_E_CYCLE, SERVICES, (int)u, "caps", (int)k, "source");
    mf_put(b, "dependency cycle: ");
    for (uint32_t t = q; t < sp; t++) {
        mf_put_q(b, g->names[stack[t]]);
        mf_put(b, " -> ");
    }
    mf_put_q(b, g->names[v]);
    mf_put(b, u == v ? " (a service cannot use its own exports)"
                     : ": expected services to depend on each other without cycles");
    return false;
}

/* Depth-first search without recursion; the stack holds at most n
 * services, since each is pushed once. */
static bool check_cycles(struct ck *c, struct mf_graph *g)
{
    uint8_t state[MANIFEST_MAX_SERVICES] = {0}; /* 0 new, 1 on the stack, 2 done */
    uint8_t stack[MANIFEST_MAX_SERVICES], next[MANIFEST_MAX_SERVICES];
    for (uint32_t s = 0; s < g->n; s++) {
        if (state[s])
            continue;
        uint32_t sp = 1;
        stack[0] = (uint8_t)s;
        next[0] = 0;
        state[s] = 1;
        while (sp) {
            uint32_t u = stack[sp - 1], v = next[sp - 1];
            while (v < g->n && !((g->deps[u] >> v) & 1))
                v++;
            if (v == g->n) {
                state[u] = 2;
                sp--;
                continue;
            }
            next[sp - 1] = (uint8_t)(v + 1);
            if (state[v] == 1)
                return report_cycle(c, g, stack, sp, v);
            if (state[v] == 0) {
                state[v] = 1;
                stack[sp] = (uint8_t)v;
                next[sp++] = 0;
            }
        }
    }
    return true;
}

bool mf_check_services(struct ck *c, struct mf_graph *g)
{
    const uint32_t need = (1u << KernelSource_spawner) | (1u << KernelSource_bootPackage);
    struct sbuf *b;
    g->svcs = InitConfig_get_services(c->ic);
    g->n = List_Service_len(g->svcs);
    if (!mf_msg_ok(c, SERVICES, -1, NULL, -1, NULL) ||
        !mf_check_len(c, g->n, MANIFEST_MAX_SERVICES, "services", SERVICES, -1, NULL))
        return false;
    if (g->n == 0)
        return true;
    if ((c->held & need) != need) {
        b = mf_fail(c, MANIFEST_E_NOT_HELD, "initConfig.init", -1, "caps", -1, NULL);
        mf_put(b, "init starts services, so it needs kernel sources \"spawner\" (ProcessSpawner) "
                  "and \"bootPackage\" (BootPackage): expected both in initConfig.init.caps");
        return false;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        g->names[i] = Service_get_name(List_Service_get(g->svcs, i));
        g->deps[i] = 0;
        if (!mf_check_name(c, g->names[i], SERVICES, (int)i, "name", -1, NULL))
            return false;
        uint32_t j = 0;
        while (j < i && !capn_text_eq(g->names[j], g->names[i]))
            j++;
        if (j < i) {
            b = mf_fail(c, MANIFEST_E_DUPLICATE, SERVICES, (int)i, "name", -1, NULL);
            mf_put_q(b, g->names[i]);
            mf_put(b, " is also the name of initConfig.services[");
            mf_put_u(b, j);
            mf_put(b, "]: expected unique service names");
            return false;
        }
    }
    for (uint32_t i = 0; i < g->n; i++)
        if (!check_service(c, g, i))
            return false;
    for (uint32_t i = 0; i < g->n; i++)
        if (!resolve_caps(c, g, i))
            return false;
    return check_cycles(c, g);
}
