/* See net_harness.h. */
#include "net_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t nh_us_mac[ETH_ALEN] = {2, 0, 0, 0, 0, 1};
const uint8_t nh_peer_mac[ETH_ALEN] = {2, 0, 0, 0, 0, 2};

static void emit(void *ctx, const uint8_t *frame, size_t len)
{
    struct nh *h = ctx;
    if (h->qlen == NH_QUEUE || len > ETH_FRAME_MAX) {
        h->dropped++;
        return;
    }
    struct nh_frame *f = &h->q[(h->qhead + h->qlen) % NH_QUEUE];
    memcpy(f->b, frame, len);
    f->len = len;
    h->qlen++;
}

void nh_init_cfg(struct nh *h, const struct net_config *cfg, size_t sndbuf, size_t rcvbuf)
{
    memset(h, 0, sizeof(*h));
    h->now = 1000;
    if (sndbuf + rcvbuf > 2 * NH_BUF) {
        fprintf(stderr, "nh_init_cfg: buffers too large\n");
        abort();
    }
    struct net_mem m = {h->conns, NH_CONNS, h->bufs, sndbuf, rcvbuf};
    net_init(&h->st, cfg, &m, emit, h, h->now);
}

void nh_init(struct nh *h, uint32_t rto_min_ms)
{
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.mac, nh_us_mac, ETH_ALEN);
    cfg.ip = NH_US;
    cfg.netmask = NH_MASK;
    cfg.gateway = 0x0a0000fe;
    memset(cfg.isn_secret, 0x5a, sizeof(cfg.isn_secret));
    cfg.rto_min_ms = rto_min_ms;
    nh_init_cfg(h, &cfg, NH_BUF, NH_BUF);
}

void nh_input(struct nh *h, const uint8_t *f, size_t len)
{
    /* An exactly sized heap copy, so ASan sees any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, f, len);
    net_input(&h->st, copy, len, h->now);
    free(copy);
}

/* Answers an ARP request for the peer's address; true if f was one. */
static bool answer_arp(struct nh *h, const struct nh_frame *f)
{
    struct eth_hdr e;
    struct arp_pkt a;
    if (eth_parse(f->b, f->len, &e) != NET_OK || e.type != ETHERTYPE_ARP)
        return false;
    if (arp_parse(e.payload, e.payload_len, &a) != NET_OK || a.op != ARP_OP_REQUEST)
        return false;
    if (a.tpa != NH_PEER)
        return false;
    uint8_t out[ETH_HDR_LEN + ARP_LEN];
    struct arp_pkt r = {ARP_OP_REPLY, {0}, NH_PEER, {0}, a.spa};
    memcpy(r.sha, nh_peer_mac, ETH_ALEN);
    memcpy(r.tha, a.sha, ETH_ALEN);
    eth_build(out, sizeof(out), a.sha, nh_peer_mac, ETHERTYPE_ARP);
    arp_build(out + ETH_HDR_LEN, ARP_LEN, &r);
    nh_input(h, out, sizeof(out));
    return true;
}

bool nh_pop_frame(struct nh *h, struct nh_frame *f)
{
    while (h->qlen) {
        *f = h->q[h->qhead];
        h->qhead = (h->qhead + 1) % NH_QUEUE;
        h->qlen--;
        if (!answer_arp(h, f))
            return true;
    }
    return false;
}

size_t nh_pending(struct nh *h)
{
    /* Answer queued ARP requests so the frames they held are counted. */
    size_t n = h->qlen;
    for (size_t i = 0; i < n; i++) {
        struct nh_frame f = h->q[h->qhead];
        h->qhead = (h->qhead + 1) % NH_QUEUE;
        h->qlen--;
        if (!answer_arp(h, &f))
            emit(h, f.b, f.len);
    }
    return h->qlen;
}

void nh_clear(struct nh *h)
{
    struct nh_frame f;
    while (nh_pop_frame(h, &f))
        ;
}

bool nh_pop_seg(struct nh *h, struct nh_seg *s)
{
    struct nh_frame f;
    if (!nh_pop_frame(h, &f))
        return false;
    struct eth_hdr e;
    struct ipv4_hdr ip;
    struct tcp_hdr t;
    if (eth_parse(f.b, f.len, &e) != NET_OK || e.type != ETHERTYPE_IPV4 ||
        ipv4_parse(e.payload, e.payload_len, &ip) != NET_OK || ip.proto != IP_PROTO_TCP ||
        tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) != NET_OK) {
        fprintf(stderr, "nh_pop_seg: frame is not a valid TCP segment\n");
        abort();
    }
    if (memcmp(e.dst, nh_peer_mac, ETH_ALEN) || ip.src != NH_US || ip.dst != NH_PEER ||
        !(ip.frag & IPV4_DF)) {
        fprintf(stderr, "nh_pop_seg: bad addressing or DF clear\n");
        abort();
    }
    memset(s, 0, sizeof(*s));
    s->sport = t.sport;
    s->dport = t.dport;
    s->seq = t.seq;
    s->ack = t.ack;
    s->flags = t.flags;
    s->wnd = t.wnd;
    s->mss = t.has_mss ? t.mss : 0;
    s->ws = t.has_ws ? t.ws : -1;
    s->sack_ok = t.sack_ok;
    s->nsack = t.nsack;
    memcpy(s->sack, t.sack, sizeof(s->sack));
    s->len = t.payload_len;
    memcpy(s->data, t.payload, t.payload_len);
    return true;
}

size_t nh_build_tcp(uint8_t *out, const struct nh_seg *s)
{
    struct tcp_out o;
    memset(&o, 0, sizeof(o));
    o.sport = s->sport;
    o.dport = s->dport;
    o.seq = s->seq;
    o.ack = s->ack;
    o.flags = s->flags;
    o.wnd = s->wnd;
    o.mss = s->mss;
    o.ws_opt = s->ws >= 0;
    o.ws = (uint8_t)(s->ws < 0 ? 0 : s->ws);
    o.sack_ok = s->sack_ok;
    uint8_t *seg = out + ETH_HDR_LEN + IPV4_HDR_LEN;
    size_t n = tcp_build(seg, ETH_MTU - IPV4_HDR_LEN, NH_PEER, NH_US, &o, s->data, s->len);
    ipv4_build(out + ETH_HDR_LEN, IPV4_HDR_LEN, NH_PEER, NH_US, IP_PROTO_TCP, 1, 64, n);
    eth_build(out, ETH_HDR_LEN, nh_us_mac, nh_peer_mac, ETHERTYPE_IPV4);
    return ETH_HDR_LEN + IPV4_HDR_LEN + n;
}

void nh_send(struct nh *h, const struct nh_seg *s)
{
    uint8_t f[ETH_FRAME_MAX];
    size_t n = nh_build_tcp(f, s);
    nh_input(h, f, n);
}

void nh_advance(struct nh *h, uint64_t ms)
{
    h->now += ms;
    net_poll(&h->st, h->now);
}

struct nh_seg nh_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                     uint16_t wnd)
{
    struct nh_seg s;
    memset(&s, 0, sizeof(s));
    s.sport = sport;
    s.dport = dport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.wnd = wnd;
    s.ws = -1;
    return s;
}

#include <criterion/criterion.h>

struct nh_conn nh_passive(struct nh *h, uint16_t mss, int ws)
{
    struct nh_conn c = {0};
    int l = tcp_listen(&h->st, NH_PORT, 4);
    cr_assert_geq(l, 0);
    struct nh_seg syn = nh_seg(NH_PEER_PORT, NH_PORT, NH_PEER_ISS, 0, TCP_SYN, 65535);
    syn.mss = mss;
    syn.ws = ws;
    nh_send(h, &syn);
    struct nh_seg sa;
    cr_assert(nh_pop_seg(h, &sa), "no SYN-ACK");
    cr_assert_eq(sa.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(sa.ack, NH_PEER_ISS + 1);
    c.iss = sa.seq;
    c.pseq = NH_PEER_ISS + 1;
    c.our_nxt = sa.seq + 1;
    c.lport = NH_PORT;
    c.rport = NH_PEER_PORT;
    struct nh_seg ack = nh_cseg(&c, TCP_ACK, NULL, 0);
    nh_send(h, &ack);
    c.h = tcp_accept(&h->st, l);
    cr_assert_geq(c.h, 0, "accept: %d", c.h);
    cr_assert_eq(tcp_get_state(&h->st, c.h), TCP_ESTABLISHED);
    cr_assert_eq(nh_pending(h), 0);
    return c;
}

struct nh_conn nh_active(struct nh *h, uint16_t mss, int ws)
{
    struct nh_conn c = {0};
    c.h = tcp_connect(&h->st, NH_PEER, NH_PEER_PORT, h->now);
    cr_assert_geq(c.h, 0);
    struct nh_seg syn;
    cr_assert(nh_pop_seg(h, &syn), "no SYN");
    cr_assert_eq(syn.flags, TCP_SYN);
    cr_assert_eq(syn.dport, NH_PEER_PORT);
    c.iss = syn.seq;
    c.lport = syn.sport;
    c.rport = NH_PEER_PORT;
    c.pseq = NH_PEER_ISS;
    c.our_nxt = syn.seq + 1;
    struct nh_seg sa = nh_cseg(&c, TCP_SYN | TCP_ACK, NULL, 0);
    sa.mss = mss;
    sa.ws = ws;
    nh_send(h, &sa);
    c.pseq++;
    struct nh_seg ack;
    cr_assert(nh_pop_seg(h, &ack), "no ACK of SYN-ACK");
    cr_assert_eq(ack.flags, TCP_ACK);
    cr_assert_eq(ack.ack, NH_PEER_ISS + 1);
    cr_assert_eq(tcp_get_state(&h->st, c.h), TCP_ESTABLISHED);
    return c;
}

struct nh_seg nh_cseg(const struct nh_conn *c, uint8_t flags, const void *data, size_t len)
{
    struct nh_seg s = nh_seg(c->rport, c->lport, c->pseq, c->our_nxt, flags, 65535);
    if (len)
        memcpy(s.data, data, len);
    s.len = len;
    return s;
}

void nh_csend(struct nh *h, struct nh_conn *c, const void *data, size_t len)
{
    struct nh_seg s = nh_cseg(c, TCP_ACK, data, len);
    nh_send(h, &s);
    c->pseq += (uint32_t)len;
}
