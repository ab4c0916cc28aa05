/*
 * libFuzzer target: every lib/net wire parser, and whole frames through a
 * live stack.
 *
 * Byte 0 selects:
 *   0-5  one parser (Ethernet, ARP, IPv4, ICMP echo, UDP, TCP with options)
 *        on the rest, from an exactly sized copy; what parses must point
 *        inside the input and survive a rebuild-and-reparse round trip.
 *   6-7  the rest is a list of frames, [len_hi len_lo flags] + bytes, fed
 *        to a stack that listens on TCP 80, has a connection to 10.0.0.2
 *        in progress, a UDP port bound and a ping client; flags bit 0
 *        repairs checksums (so mutations reach the logic), bits 1-3 move
 *        the clock. Every frame the stack sends must parse cleanly and
 *        every connection must satisfy its invariants after each step.
 */
#include "fuzz_net_common.h"

#define US   0x0a000001u
#define PEER 0x0a000002u

static const uint8_t us_mac[ETH_ALEN] = {2, 0, 0, 0, 0, 1};

static void emit(void *ctx, const uint8_t *f, size_t len)
{
    check_frame(f, len);
    (*(size_t *)ctx)++;
}

static void on_udp(void *ctx, uint32_t src, uint16_t sport, const uint8_t *d, size_t len)
{
    CHECK(len <= ETH_MTU);
    volatile uint8_t sink = len ? d[len - 1] : 0; /* touch the last byte */
    (void)sink;
}

static void on_echo(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *d,
                    size_t len)
{
    volatile uint8_t sink = len ? d[len - 1] : 0;
    (void)sink;
}

static void parse_one(int which, const uint8_t *p, size_t n)
{
    uint8_t out[ETH_FRAME_MAX];
    switch (which) {
    case 0: {
        struct eth_hdr e;
        if (eth_parse(p, n, &e) == NET_OK)
            CHECK(in_buf(p, n, e.payload, e.payload_len) && e.type >= 0x600);
        break;
    }
    case 1: {
        struct arp_pkt a, b;
        if (arp_parse(p, n, &a) == NET_OK) {
            CHECK(arp_build(out, sizeof(out), &a) == ARP_LEN);
            CHECK(arp_parse(out, ARP_LEN, &b) == NET_OK);
            CHECK(a.op == b.op && a.spa == b.spa && a.tpa == b.tpa);
            CHECK(!memcmp(a.sha, b.sha, ETH_ALEN) && !memcmp(a.tha, b.tha, ETH_ALEN));
        }
        break;
    }
    case 2: {
        struct ipv4_hdr h;
        if (ipv4_parse(p, n, &h) == NET_OK) {
            CHECK(in_buf(p, n, h.payload, h.payload_len));
            CHECK(h.ihl_bytes >= IPV4_HDR_LEN && h.ttl > 0);
            CHECK(!(h.frag & (IPV4_MF | IPV4_FRAG_OFFSET)));
        }
        break;
    }
    case 3: {
        struct icmp_echo e, r;
        if (icmp_echo_parse(p, n, &e) == NET_OK) {
            CHECK(in_buf(p, n, e.data, e.data_len));
            size_t m = icmp_echo_build(out, sizeof(out), &e);
            CHECK(m == n || n > sizeof(out));
            if (m) {
                CHECK(icmp_echo_parse(out, m, &r) == NET_OK);
                CHECK(r.id == e.id && r.seq == e.seq && r.data_len == e.data_len);
            }
        }
        break;
    }
    case 4: {
        struct udp_hdr u, r;
        if (udp_parse(p, n, US, PEER, &u) == NET_OK) {
            CHECK(in_buf(p, n, u.payload, u.payload_len));
            size_t m =
                udp_build(out, sizeof(out), US, PEER, u.sport, u.dport, u.payload, u.payload_len);
            if (m) {
                CHECK(udp_parse(out, m, US, PEER, &r) == NET_OK);
                CHECK(r.payload_len == u.payload_len && r.dport == u.dport);
            }
        }
        break;
    }
    case 5: {
        struct tcp_hdr t, r;
        if (tcp_parse(p, n, US, PEER, &t) == NET_OK) {
            CHECK(in_buf(p, n, t.payload, t.payload_len));
            CHECK(t.ws <= TCP_WSCALE_MAX);
            struct tcp_out o = {.sport = t.sport,
                                .dport = t.dport,
                                .seq = t.seq,
                                .ack = t.ack,
                                .flags = t.flags,
                                .wnd = t.wnd,
                                .mss = t.has_mss ? t.mss : 0,
                                .ws_opt = t.has_ws,
                                .ws = t.ws,
                                .sack_ok = t.sack_ok,
                                .nsack = t.nsack};
            memcpy(o.sack, t.sack, sizeof(o.sack));
            size_t m = tcp_build(out, sizeof(out), US, PEER, &o, t.payload, t.payload_len);
            if (m) {
                CHECK(tcp_parse(out, m, US, PEER, &r) == NET_OK);
                CHECK(r.seq == t.seq && r.ack == t.ack && r.flags == t.flags);
                CHECK(r.payload_len == t.payload_len);
                CHECK(r.has_ws == t.has_ws && (!t.has_ws || r.ws == t.ws));
                CHECK(!t.has_mss || t.mss == 0 || (r.has_mss && r.mss == t.mss));
                CHECK(r.sack_ok == t.sack_ok && r.nsack == t.nsack);
            }
        }
        break;
    }
    }
}

static struct net_stack st;
static struct tcp_conn conns[4];
static uint8_t bufs[4 * 2 * 2048];

static void run_stack(const uint8_t *p, size_t n)
{
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.mac, us_mac, ETH_ALEN);
    cfg.ip = US;
    cfg.netmask = 0xffffff00;
    cfg.gateway = 0x0a0000fe;
    size_t sent = 0;
    struct net_mem m = {conns, 4, bufs, 2048, 2048};
    uint64_t now = 1000;
    net_init(&st, &cfg, &m, emit, &sent, now);
    CHECK(tcp_listen(&st, 80, 2) >= 0);
    CHECK(net_udp_bind(&st, 7, on_udp, NULL) == 0);
    net_set_echo_handler(&st, on_echo, NULL);
    int c = tcp_connect(&st, PEER, 80, now);
    CHECK(c >= 0);
    static const uint16_t steps[8] = {0, 1, 10, 100, 200, 1000, 5000, 60000};
    static uint8_t frame[ETH_FRAME_MAX];
    while (n >= 3) {
        size_t len = ((size_t)p[0] << 8 | p[1]) % (ETH_FRAME_MAX + 1);
        uint8_t flags = p[2];
        p += 3;
        n -= 3;
        if (len > n)
            len = n;
        memcpy(frame, p, len);
        p += len;
        n -= len;
        if (flags & 1)
            fix_checksums(frame, len);
        /* Exactly sized copy: ASan catches reads past the frame. */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, frame, len);
        net_input(&st, copy, len, now);
        free(copy);
        now += steps[(flags >> 1) & 7];
        net_poll(&st, now);
        check_stack(&st);
        /* The application side: keep the connection busy. */
        if (flags & 0x10) {
            uint8_t b[512];
            memset(b, flags, sizeof(b));
            tcp_write(&st, c, b, sizeof(b), now);
            tcp_read(&st, c, b, sizeof(b), now);
            int a = tcp_accept(&st, 0);
            if (a >= 0)
                tcp_close(&st, a, now);
        }
        /* Polling handled everything due: no timer is left in the past
         * (an event loop would spin on it). */
        CHECK(net_next_deadline(&st) > now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int sel = data[0] % 8;
    if (sel < 6) {
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        memcpy(copy, data + 1, size - 1);
        parse_one(sel, copy, size - 1);
        free(copy);
    } else {
        run_stack(data + 1, size - 1);
    }
    return 0;
}
