/*
 * RST, SYN and ACK acceptance in every TCP state (RFC 9293 3.10.7 with the
 * RFC 5961 mitigations): an exactly matching RST resets, an in-window one
 * earns a challenge ACK, an out-of-window one is ignored; a SYN in a
 * synchronized state earns a challenge ACK; ACKs of unsent or ancient data
 * are refused; challenge ACKs are rate limited.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_internal.h"
#include "net_harness.h"

static struct nh h;

/* A connection brought to a state, with the peer's view of it. */
struct fix {
    struct nh_conn c;
    int idx;     /* slot in the pool (the handle, or the child's index) */
    bool active; /* we opened it */
};

static int find_child(void)
{
    for (int i = 0; i < NH_CONNS; i++)
        if (h.st.conns[i].state == TCP_SYN_RECEIVED)
            return i;
    return -1;
}

static struct fix drive(int state)
{
    struct fix f;
    memset(&f, 0, sizeof(f));
    nh_init(&h, 0);
    struct nh_seg s;
    if (state == TCP_SYN_SENT) {
        f.c.h = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
        cr_assert(nh_pop_seg(&h, &s));
        f.c.lport = s.sport;
        f.c.rport = NH_PEER_PORT;
        f.c.iss = s.seq;
        f.c.our_nxt = s.seq + 1;
        f.c.pseq = NH_PEER_ISS;
        f.idx = f.c.h;
        f.active = true;
        return f;
    }
    if (state == TCP_SYN_RECEIVED) {
        tcp_listen(&h.st, NH_PORT, 4);
        struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, NH_PEER_ISS, 0, TCP_SYN, 65535);
        nh_send(&h, &syn);
        cr_assert(nh_pop_seg(&h, &s));
        f.c.lport = NH_PORT;
        f.c.rport = NH_PEER_PORT;
        f.c.iss = s.seq;
        f.c.our_nxt = s.seq + 1;
        f.c.pseq = NH_PEER_ISS + 1;
        f.idx = find_child();
        f.c.h = -1;
        return f;
    }
    f.c = nh_passive(&h, 1460, -1);
    f.idx = f.c.h;
    struct nh_seg fin = nh_cseg(&f.c, TCP_ACK | TCP_FIN, NULL, 0);
    switch (state) {
    case TCP_ESTABLISHED:
        break;
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSING:
    case TCP_TIME_WAIT:
        tcp_shutdown(&h.st, f.c.h, h.now);
        cr_assert(nh_pop_seg(&h, &s));
        if (state == TCP_CLOSING) {
            nh_send(&h, &fin); /* does not ACK our FIN */
            f.c.pseq++;
            f.c.our_nxt++;
            break;
        }
        f.c.our_nxt++;
        if (state != TCP_FIN_WAIT_1)
            nh_csend(&h, &f.c, NULL, 0);
        if (state == TCP_TIME_WAIT) {
            fin = nh_cseg(&f.c, TCP_ACK | TCP_FIN, NULL, 0);
            nh_send(&h, &fin);
            f.c.pseq++;
        }
        break;
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
        nh_send(&h, &fin);
        f.c.pseq++;
        if (state == TCP_LAST_ACK) {
            tcp_shutdown(&h.st, f.c.h, h.now);
            f.c.our_nxt++;
        }
        break;
    }
    nh_clear(&h);
    cr_assert_eq(h.st.conns[f.idx].state, state, "drive to %s: in %s", tcp_state_name(state),
                 tcp_state_name(h.st.conns[f.idx].state));
    return f;
}

static const int synced[] = {
    TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,   TCP_CLOSING,     TCP_LAST_ACK,   TCP_TIME_WAIT,
};
#define NSYNCED (sizeof(synced) / sizeof(synced[0]))

static void peer_send(const struct fix *f, uint32_t seq, uint8_t flags)
{
    struct nh_seg s = nh_cseg(&f->c, flags, NULL, 0);
    s.seq = seq;
    nh_send(&h, &s);
}

Test(tcp_rst, exact_rst_resets_every_state)
{
    for (size_t i = 0; i < NSYNCED; i++) {
        int st = synced[i];
        struct fix f = drive(st);
        peer_send(&f, f.c.pseq, TCP_RST);
        cr_assert_eq(h.st.conns[f.idx].state, TCP_CLOSED, "%s", tcp_state_name(st));
        cr_assert_eq(nh_pending(&h), 0, "%s: nothing answers a RST", tcp_state_name(st));
        int want = st == TCP_ESTABLISHED || st == TCP_FIN_WAIT_1 || st == TCP_FIN_WAIT_2 ||
                           st == TCP_CLOSE_WAIT
                       ? NET_ECONNRESET
                       : 0;
        cr_assert_eq(h.st.conns[f.idx].err, want, "%s", tcp_state_name(st));
        cr_assert_eq(h.st.ctr.tcp_rst_in, 1);
    }
}

Test(tcp_rst, in_window_rst_gets_challenge_ack)
{
    for (size_t i = 0; i < NSYNCED; i++) {
        int st = synced[i];
        struct fix f = drive(st);
        peer_send(&f, f.c.pseq + 1, TCP_RST);
        struct nh_seg a;
        cr_assert(nh_pop_seg(&h, &a), "%s: challenge ACK", tcp_state_name(st));
        cr_assert_eq(a.flags & (TCP_ACK | TCP_RST | TCP_SYN), TCP_ACK, "%s", tcp_state_name(st));
        cr_assert_eq(a.ack, f.c.pseq, "%s", tcp_state_name(st));
        cr_assert_eq(h.st.conns[f.idx].state, st, "%s: unchanged", tcp_state_name(st));
        cr_assert_eq(h.st.ctr.tcp_challenge_acks, 1);
    }
}

Test(tcp_rst, out_of_window_rst_is_ignored)
{
    for (size_t i = 0; i < NSYNCED; i++) {
        int st = synced[i];
        struct fix f = drive(st);
        peer_send(&f, f.c.pseq + 100000, TCP_RST);
        peer_send(&f, f.c.pseq - 1, TCP_RST);
        cr_assert_eq(nh_pending(&h), 0, "%s", tcp_state_name(st));
        cr_assert_eq(h.st.conns[f.idx].state, st, "%s", tcp_state_name(st));
    }
}

Test(tcp_rst, syn_in_synchronized_states_gets_challenge_ack)
{
    for (size_t i = 1; i < NSYNCED - 1; i++) { /* SYN_RECEIVED, TIME_WAIT below */
        int st = synced[i];
        struct fix f = drive(st);
        peer_send(&f, f.c.pseq + 1, TCP_SYN);
        struct nh_seg a;
        cr_assert(nh_pop_seg(&h, &a), "%s", tcp_state_name(st));
        cr_assert_eq(a.flags, TCP_ACK, "%s", tcp_state_name(st));
        cr_assert_eq(a.ack, f.c.pseq, "%s", tcp_state_name(st));
        cr_assert_eq(h.st.conns[f.idx].state, st, "%s", tcp_state_name(st));
        cr_assert_eq(h.st.ctr.tcp_challenge_acks, 1, "%s", tcp_state_name(st));
        /* With an ACK too, and at any sequence number. */
        peer_send(&f, f.c.pseq, TCP_SYN | TCP_ACK);
        cr_assert(nh_pop_seg(&h, &a), "%s", tcp_state_name(st));
        cr_assert_eq(h.st.conns[f.idx].state, st, "%s", tcp_state_name(st));
    }
}

Test(tcp_rst, syn_on_passive_syn_received_drops_child)
{
    struct fix f = drive(TCP_SYN_RECEIVED);
    peer_send(&f, f.c.pseq + 5, TCP_SYN);
    cr_assert_eq(h.st.conns[f.idx].state, TCP_CLOSED, "back to LISTEN: the child goes");
    cr_assert_eq(h.st.conns[0].state, TCP_LISTEN);
}

Test(tcp_rst, syn_on_active_syn_received_challenges)
{
    nh_init(&h, 0);
    int c = tcp_connect(&h.st, NH_PEER, NH_PEER_PORT, h.now);
    struct nh_seg syn, sa, a;
    nh_pop_seg(&h, &syn);
    struct nh_seg psyn = nh_seg(NH_PEER_PORT, syn.sport, 500, 0, TCP_SYN, 65535);
    nh_send(&h, &psyn);
    nh_pop_seg(&h, &sa);
    struct nh_seg other = nh_seg(NH_PEER_PORT, syn.sport, 600, 0, TCP_SYN, 65535);
    nh_send(&h, &other);
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.flags & (TCP_SYN | TCP_ACK), TCP_ACK);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_SYN_RECEIVED);
    /* An exact RST refuses the connection we asked for. */
    struct nh_seg rst = nh_seg(NH_PEER_PORT, syn.sport, 501, 0, TCP_RST, 0);
    nh_send(&h, &rst);
    cr_assert_eq(tcp_get_state(&h.st, c), TCP_CLOSED);
    cr_assert_eq(tcp_get_error(&h.st, c), NET_ECONNREFUSED);
}

Test(tcp_rst, syn_sent_rst_needs_acceptable_ack)
{
    struct fix f = drive(TCP_SYN_SENT);
    struct nh_seg r = nh_seg(NH_PEER_PORT, f.c.lport, 0, f.c.iss + 5, TCP_RST | TCP_ACK, 0);
    nh_send(&h, &r);
    cr_assert_eq(tcp_get_state(&h.st, f.c.h), TCP_SYN_SENT, "ACK does not match our SYN");
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_ack, unsent_data_acked_is_refused)
{
    struct fix f = drive(TCP_ESTABLISHED);
    struct nh_seg s = nh_cseg(&f.c, TCP_ACK, "data", 4);
    s.ack = f.c.our_nxt + 1000;
    nh_send(&h, &s);
    struct nh_seg a;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(a.ack, f.c.pseq, "data not taken");
    cr_assert_eq(tcp_readable(&h.st, f.c.h), 0);
    cr_assert_eq(h.st.conns[f.idx].snd_una, f.c.our_nxt);
}

Test(tcp_ack, ancient_ack_is_refused)
{
    struct fix f = drive(TCP_ESTABLISHED);
    struct nh_seg s = nh_cseg(&f.c, TCP_ACK, "data", 4);
    s.ack = f.c.our_nxt - 70000; /* beyond the largest window the peer gave */
    nh_send(&h, &s);
    struct nh_seg a;
    cr_assert(nh_pop_seg(&h, &a));
    cr_assert_eq(tcp_readable(&h.st, f.c.h), 0);
    /* An old but plausible ACK (within a window) is fine. */
    s.ack = f.c.our_nxt - 100;
    nh_send(&h, &s);
    cr_assert_eq(tcp_readable(&h.st, f.c.h), 4);
}

Test(tcp_ack, segment_without_ack_is_dropped)
{
    struct fix f = drive(TCP_ESTABLISHED);
    struct nh_seg s = nh_cseg(&f.c, 0, "data", 4);
    nh_send(&h, &s);
    cr_assert_eq(tcp_readable(&h.st, f.c.h), 0);
    cr_assert_eq(nh_pending(&h), 0);
}

Test(tcp_challenge, rate_limited_per_second)
{
    struct fix f = drive(TCP_ESTABLISHED);
    for (int i = 0; i < 12; i++)
        peer_send(&f, f.c.pseq + 1, TCP_RST);
    cr_assert_eq(nh_pending(&h), 10);
    cr_assert_eq(h.st.ctr.tcp_challenge_acks, 10);
    cr_assert_eq(h.st.ctr.tcp_challenge_limited, 2);
    nh_clear(&h);
    h.now += 1000;
    peer_send(&f, f.c.pseq + 1, TCP_RST);
    cr_assert_eq(nh_pending(&h), 1, "a new second, a new budget");
    cr_assert_eq(tcp_get_state(&h.st, f.c.h), TCP_ESTABLISHED);
}

Test(tcp_challenge, blind_reset_needs_exact_sequence)
{
    /* An off-path attacker guessing at window-sized steps never resets. */
    struct fix f = drive(TCP_ESTABLISHED);
    for (uint32_t k = 1; k < 64; k++) {
        peer_send(&f, f.c.pseq + k * 97, TCP_RST);
        h.now += 200;
    }
    cr_assert_eq(tcp_get_state(&h.st, f.c.h), TCP_ESTABLISHED);
}
