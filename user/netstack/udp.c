/*
 * netstack's UdpSocket: one local port per export, scoped by the export's
 * name udp_LOCALPORT_A_B_C_D_PORT[_PORT...] to one remote address and its
 * listed ports. It sends only there and keeps only datagrams from there:
 * a socket that could hear anyone would let any host on the network fill
 * its queue and be answered by a client that cannot tell them apart.
 *
 * Received datagrams wait in a queue of NS_UDP_QUEUE, allocated once with
 * the socket (about 24 KiB, charged to netstack's quota); when it is full
 * the newest is dropped and counted, and the next receive reports the
 * count. A waiting receive is answered from ns_udp_progress.
 */
#include "netstack.h"

#include <string.h>

struct ns_dgram {
    uint32_t src;
    uint16_t sport;
    uint16_t len;
    uint8_t data[NS_UDP_MAX];
};

struct ns_udp {
    uint16_t lport;
    unsigned head, n; /* the queue: q[head] is the oldest of n */
    uint32_t dropped; /* since the last receive */
    struct ns_dgram q[NS_UDP_QUEUE];
};

/* lib/net's callback for our port: queue what the scope allows. */
static void on_datagram(void *ctx, uint32_t src, uint16_t sport, const uint8_t *data, size_t len)
{
    struct ns_obj *o = ctx;
    if (o->kind != K_UDP)
        return; /* its endpoint failed and the object ended (objs.c) */
    struct ns_udp *u = o->udp;
    if (src != o->addr || !ns_in_scope(o, sport))
        return; /* outside the scope: never seen by the client */
    if (u->n == NS_UDP_QUEUE || len > NS_UDP_MAX) {
        u->dropped++;
        return;
    }
    struct ns_dgram *d = &u->q[(u->head + u->n++) % NS_UDP_QUEUE];
    d->src = src;
    d->sport = sport;
    d->len = (uint16_t)len;
    memcpy(d->data, data, len);
}

bool ns_udp_add(struct ns_obj *o, const char *name)
{
    const char *s = name + 4;
    uint32_t lport, a[4];
    if (strncmp(name, "udp_", 4) != 0 || !ns_parse_num(&s, 65535, &lport) || lport == 0)
        return false;
    for (int i = 0; i < 4; i++)
        if (*s++ != '_' || !ns_parse_num(&s, 255, &a[i]))
            return false;
    o->addr = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    if (!ns_parse_ports(s, o))
        return false;
    o->udp = capos_malloc(sizeof(*o->udp));
    if (!o->udp)
        capos_panic("netstack: no memory for UdpSocket \"%s\"'s queue", name);
    memset(o->udp, 0, sizeof(*o->udp));
    o->udp->lport = (uint16_t)lport;
    if (net_udp_bind(&ns.st, (uint16_t)lport, on_datagram, o) < 0)
        capos_panic("netstack: UdpSocket \"%s\": port %u is taken or every UDP port is in use",
                    name, lport);
    return true;
}

void ns_udp_call(struct ns_obj *o, uint32_t id, uint16_t method, struct capn_msg *m)
{
    char a[16], p[64];
    if (method == UdpSocket_receive_METHOD) {
        if (o->rd_call)
            return ns_fail(o, id, CapException_Type_overloaded,
                           "receive: another receive is already waiting");
        o->rd_call = id;
        return;
    }
    if (method != UdpSocket_send_METHOD)
        return ns_fail(o, id, CapException_Type_unimplemented, "no such method (%u) on UdpSocket",
                       method);
    UdpSocket_send_Params_r q = UdpSocket_send_Params_read_root(m);
    uint32_t addr = UdpSocket_send_Params_get_address(q);
    uint16_t port = UdpSocket_send_Params_get_port(q);
    struct capn_data d = UdpSocket_send_Params_get_data(q);
    if (addr != o->addr || !ns_in_scope(o, port))
        return ns_fail(o, id, CapException_Type_permissionDenied,
                       "send: %s port %u is not in this socket's scope (%s ports %s)",
                       ns_ip_str(addr, a), port, ns_ip_str(o->addr, p + 48),
                       ns_ports_str(o, p, 48));
    if (d.len == 0 || d.len > NS_UDP_MAX)
        return ns_fail(o, id, CapException_Type_invalidArgument, "send: %u bytes; expected 1..%u",
                       d.len, NS_UDP_MAX);
    int e = net_udp_send(&ns.st, addr, o->udp->lport, port, d.ptr, d.len, ns.now);
    if (e < 0)
        return ns_fail(o, id, CapException_Type_failed, "send: %s",
                       e == NET_ENETUNREACH ? "no address is configured yet"
                                            : "the datagram could not be built");
    ns_ret(o, id, ns_begin(), 0);
}

bool ns_udp_progress(struct ns_obj *o)
{
    struct ns_udp *u = o->udp;
    if (!o->rd_call || u->n == 0)
        return false;
    struct ns_dgram *d = &u->q[u->head];
    struct capn_bld *b = ns_begin();
    UdpSocket_receive_Results_b r = UdpSocket_receive_Results_build_root(b);
    UdpSocket_receive_Results_set_address(r, d->src);
    UdpSocket_receive_Results_set_port(r, d->sport);
    UdpSocket_receive_Results_set_data(r, d->data, d->len);
    UdpSocket_receive_Results_set_dropped(r, u->dropped);
    u->head = (u->head + 1) % NS_UDP_QUEUE;
    u->n--;
    u->dropped = 0;
    uint32_t id = o->rd_call;
    o->rd_call = 0;
    ns_ret(o, id, b, 0);
    return true;
}
