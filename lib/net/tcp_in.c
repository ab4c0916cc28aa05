/*
 * TCP input: "segment arrives" (RFC 9293 3.10.7) for every state, with the
 * RFC 5961 checks for RST, SYN and ACK, the sending side's reaction to
 * ACKs (RFC 6298 RTT samples, RFC 5681 slow start, congestion avoidance
 * and fast retransmit, RFC 6582 NewReno recovery) and the receiving side's
 * reassembly of out-of-order data in the receive ring.
 */
#include "net/net_internal.h"
#include "string.h"

/* ---- Demultiplexing ---- */

static struct tcp_conn *lookup(struct net_stack *s, const struct ipv4_hdr *ip,
                               const struct tcp_hdr *t, struct tcp_conn **listener)
{
    *listener = NULL;
    for (size_t i = 0; i < s->nconns; i++) {
        struct tcp_conn *c = &s->conns[i];
        if (c->state == TCP_CLOSED)
            continue;
        if (c->state == TCP_LISTEN) {
            if (c->lport == t->dport)
                *listener = c;
            continue;
        }
        if (c->lport == t->dport && c->rport == t->sport && c->rip == ip->src && c->lip == ip->dst)
            return c;
    }
    return NULL;
}

static unsigned children(const struct net_stack *s, int listener)
{
    unsigned n = 0;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].parent == listener)
            n++;
    return n;
}

/* The listener's child in SYN_RECEIVED that arrived first, or NULL. */
static struct tcp_conn *oldest_embryo(struct net_stack *s, int listener)
{
    struct tcp_conn *best = NULL;
    for (size_t i = 0; i < s->nconns; i++) {
        struct tcp_conn *c = &s->conns[i];
        if (c->parent == listener && c->state == TCP_SYN_RECEIVED &&
            (!best || c->accept_order < best->accept_order))
            best = c;
    }
    return best;
}

/* Options of the peer's SYN: window scale only if both sides offered it
 * (we always offer on an active open, and answer on a passive one). */
static void take_syn_options(struct tcp_conn *c, const struct tcp_hdr *t)
{
    c->ws_ok = t->has_ws;
    c->sack_ok = t->sack_ok;
    c->snd_ws = t->has_ws ? t->ws : 0;
    if (!t->has_ws)
        c->rcv_ws = 0;
    tcp_set_mss(c, t->has_mss, t->mss);
    /* The window of a SYN is never scaled (RFC 7323 2.2). */
    c->snd_wnd = c->max_snd_wnd = t->wnd;
}

/* ---- LISTEN ---- */

static void listen_input(struct net_stack *s, struct tcp_conn *l, const struct ipv4_hdr *ip,
                         const struct tcp_hdr *t, uint64_t now)
{
    if (t->flags & TCP_RST)
        return;
    if (t->flags & TCP_ACK) {
        tcp_reply_rst(s, ip, t, now);
        return;
    }
    if (!(t->flags & TCP_SYN))
        return;
    int li = tcp_index(s, l);
    if (children(s, li) >= l->backlog) {
        /* Full. The oldest child still in SYN_RECEIVED makes room: under
         * a flood of spoofed SYNs the backlog holds half-open children
         * whose SYN-ACKs nobody answers, and keeping them would refuse
         * every real client until they time out (a minute). A real
         * client whose child goes this way resends its SYN. Children
         * that completed their handshake are never evicted; with none to
         * evict the SYN is dropped silently (the peer retries), and a
         * flood never takes more than the backlog. */
        struct tcp_conn *old = oldest_embryo(s, li);
        if (!old) {
            s->ctr.tcp_backlog_drops++;
            return;
        }
        s->ctr.tcp_syn_evicted++;
        tcp_drop(s, old, 0);
    }
    struct tcp_conn *c = tcp_alloc(s);
    if (!c) {
        s->ctr.tcp_backlog_drops++;
        return;
    }
    tcp_setup(s, c, ip->dst, t->dport, ip->src, t->sport, now);
    c->parent = (int16_t)li;
    c->accept_order = ++s->accept_clock; /* age, for eviction; reset when established */
    c->irs = t->seq;
    c->rcv_nxt = t->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    take_syn_options(c, t);
    c->snd_wl1 = t->seq;
    c->snd_wl2 = c->iss;
    c->state = TCP_SYN_RECEIVED;
    /* Data on the SYN is not kept (it is not acknowledged either, so the
     * peer sends it again). */
    tcp_output(s, c, now);
}

/* ---- SYN_SENT ---- */

static void syn_sent_input(struct net_stack *s, struct tcp_conn *c, const struct ipv4_hdr *ip,
                           const struct tcp_hdr *t, uint64_t now)
{
    bool ack = t->flags & TCP_ACK;
    if (ack && (SEQ_LEQ(t->ack, c->iss) || SEQ_GT(t->ack, c->snd_max))) {
        tcp_reply_rst(s, ip, t, now);
        return;
    }
    if (t->flags & TCP_RST) {
        /* RFC 5961 3.2 for SYN_SENT: only a RST that acknowledges our SYN. */
        if (ack) {
            s->ctr.tcp_rst_in++;
            tcp_drop(s, c, NET_ECONNREFUSED);
        }
        return;
    }
    if (!(t->flags & TCP_SYN))
        return;
    c->irs = t->seq;
    c->rcv_nxt = t->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    take_syn_options(c, t);
    c->snd_wl1 = t->seq;
    c->snd_wl2 = t->ack;
    if (ack) {
        c->snd_una = t->ack;
        if (c->rtt_timing)
            tcp_rtt_sample(s, c, (uint32_t)(now - c->rtt_start));
        c->rtt_timing = false;
        c->rexmits = 0;
        c->state = TCP_ESTABLISHED;
        c->t_rexmit = NET_NEVER;
        c->ack_now = true;
        tcp_output(s, c, now);
        return;
    }
    /* Simultaneous open: answer with SYN-ACK from the same ISS. */
    c->state = TCP_SYN_RECEIVED;
    c->snd_nxt = c->iss;
    tcp_output(s, c, now);
}

/* ---- Receiving data ---- */

/* Records [start, end) as held out of order, merging with neighbours.
 * False if the table is full and the range touches no existing one. */
static bool ooo_add(struct tcp_conn *c, uint32_t start, uint32_t end)
{
    for (int i = 0; i < c->ooo_n; i++) {
        if (SEQ_GT(start, c->ooo[i].end) || SEQ_GT(c->ooo[i].start, end))
            continue;
        /* Overlaps or touches i: grow i, then swallow what it now reaches. */
        if (SEQ_LT(start, c->ooo[i].start))
            c->ooo[i].start = start;
        if (SEQ_GT(end, c->ooo[i].end))
            c->ooo[i].end = end;
        for (int j = 0; j < c->ooo_n;) {
            if (j != i && !SEQ_GT(c->ooo[j].start, c->ooo[i].end) &&
                !SEQ_GT(c->ooo[i].start, c->ooo[j].end)) {
                if (SEQ_LT(c->ooo[j].start, c->ooo[i].start))
                    c->ooo[i].start = c->ooo[j].start;
                if (SEQ_GT(c->ooo[j].end, c->ooo[i].end))
                    c->ooo[i].end = c->ooo[j].end;
                c->ooo[j] = c->ooo[--c->ooo_n];
                if (i == c->ooo_n)
                    i = j;
                j = 0;
                continue;
            }
            j++;
        }
        return true;
    }
    if (c->ooo_n == TCP_OOO_MAX)
        return false;
    c->ooo[c->ooo_n].start = start;
    c->ooo[c->ooo_n].end = end;
    c->ooo_n++;
    return true;
}

/* After rcv_nxt moved: ranges it reached become readable. */
static void ooo_pull(struct tcp_conn *c)
{
    for (int i = 0; i < c->ooo_n;) {
        if (SEQ_GT(c->ooo[i].start, c->rcv_nxt)) {
            i++;
            continue;
        }
        if (SEQ_GT(c->ooo[i].end, c->rcv_nxt)) {
            c->rcv.len += c->ooo[i].end - c->rcv_nxt;
            c->rcv_nxt = c->ooo[i].end;
        }
        c->ooo[i] = c->ooo[--c->ooo_n];
        i = 0;
    }
}

static void fin_arrived(struct net_stack *s, struct tcp_conn *c, uint64_t now);

/* Payload already trimmed to the window, starting at or after rcv_nxt. */
static void take_data(struct net_stack *s, struct tcp_conn *c, uint32_t seq, const uint8_t *p,
                      size_t len, bool fin, uint64_t now)
{
    size_t off = c->rcv.len + (seq - c->rcv_nxt);
    if (off >= c->rcv.cap) {
        s->ctr.tcp_ooo_drops++;
        c->ack_now = true;
        return;
    }
    if (len > c->rcv.cap - off) {
        len = c->rcv.cap - off; /* the rounded-up window promised a little more */
        fin = false;
    }
    if (seq != c->rcv_nxt) {
        s->ctr.tcp_ooo_segs++;
        c->ack_now = true; /* a duplicate ACK tells the sender about the gap */
        if (len && !ooo_add(c, seq, seq + (uint32_t)len)) {
            s->ctr.tcp_ooo_drops++;
            return;
        }
        c->sack_recent = seq;
        netbuf_put_at(&c->rcv, off, p, len);
        if (fin) {
            c->ooo_fin = true;
            c->ooo_fin_seq = seq + (uint32_t)len;
        }
        return;
    }
    bool filled_hole = c->ooo_n > 0;
    netbuf_put_at(&c->rcv, off, p, len);
    c->rcv.len += len;
    c->rcv_nxt += (uint32_t)len;
    ooo_pull(c);
    /* RFC 5681 4.2: ACK at least every second full segment, and at once
     * when a hole was filled; otherwise the delayed-ACK timer. */
    if (filled_hole || ++c->unacked_segs >= 2)
        c->ack_now = true;
    else if (c->t_delack == NET_NEVER)
        c->t_delack = now + (s->cfg.delack_ms ? s->cfg.delack_ms : 100);
    if (fin || (c->ooo_fin && c->rcv_nxt == c->ooo_fin_seq))
        fin_arrived(s, c, now);
}

static void fin_arrived(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    c->rcv_nxt++;
    c->rcv_fin = true;
    c->ooo_fin = false;
    /* Out-of-order data past the FIN cannot be part of the stream. */
    c->ooo_n = 0;
    c->ack_now = true;
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        c->state = TCP_CLOSE_WAIT;
        break;
    case TCP_FIN_WAIT_1:
        /* Our FIN is not acknowledged yet (else we would be in
         * FIN_WAIT_2): simultaneous close. */
        c->state = TCP_CLOSING;
        break;
    case TCP_FIN_WAIT_2:
        tcp_send_ack(s, c, now);
        tcp_enter_time_wait(s, c, now);
        break;
    default:
        break;
    }
}

/* ---- ACK processing on the sending side ---- */

static bool fin_acked(const struct tcp_conn *c)
{
    return c->fin_queued && SEQ_GT(c->snd_una, c->data_seq + (uint32_t)c->snd.len);
}

static void new_ack(struct net_stack *s, struct tcp_conn *c, uint32_t ack, uint64_t now)
{
    uint32_t acked = ack - c->snd_una;
    if (c->rtt_timing && SEQ_GT(ack, c->rtt_seq)) {
        c->rtt_timing = false;
        tcp_rtt_sample(s, c, (uint32_t)(now - c->rtt_start));
    }
    if (SEQ_GT(ack, c->data_seq)) {
        uint32_t d = ack - c->data_seq;
        if (d > c->snd.len)
            d = (uint32_t)c->snd.len; /* the rest acknowledges our FIN */
        netbuf_consume(&c->snd, d);
        c->data_seq += d;
    }
    c->snd_una = ack;
    if (SEQ_LT(c->snd_nxt, ack))
        c->snd_nxt = ack;
    c->rexmits = 0;
    uint32_t smss = c->smss;
    if (c->in_recovery) {
        if (SEQ_GEQ(ack, c->recover)) {
            /* Full ACK (RFC 6582 3.2 step 3, option 1). */
            uint32_t flight = c->snd_max - c->snd_una;
            uint32_t w = (flight > smss ? flight : smss) + smss;
            c->cwnd = c->ssthresh < w ? c->ssthresh : w;
            c->in_recovery = false;
            c->dupacks = 0;
        } else {
            /* Partial ACK: the next hole is lost too. Resend it, deflate
             * by what was acknowledged, add one segment back. */
            tcp_send_at(s, c, c->snd_una, smss, now);
            s->ctr.tcp_fast_retrans++;
            c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
            if (acked >= smss)
                c->cwnd += smss;
            if (c->cwnd < smss)
                c->cwnd = smss;
            tcp_arm_rexmit(s, c, now);
        }
    } else {
        c->dupacks = 0;
        if (c->cwnd < c->ssthresh)
            c->cwnd += acked < smss ? acked : smss; /* slow start */
        else
            c->cwnd += smss * smss / c->cwnd > 0 ? smss * smss / c->cwnd : 1;
    }
    if (c->snd_una == c->snd_max)
        c->t_rexmit = NET_NEVER;
    else if (!c->in_recovery)
        tcp_arm_rexmit(s, c, now);
}

static void dup_ack(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    uint32_t smss = c->smss;
    if (c->dupacks < 255)
        c->dupacks++;
    if (c->in_recovery) {
        c->cwnd += smss; /* inflate: a segment has left the network */
        return;
    }
    /* RFC 6582 3.2 step 1: only if this loss is past the last recovery
     * point, so one window's losses are not recovered twice. */
    if (c->dupacks != 3 || !SEQ_GT(c->snd_una, c->recover))
        return;
    uint32_t flight = c->snd_max - c->snd_una;
    c->ssthresh = flight / 2 > 2 * smss ? flight / 2 : 2 * smss;
    c->recover = c->snd_max;
    c->in_recovery = true;
    s->ctr.tcp_fast_retrans++;
    tcp_send_at(s, c, c->snd_una, smss, now);
    c->cwnd = c->ssthresh + 3 * smss;
}

/* SEG.ACK handling for synchronized states; false if the segment is to be
 * dropped now. */
static bool ack_input(struct net_stack *s, struct tcp_conn *c, const struct tcp_hdr *t,
                      uint64_t now)
{
    /* RFC 5961 5.2: an ACK for data never sent, or older than the largest
     * window ago, earns an ACK and is dropped. */
    if (SEQ_GT(t->ack, c->snd_max) || SEQ_LT(t->ack, c->snd_una - c->max_snd_wnd)) {
        tcp_send_challenge_ack(s, c, now);
        return false;
    }
    if (c->state == TCP_SYN_RECEIVED) {
        if (!SEQ_GT(t->ack, c->snd_una)) {
            tcp_reply_rst_seq(s, c, t->ack, now);
            return false;
        }
        /* The ACK of our SYN: timed, but no data for congestion control. */
        if (c->rtt_timing)
            tcp_rtt_sample(s, c, (uint32_t)(now - c->rtt_start));
        c->rtt_timing = false;
        c->rexmits = 0;
        c->snd_una = t->ack;
        if (SEQ_LT(c->snd_nxt, t->ack))
            c->snd_nxt = t->ack;
        c->t_rexmit = NET_NEVER;
        c->state = c->fin_queued ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED;
        c->accept_order = ++s->accept_clock;
        c->snd_wnd = (uint32_t)t->wnd << c->snd_ws;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = t->seq;
        c->snd_wl2 = t->ack;
    }
    uint32_t wnd = (uint32_t)t->wnd << c->snd_ws;
    /* RFC 5681's duplicate ACK repeats the window, but a receiver that
     * autotunes its buffer (Linux) grows the window on every ACK; with
     * SACK, an ACK that SACKs new data is a duplicate too (RFC 6675 2).
     * The blocks are otherwise only advisory: we do not keep a scoreboard. */
    bool sack_news = false;
    if (SEQ_LT(c->sack_high, c->snd_una))
        c->sack_high = c->snd_una;
    for (int i = 0; c->sack_ok && i < t->nsack; i++) {
        uint32_t end = t->sack[i][1];
        if (SEQ_GT(end, c->sack_high) && SEQ_LEQ(end, c->snd_max) && SEQ_LT(t->sack[i][0], end)) {
            c->sack_high = end;
            sack_news = true;
        }
    }
    bool is_dup = t->ack == c->snd_una && t->payload_len == 0 &&
                  !(t->flags & (TCP_SYN | TCP_FIN)) && (wnd == c->snd_wnd || sack_news) &&
                  c->snd_max != c->snd_una && !c->persisting; /* answers to probes */
    if (SEQ_GT(t->ack, c->snd_una))
        new_ack(s, c, t->ack, now);
    else if (is_dup)
        dup_ack(s, c, now);
    else if (t->ack == c->snd_una)
        c->dupacks = 0;
    /* Window update (RFC 9293 3.10.7.4, the SND.WL1/WL2 rule). */
    if (SEQ_LT(c->snd_wl1, t->seq) || (c->snd_wl1 == t->seq && SEQ_LEQ(c->snd_wl2, t->ack))) {
        c->snd_wnd = wnd;
        c->snd_wl1 = t->seq;
        c->snd_wl2 = t->ack;
        if (wnd > c->max_snd_wnd)
            c->max_snd_wnd = wnd;
    }
    if (c->persisting && c->snd_wnd > 0) {
        c->persisting = false;
        c->t_persist = NET_NEVER;
        c->probes = 0;
        if (c->snd_max != c->snd_una && c->t_rexmit == NET_NEVER)
            tcp_arm_rexmit(s, c, now);
    }
    switch (c->state) {
    case TCP_FIN_WAIT_1:
        if (fin_acked(c)) {
            c->state = TCP_FIN_WAIT_2;
            if (!c->user_open)
                c->t_2msl = now + TCP_FIN_WAIT_2_MS;
        }
        break;
    case TCP_CLOSING:
        if (fin_acked(c)) {
            tcp_enter_time_wait(s, c, now);
            return false;
        }
        break;
    case TCP_LAST_ACK:
        if (fin_acked(c)) {
            tcp_drop(s, c, 0);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

/* ---- Synchronized states ---- */

static bool acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t len)
{
    uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    bool start_in = SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + wnd);
    if (len == 0)
        return wnd == 0 ? seq == c->rcv_nxt : start_in;
    if (wnd == 0)
        return false;
    uint32_t last = seq + len - 1;
    return start_in || (SEQ_LEQ(c->rcv_nxt, last) && SEQ_LT(last, c->rcv_nxt + wnd));
}

static void rst_input(struct net_stack *s, struct tcp_conn *c, uint32_t seq, uint64_t now)
{
    /* RFC 5961 3.2: reset only on an exact match; in window, challenge. */
    if (seq != c->rcv_nxt) {
        tcp_send_challenge_ack(s, c, now);
        return;
    }
    s->ctr.tcp_rst_in++;
    int err = NET_ECONNRESET;
    if (c->state == TCP_SYN_RECEIVED)
        err = c->active ? NET_ECONNREFUSED : 0;
    else if (c->state == TCP_CLOSING || c->state == TCP_LAST_ACK || c->state == TCP_TIME_WAIT)
        err = 0;
    tcp_drop(s, c, err);
}

static void conn_input(struct net_stack *s, struct tcp_conn *c, const struct ipv4_hdr *ip,
                       const struct tcp_hdr *t, uint64_t now)
{
    uint32_t seq = t->seq;
    bool syn = t->flags & TCP_SYN, fin = t->flags & TCP_FIN;
    const uint8_t *data = t->payload;
    size_t dlen = t->payload_len;
    uint32_t seglen = (uint32_t)dlen + syn + fin;

    /* Our SYN-ACK was lost and the peer repeats its SYN: repeat ours. */
    if (c->state == TCP_SYN_RECEIVED && syn && !(t->flags & (TCP_ACK | TCP_RST)) && seq == c->irs) {
        c->snd_nxt = c->iss;
        tcp_output(s, c, now);
        return;
    }
    if (!acceptable(c, seq, seglen)) {
        s->ctr.tcp_dup_segs++;
        if (t->flags & TCP_RST)
            return;
        /* A zero window accepts no data, but the ACK in a window probe at
         * rcv_nxt still counts (RFC 9293 3.10.7.4: "special allowance"). */
        if (seq == c->rcv_nxt && (t->flags & TCP_ACK) && !syn && c->state != TCP_SYN_RECEIVED &&
            !ack_input(s, c, t, now))
            return;
        if (c->state == TCP_TIME_WAIT && fin)
            tcp_enter_time_wait(s, c, now); /* a repeated FIN restarts the wait */
        c->ack_now = true;
        tcp_output(s, c, now);
        return;
    }
    if (t->flags & TCP_RST) {
        rst_input(s, c, seq, now);
        return;
    }
    if (syn) {
        /* RFC 9293 3.10.7.4: a passive child goes back to LISTEN (here:
         * away; its listener stays); otherwise RFC 5961 4 challenge ACK. */
        if (c->state == TCP_SYN_RECEIVED && !c->active) {
            tcp_drop(s, c, 0);
            return;
        }
        tcp_send_challenge_ack(s, c, now);
        return;
    }
    /* Trim what we already have off the front, what does not fit off the
     * back (the FIN with it). */
    if (SEQ_LT(seq, c->rcv_nxt)) {
        uint32_t d = c->rcv_nxt - seq;
        if (d >= dlen) {
            if (d > dlen)
                fin = false; /* the FIN itself is old */
            d = (uint32_t)dlen;
        }
        data += d;
        dlen -= d;
        seq += d;
        if (dlen == 0 && !fin)
            s->ctr.tcp_dup_segs++;
    }
    uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t room = wnd - (seq - c->rcv_nxt);
    if (dlen > room) {
        dlen = room;
        fin = false;
    }
    if (!(t->flags & TCP_ACK))
        return;
    if (!ack_input(s, c, t, now))
        return;
    switch (c->state) {
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        if (dlen && !c->user_open && c->parent < 0) {
            /* Data for an application that closed: nobody will read it. */
            tcp_send_rst(s, c, now);
            tcp_drop(s, c, 0);
            return;
        }
        if (dlen || fin)
            take_data(s, c, seq, data, dlen, fin, now);
        break;
    case TCP_TIME_WAIT:
        /* Only a repeated FIN can get here: ACK it, restart the wait. */
        if (fin) {
            tcp_send_ack(s, c, now);
            tcp_enter_time_wait(s, c, now);
        }
        return;
    default:
        break; /* CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN */
    }
    if (c->state != TCP_CLOSED)
        tcp_output(s, c, now);
}

void tcp_input(struct net_stack *s, const struct ipv4_hdr *ip, uint64_t now)
{
    struct tcp_hdr t;
    s->ctr.tcp_in++;
    if (tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &t) != NET_OK) {
        s->ctr.tcp_bad++;
        return;
    }
    struct tcp_conn *l;
    struct tcp_conn *c = lookup(s, ip, &t, &l);
    /* RFC 9293 3.10.7.4: a new SYN may reopen a TIME_WAIT connection if it
     * is beyond everything the old one used. */
    if (c && c->state == TCP_TIME_WAIT && l &&
        (t.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && SEQ_GT(t.seq, c->rcv_nxt)) {
        tcp_drop(s, c, 0);
        c = NULL;
    }
    if (c && c->state == TCP_SYN_SENT)
        syn_sent_input(s, c, ip, &t, now);
    else if (c)
        conn_input(s, c, ip, &t, now);
    else if (l)
        listen_input(s, l, ip, &t, now);
    else {
        s->ctr.tcp_no_conn++;
        tcp_reply_rst(s, ip, &t, now);
    }
}
