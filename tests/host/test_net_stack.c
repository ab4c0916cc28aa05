/*
 * The stack below TCP: ARP (answers, what it learns and refuses to learn,
 * retries, expiry, bounds, frames waiting for resolution), IPv4 input
 * filtering, ICMP echo both ways, UDP ports, and the DHCP client through a
 * scripted server (lease, renewal, rebinding, expiry, NAK, fallback).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_internal.h"
#include "net_harness.h"

static struct nh h;

static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Raw frame from the peer's MAC to dst_mac carrying an IPv4 payload. */
static size_t ip_frame(uint8_t *f, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                       uint8_t proto, const uint8_t *payload, size_t len)
{
    eth_build(f, ETH_HDR_LEN, dst_mac, nh_peer_mac, ETHERTYPE_IPV4);
    ipv4_build(f + ETH_HDR_LEN, IPV4_HDR_LEN, src, dst, proto, 9, 64, len);
    memcpy(f + ETH_HDR_LEN + IPV4_HDR_LEN, payload, len);
    return ETH_HDR_LEN + IPV4_HDR_LEN + len;
}

static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
    struct arp_pkt a = {op, {0}, spa, {0}, tpa};
    memcpy(a.sha, sha, ETH_ALEN);
    eth_build(f, ETH_HDR_LEN, op == ARP_OP_REQUEST ? bcast : nh_us_mac, sha, ETHERTYPE_ARP);
    arp_build(f + ETH_HDR_LEN, ARP_LEN, &a);
    return ETH_HDR_LEN + ARP_LEN;
}

/* Pops a frame without answering ARP (unlike nh_pop_frame). */
static bool pop_raw(struct nh_frame *f)
{
    if (!h.qlen)
        return false;
    *f = h.q[h.qhead];
    h.qhead = (h.qhead + 1) % NH_QUEUE;
    h.qlen--;
    return true;
}

static bool pop_arp(struct arp_pkt *a, uint8_t *eth_dst)
{
    struct nh_frame f;
    struct eth_hdr e;
    if (!pop_raw(&f) || eth_parse(f.b, f.len, &e) != NET_OK || e.type != ETHERTYPE_ARP)
        return false;
    memcpy(eth_dst, e.dst, ETH_ALEN);
    return arp_parse(e.payload, e.payload_len, a) == NET_OK;
}

static int arp_entries(void)
{
    int n = 0;
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        n += h.st.arp[i].state != ARP_FREE;
    return n;
}

/* ---- ARP ---- */

Test(arp, answers_requests_without_learning)
{
    nh_init(&h, 0);
    uint8_t f[64];
    size_t n = arp_frame(f, ARP_OP_REQUEST, nh_peer_mac, NH_PEER, NH_US);
    nh_input(&h, f, n);
    struct arp_pkt a;
    uint8_t dst[6];
    cr_assert(pop_arp(&a, dst));
    cr_assert_eq(a.op, ARP_OP_REPLY);
    cr_assert_eq(a.spa, NH_US);
    cr_assert_arr_eq(a.sha, nh_us_mac, 6);
    cr_assert_eq(a.tpa, NH_PEER);
    cr_assert_arr_eq(dst, nh_peer_mac, 6);
    cr_assert_eq(arp_entries(), 0, "a request does not teach us the sender");
    /* A request for someone else: no answer. */
    n = arp_frame(f, ARP_OP_REQUEST, nh_peer_mac, NH_PEER, NH_US + 7);
    nh_input(&h, f, n);
    cr_assert_eq(h.qlen, 0);
}

Test(arp, unsolicited_and_gratuitous_are_ignored)
{
    nh_init(&h, 0);
    uint8_t f[64];
    size_t n = arp_frame(f, ARP_OP_REPLY, nh_peer_mac, NH_PEER, NH_US);
    nh_input(&h, f, n);
    n = arp_frame(f, ARP_OP_REQUEST, nh_peer_mac, NH_PEER, NH_PEER); /* gratuitous */
    nh_input(&h, f, n);
    cr_assert_eq(arp_entries(), 0);
    cr_assert_eq(h.st.ctr.arp_unsolicited, 2);
}

Test(arp, resolved_entry_cannot_be_redirected)
{
    nh_init(&h, 0);
    net_ping(&h.st, NH_PEER, 1, 1, "x", 1, h.now);
    struct nh_frame fr;
    cr_assert(nh_pop_frame(&h, &fr)); /* ARP answered, the ping comes out */
    const uint8_t evil[6] = {2, 0xee, 0xee, 0xee, 0xee, 0xee};
    uint8_t f[64];
    size_t n = arp_frame(f, ARP_OP_REPLY, evil, NH_PEER, NH_US);
    nh_input(&h, f, n);
    net_ping(&h.st, NH_PEER, 1, 2, "x", 1, h.now);
    cr_assert(pop_raw(&fr));
    cr_assert_arr_eq(fr.b, nh_peer_mac, 6, "still the address we asked for");
}

Test(arp, retries_then_gives_up)
{
    nh_init(&h, 0);
    net_ping(&h.st, NH_PEER, 1, 1, "x", 1, h.now);
    struct arp_pkt a;
    uint8_t dst[6];
    for (int i = 0; i < 3; i++) {
        cr_assert(pop_arp(&a, dst), "request %d", i);
        cr_assert_eq(a.op, ARP_OP_REQUEST);
        cr_assert_eq(a.tpa, NH_PEER);
        cr_assert_arr_eq(dst, bcast, 6);
        cr_assert_eq(h.qlen, 0);
        nh_advance(&h, 1000);
    }
    cr_assert_eq(h.qlen, 0);
    cr_assert_eq(arp_entries(), 0);
    cr_assert_eq(h.st.ctr.arp_pending_dropped, 1);
    cr_assert_eq(net_next_deadline(&h.st), NET_NEVER);
}

Test(arp, entries_expire)
{
    nh_init(&h, 0);
    net_ping(&h.st, NH_PEER, 1, 1, "x", 1, h.now);
    nh_clear(&h);
    cr_assert_eq(arp_entries(), 1);
    nh_advance(&h, 60000);
    cr_assert_eq(arp_entries(), 0);
}

Test(arp, cache_is_bounded)
{
    nh_init(&h, 0);
    for (uint32_t i = 0; i < 3 * NET_ARP_ENTRIES; i++)
        net_ping(&h.st, NH_US + 10 + i, 1, 1, "x", 1, h.now);
    cr_assert_eq(arp_entries(), NET_ARP_ENTRIES);
    int held = 0;
    for (int i = 0; i < NET_ARP_PENDING; i++)
        held += h.st.pend[i].len != 0;
    cr_assert_eq(held, NET_ARP_PENDING);
}

Test(arp, waiting_frames_leave_in_order)
{
    nh_init(&h, 0);
    for (uint16_t s = 0; s < 3; s++)
        net_ping(&h.st, NH_PEER, 1, s, "x", 1, h.now);
    struct nh_frame f;
    for (uint16_t s = 0; s < 3; s++) {
        cr_assert(nh_pop_frame(&h, &f));
        struct eth_hdr e;
        struct ipv4_hdr ip;
        struct icmp_echo ec;
        eth_parse(f.b, f.len, &e);
        cr_assert_eq(ipv4_parse(e.payload, e.payload_len, &ip), NET_OK);
        cr_assert_eq(icmp_echo_parse(ip.payload, ip.payload_len, &ec), NET_OK);
        cr_assert_eq(ec.seq, s);
    }
}

Test(arp, off_subnet_goes_to_gateway)
{
    nh_init(&h, 0);
    net_ping(&h.st, 0x08080808, 1, 1, "x", 1, h.now);
    struct arp_pkt a;
    uint8_t dst[6];
    cr_assert(pop_arp(&a, dst));
    cr_assert_eq(a.tpa, 0x0a0000fe);
}

Test(arp, conflicting_sender_is_counted)
{
    nh_init(&h, 0);
    uint8_t f[64];
    size_t n = arp_frame(f, ARP_OP_REQUEST, nh_peer_mac, NH_US, NH_US);
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.arp_conflict, 1);
    cr_assert_eq(h.qlen, 0);
}

/* ---- IPv4 and ICMP ---- */

static size_t echo_req(uint8_t *f, const uint8_t *mac, uint32_t src, uint32_t dst)
{
    uint8_t icmp[64];
    struct icmp_echo e = {ICMP_ECHO_REQ, 0x42, 7, (const uint8_t *)"payload", 7};
    size_t n = icmp_echo_build(icmp, sizeof(icmp), &e);
    return ip_frame(f, mac, src, dst, IP_PROTO_ICMP, icmp, n);
}

Test(icmp, echo_is_answered)
{
    nh_init(&h, 0);
    uint8_t f[128];
    size_t n = echo_req(f, nh_us_mac, NH_PEER, NH_US);
    nh_input(&h, f, n);
    struct nh_frame r;
    cr_assert(nh_pop_frame(&h, &r));
    struct eth_hdr e;
    struct ipv4_hdr ip;
    struct icmp_echo ec;
    eth_parse(r.b, r.len, &e);
    cr_assert_eq(ipv4_parse(e.payload, e.payload_len, &ip), NET_OK);
    cr_assert_eq(ip.src, NH_US);
    cr_assert_eq(ip.dst, NH_PEER);
    cr_assert(ip.frag & IPV4_DF);
    cr_assert_eq(icmp_echo_parse(ip.payload, ip.payload_len, &ec), NET_OK);
    cr_assert_eq(ec.type, ICMP_ECHO_REPLY);
    cr_assert_eq(ec.id, 0x42);
    cr_assert_eq(ec.seq, 7);
    cr_assert_arr_eq(ec.data, "payload", 7);
}

Test(icmp, broadcast_echo_is_not_answered)
{
    nh_init(&h, 0);
    uint8_t f[128];
    size_t n = echo_req(f, bcast, NH_PEER, 0x0a0000ff);
    nh_input(&h, f, n);
    n = echo_req(f, bcast, NH_PEER, IPV4_BROADCAST);
    nh_input(&h, f, n);
    cr_assert_eq(h.qlen, 0);
    cr_assert_eq(h.st.ctr.icmp_in, 2);
}

struct echo_seen {
    int n;
    uint16_t id, seq;
    uint32_t src;
};

static void on_echo(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *d,
                    size_t len)
{
    struct echo_seen *e = ctx;
    e->n++;
    e->id = id;
    e->seq = seq;
    e->src = src;
}

Test(icmp, ping_client)
{
    nh_init(&h, 0);
    struct echo_seen seen = {0};
    net_set_echo_handler(&h.st, on_echo, &seen);
    cr_assert_eq(net_ping(&h.st, NH_PEER, 5, 6, "abc", 3, h.now), 0);
    struct nh_frame r;
    cr_assert(nh_pop_frame(&h, &r));
    /* Turn the request into its reply, as the peer would. */
    uint8_t *icmp = r.b + ETH_HDR_LEN + IPV4_HDR_LEN;
    size_t ilen = r.len - ETH_HDR_LEN - IPV4_HDR_LEN;
    struct icmp_echo ec;
    cr_assert_eq(icmp_echo_parse(icmp, ilen, &ec), NET_OK);
    cr_assert_eq(ec.type, ICMP_ECHO_REQ);
    ec.type = ICMP_ECHO_REPLY;
    uint8_t rep[64], f[128];
    size_t n = icmp_echo_build(rep, sizeof(rep), &ec);
    n = ip_frame(f, nh_us_mac, NH_PEER, NH_US, IP_PROTO_ICMP, rep, n);
    nh_input(&h, f, n);
    cr_assert_eq(seen.n, 1);
    cr_assert_eq(seen.id, 5);
    cr_assert_eq(seen.seq, 6);
    cr_assert_eq(seen.src, NH_PEER);
}

Test(ipv4, input_filters)
{
    nh_init(&h, 0);
    uint8_t f[128];
    size_t n = echo_req(f, nh_us_mac, NH_PEER, NH_US + 1); /* not our address */
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_not_ours, 1);
    n = echo_req(f, nh_us_mac, IPV4_BROADCAST, NH_US); /* broadcast source */
    nh_input(&h, f, n);
    n = echo_req(f, nh_us_mac, 0x7f000001, NH_US); /* loopback source */
    nh_input(&h, f, n);
    n = echo_req(f, nh_us_mac, 0xe0000001, NH_US); /* multicast source */
    nh_input(&h, f, n);
    n = echo_req(f, nh_us_mac, NH_US, NH_US); /* our own address */
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_bad, 4);
    n = echo_req(f, nh_us_mac, NH_PEER, NH_US);
    uint8_t *ip = f + ETH_HDR_LEN;
    st16(ip + 6, IPV4_MF);
    st16(ip + 10, 0);
    st16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HDR_LEN)));
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_fragments, 1);
    ip[11] ^= 1;
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_bad_csum, 1);
    /* Another host's MAC: not even looked at. */
    n = echo_req(f, nh_peer_mac, NH_PEER, NH_US);
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_in, 7);
    cr_assert_eq(h.qlen, 0);
    /* Unknown protocol. */
    n = ip_frame(f, nh_us_mac, NH_PEER, NH_US, 99, (const uint8_t *)"x", 1);
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.ip_bad_proto, 1);
    /* Runt frames. */
    for (size_t k = 0; k < 40; k++)
        nh_input(&h, f, k);
    cr_assert_eq(h.qlen, 0);
}

/* ---- UDP ---- */

struct udp_seen {
    int n;
    uint32_t src;
    uint16_t sport;
    char data[16];
};

static void on_udp(void *ctx, uint32_t src, uint16_t sport, const uint8_t *d, size_t len)
{
    struct udp_seen *u = ctx;
    u->n++;
    u->src = src;
    u->sport = sport;
    memcpy(u->data, d, len < 15 ? len : 15);
}

Test(udp, bind_deliver_send)
{
    nh_init(&h, 0);
    struct udp_seen seen = {0};
    cr_assert_eq(net_udp_bind(&h.st, 7, on_udp, &seen), 0);
    cr_assert_eq(net_udp_bind(&h.st, 7, on_udp, &seen), NET_EADDRINUSE);
    cr_assert_eq(net_udp_bind(&h.st, 0, on_udp, &seen), NET_EINVAL);
    uint8_t u[64], f[128];
    size_t n = udp_build(u, sizeof(u), NH_PEER, NH_US, 999, 7, (const uint8_t *)"hi", 2);
    n = ip_frame(f, nh_us_mac, NH_PEER, NH_US, IP_PROTO_UDP, u, n);
    nh_input(&h, f, n);
    cr_assert_eq(seen.n, 1);
    cr_assert_eq(seen.sport, 999);
    cr_assert_str_eq(seen.data, "hi");
    /* Corrupt checksum: dropped. */
    f[n - 1] ^= 0xff;
    nh_input(&h, f, n);
    cr_assert_eq(seen.n, 1);
    cr_assert_eq(h.st.ctr.udp_bad, 1);
    /* Unbound port. */
    n = udp_build(u, sizeof(u), NH_PEER, NH_US, 999, 8, (const uint8_t *)"hi", 2);
    n = ip_frame(f, nh_us_mac, NH_PEER, NH_US, IP_PROTO_UDP, u, n);
    nh_input(&h, f, n);
    cr_assert_eq(h.st.ctr.udp_no_port, 1);
    /* Sending. */
    cr_assert_eq(net_udp_send(&h.st, NH_PEER, 7, 999, "yo", 2, h.now), 0);
    struct nh_frame r;
    cr_assert(nh_pop_frame(&h, &r));
    struct eth_hdr e;
    struct ipv4_hdr ip;
    struct udp_hdr uh;
    eth_parse(r.b, r.len, &e);
    cr_assert_eq(ipv4_parse(e.payload, e.payload_len, &ip), NET_OK);
    cr_assert_eq(udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &uh), NET_OK);
    cr_assert_eq(uh.dport, 999);
    cr_assert_arr_eq(uh.payload, "yo", 2);
    for (uint16_t p = 100; p < 100 + NET_UDP_BINDS - 1; p++)
        cr_assert_eq(net_udp_bind(&h.st, p, on_udp, &seen), 0);
    cr_assert_eq(net_udp_bind(&h.st, 500, on_udp, &seen), NET_ENOMEM);
}

static void echo_back(void *ctx, uint32_t src, uint16_t sport, const uint8_t *d, size_t len)
{
    net_udp_send(&h.st, src, 7, sport, d, len, h.now);
}

Test(udp, callback_may_answer)
{
    nh_init(&h, 0);
    cr_assert_eq(net_udp_bind(&h.st, 7, echo_back, NULL), 0);
    uint8_t u[64], f[128];
    size_t n = udp_build(u, sizeof(u), NH_PEER, NH_US, 4444, 7, (const uint8_t *)"echo me", 7);
    n = ip_frame(f, nh_us_mac, NH_PEER, NH_US, IP_PROTO_UDP, u, n);
    nh_input(&h, f, n);
    struct nh_frame r;
    cr_assert(nh_pop_frame(&h, &r));
    struct eth_hdr e;
    struct ipv4_hdr ip;
    struct udp_hdr uh;
    eth_parse(r.b, r.len, &e);
    cr_assert_eq(ipv4_parse(e.payload, e.payload_len, &ip), NET_OK);
    cr_assert_eq(udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &uh), NET_OK);
    cr_assert_eq(uh.sport, 7);
    cr_assert_eq(uh.dport, 4444);
    cr_assert_eq(uh.payload_len, 7);
    cr_assert_arr_eq(uh.payload, "echo me", 7);
}

/* ---- DHCP ---- */

#define SERVER  NH_PEER
#define OFFERED NH_US

static void dhcp_init(void)
{
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.mac, nh_us_mac, ETH_ALEN);
    net_config_qemu(&cfg);
    nh_init_cfg(&h, &cfg, 1024, 1024);
}

/* Pops a DHCP message we sent; checks UDP ports and returns it parsed. */
static bool pop_dhcp(struct dhcp_msg *m, struct ipv4_hdr *ipo)
{
    struct nh_frame f;
    struct eth_hdr e;
    struct udp_hdr u;
    if (!nh_pop_frame(&h, &f))
        return false;
    cr_assert_eq(eth_parse(f.b, f.len, &e), NET_OK);
    static uint8_t keep[ETH_FRAME_MAX];
    memcpy(keep, e.payload, e.payload_len);
    cr_assert_eq(ipv4_parse(keep, e.payload_len, ipo), NET_OK);
    cr_assert_eq(udp_parse(ipo->payload, ipo->payload_len, ipo->src, ipo->dst, &u), NET_OK);
    cr_assert_eq(u.sport, DHCP_CLIENT_PORT);
    cr_assert_eq(u.dport, DHCP_SERVER_PORT);
    cr_assert_eq(dhcp_parse(u.payload, u.payload_len, m), NET_OK);
    cr_assert_eq(m->op, 1);
    return true;
}

static void server_send(uint8_t type, uint32_t xid, uint32_t yiaddr, uint32_t lease_s,
                        bool with_server_id)
{
    uint8_t d[400];
    memset(d, 0, sizeof(d));
    d[0] = 2;
    d[1] = 1;
    d[2] = 6;
    st32(d + 4, xid);
    st32(d + 16, yiaddr);
    memcpy(d + 28, nh_us_mac, ETH_ALEN);
    st32(d + 236, 0x63825363);
    uint8_t *o = d + 240;
    *o++ = 53;
    *o++ = 1;
    *o++ = type;
    if (with_server_id) {
        *o++ = 54;
        *o++ = 4;
        st32(o, SERVER);
        o += 4;
    }
    *o++ = 51;
    *o++ = 4;
    st32(o, lease_s);
    o += 4;
    *o++ = 1;
    *o++ = 4;
    st32(o, NH_MASK);
    o += 4;
    *o++ = 3;
    *o++ = 4;
    st32(o, SERVER);
    o += 4;
    *o++ = 6;
    *o++ = 4;
    st32(o, 0x0a000003);
    o += 4;
    *o++ = 255;
    size_t dl = (size_t)(o - d);
    uint8_t u[500], f[600];
    size_t n = udp_build(u, sizeof(u), SERVER, IPV4_BROADCAST, 67, 68, d, dl);
    n = ip_frame(f, bcast, SERVER, IPV4_BROADCAST, IP_PROTO_UDP, u, n);
    nh_input(&h, f, n);
}

/* DISCOVER, OFFER, REQUEST, ACK; returns the transaction id. */
static uint32_t dhcp_bind(uint32_t lease_s)
{
    struct dhcp_msg m;
    struct ipv4_hdr ip;
    cr_assert(pop_dhcp(&m, &ip));
    cr_assert_eq(m.type, DHCP_DISCOVER);
    cr_assert_eq(ip.src, 0);
    cr_assert_eq(ip.dst, IPV4_BROADCAST);
    server_send(DHCP_OFFER, m.xid, OFFERED, lease_s, true);
    cr_assert(pop_dhcp(&m, &ip));
    cr_assert_eq(m.type, DHCP_REQUEST);
    cr_assert_eq(m.requested_ip, OFFERED);
    cr_assert_eq(m.server_id, SERVER);
    server_send(DHCP_ACK, m.xid, OFFERED, lease_s, true);
    cr_assert_eq(h.st.ip, OFFERED);
    cr_assert_eq(h.st.gateway, SERVER);
    cr_assert_eq(h.st.dns, 0x0a000003);
    cr_assert_eq(h.st.netmask, NH_MASK);
    cr_assert_eq(h.st.dhcp.state, DHCP_BOUND);
    return m.xid;
}

Test(dhcp, lease_renew_rebind_expire)
{
    dhcp_init();
    cr_assert_eq(h.st.ip, 0, "no address before the lease");
    cr_assert_eq(tcp_connect(&h.st, NH_PEER, 80, h.now), NET_ENETUNREACH);
    uint32_t xid = dhcp_bind(1000);
    /* T1 = 500 s: REQUEST unicast to the server with ciaddr. */
    nh_advance(&h, 500 * 1000 - 1);
    cr_assert_eq(nh_pending(&h), 0);
    nh_advance(&h, 1);
    struct dhcp_msg m;
    struct ipv4_hdr ip;
    cr_assert(pop_dhcp(&m, &ip));
    cr_assert_eq(m.type, DHCP_REQUEST);
    cr_assert_eq(m.ciaddr, OFFERED);
    cr_assert_eq(ip.src, OFFERED);
    cr_assert_eq(ip.dst, SERVER);
    cr_assert_eq(h.st.dhcp.state, DHCP_RENEWING);
    cr_assert_eq(h.st.ip, OFFERED, "still configured while renewing");
    /* T2 = 875 s: broadcast. */
    nh_advance(&h, 375 * 1000);
    nh_clear(&h);
    cr_assert_eq(h.st.dhcp.state, DHCP_REBINDING);
    /* Expiry: address dropped, back to DISCOVER with a new xid. */
    nh_advance(&h, 125 * 1000);
    cr_assert_eq(h.st.ip, 0);
    struct dhcp_msg d;
    bool found = false;
    while (pop_dhcp(&d, &ip))
        if (d.type == DHCP_DISCOVER)
            found = true;
    cr_assert(found);
    cr_assert_neq(d.xid, xid);
}

Test(dhcp, renewal_ack_extends_lease)
{
    dhcp_init();
    uint32_t xid = dhcp_bind(1000);
    nh_advance(&h, 500 * 1000);
    nh_clear(&h);
    server_send(DHCP_ACK, xid, OFFERED, 1000, true);
    cr_assert_eq(h.st.dhcp.state, DHCP_BOUND);
    cr_assert_eq(h.st.dhcp.t1, h.now + 500 * 1000);
}

Test(dhcp, nak_restarts)
{
    dhcp_init();
    struct dhcp_msg m;
    struct ipv4_hdr ip;
    pop_dhcp(&m, &ip);
    server_send(DHCP_OFFER, m.xid, OFFERED, 100, true);
    pop_dhcp(&m, &ip);
    server_send(DHCP_NAK, m.xid, 0, 0, true);
    cr_assert_eq(h.st.ip, 0);
    cr_assert(pop_dhcp(&m, &ip));
    cr_assert_eq(m.type, DHCP_DISCOVER);
}

Test(dhcp, ignores_foreign_and_bad_replies)
{
    dhcp_init();
    struct dhcp_msg m;
    struct ipv4_hdr ip;
    pop_dhcp(&m, &ip);
    server_send(DHCP_OFFER, m.xid + 1, OFFERED, 100, true);    /* another transaction */
    server_send(DHCP_OFFER, m.xid, OFFERED, 100, false);       /* no server id */
    server_send(DHCP_OFFER, m.xid, IPV4_BROADCAST, 100, true); /* absurd address */
    server_send(DHCP_ACK, m.xid, OFFERED, 100, true);          /* ACK while selecting */
    cr_assert_eq(h.qlen, 0);
    cr_assert_eq(h.st.dhcp.state, DHCP_SELECTING);
    cr_assert_eq(h.st.ip, 0);
}

Test(dhcp, fallback_when_nobody_answers)
{
    dhcp_init();
    struct dhcp_msg m;
    struct ipv4_hdr ip;
    uint64_t waits[] = {4000, 8000, 16000};
    for (int i = 0; i < 3; i++) {
        cr_assert(pop_dhcp(&m, &ip), "DISCOVER %d", i);
        cr_assert_eq(m.type, DHCP_DISCOVER);
        nh_advance(&h, waits[i] - 1);
        cr_assert_eq(h.qlen, 0);
        nh_advance(&h, 1);
    }
    cr_assert_eq(h.st.dhcp.state, DHCP_FALLBACK);
    cr_assert_eq(h.st.ip, 0x0a00020f, "QEMU's 10.0.2.15");
    cr_assert_eq(h.st.gateway, 0x0a000202);
    cr_assert_eq(h.st.dns, 0x0a000203);
    cr_assert_eq(h.qlen, 0);
}
