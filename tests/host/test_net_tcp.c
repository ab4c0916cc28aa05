/*
 * TCP with a scripted peer: opening (passive, active, simultaneous),
 * options, backlog and ISNs; data in and out of order, windows and
 * delayed ACKs. Closing is in test_net_tcp_close.c. Every test drives one stack
 * with segments built field by field and a fake clock, and checks the
 * exact segments it answers with.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_internal.h"
#include "net_harness.h"

static struct nh h;

static struct tcp_conn *conn(int hd)
{
    return &h.st.conns[hd];
}

/* ---- Opening ---- */

Test(tcp_open, passive_with_options)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    syn.mss = 1000;
    syn.ws = 3;
    nh_send(&h, &syn);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(&h, &sa));
    cr_assert_eq(sa.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(sa.ack, 8);
    cr_assert_eq(sa.mss, 1460);
    cr_assert_eq(sa.ws, 0, "8 KiB buffer needs no shift, but the option is answered");
    cr_assert_eq(sa.wnd, NH_BUF);
    cr_assert_eq(tcp_accept(&h.st, l), NET_EAGAIN, "not before the handshake completes");
    struct nh_seg ack = nh_seg(NH_PEER_PORT, NH_PORT, 8, sa.seq + 1, TCP_ACK, 100);
    nh_send(&h, &ack);
    int c = tcp_accept(&h.st, l);
    cr_assert_geq(c, 0);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_ESTABLISHED);
    cr_assert_eq(conn(c)->smss, 1000);
    cr_assert_eq(conn(c)->snd_ws, 3);
    cr_assert_eq(conn(c)->snd_wnd, 800, "window scaled by 2^3 after the SYN");
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_open, passive_without_options)
{
    nh_init(&h, 0);
    tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(&h, &sa));
    cr_assert_eq(sa.ws, -1, "no window scale unless the peer offered it");
    cr_assert_eq(sa.mss, 1460);
    struct nh_seg ack = nh_seg(NH_PEER_PORT, NH_PORT, 8, sa.seq + 1, TCP_ACK, 100);
    nh_send(&h, &ack);
    int c = tcp_accept(&h.st, 0);
    cr_assert_eq(conn(c)->smss, TCP_DEFAULT_MSS, "536 without an MSS option");
    cr_assert_eq(conn(c)->snd_wnd, 100);
}

Test(tcp_open, active)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_active(&h, 1200, 2);
    cr_assert_eq(conn(c.h)->smss, 1200);
    cr_assert_eq(conn(c.h)->snd_ws, 2);
    cr_assert_eq(conn(c.h)->cwnd, 3 * 1200, "RFC 5681 initial window");
    cr_assert(conn(c.h)->rtt_valid, "the SYN was timed");
}

Test(tcp_open, active_syn_carries_options)
{
    nh_init(&h, 0);
    tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn;
    cr_assert(nh_pop_seg(&h, &syn));
    cr_assert_eq(syn.flags, TCP_SYN);
    cr_assert_eq(syn.mss, 1460);
    cr_assert_eq(syn.ws, 0);
    cr_assert(syn.sack_ok);
    cr_assert_geq(syn.sport, 49152);
}

Test(tcp_open, simultaneous)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn;
    cr_assert(nh_pop_seg(&h, &syn));
    /* The peer's SYN crosses ours. */
    struct nh_seg psyn = nh_seg(NH_PEER_PORT, syn.sport, 500, 0, TCP_SYN, 65535);
    psyn.mss = 1460;
    nh_send(&h, &psyn);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_RECEIVED);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(&h, &sa));
    cr_assert_eq(sa.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(sa.seq, syn.seq, "same ISS");
    cr_assert_eq(sa.ack, 501);
    /* The peer's SYN-ACK for our SYN. */
    struct nh_seg psa = nh_seg(NH_PEER_PORT, syn.sport, 500, syn.seq + 1, TCP_SYN | TCP_ACK, 65535);
    nh_send(&h, &psa);
    /* A SYN-ACK is a SYN at 500 again: acknowledged and challenged, or it
     * completes the handshake via its ACK; either way ESTABLISHED follows
     * from the peer's pure ACK. */
    struct nh_seg pack = nh_seg(NH_PEER_PORT, syn.sport, 501, syn.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &pack);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_ESTABLISHED);
    nh_clear(&h);
    cr_assert_eq(tcp_write(&h.st, c, "x", 1, h.now), 1);
    struct nh_seg d;
    cr_assert(nh_pop_seg(&h, &d));
    cr_assert_eq(d.seq, syn.seq + 1);
    cr_assert_eq(d.ack, 501);
}

Test(tcp_open, syn_sent_bad_ack_gets_rst)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn;
    nh_pop_seg(&h, &syn);
    struct nh_seg bad = nh_seg(NH_PEER_PORT, syn.sport, 9, syn.seq + 77, TCP_SYN | TCP_ACK, 100);
    nh_send(&h, &bad);
    struct nh_seg r;
    cr_assert(nh_pop_seg(&h, &r));
    cr_assert_eq(r.flags, TCP_RST);
    cr_assert_eq(r.seq, syn.seq + 77);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_SENT);
}

Test(tcp_open, syn_sent_rst)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn;
    nh_pop_seg(&h, &syn);
    /* Without ACK: ignored (RFC 9293 3.10.7.3). */
    struct nh_seg r1 = nh_seg(NH_PEER_PORT, syn.sport, 0, 0, TCP_RST, 0);
    nh_send(&h, &r1);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_SENT);
    /* Acknowledging our SYN: connection refused. */
    struct nh_seg r2 = nh_seg(NH_PEER_PORT, syn.sport, 0, syn.seq + 1, TCP_RST | TCP_ACK, 0);
    nh_send(&h, &r2);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_CLOSED);
    cr_assert_eq(tcp_get_error(&h.st, c), NET_ECONNREFUSED);
    char b[4];
    cr_assert_eq(tcp_read(&h.st, c, b, 4, h.now), NET_ECONNREFUSED);
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_open, syn_retransmission_and_timeout)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn, again;
    nh_pop_seg(&h, &syn);
    uint64_t wait = 1000;
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(conn(c)->t_rexmit, h.now + wait);
        nh_advance(&h, wait - 1);
        cr_assert_eq(nh_pending(&h), 0, "not before the RTO");
        nh_advance(&h, 1);
        cr_assert(nh_pop_seg(&h, &again), "retransmission %d", i);
        cr_assert_eq(again.flags, TCP_SYN);
        cr_assert_eq(again.seq, syn.seq);
        wait *= 2;
    }
    nh_advance(&h, wait);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_CLOSED);
    cr_assert_eq(tcp_get_error(&h.st, c), NET_ETIMEDOUT);
}

Test(tcp_open, lost_synack_is_repeated)
{
    nh_init(&h, 0);
    tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    struct nh_seg sa, sa2;
    nh_pop_seg(&h, &sa);
    nh_send(&h, &syn);
    cr_assert(nh_pop_seg(&h, &sa2));
    cr_assert_eq(sa2.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(sa2.seq, sa.seq);
    /* And on its own after the RTO. */
    nh_advance(&h, 1000);
    cr_assert(nh_pop_seg(&h, &sa2));
    cr_assert_eq(sa2.flags, TCP_SYN | TCP_ACK);
}

Test(tcp_open, syn_received_bad_ack_gets_rst)
{
    nh_init(&h, 0);
    tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    struct nh_seg sa, r;
    nh_pop_seg(&h, &sa);
    /* ACK of our ISS itself (not of the SYN): not acceptable. */
    struct nh_seg bad = nh_seg(NH_PEER_PORT, NH_PORT, 8, sa.seq, TCP_ACK, 100);
    nh_send(&h, &bad);
    cr_assert(nh_pop_seg(&h, &r));
    cr_assert_eq(r.flags, TCP_RST);
    cr_assert_eq(r.seq, sa.seq);
}

Test(tcp_open, closed_port_resets)
{
    nh_init(&h, 0);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, 81, 7, 0, TCP_SYN, 65535);
    syn.len = 3;
    nh_send(&h, &syn);
    struct nh_seg r;
    cr_assert(nh_pop_seg(&h, &r));
    cr_assert_eq(r.flags, TCP_RST | TCP_ACK);
    cr_assert_eq(r.seq, 0);
    cr_assert_eq(r.ack, 7 + 3 + 1, "SYN and data counted");
    struct nh_seg ack = nh_seg(NH_PEER_PORT, 81, 7, 12345, TCP_ACK, 65535);
    nh_send(&h, &ack);
    cr_assert(nh_pop_seg(&h, &r));
    cr_assert_eq(r.flags, TCP_RST);
    cr_assert_eq(r.seq, 12345);
    struct nh_seg rst = nh_seg(NH_PEER_PORT, 81, 7, 0, TCP_RST, 0);
    nh_send(&h, &rst);
    cr_assert_eq(nh_pending(&h), 0, "never a RST for a RST");
    cr_assert_eq(h.st.ctr.tcp_no_conn, 3);
}

Test(tcp_open, listener_answers_ack_with_rst)
{
    nh_init(&h, 0);
    tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg ack = nh_seg(NH_PEER_PORT, NH_PORT, 7, 999, TCP_ACK, 65535);
    nh_send(&h, &ack);
    struct nh_seg r;
    cr_assert(nh_pop_seg(&h, &r));
    cr_assert_eq(r.flags, TCP_RST);
    cr_assert_eq(r.seq, 999);
    struct nh_seg rst = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_RST, 0);
    nh_send(&h, &rst);
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_open, backlog_bounds_children)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 2);
    struct nh_seg sa, sa0;
    struct nh_seg syn0 = nh_seg(6000, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn0);
    cr_assert(nh_pop_seg(&h, &sa0));
    struct nh_seg syn1 = nh_seg(6001, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn1);
    cr_assert(nh_pop_seg(&h, &sa));
    struct nh_seg ack0 = nh_seg(6000, NH_PORT, 8, sa0.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack0);
    /* Full: a third SYN evicts the half-open 6001, never the established
     * 6000; a fourth evicts the third. Nothing is sent for them. */
    for (uint16_t p = 6002; p <= 6003; p++) {
        struct nh_seg syn = nh_seg(p, NH_PORT, 7, 0, TCP_SYN, 65535);
        nh_send(&h, &syn);
        cr_assert(nh_pop_seg(&h, &sa));
        cr_assert_eq(sa.dport, p);
        cr_assert_eq(sa.flags, TCP_SYN | TCP_ACK);
        cr_assert_eq(nh_pending(&h), 0);
    }
    cr_assert_eq(h.st.ctr.tcp_syn_evicted, 2);
    int c = tcp_accept(&h.st, l);
    cr_assert_geq(c, 0);
    cr_assert_eq(h.st.conns[c].rport, 6000, "the established child survived");
    /* Completing 6003 and one more leaves two established children: with
     * no half-open one to evict, a further SYN is dropped. */
    struct nh_seg ack3 = nh_seg(6003, NH_PORT, 8, sa.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack3);
    struct nh_seg syn4 = nh_seg(6004, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn4);
    cr_assert(nh_pop_seg(&h, &sa));
    struct nh_seg ack4 = nh_seg(6004, NH_PORT, 8, sa.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack4);
    struct nh_seg syn5 = nh_seg(6005, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn5);
    cr_assert_eq(nh_pending(&h), 0, "the SYN is dropped");
    cr_assert_eq(h.st.ctr.tcp_backlog_drops, 1);
    cr_assert_eq(h.st.ctr.tcp_syn_evicted, 2);
}

Test(tcp_open, syn_flood_leaves_room_for_a_real_client)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    /* 1,000 SYNs nobody will complete, from as many ports. */
    for (unsigned i = 0; i < 1000; i++) {
        struct nh_seg syn = nh_seg((uint16_t)(10000 + i), NH_PORT, 7, 0, TCP_SYN, 65535);
        nh_send(&h, &syn);
        nh_clear(&h);
    }
    unsigned used = 0;
    for (size_t i = 0; i < h.st.nconns; i++)
        used += h.st.conns[i].state != TCP_CLOSED;
    cr_assert_eq(used, 1 + 4, "the listener and a full backlog, nothing more");
    /* A real client still gets through. */
    struct nh_seg syn = nh_seg(5555, NH_PORT, 7, 0, TCP_SYN, 65535), sa;
    nh_send(&h, &syn);
    cr_assert(nh_pop_seg(&h, &sa));
    struct nh_seg ack = nh_seg(5555, NH_PORT, 8, sa.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack);
    int c = tcp_accept(&h.st, l);
    cr_assert_geq(c, 0);
    cr_assert_eq(h.st.conns[c].rport, 5555);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_ESTABLISHED);
}

/* netstack shares the pool among listeners by moving their backlogs. */
Test(tcp_open, backlog_changes_and_slot_users)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    cr_assert_eq(tcp_set_backlog(&h.st, l, 1), 0);
    cr_assert_eq(tcp_slot_user(&h.st, l), l, "a listener is its own user");
    struct nh_seg syn0 = nh_seg(6000, NH_PORT, 7, 0, TCP_SYN, 65535), sa;
    nh_send(&h, &syn0);
    cr_assert(nh_pop_seg(&h, &sa));
    struct nh_seg ack0 = nh_seg(6000, NH_PORT, 8, sa.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack0);
    struct nh_seg syn1 = nh_seg(6001, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn1);
    cr_assert_eq(nh_pending(&h), 0, "over the lowered backlog, nothing to evict: dropped");
    int child = -1, users = 0;
    for (int i = 0; i < (int)h.st.nconns; i++) {
        if (i != l && tcp_slot_user(&h.st, i) == l)
            child = i;
        users += tcp_slot_user(&h.st, i) >= 0;
    }
    cr_assert_geq(child, 0, "the pending child is counted for its listener");
    cr_assert_eq(users, 2, "every other slot is free");
    cr_assert_eq(tcp_set_backlog(&h.st, l, 0), 0);
    struct nh_seg syn2 = nh_seg(6002, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn2);
    cr_assert_eq(nh_pending(&h), 0, "backlog 0: no new child");
    cr_assert_eq(tcp_set_backlog(&h.st, l, 2), 0);
    nh_send(&h, &syn2);
    cr_assert(nh_pop_seg(&h, &sa), "raised again: a child");
    cr_assert_eq(sa.dport, 6002);
    cr_assert_eq(tcp_set_backlog(&h.st, child, 3), NET_EBADF, "not a listener");
    cr_assert_eq(tcp_slot_user(&h.st, -1), NET_EBADF);
    cr_assert_eq(tcp_slot_user(&h.st, (int)h.st.nconns), NET_EBADF);
}

Test(tcp_open, accept_is_fifo)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    uint32_t iss[2];
    for (int i = 0; i < 2; i++) {
        struct nh_seg syn = nh_seg((uint16_t)(6000 + i), NH_PORT, 7, 0, TCP_SYN, 65535);
        nh_send(&h, &syn);
        struct nh_seg sa;
        nh_pop_seg(&h, &sa);
        iss[i] = sa.seq;
    }
    /* The second completes first. */
    for (int i = 1; i >= 0; i--) {
        struct nh_seg ack = nh_seg((uint16_t)(6000 + i), NH_PORT, 8, iss[i] + 1, TCP_ACK, 100);
        nh_send(&h, &ack);
    }
    int a = tcp_accept(&h.st, l), b = tcp_accept(&h.st, l);
    cr_assert_eq(conn(a)->rport, 6001);
    cr_assert_eq(conn(b)->rport, 6000);
    cr_assert_eq(tcp_accept(&h.st, l), NET_EAGAIN);
}

Test(tcp_open, listen_twice_and_pool_exhaustion)
{
    nh_init(&h, 0);
    cr_assert_geq(tcp_listen(&h.st, NH_PORT, 4), 0);
    cr_assert_eq(tcp_listen(&h.st, NH_PORT, 4), NET_EADDRINUSE);
    for (int i = 1; i < NH_CONNS; i++)
        cr_assert_geq(tcp_listen(&h.st, (uint16_t)(100 + i), 1), 0);
    cr_assert_eq(tcp_connect(&h.st, NH_PEER, 1, h.now), NET_ENOMEM);
    cr_assert_eq(tcp_listen(&h.st, 999, 1), NET_ENOMEM);
}

Test(tcp_open, isn_per_rfc6528)
{
    nh_init(&h, 0);
    struct tcp_conn a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    tcp_setup(&h.st, &a, NH_US, 1000, NH_PEER, 80, 5000);
    tcp_setup(&h.st, &b, NH_US, 1001, NH_PEER, 80, 5000);
    cr_assert_neq(a.iss, b.iss, "the 4-tuple changes the offset");
    uint32_t first = a.iss;
    tcp_setup(&h.st, &a, NH_US, 1000, NH_PEER, 80, 5004);
    cr_assert_eq(a.iss - first, 1000, "4 microsecond clock: 250 per ms");
    h.st.cfg.isn_secret[0] ^= 1;
    tcp_setup(&h.st, &a, NH_US, 1000, NH_PEER, 80, 5004);
    cr_assert_neq(a.iss - first, 1000, "the secret changes the offset");
}

/* ---- Data ---- */

Test(tcp_data, delayed_ack_and_every_second_segment)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    char buf[2000];
    memset(buf, 'a', sizeof(buf));
    nh_csend(&h, &c, buf, 1000);
    cr_assert_eq(nh_pending(&h), 0, "first segment: ACK delayed");
    cr_assert_eq(net_next_deadline(&h.st), h.now + 100);
    nh_advance(&h, 100);
    struct nh_seg a;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, c.pseq);
    cr_assert_eq(a.wnd, NH_BUF - 1000);
    nh_csend(&h, &c, buf, 500);
    cr_assert_eq(nh_pending(&h), 0);
    nh_csend(&h, &c, buf, 500);
    cr_assert(nh_pop_seg(&h, &a), "second segment: ACK at once");
    cr_assert_eq(a.ack, c.pseq);
    cr_assert_eq(tcp_read(&h.st, c.h, buf, sizeof(buf), h.now), 2000);
}

Test(tcp_data, out_of_order_duplicates_and_overlaps)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    uint8_t msg[600];
    for (int i = 0; i < 600; i++)
        msg[i] = (uint8_t)(i * 7);
    uint32_t base = c.pseq;
    struct nh_seg s, a;
    /* [400, 600) first: a gap, so an immediate duplicate ACK. */
    c.pseq = base + 400;
    s = nh_cseg(&c, TCP_ACK, msg + 400, 200);
    nh_send(&h, &s);
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, base);
    /* [100, 300) and an overlapping [250, 450): two ranges merge. */
    c.pseq = base + 100;
    s = nh_cseg(&c, TCP_ACK, msg + 100, 200);
    nh_send(&h, &s);
    c.pseq = base + 250;
    s = nh_cseg(&c, TCP_ACK, msg + 250, 200);
    nh_send(&h, &s);
    cr_assert_eq(conn(c.h)->ooo_n, 1);
    cr_assert_eq(conn(c.h)->ooo[0].start, base + 100);
    cr_assert_eq(conn(c.h)->ooo[0].end, base + 600);
    nh_clear(&h);
    cr_assert_eq(tcp_readable(&h.st, c.h), 0);
    /* [0, 150) fills the hole and overlaps what is held. */
    c.pseq = base;
    s = nh_cseg(&c, TCP_ACK, msg, 150);
    nh_send(&h, &s);
    cr_assert(nh_pop_seg(&h, &a), "filling a hole is acknowledged at once");
    cr_assert_eq(a.ack, base + 600);
    /* A duplicate of old data: ACK again, nothing delivered twice. */
    s = nh_cseg(&c, TCP_ACK, msg, 150);
    nh_send(&h, &s);
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, base + 600);
    uint8_t out[700];
    cr_assert_eq(tcp_read(&h.st, c.h, out, sizeof(out), h.now), 600);
    cr_assert_arr_eq(out, msg, 600);
    cr_assert_eq(tcp_read(&h.st, c.h, out, sizeof(out), h.now), NET_EAGAIN);
}

Test(tcp_data, sack_blocks_when_negotiated)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 99, 0, TCP_SYN, 65535);
    syn.mss = 1460;
    syn.sack_ok = true;
    nh_send(&h, &syn);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(&h, &sa));
    cr_assert(sa.sack_ok, "SACK-permitted answered");
    struct nh_conn c = {0};
    c.lport = NH_PORT;
    c.rport = NH_PEER_PORT;
    c.pseq = 100;
    c.our_nxt = sa.seq + 1;
    nh_csend(&h, &c, NULL, 0);
    c.h = tcp_accept(&h.st, l);
    cr_assert(conn(c.h)->sack_ok);
    /* Two holes: blocks [110,120) and then [130,140), the latest first. */
    static uint8_t d[1460];
    c.pseq = 110;
    nh_csend(&h, &c, d, 10);
    c.pseq = 130;
    nh_csend(&h, &c, d, 10);
    struct nh_seg a = {0};
    while (nh_pop_seg(&h, &a))
        ;
    cr_assert_eq(a.ack, 100);
    cr_assert_eq(a.nsack, 2);
    cr_assert_eq(a.sack[0][0], 130);
    cr_assert_eq(a.sack[0][1], 140);
    cr_assert_eq(a.sack[1][0], 110);
    cr_assert_eq(a.sack[1][1], 120);
    /* A data segment carrying the blocks shrinks to fit the MTU. */
    tcp_write(&h.st, c.h, d, sizeof(d), h.now);
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.nsack, 2);
    cr_assert_eq(a.len, 1460 - 4 - 16);
    /* Holes filled: no blocks. */
    c.pseq = 100;
    c.our_nxt = a.seq + (uint32_t)a.len;
    nh_csend(&h, &c, d, 40);
    while (nh_pop_seg(&h, &a))
        ;
    cr_assert_eq(a.ack, 140);
    cr_assert_eq(a.nsack, 0);
}

Test(tcp_data, no_sack_blocks_unless_negotiated)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    cr_assert_not(conn(c.h)->sack_ok);
    uint32_t base = c.pseq;
    c.pseq = base + 10;
    nh_csend(&h, &c, "x", 1);
    struct nh_seg a;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, base);
    cr_assert_eq(a.nsack, 0);
}

Test(tcp_data, partly_old_segment_is_trimmed)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    nh_csend(&h, &c, "abcd", 4);
    c.pseq -= 2;
    nh_csend(&h, &c, "cdef", 4);
    char out[8];
    cr_assert_eq(tcp_read(&h.st, c.h, out, sizeof(out), h.now), 6);
    cr_assert_arr_eq(out, "abcdef", 6);
}

Test(tcp_data, out_of_order_table_is_bounded)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    uint32_t base = c.pseq;
    for (int i = 0; i <= TCP_OOO_MAX; i++) {
        c.pseq = base + 10 + (uint32_t)i * 20;
        struct nh_seg s = nh_cseg(&c, TCP_ACK, "0123456789", 10);
        nh_send(&h, &s);
    }
    cr_assert_eq(conn(c.h)->ooo_n, TCP_OOO_MAX);
    cr_assert_eq(h.st.ctr.tcp_ooo_drops, 1);
    /* The first hole filled: the first range joins. */
    c.pseq = base;
    struct nh_seg s = nh_cseg(&c, TCP_ACK, "0123456789", 10);
    nh_send(&h, &s);
    cr_assert_eq(tcp_readable(&h.st, c.h), 20);
}

Test(tcp_data, window_closes_and_reopens)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    uint8_t chunk[1000];
    memset(chunk, 1, sizeof(chunk));
    for (int i = 0; i < 8; i++)
        nh_csend(&h, &c, chunk, 1000);
    nh_csend(&h, &c, chunk, 192);
    nh_advance(&h, 100); /* an odd segment count: the last ACK was delayed */
    struct nh_seg a = {0};
    while (nh_pop_seg(&h, &a))
        ;
    cr_assert_eq(a.ack, c.pseq);
    cr_assert_eq(a.wnd, 0, "buffer full");
    /* Beyond the window: not accepted, ACKed. */
    nh_csend(&h, &c, chunk, 10);
    c.pseq -= 10;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, c.pseq);
    cr_assert_eq(tcp_readable(&h.st, c.h), NH_BUF);
    /* Reading a little: no update (receiver SWS avoidance), and a probe
     * is still answered with a zero window. */
    uint8_t out[NH_BUF];
    tcp_read(&h.st, c.h, out, 100, h.now);
    cr_assert_eq(nh_pending(&h), 0);
    nh_csend(&h, &c, chunk, 1);
    c.pseq -= 1;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.wnd, 0, "100 bytes free is less than min(buffer / 2, MSS)");
    /* Reading a lot: a window update. */
    tcp_read(&h.st, c.h, out, 4000, h.now);
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.wnd, 4100);
}

Test(tcp_data, data_beyond_window_is_cut_with_its_fin)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    static uint8_t chunk[NH_BUF];
    for (int i = 0; i < 7; i++)
        nh_csend(&h, &c, chunk, 1000);
    nh_advance(&h, 100);
    nh_clear(&h);
    /* 1192 bytes of window left: 1400 bytes and a FIN arrive. */
    struct nh_seg s = nh_cseg(&c, TCP_ACK | TCP_FIN, chunk, 1400);
    nh_send(&h, &s);
    struct nh_seg a = {0};
    nh_advance(&h, 100);
    while (nh_pop_seg(&h, &a))
        ;
    cr_assert_eq(a.ack, c.pseq + 1192, "what fits, and not the FIN");
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_ESTABLISHED);
}

Test(tcp_data, old_segment_does_not_move_the_window)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1000, -1);
    /* The peer sent A (3 bytes, window 100) then B (window 5000); B
     * arrives first. A's window is older and must not win (RFC 9293
     * 3.10.7.4, the SND.WL1/WL2 rule). */
    struct nh_seg b = nh_cseg(&c, TCP_ACK, "def", 3);
    b.seq = c.pseq + 3;
    b.wnd = 5000;
    nh_send(&h, &b);
    cr_assert_eq(conn(c.h)->snd_wnd, 5000);
    struct nh_seg a = nh_cseg(&c, TCP_ACK, "abc", 3);
    a.wnd = 100;
    nh_send(&h, &a);
    cr_assert_eq(conn(c.h)->snd_wnd, 5000);
    cr_assert_eq(tcp_readable(&h.st, c.h), 6);
}

Test(tcp_data, send_respects_peer_window_and_mss)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 500, -1);
    uint8_t d[3000];
    memset(d, 3, sizeof(d));
    cr_assert_eq(tcp_write(&h.st, c.h, d, sizeof(d), h.now), 3000);
    struct nh_seg s;
    size_t total = 0;
    while (nh_pop_seg(&h, &s)) {
        cr_assert_leq(s.len, 500);
        total += s.len;
    }
    cr_assert_eq(total, 2000, "initial window 4 * 500");
}

Test(tcp_data, write_back_pressure)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    static uint8_t d[3 * NH_BUF];
    cr_assert_eq(tcp_write(&h.st, c.h, d, sizeof(d), h.now), NH_BUF);
    cr_assert_eq(tcp_write(&h.st, c.h, d, 1, h.now), NET_EAGAIN);
    cr_assert_eq(tcp_writable(&h.st, c.h), 0);
    struct nh_seg s, last = {0};
    while (nh_pop_seg(&h, &s))
        last = s;
    c.our_nxt = last.seq + (uint32_t)last.len;
    nh_csend(&h, &c, NULL, 0);
    cr_assert_gt(tcp_writable(&h.st, c.h), 0);
}

Test(tcp_data, nagle_holds_small_segments)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    struct nh_seg s;
    tcp_write(&h.st, c.h, "a", 1, h.now);
    cr_assert(nh_pop_seg(&h, &s), "nothing in flight: sent");
    tcp_write(&h.st, c.h, "b", 1, h.now);
    cr_assert_eq(nh_pending(&h), 0, "one small segment in flight: held");
    c.our_nxt = s.seq + 1;
    nh_csend(&h, &c, NULL, 0);
    cr_assert(nh_pop_seg(&h, &s), "released by the ACK");
    cr_assert_eq(s.data[0], 'b');
    tcp_set_nodelay(&h.st, c.h, true);
    tcp_write(&h.st, c.h, "c", 1, h.now);
    cr_assert(nh_pop_seg(&h, &s), "nodelay");
}
