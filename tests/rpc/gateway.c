/*
 * The remote-session gateway on the host, for tests: lib/rpc served over
 * TCP on 127.0.0.1, with stand-in capabilities (services.c) where the
 * guest will have real ones behind the ring. One thread, poll().
 *
 *   rpc-gateway [--port N] [--port-file F] [--max-conns N] [--idle SEC]
 *               [--lifetime SEC] [--answers N] [--login-delay MS]
 *
 * Prints "listening 127.0.0.1:PORT", audit records, and one line of
 * statistics per connection when it ends ("conn N closed: ..."). As in
 * the guest, each connection's answers wait in an output queue
 * (lib/rpc/outq.h) that non-blocking sends empty as the peer reads;
 * reading from a peer pauses while its queue is full, and a peer that
 * does not read the next 4 KiB of its answers within 10 s is closed. Exits
 * after --lifetime seconds (default 120) so a broken test cannot leave it
 * running; on exit it checks that every reference was given back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc/outq.h"
#include "rpc/rpc.h"
#include "services.h"

#define MAX_CONNS 16
#define LATER     64
/* The guest gateway's output queue and its limits (gateway.h there). */
#define OUTQ       (128 * 1024)
#define OUTQ_PAUSE (16 * 1024)
#define FEED_STEP  1024
/* Answers waiting: the peer must read the next WRITE_MIN bytes (or all)
 * within WRITE_MS, or it is closed. */
#define WRITE_MS  10000
#define WRITE_MIN 4096
#define SNDBUF    32768 /* the guest's sockets buffer 32 KiB */

struct conn {
    int fd;                /* -1: free */
    int id;                /* sequence number, for the log */
    int64_t last_ms;       /* last byte received, or last byte the peer read */
    int64_t write_ms;      /* answers waiting since, or the peer last read WRITE_MIN bytes */
    uint32_t written;      /* bytes the peer took since write_ms */
    int64_t drain_until;   /* closing: writing the rest, reading and discarding until then */
    bool overflow;         /* a message did not fit in the queue */
    bool shut;             /* draining: the write side is shut */
    size_t in_off, in_len; /* read, not yet fed (the queue was full) */
    uint8_t in[16384];
    struct rpc_outq out;
    uint8_t out_buf[OUTQ];
    struct rpc_conn rpc;
};

/* An answer held back (login throttling), sent when it is due. */
struct later {
    bool used;
    int slot, id; /* the connection, and its id (the slot may be reused) */
    uint32_t token;
    int64_t due_ms;
    enum svc_outcome outcome;
    struct svc_reply reply;
    uint8_t frame[2048];
    size_t len;
};

static struct conn conns[MAX_CONNS];
static struct later laters[LATER];
static struct rpc_conn refuser; /* says "too many connections" */
static struct rpc_limits limits;
static int max_conns = 8, idle_s = 60, next_id = 1;
static uint64_t results_buf[RPC_MSG_MAX / 8];

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Send what the queue holds, as much as the socket takes now. False if
 * the connection failed. */
static bool flush(struct conn *k)
{
    uint32_t n;
    const uint8_t *p;
    while ((p = rpc_outq_peek(&k->out, 65536, &n)), n > 0) {
        ssize_t w = send(k->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (w <= 0)
            return false;
        rpc_outq_consume(&k->out, (uint32_t)w);
        k->last_ms = now_ms();
        k->written += (uint32_t)w;
        if (k->written >= WRITE_MIN) { /* read enough: WRITE_MS for the next WRITE_MIN */
            k->write_ms = k->last_ms;
            k->written = 0;
        }
    }
    return true;
}

/* The engine's host.send: the whole message into the queue, which is
 * then sent as far as the socket takes it. */
static int on_send(void *ctx, const void *buf, size_t len)
{
    struct conn *k = ctx;
    if (k->out.len == 0) {
        k->write_ms = now_ms();
        k->written = 0;
    }
    if (!rpc_outq_push(&k->out, buf, len)) {
        snprintf(k->rpc.why, sizeof(k->rpc.why),
                 "a message of %zu bytes does not fit in the output queue (%u of %u bytes "
                 "queued): the peer does not read its answers",
                 len, k->out.len, k->out.cap);
        k->overflow = true;
        return -1;
    }
    return flush(k) ? 0 : -1;
}

/* The refusal of one connection too many: one short Abort, sent whole. */
static int refuser_send(void *ctx, const void *buf, size_t len)
{
    int fd = *(int *)ctx;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static uint32_t on_bootstrap(void *ctx)
{
    return svc_bootstrap(((struct conn *)ctx)->id);
}

static void on_release(void *ctx, uint32_t h)
{
    svc_release(h);
}

static void answer(struct rpc_conn *c, uint32_t token, enum svc_outcome o,
                   const struct svc_reply *r, const void *frame, size_t len)
{
    if (o == SVC_RESULTS)
        rpc_conn_return(c, token, frame, len, r->caps, r->ncaps);
    else
        rpc_conn_throw(c, token, (enum rpc_exc)r->exc_type, r->reason);
}

static void on_call(void *ctx, struct rpc_conn *c, const struct rpc_call *call)
{
    struct conn *k = ctx;
    struct capn_seg psegs[RPC_MAX_SEGS], rseg;
    struct capn_msg params;
    struct svc_reply r;
    struct capn_bld b;
    capn_bld_init(&b, &rseg, 1, (uint8_t *)results_buf + 8, sizeof(results_buf) - 8);
    if (capn_msg_read(&params, psegs, RPC_MAX_SEGS, call->params, call->params_len, NULL) !=
        CAPN_OK) {
        rpc_conn_throw(c, call->answer, RPC_EXC_FAILED, "params are not a framed message");
        return;
    }
    params.cap_count = call->ncaps;
    enum svc_outcome o =
        svc_call(k->id, call->target, call->interface_id, call->method, &params, &b, &r);
    uint32_t hdr[2] = {0, rseg.words};
    memcpy(results_buf, hdr, 8);
    size_t len = 8 + (size_t)rseg.words * 8;
    if (r.delay_ms == 0) {
        answer(c, call->answer, o, &r, results_buf, len);
        return;
    }
    for (int i = 0; i < LATER; i++) {
        struct later *l = &laters[i];
        if (!l->used && len <= sizeof(l->frame)) {
            *l = (struct later){
                true, (int)(k - conns), k->id, call->answer, now_ms() + r.delay_ms, o, r, {0}, len};
            memcpy(l->frame, results_buf, len);
            return;
        }
    }
    for (uint32_t i = 0; i < r.ncaps; i++)
        svc_release(r.caps[i]);
    rpc_conn_throw(c, call->answer, RPC_EXC_OVERLOADED, "too many answers waiting");
}

/* The connection is over for the engine. The socket is not closed at once
 * when this side ended it (an Abort): closing with unread input would
 * reset the connection and the peer could lose the Abort, so the write
 * side is shut and what the peer still sends is read and dropped until it
 * closes, for at most a second. */
static void conn_close(struct conn *k, bool peer_gone)
{
    struct rpc_stats *s = &k->rpc.stats;
    if (k->rpc.state == RPC_OPEN)
        rpc_conn_close(&k->rpc);
    printf("conn %d closed (%s): msgs_in=%u calls=%u pipelined=%u deferred=%u dependent=%u "
           "returns=%u exceptions=%u canceled=%u releases=%u exports_peak=%u exports_left=%u\n",
           k->id, k->rpc.why, s->msgs_in, s->calls, s->pipelined, s->deferred, s->dependent,
           s->returns, s->exceptions, s->canceled, s->releases, s->exports_peak,
           rpc_conn_exports(&k->rpc));
    rpc_conn_close(&k->rpc);
    svc_conn_closed(k->id);
    fflush(stdout);
    k->in_len = k->in_off = 0;
    if (peer_gone || k->overflow) {
        close(k->fd);
        k->fd = -1;
    } else {
        /* The rest of the queue (the Abort) goes first. */
        k->drain_until = now_ms() + 1000;
        k->shut = k->out.len == 0;
        if (k->shut)
            shutdown(k->fd, SHUT_WR);
    }
    for (int i = 0; i < LATER; i++) {
        struct later *l = &laters[i];
        if (l->used && l->slot == (int)(k - conns)) {
            for (uint32_t j = 0; j < l->reply.ncaps; j++)
                svc_release(l->reply.caps[j]);
            l->used = false;
        }
    }
}

static void conn_free(struct conn *k)
{
    close(k->fd);
    k->fd = -1;
    k->drain_until = 0;
}

/* Feed what was read, a step at a time while the queue has room. */
static void pump(struct conn *k)
{
    while (k->in_off < k->in_len && !rpc_outq_full(&k->out) && k->rpc.state == RPC_OPEN) {
        size_t n = k->in_len - k->in_off < FEED_STEP ? k->in_len - k->in_off : FEED_STEP;
        rpc_conn_feed(&k->rpc, k->in + k->in_off, n);
        k->in_off += n;
    }
    if (k->rpc.state != RPC_OPEN)
        conn_close(k, false);
}

/* The socket took more of the queue (or failed). */
static void on_writable(struct conn *k)
{
    if (!flush(k)) {
        if (k->drain_until != 0) {
            conn_free(k);
            return;
        }
        snprintf(k->rpc.why, sizeof(k->rpc.why), "the connection was lost");
        conn_close(k, true);
        return;
    }
    if (k->drain_until != 0) {
        if (k->out.len == 0 && !k->shut) {
            shutdown(k->fd, SHUT_WR);
            k->shut = true;
        }
        return;
    }
    if (!rpc_outq_full(&k->out))
        pump(k);
}

static void check_stalled(struct conn *k)
{
    if (k->fd < 0 || k->drain_until != 0 || k->out.len == 0 || now_ms() - k->write_ms < WRITE_MS)
        return;
    printf("conn %d read %u bytes of its answers in %d s (at least %d are expected; %u bytes "
           "queued); closing it\n",
           k->id, k->written, WRITE_MS / 1000, WRITE_MIN, k->out.len);
    snprintf(k->rpc.why, sizeof(k->rpc.why),
             "the peer read %u bytes of its answers in %d s; at least %d are expected", k->written,
             WRITE_MS / 1000, WRITE_MIN);
    conn_close(k, true);
}

/* Close a connection the peer may still be writing to, after our last
 * message: closing with its bytes unread would send a reset, and a reset
 * can reach the peer before it has read that message (it then sees
 * "connection reset" instead of why). Stop sending, read and drop what
 * comes for at most 500 ms or until the peer closes, then close. */
static void close_lingering(int fd)
{
    shutdown(fd, SHUT_WR);
    int64_t deadline = now_ms() + 500;
    char sink[4096];
    for (int64_t left; (left = deadline - now_ms()) > 0;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0 || read(fd, sink, sizeof(sink)) <= 0)
            break;
    }
    close(fd);
}

static void accept_one(int lfd)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = accept(lfd, (struct sockaddr *)&a, &alen);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int used = 0;
    struct conn *k = NULL;
    for (int i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd >= 0)
            used++;
        else if (k == NULL)
            k = &conns[i];
    }
    if (used >= max_conns || k == NULL) {
        struct rpc_host h = {&fd, refuser_send, NULL, NULL, NULL};
        char why[80];
        rpc_conn_init(&refuser, &h, NULL);
        snprintf(why, sizeof(why), "too many connections; the limit is %d", max_conns);
        rpc_conn_abort(&refuser, why);
        printf("refused a connection: %s\n", why);
        close_lingering(fd);
        return;
    }
    int sndbuf = SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    k->fd = fd;
    k->drain_until = 0;
    k->overflow = k->shut = false;
    k->in_off = k->in_len = 0;
    rpc_outq_init(&k->out, k->out_buf, sizeof(k->out_buf), OUTQ_PAUSE);
    k->id = next_id++;
    k->last_ms = now_ms();
    struct rpc_host h = {k, on_send, on_bootstrap, on_call, on_release};
    rpc_conn_init(&k->rpc, &h, &limits);
    char peer[32];
    snprintf(peer, sizeof(peer), "%s:%u", inet_ntoa(a.sin_addr), ntohs(a.sin_port));
    svc_conn_open(k->id, peer);
    printf("conn %d open from %s\n", k->id, peer);
    fflush(stdout);
}

static void fire_laters(void)
{
    int64_t now = now_ms();
    for (int i = 0; i < LATER; i++) {
        struct later *l = &laters[i];
        if (!l->used || l->due_ms > now)
            continue;
        l->used = false;
        struct conn *k = &conns[l->slot];
        answer(&k->rpc, l->token, l->outcome, &l->reply, l->frame, l->len);
        if (k->rpc.state != RPC_OPEN)
            conn_close(k, false);
    }
}

static int listen_on(int port, const char *port_file)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("rpc-gateway: listen on 127.0.0.1");
        exit(1);
    }
    printf("listening 127.0.0.1:%u\n", ntohs(a.sin_port));
    fflush(stdout);
    if (port_file != NULL) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            perror(port_file);
            exit(1);
        }
    }
    return fd;
}

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
    stop = 1;
}

int main(int argc, char **argv)
{
    int port = 0, lifetime = 120;
    uint32_t delay = 0;
    const char *port_file = NULL, *password = getenv("GATEWAY_PASSWORD");
    rpc_limits_default(&limits);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--port") == 0)
            port = atoi(v);
        else if (strcmp(o, "--port-file") == 0)
            port_file = v;
        else if (strcmp(o, "--max-conns") == 0)
            max_conns = atoi(v);
        else if (strcmp(o, "--idle") == 0)
            idle_s = atoi(v);
        else if (strcmp(o, "--lifetime") == 0)
            lifetime = atoi(v);
        else if (strcmp(o, "--answers") == 0)
            limits.answers = (uint32_t)atoi(v);
        else if (strcmp(o, "--login-delay") == 0)
            delay = (uint32_t)atoi(v);
        else {
            fprintf(stderr, "rpc-gateway: unknown option %s (see tests/rpc/gateway.c)\n", o);
            return 2;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    svc_init(password != NULL ? password : "wonderland", delay);
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    int lfd = listen_on(port, port_file);
    int64_t end = now_ms() + (int64_t)lifetime * 1000;
    while (!stop && now_ms() < end) {
        struct pollfd p[MAX_CONNS + 1];
        int idx[MAX_CONNS + 1], n = 0;
        p[n] = (struct pollfd){lfd, POLLIN, 0};
        idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd >= 0) {
                /* Reading pauses while the answers wait (back-pressure). */
                struct conn *k = &conns[i];
                bool paused =
                    k->drain_until == 0 && (k->in_off < k->in_len || rpc_outq_full(&k->out));
                short ev = (short)((paused ? 0 : POLLIN) | (k->out.len ? POLLOUT : 0));
                p[n] = (struct pollfd){k->fd, ev, 0};
                idx[n++] = i;
            }
        if (poll(p, (nfds_t)n, 20) < 0 && errno != EINTR)
            break;
        for (int j = 0; j < n; j++) {
            if (idx[j] >= 0 && conns[idx[j]].fd == p[j].fd && (p[j].revents & (POLLOUT | POLLERR)))
                on_writable(&conns[idx[j]]);
            if (!(p[j].revents & (POLLIN | POLLHUP | POLLERR)) ||
                (idx[j] >= 0 && (conns[idx[j]].fd != p[j].fd || !(p[j].events & POLLIN))))
                continue;
            if (idx[j] < 0) {
                accept_one(lfd);
                continue;
            }
            struct conn *k = &conns[idx[j]];
            ssize_t got = recv(k->fd, k->in, sizeof(k->in), 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (k->drain_until != 0) {
                if (got <= 0)
                    conn_free(k);
                continue;
            }
            if (got <= 0) {
                if (k->rpc.state == RPC_OPEN)
                    snprintf(k->rpc.why, sizeof(k->rpc.why), "the peer closed the connection");
                conn_close(k, true);
                continue;
            }
            k->last_ms = now_ms();
            k->in_off = 0;
            k->in_len = (size_t)got;
            pump(k);
        }
        fire_laters();
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *k = &conns[i];
            check_stalled(k);
            if (k->fd >= 0 && k->drain_until != 0 && now_ms() > k->drain_until) {
                conn_free(k);
            } else if (k->fd >= 0 && k->drain_until == 0 &&
                       now_ms() - k->last_ms > (int64_t)idle_s * 1000) {
                char why[64];
                snprintf(why, sizeof(why), "idle for %d s; the limit is %d s", idle_s, idle_s);
                rpc_conn_abort(&k->rpc, why);
                conn_close(k, false);
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd >= 0 && conns[i].drain_until == 0)
            conn_close(&conns[i], true);
        else if (conns[i].fd >= 0)
            conn_free(&conns[i]);
    }
    uint32_t live = svc_live();
    printf("exit: %u objects still referenced\n", live);
    return live == 0 ? 0 : 1;
}
