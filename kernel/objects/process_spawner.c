/*
 * ProcessSpawner: start a binary of the boot manifest with exactly the
 * grants in the request. Everything is checked before anything is created,
 * so a refused spawn has no side effect: unknown binary, bad or duplicate
 * grant or export names, a grant whose capability does not implement the
 * interface it claims, too many grants or exports.
 */
#include <capos/capset.h>

#include "account.h"
#include "boot_manifest.h"
#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/endpoint.h"
#include "objects/process_handle.h"
#include "process.h"
#include "registry.h"
#include "string.h"

#define SPAWN_MAX_GRANTS  64
#define SPAWN_MAX_EXPORTS 15 /* + the handle = CAPOS_MAX_XFER result capabilities */
#define SPAWN_MAX_ALLOWED 16 /* binaries a restricted spawner may start */
#define BINARY_NAME_MAX   32

/*
 * A spawner object: the boot spawner (allowed == 0, any binary) or a
 * restricted one made by restrictTo(), which starts only the binaries on its
 * list. Restriction is by argument, which a method-subset wrapper cannot
 * express, so it lives here, next to the check it guards.
 */
struct spawner {
    struct kobject obj;
    uint32_t allowed; /* names in `binaries`; 0 only for the boot spawner */
    bool restricted;
    char binaries[SPAWN_MAX_ALLOWED][BINARY_NAME_MAX + 1];
};

static bool spawner_allows(const struct spawner *sp, struct capn_text binary)
{
    if (!sp->restricted)
        return true;
    for (uint32_t i = 0; i < sp->allowed; i++)
        if (strlen(sp->binaries[i]) == binary.len &&
            memcmp(sp->binaries[i], binary.str, binary.len) == 0)
            return true;
    return false;
}

/* Identifier-shaped: letters, digits, '_', '-', '.', 1..max bytes. */
static bool good_name(struct capn_text t, uint32_t max)
{
    if (t.len == 0 || t.len > max)
        return false;
    for (uint32_t i = 0; i < t.len; i++) {
        char c = t.str[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static int spawn(void *self, ProcessSpawner_spawn_Params_r params,
                 ProcessSpawner_spawn_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct capn_text name = ProcessSpawner_spawn_Params_get_name(params);
    struct capn_text binary = ProcessSpawner_spawn_Params_get_binaryName(params);
    List_ProcessSpawner_Grant_r grants = ProcessSpawner_spawn_Params_get_grants(params);
    List_Export_r exports = ProcessSpawner_spawn_Params_get_exports(params);
    uint32_t n = List_ProcessSpawner_Grant_len(grants);

    if (!good_name(name, PROCESS_NAME_MAX - 1))
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "spawn: name must be 1..31 letters, digits, '_', '-' or '.'");
    /* Existence first: whoever holds any spawner may learn which
     * programs the system has (the shell tells a missing program from a
     * forbidden one), and asking about a missing one starts nothing. */
    const void *elf;
    size_t elf_len;
    if (!boot_manifest_binary(binary.str, binary.len, &elf, &elf_len))
        return kcall_fail(kc, CapException_Type_notFound,
                          "spawn: no program of that name in the boot manifest");
    if (!spawner_allows(self, binary))
        return kcall_fail(kc, CapException_Type_permissionDenied,
                          "spawn: this spawner may not start that program");
    uint32_t ne = List_Export_len(exports);
    if (n > SPAWN_MAX_GRANTS)
        return kcall_fail(kc, CapException_Type_invalidArgument, "spawn: more than 64 grants");
    if (ne > SPAWN_MAX_EXPORTS || n + ne > SPAWN_MAX_GRANTS)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "spawn: more than 16 exports, or more than 64 grants and exports");

    static struct process_grant pg[SPAWN_MAX_GRANTS + SPAWN_MAX_EXPORTS];
    static struct kobject *clients[SPAWN_MAX_EXPORTS];
    static char names[SPAWN_MAX_GRANTS + SPAWN_MAX_EXPORTS][CAPOS_CAPSET_NAME_MAX + 1];
    for (uint32_t i = 0; i < n; i++) {
        ProcessSpawner_Grant_r g = List_ProcessSpawner_Grant_get(grants, i);
        struct capn_text gname = ProcessSpawner_Grant_get_name(g);
        uint64_t want = ProcessSpawner_Grant_get_interfaceId(g);
        uint32_t index = ProcessSpawner_Grant_get_cap(g);
        if (!good_name(gname, CAPOS_CAPSET_NAME_MAX))
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "spawn: a grant name is not 1..32 identifier characters");
        for (uint32_t j = 0; j < i; j++)
            if (capn_text_eq(
                    gname, ProcessSpawner_Grant_get_name(List_ProcessSpawner_Grant_get(grants, j))))
                return kcall_fail(kc, CapException_Type_invalidArgument,
                                  "spawn: two grants have the same name");
        uint64_t have;
        uint32_t flags;
        struct kobject *obj = kcall_param_cap(kc, index, &have, &flags);
        if (!obj)
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "spawn: a grant names no capability of the call");
        if (have != want)
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "spawn: a grant's capability does not implement its interfaceId");
        for (uint32_t k = 0; k < gname.len; k++)
            names[i][k] = gname.str[k];
        names[i][gname.len] = 0;
        pg[i] = (struct process_grant){names[i], obj, have, flags};
    }

    for (uint32_t i = 0; i < ne; i++) {
        Export_r x = List_Export_get(exports, i);
        struct capn_text xname = Export_get_name(x);
        if (!good_name(xname, CAPOS_CAPSET_NAME_MAX) || Export_get_interfaceId(x) == 0)
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "spawn: an export needs a 1..32 character name and an interfaceId");
        for (uint32_t j = 0; j < n + i; j++)
            if (capn_text_eq(xname, j < n ? ProcessSpawner_Grant_get_name(
                                                List_ProcessSpawner_Grant_get(grants, j))
                                          : Export_get_name(List_Export_get(exports, j - n))))
                return kcall_fail(kc, CapException_Type_invalidArgument,
                                  "spawn: an export has the name of a grant or another export");
    }

    /* Everything the caller gets back exists before the child does, and
     * the answer is sure to fit: a refused delivery must not leave a child
     * running that nobody can wait for. */
    struct process *caller = kc->caller;
    if (kc->sqe->result_len < 128 + 96 * ne)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "spawn: the result buffer needs 128 bytes plus 96 per export");
    if (cap_table_used(&caller->caps) + 1 + ne > caller->caps.quota)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "spawn: no room in the caller's capability table for the results");
    uint32_t quota = ProcessSpawner_spawn_Params_get_quota(params);
    if (quota == 0)
        quota = PROCESS_DEFAULT_QUOTA;
    if (quota > frame_account_room(&caller->account->frames))
        return kcall_fail(kc, CapException_Type_overloaded,
                          "spawn: the child's quota is more than the room left in yours");
    struct kobject *handle = process_handle_create(caller->account);
    if (!handle)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "spawn: your frame quota cannot pay for the process handle");
    /* One endpoint per export: the child gets the owner side in its
     * CapSet, the caller a client facet. */
    for (uint32_t i = 0; i < ne; i++) {
        Export_r x = List_Export_get(exports, i);
        struct capn_text xname = Export_get_name(x);
        uint64_t iface = Export_get_interfaceId(x);
        struct kobject *owner;
        if (!endpoint_create(caller->account, &owner, &clients[i])) {
            for (uint32_t j = 0; j < i; j++) {
                kobject_unref(pg[n + j].object);
                kobject_unref(clients[j]);
            }
            kobject_unref(handle);
            return kcall_fail(kc, CapException_Type_overloaded,
                              "spawn: your frame quota cannot pay for the export endpoints");
        }
        for (uint32_t k = 0; k < xname.len; k++)
            names[n + i][k] = xname.str[k];
        names[n + i][xname.len] = 0;
        pg[n + i] = (struct process_grant){names[n + i], owner, iface, CAPF_OWNER};
    }
    char pname[PROCESS_NAME_MAX];
    for (uint32_t k = 0; k < name.len; k++)
        pname[k] = name.str[k];
    pname[name.len] = 0;
    const char *why;
    struct process *child =
        process_create(pname, elf, elf_len, pg, n + ne, caller->account, quota, &why);
    /* The child holds the owner sides now (or nothing, on failure). */
    for (uint32_t i = 0; i < ne; i++)
        kobject_unref(pg[n + i].object);
    if (!child) {
        for (uint32_t i = 0; i < ne; i++)
            kobject_unref(clients[i]);
        kobject_unref(handle);
        return kcall_fail(kc, CapException_Type_overloaded, why);
    }
    process_handle_attach(handle, child);
    uint32_t hi = kcall_add_result_cap(kc, handle, ProcessHandle_INTERFACE_ID, CAPF_NO_TRANSFER);
    kobject_unref(handle);
    ProcessSpawner_spawn_Results_set_handle(results, hi);
    List_ProcessSpawner_Grant_b out = ProcessSpawner_spawn_Results_init_exports(results, ne);
    for (uint32_t i = 0; i < ne; i++) {
        Export_r x = List_Export_get(exports, i);
        struct capn_text xname = Export_get_name(x);
        uint64_t iface = Export_get_interfaceId(x);
        ProcessSpawner_Grant_b g = List_ProcessSpawner_Grant_at(out, i);
        ProcessSpawner_Grant_set_name(g, xname.str, xname.len);
        ProcessSpawner_Grant_set_interfaceId(g, iface);
        ProcessSpawner_Grant_set_cap(g, kcall_add_result_cap(kc, clients[i], iface, CAPF_CLIENT));
        kobject_unref(clients[i]);
    }
    return CAPNPC_OK;
}

static const struct kobject_type spawner_type;

static void spawner_destroy(struct kobject *obj)
{
    kfree(obj);
}

static int restrict_to(void *self, ProcessSpawner_restrictTo_Params_r params,
                       ProcessSpawner_restrictTo_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    const struct spawner *from = self;
    List_Text_r names = ProcessSpawner_restrictTo_Params_get_binaries(params);
    uint32_t n = List_Text_len(names);
    if (n > SPAWN_MAX_ALLOWED)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "restrictTo: more than 16 binaries");
    struct spawner *sp = kzalloc_in(kc->caller->account, sizeof(*sp));
    if (!sp)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "restrictTo: your frame quota cannot pay for another spawner");
    kobject_init(&sp->obj, &spawner_type);
    sp->restricted = true;
    for (uint32_t i = 0; i < n; i++) {
        struct capn_text t = List_Text_get(names, i);
        if (!good_name(t, BINARY_NAME_MAX)) {
            kobject_unref(&sp->obj);
            return kcall_fail(kc, CapException_Type_invalidArgument,
                              "restrictTo: a binary name must be 1..32 letters, digits, '_', '-' "
                              "or '.'");
        }
        /* Only what the restricted spawner could start itself: restricting
         * never widens. Duplicates are kept once. */
        if (!spawner_allows(from, t) || spawner_allows(sp, t))
            continue;
        memcpy(sp->binaries[sp->allowed], t.str, t.len);
        sp->binaries[sp->allowed][t.len] = 0;
        sp->allowed++;
    }
    uint32_t out = kcall_add_result_cap(kc, &sp->obj, ProcessSpawner_INTERFACE_ID, 0);
    kobject_unref(&sp->obj);
    if (out == CAPNPC_NO_CAP)
        return kcall_fail(kc, CapException_Type_failed, "restrictTo: no room for the result");
    ProcessSpawner_restrictTo_Results_set_spawner(results, out);
    return CAPNPC_OK;
}

static const struct ProcessSpawner_ops spawner_ops = {.spawn = spawn, .restrictTo = restrict_to};

/* The destructor frees restricted spawners; the boot one is never freed. */
KOBJECT_TYPE(spawner_type, ProcessSpawner, spawner_ops, .destroy = spawner_destroy);

static struct spawner boot_spawner = {.obj = {.type = &spawner_type, .refs = 1}};

static struct kobject *boot_object(const struct boot_module *m)
{
    return &boot_spawner.obj;
}

const struct kobject_class process_spawner_class = {
    .name = "ProcessSpawner",
    .source = KernelSource_spawner,
    .iface = &ProcessSpawner_IFACE,
    .boot_object = boot_object,
};
