/*
 * remote-gateway: the event loop, the listener and the connections.
 *
 * One thread. It keeps one TcpListener.accept and one TcpSocket.read per
 * connection in flight, and the ring calls of logins and forwarded calls
 * (forward.c), and waits for whichever completes first with a single
 * cap_enter, whose timeout is the nearest idle or drain deadline. Bytes
 * read go to the connection's RPC engine (lib/rpc); what the engine sends
 * is written to the socket before the engine goes on (TcpSocket.write,
 * waited for: the engine needs the whole message taken).
 *
 * Caps: "listen" (TcpListenAuthority for port 2327 alone), "sessions"
 * (SessionManager), "broker" (AuthorityBroker), "endpoints"
 * (EndpointFactory, for the ShellLinks), "timer", "vm" (heap), "console".
 * When the network service goes away (no device, or it ended), accept
 * fails with `disconnected` and the gateway exits (0).
 */
#include "gateway.h"

struct gw_caps gw;
struct gw_conn gw_conns[GW_CONNS];

static uint32_t listener, next_seq = 1;
static struct rpc_limits limits;
static struct rpc_conn refuser; /* says "too many connections" to one more */

static struct capnpc_call accept_call;
static uint8_t accept_params[64] __attribute__((aligned(8)));
static uint8_t accept_results[256] __attribute__((aligned(8)));
static uint32_t accept_cap[1];

static uint8_t io_params[32768 + 256] __attribute__((aligned(8)));
static uint8_t io_results[1024] __attribute__((aligned(8)));

uint64_t gw_now_ms(void)
{
    /* Buffers of its own: a write may be in flight in io_params/io_results. */
    static uint8_t p[64] __attribute__((aligned(8))), res[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    if (Timer_now_call(&capos_transport, gw.timer, &c, &r) != CAPNPC_OK)
        capos_panic("remote-gateway: Timer.now failed");
    return Timer_now_Results_get_ns(r) / 1000000u;
}

static void say_failure(const char *what, int rc, struct capnpc_call *c)
{
    struct capn_text m = {0};
    int type = -1;
    if (rc == CAPNPC_EXCEPTION) {
        CapException_r ex = CapException_read_root(&c->msg);
        type = CapException_get_type(ex);
        m = CapException_get_message(ex);
    }
    capos_printf("remote-gateway: %s failed: %s%s%.*s\n", what,
                 type >= 0 && type < CapException_Type_COUNT ? CapException_Type_NAMES[type]
                                                             : "transport error",
                 m.len ? ": " : "", (int)m.len, m.str ? m.str : "");
}

struct gw_conn *gw_conn_live(uint32_t index, uint32_t gen)
{
    if (index >= GW_CONNS)
        return 0;
    struct gw_conn *k = &gw_conns[index];
    return k->used && k->gen == gen && !k->draining && k->rpc.state == RPC_OPEN ? k : 0;
}

/* ---- Writing ---- */

/* One TcpSocket.write, waited for at most GW_WRITE_MS: the bytes the
 * socket took, or -1 if the write failed or the peer has not read for that
 * long (then the write is cancelled). While it waits, other completions
 * are kept for the event loop; the bound is what keeps a peer that never
 * reads its answers from holding up every other connection for longer. */
static long write_some(uint32_t sock, const uint8_t *p, uint32_t n)
{
    struct capnpc_call c;
    capnpc_call_init(&c, io_params, sizeof(io_params), io_results, sizeof(io_results));
    TcpSocket_write_Params_b wp = TcpSocket_write_begin(&c);
    TcpSocket_write_Params_set_data(wp, p, n);
    uint64_t ud = capos_ring_next_id();
    if (!capos_call_start(&c, sock, TcpSocket_INTERFACE_ID, TcpSocket_write_METHOD, ud))
        return -1;
    uint64_t deadline = gw_now_ms() + GW_WRITE_MS;
    struct capos_cqe cqe;
    while (!capos_ring_try_take(ud, &cqe)) {
        if (gw_now_ms() >= deadline) {
            struct capos_sqe sqe = {.opcode = CAPOS_OP_CANCEL, .target_user_data = ud};
            capos_ring_submit(&sqe);
            capos_ring_wait(ud, &cqe); /* cancelled, or it completed meanwhile */
            if (cqe.result == CAPOS_E_CANCELLED) {
                capos_printf("remote-gateway: a peer has read none of its answers for %u s; "
                             "closing its connection\n",
                             GW_WRITE_MS / 1000);
                return -1;
            }
            break;
        }
        capos_cap_enter(1, 100000000u); /* 100 ms: the deadline is checked again */
    }
    struct capn_struct out;
    if (capos_call_finish(&c, &cqe, &out) != CAPNPC_OK)
        return -1;
    uint32_t acc = TcpSocket_write_Results_get_accepted((TcpSocket_write_Results_r){out});
    return acc == 0 || acc > n ? -1 : (long)acc;
}

/* The engine's host.send: the whole message onto the socket (the engine
 * has nowhere to keep it otherwise). */
static int write_all(uint32_t sock, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        uint32_t n = len > 32768 ? 32768 : (uint32_t)len;
        long acc = write_some(sock, p, n);
        if (acc < 0)
            return -1;
        p += acc;
        len -= (size_t)acc;
    }
    return 0;
}

static int on_send(void *ctx, const void *buf, size_t len)
{
    struct gw_conn *k = ctx;
    return write_all(k->sock, buf, len);
}

static int refuser_send(void *ctx, const void *buf, size_t len)
{
    return write_all(*(uint32_t *)ctx, buf, len);
}

/* ---- The engine's host ---- */

static uint32_t on_bootstrap(void *ctx)
{
    struct gw_conn *k = ctx;
    return gw_ref_new(GW_LOGIN, (uint32_t)(k - gw_conns), 0, 0);
}

static void on_call(void *ctx, struct rpc_conn *rpc, const struct rpc_call *call)
{
    struct gw_conn *k = ctx;
    struct gw_ref *r = call->target < GW_REFS ? &gw_refs[call->target] : 0;
    if (!r || r->kind == GW_FREE || r->conn != (uint8_t)(k - gw_conns)) {
        /* The engine names only this connection's exports: a bug if not. */
        rpc_conn_throw(rpc, call->answer, RPC_EXC_FAILED, "no such capability");
        return;
    }
    if (r->kind == GW_REAL) {
        if (r->sess && gw_sessions[r->sess - 1].logged_out) {
            rpc_conn_throw(rpc, call->answer, RPC_EXC_DISCONNECTED,
                           "disconnected: the session was logged out; its capabilities are "
                           "revoked");
            return;
        }
        gw_forward(k, call, r);
        return;
    }
    gw_call_local(k, call, r);
}

static void on_release(void *ctx, uint32_t h)
{
    (void)ctx;
    gw_ref_release(h);
}

/* ---- Connections ---- */

static void start_read(struct gw_conn *k)
{
    capnpc_call_init(&k->read, k->read_params, sizeof(k->read_params), k->read_results,
                     sizeof(k->read_results));
    TcpSocket_read_Params_b p = TcpSocket_read_begin(&k->read);
    TcpSocket_read_Params_set_max(p, GW_READ_MAX);
    k->read_pending =
        capos_call_start(&k->read, k->sock, TcpSocket_INTERFACE_ID, TcpSocket_read_METHOD,
                         gw_ud(GW_UD_READ, (uint32_t)(k - gw_conns), k->gen));
}

static void sock_call(uint32_t sock, uint16_t method)
{
    struct capnpc_call c;
    capnpc_call_init(&c, io_params, 64, io_results, sizeof(io_results));
    capnpc_call_begin(&c, 0, 0);
    struct capn_struct out;
    if (capnpc_call_send(&capos_transport, sock, TcpSocket_INTERFACE_ID, method, &c, &out) < 0)
        return; /* the socket is gone already: nothing left to end */
}

/* Free the slot once its read has come back (its buffers are in it). */
static void conn_free_if_idle(struct gw_conn *k)
{
    if (k->read_pending)
        return;
    sock_call(k->sock, TcpSocket_close_METHOD);
    capos_release(k->sock);
    k->used = false;
}

/* The connection is over for the engine: every handle goes back (the
 * sessions end), statistics are printed. When this side ended it (an
 * Abort), the write side is shut and what the peer still sends is read and
 * dropped until it closes, for at most GW_DRAIN_MS: closing with unread
 * input would reset the connection and the peer could lose the Abort. */
static void conn_end(struct gw_conn *k, bool peer_gone)
{
    struct rpc_stats *s = &k->rpc.stats;
    /* Sessions first, so that the log says why they end: the engine's
     * close then gives back the handles, which no longer log anything out. */
    gw_sessions_of_conn_end((uint32_t)(k - gw_conns));
    rpc_conn_close(&k->rpc);
    capos_printf("remote-gateway: conn %u from %s closed (%s): calls=%u pipelined=%u deferred=%u "
                 "dependent=%u returns=%u exceptions=%u releases=%u exports_left=%u\n",
                 k->seq, k->peer, k->rpc.why[0] ? k->rpc.why : "no reason", s->calls, s->pipelined,
                 s->deferred, s->dependent, s->returns, s->exceptions, s->releases,
                 rpc_conn_exports(&k->rpc));
    k->draining = true;
    if (peer_gone) {
        conn_free_if_idle(k);
        return;
    }
    sock_call(k->sock, TcpSocket_shutdown_METHOD);
    k->drain_until = gw_now_ms() + GW_DRAIN_MS;
}

static void peer_name(uint32_t sock, char *out, size_t size)
{
    struct capnpc_call c;
    TcpSocket_peer_Results_r pr;
    capnpc_call_init(&c, io_params, 64, io_results, sizeof(io_results));
    if (TcpSocket_peer_call(&capos_transport, sock, &c, &pr) != CAPNPC_OK) {
        fmt_snprintf(out, size, "(unknown)");
        return;
    }
    uint32_t a = TcpSocket_peer_Results_get_address(pr);
    fmt_snprintf(out, size, "%u.%u.%u.%u:%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255,
                 TcpSocket_peer_Results_get_port(pr));
}

static void accepted(uint32_t sock)
{
    struct gw_conn *k = 0;
    for (uint32_t i = 0; i < GW_CONNS && !k; i++)
        if (!gw_conns[i].used)
            k = &gw_conns[i];
    char peer[24];
    peer_name(sock, peer, sizeof(peer));
    if (!k) {
        char why[64];
        uint32_t fd = sock;
        struct rpc_host h = {&fd, refuser_send, 0, 0, 0};
        rpc_conn_init(&refuser, &h, 0);
        fmt_snprintf(why, sizeof(why), "too many connections; the limit is %u", GW_CONNS);
        rpc_conn_abort(&refuser, why);
        capos_printf("remote-gateway: refused a connection from %s: %s\n", peer, why);
        /* No read is in flight on it: shut, then close; the peer reads the
         * Abort before the end of stream. */
        sock_call(sock, TcpSocket_shutdown_METHOD);
        sock_call(sock, TcpSocket_close_METHOD);
        capos_release(sock);
        return;
    }
    uint32_t gen = k->gen + 1;
    memset(k, 0, offsetof(struct gw_conn, rpc)); /* rpc_conn_init clears the rest */
    k->used = true;
    k->gen = gen;
    k->seq = next_seq++;
    k->sock = sock;
    k->last_ms = gw_now_ms();
    memcpy(k->peer, peer, sizeof(peer));
    struct rpc_host h = {k, on_send, on_bootstrap, on_call, on_release};
    rpc_conn_init(&k->rpc, &h, &limits);
    capos_printf("remote-gateway: conn %u from %s\n", k->seq, k->peer);
    start_read(k);
}

static bool start_accept(void)
{
    capnpc_call_init(&accept_call, accept_params, sizeof(accept_params), accept_results,
                     sizeof(accept_results));
    capnpc_call_caps(&accept_call, 0, 0, accept_cap, 1);
    capnpc_call_begin(&accept_call, 0, 0);
    return capos_call_start(&accept_call, listener, TcpListener_INTERFACE_ID,
                            TcpListener_accept_METHOD, gw_ud(GW_UD_ACCEPT, 0, 0));
}

/* False when the listener failed: the gateway ends. */
static bool on_accept(const struct capos_cqe *cqe)
{
    struct capn_struct out;
    int rc = capos_call_finish(&accept_call, cqe, &out);
    if (rc != CAPNPC_OK || accept_call.reply.ncaps != 1) {
        say_failure("accept", rc, &accept_call);
        return false;
    }
    accepted(accept_cap[0]);
    return start_accept();
}

static void on_read(uint32_t index, uint32_t gen, const struct capos_cqe *cqe)
{
    if (index >= GW_CONNS || !gw_conns[index].used || gw_conns[index].gen != gen)
        return;
    struct gw_conn *k = &gw_conns[index];
    k->read_pending = false;
    struct capn_struct out;
    int rc = capos_call_finish(&k->read, cqe, &out);
    struct capn_data d = rc == CAPNPC_OK
                             ? TcpSocket_read_Results_get_data((TcpSocket_read_Results_r){out})
                             : (struct capn_data){0};
    bool eof = rc != CAPNPC_OK || d.len == 0 || d.len > GW_READ_MAX;
    if (k->draining) {
        if (eof || gw_now_ms() > k->drain_until)
            conn_free_if_idle(k);
        else
            start_read(k);
        return;
    }
    if (eof) {
        if (k->rpc.why[0] == 0)
            fmt_snprintf(k->rpc.why, sizeof(k->rpc.why), "%s",
                         rc == CAPNPC_OK ? "the peer closed the connection"
                                         : "the connection was lost");
        conn_end(k, true);
        return;
    }
    k->last_ms = gw_now_ms();
    if (rpc_conn_feed(&k->rpc, d.ptr, d.len) != RPC_OPEN) {
        conn_end(k, false);
        start_read(k);
        return;
    }
    start_read(k);
}

/* An answer sent from a completion (not from reading) can close a
 * connection too (its write failed): end those here. */
static void end_closed(void)
{
    for (uint32_t i = 0; i < GW_CONNS; i++) {
        struct gw_conn *k = &gw_conns[i];
        if (k->used && !k->draining && k->rpc.state != RPC_OPEN)
            conn_end(k, false);
    }
}

/* Idle connections are aborted; draining ones past their time closed.
 * Returns the time until the next deadline, in ms. */
static uint64_t check_deadlines(void)
{
    uint64_t now = gw_now_ms(), next = 1000;
    for (uint32_t i = 0; i < GW_CONNS; i++) {
        struct gw_conn *k = &gw_conns[i];
        if (!k->used)
            continue;
        if (k->draining) {
            if (now >= k->drain_until) {
                if (k->read_pending) {
                    /* Stop waiting for the peer: cancelling the read
                     * completes it, and then the slot is freed. */
                    struct capos_sqe sqe = {.opcode = CAPOS_OP_CANCEL,
                                            .target_user_data = gw_ud(GW_UD_READ, i, k->gen)};
                    capos_ring_submit(&sqe);
                    k->drain_until = now + 1000;
                } else {
                    conn_free_if_idle(k);
                }
            } else if (k->drain_until - now < next) {
                next = k->drain_until - now;
            }
            continue;
        }
        if (now - k->last_ms >= GW_IDLE_MS) {
            char why[64];
            fmt_snprintf(why, sizeof(why), "idle for %u s; the limit is %u s", GW_IDLE_MS / 1000,
                         GW_IDLE_MS / 1000);
            rpc_conn_abort(&k->rpc, why);
            conn_end(k, false);
        } else if (GW_IDLE_MS - (now - k->last_ms) < next) {
            next = GW_IDLE_MS - (now - k->last_ms);
        }
    }
    return next ? next : 1;
}

static uint32_t need(const char *name, uint64_t iface)
{
    const char *why = 0;
    uint32_t cap = capos_capset_find(name, iface, &why);
    if (!cap) {
        capos_printf("remote-gateway: no \"%s\" capability (%s): cannot start\n", name,
                     why ? why : "missing");
        capos_exit(1);
    }
    return cap;
}

static bool listen_on_port(uint32_t auth)
{
    struct capnpc_call c;
    uint32_t rcap[1];
    TcpListenAuthority_listen_Results_r lr;
    capnpc_call_init(&c, io_params, 64, io_results, sizeof(io_results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    int rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, GW_PORT, &lr);
    if (rc != CAPNPC_OK || c.reply.ncaps != 1) {
        say_failure("listen on port 2327", rc, &c);
        return false;
    }
    listener = rcap[0];
    return true;
}

int main(void)
{
    uint32_t auth = need("listen", TcpListenAuthority_INTERFACE_ID);
    gw.sessions = need("sessions", SessionManager_INTERFACE_ID);
    gw.broker = need("broker", AuthorityBroker_INTERFACE_ID);
    gw.endpoints = need("endpoints", EndpointFactory_INTERFACE_ID);
    gw.timer = need("timer", Timer_INTERFACE_ID);
    rpc_limits_default(&limits);
    gw_ops_init();
    if (!listen_on_port(auth))
        return 0; /* no network (no device): nothing to serve */
    capos_release(auth);
    capos_printf("remote-gateway: listening on port %u (Cap'n Proto RPC; %u connections)\n",
                 GW_PORT, GW_CONNS);
    if (!start_accept())
        return 1;
    for (;;) {
        capos_flush_releases();
        struct capos_cqe cqe;
        bool any = false;
        while (capos_ring_take_any(&cqe)) {
            any = true;
            uint32_t kind = (uint32_t)(cqe.user_data >> 56);
            uint32_t index = (uint32_t)(cqe.user_data >> 32) & 0xffff;
            uint32_t gen = (uint32_t)cqe.user_data;
            if (kind == GW_UD_ACCEPT && !on_accept(&cqe))
                goto done;
            if (kind == GW_UD_READ)
                on_read(index, gen, &cqe);
            else if (kind == GW_UD_OP)
                gw_op_complete(index, gen, &cqe);
            end_closed();
            capos_flush_releases();
        }
        uint64_t wait_ms = check_deadlines();
        if (!any)
            capos_cap_enter(1, wait_ms * 1000000u);
    }
done:
    for (uint32_t i = 0; i < GW_CONNS; i++)
        if (gw_conns[i].used && !gw_conns[i].draining) {
            fmt_snprintf(gw_conns[i].rpc.why, sizeof(gw_conns[i].rpc.why),
                         "the network service ended");
            conn_end(&gw_conns[i], true);
        }
    capos_flush_releases();
    capos_printf("remote-gateway: the network service is gone; exiting\n");
    return 0;
}
