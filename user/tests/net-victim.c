/*
 * QEMU test program, spawned by net-sockets: a client that dies in the
 * middle of a transfer. It connects to the host script's listener, says
 * "V", streams a pattern for a while, then exits with a write still in
 * flight and the TcpSocket still in its table, never calling close().
 * netstack must learn from the kernel that the socket's last client
 * reference went (CAPOS_CQE_F_CLIENTS_GONE) and close the connection; the
 * host script sees its end of stream.
 *
 * Granted its connector as "stall" instead, it says "S": the host never
 * reads that connection, so writes stop completing (back-pressure), and
 * it exits once one has waited a second: netstack holds that write's
 * buffer and must still learn of the death (its side RECV, objs.c).
 *
 * Caps: "connect" or "stall" (TcpConnector to 10.0.2.2:HOST_PORT),
 * "console". Exits with 3 (4 stalled) when it died as planned, 1 if it
 * could not get that far.
 */
#include "testlib.h"

#define HOST_PORT    47130
#define GATEWAY      0x0a000202u
#define CHUNK        16384
#define WRITES       32   /* calls, then one more left in flight */
#define STALL_WRITES 4096 /* 64 MiB: far more than the host buffers */

static uint8_t params[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));
static uint8_t chunk[CHUNK];

/* Write until a write waits a second, then exit with it waiting. */
static int stalled(uint32_t s)
{
    struct capnpc_call c;
    chunk[0] = 'S';
    for (int i = 0; i < STALL_WRITES; i++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        TcpSocket_write_Params_b p = TcpSocket_write_begin(&c);
        TcpSocket_write_Params_set_data(p, chunk, CHUNK);
        uint64_t ud = capos_ring_next_id();
        if (!capos_call_start(&c, s, TcpSocket_INTERFACE_ID, TcpSocket_write_METHOD, ud))
            return 1;
        struct capos_cqe cqe;
        bool done = false;
        for (int t = 0; t < 10 && !done; t++)
            if (!(done = capos_ring_try_take(ud, &cqe)))
                capos_cap_enter(1, 100000000u); /* 100 ms */
        if (!done && !capos_ring_try_take(ud, &cqe)) {
            capos_printf("net-victim: a write has waited 1 s (back-pressure); dying with it\n");
            capos_exit(4);
        }
        chunk[0] = (uint8_t)i;
    }
    return 1;
}

int main(void)
{
    uint32_t conn = capos_capset_find("connect", TcpConnector_INTERFACE_ID, 0);
    uint32_t stall = capos_capset_find("stall", TcpConnector_INTERFACE_ID, 0);
    if (!conn)
        conn = stall;
    if (!conn)
        return 1;
    struct capnpc_call c;
    uint32_t rcap[1] = {0};
    TcpConnector_connect_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    if (TcpConnector_connect_call(&capos_transport, conn, &c, GATEWAY, HOST_PORT, &r) !=
            CAPNPC_OK ||
        c.reply.ncaps != 1)
        return 1;
    uint32_t s = rcap[0];
    if (stall)
        return stalled(s);
    chunk[0] = 'V';
    for (uint32_t i = 1; i < CHUNK; i++)
        chunk[i] = (uint8_t)(i * 5u);
    for (int i = 0; i < WRITES; i++) {
        TcpSocket_write_Results_r wr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (TcpSocket_write_call(&capos_transport, s, &c, chunk, i ? CHUNK : 1, &wr) != CAPNPC_OK)
            return 1;
        chunk[0] = (uint8_t)i;
    }
    capos_printf("net-victim: wrote; dying with a write in flight and the socket held\n");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TcpSocket_write_Params_b p = TcpSocket_write_begin(&c);
    TcpSocket_write_Params_set_data(p, chunk, CHUNK);
    if (!capos_call_start(&c, s, TcpSocket_INTERFACE_ID, TcpSocket_write_METHOD,
                          capos_ring_next_id()))
        return 1;
    capos_cap_enter(0, 0); /* the write reaches netstack; we do not wait */
    capos_exit(3);
}
