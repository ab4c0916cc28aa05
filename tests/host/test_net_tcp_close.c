/*
 * TCP closing with a scripted peer: active, passive and simultaneous
 * close, FIN ordering, TIME_WAIT expiry, restart, bounds and reuse, and
 * the ways an application ends a connection (close with unread data,
 * abort, closing a listener, orphans).
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

/* ---- Closing ---- */

Test(tcp_close, active_close_and_time_wait)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_write(&h.st, c.h, "hi", 2, h.now);  /* sent: nothing in flight */
    tcp_write(&h.st, c.h, "bye", 3, h.now); /* held by Nagle */
    tcp_shutdown(&h.st, c.h, h.now);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_FIN_WAIT_1);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.len, 2);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK | TCP_PSH | TCP_FIN, "FIN rides on the last data");
    cr_assert_eq(s.len, 3);
    cr_assert_eq(tcp_write(&h.st, c.h, "x", 1, h.now), NET_EPIPE);
    c.our_nxt = s.seq + 4;
    nh_csend(&h, &c, NULL, 0);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_FIN_WAIT_2);
    nh_csend(&h, &c, "ok", 2); /* half-closed: we still receive */
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.ack, c.pseq + 1);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_TIME_WAIT);
    char b[4];
    cr_assert_eq(tcp_read(&h.st, c.h, b, 4, h.now), 2);
    cr_assert_eq(tcp_read(&h.st, c.h, b, 4, h.now), 0, "end of stream");
    tcp_close(&h.st, c.h, h.now);
    cr_assert_eq(h.st.conns[c.h].t_2msl, h.now + 60000, "2 MSL");
    nh_advance(&h, 59999);
    cr_assert_eq(h.st.conns[c.h].state, TCP_TIME_WAIT);
    nh_advance(&h, 1);
    cr_assert_eq(h.st.conns[c.h].state, TCP_CLOSED);
    cr_assert_eq(tcp_get_state(&h.st, c.h), -1, "handle released");
    cr_assert_eq(net_next_deadline(&h.st), NET_NEVER);
}

Test(tcp_close, passive_close)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, "end", 3);
    nh_send(&h, &fin);
    c.pseq += 4;
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_CLOSE_WAIT);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s), "FIN is ACKed at once");
    cr_assert_eq(s.ack, c.pseq);
    char b[8];
    cr_assert_eq(tcp_read(&h.st, c.h, b, 8, h.now), 3);
    cr_assert_eq(tcp_read(&h.st, c.h, b, 8, h.now), 0);
    cr_assert_eq(tcp_write(&h.st, c.h, "reply", 5, h.now), 5, "CLOSE_WAIT can still send");
    cr_assert(nh_pop_seg(&h, &s));
    tcp_close(&h.st, c.h, h.now);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK | TCP_FIN);
    cr_assert_eq(h.st.conns[c.h].state, TCP_LAST_ACK);
    c.our_nxt = s.seq + 1;
    nh_csend(&h, &c, NULL, 0);
    cr_assert_eq(h.st.conns[c.h].state, TCP_CLOSED);
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_close, simultaneous_close)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_shutdown(&h.st, c.h, h.now);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert(s.flags & TCP_FIN);
    /* The peer's FIN crosses ours (it does not acknowledge ours). */
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    c.pseq++;
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_CLOSING);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.ack, c.pseq);
    c.our_nxt++;
    nh_csend(&h, &c, NULL, 0);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_TIME_WAIT);
}

Test(tcp_close, fin_out_of_order)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    uint32_t base = c.pseq;
    c.pseq = base + 3;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, "def", 3);
    nh_send(&h, &fin);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_ESTABLISHED, "FIN after a gap waits");
    c.pseq = base;
    nh_csend(&h, &c, "abc", 3);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_CLOSE_WAIT);
    struct nh_seg a = {0};
    while (nh_pop_seg(&h, &a))
        ;
    cr_assert_eq(a.ack, base + 7);
    char b[8];
    cr_assert_eq(tcp_read(&h.st, c.h, b, 8, h.now), 6);
    cr_assert_arr_eq(b, "abcdef", 6);
}

Test(tcp_close, fin_before_held_data_discards_it)
{
    /* A peer that sent data at +5 and then a FIN at +4: the held data
     * cannot belong to the stream (found by fuzz_net_tcp). */
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    uint32_t base = c.pseq;
    c.pseq = base + 5;
    nh_csend(&h, &c, "later", 5);
    cr_assert_eq(conn(c.h)->ooo_n, 1);
    c.pseq = base;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, "abcd", 4);
    nh_send(&h, &fin);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_CLOSE_WAIT);
    cr_assert_eq(conn(c.h)->ooo_n, 0);
    char b[16];
    cr_assert_eq(tcp_read(&h.st, c.h, b, sizeof(b), h.now), 4);
    cr_assert_eq(tcp_read(&h.st, c.h, b, sizeof(b), h.now), 0);
}

Test(tcp_close, fin_retransmitted_until_acked)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_shutdown(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    nh_advance(&h, 1000);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK | TCP_FIN);
    cr_assert_eq(s.seq, c.our_nxt);
}

Test(tcp_close, time_wait_acks_repeated_fin_and_restarts)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_shutdown(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    c.our_nxt++;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    nh_clear(&h);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_TIME_WAIT);
    nh_advance(&h, 30000);
    nh_send(&h, &fin); /* our ACK was lost: the peer repeats its FIN */
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK);
    cr_assert_eq(s.ack, c.pseq + 1);
    cr_assert_eq(h.st.conns[c.h].t_2msl, h.now + 60000, "2 MSL from the repeat");
}

Test(tcp_close, time_wait_is_bounded)
{
    struct net_config cfg;
    nh_init(&h, 0);
    cfg = h.st.cfg;
    cfg.tw_max = 2;
    nh_init_cfg(&h, &cfg, NH_BUF, NH_BUF);
    int l = tcp_listen(&h.st, NH_PORT, 8);
    for (uint16_t i = 0; i < 3; i++) {
        struct nh_seg syn = nh_seg(7000 + i, NH_PORT, 1, 0, TCP_SYN, 65535);
        nh_send(&h, &syn);
        struct nh_seg sa;
        nh_pop_seg(&h, &sa);
        struct nh_seg ack = nh_seg(7000 + i, NH_PORT, 2, sa.seq + 1, TCP_ACK, 65535);
        nh_send(&h, &ack);
        int c = tcp_accept(&h.st, l);
        tcp_close(&h.st, c, h.now);
        struct nh_seg f;
        nh_pop_seg(&h, &f);
        struct nh_seg finack = nh_seg(7000 + i, NH_PORT, 2, f.seq + 1, TCP_ACK | TCP_FIN, 65535);
        nh_send(&h, &finack);
        nh_clear(&h);
        h.now += 10;
    }
    int tw = 0;
    for (int i = 0; i < NH_CONNS; i++)
        tw += h.st.conns[i].state == TCP_TIME_WAIT;
    cr_assert_eq(tw, 2);
    cr_assert_eq(h.st.ctr.tcp_tw_recycled, 1);
}

Test(tcp_close, time_wait_recycled_when_pool_is_full)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_close(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    c.our_nxt++;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    nh_clear(&h);
    /* Fill every other slot with listeners: a connect takes the TIME_WAIT. */
    int n = 0;
    while (tcp_listen(&h.st, (uint16_t)(2000 + n), 1) >= 0)
        n++;
    cr_assert_eq(n, NH_CONNS - 1, "every free slot, then the TIME_WAIT one");
    cr_assert_eq(h.st.ctr.tcp_tw_recycled, 1);
}

Test(tcp_close, syn_reopens_time_wait)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_close(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    c.our_nxt++;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    nh_clear(&h);
    /* An old-sequence SYN gets the TIME_WAIT ACK; a newer one a SYN-ACK. */
    struct nh_seg old = nh_seg(NH_PEER_PORT, NH_PORT, c.pseq - 5, 0, TCP_SYN, 65535);
    nh_send(&h, &old);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, c.pseq + 100000, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(s.ack, c.pseq + 100001);
}

Test(tcp_close, close_with_unread_data_resets)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    nh_csend(&h, &c, "unread", 6);
    nh_clear(&h);
    tcp_close(&h.st, c.h, h.now);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_RST | TCP_ACK);
    cr_assert_eq(h.st.conns[c.h].state, TCP_CLOSED);
}

Test(tcp_close, data_after_close_resets)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_close(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    c.our_nxt++;
    nh_csend(&h, &c, "late", 4);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert(s.flags & TCP_RST);
    cr_assert_eq(h.st.conns[c.h].state, TCP_CLOSED);
}

Test(tcp_close, orphan_fin_wait_2_times_out)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_close(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    c.our_nxt++;
    nh_csend(&h, &c, NULL, 0);
    cr_assert_eq(h.st.conns[c.h].state, TCP_FIN_WAIT_2);
    nh_advance(&h, TCP_FIN_WAIT_2_MS);
    cr_assert_eq(h.st.conns[c.h].state, TCP_CLOSED);
}

Test(tcp_close, abort_sends_rst)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    cr_assert_eq(tcp_abort(&h.st, c.h, h.now), 0);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_RST | TCP_ACK);
    cr_assert_eq(s.seq, c.our_nxt);
    cr_assert_eq(tcp_abort(&h.st, c.h, h.now), NET_EBADF);
}

Test(tcp_close, closing_listener_resets_children)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    nh_clear(&h);
    tcp_close(&h.st, l, h.now);
    struct nh_seg s;
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert(s.flags & TCP_RST);
    for (int i = 0; i < NH_CONNS; i++)
        cr_assert_eq(h.st.conns[i].state, TCP_CLOSED);
}

/* ---- Less common transitions ---- */

Test(tcp_close, fin_wait_1_straight_to_time_wait)
{
    nh_init(&h, 0);
    struct nh_conn c = nh_passive(&h, 1460, -1);
    tcp_shutdown(&h.st, c.h, h.now);
    struct nh_seg s;
    nh_pop_seg(&h, &s);
    /* One segment acknowledges our FIN and carries the peer's. */
    c.our_nxt++;
    struct nh_seg fin = nh_cseg(&c, TCP_ACK | TCP_FIN, NULL, 0);
    nh_send(&h, &fin);
    cr_assert_eq(tcp_get_state(&h.st, c.h), TCP_TIME_WAIT);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.ack, c.pseq + 1);
}

Test(tcp_close, shutdown_in_syn_received_waits_for_the_handshake)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn, sa, s;
    nh_pop_seg(&h, &syn);
    struct nh_seg psyn = nh_seg(NH_PEER_PORT, syn.sport, 500, 0, TCP_SYN, 65535);
    nh_send(&h, &psyn);
    nh_pop_seg(&h, &sa);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_RECEIVED);
    cr_assert_eq(tcp_shutdown(&h.st, c, h.now), 0);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_RECEIVED);
    cr_assert_eq(nh_pending(&h), 0, "no FIN before the handshake completes");
    /* Our SYN-ACK is lost: it is the SYN that comes again, not a FIN. */
    nh_advance(&h, 1000);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_SYN | TCP_ACK);
    struct nh_seg ack = nh_seg(NH_PEER_PORT, syn.sport, 501, syn.seq + 1, TCP_ACK, 65535);
    nh_send(&h, &ack);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_FIN_WAIT_1);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.flags, TCP_ACK | TCP_FIN);
    cr_assert_eq(s.seq, syn.seq + 1);
}

Test(tcp_close, fin_on_the_handshake_ack)
{
    nh_init(&h, 0);
    int l = tcp_listen(&h.st, NH_PORT, 4);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, 7, 0, TCP_SYN, 65535);
    nh_send(&h, &syn);
    struct nh_seg sa, s;
    nh_pop_seg(&h, &sa);
    struct nh_seg ackfin = nh_seg(NH_PEER_PORT, NH_PORT, 8, sa.seq + 1, TCP_ACK | TCP_FIN, 100);
    memcpy(ackfin.data, "hi", 2);
    ackfin.len = 2;
    nh_send(&h, &ackfin);
    int c = tcp_accept(&h.st, l);
    cr_assert_geq(c, 0, "a child that already got the FIN is still accepted");
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_CLOSE_WAIT);
    cr_assert(nh_pop_seg(&h, &s));
    cr_assert_eq(s.ack, 8 + 2 + 1);
    char b[4];
    cr_assert_eq(tcp_read(&h.st, c, b, sizeof(b), h.now), 2);
    cr_assert_eq(tcp_read(&h.st, c, b, sizeof(b), h.now), 0);
}

Test(tcp_close, close_in_syn_sent)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    nh_clear(&h);
    cr_assert_eq(tcp_close(&h.st, c, h.now), 0);
    cr_assert_eq(h.st.conns[c].state, TCP_CLOSED);
    cr_assert_eq(tcp_get_state(&h.st, c), -1);
    nh_advance(&h, 5000);
    cr_assert_eq(nh_pending(&h), 0, "no SYN after close");
}
