/*
 * QEMU test program of net-synflood, in the guest beside tcp-echo: it
 * waits (UdpSocket.receive) for the host script's "done" datagram, sent
 * once the host has flooded tcp-echo's port with 1,000 spoofed SYNs and
 * still had its own connection echoed; then it reports the stack's
 * counters: every SYN beyond the listener's backlog either evicted a
 * half-open child or was dropped, so the flood never held more than the
 * backlog, and no socket is left.
 *
 * Caps: "manager" (NetworkManager), "udp" (UdpSocket from the host's
 * 10.99.2.1:9999), "lifetime". Exits with the number of failed checks.
 */
#include "testlib.h"

#define FLOOD 1000

static uint8_t params[2048] __attribute__((aligned(8)));
static uint8_t results[4096] __attribute__((aligned(8)));

int main(void)
{
    uint32_t mgr = capos_capset_find("manager", NetworkManager_INTERFACE_ID, 0);
    uint32_t udp = capos_capset_find("udp", UdpSocket_INTERFACE_ID, 0);
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    CHECK(mgr && udp && life, "capset: manager, udp, lifetime");
    if (!mgr || !udp || !life)
        return 1;
    struct capnpc_call c;
    UdpSocket_receive_Results_r ur;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = UdpSocket_receive_call(&capos_transport, udp, &c, &ur);
    struct capn_data d =
        rc == CAPNPC_OK ? UdpSocket_receive_Results_get_data(ur) : (struct capn_data){0};
    CHECK(d.len == 4 && memcmp(d.ptr, "done", 4) == 0, "the host says it is done");
    NetworkManager_status_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = NetworkManager_status_call(&capos_transport, mgr, &c, &r);
    uint64_t evicted = rc == CAPNPC_OK ? NetworkManager_status_Results_get_tcpSynEvicted(r) : 0;
    uint64_t dropped = rc == CAPNPC_OK ? NetworkManager_status_Results_get_tcpBacklogDrops(r) : 0;
    uint32_t sockets = rc == CAPNPC_OK ? NetworkManager_status_Results_get_sockets(r) : 99;
    capos_printf("net-flood: %lu half-open connections evicted, %lu SYNs dropped, %u sockets\n",
                 (unsigned long)evicted, (unsigned long)dropped, sockets);
    /* The backlog (at most 8, netstack's NS_BACKLOG) held the rest. */
    CHECK(evicted + dropped >= FLOOD - 8, "the flood never held more than the backlog");
    CHECK(sockets == 0, "no socket is left");
    capos_printf("net-flood: %d failures\n", failures);
    Echo_echo_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, life, &c, "end", 3, &er);
    return failures;
}
