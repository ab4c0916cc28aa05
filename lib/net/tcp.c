/*
 * TCP connections: the pool, the socket calls, timers (retransmission,
 * persist, delayed ACK, TIME_WAIT) and the RTO estimator.
 */
#include "crypto/siphash.h"
#include "net/net_internal.h"
#include "string.h"

#define OUR_MSS      (ETH_MTU - IPV4_HDR_LEN - TCP_HDR_LEN)
#define MIN_MSS      64 /* peers may not make us send tinier segments */
#define RTO_INITIAL  1000
#define RTO_MAX      60000
#define SYN_RETRIES  6
#define DATA_RETRIES 12

#define PERSIST_MIN_MS 500
#define ORPHAN_PROBES  8

static const char *const state_names[] = {
    "CLOSED",     "LISTEN",     "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK",     "TIME_WAIT",
};

const char *tcp_state_name(int state)
{
    if (state < 0 || state > TCP_TIME_WAIT)
        return "?";
    return state_names[state];
}

int tcp_index(const struct net_stack *s, const struct tcp_conn *c)
{
    return (int)(c - s->conns);
}

uint32_t tcp_rto_min(const struct net_stack *s)
{
    return s->cfg.rto_min_ms ? s->cfg.rto_min_ms : 1000;
}

static uint64_t two_msl(const struct net_stack *s)
{
    return 2 * (uint64_t)(s->cfg.msl_ms ? s->cfg.msl_ms : 30000);
}

static void timers_off(struct tcp_conn *c)
{
    c->t_rexmit = c->t_persist = c->t_delack = c->t_2msl = NET_NEVER;
    c->persisting = false;
}

static void free_slot(struct tcp_conn *c)
{
    struct netbuf snd = c->snd, rcv = c->rcv;
    memset(c, 0, sizeof(*c));
    netbuf_init(&c->snd, snd.mem, snd.cap);
    netbuf_init(&c->rcv, rcv.mem, rcv.cap);
    c->parent = -1;
    timers_off(c);
}

static bool slot_free(const struct tcp_conn *c)
{
    return c->state == TCP_CLOSED && !c->user_open;
}

/* A free slot, else the TIME_WAIT connection closest to its end: reusing
 * it early is what RFC 6191 and every real stack do under pressure. */
struct tcp_conn *tcp_alloc(struct net_stack *s)
{
    struct tcp_conn *tw = NULL;
    for (size_t i = 0; i < s->nconns; i++) {
        struct tcp_conn *c = &s->conns[i];
        if (slot_free(c))
            return c;
        if (c->state == TCP_TIME_WAIT && !c->user_open && (!tw || c->t_2msl < tw->t_2msl))
            tw = c;
    }
    if (tw) {
        s->ctr.tcp_tw_recycled++;
        free_slot(tw);
    }
    return tw;
}

void tcp_drop(struct net_stack *s, struct tcp_conn *c, int err)
{
    c->state = TCP_CLOSED;
    c->err = (int8_t)err;
    timers_off(c);
    if (!c->user_open)
        free_slot(c);
}

void tcp_enter_time_wait(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    c->state = TCP_TIME_WAIT;
    timers_off(c);
    c->t_2msl = now + two_msl(s);
    /* Bound TIME_WAIT: past tw_max the oldest one goes. */
    size_t max = s->cfg.tw_max ? s->cfg.tw_max : (s->nconns + 3) / 4;
    size_t n = 0;
    struct tcp_conn *oldest = NULL;
    for (size_t i = 0; i < s->nconns; i++) {
        struct tcp_conn *o = &s->conns[i];
        if (o->state != TCP_TIME_WAIT)
            continue;
        n++;
        if (!oldest || o->t_2msl < oldest->t_2msl)
            oldest = o;
    }
    if (n > max && oldest) {
        s->ctr.tcp_tw_recycled++;
        tcp_drop(s, oldest, 0);
    }
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock. */
static uint32_t make_isn(const struct net_stack *s, const struct tcp_conn *c, uint64_t now)
{
    uint8_t t[12];
    st32(t, c->lip);
    st32(t + 4, c->rip);
    st16(t + 8, c->lport);
    st16(t + 10, c->rport);
    return (uint32_t)siphash24(s->cfg.isn_secret, t, sizeof(t)) + (uint32_t)(now * 250);
}

void tcp_setup(struct net_stack *s, struct tcp_conn *c, uint32_t lip, uint16_t lport, uint32_t rip,
               uint16_t rport, uint64_t now)
{
    c->lip = lip;
    c->lport = lport;
    c->rip = rip;
    c->rport = rport;
    c->iss = make_isn(s, c, now);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->data_seq = c->iss + 1;
    c->smss = TCP_DEFAULT_MSS;
    c->rto = RTO_INITIAL < tcp_rto_min(s) ? tcp_rto_min(s) : RTO_INITIAL;
    c->ssthresh = 0x7fffffff;
    c->parent = -1;
    /* The smallest shift that lets the whole receive buffer be offered. */
    c->rcv_ws = 0;
    while (c->rcv_ws < TCP_WSCALE_MAX && (c->rcv.cap >> c->rcv_ws) > 0xffff)
        c->rcv_ws++;
    timers_off(c);
}

/* After the SYNs: the send MSS and initial window (RFC 5681 3.1). */
void tcp_set_mss(struct tcp_conn *c, bool has_mss, uint16_t mss)
{
    uint32_t m = has_mss ? mss : TCP_DEFAULT_MSS;
    if (m > OUR_MSS)
        m = OUR_MSS;
    if (m < MIN_MSS)
        m = MIN_MSS;
    c->smss = (uint16_t)m;
    c->cwnd = m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
}

void tcp_rtt_sample(struct net_stack *s, struct tcp_conn *c, uint32_t r)
{
    if (!c->rtt_valid) {
        c->srtt8 = r << 3;
        c->rttvar4 = r << 1;
        c->rtt_valid = true;
    } else {
        int32_t delta = (int32_t)r - (int32_t)(c->srtt8 >> 3);
        c->srtt8 = (uint32_t)((int32_t)c->srtt8 + delta);
        uint32_t ad = delta < 0 ? (uint32_t)-delta : (uint32_t)delta;
        c->rttvar4 = c->rttvar4 + ad - (c->rttvar4 >> 2);
    }
    uint32_t var = c->rttvar4 ? c->rttvar4 : 1; /* max(G, 4 * RTTVAR), G = 1 ms */
    uint32_t rto = (c->srtt8 >> 3) + var;
    if (rto < tcp_rto_min(s))
        rto = tcp_rto_min(s);
    c->rto = rto > RTO_MAX ? RTO_MAX : rto;
}

/* ---- Timers ---- */

static void rexmit_timeout(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    bool syn = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED;
    if (++c->rexmits > (syn ? SYN_RETRIES : DATA_RETRIES)) {
        s->ctr.tcp_conn_drops++;
        if (!syn)
            tcp_send_rst(s, c, now);
        tcp_drop(s, c, NET_ETIMEDOUT);
        return;
    }
    s->ctr.tcp_timeouts++;
    s->ctr.tcp_retrans++;
    /* RFC 6298 5.5: back off. RFC 5681 (4): ssthresh from the flight,
     * cwnd to one segment. RFC 6582: remember the recovery point. */
    c->rto = c->rto * 2 > RTO_MAX ? RTO_MAX : c->rto * 2;
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t half = flight / 2;
    c->ssthresh = half > 2u * c->smss ? half : 2u * c->smss;
    c->cwnd = c->smss;
    c->recover = c->snd_max;
    c->in_recovery = false;
    c->dupacks = 0;
    c->rtt_timing = false; /* Karn */
    /* Go back: everything from snd_una is sent again as the window opens. */
    c->snd_nxt = c->snd_una;
    c->t_rexmit = NET_NEVER;
    tcp_output(s, c, now);
    if (c->t_rexmit == NET_NEVER && c->snd_max != c->snd_una)
        tcp_arm_rexmit(s, c, now);
}

static void persist_timeout(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    /* A connection nobody holds may not probe forever: a peer keeping its
     * window shut would pin the slot (Linux bounds orphans the same way). */
    if (!c->user_open && c->parent < 0 && c->probes >= ORPHAN_PROBES) {
        s->ctr.tcp_conn_drops++;
        tcp_send_rst(s, c, now);
        tcp_drop(s, c, NET_ETIMEDOUT);
        return;
    }
    s->ctr.tcp_probes++;
    /* One byte into a closed window (the peer answers with its window); if
     * the window is open but too small for SWS avoidance, what fits. */
    tcp_send_probe(s, c, c->snd_wnd ? c->snd_wnd : 1, now);
    if (c->probes < 16)
        c->probes++;
    uint64_t wait = (uint64_t)c->rto << c->probes;
    if (wait < PERSIST_MIN_MS)
        wait = PERSIST_MIN_MS;
    c->t_persist = now + (wait > RTO_MAX ? RTO_MAX : wait);
}

static void conn_timers(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    if (now >= c->t_2msl) {
        /* TIME_WAIT over, or an orphan in FIN_WAIT_2 gave up. */
        tcp_drop(s, c, 0);
        return;
    }
    if (now >= c->t_rexmit) {
        rexmit_timeout(s, c, now);
        if (c->state == TCP_CLOSED)
            return;
    }
    if (now >= c->t_persist)
        persist_timeout(s, c, now);
    if (now >= c->t_delack) {
        s->ctr.tcp_delacks++;
        tcp_send_ack(s, c, now);
    }
}

void tcp_timers(struct net_stack *s, uint64_t now)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (!slot_free(&s->conns[i]))
            conn_timers(s, &s->conns[i], now);
}

uint64_t tcp_deadline(const struct net_stack *s)
{
    uint64_t d = NET_NEVER;
    for (size_t i = 0; i < s->nconns; i++) {
        const struct tcp_conn *c = &s->conns[i];
        if (slot_free(c))
            continue;
        uint64_t t[4] = {c->t_rexmit, c->t_persist, c->t_delack, c->t_2msl};
        for (int k = 0; k < 4; k++)
            if (t[k] < d)
                d = t[k];
    }
    return d;
}

/* ---- Socket calls ---- */

static struct tcp_conn *handle(const struct net_stack *s, int h)
{
    if (h < 0 || (size_t)h >= s->nconns || !s->conns[h].user_open)
        return NULL;
    return &s->conns[h];
}

int tcp_listen(struct net_stack *s, uint16_t port, unsigned backlog)
{
    if (port == 0 || backlog == 0)
        return NET_EINVAL;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].state == TCP_LISTEN && s->conns[i].lport == port)
            return NET_EADDRINUSE;
    struct tcp_conn *c = tcp_alloc(s);
    if (!c)
        return NET_ENOMEM;
    c->state = TCP_LISTEN;
    c->user_open = true;
    c->lport = port;
    c->backlog = (uint16_t)(backlog > 0xffff ? 0xffff : backlog);
    c->parent = -1;
    timers_off(c);
    return tcp_index(s, c);
}

static bool port_used(const struct net_stack *s, uint16_t port)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (!slot_free(&s->conns[i]) && s->conns[i].lport == port)
            return true;
    return false;
}

int tcp_connect(struct net_stack *s, uint32_t dst, uint16_t dport, uint64_t now)
{
    if (!s->ip)
        return NET_ENETUNREACH;
    if (dport == 0 || dst == 0 || dst == IPV4_BROADCAST)
        return NET_EINVAL;
    struct tcp_conn *c = tcp_alloc(s);
    if (!c)
        return NET_ENOMEM;
    uint16_t port = 0;
    for (int tries = 0; tries < 16384 && !port; tries++) {
        uint16_t p = s->next_port;
        s->next_port = p == 65535 ? 49152 : p + 1;
        if (!port_used(s, p))
            port = p;
    }
    if (!port)
        return NET_ENOMEM;
    tcp_setup(s, c, s->ip, port, dst, dport, now);
    c->user_open = true;
    c->active = true;
    c->state = TCP_SYN_SENT;
    tcp_output(s, c, now);
    return tcp_index(s, c);
}

int tcp_accept(struct net_stack *s, int listener)
{
    struct tcp_conn *l = handle(s, listener);
    if (!l || l->state != TCP_LISTEN)
        return NET_EBADF;
    struct tcp_conn *best = NULL;
    for (size_t i = 0; i < s->nconns; i++) {
        struct tcp_conn *c = &s->conns[i];
        if (c->parent == listener && c->state != TCP_SYN_RECEIVED &&
            (!best || c->accept_order < best->accept_order))
            best = c;
    }
    if (!best)
        return NET_EAGAIN;
    best->parent = -1;
    best->user_open = true;
    return tcp_index(s, best);
}

int tcp_set_backlog(struct net_stack *s, int listener, unsigned backlog)
{
    struct tcp_conn *l = handle(s, listener);
    if (!l || l->state != TCP_LISTEN)
        return NET_EBADF;
    l->backlog = (uint16_t)(backlog > 0xffff ? 0xffff : backlog);
    return 0;
}

int tcp_slot_user(const struct net_stack *s, int h)
{
    if (h < 0 || (size_t)h >= s->nconns)
        return NET_EBADF;
    const struct tcp_conn *c = &s->conns[h];
    if (!c->user_open && (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT))
        return NET_EBADF;
    return c->parent >= 0 ? c->parent : h;
}

/* Tell the peer about a window that reading opened, if it grew enough to
 * matter (two segments or half the buffer). */
static void window_update(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
        return;
    uint32_t right = c->rcv_nxt + (uint32_t)(c->rcv.cap - c->rcv.len);
    uint32_t step = 2u * c->smss;
    if (step > c->rcv.cap / 2)
        step = (uint32_t)(c->rcv.cap / 2);
    if (SEQ_GT(right, c->rcv_adv) && right - c->rcv_adv >= step)
        tcp_send_ack(s, c, now);
}

long tcp_read(struct net_stack *s, int h, void *buf, size_t len, uint64_t now)
{
    struct tcp_conn *c = handle(s, h);
    if (!c || c->state == TCP_LISTEN)
        return NET_EBADF;
    if (c->rcv.len) {
        size_t n = len < c->rcv.len ? len : c->rcv.len;
        netbuf_peek(&c->rcv, 0, buf, n);
        netbuf_consume(&c->rcv, n);
        window_update(s, c, now);
        return (long)n;
    }
    if (c->rcv_fin)
        return 0;
    if (c->err)
        return c->err;
    if (c->state == TCP_CLOSED)
        return NET_ENOTCONN;
    return NET_EAGAIN;
}

long tcp_write(struct net_stack *s, int h, const void *buf, size_t len, uint64_t now)
{
    struct tcp_conn *c = handle(s, h);
    if (!c || c->state == TCP_LISTEN)
        return NET_EBADF;
    if (c->err)
        return c->err;
    if (c->fin_queued)
        return NET_EPIPE;
    switch (c->state) {
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        break;
    default:
        return NET_ENOTCONN;
    }
    if (len == 0)
        return 0;
    size_t n = netbuf_write(&c->snd, buf, len);
    if (n == 0)
        return NET_EAGAIN;
    tcp_output(s, c, now);
    return (long)n;
}

size_t tcp_writable(const struct net_stack *s, int h)
{
    const struct tcp_conn *c = handle(s, h);
    return c ? netbuf_free(&c->snd) : 0;
}

size_t tcp_readable(const struct net_stack *s, int h)
{
    const struct tcp_conn *c = handle(s, h);
    return c ? c->rcv.len : 0;
}

int tcp_shutdown(struct net_stack *s, int h, uint64_t now)
{
    struct tcp_conn *c = handle(s, h);
    if (!c || c->state == TCP_LISTEN)
        return NET_EBADF;
    if (c->fin_queued)
        return 0;
    switch (c->state) {
    case TCP_SYN_SENT:
        tcp_drop(s, c, NET_ENOTCONN);
        return 0;
    case TCP_SYN_RECEIVED:
        /* The FIN waits for the handshake (our SYN may still need
         * resending); the ACK that completes it moves to FIN_WAIT_1. */
        break;
    case TCP_ESTABLISHED:
        c->state = TCP_FIN_WAIT_1;
        break;
    case TCP_CLOSE_WAIT:
        c->state = TCP_LAST_ACK;
        break;
    default:
        return NET_ENOTCONN;
    }
    c->fin_queued = true;
    tcp_output(s, c, now);
    return 0;
}

static void abort_conn(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        tcp_send_rst(s, c, now);
        break;
    default:
        break;
    }
    c->user_open = false;
    tcp_drop(s, c, 0);
}

int tcp_abort(struct net_stack *s, int h, uint64_t now)
{
    struct tcp_conn *c = handle(s, h);
    if (!c)
        return NET_EBADF;
    if (c->state == TCP_LISTEN)
        return tcp_close(s, h, now);
    abort_conn(s, c, now);
    return 0;
}

int tcp_close(struct net_stack *s, int h, uint64_t now)
{
    struct tcp_conn *c = handle(s, h);
    if (!c)
        return NET_EBADF;
    if (c->state == TCP_LISTEN) {
        /* Children nobody accepted go with their listener. */
        for (size_t i = 0; i < s->nconns; i++)
            if (s->conns[i].parent == h)
                abort_conn(s, &s->conns[i], now);
        c->user_open = false;
        tcp_drop(s, c, 0);
        return 0;
    }
    if (c->rcv.len) {
        abort_conn(s, c, now);
        return 0;
    }
    tcp_shutdown(s, h, now);
    c->user_open = false;
    if (c->state == TCP_CLOSED)
        free_slot(c);
    else if (c->state == TCP_FIN_WAIT_2)
        c->t_2msl = now + TCP_FIN_WAIT_2_MS;
    return 0;
}

int tcp_set_nodelay(struct net_stack *s, int h, bool on)
{
    struct tcp_conn *c = handle(s, h);
    if (!c)
        return NET_EBADF;
    c->nodelay = on;
    return 0;
}

int tcp_get_state(const struct net_stack *s, int h)
{
    const struct tcp_conn *c = handle(s, h);
    return c ? c->state : -1;
}

int tcp_get_error(const struct net_stack *s, int h)
{
    const struct tcp_conn *c = handle(s, h);
    return c ? c->err : NET_EBADF;
}
