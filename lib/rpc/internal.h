/*
 * Shared internals of the RPC engine: tables (tables.c), outgoing messages
 * (send.c), calls, returns and pipelining (call.c, pipeline.c), and the
 * stream and message dispatch (conn.c).
 */
#ifndef CAPOS_LIB_RPC_INTERNAL_H
#define CAPOS_LIB_RPC_INTERNAL_H

#include "rpc.capnp.h"
#include "rpc/rpc.h"

/* The token the host answers a call with: generation and slot, so that a
 * stale token never reaches a reused slot. */
static inline uint32_t rpc_token(const struct rpc_conn *c, const struct rpc_answer *a)
{
    return (uint32_t)(a - c->answers) | (uint32_t)a->gen << 8;
}

/* tables.c */
struct rpc_answer *rpc_answer_find(struct rpc_conn *c, uint32_t qid);
struct rpc_answer *rpc_answer_new(struct rpc_conn *c, uint32_t qid);
struct rpc_answer *rpc_answer_by_token(struct rpc_conn *c, uint32_t token);
void rpc_answer_free(struct rpc_conn *c, struct rpc_answer *a);
struct rpc_export *rpc_export_get(struct rpc_conn *c, uint32_t id);
uint32_t rpc_export_add(struct rpc_conn *c, uint32_t handle);
void rpc_export_drop(struct rpc_conn *c, uint32_t id, uint32_t remote, uint32_t local);
bool rpc_import_add(struct rpc_conn *c, uint32_t id);
void rpc_import_release(struct rpc_conn *c, uint32_t id);

/* send.c: each returns false (and closes the connection) when sending
 * failed. */
struct rpc_out {
    struct capn_bld b;
    struct capn_seg seg;
};
Message_b rpc_out_begin(struct rpc_conn *c, struct rpc_out *o);
bool rpc_out_send(struct rpc_conn *c, struct rpc_out *o);
void rpc_abort(struct rpc_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rpc_send_release(struct rpc_conn *c, uint32_t id, uint32_t count);
void rpc_send_unimplemented(struct rpc_conn *c, Message_r msg);
void rpc_send_exception(struct rpc_conn *c, struct rpc_answer *a, enum rpc_exc type,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* call.c */
void rpc_handle_call(struct rpc_conn *c, const uint8_t *frame, size_t len, Call_r call);
void rpc_handle_bootstrap(struct rpc_conn *c, Bootstrap_r b);
void rpc_run_call(struct rpc_conn *c, struct rpc_answer *a, const uint8_t *frame, size_t len,
                  Call_r call);
void rpc_answer_done(struct rpc_conn *c);

/* pipeline.c */
void rpc_paths_collect(struct rpc_answer *a, struct capn_ptr content);
/* The export a PromisedAnswer names in a returned answer, or RPC_NO_CAP
 * with *why set. */
uint32_t rpc_paths_resolve(const struct rpc_answer *a, PromisedAnswer_r pa, const char **why);
bool rpc_defer_push(struct rpc_conn *c, const struct rpc_answer *a, uint32_t target_qid,
                    const uint8_t *frame, size_t len);
void rpc_defer_replay(struct rpc_conn *c);
void rpc_defer_drop(struct rpc_conn *c, const struct rpc_answer *a);

#endif
