/*
 * TCP output: segment construction, what may be sent now (windows,
 * congestion window, Nagle, sender-side silly window avoidance), ACKs,
 * RSTs and the receive window we advertise.
 */
#include "net/net_internal.h"
#include "string.h"

#define OUR_MSS (ETH_MTU - IPV4_HDR_LEN - TCP_HDR_LEN)

static bool fin_seq_valid(const struct tcp_conn *c)
{
    return c->fin_queued;
}

static uint32_t fin_seq(const struct tcp_conn *c)
{
    return c->data_seq + (uint32_t)c->snd.len;
}

/* The window field for a segment, moving rcv_adv. The right edge never
 * moves left (RFC 9293 3.8.6.2.2 forbids shrinking), and only moves right
 * by at least min(buffer / 2, MSS) (receiver-side SWS avoidance). */
static uint16_t window_field(struct tcp_conn *c, bool syn)
{
    uint32_t free = (uint32_t)(c->rcv.cap - c->rcv.len);
    if (syn) {
        uint32_t w = free > 0xffff ? 0xffff : free;
        c->rcv_adv = c->rcv_nxt + w;
        return (uint16_t)w;
    }
    uint32_t max = (uint32_t)0xffff << c->rcv_ws;
    if (free > max)
        free = max;
    uint32_t right = c->rcv_nxt + free;
    uint32_t step = (uint32_t)(c->rcv.cap / 2);
    if (step > c->smss)
        step = c->smss;
    if (SEQ_LEQ(right, c->rcv_adv) || right - c->rcv_adv < step)
        right = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
    uint32_t w = right - c->rcv_nxt;
    uint32_t field = w >> c->rcv_ws;
    /* Round up if rounding down would pull the edge back; the excess (under
     * one scale unit) is trimmed on arrival if the buffer lacks it. */
    if ((field << c->rcv_ws) < w)
        field++;
    if (field > 0xffff)
        field = 0xffff;
    uint32_t edge = c->rcv_nxt + (field << c->rcv_ws);
    if (SEQ_GT(edge, c->rcv_adv))
        c->rcv_adv = edge;
    return (uint16_t)field;
}

/* SACK blocks for an ACK (RFC 2018 4): the range holding the latest
 * out-of-order segment first, then the others, up to 3 (so the header
 * stays within 40 option bytes whatever else it carries). */
static uint8_t sack_blocks(const struct tcp_conn *c, uint32_t out[][2])
{
    if (!c->sack_ok || c->ooo_n == 0)
        return 0;
    int first = 0;
    for (int i = 0; i < c->ooo_n; i++)
        if (SEQ_LEQ(c->ooo[i].start, c->sack_recent) && SEQ_LT(c->sack_recent, c->ooo[i].end))
            first = i;
    uint8_t n = 0;
    out[n][0] = c->ooo[first].start;
    out[n++][1] = c->ooo[first].end;
    for (int i = 0; i < c->ooo_n && n < 3; i++) {
        if (i == first)
            continue;
        out[n][0] = c->ooo[i].start;
        out[n++][1] = c->ooo[i].end;
    }
    return n;
}

/* Option bytes an ACK from c carries now beyond the fixed header. */
static size_t ack_option_bytes(const struct tcp_conn *c)
{
    uint32_t tmp[TCP_SACK_MAX][2];
    uint8_t n = sack_blocks(c, tmp);
    return n ? 4 + 8 * (size_t)n : 0;
}

/* Builds and sends one segment of flags at seq carrying len bytes of the
 * send buffer from data offset off. */
static void emit_segment(struct net_stack *s, struct tcp_conn *c, uint32_t seq, uint8_t flags,
                         size_t off, size_t len, uint64_t now)
{
    struct tcp_out o;
    memset(&o, 0, sizeof(o));
    o.sport = c->lport;
    o.dport = c->rport;
    o.seq = seq;
    o.flags = flags;
    if (flags & TCP_ACK)
        o.ack = c->rcv_nxt;
    if (flags & TCP_SYN) {
        o.mss = OUR_MSS;
        /* Offer scaling on our SYN; on a SYN-ACK only if the peer did. */
        o.ws_opt = c->active ? true : c->ws_ok;
        o.ws = c->rcv_ws;
        o.sack_ok = c->active ? true : c->sack_ok;
    } else if (flags & TCP_ACK) {
        o.nsack = sack_blocks(c, o.sack);
    }
    if (!(flags & TCP_RST) || (flags & TCP_ACK))
        o.wnd = window_field(c, flags & TCP_SYN);
    uint8_t *seg = s->frame + NET_IP_PAYLOAD;
    size_t hl = tcp_out_hdr_len(&o);
    netbuf_peek(&c->snd, off, seg + hl, len);
    size_t n = tcp_build(seg, NET_IP_PAYLOAD_MAX, c->lip, c->rip, &o, NULL, len);
    if (n == 0)
        return;
    if (flags & TCP_ACK) {
        c->ack_now = false;
        c->unacked_segs = 0;
        c->t_delack = NET_NEVER;
    }
    s->ctr.tcp_out++;
    net_ip_send(s, c->lip, c->rip, IP_PROTO_TCP, n, now);
}

void tcp_arm_rexmit(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    c->t_rexmit = now + c->rto;
}

void tcp_send_ack(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    emit_segment(s, c, c->snd_nxt, TCP_ACK, 0, 0, now);
}

/* RFC 5961 7: at most 10 challenge ACKs a second, per connection (a
 * stack-wide budget would let an off-path attacker count other
 * connections' challenges, as in CVE-2016-5696). */
void tcp_send_challenge_ack(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    if (now - c->chal_window >= 1000) {
        c->chal_window = now;
        c->chal_count = 0;
    }
    if (c->chal_count >= 10) {
        s->ctr.tcp_challenge_limited++;
        return;
    }
    c->chal_count++;
    s->ctr.tcp_challenge_acks++;
    tcp_send_ack(s, c, now);
}

void tcp_send_rst(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    s->ctr.tcp_rst_out++;
    emit_segment(s, c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0, now);
}

void tcp_reply_rst_seq(struct net_stack *s, struct tcp_conn *c, uint32_t seq, uint64_t now)
{
    s->ctr.tcp_rst_out++;
    emit_segment(s, c, seq, TCP_RST, 0, 0, now);
}

void tcp_reply_rst(struct net_stack *s, const struct ipv4_hdr *ip, const struct tcp_hdr *t,
                   uint64_t now)
{
    if (t->flags & TCP_RST)
        return;
    struct tcp_out o;
    memset(&o, 0, sizeof(o));
    o.sport = t->dport;
    o.dport = t->sport;
    if (t->flags & TCP_ACK) {
        o.seq = t->ack;
        o.flags = TCP_RST;
    } else {
        uint32_t len = (uint32_t)t->payload_len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
        o.ack = t->seq + len;
        o.flags = TCP_RST | TCP_ACK;
    }
    size_t n =
        tcp_build(s->frame + NET_IP_PAYLOAD, NET_IP_PAYLOAD_MAX, ip->dst, ip->src, &o, NULL, 0);
    s->ctr.tcp_rst_out++;
    net_ip_send(s, ip->dst, ip->src, IP_PROTO_TCP, n, now);
}

/* One segment at seq: the SYN if seq is the ISS, else up to max_len data
 * bytes, with FIN if the data ends where the FIN goes and the FIN was
 * already sent once (or is being sent now, from tcp_output). */
static size_t send_from(struct net_stack *s, struct tcp_conn *c, uint32_t seq, size_t max_len,
                        bool fin_ok, uint64_t now)
{
    if (seq == c->iss && (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)) {
        uint8_t f = TCP_SYN | (c->state == TCP_SYN_RECEIVED ? TCP_ACK : 0);
        emit_segment(s, c, c->iss, f, 0, 0, now);
        return 1;
    }
    size_t off = seq - c->data_seq;
    size_t len = off < c->snd.len ? c->snd.len - off : 0;
    if (len > max_len)
        len = max_len;
    /* SACK blocks take room from the payload, not from the MTU. */
    size_t room = c->smss - ack_option_bytes(c);
    if (len > room)
        len = room;
    bool fin = fin_ok && fin_seq_valid(c) && seq + len == fin_seq(c);
    if (len == 0 && !fin)
        return 0;
    uint8_t f = TCP_ACK | (fin ? TCP_FIN : 0);
    if (len && off + len == c->snd.len)
        f |= TCP_PSH;
    emit_segment(s, c, seq, f, off, len, now);
    return len + fin;
}

void tcp_send_at(struct net_stack *s, struct tcp_conn *c, uint32_t seq, size_t max_len,
                 uint64_t now)
{
    /* A retransmission repeats what was sent, never more. Its segment is
     * cut afresh, and SACK blocks take payload room only while we hold
     * data out of order: resent with fewer blocks than it first had, the
     * last segment in flight could reach past snd_max. The peer would then
     * acknowledge bytes we count as never sent, an ACK that must be
     * dropped with its segment (RFC 5961 5.2), and no later ACK could be
     * lower: neither direction would move again. */
    if (!SEQ_LT(seq, c->snd_max))
        return;
    if (max_len > c->snd_max - seq)
        max_len = c->snd_max - seq;
    /* A FIN is repeated only if it was sent before (snd_max is past it). */
    bool fin_sent = fin_seq_valid(c) && SEQ_GT(c->snd_max, fin_seq(c));
    s->ctr.tcp_retrans++;
    /* Karn: a retransmitted segment cannot be timed. */
    c->rtt_timing = false;
    send_from(s, c, seq, max_len, fin_sent, now);
}

void tcp_send_probe(struct net_stack *s, struct tcp_conn *c, size_t max_len, uint64_t now)
{
    bool fin_sent = fin_seq_valid(c) && SEQ_GT(c->snd_max, fin_seq(c));
    /* Karn: the probe may repeat bytes sent before. */
    c->rtt_timing = false;
    /* What actually went out (SACK blocks may have taken room) is sent. */
    uint32_t end = c->snd_una + (uint32_t)send_from(s, c, c->snd_una, max_len, fin_sent, now);
    if (SEQ_GT(end, c->snd_nxt))
        c->snd_nxt = end;
    if (SEQ_GT(end, c->snd_max))
        c->snd_max = end;
}

/* How many bytes tcp_output may send now, Nagle and SWS included. */
static size_t sendable(const struct tcp_conn *c, size_t avail, size_t flight)
{
    /* Limited transmit (RFC 3042): the first two duplicate ACKs each let
     * one new segment out beyond cwnd, so a small window can still
     * collect the three duplicates fast retransmit needs. */
    uint32_t cwnd = c->cwnd;
    if (!c->in_recovery && c->dupacks > 0)
        cwnd += (c->dupacks < 2 ? c->dupacks : 2) * (uint32_t)c->smss;
    uint32_t wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
    size_t usable = wnd > flight ? wnd - flight : 0;
    size_t n = avail < usable ? avail : usable;
    if (n > c->smss)
        n = c->smss;
    if (n == 0 || n == c->smss)
        return n;
    /* A short segment: all that is queued (Nagle lets it go when nothing
     * is in flight, or always with nodelay), or at least half the largest
     * window the peer offered (SWS avoidance, RFC 9293 3.8.6.2.1). */
    if (n == avail && (c->nodelay || flight == 0 || c->fin_queued))
        return n;
    if (c->max_snd_wnd && n >= c->max_snd_wnd / 2)
        return n;
    return 0;
}

void tcp_output(struct net_stack *s, struct tcp_conn *c, uint64_t now)
{
    switch (c->state) {
    case TCP_CLOSED:
    case TCP_LISTEN:
    case TCP_TIME_WAIT:
        if (c->ack_now && c->state == TCP_TIME_WAIT)
            tcp_send_ack(s, c, now);
        return;
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        if (c->snd_nxt == c->iss) {
            /* Karn: only a SYN sent once can be timed. */
            c->rtt_timing = c->rexmits == 0;
            c->rtt_seq = c->iss;
            c->rtt_start = now;
            send_from(s, c, c->iss, 0, false, now);
            c->snd_nxt = c->iss + 1;
            c->snd_max = c->snd_nxt;
            if (c->t_rexmit == NET_NEVER)
                tcp_arm_rexmit(s, c, now);
        } else if (c->ack_now) {
            tcp_send_ack(s, c, now);
        }
        return;
    default:
        break;
    }
    for (;;) {
        size_t off = c->snd_nxt - c->data_seq;
        size_t avail = off < c->snd.len ? c->snd.len - off : 0;
        size_t flight = c->snd_nxt - c->snd_una;
        size_t n = sendable(c, avail, flight);
        bool fin = fin_seq_valid(c) && c->snd_nxt + n == fin_seq(c);
        if (n == 0 && !fin)
            break;
        bool new_data = c->snd_nxt == c->snd_max;
        uint32_t seq = c->snd_nxt;
        size_t used = send_from(s, c, seq, n, true, now);
        if (used == 0)
            break;
        c->snd_nxt += (uint32_t)used;
        if (SEQ_GT(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        if (new_data && !c->rtt_timing) {
            c->rtt_timing = true;
            c->rtt_seq = seq;
            c->rtt_start = now;
        }
        if (c->t_rexmit == NET_NEVER)
            tcp_arm_rexmit(s, c, now);
        if (fin)
            break;
    }
    /* Data waits with nothing in flight: the peer's window is closed (or
     * too small for SWS avoidance to send into). Probe it (RFC 9293
     * 3.8.6.1) instead of running the retransmission timer, which only
     * runs while something is in flight. */
    size_t off = c->snd_nxt - c->data_seq;
    bool waiting = off < c->snd.len;
    if (waiting && c->snd_nxt == c->snd_una && !c->persisting) {
        c->persisting = true;
        c->probes = 0;
        c->t_rexmit = NET_NEVER;
        c->t_persist = now + c->rto;
    }
    if (c->ack_now)
        tcp_send_ack(s, c, now);
}
