/*
 * remote-gateway: the remote-session CapSet gateway (docs/remote.md). A
 * person on another machine speaks standard Cap'n Proto RPC (two-party,
 * level 1) to port 2327 and receives their session's capabilities, with
 * the console's authority rules: the session manager's login (throttling
 * and the audit log, with the peer's address as the record's origin) and
 * the authority broker's revocable bundle.
 *
 * What the files share:
 *   main.c     the event loop, the listener and the connections (sockets,
 *              each with its output queue and a write in flight)
 *   start.c    the capabilities, the listener, the clock, small socket calls
 *   book.c     handles, sessions and each connection's share: pure logic
 *              (book.h), also built into host tests and a fuzz target
 *   objects.c  the book's effects, RemoteLogin, RemoteSession
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
#include "rpc/outq.h"
#include "rpc/rpc.h"
#include "text/fmt.h"

#include "book.h"

_Static_assert(GW_NO_HANDLE == RPC_NO_CAP, "the book's no-handle is the engine's");

#define GW_PORT 2327
#define GW_IDLE_MS                                                                                 \
    60000u /* a connection silent (neither sending nor reading) this long is aborted */
#define GW_DRAIN_MS 1000u /* after our Abort: write the rest, read what the peer still sends */
/* A peer with answers waiting must read the next GW_WRITE_MIN bytes of
 * them (or all there are) within GW_WRITE_MS, or it is closed: one that
 * reads nothing, or a trickle (a slowloris holding its queue, or a
 * socket buffer that only opens by a few bytes), holds its resources
 * no longer than that. */
#define GW_WRITE_MS  10000u
#define GW_WRITE_MIN 4096u
#define GW_READ_MAX  16384u /* bytes asked of one TcpSocket.read */
/* The output queue of a connection (docs/remote.md, "Sending"): reading
 * from the peer pauses at GW_OUTQ_PAUSE bytes queued; what one event can
 * add beyond that (a results message of up to 64 KiB, the answers to one
 * GW_FEED_STEP of input) fits in the rest, and a message that does not
 * closes the connection. */
#define GW_OUTQ       (128u * 1024)
#define GW_OUTQ_PAUSE (16u * 1024)
#define GW_FEED_STEP  1024u  /* input fed to the engine between checks of the queue */
#define GW_WRITE_MAX  16384u /* bytes of one TcpSocket.write (the socket buffers 32 KiB) */
#define GW_RESULT_BUF CAPOS_MAX_RESULT_LEN /* results and their capability records */

/* user_data of our own ring operations: the kind in the top byte keeps
 * them apart from the runtime's (a counter from 1), the index and the
 * generation find the connection or op, and a stale completion (its
 * connection ended meanwhile) is recognised by the generation. */
enum gw_ud { GW_UD_ACCEPT = 1, GW_UD_READ = 2, GW_UD_OP = 3, GW_UD_WRITE = 4 };
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
    bool draining;      /* we ended it: writing the rest, reading until the peer closes */
    bool shut;          /* draining: the write side is shut */
    bool read_pending;  /* a TcpSocket.read in flight (its buffers below) */
    bool write_pending; /* a TcpSocket.write in flight (its buffers below) */
    bool write_cancel;  /* that write is being cancelled: the peer reads too little */
    bool overflow;      /* a message did not fit in the output queue */
    uint32_t gen;       /* bumped when the slot is taken */
    uint32_t seq;       /* connection number, for the log */
    uint32_t sock;      /* TcpSocket */
    uint64_t last_ms;   /* last byte from the peer, or last byte it read */
    uint64_t write_ms;  /* answers waiting since, or the peer last read GW_WRITE_MIN bytes */
    uint32_t written;   /* bytes the peer took since write_ms */
    uint64_t drain_until;
    char peer[24];     /* "10.0.2.2:40000" */
    const uint8_t *in; /* read but not yet fed to the engine (the queue was full) */
    uint32_t in_left;
    uint32_t parked; /* answers that waited for room in the queue, for the log */
    struct rpc_outq out;
    struct capnpc_call read, write;
    uint8_t read_params[64] __attribute__((aligned(8)));
    uint8_t read_results[GW_READ_MAX + 256] __attribute__((aligned(8)));
    uint8_t write_params[GW_WRITE_MAX + 256] __attribute__((aligned(8)));
    uint8_t write_results[64] __attribute__((aligned(8)));
    uint8_t out_buf[GW_OUTQ];
    struct rpc_conn rpc; /* last: accepted() clears what comes before it */
};
extern struct gw_conn gw_conns[GW_CONNS];

/* The connection of this index if it is still the one of generation gen
 * and open for answers; NULL otherwise. */
struct gw_conn *gw_conn_live(uint32_t index, uint32_t gen);
/* Its output queue is full: answers for it wait (forward.c parks them). */
bool gw_conn_full(uint32_t index);
uint64_t gw_now_ms(void);

/* ---- start.c ---- */

/* The capability of this name and interface, or the gateway exits
 * saying which is missing. */
uint32_t gw_need(const char *name, uint64_t iface);
/* A TcpListener on GW_PORT, or 0 (the reason printed). */
uint32_t gw_listen(uint32_t auth);
/* "a.b.c.d:port" of the socket's peer. */
void gw_peer_name(uint32_t sock, char *out, size_t size);
/* "remote-gateway: WHAT failed: TYPE: MESSAGE" for a synchronous call. */
void gw_say_failure(const char *what, int rc, struct capnpc_call *c);

/* ---- objects.c ---- */

/* A call on one of our own objects (RemoteLogin, RemoteSession). */
void gw_call_local(struct gw_conn *k, const struct rpc_call *call, struct gw_ref *r);
/* An answer of the session manager or the broker for a login (forward.c
 * routes the completion here). */
struct gw_op;
void gw_login_done(struct gw_op *op, const struct capos_cqe *cqe);
void gw_bundle_done(struct gw_op *op, const struct capos_cqe *cqe);
/* A framed results message whose root has one capability pointer, at
 * index 0 (RemoteLogin.login's and guest's results). */
size_t gw_frame_one_cap(void *buf, size_t size);

/* ---- forward.c ---- */

enum gw_op_kind { GW_OP_FORWARD = 1, GW_OP_LOGIN, GW_OP_BUNDLE, GW_OP_LOGOUT };

struct gw_op {
    bool used;
    uint8_t kind;
    uint32_t gen;
    bool parked;             /* completed, waiting for room in its connection's queue */
    uint32_t conn, conn_gen; /* who asked */
    uint32_t answer;         /* the engine's token */
    uint32_t sess;           /* session index + 1, or 0 */
    uint32_t link_client;    /* GW_OP_BUNDLE: released once the broker has its copy */
    void *params;            /* GW_OP_FORWARD: the params, until the kernel took them */
    struct capnpc_call c;
    uint32_t pcaps[2], rcaps[CAPOS_MAX_XFER];
    uint8_t small[1024] __attribute__((aligned(8))); /* params of our own calls */
    uint8_t *results;                                /* GW_RESULT_BUF bytes */
    struct capos_cqe cqe;                            /* parked: its completion */
};

void gw_ops_init(void);
/* A free op for connection k, or NULL (all GW_OPS are in flight). */
struct gw_op *gw_op_get(enum gw_op_kind kind, struct gw_conn *k, uint32_t answer);
void gw_op_put(struct gw_op *op);
uint64_t gw_op_ud(const struct gw_op *op);
/* A ring CQE of an op: handled, or parked while the queue of the
 * connection it answers is full. */
void gw_op_complete(uint32_t index, uint32_t gen, const struct capos_cqe *cqe);
/* The parked answers of connection conn, now that its queue has room (or
 * it ended), until the queue is full again. */
void gw_ops_unpark(uint32_t conn);
/* A call on a capability of this process, as a ring CALL. */
void gw_forward(struct gw_conn *k, const struct rpc_call *call, const struct gw_ref *r);
/* The engine's exception for a failed call: a transport error (< 0) or
 * the CapException in the reply. */
void gw_throw_failure(struct rpc_conn *rpc, uint32_t answer, int rc, const void *buf, size_t len);
/* The broker's logout of a session, without waiting. */
void gw_broker_logout(const uint8_t id[16], uint32_t link);

#endif
