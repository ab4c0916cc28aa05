/*
 * The connection's tables: answers (the peer's questions), exports (our
 * capabilities the peer holds) and imports (the peer's capabilities we were
 * sent). Linear scans: the tables are small (64 and 256 entries) and a scan
 * of them costs less than one message's parse.
 */
#include <string.h>

#include "rpc/internal.h"

struct rpc_answer *rpc_answer_find(struct rpc_conn *c, uint32_t qid)
{
    for (uint32_t i = 0; i < RPC_ANSWERS; i++) {
        struct rpc_answer *a = &c->answers[i];
        if (a->state != RPC_ANS_FREE && a->qid == qid)
            return a;
    }
    return NULL;
}

/* The caller has checked that qid is not in use and that the limit allows
 * one more. */
struct rpc_answer *rpc_answer_new(struct rpc_conn *c, uint32_t qid)
{
    if (c->nanswers >= c->lim.answers)
        return NULL;
    for (uint32_t i = 0; i < RPC_ANSWERS; i++) {
        struct rpc_answer *a = &c->answers[i];
        if (a->state == RPC_ANS_FREE) {
            uint16_t gen = a->gen;
            memset(a, 0, sizeof(*a));
            a->gen = gen;
            a->qid = qid;
            a->state = RPC_ANS_PENDING;
            c->nanswers++;
            return a;
        }
    }
    return NULL;
}

struct rpc_answer *rpc_answer_by_token(struct rpc_conn *c, uint32_t token)
{
    uint32_t i = token & 0xff;
    if (i >= RPC_ANSWERS)
        return NULL;
    struct rpc_answer *a = &c->answers[i];
    if (a->state != RPC_ANS_PENDING || a->waiting || a->gen != (uint16_t)(token >> 8))
        return NULL;
    return a;
}

/* Drops the answer's own references (pipelining), not the peer's. */
void rpc_answer_free(struct rpc_conn *c, struct rpc_answer *a)
{
    for (uint32_t i = 0; i < a->ncaps; i++)
        if (a->caps[i] != RPC_NO_CAP)
            rpc_export_drop(c, a->caps[i], 0, 1);
    a->ncaps = 0;
    a->state = RPC_ANS_FREE;
    a->gen++;
    c->nanswers--;
}

struct rpc_export *rpc_export_get(struct rpc_conn *c, uint32_t id)
{
    if (id >= RPC_EXPORTS || !c->exports[id].used)
        return NULL;
    return &c->exports[id];
}

/* One more reference of the peer to handle, whose reference the engine now
 * owns. Returns the export id, or RPC_NO_CAP (the handle released) when the
 * table is full. */
uint32_t rpc_export_add(struct rpc_conn *c, uint32_t handle)
{
    uint32_t free_id = RPC_NO_CAP;
    for (uint32_t i = 0; i < RPC_EXPORTS; i++) {
        struct rpc_export *e = &c->exports[i];
        if (e->used && e->handle == handle) {
            /* Exported already: one engine reference per export. */
            e->remote++;
            c->host.release(c->host.ctx, handle);
            return i;
        }
        if (!e->used && free_id == RPC_NO_CAP)
            free_id = i;
    }
    if (free_id == RPC_NO_CAP || c->nexports >= c->lim.exports) {
        c->host.release(c->host.ctx, handle);
        return RPC_NO_CAP;
    }
    struct rpc_export *e = &c->exports[free_id];
    memset(e, 0, sizeof(*e));
    e->used = true;
    e->handle = handle;
    e->remote = 1;
    c->nexports++;
    if (c->nexports > c->stats.exports_peak)
        c->stats.exports_peak = c->nexports;
    return free_id;
}

/* The callers check the counts first; this only frees. */
void rpc_export_drop(struct rpc_conn *c, uint32_t id, uint32_t remote, uint32_t local)
{
    struct rpc_export *e = rpc_export_get(c, id);
    if (e == NULL)
        return;
    e->remote -= remote <= e->remote ? remote : e->remote;
    e->local -= local <= e->local ? local : e->local;
    if (e->remote == 0 && e->local == 0) {
        e->used = false;
        c->nexports--;
        c->host.release(c->host.ctx, e->handle);
    }
}

/* One more reference to the peer's export id; false if the table is full. */
bool rpc_import_add(struct rpc_conn *c, uint32_t id)
{
    struct rpc_import *slot = NULL;
    for (uint32_t i = 0; i < RPC_IMPORTS; i++) {
        struct rpc_import *m = &c->imports[i];
        if (m->used && m->id == id) {
            m->refs++;
            return true;
        }
        if (!m->used && slot == NULL)
            slot = m;
    }
    if (slot == NULL || c->nimports >= c->lim.imports)
        return false;
    slot->used = true;
    slot->id = id;
    slot->refs = 1;
    c->nimports++;
    return true;
}

/* Give every reference to the peer's export id back with one Release. */
void rpc_import_release(struct rpc_conn *c, uint32_t id)
{
    for (uint32_t i = 0; i < RPC_IMPORTS; i++) {
        struct rpc_import *m = &c->imports[i];
        if (m->used && m->id == id) {
            m->used = false;
            c->nimports--;
            rpc_send_release(c, id, m->refs);
            return;
        }
    }
}

uint32_t rpc_conn_exports(const struct rpc_conn *c)
{
    return c->nexports;
}

uint32_t rpc_conn_answers(const struct rpc_conn *c)
{
    return c->nanswers;
}

uint32_t rpc_conn_imports(const struct rpc_conn *c)
{
    return c->nimports;
}
