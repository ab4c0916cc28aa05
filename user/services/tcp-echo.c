/*
 * tcp-echo: the TCP echo service (RFC 862) on the netstack service. It
 * holds a TcpListenAuthority ("listen") and listens on the first port that
 * authority allows; each connection is echoed until the peer's end of
 * stream, then shut down and closed, one connection at a time. When the
 * network service goes away (its lifetime link ended, or there is no
 * device), calls fail with `disconnected` and the program exits (0).
 *
 * Caps: "listen" (TcpListenAuthority), "console".
 */
#include "svc.h"

#define CHUNK 32768

static uint8_t params[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t results[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t data[CHUNK];

static int call_failed(const char *what, int rc, struct capnpc_call *c)
{
    struct capn_text m = {0};
    int type = svc_failure(rc, c, &m);
    capos_printf("tcp-echo: %s failed: %s: %.*s\n", what,
                 type >= 0 ? CapException_Type_NAMES[type] : "transport", (int)m.len,
                 m.str ? m.str : "");
    return type;
}

/* Echo one connection; bytes echoed, or -1 after a failed call. */
static long echo(uint32_t sock)
{
    struct capnpc_call c;
    long total = 0;
    for (;;) {
        TcpSocket_read_Results_r rr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        int rc = TcpSocket_read_call(&capos_transport, sock, &c, CHUNK, &rr);
        if (rc != CAPNPC_OK)
            return call_failed("read", rc, &c), -1;
        struct capn_data d = TcpSocket_read_Results_get_data(rr);
        if (d.len == 0 || d.len > CHUNK)
            break; /* end of stream */
        uint32_t n = d.len;
        memcpy(data, d.ptr, n);
        for (uint32_t off = 0; off < n;) {
            TcpSocket_write_Results_r wr;
            capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
            rc = TcpSocket_write_call(&capos_transport, sock, &c, data + off, n - off, &wr);
            uint32_t acc = rc == CAPNPC_OK ? TcpSocket_write_Results_get_accepted(wr) : 0;
            if (rc != CAPNPC_OK || acc == 0 || acc > n - off)
                return rc == CAPNPC_OK ? -1 : (call_failed("write", rc, &c), -1);
            off += acc;
        }
        total += n;
    }
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = TcpSocket_shutdown_call(&capos_transport, sock, &c, 0);
    if (rc != CAPNPC_OK)
        return call_failed("shutdown", rc, &c), -1;
    return total;
}

int main(void)
{
    svc_name = "tcp-echo";
    uint32_t auth = svc_need("listen", TcpListenAuthority_INTERFACE_ID);
    struct capnpc_call c;
    TcpListenAuthority_ports_Results_r pr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = TcpListenAuthority_ports_call(&capos_transport, auth, &c, &pr);
    List_UInt16_r ports = TcpListenAuthority_ports_Results_get_ports(pr);
    if (rc != CAPNPC_OK || List_UInt16_len(ports) == 0)
        return call_failed("ports", rc, &c) == CapException_Type_disconnected ? 0 : 1;
    uint16_t port = List_UInt16_get(ports, 0);

    uint32_t rcap[1];
    TcpListenAuthority_listen_Results_r lr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, port, &lr);
    if (rc != CAPNPC_OK || c.reply.ncaps != 1)
        return call_failed("listen", rc, &c) == CapException_Type_disconnected ? 0 : 1;
    uint32_t listener = rcap[0];
    capos_printf("tcp-echo: listening on port %u\n", port);
    for (;;) {
        TcpListener_accept_Results_r ar;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        capnpc_call_caps(&c, 0, 0, rcap, 1);
        rc = TcpListener_accept_call(&capos_transport, listener, &c, &ar);
        if (rc != CAPNPC_OK || c.reply.ncaps != 1) {
            int type = call_failed("accept", rc, &c);
            return type == CapException_Type_disconnected ? 0 : 1;
        }
        uint32_t sock = rcap[0];
        TcpSocket_peer_Results_r peer;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        rc = TcpSocket_peer_call(&capos_transport, sock, &c, &peer);
        uint32_t a = rc == CAPNPC_OK ? TcpSocket_peer_Results_get_address(peer) : 0;
        uint16_t p = rc == CAPNPC_OK ? TcpSocket_peer_Results_get_port(peer) : 0;
        long n = echo(sock);
        capos_printf("tcp-echo: connection from %u.%u.%u.%u:%u: %ld bytes echoed\n", a >> 24,
                     a >> 16 & 255, a >> 8 & 255, a & 255, p, n);
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        TcpSocket_close_call(&capos_transport, sock, &c, 0);
        capos_release(sock);
    }
}
