/*
 * netstack's capabilities: one endpoint per object, so that a capability
 * is its own scope and nothing a client sends can name another's.
 *
 * Scopes come from the manifest as the service's exports, by name (the
 * owner sides are in the CapSet):
 *   TcpListenAuthority "listen_7" or "listen_7_8080": those ports;
 *   TcpConnector "connect_10_0_2_2_5555_5556": that address, those ports;
 *   UdpSocket "udp_5000_10_0_2_2_53": local port 5000, to and from that
 *   address and those ports (udp.c);
 *   NetworkManager (any name): configuration and counters.
 * Listeners and sockets are endpoints made at run time (EndpointFactory);
 * the caller gets the client facet. Calls that wait (read, write without
 * room, accept, connect) are answered later by call id (ns_progress).
 */
#include "netstack.h"

#include <string.h>

#include "text/fmt.h"

static uint8_t io[NS_IO_MAX] __attribute__((aligned(8)));
static uint8_t reply[NS_IO_MAX + 1024] __attribute__((aligned(8)));
static char msg[256];

static void ret_raw(struct ns_obj *o, uint32_t call_id, const void *m, size_t len, bool ex,
                    struct capos_xfer *x, uint32_t nx)
{
    struct capos_sqe sqe = {.opcode = CAPOS_OP_RETURN,
                            .cap = o->owner,
                            .flags = ex ? CAPOS_SQE_F_EXCEPTION : 0,
                            .call_id = call_id,
                            .params_addr = (uint64_t)m,
                            .params_len = (uint32_t)len,
                            .xfer_count = (uint16_t)nx,
                            .xfer_addr = nx ? (uint64_t)x : 0,
                            .user_data = capos_ring_next_id()};
    struct capos_cqe cqe = {0};
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &cqe))
        capos_panic("netstack: the ring is broken");
    /* A caller that went away: what we meant to give it is still ours. */
    if (cqe.result < 0)
        for (uint32_t i = 0; i < nx; i++)
            capos_release(x[i].cap);
}

__attribute__((format(printf, 4, 5))) void ns_fail(struct ns_obj *o, uint32_t call_id, int type,
                                                   const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    fmt_vsnprintf(msg, sizeof(msg), f, ap);
    va_end(ap);
    size_t n = capos_frame_exception(type, msg, reply, sizeof(reply));
    ret_raw(o, call_id, reply, n, true, 0, 0);
}

/* Results built by the caller (ns_begin: in reply itself, so framing them
 * copies nothing), framed and returned. */
void ns_ret(struct ns_obj *o, uint32_t call_id, struct capn_bld *b, uint32_t cap)
{
    size_t len = 0;
    if (b->err != CAPN_OK || capn_bld_write(b, reply, sizeof(reply), &len) != CAPN_OK) {
        capos_release(cap);
        ns_fail(o, call_id, CapException_Type_failed, "netstack: the results did not fit");
        return;
    }
    struct capos_xfer x = {.cap = cap, .mode = CAPOS_XFER_MOVE};
    ret_raw(o, call_id, reply, len, false, &x, cap ? 1 : 0);
}

static struct capn_seg rseg;
struct capn_bld *ns_begin(void)
{
    static struct capn_bld b;
    capn_bld_init_framed(&b, &rseg, reply, sizeof(reply));
    return &b;
}

static struct ns_obj *new_obj(uint8_t kind)
{
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        struct ns_obj *o = &ns.objs[i];
        if (o->kind != K_FREE)
            continue;
        if (!o->buf && !(o->buf = capos_malloc(NS_RECV_BUF)))
            return 0;
        uint8_t *buf = o->buf;
        memset(o, 0, sizeof(*o));
        o->buf = buf;
        o->kind = kind;
        o->h = -1;
        o->scope = -1;
        return o;
    }
    return 0;
}

/* A run-time object of interface iface: its endpoint, the client facet
 * in *client. NULL (and *why) if there is no room. */
static struct ns_obj *make_obj(uint8_t kind, uint64_t iface, uint32_t *client, const char **why)
{
    struct ns_obj *o = new_obj(kind);
    if (!o) {
        *why = "every one of the service's endpoints is in use";
        return 0;
    }
    static uint8_t p[64] __attribute__((aligned(8))), r[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (capos_endpoint_create(ns.endpoints, iface, &c, &o->owner, client) != CAPNPC_OK) {
        o->kind = K_FREE;
        *why = "EndpointFactory.create failed (capability quota?)";
        return 0;
    }
    return o;
}

/* End an object: its waiting calls fail, its endpoint closes. */
static void end_obj(struct ns_obj *o, const char *why)
{
    if (o->rd_call)
        ns_fail(o, o->rd_call, CapException_Type_disconnected, "read: %s", why);
    if (o->wr_call)
        ns_fail(o, o->wr_call, CapException_Type_disconnected, "write: %s", why);
    if (o->acc_call)
        ns_fail(o, o->acc_call, CapException_Type_disconnected, "accept: %s", why);
    if (o->h >= 0)
        tcp_close(&ns.st, o->h, ns.now);
    if (!o->owned_by_capset)
        capos_release(o->owner);
    capos_flush_releases();
    o->kind = K_FREE; /* a RECV still in flight completes with an error */
    o->h = -1;
}

bool ns_parse_num(const char **s, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint32_t)(*p++ - '0');
        if (v > max)
            return false;
    }
    *s = p;
    *out = v;
    return true;
}

/* "_7_8080" after the prefix: ports 1..65535, at most NS_MAX_PORTS. */
bool ns_parse_ports(const char *s, struct ns_obj *o)
{
    while (*s == '_' && o->nports < NS_MAX_PORTS) {
        s++;
        uint32_t v;
        if (!ns_parse_num(&s, 65535, &v) || v == 0)
            return false;
        o->ports[o->nports++] = (uint16_t)v;
    }
    return *s == 0 && o->nports > 0;
}

static void add_scope(const struct capos_capset_entry *e)
{
    char name[CAPOS_CAPSET_NAME_MAX + 1];
    memcpy(name, e->name, CAPOS_CAPSET_NAME_MAX);
    name[CAPOS_CAPSET_NAME_MAX] = 0;
    uint8_t kind = e->interface_id == TcpListenAuthority_INTERFACE_ID ? K_LISTEN_AUTH
                   : e->interface_id == TcpConnector_INTERFACE_ID     ? K_CONNECTOR
                   : e->interface_id == NetworkManager_INTERFACE_ID   ? K_MANAGER
                   : e->interface_id == UdpSocket_INTERFACE_ID        ? K_UDP
                                                                      : K_FREE;
    if (kind == K_FREE)
        return;
    struct ns_obj *o = new_obj(kind);
    if (!o)
        capos_panic("netstack: more than %u exports", NS_MAX_OBJS);
    o->owner = e->cap;
    o->owned_by_capset = true;
    bool ok = true;
    if (kind == K_LISTEN_AUTH)
        ok = strncmp(name, "listen", 6) == 0 && ns_parse_ports(name + 6, o);
    else if (kind == K_CONNECTOR) {
        const char *s = name + 7;
        uint32_t a[4];
        ok = strncmp(name, "connect", 7) == 0;
        for (int i = 0; ok && i < 4; i++)
            ok = *s++ == '_' && ns_parse_num(&s, 255, &a[i]);
        o->addr = ok ? a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3] : 0;
        ok = ok && ns_parse_ports(s, o);
    } else if (kind == K_UDP)
        ok = ns_udp_add(o, name);
    if (!ok)
        capos_panic("netstack: export \"%s\": expected listen_PORT[_PORT...], "
                    "connect_A_B_C_D_PORT[_PORT...] or udp_PORT_A_B_C_D_PORT[_PORT...] "
                    "(ports 1..65535, at most %u)",
                    name, NS_MAX_PORTS);
    capos_printf("netstack: serving %s \"%s\"\n",
                 kind == K_LISTEN_AUTH ? "TcpListenAuthority"
                 : kind == K_CONNECTOR ? "TcpConnector"
                 : kind == K_UDP       ? "UdpSocket"
                                       : "NetworkManager",
                 name);
}

void ns_objs_init(void)
{
    const struct capos_capset *cs = capos_capset();
    for (uint32_t i = 0; i < cs->count && i < CAPOS_CAPSET_MAX_ENTRIES; i++)
        add_scope(&cs->entries[i]);
}

void ns_post_recvs(void)
{
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        struct ns_obj *o = &ns.objs[i];
        if (o->kind == K_FREE || o->recv_ud)
            continue;
        bool side = o->hold;
        if (side && (o->kind != K_SOCKET || o->side_blocked))
            continue;
        /* Listeners and sockets end when their last client reference
         * goes (released, or its holder died): the kernel completes this
         * RECV with CAPOS_CQE_F_CLIENTS_GONE. The manifest's scopes stay. */
        bool run_time = o->kind == K_LISTENER || o->kind == K_SOCKET;
        struct capos_sqe sqe = {.opcode = CAPOS_OP_RECV,
                                .flags = run_time ? CAPOS_SQE_F_CLIENTS_GONE : 0,
                                .cap = o->owner,
                                .result_addr = (uint64_t)(side ? o->side : o->buf),
                                .result_len = side ? NS_SIDE_BUF : NS_RECV_BUF,
                                .user_data = capos_ring_next_id()};
        if (!capos_ring_submit(&sqe))
            capos_panic("netstack: could not queue a RECV");
        o->recv_ud = sqe.user_data;
        o->side_recv = side;
    }
}

uint32_t ns_sockets(void)
{
    uint32_t n = 0;
    for (int i = 0; i < NS_MAX_OBJS; i++)
        n += ns.objs[i].kind == K_SOCKET;
    return n;
}

const char *ns_ip_str(uint32_t ip, char *b)
{
    fmt_snprintf(b, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
    return b;
}

const char *ns_ports_str(const struct ns_obj *o, char *b, size_t n)
{
    size_t at = 0;
    b[0] = 0;
    for (int i = 0; i < o->nports && at < n; i++)
        at += (size_t)fmt_snprintf(b + at, n - at, i ? ", %u" : "%u", o->ports[i]);
    return b;
}

bool ns_in_scope(const struct ns_obj *o, uint32_t port)
{
    for (int i = 0; i < o->nports; i++)
        if (o->ports[i] == port)
            return true;
    return false;
}

static const char *sock_err(int e)
{
    switch (e) {
    case NET_ECONNRESET:
        return "the peer reset the connection";
    case NET_ETIMEDOUT:
        return "the peer stopped answering (retransmissions exhausted)";
    case NET_ECONNREFUSED:
        return "the peer refused the connection";
    case NET_EPIPE:
        return "the connection was shut down for writing";
    case NET_ENOTCONN:
        return "the connection is not open";
    case NET_ENETUNREACH:
        return "no address is configured yet";
    case NET_ENOMEM:
        return "every connection of the service is in use";
    case NET_EADDRINUSE:
        return "the port is already listened on";
    default:
        return "the connection is gone";
    }
}

/* Listen authority, connector, manager. */
static void call_scope(struct ns_obj *o, uint32_t id, uint16_t method, struct capn_msg *m)
{
    char a[16], p[64];
    struct capn_bld *b = ns_begin();
    if (o->kind == K_MANAGER && method == NetworkManager_status_METHOD) {
        NetworkManager_status_Results_b r = NetworkManager_status_Results_build_root(b);
        const struct net_counters *c = &ns.st.ctr;
        NetworkManager_status_Results_set_address(r, ns.st.ip);
        NetworkManager_status_Results_set_netmask(r, ns.st.netmask);
        NetworkManager_status_Results_set_gateway(r, ns.st.gateway);
        NetworkManager_status_Results_set_dhcp(r, ns.st.ip && ns.st.dhcp.state != DHCP_FALLBACK &&
                                                      ns.st.dhcp.state != DHCP_OFF);
        NetworkManager_status_Results_set_rxFrames(r, c->rx_frames);
        NetworkManager_status_Results_set_txFrames(r, c->tx_frames);
        NetworkManager_status_Results_set_tcpIn(r, c->tcp_in);
        NetworkManager_status_Results_set_tcpOut(r, c->tcp_out);
        NetworkManager_status_Results_set_tcpRetransmits(r, c->tcp_retrans);
        NetworkManager_status_Results_set_dropped(
            r, c->rx_bad_eth + c->rx_other_type + c->arp_bad + c->ip_bad + c->ip_bad_csum +
                   c->ip_fragments + c->ip_not_ours + c->ip_bad_proto + c->icmp_bad + c->udp_bad +
                   c->udp_no_port + c->tcp_bad + c->tcp_no_conn);
        NetworkManager_status_Results_set_sockets(r, ns_sockets());
        NetworkManager_status_Results_set_tcpSynEvicted(r, c->tcp_syn_evicted);
        NetworkManager_status_Results_set_tcpBacklogDrops(r, c->tcp_backlog_drops);
        ns_ret(o, id, b, 0);
    } else if (o->kind == K_MANAGER && method == NetworkManager_ping_METHOD) {
        uint32_t addr =
            NetworkManager_ping_Params_get_address(NetworkManager_ping_Params_read_root(m));
        if (!ns.st.ip)
            return ns_fail(o, id, CapException_Type_failed, "ping: no address is configured yet");
        if (addr != ns.st.gateway || !addr)
            return ns_fail(o, id, CapException_Type_permissionDenied,
                           "ping: %s is not the gateway (%s)", ns_ip_str(addr, a),
                           ns_ip_str(ns.st.gateway, p));
        if (o->rd_call)
            return ns_fail(o, id, CapException_Type_overloaded, "ping: another ping is waiting");
        static uint16_t seq;
        static const char payload[] = "capOS NetworkManager.ping";
        o->ping_seq = ++seq;
        if (net_ping(&ns.st, addr, NS_PING_ID, o->ping_seq, payload, sizeof(payload) - 1, ns.now) <
            0)
            return ns_fail(o, id, CapException_Type_failed, "ping: the request was not sent");
        o->rd_call = id;
        o->conn_start = ns.now;
    } else if (o->kind == K_LISTEN_AUTH && method == TcpListenAuthority_ports_METHOD) {
        TcpListenAuthority_ports_Results_b r = TcpListenAuthority_ports_Results_build_root(b);
        List_UInt16_b l = TcpListenAuthority_ports_Results_init_ports(r, o->nports);
        for (int i = 0; i < o->nports; i++)
            List_UInt16_set(l, (uint32_t)i, o->ports[i]);
        ns_ret(o, id, b, 0);
    } else if (o->kind == K_LISTEN_AUTH && method == TcpListenAuthority_listen_METHOD) {
        TcpListenAuthority_listen_Params_r q = TcpListenAuthority_listen_Params_read_root(m);
        uint16_t port = TcpListenAuthority_listen_Params_get_port(q);
        if (!ns_in_scope(o, port))
            return ns_fail(o, id, CapException_Type_permissionDenied,
                           "listen: port %u is not in this authority's scope (allowed: %s)", port,
                           ns_ports_str(o, p, sizeof(p)));
        if (!ns_share_room(o->scope, true, p, sizeof(p)))
            return ns_fail(o, id, CapException_Type_overloaded, "listen: port %u: %s", port, p);
        int h = tcp_listen(&ns.st, port, NS_BACKLOG);
        if (h < 0)
            return ns_fail(o, id, CapException_Type_failed, "listen: port %u: %s", port,
                           sock_err(h));
        ns_share_opened(h, o->scope);
        uint32_t client;
        const char *why;
        struct ns_obj *l = make_obj(K_LISTENER, TcpListener_INTERFACE_ID, &client, &why);
        if (!l) {
            tcp_close(&ns.st, h, ns.now);
            return ns_fail(o, id, CapException_Type_overloaded, "listen: port %u: %s", port, why);
        }
        l->h = h;
        l->scope = o->scope;
        l->ports[0] = port;
        l->nports = 1;
        TcpListenAuthority_listen_Results_set_listener(
            TcpListenAuthority_listen_Results_build_root(b), 0);
        ns_ret(o, id, b, client);
    } else if (o->kind == K_CONNECTOR && method == TcpConnector_connect_METHOD) {
        TcpConnector_connect_Params_r q = TcpConnector_connect_Params_read_root(m);
        uint32_t addr = TcpConnector_connect_Params_get_address(q);
        uint16_t port = TcpConnector_connect_Params_get_port(q);
        if (addr != o->addr || !ns_in_scope(o, port))
            return ns_fail(o, id, CapException_Type_permissionDenied,
                           "connect: %s port %u is not in this connector's scope (%s ports %s)",
                           ns_ip_str(addr, a), port, ns_ip_str(o->addr, p + 48),
                           ns_ports_str(o, p, 48));
        char why[96];
        if (!ns_share_room(o->scope, true, why, sizeof(why)))
            return ns_fail(o, id, CapException_Type_overloaded, "connect: %s port %u: %s",
                           ns_ip_str(addr, a), port, why);
        int h = tcp_connect(&ns.st, addr, port, ns.now);
        if (h >= 0)
            ns_share_opened(h, o->scope);
        if (h < 0)
            return ns_fail(o, id, CapException_Type_failed, "connect: %s port %u: %s",
                           ns_ip_str(addr, a), port, sock_err(h));
        o->h = h;
        o->conn_call = id;
        o->conn_start = ns.now;
        o->hold = true; /* one connect at a time per connector */
    } else
        ns_fail(o, id, CapException_Type_unimplemented, "no such method (%u) on this interface",
                method);
}

static void call_conn(struct ns_obj *o, uint32_t id, uint16_t method, struct capn_msg *m,
                      const struct capos_recv_header *h)
{
    struct capn_bld *b = ns_begin();
    if (o->kind == K_LISTENER) {
        if (method == TcpListener_accept_METHOD) {
            if (o->acc_call)
                return ns_fail(o, id, CapException_Type_overloaded,
                               "accept: another accept is already waiting on port %u", o->ports[0]);
            o->acc_call = id;
        } else if (method == TcpListener_port_METHOD) {
            TcpListener_port_Results_set_port(TcpListener_port_Results_build_root(b), o->ports[0]);
            ns_ret(o, id, b, 0);
        } else if (method == TcpListener_close_METHOD) {
            ns_ret(o, id, b, 0);
            end_obj(o, "the listener was closed");
        } else
            ns_fail(o, id, CapException_Type_unimplemented, "no such method (%u) on TcpListener",
                    method);
        return;
    }
    if (method == TcpSocket_read_METHOD) {
        uint32_t max = TcpSocket_read_Params_get_max(TcpSocket_read_Params_read_root(m));
        if (max == 0 || max > NS_IO_MAX)
            return ns_fail(o, id, CapException_Type_invalidArgument,
                           "read: max is %u; expected 1..%u", max, NS_IO_MAX);
        if (o->rd_call)
            return ns_fail(o, id, CapException_Type_overloaded, "read: another read is waiting");
        o->rd_call = id;
        o->rd_max = max;
    } else if (method == TcpSocket_write_METHOD) {
        struct capn_data d = TcpSocket_write_Params_get_data(TcpSocket_write_Params_read_root(m));
        if (d.len == 0 || d.len > NS_IO_MAX)
            return ns_fail(o, id, CapException_Type_invalidArgument,
                           "write: %u bytes; expected 1..%u", d.len, NS_IO_MAX);
        if (o->wr_call)
            return ns_fail(o, id, CapException_Type_overloaded, "write: another write is waiting");
        /* d points into buf, which the RECV filled: hold it (RECVs go to
         * side meanwhile) until the bytes are queued. A small write that
         * came through side (the side RECV outlived the last write) moves
         * to buf, which is free, since side takes the next RECV. */
        if (o->side_recv) {
            memcpy(o->buf, d.ptr, d.len);
            d.ptr = (const void *)o->buf;
        }
        (void)h;
        o->wr_call = id;
        o->wr_data = d.ptr;
        o->wr_len = d.len;
        o->hold = true;
    } else if (method == TcpSocket_shutdown_METHOD) {
        int e = tcp_shutdown(&ns.st, o->h, ns.now);
        if (e < 0)
            return ns_fail(o, id, CapException_Type_failed, "shutdown: %s", sock_err(e));
        ns_ret(o, id, b, 0);
    } else if (method == TcpSocket_peer_METHOD) {
        TcpSocket_peer_Results_b r = TcpSocket_peer_Results_build_root(b);
        TcpSocket_peer_Results_set_address(r, ns.st.conns[o->h].rip);
        TcpSocket_peer_Results_set_port(r, ns.st.conns[o->h].rport);
        ns_ret(o, id, b, 0);
    } else if (method == TcpSocket_close_METHOD) {
        ns_ret(o, id, b, 0);
        end_obj(o, "the socket was closed");
    } else
        ns_fail(o, id, CapException_Type_unimplemented, "no such method (%u) on TcpSocket", method);
}

bool ns_on_cqe(const struct capos_cqe *cqe)
{
    struct ns_obj *o = 0;
    for (int i = 0; i < NS_MAX_OBJS && !o; i++)
        if (ns.objs[i].recv_ud == cqe->user_data)
            o = &ns.objs[i];
    if (!o)
        return false; /* a RETURN's or a released endpoint's late RECV */
    o->recv_ud = 0;
    if (o->kind == K_FREE)
        return true;
    if (cqe->flags & CAPOS_CQE_F_CLIENTS_GONE) {
        ns.released++;
        end_obj(o, "the capability was released");
        return true;
    }
    if (cqe->result == CAPOS_E_RESULT_TOO_SMALL && o->side_recv) {
        o->side_blocked = o->hold; /* the call stays queued for buf */
        return true;
    }
    if (cqe->result < 0) {
        capos_printf("netstack: RECV failed (%d); dropping the object\n", cqe->result);
        end_obj(o, "the endpoint failed");
        return true;
    }
    uint8_t *buf = o->side_recv ? o->side : o->buf;
    uint32_t cap = o->side_recv ? NS_SIDE_BUF : NS_RECV_BUF;
    const struct capos_recv_header *h = (const void *)buf;
    const struct capos_cap_record *caps = (const void *)(buf + sizeof(*h));
    for (uint32_t i = 0; i < h->cap_count && i < CAPOS_MAX_XFER; i++)
        capos_release(caps[i].cap); /* no method takes a capability */
    struct capn_seg segs[8];
    struct capn_msg m;
    if (h->params_offset > cap || h->params_len > cap - h->params_offset ||
        capn_msg_read(&m, segs, 8, buf + h->params_offset, h->params_len, 0) != CAPN_OK)
        return ns_fail(o, cqe->call_id, CapException_Type_invalidArgument,
                       "the params are not a well-formed message"),
               true;
    if (o->kind == K_LISTENER || o->kind == K_SOCKET)
        call_conn(o, cqe->call_id, h->method, &m, h);
    else if (o->kind == K_UDP)
        ns_udp_call(o, cqe->call_id, h->method, &m);
    else
        call_scope(o, cqe->call_id, h->method, &m);
    return true;
}

/* A new socket object for handle h, returned to call id on o; false if
 * there is no room (then h is reset and the call failed). */
static void give_socket(struct ns_obj *o, uint32_t id, int h, const char *what)
{
    uint32_t client;
    const char *why;
    struct ns_obj *s = make_obj(K_SOCKET, TcpSocket_INTERFACE_ID, &client, &why);
    if (!s) {
        tcp_abort(&ns.st, h, ns.now);
        return ns_fail(o, id, CapException_Type_overloaded, "%s: %s", what, why);
    }
    s->h = h;
    s->scope = o->scope;
    /* Writes arrive as whole calls of up to NS_IO_MAX bytes, not as
     * tinygrams: Nagle would only hold each call's last partial segment
     * for the peer's delayed ACK. */
    tcp_set_nodelay(&ns.st, h, true);
    struct capn_bld *b = ns_begin();
    if (o->kind == K_LISTENER)
        TcpListener_accept_Results_set_socket(TcpListener_accept_Results_build_root(b), 0);
    else
        TcpConnector_connect_Results_set_socket(TcpConnector_connect_Results_build_root(b), 0);
    ns_ret(o, id, b, client);
}

static bool progress_one(struct ns_obj *o)
{
    bool did = false;
    char why[96];
    /* Without room in its scope's share the accept waits (the child stays
     * pending, and the backlog stops new ones). */
    if (o->kind == K_LISTENER && o->acc_call && ns_share_room(o->scope, false, why, sizeof(why))) {
        int c = tcp_accept(&ns.st, o->h);
        if (c >= 0) {
            ns_share_opened(c, o->scope);
            uint32_t id = o->acc_call;
            o->acc_call = 0;
            give_socket(o, id, c, "accept");
            did = true;
        }
    }
    if (o->kind == K_CONNECTOR && o->conn_call) {
        int st = tcp_get_state(&ns.st, o->h), e = tcp_get_error(&ns.st, o->h);
        uint32_t id = o->conn_call;
        if (st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT) {
            o->conn_call = 0;
            give_socket(o, id, o->h, "connect");
        } else if (e || st == TCP_CLOSED || ns.now >= o->conn_start + NS_CONNECT_MAX) {
            o->conn_call = 0;
            tcp_abort(&ns.st, o->h, ns.now);
            ns_fail(o, id, CapException_Type_failed, "connect: %s",
                    e ? sock_err(e) : "no answer to the handshake in 30 s");
        }
        if (!o->conn_call) {
            o->h = -1;
            o->hold = false;
            did = true;
        }
    }
    if (o->kind == K_UDP)
        return ns_udp_progress(o);
    if (o->kind == K_MANAGER && o->rd_call && ns.now >= o->conn_start + NS_PING_MAX) {
        uint32_t id = o->rd_call;
        o->rd_call = 0;
        ns_fail(o, id, CapException_Type_failed, "ping: no reply in %u ms", NS_PING_MAX);
        return true;
    }
    if (o->kind != K_SOCKET)
        return did;
    if (o->rd_call) {
        long n = tcp_read(&ns.st, o->h, io, o->rd_max, ns.now);
        if (n != NET_EAGAIN) {
            uint32_t id = o->rd_call;
            o->rd_call = 0;
            did = true;
            if (n < 0)
                ns_fail(o, id, CapException_Type_failed, "read: %s", sock_err((int)n));
            else {
                struct capn_bld *b = ns_begin();
                TcpSocket_read_Results_set_data(TcpSocket_read_Results_build_root(b), io,
                                                (uint32_t)n);
                ns_ret(o, id, b, 0);
            }
        }
    }
    if (o->wr_call) {
        long n = tcp_write(&ns.st, o->h, o->wr_data, o->wr_len, ns.now);
        if (n != NET_EAGAIN && n != 0) {
            uint32_t id = o->wr_call;
            o->wr_call = 0;
            o->hold = false;
            o->side_blocked = false;
            did = true;
            if (n < 0)
                ns_fail(o, id, CapException_Type_failed, "write: %s", sock_err((int)n));
            else {
                struct capn_bld *b = ns_begin();
                TcpSocket_write_Results_set_accepted(TcpSocket_write_Results_build_root(b),
                                                     (uint32_t)n);
                ns_ret(o, id, b, 0);
            }
        }
    }
    return did;
}

void ns_ping_reply(uint32_t src, uint16_t id, uint16_t seq)
{
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        struct ns_obj *o = &ns.objs[i];
        if (o->kind != K_MANAGER || !o->rd_call || id != NS_PING_ID || seq != o->ping_seq ||
            src != ns.st.gateway)
            continue;
        struct capn_bld *b = ns_begin();
        NetworkManager_ping_Results_set_rttMs(NetworkManager_ping_Results_build_root(b),
                                              (uint32_t)(ns.now - o->conn_start));
        uint32_t call = o->rd_call;
        o->rd_call = 0;
        ns_ret(o, call, b, 0);
    }
}

uint64_t ns_deadline(uint64_t dl)
{
    for (int i = 0; i < NS_MAX_OBJS; i++) {
        const struct ns_obj *o = &ns.objs[i];
        if (o->conn_call && o->conn_start + NS_CONNECT_MAX < dl)
            dl = o->conn_start + NS_CONNECT_MAX;
        if (o->kind == K_MANAGER && o->rd_call && o->conn_start + NS_PING_MAX < dl)
            dl = o->conn_start + NS_PING_MAX;
    }
    return dl;
}

bool ns_progress(void)
{
    bool did = false;
    for (int i = 0; i < NS_MAX_OBJS; i++)
        if (ns.objs[i].kind != K_FREE)
            did |= progress_one(&ns.objs[i]);
    return did;
}
