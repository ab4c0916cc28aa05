/*
 * remote-gateway: the remote-session CapSet gateway (docs/remote.md). A
 * person on another machine speaks standard Cap'n Proto RPC (two-party,
 * level 1) to port 2327 and receives their session's capabilities, with
 * the console's authority rules: the session manager's login (throttling
 * and the audit log, with the peer's address as the record's origin) and
 * the authority broker's revocable bundle.
 *
 * What the files share:
 *   main.c     the event loop, the listener and the connections (sockets)
 *   objects.c  the handles the RPC engine holds, RemoteLogin, RemoteSession
 *   forward.c  calls on real capabilities as ring CALLs, and the pool of
 *              calls in flight (ops) that both the login and forwarding use
 */
#ifndef REMOTE_GATEWAY_H
#define REMOTE_GATEWAY_H

#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"
#include "remote.capnp.h"
#include "rpc/rpc.h"
#include "text/fmt.h"

#define GW_PORT       2327
#define GW_CONNS      4      /* connections at once; one more is refused with an Abort */
#define GW_IDLE_MS    60000u /* a connection silent this long is aborted */
#define GW_DRAIN_MS   1000u  /* after our Abort: read what the peer still sends, this long */
#define GW_WRITE_MS   10000u /* a write the peer's reading does not let finish this long fails */
#define GW_READ_MAX   16384u /* bytes asked of one TcpSocket.read */
#define GW_OPS        12u    /* ring calls in flight for the connections (a process has 30) */
#define GW_REFS       512u   /* handles the engines hold, all connections together */
#define GW_SESSIONS   8u     /* logged-in sessions, all connections together */
#define GW_BUNDLE     16u    /* capabilities of one session's bundle */
#define GW_NAME       16u    /* bytes of a bundle name, with its NUL */
#define GW_RESULT_BUF CAPOS_MAX_RESULT_LEN /* results and their capability records */

/* user_data of our own ring operations: the kind in the top byte keeps
 * them apart from the runtime's (a counter from 1), the index and the
 * generation find the connection or op, and a stale completion (its
 * connection ended meanwhile) is recognised by the generation. */
enum gw_ud { GW_UD_ACCEPT = 1, GW_UD_READ = 2, GW_UD_OP = 3 };
static inline uint64_t gw_ud(enum gw_ud kind, uint32_t index, uint32_t gen)
{
    return (uint64_t)kind << 56 | (uint64_t)(index & 0xffff) << 32 | gen;
}

/* ---- main.c ---- */

struct gw_caps {
    uint32_t sessions, broker, endpoints, timer;
};
extern struct gw_caps gw;

struct gw_conn {
    bool used;
    bool draining;     /* we ended it: reading until the peer closes */
    bool read_pending; /* a TcpSocket.read in flight (its buffers below) */
    uint32_t gen;      /* bumped when the slot is taken */
    uint32_t seq;      /* connection number, for the log */
    uint32_t sock;     /* TcpSocket */
    uint64_t last_ms;  /* last byte from the peer */
    uint64_t drain_until;
    char peer[24]; /* "10.0.2.2:40000" */
    struct capnpc_call read;
    uint8_t read_params[64] __attribute__((aligned(8)));
    uint8_t read_results[GW_READ_MAX + 256] __attribute__((aligned(8)));
    struct rpc_conn rpc; /* last: accepted() clears what comes before it */
};
extern struct gw_conn gw_conns[GW_CONNS];

/* The connection of this index if it is still the one of generation gen
 * and open for answers; NULL otherwise. */
struct gw_conn *gw_conn_live(uint32_t index, uint32_t gen);
uint64_t gw_now_ms(void);

/* ---- objects.c ---- */

enum gw_ref_kind { GW_FREE = 0, GW_LOGIN, GW_SESSION, GW_REAL };

/* A handle the engine holds: one of our own objects, or a capability of
 * this process (a slot) reached through a session. */
struct gw_ref {
    uint8_t kind;
    uint8_t conn;  /* the connection it was handed to */
    uint16_t sess; /* session index + 1 (0: none) */
    uint32_t refs; /* references the engine (or the session) holds */
    uint32_t slot; /* GW_REAL: the capability */
};
extern struct gw_ref gw_refs[GW_REFS];

struct gw_session {
    bool used, logged_out;
    bool ready; /* the bundle arrived and the login was answered */
    uint8_t conn;
    uint32_t deps; /* handles naming it; freed at 0 once logged out */
    uint8_t id[16];
    UserSession_Profile profile;
    char principal[32];
    uint32_t link; /* the ShellLink's owner side: its end logs the session out */
    uint32_t nbundle;
    char names[GW_BUNDLE][GW_NAME];
    uint64_t ifaces[GW_BUNDLE];
    uint32_t bundle[GW_BUNDLE]; /* handles (GW_REAL), one reference each for the session */
};
extern struct gw_session gw_sessions[GW_SESSIONS];

/* A new handle for connection conn with one reference, or RPC_NO_CAP. */
uint32_t gw_ref_new(enum gw_ref_kind kind, uint32_t conn, uint32_t sess, uint32_t slot);
void gw_ref_release(uint32_t h);
/* A call on one of our own objects (RemoteLogin, RemoteSession). */
void gw_call_local(struct gw_conn *k, const struct rpc_call *call, struct gw_ref *r);
/* An answer of the session manager or the broker for a login (forward.c
 * routes the completion here). */
struct gw_op;
void gw_login_done(struct gw_op *op, const struct capos_cqe *cqe);
void gw_bundle_done(struct gw_op *op, const struct capos_cqe *cqe);
/* Every session of this connection ends (it closed). */
void gw_sessions_of_conn_end(uint32_t conn);
/* A framed results message whose root has one capability pointer, at
 * index 0 (RemoteLogin.login's and guest's results). */
size_t gw_frame_one_cap(void *buf, size_t size);

/* ---- forward.c ---- */

enum gw_op_kind { GW_OP_FORWARD = 1, GW_OP_LOGIN, GW_OP_BUNDLE, GW_OP_LOGOUT };

struct gw_op {
    bool used;
    uint8_t kind;
    uint32_t gen;
    uint32_t conn, conn_gen; /* who asked */
    uint32_t answer;         /* the engine's token */
    uint32_t sess;           /* session index + 1, or 0 */
    uint32_t link_client;    /* GW_OP_BUNDLE: released once the broker has its copy */
    void *params;            /* GW_OP_FORWARD: the params, until the kernel took them */
    struct capnpc_call c;
    uint32_t pcaps[2], rcaps[CAPOS_MAX_XFER];
    uint8_t small[1024] __attribute__((aligned(8))); /* params of our own calls */
    uint8_t *results;                                /* GW_RESULT_BUF bytes */
};

void gw_ops_init(void);
/* A free op for connection k, or NULL (all GW_OPS are in flight). */
struct gw_op *gw_op_get(enum gw_op_kind kind, struct gw_conn *k, uint32_t answer);
void gw_op_put(struct gw_op *op);
uint64_t gw_op_ud(const struct gw_op *op);
/* A ring CQE of an op. */
void gw_op_complete(uint32_t index, uint32_t gen, const struct capos_cqe *cqe);
/* A call on a capability of this process, as a ring CALL. */
void gw_forward(struct gw_conn *k, const struct rpc_call *call, const struct gw_ref *r);
/* The engine's exception for a failed call: a transport error (< 0) or
 * the CapException in the reply. */
void gw_throw_failure(struct rpc_conn *rpc, uint32_t answer, int rc, const void *buf, size_t len);
/* The broker's logout of a session, without waiting. */
void gw_broker_logout(const uint8_t id[16], uint32_t link);

#endif
