/*
 * Internals shared by manifest.c (framing, binaries, init, capability
 * grants) and manifest_graph.c (the service graph). Not an API.
 */
#ifndef CAPOS_LIB_MANIFEST_IMPL_H
#define CAPOS_LIB_MANIFEST_IMPL_H

#include "manifest/manifest.h"

/* A bounded string: p[len] is always NUL; output past cap-1 is dropped. */
struct sbuf {
    char *p;
    size_t cap;
    size_t len;
};

/* Where a CapSet comes from: init, or services[i]. */
struct proc {
    const char *base; /* "initConfig.init" or "initConfig.services" */
    int i;            /* service index, -1 for init */
};

struct ck {
    struct manifest *m;
    struct manifest_error *e;
    struct sbuf msg;
    List_Binary_r bins;
    uint32_t nbins;
    InitConfig_r ic;
    uint32_t held; /* one bit per KernelSource init holds */
};

/* The service graph: names cached once, dependencies as bit sets. */
struct mf_graph {
    List_Service_r svcs;
    uint32_t n;
    struct capn_text names[MANIFEST_MAX_SERVICES];
    uint64_t deps[MANIFEST_MAX_SERVICES]; /* bit j of deps[i]: i uses an export of j */
};

void mf_put(struct sbuf *b, const char *s);
void mf_put_u(struct sbuf *b, uint64_t v);
void mf_put_esc(struct sbuf *b, struct capn_text t);
void mf_put_q(struct sbuf *b, struct capn_text t);
void mf_put_iface(struct sbuf *b, uint64_t id);
struct sbuf *mf_fail(struct ck *c, enum manifest_err code, const char *base, int i,
                     const char *field, int k, const char *sub);
bool mf_msg_ok(struct ck *c, const char *base, int i, const char *field, int k, const char *sub);
bool mf_check_name(struct ck *c, struct capn_text t, const char *base, int i, const char *field,
                   int k, const char *sub);
bool mf_check_len(struct ck *c, uint32_t len, uint32_t max, const char *what, const char *base,
                  int i, const char *field);
bool mf_check_binary_ref(struct ck *c, struct capn_text name, const char *base, int i);
bool mf_check_caps(struct ck *c, struct proc p, List_CapGrant_r caps, uint32_t n);
bool mf_check_services(struct ck *c, struct mf_graph *g);

#endif
