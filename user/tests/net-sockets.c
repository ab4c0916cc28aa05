/*
 * QEMU test program for netstack's sockets seen from a hostile client
 * (docs/network.md, "The netstack service"), with the host script
 * tests/qemu/scripts/net-sockets-host.py listening on 127.0.0.1:HOST_PORT
 * (10.0.2.2 from the guest), which echoes what it gets and reports how
 * each connection ended:
 *
 * - Release closes: sockets A and B to the host; A is released (never
 *   close()d), then released again: the second RELEASE fails and nothing
 *   else happens; the host sees A's end of stream; B still echoes; the
 *   manager counts one socket.
 * - A client that dies mid-transfer: net-victim streams to the host and
 *   exits with a write in flight, still holding its socket; the host sees
 *   that stream end, the manager's count drops back, B still echoes.
 *   Again with a host that never reads (granted as "stall"): the victim
 *   dies with a write held by back-pressure, and its socket still goes.
 * - Shares: net-hog, with a TcpConnector of its own, connects until it is
 *   refused: it gets its capability's share (8: two TCP scopes split the
 *   pool of 16), is refused with overloaded, and while it holds them all
 *   our own connector still connects. Killed, it leaves nothing behind.
 * - UdpSocket (scoped to 10.0.2.2:UDP_PORT from local port 5000): sends
 *   outside the scope and of a bad size are refused; datagrams are echoed
 *   by the host; a flood of 24 while nobody receives leaves the oldest 16
 *   queued and reports 8 dropped, and the next datagram still arrives.
 * - Last, B is released too: no socket is left.
 *
 * Caps: "console", "timer", "manager", "connect" (to 10.0.2.2:HOST_PORT),
 * "hogconnect" (net-hog's, to 10.0.2.2:HOG_PORT), "udp" (UdpSocket),
 * "spawner", "lifetime". Exits with the number of
 * failed checks.
 */
#include <capos/errors.h>

#include "testlib.h"
#include "text/fmt.h"

#define HOST_PORT     47130
#define GATEWAY       0x0a000202u
#define VICTIM_FRAMES 256 /* 1 MiB: it needs little */
#define UDP_PORT      47131
#define HOG_PORT      47132
#define HOG_SHARE     8  /* NS_CONNS 16 / 2 TCP scopes */
#define UDP_QUEUE     16 /* netstack's NS_UDP_QUEUE */
#define UDP_FLOOD     24 /* the host script's FLOOD */

static uint8_t params[4096] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));
static struct capnpc_call c;
static uint32_t timer, mgr, conn, udp;
static uint8_t big[1473];

static void sleep_ms(uint64_t ms)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, ms * 1000000u, 0);
}

/* NetworkManager.status's socket count, or -1. */
static int sockets(void)
{
    NetworkManager_status_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (NetworkManager_status_call(&capos_transport, mgr, &c, &r) != CAPNPC_OK)
        return -1;
    return (int)NetworkManager_status_Results_get_sockets(r);
}

/* Wait up to 10 s for the count to be `want`; the last count seen. */
static int await_sockets(int want)
{
    int n = sockets();
    for (int i = 0; i < 100 && n != want; i++) {
        sleep_ms(100);
        n = sockets();
    }
    return n;
}

static uint32_t dial(void)
{
    for (int tries = 0; tries < 60; tries++) {
        uint32_t rcap[1] = {0};
        TcpConnector_connect_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        capnpc_call_caps(&c, 0, 0, rcap, 1);
        if (TcpConnector_connect_call(&capos_transport, conn, &c, GATEWAY, HOST_PORT, &r) ==
                CAPNPC_OK &&
            c.reply.ncaps == 1)
            return rcap[0];
        sleep_ms(500); /* the host script is not listening yet */
    }
    return 0;
}

static bool put(uint32_t s, const char *text)
{
    TcpSocket_write_Results_r wr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    uint32_t n = (uint32_t)strlen(text);
    return TcpSocket_write_call(&capos_transport, s, &c, text, n, &wr) == CAPNPC_OK &&
           TcpSocket_write_Results_get_accepted(wr) == n;
}

/* Write text on s and read it back from the host's echo. */
static bool echoes(uint32_t s, const char *text)
{
    if (!put(s, text))
        return false;
    char got[64];
    uint32_t n = 0, want = (uint32_t)strlen(text);
    while (n < want) {
        TcpSocket_read_Results_r rr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (TcpSocket_read_call(&capos_transport, s, &c, want - n, &rr) != CAPNPC_OK)
            return false;
        struct capn_data d = TcpSocket_read_Results_get_data(rr);
        if (d.len == 0 || d.len > want - n)
            return false;
        memcpy(got + n, d.ptr, d.len);
        n += d.len;
    }
    return memcmp(got, text, want) == 0;
}

/* RELEASE now (not batched like capos_release): the CQE's result. */
static int32_t release_now(uint32_t cap)
{
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_RELEASE, .cap = cap, .user_data = capos_ring_next_id()};
    struct capos_cqe cqe = {0};
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &cqe))
        return INT32_MIN;
    return cqe.result;
}

static void release_closes(uint32_t *b)
{
    uint32_t a = dial();
    *b = dial();
    CHECK(a && *b, "connected A and B to 10.0.2.2:%u", HOST_PORT);
    if (!a || !*b)
        return;
    CHECK(put(a, "A") && echoes(*b, "B"), "A and B introduced themselves; B echoes");
    CHECK(await_sockets(2) == 2, "the manager counts 2 sockets");
    int32_t r1 = release_now(a), r2 = release_now(a);
    CHECK(r1 == 0 && r2 < 0, "released A (%d), then again: refused (%d)", r1, r2);
    int n = await_sockets(1);
    CHECK(n == 1, "A's release closed it: %d socket(s) left", n);
    /* The host logs each connection from its own thread: give the one
     * that sees A's end of stream time to log it before B's next bytes
     * arrive (on a loaded host they could otherwise be logged first,
     * though A's FIN was on the wire well before them). */
    sleep_ms(100);
    CHECK(echoes(*b, "still B"), "B still echoes after A's double release");
}

static void victim(uint32_t spawner, uint32_t b, const char *as, int32_t want)
{
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    struct capos_grant g[] = {{as, TcpConnector_INTERFACE_ID, conn},
                              {"console", Console_INTERFACE_ID, console}};
    uint32_t h = test_spawn_quota(spawner, "net-victim", g, 2, VICTIM_FRAMES, 0);
    int32_t code = h ? test_wait_exit(h) : INT32_MIN;
    capos_release(h);
    CHECK(code == want, "net-victim (%s) died mid-transfer holding its socket (exit %d%s%s)", as,
          code, h ? "" : ": ", h ? "" : test_exception_message());
    int n = await_sockets(1);
    CHECK(n == 1, "its socket was closed for it: %d socket(s) left", n);
    sleep_ms(100); /* as in release_closes: the host logs V's end first */
    CHECK(echoes(b, want == 3 ? "B again" : "B after S"),
          "B still echoes after the victim's death");
}

static void hog(uint32_t spawner, uint32_t b)
{
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t hc = capos_capset_find("hogconnect", TcpConnector_INTERFACE_ID, 0);
    struct capos_grant g[] = {{"connect", TcpConnector_INTERFACE_ID, hc},
                              {"console", Console_INTERFACE_ID, console}};
    uint32_t h = test_spawn_quota(spawner, "net-hog", g, 2, VICTIM_FRAMES, 0);
    int n = await_sockets(1 + HOG_SHARE);
    CHECK(h && n == 1 + HOG_SHARE, "net-hog took its share: %d socket(s) with B", n);
    sleep_ms(500); /* its next connect is refused meanwhile, not queued */
    n = sockets();
    uint32_t mine = dial();
    CHECK(n == 1 + HOG_SHARE && mine, "while it holds all it could get (%d), we still connect", n);
    CHECK(mine && echoes(mine, "C"), "and our connection works");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    bool killed = h && ProcessHandle_kill_call(&capos_transport, h, &c, 0) == CAPNPC_OK;
    int32_t code = h ? test_wait_exit(h) : INT32_MIN;
    capos_release(h);
    release_now(mine);
    n = await_sockets(1);
    CHECK(killed && n == 1, "net-hog killed (exit %d): its sockets closed, %d left", code, n);
    CHECK(echoes(b, "B after the hog"), "B still echoes");
}

/* UdpSocket.send: the stub's status. */
static int usend(uint32_t addr, uint16_t port, const void *data, uint32_t len)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return UdpSocket_send_call(&capos_transport, udp, &c, addr, port, data, len, 0);
}

static int ex_type(int rc)
{
    return rc == CAPNPC_EXCEPTION ? (int)CapException_get_type(CapException_read_root(&c.msg)) : -1;
}

/* UdpSocket.receive into text (NUL-terminated); false on failure. */
static bool urecv(char *text, size_t n, uint32_t *from, uint16_t *port, uint32_t *dropped)
{
    UdpSocket_receive_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (UdpSocket_receive_call(&capos_transport, udp, &c, &r) != CAPNPC_OK)
        return false;
    struct capn_data d = UdpSocket_receive_Results_get_data(r);
    if (d.len >= n)
        return false;
    memcpy(text, d.ptr, d.len);
    text[d.len] = 0;
    *from = UdpSocket_receive_Results_get_address(r);
    *port = UdpSocket_receive_Results_get_port(r);
    *dropped = UdpSocket_receive_Results_get_dropped(r);
    return true;
}

static void udp_test(void)
{
    int r1 = usend(GATEWAY, UDP_PORT + 1, "x", 1), r2 = usend(0x0a000203u, UDP_PORT, "x", 1);
    CHECK(ex_type(r1) == CapException_Type_permissionDenied &&
              ex_type(r2) == CapException_Type_permissionDenied,
          "udp: sends to another port or address are refused: permissionDenied");
    r1 = usend(GATEWAY, UDP_PORT, big, 0);
    r2 = usend(GATEWAY, UDP_PORT, big, sizeof(big));
    CHECK(ex_type(r1) == CapException_Type_invalidArgument &&
              ex_type(r2) == CapException_Type_invalidArgument,
          "udp: 0 and 1473 bytes are refused: invalidArgument");
    char text[64], want[16];
    uint32_t from = 0, dropped = 0, echoed = 0;
    uint16_t port = 0;
    for (int i = 0; i < 5; i++) {
        fmt_snprintf(want, sizeof(want), "udp %d", i);
        if (usend(GATEWAY, UDP_PORT, want, (uint32_t)strlen(want)) == CAPNPC_OK &&
            urecv(text, sizeof(text), &from, &port, &dropped) && strcmp(text, want) == 0 &&
            from == GATEWAY && port == UDP_PORT)
            echoed++;
    }
    CHECK(echoed == 5, "udp: 5 datagrams echoed by 10.0.2.2:%u (%u)", UDP_PORT, echoed);
    CHECK(usend(GATEWAY, UDP_PORT, "flood", 5) == CAPNPC_OK, "udp: asked for a flood");
    sleep_ms(2000); /* all of it arrives while nobody receives */
    uint32_t in_order = 0, first_dropped = 0;
    for (int i = 0; i < UDP_QUEUE; i++) {
        fmt_snprintf(want, sizeof(want), "flood %02d", i);
        if (urecv(text, sizeof(text), &from, &port, &dropped) && strcmp(text, want) == 0)
            in_order++;
        if (i == 0)
            first_dropped = dropped;
    }
    CHECK(in_order == UDP_QUEUE && first_dropped == UDP_FLOOD - UDP_QUEUE,
          "udp: the flood left the oldest %u queued (%u), %u reported dropped", UDP_QUEUE, in_order,
          first_dropped);
    bool last = usend(GATEWAY, UDP_PORT, "after", 5) == CAPNPC_OK &&
                urecv(text, sizeof(text), &from, &port, &dropped);
    CHECK(last && strcmp(text, "last") == 0 && dropped == 0,
          "udp: then the next datagram arrives (\"%s\", %u dropped)", last ? text : "", dropped);
}

int main(void)
{
    mgr = capos_capset_find("manager", NetworkManager_INTERFACE_ID, 0);
    conn = capos_capset_find("connect", TcpConnector_INTERFACE_ID, 0);
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    udp = capos_capset_find("udp", UdpSocket_INTERFACE_ID, 0);
    CHECK(mgr && conn && timer && spawner && life && udp,
          "capset: manager, connect, timer, spawner, lifetime, udp");
    if (!mgr || !conn || !timer || !spawner || !life || !udp)
        return 1;
    uint32_t b = 0;
    release_closes(&b);
    if (b) {
        victim(spawner, b, "connect", 3);
        victim(spawner, b, "stall", 4);
        hog(spawner, b);
        udp_test();
        int32_t r = release_now(b);
        int n = await_sockets(0);
        CHECK(r == 0 && n == 0, "released B: %d socket(s) left", n);
    }
    capos_printf("net-sockets: %d failures\n", failures);
    Echo_echo_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, life, &c, "end", 3, &er);
    return failures;
}
