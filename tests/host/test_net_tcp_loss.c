/*
 * TCP loss recovery with a scripted peer and a fake clock: RFC 6298 RTO
 * estimation, backoff and Karn's rule, the retransmission limit, RFC 5681
 * fast retransmit, RFC 6582 NewReno partial and full ACKs, congestion
 * window growth, and RFC 9293 zero-window probing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_internal.h"
#include "net_harness.h"

static struct nh h;
static uint8_t data[NH_BUF];

static struct tcp_conn *conn(int hd)
{
    return &h.st.conns[hd];
}

/* The peer acknowledges up to ack with window wnd (no data). */
static void peer_ack(struct nh_conn *c, uint32_t ack, uint16_t wnd)
{
    struct nh_seg s = nh_cseg(c, TCP_ACK, NULL, 0);
    s.ack = ack;
    s.wnd = wnd;
    nh_send(&h, &s);
}

/* Pops every queued segment; returns how many, the last in *last. */
static int drain(struct nh_seg *last)
{
    int n = 0;
    struct nh_seg s;
    while (nh_pop_seg(&h, &s)) {
        if (last)
            *last = s;
        n++;
    }
    return n;
}

static void fill(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + 1);
}

/* ---- RTO ---- */

Test(tcp_rto, estimator_follows_rfc6298)
{
    nh_init(&h, 10);
    struct tcp_conn *c = &h.st.conns[0];
    c->rtt_valid = false;
    tcp_rtt_sample(&h.st, c, 100);
    cr_assert_eq(c->srtt8 >> 3, 100);
    cr_assert_eq(c->rttvar4 >> 2, 50);
    cr_assert_eq(c->rto, 300, "SRTT + 4 RTTVAR");
    tcp_rtt_sample(&h.st, c, 200);
    /* RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 */
    cr_assert_eq(c->srtt8, 900);
    cr_assert_eq(c->rttvar4, 250);
    cr_assert_eq(c->rto, 112 + 250);
    /* Clamped from below by the configured minimum, from above by 60 s. */
    nh_init(&h, 0);
    c = &h.st.conns[0];
    tcp_rtt_sample(&h.st, c, 10);
    cr_assert_eq(c->rto, 1000);
    tcp_rtt_sample(&h.st, c, 100000);
    cr_assert_eq(c->rto, 60000);
}

Test(tcp_rto, doubling_and_karn)
{
    nh_init(&h, 200);
    fill();
    struct nh_conn c = nh_passive(&h, 1000, -1);
    /* The handshake ACK came at once: RTT 0, RTO at its floor. */
    cr_assert_eq(conn(c.h)->rto, 200);
    tcp_write(&h.st, c.h, data, 500, h.now);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    uint32_t rto = 200;
    for (int i = 0; i < 4; i++) {
        nh_advance(&h, rto - 1);
        cr_assert_eq(nh_pending(&h), 0);
        nh_advance(&h, 1);
        cr_assert(nh_pop_seg(&h, &s), "retransmission %d", i);
        cr_assert_eq(s.seq, c.our_nxt);
        cr_assert_eq(s.len, 500);
        rto *= 2;
        cr_assert_eq(conn(c.h)->rto, rto, "backed off");
    }
    cr_assert_eq(conn(c.h)->cwnd, 1000, "loss window: one segment");
    /* The ACK of a retransmitted segment gives no RTT sample (Karn): the
     * backed-off RTO stays for the next segment. */
    nh_advance(&h, 30);
    peer_ack(&c, c.our_nxt + 500, 65535);
    c.our_nxt += 500;
    cr_assert_eq(conn(c.h)->rto, rto);
    cr_assert_not(conn(c.h)->rtt_timing);
    /* New data, ACKed after 40 ms: a valid sample resets the RTO. */
    tcp_write(&h.st, c.h, data, 100, h.now);
    drain(NULL);
    nh_advance(&h, 40);
    peer_ack(&c, c.our_nxt + 100, 65535);
    cr_assert_lt(conn(c.h)->rto, rto);
    cr_assert_eq(conn(c.h)->rto, 200);
}

Test(tcp_rto, retransmission_limit_aborts)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1000, -1);
    tcp_write(&h.st, c.h, "data", 4, h.now);
    drain(NULL);
    for (int i = 0; i < 12; i++) {
        nh_advance(&h, conn(c.h)->t_rexmit - h.now);
        cr_assert_eq(drain(NULL), 1);
    }
    nh_advance(&h, conn(c.h)->t_rexmit - h.now);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert(s.flags & TCP_RST);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_CLOSED);
    cr_assert_eq(tcp_write(&h.st, c.h, "x", 1, h.now), NET_ETIMEDOUT);
    cr_assert_eq(h.st.ctr.tcp_conn_drops, 1);
}

Test(tcp_rto, go_back_n_after_timeout)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = nh_passive(&h, 1000, -1);
    tcp_write(&h.st, c.h, data, 4000, h.now);
    cr_assert_eq(drain(NULL), 4);
    nh_advance(&h, 1000);
    struct nh_seg s;
    cr_assert_eq(drain(&s), 1, "cwnd is one segment after a timeout");
    cr_assert_eq(s.seq, c.our_nxt);
    /* Each ACK lets slow start resend more of what was lost. */
    peer_ack(&c, c.our_nxt + 1000, 65535);
    cr_assert_eq(drain(&s), 2);
    cr_assert_eq(s.seq, c.our_nxt + 2000);
}

/* ---- Fast retransmit and NewReno ---- */

/* Connection with MSS 1000, cwnd grown so that 8 segments are in flight;
 * returns the first unacknowledged sequence number. */
static uint32_t eight_in_flight(struct nh_conn *c)
{
    nh_init(&h, 0);
    fill();
    *c = nh_passive(&h, 1000, -1);
    tcp_write(&h.st, c->h, data, 8000, h.now);
    cr_assert_eq(drain(NULL), 4, "initial window: 4 segments of 1000");
    /* Two ACKs of a segment each: slow start adds 2000, 4 more go. */
    peer_ack(c, c->our_nxt + 1000, 65535);
    peer_ack(c, c->our_nxt + 2000, 65535);
    cr_assert_eq(drain(NULL), 4);
    return c->our_nxt + 2000;
}

Test(tcp_newreno, three_dupacks_trigger_fast_retransmit)
{
    struct nh_conn c;
    uint32_t una = eight_in_flight(&c);
    cr_assert_eq(conn(c.h)->cwnd, 6000);
    peer_ack(&c, una, 65535);
    peer_ack(&c, una, 65535);
    cr_assert_eq(nh_pending(&h), 0, "two duplicates are not enough");
    peer_ack(&c, una, 65535);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, una, "the first unacknowledged segment again");
    cr_assert_eq(s.len, 1000);
    cr_assert(conn(c.h)->in_recovery);
    /* ssthresh = flight / 2 = 3000; cwnd = ssthresh + 3 segments. */
    cr_assert_eq(conn(c.h)->ssthresh, 3000);
    cr_assert_eq(conn(c.h)->cwnd, 6000);
    cr_assert_eq(conn(c.h)->recover, una + 6000);
    cr_assert_eq(h.st.ctr.tcp_fast_retrans, 1);
    /* Further duplicates inflate the window. */
    peer_ack(&c, una, 65535);
    cr_assert_eq(conn(c.h)->cwnd, 7000);
}

Test(tcp_newreno, limited_transmit)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = nh_passive(&h, 1000, -1);
    tcp_write(&h.st, c.h, data, 8000, h.now);
    cr_assert_eq(drain(NULL), 4, "cwnd: 4 segments");
    /* The first two duplicates each release one new segment (RFC 3042). */
    struct nh_seg s;
    peer_ack(&c, c.our_nxt, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, c.our_nxt + 4000, "new data, not a retransmission");
    peer_ack(&c, c.our_nxt, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, c.our_nxt + 5000);
    cr_assert_eq(nh_pending(&h), 0);
    cr_assert_eq(conn(c.h)->cwnd, 4000, "cwnd itself unchanged");
    /* The third is fast retransmit. */
    peer_ack(&c, c.our_nxt, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, c.our_nxt);
}

Test(tcp_newreno, partial_then_full_ack)
{
    struct nh_conn c;
    uint32_t una = eight_in_flight(&c);
    for (int i = 0; i < 3; i++)
        peer_ack(&c, una, 65535);
    drain(NULL);
    /* Partial ACK: the first hole is filled but a second one (at
     * una + 3000) remains: resent at once, recovery continues. */
    peer_ack(&c, una + 3000, 65535);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, una + 3000);
    cr_assert(conn(c.h)->in_recovery);
    /* cwnd deflated by 3000 acked, plus one segment. */
    cr_assert_eq(conn(c.h)->cwnd, 6000 - 3000 + 1000);
    drain(NULL);
    /* Full ACK (everything up to recover): recovery ends, cwnd is
     * min(ssthresh, flight + MSS). */
    peer_ack(&c, una + 6000, 65535);
    cr_assert_not(conn(c.h)->in_recovery);
    cr_assert_leq(conn(c.h)->cwnd, conn(c.h)->ssthresh);
    cr_assert_eq(conn(c.h)->dupacks, 0);
}

Test(tcp_newreno, no_second_recovery_for_the_same_window)
{
    struct nh_conn c;
    uint32_t una = eight_in_flight(&c);
    /* A timeout first: recover is set to everything sent. */
    nh_advance(&h, conn(c.h)->t_rexmit - h.now);
    drain(NULL);
    for (int i = 0; i < 3; i++)
        peer_ack(&c, una, 65535);
    cr_assert_not(conn(c.h)->in_recovery, "ACK not past recover (RFC 6582 4.1)");
    cr_assert_eq(h.st.ctr.tcp_fast_retrans, 0);
}

Test(tcp_newreno, not_duplicates)
{
    struct nh_conn c;
    uint32_t una = eight_in_flight(&c);
    /* A window change, or data on the ACK, is not a duplicate. */
    peer_ack(&c, una, 65535);
    peer_ack(&c, una, 60000);
    peer_ack(&c, una, 60000);
    cr_assert_eq(conn(c.h)->dupacks, 1);
    struct nh_seg d = nh_cseg(&c, TCP_ACK, "x", 1);
    d.ack = una;
    d.wnd = 60000;
    nh_send(&h, &d);
    cr_assert_eq(conn(c.h)->dupacks, 0);
    cr_assert_not(conn(c.h)->in_recovery);
}

/* A passive connection with MSS 1000 whose peer offered SACK. */
static struct nh_conn sack_passive(void)
{
    int l = tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 99, 0, TCP_SYN, 65535);
    syn.mss = 1000;
    syn.sack_ok = true;
    nh_send(&h, &syn);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(&h, &sa));
    cr_assert(sa.sack_ok);
    struct nh_conn c = {0};
    c.lport = NH_PORT;
    c.rport = NH_PEER_PORT;
    c.pseq = 100;
    c.our_nxt = sa.seq + 1;
    nh_csend(&h, &c, NULL, 0);
    c.h = tcp_accept(&h.st, l);
    cr_assert_geq(c.h, 0);
    return c;
}

Test(tcp_newreno, sack_marks_duplicates_despite_window_growth)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = sack_passive();
    tcp_write(&h.st, c.h, data, 4000, h.now);
    drain(NULL);
    /* An autotuning receiver: every duplicate ACK offers more window. */
    uint32_t una = c.our_nxt;
    for (int i = 1; i <= 3; i++) {
        struct nh_seg d = nh_cseg(&c, TCP_ACK, NULL, 0);
        d.wnd = (uint16_t)(10000 + 1000 * i);
        d.nsack = 1;
        d.sack[0][0] = una + 1000;
        d.sack[0][1] = una + 1000 + 1000 * (uint32_t)i;
        struct nh_seg copy = d;
        uint8_t f[ETH_FRAME_MAX];
        struct tcp_out o = {.sport = d.sport,
                            .dport = d.dport,
                            .seq = d.seq,
                            .ack = d.ack,
                            .flags = d.flags,
                            .wnd = d.wnd,
                            .nsack = 1};
        memcpy(o.sack, copy.sack, sizeof(o.sack));
        size_t n = tcp_build(f + 34, ETH_MTU - 20, NH_PEER, NH_US, &o, NULL, 0);
        ipv4_build(f + 14, 20, NH_PEER, NH_US, IP_PROTO_TCP, 1, 64, n);
        eth_build(f, 14, nh_us_mac, nh_peer_mac, ETHERTYPE_IPV4);
        nh_input(&h, f, 34 + n);
    }
    cr_assert_eq(conn(c.h)->dupacks, 3);
    cr_assert(conn(c.h)->in_recovery);
    struct nh_seg s;
    bool resent = false;
    while (nh_pop_seg(&h, &s))
        resent |= s.seq == una;
    cr_assert(resent, "fast retransmit");
    /* Without new SACK information a changed window is no duplicate: no
     * inflation. */
    uint32_t cwnd = conn(c.h)->cwnd;
    peer_ack(&c, una, 20000);
    cr_assert_eq(conn(c.h)->cwnd, cwnd);
}

/* Found by net-interop (a connection stalled for good in both directions):
 * the last segment in flight went out while we held the peer's data out of
 * order, 12 bytes shorter for the SACK block on it. The gap filled, and the
 * partial ACK's retransmission, cut afresh without SACK blocks, took 12
 * bytes past snd_max. The peer acknowledged them; that ACK (and every later
 * one, with all the peer's data) was dropped as acknowledging data never
 * sent. */
Test(tcp_newreno, retransmission_never_reaches_past_what_was_sent)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = sack_passive();
    struct tcp_conn *t = conn(c.h);
    /* The peer's data arrives with a 100-byte gap: our ACKs carry a SACK
     * block, and our segments 988 bytes instead of 1000. */
    struct nh_seg d = nh_cseg(&c, TCP_ACK, data, 100);
    d.seq += 100;
    nh_send(&h, &d);
    drain(NULL);
    uint32_t una = c.our_nxt;
    tcp_write(&h.st, c.h, data, 4000, h.now);
    struct nh_seg s;
    for (int i = 0; i < 4; i++) {
        cr_assert(nh_pop_seg(&h, &s));
        cr_assert_eq(s.nsack, 1);
        cr_assert_eq(s.len, 988);
    }
    cr_assert_eq(nh_pending(&h), 0, "cwnd holds the last 48 bytes");
    cr_assert_eq(t->snd_max, una + 4 * 988);
    /* The gap fills: no more SACK blocks. */
    nh_csend(&h, &c, data, 100);
    c.pseq += 100;
    drain(NULL);
    cr_assert_eq(t->ooo_n, 0);
    /* The first and last segments were lost: fast retransmit of the first,
     * then a partial ACK up to the last, which is resent. */
    for (int i = 0; i < 3; i++)
        peer_ack(&c, una, 65535);
    cr_assert(t->in_recovery);
    drain(NULL);
    peer_ack(&c, una + 3 * 988, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, una + 3 * 988);
    cr_assert_eq(s.nsack, 0);
    cr_assert_leq(s.seq + (uint32_t)s.len, t->snd_max, "retransmission past snd_max: %u > %u",
                  s.seq + (uint32_t)s.len, t->snd_max);
    cr_assert_eq(s.len, 988);
    drain(NULL);
    /* The peer acknowledges all it has: the ACK counts, recovery ends and
     * the rest follows. */
    peer_ack(&c, s.seq + (uint32_t)s.len, 65535);
    cr_assert_eq(t->snd_una, una + 4 * 988);
    cr_assert_not(t->in_recovery);
    cr_assert_eq(h.st.ctr.tcp_challenge_acks, 0);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, una + 4 * 988);
    cr_assert_eq(s.len, 48);
}

Test(tcp_cwnd, slow_start_then_avoidance)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1000, -1);
    struct tcp_conn *t = conn(c.h);
    t->ssthresh = 6000;
    static uint8_t big[NH_BUF];
    tcp_write(&h.st, c.h, big, 6000, h.now);
    uint32_t acked = c.our_nxt;
    drain(NULL);
    /* An ACK of two segments still grows cwnd by one (RFC 5681 3.1: at
     * most SMSS per ACK). */
    peer_ack(&c, acked += 2000, 65535);
    cr_assert_eq(t->cwnd, 5000);
    peer_ack(&c, acked += 1000, 65535);
    cr_assert_eq(t->cwnd, 6000);
    peer_ack(&c, acked += 1000, 65535);
    cr_assert_eq(t->cwnd, 6000 + 1000 * 1000 / 6000, "one segment per window");
}

/* ---- Zero window ---- */

Test(tcp_persist, probes_back_off_and_resume)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = nh_passive(&h, 1000, -1);
    /* The peer's window closes. */
    peer_ack(&c, c.our_nxt, 0);
    tcp_write(&h.st, c.h, data, 3000, h.now);
    cr_assert_eq(nh_pending(&h), 0, "nothing fits a zero window");
    cr_assert(conn(c.h)->persisting);
    cr_assert_eq(conn(c.h)->t_rexmit, NET_NEVER);
    uint64_t wait = conn(c.h)->t_persist - h.now;
    cr_assert_eq(wait, 1000);
    struct nh_seg s;
    for (int i = 0; i < 3; i++) {
        nh_advance(&h, wait);
        cr_assert(nh_pop_seg(&h, &s), "probe %d", i);
        cr_assert_eq(s.seq, c.our_nxt);
        cr_assert_eq(s.len, 1, "a one-byte probe");
        cr_assert_eq(s.data[0], data[0]);
        /* Still closed: the byte is not accepted. */
        peer_ack(&c, c.our_nxt, 0);
        uint64_t next = conn(c.h)->t_persist - h.now;
        cr_assert_eq(next, wait * 2, "probe interval doubles");
        wait = next;
    }
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_ESTABLISHED, "probing never gives up");
    cr_assert_eq(h.st.ctr.tcp_probes, 3);
    /* The window opens: data flows, probing stops. */
    peer_ack(&c, c.our_nxt, 65535);
    cr_assert_not(conn(c.h)->persisting);
    cr_assert_eq(conn(c.h)->t_persist, NET_NEVER);
    size_t total = 0;
    while (nh_pop_seg(&h, &s))
        total += s.len;
    /* The probe byte is in flight; two full segments follow and Nagle
     * holds the 999-byte tail until they are acknowledged. */
    cr_assert_eq(total, 2000, "got %zu", total);
    peer_ack(&c, c.our_nxt + 2001, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, c.our_nxt + 2001);
    cr_assert_eq(s.len, 999);
}

Test(tcp_persist, probe_accepted_by_reopened_window)
{
    nh_init(&h, 0);
    fill();
    struct nh_conn c = nh_passive(&h, 1000, -1);
    peer_ack(&c, c.our_nxt, 0);
    tcp_write(&h.st, c.h, data, 10, h.now);
    nh_advance(&h, 1000);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    /* The peer took the probe byte and reopened. */
    peer_ack(&c, c.our_nxt + 1, 65535);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.seq, c.our_nxt + 1);
    cr_assert_eq(s.len, 9);
    cr_assert_arr_eq(s.data, data + 1, 9);
}

Test(tcp_persist, we_answer_probes_into_our_zero_window)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    static uint8_t chunk[NH_BUF];
    for (size_t off = 0; off < NH_BUF; off += 1024)
        nh_csend(&h, &c, chunk, 1024);
    drain(NULL);
    /* A probe byte into our closed window: refused, answered at once. */
    struct nh_seg p = nh_cseg(&c, TCP_ACK, "p", 1);
    nh_send(&h, &p);
    struct nh_seg a;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, c.pseq);
    cr_assert_eq(a.wnd, 0);
    cr_assert_eq(tcp_readable(&h.st, c.h), NH_BUF);
}

Test(tcp_persist, zero_window_still_takes_acks)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    static uint8_t chunk[NH_BUF];
    for (size_t off = 0; off < NH_BUF; off += 1024)
        nh_csend(&h, &c, chunk, 1024);
    tcp_write(&h.st, c.h, "out", 3, h.now);
    drain(NULL);
    /* The peer's probe carries an ACK of our data: it counts. */
    struct nh_seg p = nh_cseg(&c, TCP_ACK, "p", 1);
    p.ack = c.our_nxt + 3;
    nh_send(&h, &p);
    cr_assert_eq(conn(c.h)->snd_una, c.our_nxt + 3);
    cr_assert_eq(conn(c.h)->t_rexmit, NET_NEVER);
}
