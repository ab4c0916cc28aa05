/*
 * The JSON that `cue export` prints for a system (cue/manifest.cue) to a
 * SystemManifest, with the generated builders. The JSON mirrors the schema,
 * except that interfaces are names (mapped to ids with the generated
 * interface table) and binaries carry no ELF (read from --binary files).
 *
 * Only what cannot be represented is an error here: wrong JSON types,
 * unknown fields, unknown interface, kernel source or restart names, a
 * binary without a file. Absent fields are left unset, and everything else
 * (missing fields, names, references, cycles) is lib/manifest's to judge,
 * with the same paths, on the encoded result.
 */
#include "mkmanifest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv {
    const struct binfile *files;
    int nfiles;
    char path[256];
    int errors;
};

/* ---- Paths and errors ---- */

static size_t push(struct conv *c, const char *fmt, ...)
{
    size_t mark = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + mark, sizeof(c->path) - mark, fmt, ap);
    va_end(ap);
    return mark;
}

static void pop(struct conv *c, size_t mark)
{
    c->path[mark] = 0;
}

static void err(struct conv *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mkmanifest: error: %s: ", c->path[0] == '.' ? c->path + 1 : c->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    c->errors++;
}

/* ---- Typed access ---- */

/* v is an object with no keys outside `keys` (NULL-terminated). */
static bool object(struct conv *c, const struct jval *v, const char *const *keys)
{
    if (v->type != J_OBJ) {
        err(c, "expected an object, found %s", json_type_name(v->type));
        return false;
    }
    for (size_t i = 0; i < v->n; i++) {
        const char *const *k = keys;
        while (*k && strcmp(*k, v->keys[i]) != 0)
            k++;
        if (*k)
            continue;
        char expected[160] = "";
        for (k = keys; *k; k++)
            snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
                     k == keys ? "" : ", ", *k);
        size_t m = push(c, ".%s", v->keys[i]);
        err(c, "unknown field: expected one of %s", expected);
        pop(c, m);
    }
    return true;
}

/* Field key of obj as a string (NULL if absent or not a string). */
static const struct jval *str(struct conv *c, const struct jval *obj, const char *key)
{
    const struct jval *v = json_get(obj, key);
    if (v == NULL || v->type == J_STR)
        return v;
    size_t m = push(c, ".%s", key);
    err(c, "expected a string, found %s", json_type_name(v->type));
    pop(c, m);
    return NULL;
}

/* Field key of obj as a list; *n its length. */
static const struct jval *list(struct conv *c, const struct jval *obj, const char *key, uint32_t *n)
{
    const struct jval *v = json_get(obj, key);
    *n = 0;
    if (v == NULL)
        return NULL;
    if (v->type != J_ARR) {
        size_t m = push(c, ".%s", key);
        err(c, "expected a list, found %s", json_type_name(v->type));
        pop(c, m);
        return NULL;
    }
    *n = (uint32_t)v->n;
    return v;
}

static uint32_t tlen(const struct jval *v)
{
    return (uint32_t)v->slen;
}

/* name in a table of n names (generated *_NAMES), or -1 with an error. */
static int lookup(struct conv *c, const struct jval *v, const char *const *names, int n,
                  const char *what)
{
    char expected[200] = "";
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], v->s) == 0 && strlen(v->s) == v->slen)
            return i;
        snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
                 i == 0       ? ""
                 : i == n - 1 ? " or "
                              : ", ",
                 names[i]);
    }
    err(c, "unknown %s \"%s\": expected %s", what, v->s, expected);
    return -1;
}

static uint64_t iface_id(struct conv *c, const struct jval *obj)
{
    const struct jval *v = str(c, obj, "interface");
    if (v == NULL)
        return 0;
    const char *names[capos_INTERFACE_COUNT];
    for (int i = 0; i < capos_INTERFACE_COUNT; i++)
        names[i] = capos_INTERFACES[i]->name;
    size_t m = push(c, ".interface");
    int i = lookup(c, v, names, capos_INTERFACE_COUNT, "interface (not in schema/capos.capnp)");
    pop(c, m);
    return i < 0 ? 0 : capos_INTERFACES[i]->id;
}

/* ---- The manifest ---- */

static void conv_source(struct conv *c, const struct jval *v, CapGrant_b g)
{
    static const char *const keys[] = {"kernel", "service", NULL};
    static const char *const ref_keys[] = {"name", "export", NULL};
    if (!object(c, v, keys))
        return;
    const struct jval *k = json_get(v, "kernel"), *s = json_get(v, "service");
    CapGrant_source_b src = CapGrant_init_source(g);
    if (k != NULL && s != NULL) {
        err(c, "both kernel and service: expected exactly one");
    } else if (k != NULL) {
        size_t m = push(c, ".kernel");
        int i = k->type == J_STR
                    ? lookup(c, k, KernelSource_NAMES, KernelSource_COUNT, "kernel source")
                    : (err(c, "expected a string"), -1);
        pop(c, m);
        if (i >= 0)
            CapGrant_source_set_kernel(src, (KernelSource)i);
    } else if (s != NULL) {
        size_t m = push(c, ".service");
        CapGrant_source_service_b r = CapGrant_source_init_service(src);
        if (object(c, s, ref_keys)) {
            const struct jval *name = str(c, s, "name"), *exp = str(c, s, "export");
            if (name)
                CapGrant_source_service_set_name(r, name->s, tlen(name));
            if (exp)
                CapGrant_source_service_set_export(r, exp->s, tlen(exp));
        }
        pop(c, m);
    }
}

static void conv_caps(struct conv *c, const struct jval *obj,
                      List_CapGrant_b (*init)(void *, uint32_t), void *owner)
{
    static const char *const keys[] = {"name", "interface", "source", NULL};
    uint32_t n;
    const struct jval *l = list(c, obj, "caps", &n);
    if (l == NULL)
        return;
    List_CapGrant_b caps = init(owner, n);
    for (uint32_t k = 0; k < n; k++) {
        size_t m = push(c, ".caps[%" PRIu32 "]", k);
        const struct jval *v = l->items[k];
        if (object(c, v, keys)) {
            CapGrant_b g = List_CapGrant_at(caps, k);
            const struct jval *name = str(c, v, "name"), *src = json_get(v, "source");
            if (name)
                CapGrant_set_name(g, name->s, tlen(name));
            CapGrant_set_interfaceId(g, iface_id(c, v));
            if (src != NULL) {
                size_t m2 = push(c, ".source");
                conv_source(c, src, g);
                pop(c, m2);
            }
        }
        pop(c, m);
    }
}

static List_CapGrant_b init_caps_of_init(void *owner, uint32_t n)
{
    return Init_init_caps(*(Init_b *)owner, n);
}

static List_CapGrant_b init_caps_of_service(void *owner, uint32_t n)
{
    return Service_init_caps(*(Service_b *)owner, n);
}

static void conv_service(struct conv *c, const struct jval *v, Service_b s)
{
    static const char *const keys[] = {"name",    "binary",    "caps", "exports",
                                       "restart", "memoryMiB", NULL};
    static const char *const export_keys[] = {"name", "interface", NULL};
    if (!object(c, v, keys))
        return;
    const struct jval *name = str(c, v, "name"), *bin = str(c, v, "binary");
    const struct jval *restart = str(c, v, "restart");
    if (name)
        Service_set_name(s, name->s, tlen(name));
    if (bin)
        Service_set_binary(s, bin->s, tlen(bin));
    if (restart) {
        size_t m = push(c, ".restart");
        int r = lookup(c, restart, RestartPolicy_NAMES, RestartPolicy_COUNT, "restart policy");
        pop(c, m);
        if (r >= 0)
            Service_set_restart(s, (RestartPolicy)r);
    }
    const struct jval *mem = json_get(v, "memoryMiB");
    if (mem) {
        size_t m = push(c, ".memoryMiB");
        char *end;
        unsigned long mib = mem->type == J_NUM ? strtoul(mem->num, &end, 10) : 0;
        if (mem->type != J_NUM || *end || mib < 1 || mib > MANIFEST_MAX_MEMORY_MIB)
            err(c, "expected a whole number of MiB from 1 to %u", MANIFEST_MAX_MEMORY_MIB);
        else
            Service_set_memoryMiB(s, (uint32_t)mib);
        pop(c, m);
    }
    conv_caps(c, v, init_caps_of_service, &s);
    uint32_t n;
    const struct jval *l = list(c, v, "exports", &n);
    if (l == NULL)
        return;
    List_Export_b exports = Service_init_exports(s, n);
    for (uint32_t k = 0; k < n; k++) {
        size_t m = push(c, ".exports[%" PRIu32 "]", k);
        if (object(c, l->items[k], export_keys)) {
            Export_b e = List_Export_at(exports, k);
            const struct jval *ename = str(c, l->items[k], "name");
            if (ename)
                Export_set_name(e, ename->s, tlen(ename));
            Export_set_interfaceId(e, iface_id(c, l->items[k]));
        }
        pop(c, m);
    }
}

static void conv_init_config(struct conv *c, const struct jval *v, InitConfig_b ic)
{
    static const char *const keys[] = {"init", "services", NULL};
    static const char *const init_keys[] = {"binary", "caps", NULL};
    if (!object(c, v, keys))
        return;
    const struct jval *init = json_get(v, "init");
    if (init != NULL) {
        size_t m = push(c, ".init");
        Init_b in = InitConfig_init_init(ic);
        if (object(c, init, init_keys)) {
            const struct jval *bin = str(c, init, "binary");
            if (bin)
                Init_set_binary(in, bin->s, tlen(bin));
            conv_caps(c, init, init_caps_of_init, &in);
        }
        pop(c, m);
    }
    uint32_t n;
    const struct jval *l = list(c, v, "services", &n);
    if (l == NULL)
        return;
    List_Service_b services = InitConfig_init_services(ic, n);
    for (uint32_t i = 0; i < n; i++) {
        size_t m = push(c, ".services[%" PRIu32 "]", i);
        conv_service(c, l->items[i], List_Service_at(services, i));
        pop(c, m);
    }
}

static void conv_binaries(struct conv *c, const struct jval *root, SystemManifest_b r)
{
    static const char *const keys[] = {"name", NULL};
    uint32_t n;
    const struct jval *l = list(c, root, "binaries", &n);
    if (l == NULL)
        return;
    List_Binary_b bins = SystemManifest_init_binaries(r, n);
    for (uint32_t i = 0; i < n; i++) {
        size_t m = push(c, ".binaries[%" PRIu32 "]", i);
        const struct jval *v = l->items[i], *name;
        if (object(c, v, keys) && (name = str(c, v, "name")) != NULL) {
            Binary_b b = List_Binary_at(bins, i);
            Binary_set_name(b, name->s, tlen(name));
            int f = 0;
            while (f < c->nfiles && strcmp(c->files[f].name, name->s) != 0)
                f++;
            if (f == c->nfiles)
                err(c, "no ELF file for binary \"%s\": expected --binary %s=PATH", name->s,
                    name->s);
            else
                Binary_set_elf(b, c->files[f].data, (uint32_t)c->files[f].len);
        }
        pop(c, m);
    }
}

int convert(const struct jval *root, const struct binfile *files, int nfiles, struct capn_bld *b)
{
    static const char *const keys[] = {"schemaVersion", "binaries", "initConfig", "kernelParams",
                                       NULL};
    static const char *const param_keys[] = {"motd", "guestEnabled", NULL};
    struct conv c = {files, nfiles, "", 0};
    SystemManifest_b r = SystemManifest_build_root(b);
    if (!object(&c, root, keys))
        return -1;
    const struct jval *v = json_get(root, "schemaVersion");
    if (v != NULL) {
        char *end = NULL;
        unsigned long long ver = v->type == J_NUM ? strtoull(v->num, &end, 10) : 0;
        size_t m = push(&c, ".schemaVersion");
        if (end == NULL || *end != 0 || v->num[0] == '-' || ver > UINT32_MAX)
            err(&c, "expected a whole number below 2^32");
        else
            SystemManifest_set_schemaVersion(r, (uint32_t)ver);
        pop(&c, m);
    }
    conv_binaries(&c, root, r);
    if ((v = json_get(root, "initConfig")) != NULL) {
        size_t m = push(&c, ".initConfig");
        conv_init_config(&c, v, SystemManifest_init_initConfig(r));
        pop(&c, m);
    }
    if ((v = json_get(root, "kernelParams")) != NULL) {
        size_t m = push(&c, ".kernelParams");
        KernelParams_b p = SystemManifest_init_kernelParams(r);
        const struct jval *motd;
        if (object(&c, v, param_keys) && (motd = str(&c, v, "motd")) != NULL)
            KernelParams_set_motd(p, motd->s, tlen(motd));
        const struct jval *guest = json_get(v, "guestEnabled");
        if (guest != NULL) {
            size_t gm = push(&c, ".guestEnabled");
            if (guest->type != J_BOOL)
                err(&c, "expected true or false");
            else
                KernelParams_set_guestEnabled(p, guest->b);
            pop(&c, gm);
        }
        pop(&c, m);
    }
    if (b->err != CAPN_OK) {
        fprintf(stderr, "mkmanifest: error: building the message: %s\n", capn_err_str(b->err));
        c.errors++;
    }
    return c.errors ? -1 : 0;
}
