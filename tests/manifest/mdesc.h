/*
 * Test manifests: a plain C description of a SystemManifest that the tests
 * edit (to make it hostile in one specific way) and then encode with the
 * generated builders.
 */
#ifndef CAPOS_TESTS_MANIFEST_MDESC_H
#define CAPOS_TESTS_MANIFEST_MDESC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnp/capnp_host.h"
#include "capos.capnp.h"
#include "manifest/manifest.h"

#define T_MAX 80 /* more than any MANIFEST_MAX_*, for "too many" tests */

/* A capability grant; kernel >= 0 is a kernel source, else svc.exp. Raw
 * values that the schema cannot express go through which / kernel. */
struct tcap {
    const char *name;
    uint64_t iface;
    int which; /* CapGrant_source_which_* or a bogus value */
    int kernel;
    const char *svc, *exp;
};

struct texport {
    const char *name;
    uint64_t iface;
};

struct tsvc {
    const char *name, *binary;
    int restart;
    uint32_t memory_mib;
    int ncaps, nexports;
    struct tcap caps[T_MAX];
    struct texport exports[T_MAX];
};

struct tbin {
    const char *name;
    const uint8_t *elf;
    uint32_t len;
};

struct mdesc {
    uint32_t version;
    bool no_binaries, no_initconfig, no_init, no_params;
    int nbins, nsvcs, ninit;
    struct tbin bins[T_MAX];
    const char *init_binary;
    struct tcap init_caps[T_MAX];
    struct tsvc svcs[T_MAX];
    const char *motd;
};

/* "prefix<i>" in static storage (tests need many distinct names). */
static inline const char *tname(const char *prefix, int i)
{
    static char pool[1024][16];
    static unsigned next;
    char *s = pool[next++ % 1024];
    snprintf(s, sizeof(pool[0]), "%s%d", prefix, i);
    return s;
}

static const uint8_t t_elf[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

static inline struct tcap kcap(const char *name, int src)
{
    struct tcap c = {
        name, manifest_kernel_iface((uint16_t)src), CapGrant_source_which_kernel, src, NULL, NULL};
    return c;
}

static inline struct tcap scap(const char *name, uint64_t iface, const char *svc, const char *exp)
{
    struct tcap c = {name, iface, CapGrant_source_which_service, 0, svc, exp};
    return c;
}

static inline void add_bin(struct mdesc *d, const char *name)
{
    d->bins[d->nbins++] = (struct tbin){name, t_elf, sizeof(t_elf)};
}

static inline struct tsvc *add_svc(struct mdesc *d, const char *name, const char *binary)
{
    struct tsvc *s = &d->svcs[d->nsvcs++];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->binary = binary;
    return s;
}

static inline void add_export(struct tsvc *s, const char *name, uint64_t iface)
{
    s->exports[s->nexports++] = (struct texport){name, iface};
}

/*
 * The baseline: init holds console, timer, spawner and bootPackage; "log"
 * exports a Console that "app" uses, and app also gets the timer.
 */
static inline struct mdesc *mdesc_new(void)
{
    struct mdesc *d = calloc(1, sizeof(*d));
    d->version = manifestSchemaVersion;
    add_bin(d, "init");
    add_bin(d, "log-svc");
    add_bin(d, "app");
    d->init_binary = "init";
    d->init_caps[d->ninit++] = kcap("console", KernelSource_console);
    d->init_caps[d->ninit++] = kcap("timer", KernelSource_timer);
    d->init_caps[d->ninit++] = kcap("spawner", KernelSource_spawner);
    d->init_caps[d->ninit++] = kcap("boot", KernelSource_bootPackage);
    struct tsvc *log = add_svc(d, "log", "log-svc");
    log->caps[log->ncaps++] = kcap("serial", KernelSource_console);
    add_export(log, "console", Console_INTERFACE_ID);
    struct tsvc *app = add_svc(d, "app", "app");
    app->restart = RestartPolicy_onFailure;
    app->caps[app->ncaps++] = scap("log", Console_INTERFACE_ID, "log", "console");
    app->caps[app->ncaps++] = kcap("timer", KernelSource_timer);
    d->motd = "Welcome to capOS\n";
    return d;
}

/* Set a Text field with its generated setter, unless s is NULL. */
#define T_TEXT(setter, b, s)                                                                       \
    do {                                                                                           \
        if ((s) != NULL)                                                                           \
            setter(b, s, (uint32_t)strlen(s));                                                     \
    } while (0)

static inline void t_caps(List_CapGrant_b l, const struct tcap *caps, int n)
{
    for (int k = 0; k < n; k++) {
        CapGrant_b g = List_CapGrant_at(l, (uint32_t)k);
        const struct tcap *c = &caps[k];
        T_TEXT(CapGrant_set_name, g, c->name);
        CapGrant_set_interfaceId(g, c->iface);
        CapGrant_source_b src = CapGrant_init_source(g);
        if (c->which == CapGrant_source_which_service) {
            CapGrant_source_service_b r = CapGrant_source_init_service(src);
            T_TEXT(CapGrant_source_service_set_name, r, c->svc);
            T_TEXT(CapGrant_source_service_set_export, r, c->exp);
        } else if (c->which == CapGrant_source_which_kernel) {
            CapGrant_source_set_kernel(src, (KernelSource)c->kernel);
        }
        /* The discriminant as given, valid or not. */
        capn_bstruct_set_u16(&src.s, 8, (uint16_t)c->which, 0);
    }
}

/* Encode; the caller frees the result. */
static inline uint8_t *mdesc_encode(const struct mdesc *d, size_t *len)
{
    struct capn_hbld *h = capn_hbld_new(0);
    SystemManifest_b r = SystemManifest_build_root(&h->b);
    SystemManifest_set_schemaVersion(r, d->version);
    if (!d->no_binaries) {
        List_Binary_b bl = SystemManifest_init_binaries(r, (uint32_t)d->nbins);
        for (int i = 0; i < d->nbins; i++) {
            Binary_b b = List_Binary_at(bl, (uint32_t)i);
            T_TEXT(Binary_set_name, b, d->bins[i].name);
            if (d->bins[i].len)
                Binary_set_elf(b, d->bins[i].elf, d->bins[i].len);
        }
    }
    if (!d->no_initconfig) {
        InitConfig_b ic = SystemManifest_init_initConfig(r);
        if (!d->no_init) {
            Init_b in = InitConfig_init_init(ic);
            T_TEXT(Init_set_binary, in, d->init_binary);
            t_caps(Init_init_caps(in, (uint32_t)d->ninit), d->init_caps, d->ninit);
        }
        List_Service_b sl = InitConfig_init_services(ic, (uint32_t)d->nsvcs);
        for (int i = 0; i < d->nsvcs; i++) {
            const struct tsvc *s = &d->svcs[i];
            Service_b b = List_Service_at(sl, (uint32_t)i);
            T_TEXT(Service_set_name, b, s->name);
            T_TEXT(Service_set_binary, b, s->binary);
            Service_set_restart(b, (RestartPolicy)s->restart);
            Service_set_memoryMiB(b, s->memory_mib);
            t_caps(Service_init_caps(b, (uint32_t)s->ncaps), s->caps, s->ncaps);
            List_Export_b el = Service_init_exports(b, (uint32_t)s->nexports);
            for (int k = 0; k < s->nexports; k++) {
                Export_b e = List_Export_at(el, (uint32_t)k);
                T_TEXT(Export_set_name, e, s->exports[k].name);
                Export_set_interfaceId(e, s->exports[k].iface);
            }
        }
    }
    if (!d->no_params) {
        KernelParams_b p = SystemManifest_init_kernelParams(r);
        T_TEXT(KernelParams_set_motd, p, d->motd);
    }
    uint8_t *out = h->b.err == CAPN_OK ? capn_host_frame(&h->b, len) : NULL;
    capn_hbld_free(h);
    return out;
}

/* Full check of an encoded manifest; fills e. */
static inline int check_bytes(const uint8_t *buf, size_t len, struct manifest_error *e)
{
    struct manifest m;
    if (manifest_open(&m, buf, len, e) != 0)
        return -1;
    return manifest_check(&m, e);
}

static inline int check_desc(const struct mdesc *d, struct manifest_error *e)
{
    size_t len = 0;
    uint8_t *buf = mdesc_encode(d, &len);
    if (buf == NULL)
        abort();
    int rc = check_bytes(buf, len, e);
    free(buf);
    return rc;
}

#endif
