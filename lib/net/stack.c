/*
 * The stack's frame path below TCP: Ethernet demultiplexing, ARP (cache,
 * requests, replies), IPv4 input checks and output, ICMP echo, UDP with its
 * port table, and the DHCP client's glue. See net.h for the API.
 */
#include "crypto/siphash.h"
#include "net/net_internal.h"
#include "string.h"

#define ARP_RETRY_MS  1000
#define ARP_TRIES     3
#define ARP_EXPIRY_MS 60000

static const uint8_t bcast_mac[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void net_config_qemu(struct net_config *cfg)
{
    cfg->ip = 0x0a00020f;      /* 10.0.2.15 */
    cfg->netmask = 0xffffff00; /* /24 */
    cfg->gateway = 0x0a000202; /* 10.0.2.2 */
    cfg->dns = 0x0a000203;     /* 10.0.2.3 */
    cfg->dhcp = true;
}

static void emit(struct net_stack *s, const uint8_t *frame, size_t len)
{
    s->ctr.tx_frames++;
    s->emit(s->emit_ctx, frame, len);
}

/* ---- Addresses ---- */

static void apply_config(struct net_stack *s)
{
    const struct dhcp_lease *l = dhcp_config(&s->dhcp);
    struct dhcp_lease none = {0, 0, 0, 0, 0};
    if (!l)
        l = &none;
    s->ip = l->ip;
    s->netmask = l->netmask;
    s->gateway = l->router;
    s->dns = l->dns;
}

static bool is_broadcast(const struct net_stack *s, uint32_t a)
{
    return a == IPV4_BROADCAST || (s->netmask && s->ip && a == (s->ip | ~s->netmask));
}

/* Never acceptable as a source: unspecified, loopback, multicast, class E,
 * broadcast. */
static bool bad_source(const struct net_stack *s, uint32_t a)
{
    return a == 0 || (a >> 24) == 127 || (a >> 28) >= 14 || is_broadcast(s, a) || a == s->ip;
}

/* ---- ARP ---- */

static void arp_send(struct net_stack *s, uint16_t op, const uint8_t tha[ETH_ALEN], uint32_t tpa,
                     const uint8_t *eth_dst)
{
    uint8_t f[ETH_HDR_LEN + ARP_LEN];
    struct arp_pkt a;
    a.op = op;
    memcpy(a.sha, s->cfg.mac, ETH_ALEN);
    a.spa = s->ip;
    memcpy(a.tha, tha, ETH_ALEN);
    a.tpa = tpa;
    eth_build(f, sizeof(f), eth_dst, s->cfg.mac, ETHERTYPE_ARP);
    arp_build(f + ETH_HDR_LEN, ARP_LEN, &a);
    emit(s, f, sizeof(f));
}

static void arp_request(struct net_stack *s, uint32_t ip)
{
    static const uint8_t zero[ETH_ALEN];
    s->ctr.arp_requests_sent++;
    arp_send(s, ARP_OP_REQUEST, zero, ip, bcast_mac);
}

static struct arp_entry *arp_find(struct net_stack *s, uint32_t ip)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (s->arp[i].state != ARP_FREE && s->arp[i].ip == ip)
            return &s->arp[i];
    return NULL;
}

/* A free entry, else the one closest to expiring (resolved ones first: an
 * outstanding request is worth more than a cached answer). */
static struct arp_entry *arp_victim(struct net_stack *s)
{
    struct arp_entry *best = NULL;
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &s->arp[i];
        if (e->state == ARP_FREE)
            return e;
        if (!best || (e->state == ARP_REACHABLE && best->state != ARP_REACHABLE) ||
            (e->state == best->state && e->deadline < best->deadline))
            best = e;
    }
    return best;
}

/* The oldest pending frame for hop (any hop if hop is 0), or NULL. */
static struct arp_pending *oldest_pending(struct net_stack *s, uint32_t hop)
{
    struct arp_pending *best = NULL;
    for (int i = 0; i < NET_ARP_PENDING; i++) {
        struct arp_pending *p = &s->pend[i];
        if (p->len && (hop == 0 || p->hop == hop) && (!best || p->order < best->order))
            best = p;
    }
    return best;
}

/* Frames waiting for hop: sent with mac, oldest first so a burst leaves in
 * order, or dropped if mac is NULL. */
static void flush_pending(struct net_stack *s, uint32_t hop, const uint8_t *mac)
{
    struct arp_pending *p;
    while ((p = oldest_pending(s, hop)) != NULL) {
        if (mac) {
            memcpy(p->frame, mac, ETH_ALEN);
            emit(s, p->frame, p->len);
        } else {
            s->ctr.arp_pending_dropped++;
        }
        p->len = 0;
    }
}

static void hold_pending(struct net_stack *s, uint32_t hop, const uint8_t *f, size_t len)
{
    struct arp_pending *p = NULL;
    for (int i = 0; i < NET_ARP_PENDING && !p; i++)
        if (!s->pend[i].len)
            p = &s->pend[i];
    if (!p) {
        /* All taken: the oldest goes (TCP retransmits what is lost). */
        p = oldest_pending(s, 0);
        s->ctr.arp_pending_dropped++;
    }
    p->hop = hop;
    p->order = ++s->pend_seq;
    p->len = (uint16_t)len;
    memcpy(p->frame, f, len);
}

static void arp_resolved(struct net_stack *s, struct arp_entry *e, const uint8_t mac[ETH_ALEN],
                         uint64_t now)
{
    memcpy(e->mac, mac, ETH_ALEN);
    e->state = ARP_REACHABLE;
    e->deadline = now + ARP_EXPIRY_MS;
    flush_pending(s, e->ip, mac);
}

static void arp_input(struct net_stack *s, const uint8_t *p, size_t len, uint64_t now)
{
    struct arp_pkt a;
    s->ctr.arp_in++;
    if (arp_parse(p, len, &a) != NET_OK) {
        s->ctr.arp_bad++;
        return;
    }
    if (bad_source(s, a.spa)) {
        if (s->ip && a.spa == s->ip)
            s->ctr.arp_conflict++;
        s->ctr.arp_bad++;
        return;
    }
    /* Learn only what we asked for (or refresh what we hold with the same
     * answer): unsolicited and gratuitous ARP cannot redirect traffic. */
    struct arp_entry *e = arp_find(s, a.spa);
    if (e && e->state == ARP_INCOMPLETE)
        arp_resolved(s, e, a.sha, now);
    else if (e && memcmp(e->mac, a.sha, ETH_ALEN) == 0)
        e->deadline = now + ARP_EXPIRY_MS;
    else if (a.op == ARP_OP_REPLY || a.tpa != s->ip)
        s->ctr.arp_unsolicited++;
    if (a.op == ARP_OP_REQUEST && s->ip && a.tpa == s->ip) {
        s->ctr.arp_replies_sent++;
        arp_send(s, ARP_OP_REPLY, a.sha, a.spa, a.sha);
    }
}

static void arp_poll(struct net_stack *s, uint64_t now)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &s->arp[i];
        if (e->state == ARP_FREE || now < e->deadline)
            continue;
        if (e->state == ARP_INCOMPLETE && e->tries < ARP_TRIES) {
            e->tries++;
            e->deadline = now + ARP_RETRY_MS;
            arp_request(s, e->ip);
            continue;
        }
        if (e->state == ARP_INCOMPLETE)
            flush_pending(s, e->ip, NULL);
        e->state = ARP_FREE;
    }
}

/* ---- IPv4 output ---- */

void net_ip_send(struct net_stack *s, uint32_t src, uint32_t dst, uint8_t proto, size_t len,
                 uint64_t now)
{
    uint8_t *f = s->frame;
    if (len > NET_IP_PAYLOAD_MAX)
        return;
    ipv4_build(f + ETH_HDR_LEN, IPV4_HDR_LEN, src, dst, proto, s->ip_id++, NET_TTL, len);
    size_t flen = NET_IP_PAYLOAD + len;
    if (dst == IPV4_BROADCAST || is_broadcast(s, dst)) {
        eth_build(f, ETH_HDR_LEN, bcast_mac, s->cfg.mac, ETHERTYPE_IPV4);
        emit(s, f, flen);
        return;
    }
    uint32_t hop = dst;
    if (s->netmask == 0 || (dst & s->netmask) != (s->ip & s->netmask))
        hop = s->gateway;
    if (hop == 0)
        return; /* no route */
    eth_build(f, ETH_HDR_LEN, bcast_mac, s->cfg.mac, ETHERTYPE_IPV4);
    struct arp_entry *e = arp_find(s, hop);
    if (e && e->state == ARP_REACHABLE) {
        memcpy(f, e->mac, ETH_ALEN);
        emit(s, f, flen);
        return;
    }
    if (!e) {
        e = arp_victim(s);
        if (e->state == ARP_INCOMPLETE)
            flush_pending(s, e->ip, NULL);
        e->state = ARP_INCOMPLETE;
        e->ip = hop;
        e->tries = 1;
        e->deadline = now + ARP_RETRY_MS;
        arp_request(s, hop);
    }
    hold_pending(s, hop, f, flen);
}

/* ---- ICMP ---- */

static void icmp_input(struct net_stack *s, const struct ipv4_hdr *ip, uint64_t now)
{
    struct icmp_echo e;
    s->ctr.icmp_in++;
    if (icmp_echo_parse(ip->payload, ip->payload_len, &e) != NET_OK) {
        s->ctr.icmp_bad++;
        return;
    }
    if (e.type == ICMP_ECHO_REPLY) {
        s->ctr.icmp_echo_replies_in++;
        if (s->on_echo)
            s->on_echo(s->echo_ctx, ip->src, e.id, e.seq, e.data, e.data_len);
        return;
    }
    /* Only unicast requests are answered (no broadcast amplification). */
    if (ip->dst != s->ip)
        return;
    e.type = ICMP_ECHO_REPLY;
    size_t n = icmp_echo_build(s->frame + NET_IP_PAYLOAD, NET_IP_PAYLOAD_MAX, &e);
    if (n == 0)
        return;
    s->ctr.icmp_echo_replied++;
    net_ip_send(s, s->ip, ip->src, IP_PROTO_ICMP, n, now);
}

void net_set_echo_handler(struct net_stack *s, net_echo_fn fn, void *ctx)
{
    s->on_echo = fn;
    s->echo_ctx = ctx;
}

int net_ping(struct net_stack *s, uint32_t dst, uint16_t id, uint16_t seq, const void *data,
             size_t len, uint64_t now)
{
    if (!s->ip)
        return NET_ENETUNREACH;
    struct icmp_echo e = {ICMP_ECHO_REQ, id, seq, data, len};
    size_t n = icmp_echo_build(s->frame + NET_IP_PAYLOAD, NET_IP_PAYLOAD_MAX, &e);
    if (n == 0)
        return NET_EINVAL;
    net_ip_send(s, s->ip, dst, IP_PROTO_ICMP, n, now);
    return 0;
}

/* ---- UDP and DHCP ---- */

static void dhcp_send(struct net_stack *s, struct dhcp_tx tx, uint64_t now)
{
    if (tx.len == 0)
        return;
    uint8_t *p = s->frame + NET_IP_PAYLOAD;
    size_t n = udp_build(p, NET_IP_PAYLOAD_MAX, tx.src, tx.dst, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
                         p + UDP_HDR_LEN, tx.len);
    net_ip_send(s, tx.src, tx.dst, IP_PROTO_UDP, n, now);
}

static void udp_input(struct net_stack *s, const struct ipv4_hdr *ip, uint64_t now)
{
    struct udp_hdr u;
    s->ctr.udp_in++;
    if (udp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &u) != NET_OK) {
        s->ctr.udp_bad++;
        return;
    }
    if (u.dport == DHCP_CLIENT_PORT && s->cfg.dhcp) {
        if (u.sport != DHCP_SERVER_PORT)
            return;
        s->ctr.dhcp_in++;
        uint8_t *out = s->frame + NET_IP_PAYLOAD + UDP_HDR_LEN;
        struct dhcp_tx tx = dhcp_input(&s->dhcp, u.payload, u.payload_len, now, out,
                                       NET_IP_PAYLOAD_MAX - UDP_HDR_LEN);
        apply_config(s);
        dhcp_send(s, tx, now);
        return;
    }
    if (!s->ip)
        return;
    for (int i = 0; i < NET_UDP_BINDS; i++) {
        if (s->udp[i].fn && s->udp[i].port == u.dport) {
            s->udp[i].fn(s->udp[i].ctx, ip->src, u.sport, u.payload, u.payload_len);
            return;
        }
    }
    s->ctr.udp_no_port++;
}

int net_udp_bind(struct net_stack *s, uint16_t port, net_udp_fn fn, void *ctx)
{
    if (port == 0 || !fn || (port == DHCP_CLIENT_PORT && s->cfg.dhcp))
        return NET_EINVAL;
    int slot = -1;
    for (int i = 0; i < NET_UDP_BINDS; i++) {
        if (s->udp[i].fn && s->udp[i].port == port)
            return NET_EADDRINUSE;
        if (!s->udp[i].fn && slot < 0)
            slot = i;
    }
    if (slot < 0)
        return NET_ENOMEM;
    s->udp[slot].port = port;
    s->udp[slot].fn = fn;
    s->udp[slot].ctx = ctx;
    return 0;
}

int net_udp_send(struct net_stack *s, uint32_t dst, uint16_t sport, uint16_t dport,
                 const void *data, size_t len, uint64_t now)
{
    if (!s->ip)
        return NET_ENETUNREACH;
    uint8_t *p = s->frame + NET_IP_PAYLOAD;
    size_t n = udp_build(p, NET_IP_PAYLOAD_MAX, s->ip, dst, sport, dport, data, len);
    if (n == 0)
        return NET_EINVAL;
    net_ip_send(s, s->ip, dst, IP_PROTO_UDP, n, now);
    return 0;
}

/* ---- IPv4 input ---- */

static void ipv4_input(struct net_stack *s, const uint8_t *p, size_t len, uint64_t now)
{
    struct ipv4_hdr ip;
    s->ctr.ip_in++;
    enum net_err e = ipv4_parse(p, len, &ip);
    if (e != NET_OK) {
        if (e == NET_E_FRAGMENT)
            s->ctr.ip_fragments++;
        else if (e == NET_E_CSUM)
            s->ctr.ip_bad_csum++;
        else
            s->ctr.ip_bad++;
        return;
    }
    if (bad_source(s, ip.src)) {
        s->ctr.ip_bad++;
        return;
    }
    bool to_us = s->ip && ip.dst == s->ip;
    bool bcast = is_broadcast(s, ip.dst);
    /* Unconfigured, only a DHCP reply can be for us, whatever address the
     * server sent it to. */
    bool dhcp_only = !s->ip && ip.proto == IP_PROTO_UDP;
    if (!to_us && !bcast && !dhcp_only) {
        s->ctr.ip_not_ours++;
        return;
    }
    switch (ip.proto) {
    case IP_PROTO_ICMP:
        if (s->ip)
            icmp_input(s, &ip, now);
        break;
    case IP_PROTO_UDP:
        udp_input(s, &ip, now);
        break;
    case IP_PROTO_TCP:
        if (to_us)
            tcp_input(s, &ip, now);
        break;
    default:
        s->ctr.ip_bad_proto++;
    }
}

void net_input(struct net_stack *s, const uint8_t *frame, size_t len, uint64_t now)
{
    struct eth_hdr h;
    s->ctr.rx_frames++;
    if (eth_parse(frame, len, &h) != NET_OK) {
        s->ctr.rx_bad_eth++;
        return;
    }
    if (memcmp(h.dst, s->cfg.mac, ETH_ALEN) != 0 && memcmp(h.dst, bcast_mac, ETH_ALEN) != 0) {
        s->ctr.rx_other_type++;
        return;
    }
    if (h.type == ETHERTYPE_ARP)
        arp_input(s, h.payload, h.payload_len, now);
    else if (h.type == ETHERTYPE_IPV4)
        ipv4_input(s, h.payload, h.payload_len, now);
    else
        s->ctr.rx_other_type++;
}

/* ---- Setup and timers ---- */

void net_init(struct net_stack *s, const struct net_config *cfg, const struct net_mem *mem,
              net_emit_fn emit_fn, void *emit_ctx, uint64_t now)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->emit = emit_fn;
    s->emit_ctx = emit_ctx;
    s->conns = mem->conns;
    s->nconns = mem->nconns;
    for (size_t i = 0; i < mem->nconns; i++) {
        struct tcp_conn *c = &s->conns[i];
        memset(c, 0, sizeof(*c));
        uint8_t *base = mem->bufmem + i * (mem->sndbuf + mem->rcvbuf);
        netbuf_init(&c->snd, base, mem->sndbuf);
        netbuf_init(&c->rcv, base + mem->sndbuf, mem->rcvbuf);
        c->parent = -1;
    }
    /* Ephemeral ports start somewhere the secret decides, so they are not
     * guessable across boots (RFC 6056). */
    uint64_t h = siphash24(cfg->isn_secret, cfg->mac, ETH_ALEN);
    s->next_port = (uint16_t)(49152 + h % 16384);
    s->ip_id = (uint16_t)(h >> 32);
    struct dhcp_lease fb = {cfg->ip, cfg->netmask, cfg->gateway, cfg->dns, 0};
    if (cfg->dhcp) {
        dhcp_start(&s->dhcp, cfg->mac, (uint32_t)(h >> 16), &fb, now);
    } else {
        s->dhcp.state = DHCP_OFF;
        s->dhcp.fallback = fb;
    }
    apply_config(s);
    net_poll(s, now);
}

void net_poll(struct net_stack *s, uint64_t now)
{
    arp_poll(s, now);
    if (s->cfg.dhcp) {
        uint8_t *out = s->frame + NET_IP_PAYLOAD + UDP_HDR_LEN;
        struct dhcp_tx tx = dhcp_poll(&s->dhcp, now, out, NET_IP_PAYLOAD_MAX - UDP_HDR_LEN);
        apply_config(s);
        dhcp_send(s, tx, now);
    }
    tcp_timers(s, now);
}

uint64_t net_next_deadline(const struct net_stack *s)
{
    uint64_t d = tcp_deadline(s);
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (s->arp[i].state != ARP_FREE && s->arp[i].deadline < d)
            d = s->arp[i].deadline;
    if (s->cfg.dhcp) {
        uint64_t dd = dhcp_deadline(&s->dhcp);
        if (dd < d)
            d = dd;
    }
    return d;
}
