/*
 * libFuzzer target: a live TCP connection in every state, fed hostile
 * segments and application calls.
 *
 * Byte 0 picks the starting state, one of the 11 and SYN_RECEIVED reached
 * by simultaneous open (the connection is driven there by a correct peer
 * first: each state is reached, or the target aborts). The
 * rest is a script of 8-byte operations: peer segments with any flags,
 * sequence and acknowledgment numbers relative to the connection's own
 * (so they land near the windows), any window, payload and options; and
 * write, read, shutdown, close, abort and clock moves. After every
 * operation all connections must satisfy their invariants, and every
 * frame the stack sends must parse cleanly.
 */
#include "fuzz_net_common.h"

#define US    0x0a000001u
#define PEER  0x0a000002u
#define PORT  80
#define PPORT 5000
/* drive()'s states: enum tcp_state, and this one. */
#define ACTIVE_SYN_RECEIVED (TCP_TIME_WAIT + 1)

static const uint8_t us_mac[ETH_ALEN] = {2, 0, 0, 0, 0, 1};
static const uint8_t peer_mac[ETH_ALEN] = {2, 0, 0, 0, 0, 2};

static struct net_stack st;
static struct tcp_conn conns[4];
static uint8_t bufs[4 * 2 * 4096];
static uint64_t now;

/* The last TCP segment we sent, and whether ARP must be answered. */
static struct {
    bool have;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t sport;
    size_t len;
} last;
static bool arp_wanted;

static void emit(void *ctx, const uint8_t *f, size_t len)
{
    check_frame(f, len);
    struct eth_hdr e;
    struct ipv4_hdr ip;
    struct tcp_hdr t;
    eth_parse(f, len, &e);
    if (e.type == ETHERTYPE_ARP) {
        arp_wanted = true;
        return;
    }
    if (ipv4_parse(e.payload, e.payload_len, &ip) == NET_OK && ip.proto == IP_PROTO_TCP &&
        tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) == NET_OK) {
        last.have = true;
        last.seq = t.seq;
        last.ack = t.ack;
        last.flags = t.flags;
        last.sport = t.sport;
        last.len = t.payload_len;
    }
}

static void answer_arp(void)
{
    if (!arp_wanted)
        return;
    arp_wanted = false;
    uint8_t f[ETH_HDR_LEN + ARP_LEN];
    struct arp_pkt a = {ARP_OP_REPLY, {0}, PEER, {0}, US};
    memcpy(a.sha, peer_mac, ETH_ALEN);
    memcpy(a.tha, us_mac, ETH_ALEN);
    eth_build(f, sizeof(f), us_mac, peer_mac, ETHERTYPE_ARP);
    arp_build(f + ETH_HDR_LEN, ARP_LEN, &a);
    net_input(&st, f, sizeof(f), now);
}

struct seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd, mss;
    int ws;
    size_t len;
    bool sack_ok;
    uint8_t nsack; /* blocks below and above rcv_nxt, to be ignored */
};

static int idx; /* the connection under test (below) */

static void send_seg(const struct seg *s)
{
    static uint8_t f[ETH_FRAME_MAX];
    static uint8_t payload[ETH_MTU];
    for (size_t i = 0; i < s->len; i++)
        payload[i] = (uint8_t)(s->seq + i);
    uint32_t base = conns[idx].snd_una;
    struct tcp_out o = {.sport = s->sport,
                        .dport = s->dport,
                        .seq = s->seq,
                        .ack = s->ack,
                        .flags = s->flags,
                        .wnd = s->wnd,
                        .mss = s->mss,
                        .ws_opt = s->ws >= 0,
                        .ws = (uint8_t)(s->ws < 0 ? 0 : s->ws),
                        .sack_ok = s->sack_ok,
                        .nsack = s->nsack};
    for (int b = 0; b < s->nsack && b < TCP_SACK_MAX; b++) {
        o.sack[b][0] = base + (uint32_t)b * 1000;
        o.sack[b][1] = base + (uint32_t)b * 1000 + 500;
    }
    size_t n = tcp_build(f + ETH_HDR_LEN + IPV4_HDR_LEN, ETH_MTU - IPV4_HDR_LEN, PEER, US, &o,
                         payload, s->len);
    if (n == 0)
        return;
    ipv4_build(f + ETH_HDR_LEN, IPV4_HDR_LEN, PEER, US, IP_PROTO_TCP, 1, 64, n);
    eth_build(f, ETH_HDR_LEN, us_mac, peer_mac, ETHERTYPE_IPV4);
    net_input(&st, f, ETH_HDR_LEN + IPV4_HDR_LEN + n, now);
    answer_arp();
}

/* The connection under test and the peer's view of it. */
static int h;
static int idx;
static uint16_t lport, rport;
static uint32_t pseq; /* peer's next sequence number */

static struct seg peer(uint8_t flags, size_t len)
{
    struct seg s = {rport, lport, pseq, conns[idx].snd_max, flags, 65535, 0, -1, len, false, 0};
    return s;
}

/* Drives a fresh stack's connection to state; false if the state needs
 * nothing more than what was done. */
static void drive(int state)
{
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.mac, us_mac, ETH_ALEN);
    cfg.ip = US;
    cfg.netmask = 0xffffff00;
    cfg.rto_min_ms = 200;
    now = 1000;
    last.have = false;
    arp_wanted = false;
    struct net_mem m = {conns, 4, bufs, 4096, 4096};
    net_init(&st, &cfg, &m, emit, NULL, now);
    /* ACTIVE_SYN_RECEIVED: our SYN crossed the peer's (simultaneous open),
     * so the application holds a SYN_RECEIVED connection. */
    bool simultaneous = state == ACTIVE_SYN_RECEIVED;
    if (simultaneous)
        state = TCP_SYN_RECEIVED;
    if (state == TCP_SYN_SENT || state == TCP_CLOSED || simultaneous) {
        h = idx = tcp_connect(&st, PEER, PPORT, now);
        answer_arp();
        CHECK(last.have && last.flags == TCP_SYN);
        lport = last.sport;
        rport = PPORT;
        pseq = 7777;
        if (state == TCP_CLOSED) {
            struct seg r = {rport, lport, 0, conns[idx].iss + 1, TCP_RST | TCP_ACK, 0, 0, -1,
                            0,     false, 0};
            send_seg(&r);
        }
        if (simultaneous) {
            struct seg syn = {rport, lport, pseq, 0, TCP_SYN, 65535, 1000, 2, 0, true, 0};
            send_seg(&syn);
            pseq++;
        }
        CHECK(conns[idx].state == state);
        return;
    }
    int l = tcp_listen(&st, PORT, 2);
    lport = PORT;
    rport = PPORT;
    pseq = 7777;
    struct seg syn = {rport, lport, pseq, 0, TCP_SYN, 65535, 1000, 2, 0, true, 0};
    send_seg(&syn);
    pseq++;
    idx = -1;
    for (int i = 0; i < 4; i++)
        if (conns[i].state == TCP_SYN_RECEIVED)
            idx = i;
    CHECK(idx >= 0);
    h = -1;
    if (state == TCP_LISTEN) {
        h = idx = l;
        return;
    }
    if (state == TCP_SYN_RECEIVED)
        return;
    struct seg ack = peer(TCP_ACK, 0);
    send_seg(&ack);
    h = tcp_accept(&st, l);
    CHECK(h == idx);
    struct seg fin = peer(TCP_ACK | TCP_FIN, 0);
    switch (state) {
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSING:
    case TCP_TIME_WAIT:
        tcp_shutdown(&st, h, now);
        if (state == TCP_CLOSING) {
            fin.ack = conns[idx].snd_una; /* does not ACK our FIN */
            send_seg(&fin);
            pseq++;
            break;
        }
        if (state != TCP_FIN_WAIT_1) {
            struct seg a = peer(TCP_ACK, 0);
            send_seg(&a);
        }
        if (state == TCP_TIME_WAIT) {
            fin = peer(TCP_ACK | TCP_FIN, 0);
            send_seg(&fin);
            pseq++;
        }
        break;
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
        send_seg(&fin);
        pseq++;
        if (state == TCP_LAST_ACK)
            tcp_shutdown(&st, h, now);
        break;
    default:
        break;
    }
    CHECK(conns[idx].state == state);
}

static int32_t s16(const uint8_t *p)
{
    return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
}

static void op(const uint8_t *o)
{
    struct tcp_conn *c = &conns[idx];
    uint8_t buf[2048];
    switch (o[0] % 10) {
    case 0:
    case 1:
    case 2: {
        /* A peer segment near the windows: seq around rcv_nxt (or the
         * peer's own idea of it), ack around snd_una / snd_max. */
        struct seg s = peer(o[1] & 0x3f, o[7] % 3 == 0 ? 0 : (size_t)(o[7] * 5) % 1461);
        uint32_t seq_base = (o[0] / 10) % 2 ? c->rcv_nxt : pseq;
        uint32_t ack_base = (o[0] / 20) % 2 ? c->snd_una : c->snd_max;
        s.seq = seq_base + (uint32_t)(s16(o + 2) * (o[0] >= 200 ? 64 : 1));
        s.ack = ack_base + (uint32_t)s16(o + 4);
        s.wnd = (uint16_t)(o[6] << 8 | o[6]);
        if (o[1] & 0x40)
            s.mss = (uint16_t)(o[6] * 8);
        if (o[1] & 0x80)
            s.ws = o[7] % 16;
        if ((o[1] & 0xc0) == 0xc0)
            s.sack_ok = true;
        s.nsack = (uint8_t)(o[5] % 5);
        send_seg(&s);
        break;
    }
    case 3: {
        /* The well-behaved peer: in-order data (maybe FIN), ACK of all. */
        struct seg s = peer(TCP_ACK | (o[1] & 1 ? TCP_FIN : 0), (size_t)o[2] * 4);
        s.seq = c->rcv_nxt;
        s.wnd = (uint16_t)(o[3] << 8);
        send_seg(&s);
        pseq = c->rcv_nxt;
        break;
    }
    case 4:
        memset(buf, o[1], sizeof(buf));
        tcp_write(&st, h, buf, (size_t)o[2] * 8, now);
        break;
    case 5:
        tcp_read(&st, h, buf, (size_t)o[2] * 8, now);
        break;
    case 6:
        switch (o[1] % 8) {
        case 0:
            tcp_shutdown(&st, h, now);
            break;
        case 1:
            tcp_close(&st, h, now);
            break;
        case 2:
            tcp_abort(&st, h, now);
            break;
        case 3:
            tcp_set_nodelay(&st, h, o[2] & 1);
            break;
        case 4:
            h = tcp_accept(&st, 0) >= 0 ? idx : h;
            break;
        default:
            break;
        }
        break;
    case 7:
        now += (uint64_t)o[1] * o[2] + 1;
        net_poll(&st, now);
        break;
    case 8: {
        uint64_t d = net_next_deadline(&st);
        if (d != NET_NEVER && d > now) {
            now = d;
            net_poll(&st, now);
        }
        break;
    }
    default: {
        /* ACK everything we sent so far with a chosen window. */
        struct seg s = peer(TCP_ACK, 0);
        s.seq = c->rcv_nxt;
        s.wnd = (uint16_t)(o[1] << 8 | o[2]);
        send_seg(&s);
        break;
    }
    }
    answer_arp();
    check_stack(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    drive(data[0] % (ACTIVE_SYN_RECEIVED + 1));
    check_stack(&st);
    for (size_t i = 1; i + 8 <= size; i += 8)
        op(data + i);
    /* Whatever happened, time heals: within a few hours of polling every
     * connection the application let go of is gone. */
    tcp_abort(&st, h, now);
    for (int k = 0; k < 1000 && net_next_deadline(&st) != NET_NEVER; k++) {
        now = net_next_deadline(&st) > now ? net_next_deadline(&st) : now + 1;
        net_poll(&st, now);
        answer_arp();
    }
    for (int i = 0; i < 4; i++)
        CHECK(conns[i].state == TCP_CLOSED || conns[i].state == TCP_LISTEN || conns[i].user_open ||
              conns[i].parent >= 0);
    return 0;
}
