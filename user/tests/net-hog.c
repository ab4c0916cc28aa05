/*
 * QEMU test program, spawned by net-sockets: a client that tries to take
 * every connection netstack has. It connects through its own TcpConnector
 * (the host script's 10.0.2.2:47132) until it is refused, says how many
 * it got and why it was refused, then holds them all, blocked in a read
 * that never ends, until net-sockets kills it. netstack must have stopped
 * it at its capability's share, leaving room for net-sockets' own
 * connector.
 *
 * Caps: "connect", "console". Never exits by itself (1 if it cannot even
 * start).
 */
#include "testlib.h"
#include "text/fmt.h"

#define HOST_PORT 47132
#define GATEWAY   0x0a000202u
#define MAX_TRIES 32 /* more than netstack's whole pool */

static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));

int main(void)
{
    uint32_t conn = capos_capset_find("connect", TcpConnector_INTERFACE_ID, 0);
    if (!conn)
        return 1;
    struct capnpc_call c;
    uint32_t socks[MAX_TRIES];
    int n = 0, rc = CAPNPC_OK;
    while (n < MAX_TRIES) {
        uint32_t rcap[1] = {0};
        TcpConnector_connect_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        capnpc_call_caps(&c, 0, 0, rcap, 1);
        rc = TcpConnector_connect_call(&capos_transport, conn, &c, GATEWAY, HOST_PORT, &r);
        if (rc != CAPNPC_OK || c.reply.ncaps != 1)
            break;
        socks[n++] = rcap[0];
    }
    if (rc == CAPNPC_EXCEPTION) {
        CapException_r e = CapException_read_root(&c.msg);
        struct capn_text m = CapException_get_message(e);
        capos_printf("net-hog: %d connections, then refused: %s: %.*s\n", n,
                     CapException_Type_NAMES[CapException_get_type(e)], (int)m.len,
                     m.str ? m.str : "");
    } else
        capos_printf("net-hog: %d connections, then status %d\n", n, rc);
    if (n == 0)
        return 1;
    TcpSocket_read_Results_r rr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TcpSocket_read_call(&capos_transport, socks[0], &c, 1, &rr); /* the host never sends */
    return 1;
}
