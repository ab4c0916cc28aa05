/*
 * Cap'n Proto RPC, the two-party protocol at level 1 (rpc.capnp), as a pure
 * engine over a byte stream: the side that serves capabilities (the
 * remote-session gateway, docs/remote.md).
 *
 * The caller owns everything: a struct rpc_conn per connection (tables and
 * buffers are inside it, no allocation), the socket, and the capabilities.
 * Bytes read from the peer go in with rpc_conn_feed; messages for the peer
 * come out through host.send. A call on an exported capability goes to
 * host.call with its params as a standalone framed message; the host
 * answers, then or later, with rpc_conn_return or rpc_conn_throw.
 *
 * Capabilities of the host are "handles" (uint32_t, meaning up to the host:
 * a capability slot in the guest, an object index in tests). Every handle
 * the host gives the engine (bootstrap, results) transfers one reference;
 * the engine gives it back with host.release exactly once.
 *
 * Freestanding: uses only memcpy/memset/memmove and lib/capnp.
 */
#ifndef CAPOS_LIB_RPC_H
#define CAPOS_LIB_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capnp/capnp.h"

/* Compile-time capacities; rpc_limits may only lower them. */
#define RPC_MSG_MAX     65536u                 /* bytes of one framed message */
#define RPC_ANSWERS     64u                    /* the peer's outstanding questions */
#define RPC_EXPORTS     256u                   /* capabilities the peer holds */
#define RPC_IMPORTS     256u                   /* capabilities the peer sent us */
#define RPC_RESULT_CAPS 16u                    /* capabilities in one results message */
#define RPC_CALL_CAPS   16u                    /* capabilities in one params message */
#define RPC_PIPE_PATHS  16u                    /* pipelinable capability paths per answer */
#define RPC_PATH_MAX    4u                     /* pointer fields in one pipeline path */
#define RPC_DEFER_BYTES 16384u                 /* pipelined calls waiting for their answer */
#define RPC_REASON_MAX  96u                    /* bytes of an exception reason kept */
#define RPC_MAX_SEGS    16u                    /* segments of one incoming message */
#define RPC_TRAVERSAL   (4u * RPC_MSG_MAX / 8) /* words read per message */
#define RPC_NEST        32                     /* pointer depth per message */

#define RPC_NO_CAP UINT32_MAX

/* rpc.capnp's Exception.Type */
enum rpc_exc { RPC_EXC_FAILED = 0, RPC_EXC_OVERLOADED, RPC_EXC_DISCONNECTED, RPC_EXC_UNIMPL };

struct rpc_limits {
    uint32_t max_msg;   /* bytes of a framed message, <= RPC_MSG_MAX */
    uint32_t max_segs;  /* <= RPC_MAX_SEGS */
    uint32_t answers;   /* <= RPC_ANSWERS */
    uint32_t exports;   /* <= RPC_EXPORTS */
    uint32_t imports;   /* <= RPC_IMPORTS */
    uint64_t traversal; /* words */
    int32_t nest;       /* <= CAPN_NESTING_LIMIT */
};

/* A capability in a call's params, as the host sees it. */
enum rpc_cap_kind { RPC_CAP_NONE = 0, RPC_CAP_LOCAL, RPC_CAP_IMPORT };
struct rpc_cap {
    uint32_t kind; /* enum rpc_cap_kind */
    uint32_t id;   /* LOCAL: host handle; IMPORT: the peer's export id */
};

/* An incoming call for host.call. Everything is valid only during it. */
struct rpc_call {
    uint32_t answer; /* for rpc_conn_return / rpc_conn_throw */
    uint32_t target; /* host handle called */
    uint64_t interface_id;
    uint16_t method;
    bool pipelined;     /* reached through a PromisedAnswer */
    const void *params; /* framed, one segment */
    size_t params_len;
    const struct rpc_cap *caps;
    uint32_t ncaps;
};

struct rpc_conn;

struct rpc_host {
    void *ctx;
    /* Take a whole framed message for the peer (write it, or queue it:
     * the buffer is reused once this returns); < 0 closes the connection,
     * with the reason the host wrote into c->why, if any. */
    int (*send)(void *ctx, const void *buf, size_t len);
    /* The bootstrap capability (one reference), or RPC_NO_CAP. */
    uint32_t (*bootstrap)(void *ctx);
    /* Deliver a call; answer it with rpc_conn_return/throw, now or later. */
    void (*call)(void *ctx, struct rpc_conn *c, const struct rpc_call *call);
    /* The engine gives back a reference it was given. */
    void (*release)(void *ctx, uint32_t handle);
};

struct rpc_stats {
    uint32_t msgs_in, msgs_out;
    uint32_t calls;     /* delivered to host.call */
    uint32_t pipelined; /* of them, on a PromisedAnswer */
    uint32_t deferred;  /* waited for their promise's answer */
    uint32_t dependent; /* on a capability learned from an earlier Return */
    uint32_t returns, exceptions;
    uint32_t canceled; /* answered after the peer's Finish */
    uint32_t releases; /* Release messages received */
    uint32_t unimplemented_sent;
    uint32_t exports_peak;
};

enum rpc_state { RPC_OPEN = 0, RPC_CLOSED };

/* ---- Tables (internal; here so that the caller can provide the memory) ---- */

struct rpc_path {
    uint8_t len;
    uint8_t cap; /* index in the answer's caps[] */
    uint16_t op[RPC_PATH_MAX];
};

enum rpc_answer_state { RPC_ANS_FREE = 0, RPC_ANS_PENDING, RPC_ANS_RETURNED };

/* One question of the peer, from Call/Bootstrap until Finish. */
struct rpc_answer {
    uint32_t qid;
    uint16_t gen; /* bumped on free: stale tokens miss */
    uint8_t state;
    bool finished;  /* Finish came before our Return: cancel */
    bool exception; /* returned an exception */
    bool waiting;   /* its call is deferred behind another promise */
    uint8_t ncaps, npaths;
    uint8_t exc_type;
    uint32_t caps[RPC_RESULT_CAPS]; /* export ids of the Return's cap table */
    struct rpc_path paths[RPC_PIPE_PATHS];
    char reason[RPC_REASON_MAX];
};

/* A capability of ours the peer can name by its index. */
struct rpc_export {
    uint32_t handle;
    uint32_t remote; /* references the peer holds */
    uint32_t local;  /* answers that keep it for pipelining */
    bool used;
    bool from_return; /* first sent in a Return (not Bootstrap) */
};

/* A capability of the peer's, named by the peer's export id. */
struct rpc_import {
    uint32_t id;
    uint32_t refs; /* references received and not yet released */
    bool used;
};

struct rpc_conn {
    struct rpc_host host;
    struct rpc_limits lim;
    enum rpc_state state;
    struct rpc_stats stats;
    int busy;        /* inside host.call: no replay, no nesting */
    bool replay;     /* an answer returned while busy */
    char why[128];   /* why the connection closed */
    uint32_t in_len; /* bytes buffered in in[] */
    uint32_t defer_len;
    uint32_t nanswers, nexports, nimports;
    struct rpc_answer answers[RPC_ANSWERS];
    struct rpc_export exports[RPC_EXPORTS];
    struct rpc_import imports[RPC_IMPORTS];
    /* Framed messages keep 8 bytes in front of the builder's arena for the
     * one-segment table, so nothing is copied to frame them. */
    uint64_t in[RPC_MSG_MAX / 8];
    uint64_t out[RPC_MSG_MAX / 8];
    uint64_t params[RPC_MSG_MAX / 8];
    uint64_t defer[RPC_DEFER_BYTES / 8];
};

/* Default limits: the compile-time capacities. */
void rpc_limits_default(struct rpc_limits *l);

/* Start a connection (zeroes *c). lim may be NULL for the defaults; values
 * above the capacities are lowered to them. */
void rpc_conn_init(struct rpc_conn *c, const struct rpc_host *host, const struct rpc_limits *lim);

/* Bytes from the peer, any split. Returns RPC_OPEN, or RPC_CLOSED once an
 * Abort was sent or received or sending failed (see c->why); the caller
 * then calls rpc_conn_close and drops the socket. */
enum rpc_state rpc_conn_feed(struct rpc_conn *c, const void *bytes, size_t len);

/* Answer host call `answer` with a framed results message whose capability
 * pointers index caps[] (host handles; one reference each is transferred,
 * RPC_NO_CAP for none). An invalid results message becomes an exception. */
void rpc_conn_return(struct rpc_conn *c, uint32_t answer, const void *results, size_t len,
                     const uint32_t *caps, uint32_t ncaps);
/* Answer it with an exception. */
void rpc_conn_throw(struct rpc_conn *c, uint32_t answer, enum rpc_exc type, const char *reason);

/* Send an Abort with this reason and close (idle timeout, shutdown). */
void rpc_conn_abort(struct rpc_conn *c, const char *reason);

/* End the connection: every reference the engine holds goes back through
 * host.release; pending answers are dropped (the host must not answer
 * them). Safe on an open or closed connection, and twice. */
void rpc_conn_close(struct rpc_conn *c);

/* Live entries, for tests and statistics. */
uint32_t rpc_conn_exports(const struct rpc_conn *c);
uint32_t rpc_conn_answers(const struct rpc_conn *c);
uint32_t rpc_conn_imports(const struct rpc_conn *c);

#endif
