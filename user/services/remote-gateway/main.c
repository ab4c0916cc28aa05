/*
 * remote-gateway: the event loop, the listener and the connections.
 *
 * One thread. It keeps one TcpListener.accept and one TcpSocket.read per
 * connection in flight, and the ring calls of logins and forwarded calls
 * (forward.c), and waits for whichever completes first with a single
 * cap_enter, whose timeout is the nearest idle, write or drain deadline.
 * Bytes read go to the connection's RPC engine (lib/rpc); what the engine
 * sends goes into the connection's output queue (lib/rpc/outq.h), which
 * one TcpSocket.write in flight per connection empties. A peer that does
 * not read holds up only itself: its queue fills, then reading from it
 * pauses (and the answers of its calls in flight wait), and after
 * GW_WRITE_MS without its reading anything it is closed.
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

/* Synchronous calls on sockets (shutdown, close, the refuser's write). */
static uint8_t io_params[512] __attribute__((aligned(8)));
static uint8_t io_results[1024] __attribute__((aligned(8)));

struct gw_conn *gw_conn_live(uint32_t index, uint32_t gen)
{
    if (index >= GW_CONNS)
        return 0;
    struct gw_conn *k = &gw_conns[index];
    return k->used && k->gen == gen && !k->draining && k->rpc.state == RPC_OPEN ? k : 0;
}

bool gw_conn_full(uint32_t index)
{
    return index < GW_CONNS && rpc_outq_full(&gw_conns[index].out);
}

/* ---- Writing ---- */

/* The next TcpSocket.write of the queue's oldest bytes, if none is in
 * flight. Its params buffer is the connection's own: the kernel reads it
 * when it takes the SQE, which may be after this returns. False if the
 * ring refused it (then nothing would ever empty the queue). */
static bool start_write(struct gw_conn *k)
{
    uint32_t n;
    const uint8_t *p = rpc_outq_peek(&k->out, GW_WRITE_MAX, &n);
    if (k->write_pending || n == 0 || k->write_cancel)
        return true; /* in flight, nothing to write, or being closed */
    capnpc_call_init(&k->write, k->write_params, sizeof(k->write_params), k->write_results,
                     sizeof(k->write_results));
    TcpSocket_write_Params_b wp = TcpSocket_write_begin(&k->write);
    TcpSocket_write_Params_set_data(wp, p, n);
    if (k->write_ms == 0) {
        /* The first answers after an empty queue: the reading peer's
         * GW_WRITE_MS start now. */
        k->write_ms = gw_now_ms();
        k->written = 0;
    }
    k->write_pending =
        capos_call_start(&k->write, k->sock, TcpSocket_INTERFACE_ID, TcpSocket_write_METHOD,
                         gw_ud(GW_UD_WRITE, (uint32_t)(k - gw_conns), k->gen));
    return k->write_pending;
}

/* The engine's host.send: the whole message into the queue. A message
 * that does not fit closes the connection: the peer has left far more
 * unread than any reading client would (reading pauses at
 * GW_OUTQ_PAUSE). */
static int on_send(void *ctx, const void *buf, size_t len)
{
    struct gw_conn *k = ctx;
    if (!rpc_outq_push(&k->out, buf, len)) {
        fmt_snprintf(k->rpc.why, sizeof(k->rpc.why),
                     "a message of %u bytes does not fit in the output queue (%u of %u bytes "
                     "queued): the peer does not read its answers",
                     (unsigned)len, k->out.len, k->out.cap);
        k->overflow = true;
        return -1;
    }
    if (!start_write(k)) {
        fmt_snprintf(k->rpc.why, sizeof(k->rpc.why), "the gateway could not start a write");
        return -1;
    }
    return 0;
}

/* The refusal of one connection too many: a short Abort on a socket whose
 * send buffer is empty, so the write is taken at once. */
static int refuser_send(void *ctx, const void *buf, size_t len)
{
    static uint8_t p[512] __attribute__((aligned(8)));
    struct capnpc_call c;
    struct capn_struct out;
    if (len > sizeof(p) - 64)
        return -1;
    capnpc_call_init(&c, p, sizeof(p), io_results, sizeof(io_results));
    TcpSocket_write_Params_set_data(TcpSocket_write_begin(&c), buf, (uint32_t)len);
    return capnpc_call_send(&capos_transport, *(uint32_t *)ctx, TcpSocket_INTERFACE_ID,
                            TcpSocket_write_METHOD, &c, &out) < 0
               ? -1
               : 0;
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
    struct gw_ref *r = gw_ref_get(call->target);
    if (!r || r->conn != (uint8_t)(k - gw_conns)) {
        /* The engine names only this connection's exports: a bug if not. */
        rpc_conn_throw(rpc, call->answer, RPC_EXC_FAILED, "no such capability");
        return;
    }
    if (r->kind == GW_REAL) {
        const struct gw_session *ss = gw_session_get(r->sess);
        if (ss && ss->logged_out) {
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
    if (!gw_ref_release(h))
        capos_printf("remote-gateway: release of handle %u, which is not held (a bug)\n", h);
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

/* False if the SQ had no room: the caller tries again at its next
 * deadline, since a lost cancel would leave the operation waiting. */
static bool cancel(enum gw_ud kind, struct gw_conn *k)
{
    struct capos_sqe sqe = {.opcode = CAPOS_OP_CANCEL,
                            .target_user_data = gw_ud(kind, (uint32_t)(k - gw_conns), k->gen)};
    return capos_ring_submit(&sqe);
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

/* Free the slot once its read and write have come back (their buffers
 * are in it). */
static void conn_free_if_idle(struct gw_conn *k)
{
    if (k->read_pending || k->write_pending)
        return;
    sock_call(k->sock, TcpSocket_close_METHOD);
    capos_release(k->sock);
    k->used = false;
}

/* Stop now: what is in flight is cancelled, the slot is freed when it
 * has come back, and the socket is closed (with a RST if the peer's
 * bytes are left unread, which tells it they were not). */
static void conn_close_now(struct gw_conn *k)
{
    if (k->read_pending)
        cancel(GW_UD_READ, k);
    if (k->write_pending && !k->write_cancel)
        k->write_cancel = cancel(GW_UD_WRITE, k);
    k->drain_until = gw_now_ms() + GW_DRAIN_MS;
    conn_free_if_idle(k);
}

/* The connection is over for the engine: every handle goes back (the
 * sessions end), statistics are printed, the answers parked for it are
 * dropped. When this side ended it (an Abort), the queue (the Abort at
 * its end) is still written, then the write side is shut, and what the
 * peer sends is read and dropped until it closes, for at most
 * GW_DRAIN_MS: closing with unread input would reset the connection and
 * the peer could lose the Abort. When the peer is gone, or has read
 * nothing for GW_WRITE_MS, or let the queue overflow, it is closed now. */
static void conn_end(struct gw_conn *k, bool now)
{
    struct rpc_stats *s = &k->rpc.stats;
    /* Sessions first, so that the log says why they end: the engine's
     * close then gives back the handles, which no longer log anything out. */
    gw_sessions_of_conn_end((uint32_t)(k - gw_conns));
    rpc_conn_close(&k->rpc);
    capos_printf("remote-gateway: conn %u from %s closed (%s): calls=%u pipelined=%u deferred=%u "
                 "dependent=%u returns=%u exceptions=%u releases=%u exports_left=%u "
                 "queue_peak=%u parked=%u\n",
                 k->seq, k->peer, k->rpc.why[0] ? k->rpc.why : "no reason", s->calls, s->pipelined,
                 s->deferred, s->dependent, s->returns, s->exceptions, s->releases,
                 rpc_conn_exports(&k->rpc), k->out.peak, k->parked);
    k->draining = true;
    k->in_left = 0;
    gw_ops_unpark((uint32_t)(k - gw_conns)); /* no longer live: they clean up */
    if (now || k->overflow) {
        conn_close_now(k);
        return;
    }
    k->drain_until = gw_now_ms() + GW_DRAIN_MS;
    if (!k->read_pending)
        start_read(k);
    if (!k->write_pending) {
        sock_call(k->sock, TcpSocket_shutdown_METHOD);
        k->shut = true;
    }
}

/* Feed what was read to the engine, a step at a time, while the queue has
 * room; then read more. What is left waits in the read buffer (no read is
 * in flight meanwhile) until the queue drains below its pause mark. */
static void pump(struct gw_conn *k)
{
    while (k->in_left > 0 && !rpc_outq_full(&k->out) && k->rpc.state == RPC_OPEN) {
        uint32_t n = k->in_left < GW_FEED_STEP ? k->in_left : GW_FEED_STEP;
        rpc_conn_feed(&k->rpc, k->in, n);
        k->in += n;
        k->in_left -= n;
    }
    if (k->rpc.state != RPC_OPEN) {
        conn_end(k, false);
        return;
    }
    if (k->in_left == 0 && !k->read_pending && !rpc_outq_full(&k->out))
        start_read(k);
}

static void accepted(uint32_t sock)
{
    struct gw_conn *k = 0;
    for (uint32_t i = 0; i < GW_CONNS && !k; i++)
        if (!gw_conns[i].used)
            k = &gw_conns[i];
    char peer[24];
    gw_peer_name(sock, peer, sizeof(peer));
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
    rpc_outq_init(&k->out, k->out_buf, sizeof(k->out_buf), GW_OUTQ_PAUSE);
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
        gw_say_failure("accept", rc, &accept_call);
        return false;
    }
    accepted(accept_cap[0]);
    return start_accept();
}

/* The connection a read or write completion is for, with the call's
 * reply read (*rc, *out); NULL if the slot no longer holds it (the
 * completion is stale: its connection was freed). */
static struct gw_conn *io_done(uint32_t index, uint32_t gen, bool write,
                               const struct capos_cqe *cqe, struct capn_struct *out, int *rc)
{
    if (index >= GW_CONNS || !gw_conns[index].used || gw_conns[index].gen != gen)
        return 0;
    struct gw_conn *k = &gw_conns[index];
    *(write ? &k->write_pending : &k->read_pending) = false;
    *rc = capos_call_finish(write ? &k->write : &k->read, cqe, out);
    return k;
}

static void on_read(uint32_t index, uint32_t gen, const struct capos_cqe *cqe)
{
    struct capn_struct out;
    int rc;
    struct gw_conn *k = io_done(index, gen, false, cqe, &out, &rc);
    if (!k)
        return;
    struct capn_data d = rc == CAPNPC_OK
                             ? TcpSocket_read_Results_get_data((TcpSocket_read_Results_r){out})
                             : (struct capn_data){0};
    bool eof = rc != CAPNPC_OK || d.len == 0 || d.len > GW_READ_MAX;
    if (k->draining) {
        if (!eof && gw_now_ms() <= k->drain_until)
            start_read(k);
        else if (!k->write_pending)
            conn_close_now(k);
        /* else the rest of the queue (the Abort) is still being written:
         * a peer that closed its side may still read it; on_write or the
         * drain deadline ends the connection. */
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
    k->in = (const uint8_t *)d.ptr;
    k->in_left = d.len;
    pump(k);
}

static void on_write(uint32_t index, uint32_t gen, const struct capos_cqe *cqe)
{
    struct capn_struct out;
    int rc;
    struct gw_conn *k = io_done(index, gen, true, cqe, &out, &rc);
    if (!k)
        return;
    uint32_t acc = rc == CAPNPC_OK
                       ? TcpSocket_write_Results_get_accepted((TcpSocket_write_Results_r){out})
                       : 0;
    if (acc > k->out.len)
        acc = 0; /* more than was written: the socket's bug; a failure */
    if (k->write_cancel && !k->draining) {
        /* Too slow a reader (whether or not this write took a few bytes
         * before the cancel). */
        k->written += acc;
        capos_printf("remote-gateway: conn %u from %s read %u bytes of its answers in %u s (at "
                     "least %u are expected; %u bytes queued); closing it\n",
                     k->seq, k->peer, k->written, GW_WRITE_MS / 1000, GW_WRITE_MIN, k->out.len);
        fmt_snprintf(k->rpc.why, sizeof(k->rpc.why),
                     "the peer read %u bytes of its answers in %u s; at least %u are expected",
                     k->written, GW_WRITE_MS / 1000, GW_WRITE_MIN);
        conn_end(k, true);
        return;
    }
    if (acc == 0) {
        if (k->draining) {
            conn_close_now(k);
            return;
        }
        fmt_snprintf(k->rpc.why, sizeof(k->rpc.why), "writing to the peer failed");
        conn_end(k, true);
        return;
    }
    /* The peer read something: the write took what room it made. */
    rpc_outq_consume(&k->out, acc);
    k->last_ms = gw_now_ms();
    k->written += acc;
    if (k->out.len == 0) {
        k->write_ms = 0; /* nothing waits: no reading is expected */
    } else if (k->written >= GW_WRITE_MIN) {
        k->write_ms = k->last_ms; /* read enough: GW_WRITE_MS for the next GW_WRITE_MIN */
        k->written = 0;
    }
    if (!start_write(k) && !k->draining) {
        fmt_snprintf(k->rpc.why, sizeof(k->rpc.why), "the gateway could not start a write");
        conn_end(k, true);
        return;
    }
    if (k->draining) {
        if (k->write_pending)
            return;
        if (!k->read_pending) /* the peer closed its side already */
            conn_close_now(k);
        else if (!k->shut) {
            sock_call(k->sock, TcpSocket_shutdown_METHOD);
            k->shut = true;
        }
        return;
    }
    if (!rpc_outq_full(&k->out)) {
        /* Room again: the answers that waited, then the input. */
        gw_ops_unpark(index);
        if (gw_conn_live(index, gen))
            pump(k);
    }
}

/* An answer sent from a completion (not from reading) can close a
 * connection too (the queue overflowed): end those here. */
static void end_closed(void)
{
    for (uint32_t i = 0; i < GW_CONNS; i++) {
        struct gw_conn *k = &gw_conns[i];
        if (k->used && !k->draining && k->rpc.state != RPC_OPEN)
            conn_end(k, false);
    }
}

static uint64_t until(uint64_t now, uint64_t deadline, uint64_t next)
{
    if (deadline <= now)
        return 1;
    return deadline - now < next ? deadline - now : next;
}

/* Idle connections are aborted, writes that the peer has let stall for
 * GW_WRITE_MS cancelled (the connection then closes), draining
 * connections past their time closed. Returns the time until the next
 * deadline, in ms. */
static uint64_t check_deadlines(void)
{
    uint64_t now = gw_now_ms(), next = 1000;
    for (uint32_t i = 0; i < GW_CONNS; i++) {
        struct gw_conn *k = &gw_conns[i];
        if (!k->used)
            continue;
        if (k->draining) {
            if (now >= k->drain_until) {
                /* Stop waiting for the peer: cancelling completes what is
                 * in flight, and then the slot is freed. */
                conn_close_now(k);
                k->drain_until = now + 1000;
            }
            next = until(now, k->drain_until, next);
            continue;
        }
        if (k->write_pending && !k->write_cancel && k->write_ms) {
            if (now - k->write_ms < GW_WRITE_MS) {
                next = until(now, k->write_ms + GW_WRITE_MS, next);
            } else {
                k->write_cancel = cancel(GW_UD_WRITE, k); /* on_write closes it */
                next = 100;
            }
        }
        if (now - k->last_ms >= GW_IDLE_MS) {
            char why[64];
            fmt_snprintf(why, sizeof(why), "idle for %u s; the limit is %u s", GW_IDLE_MS / 1000,
                         GW_IDLE_MS / 1000);
            rpc_conn_abort(&k->rpc, why);
            conn_end(k, false);
        } else {
            next = until(now, k->last_ms + GW_IDLE_MS, next);
        }
    }
    return next;
}

int main(void)
{
    uint32_t auth = gw_need("listen", TcpListenAuthority_INTERFACE_ID);
    gw.sessions = gw_need("sessions", SessionManager_INTERFACE_ID);
    gw.broker = gw_need("broker", AuthorityBroker_INTERFACE_ID);
    gw.endpoints = gw_need("endpoints", EndpointFactory_INTERFACE_ID);
    gw.timer = gw_need("timer", Timer_INTERFACE_ID);
    rpc_limits_default(&limits);
    gw_ops_init();
    listener = gw_listen(auth);
    if (!listener)
        return 0; /* no network (no device): nothing to serve */
    capos_release(auth);
    capos_printf("remote-gateway: listening on port %u (Cap'n Proto RPC; %u connections)\n",
                 GW_PORT, GW_CONNS);
    if (!start_accept())
        return 1;
    for (;;) {
        capos_flush_releases();
        struct capos_cqe cqe;
        uint32_t taken = 0;
        /* At most 32 completions between checks of the deadlines: a busy
         * connection must not keep the others' idle and write deadlines
         * from being seen. */
        while (taken < 32 && capos_ring_take_any(&cqe)) {
            taken++;
            uint32_t kind = (uint32_t)(cqe.user_data >> 56);
            uint32_t index = (uint32_t)(cqe.user_data >> 32) & 0xffff;
            uint32_t gen = (uint32_t)cqe.user_data;
            if (kind == GW_UD_ACCEPT && !on_accept(&cqe))
                goto done;
            if (kind == GW_UD_READ)
                on_read(index, gen, &cqe);
            else if (kind == GW_UD_WRITE)
                on_write(index, gen, &cqe);
            else if (kind == GW_UD_OP)
                gw_op_complete(index, gen, &cqe);
            end_closed();
            capos_flush_releases();
        }
        uint64_t wait_ms = check_deadlines();
        if (!taken)
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
