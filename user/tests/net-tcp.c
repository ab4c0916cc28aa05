/*
 * QEMU test program for the netstack service, in the guest beside
 * tcp-echo (which the host script reaches through a forwarded port):
 *
 * - NetworkManager.status: 10.0.2.15/24 from DHCP, gateway 10.0.2.2.
 * - TcpListenAuthority scoped to port 9: listen(7) (tcp-echo's port) and
 *   listen(80) are refused with permissionDenied naming the port and the
 *   allowed one; listen(9) works, twice no (failed: in use).
 * - TcpConnector scoped to 10.0.2.2 port HOST_PORT: another port or
 *   address is refused; then the client: connect out to the host script's
 *   listener (retrying while it is not there yet), send BYTES of a pattern,
 *   shut down, read the host's BYTES of another pattern to its end of
 *   stream and compare every byte.
 * - Last, "end" on the lifetime link stops the resident services.
 *
 * Caps: "console", "timer", "manager", "listen", "connect", "lifetime".
 * Exits with the number of failed checks.
 */
#include <capos/errors.h>

#include "testlib.h"
#include "text/fmt.h"

#define HOST_PORT 47123
#define GATEWAY   0x0a000202u
#define BYTES     (10u << 20)
#define CHUNK     32768

static uint8_t params[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t results[CHUNK + 1024] __attribute__((aligned(8)));
static uint8_t chunk[CHUNK];
static struct capnpc_call c;

static uint8_t out_byte(uint32_t i)
{
    return (uint8_t)(i * 7u + (i >> 8));
}

static uint8_t in_byte(uint32_t i)
{
    return (uint8_t)(i * 13u + (i >> 10) + 1u);
}

/* What call c's status rc says, exception type and message included. */
static const char *ex_text(int rc, char *buf, size_t n)
{
    return test_status_text(&c, rc, buf, n);
}

static int ex_type(int rc)
{
    return rc == CAPNPC_EXCEPTION ? (int)CapException_get_type(CapException_read_root(&c.msg)) : -1;
}

static void status(uint32_t mgr)
{
    NetworkManager_status_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = NetworkManager_status_call(&capos_transport, mgr, &c, &r);
    CHECK(rc == CAPNPC_OK && NetworkManager_status_Results_get_address(r) == 0x0a00020fu &&
              NetworkManager_status_Results_get_netmask(r) == 0xffffff00u &&
              NetworkManager_status_Results_get_gateway(r) == GATEWAY &&
              NetworkManager_status_Results_get_dhcp(r),
          "status: address 0x%x netmask 0x%x gateway 0x%x from %s",
          NetworkManager_status_Results_get_address(r),
          NetworkManager_status_Results_get_netmask(r),
          NetworkManager_status_Results_get_gateway(r),
          NetworkManager_status_Results_get_dhcp(r) ? "DHCP" : "no DHCP server");
}

static void listen_scope(uint32_t auth)
{
    static const uint16_t refused[] = {7, 80};
    char m[300];
    for (unsigned i = 0; i < 2; i++) {
        TcpListenAuthority_listen_Results_r lr;
        uint32_t rcap[1] = {0};
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        capnpc_call_caps(&c, 0, 0, rcap, 1);
        int rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, refused[i], &lr);
        CHECK(ex_type(rc) == CapException_Type_permissionDenied && c.reply.ncaps == 0,
              "listen(%u) refused: %s", refused[i], ex_text(rc, m, sizeof(m)));
    }
    uint32_t rcap[1] = {0};
    TcpListenAuthority_listen_Results_r lr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    int rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, 9, &lr);
    uint32_t l = rc == CAPNPC_OK && c.reply.ncaps == 1 ? rcap[0] : 0;
    TcpListener_port_Results_r pr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int prc = l ? TcpListener_port_call(&capos_transport, l, &c, &pr) : -1;
    CHECK(prc == CAPNPC_OK && TcpListener_port_Results_get_port(pr) == 9,
          "listen(9) in scope: a TcpListener on port %u",
          prc == CAPNPC_OK ? TcpListener_port_Results_get_port(pr) : 0);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    rc = TcpListenAuthority_listen_call(&capos_transport, auth, &c, 9, &lr);
    CHECK(ex_type(rc) == CapException_Type_failed, "listen(9) again: %s",
          ex_text(rc, m, sizeof(m)));
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (l)
        TcpListener_close_call(&capos_transport, l, &c, 0);
    capos_release(l);
}

static uint32_t connect(uint32_t conn, uint32_t addr, uint16_t port, int *rc)
{
    uint32_t rcap[1] = {0};
    TcpConnector_connect_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcap, 1);
    *rc = TcpConnector_connect_call(&capos_transport, conn, &c, addr, port, &r);
    return *rc == CAPNPC_OK && c.reply.ncaps == 1 ? rcap[0] : 0;
}

static void sleep_ms(uint32_t timer, uint64_t ms)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, ms * 1000000u, 0);
}

static void client(uint32_t conn, uint32_t timer)
{
    char m[300];
    int rc;
    connect(conn, GATEWAY, HOST_PORT + 1, &rc);
    CHECK(ex_type(rc) == CapException_Type_permissionDenied, "connect to port %u refused: %s",
          HOST_PORT + 1, ex_text(rc, m, sizeof(m)));
    connect(conn, 0x0a000203u, HOST_PORT, &rc);
    CHECK(ex_type(rc) == CapException_Type_permissionDenied, "connect to 10.0.2.3 refused: %s",
          ex_text(rc, m, sizeof(m)));
    uint32_t s = 0;
    for (int tries = 0; !s && tries < 60; tries++) {
        s = connect(conn, GATEWAY, HOST_PORT, &rc);
        if (!s)
            sleep_ms(timer, 500);
    }
    CHECK(s != 0, "connected to 10.0.2.2:%u (%s)", HOST_PORT, s ? "ok" : ex_text(rc, m, sizeof(m)));
    if (!s)
        return;
    uint32_t sent = 0;
    while (sent < BYTES) {
        uint32_t n = BYTES - sent < CHUNK ? BYTES - sent : CHUNK;
        for (uint32_t i = 0; i < n; i++)
            chunk[i] = out_byte(sent + i);
        TcpSocket_write_Results_r wr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        rc = TcpSocket_write_call(&capos_transport, s, &c, chunk, n, &wr);
        uint32_t acc = rc == CAPNPC_OK ? TcpSocket_write_Results_get_accepted(wr) : 0;
        if (acc == 0 || acc > n)
            break;
        sent += acc;
    }
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = TcpSocket_shutdown_call(&capos_transport, s, &c, 0);
    CHECK(sent == BYTES && rc == CAPNPC_OK, "sent %u bytes to the host, then FIN", sent);
    uint32_t got = 0, bad = 0;
    for (;;) {
        TcpSocket_read_Results_r rr;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        rc = TcpSocket_read_call(&capos_transport, s, &c, CHUNK, &rr);
        struct capn_data d =
            rc == CAPNPC_OK ? TcpSocket_read_Results_get_data(rr) : (struct capn_data){0};
        if (rc != CAPNPC_OK || d.len == 0 || d.len > CHUNK)
            break;
        for (uint32_t i = 0; i < d.len; i++)
            bad += (uint8_t)d.ptr[i] != in_byte(got + i);
        got += d.len;
    }
    CHECK(rc == CAPNPC_OK && got == BYTES && bad == 0,
          "received %u bytes from the host to its end of stream, %u differ (%s)", got, bad,
          ex_text(rc, m, sizeof(m)));
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    TcpSocket_close_call(&capos_transport, s, &c, 0);
    capos_release(s);
}

int main(void)
{
    uint32_t mgr = capos_capset_find("manager", NetworkManager_INTERFACE_ID, 0);
    uint32_t auth = capos_capset_find("listen", TcpListenAuthority_INTERFACE_ID, 0);
    uint32_t conn = capos_capset_find("connect", TcpConnector_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    CHECK(mgr && auth && conn && timer && life,
          "capset: manager, listen, connect, timer, lifetime");
    if (!mgr || !auth || !conn || !timer || !life)
        return 1;
    /* The address comes with DHCP, a few seconds after boot. */
    for (int i = 0; i < 40; i++) {
        NetworkManager_status_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (NetworkManager_status_call(&capos_transport, mgr, &c, &r) == CAPNPC_OK &&
            NetworkManager_status_Results_get_address(r))
            break;
        sleep_ms(timer, 250);
    }
    status(mgr);
    listen_scope(auth);
    client(conn, timer);
    capos_printf("net-tcp: %d failures\n", failures);
    Echo_echo_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, life, &c, "end", 3, &er);
    return failures;
}
