/*
 * Starting and small synchronous calls: the capabilities the gateway
 * needs, the listener, the clock, a socket's peer address, and what a
 * person reads when one of these fails.
 */
#include "gateway.h"

uint64_t gw_now_ms(void)
{
    /* Buffers of its own: it is called between the others' calls. */
    static uint8_t p[64] __attribute__((aligned(8))), res[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    if (Timer_now_call(&capos_transport, gw.timer, &c, &r) != CAPNPC_OK)
        capos_panic("remote-gateway: Timer.now failed");
    return Timer_now_Results_get_ns(r) / 1000000u;
}

void gw_say_failure(const char *what, int rc, struct capnpc_call *c)
{
    struct capn_text m = {0};
    int type = -1;
    if (rc == CAPNPC_EXCEPTION) {
        CapException_r ex = CapException_read_root(&c->msg);
        type = CapException_get_type(ex);
        m = CapException_get_message(ex);
    }
    capos_printf("remote-gateway: %s failed: %s%s%.*s\n", what,
                 type >= 0 && type < CapException_Type_COUNT ? CapException_Type_NAMES[type]
                                                             : "transport error",
                 m.len ? ": " : "", (int)m.len, m.str ? m.str : "");
}

uint32_t gw_need(const char *name, uint64_t iface)
{
    return capos_capset_need("remote-gateway", name, iface);
}

uint32_t gw_listen(uint32_t auth)
{
    static uint8_t p[64] __attribute__((aligned(8))), r[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    uint32_t rcap[1];
    TcpListenAuthority_listen_Results_r lr;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    int rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, GW_PORT, &lr);
    if (rc != CAPNPC_OK || c.reply.ncaps != 1) {
        gw_say_failure("listen on port 2327", rc, &c);
        return 0;
    }
    return rcap[0];
}

void gw_peer_name(uint32_t sock, char *out, size_t size)
{
    static uint8_t p[64] __attribute__((aligned(8))), r[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    TcpSocket_peer_Results_r pr;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (TcpSocket_peer_call(&capos_transport, sock, &c, &pr) != CAPNPC_OK) {
        fmt_snprintf(out, size, "(unknown)");
        return;
    }
    uint32_t a = TcpSocket_peer_Results_get_address(pr);
    fmt_snprintf(out, size, "%u.%u.%u.%u:%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255,
                 TcpSocket_peer_Results_get_port(pr));
}
