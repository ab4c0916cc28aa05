/*
 * QEMU test program for netstack's static configuration from the
 * manifest (user/netstack/config.c) and the ping client of
 * NetworkManager, in two systems:
 *
 * - net-static: exports static_10_0_2_20_24, gateway_10_0_2_2 and
 *   dhcp_off, on QEMU's user network. The address is 10.0.2.20 at once
 *   (not DHCP's 10.0.2.15); NetworkManager.ping reaches the gateway
 *   10.0.2.2 over it; a ping to another address is refused.
 * - net-fallback: the same static_ and gateway_ exports with DHCP on, on a
 *   network where nobody answers (a QEMU hub with no other port): after
 *   DHCP's three DISCOVERs the address is the manifest's, and a ping gets
 *   no reply and fails after 5 s. The manager cap is then named
 *   "isolated" instead of "manager".
 *
 * Caps: "manager" or "isolated" (NetworkManager), "timer", "lifetime".
 * Exits with the number of failed checks.
 */
#include "testlib.h"
#include "text/fmt.h"

#define STATIC_IP 0x0a000214u
#define GATEWAY   0x0a000202u

static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));
static struct capnpc_call c;

/* What call c's status rc says, exception type and message included. */
static const char *ex_text(int rc, char *buf, size_t n)
{
    return test_status_text(&c, rc, buf, n);
}

static int ping(uint32_t mgr, uint32_t addr, uint32_t *rtt)
{
    NetworkManager_ping_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = NetworkManager_ping_call(&capos_transport, mgr, &c, addr, &r);
    *rtt = rc == CAPNPC_OK ? NetworkManager_ping_Results_get_rttMs(r) : 0;
    return rc;
}

int main(void)
{
    uint32_t mgr = capos_capset_find("manager", NetworkManager_INTERFACE_ID, 0);
    uint32_t isolated = capos_capset_find("isolated", NetworkManager_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t life = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    if (!mgr)
        mgr = isolated;
    CHECK(mgr && timer && life, "capset: %s, timer, lifetime", isolated ? "isolated" : "manager");
    if (!mgr || !timer || !life)
        return 1;
    /* At once with dhcp_off; after DHCP's 4 + 8 + 16 s otherwise. */
    NetworkManager_status_Results_r st;
    int rc = CAPNPC_OK;
    for (int i = 0; i < 180; i++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        rc = NetworkManager_status_call(&capos_transport, mgr, &c, &st);
        if (rc == CAPNPC_OK && NetworkManager_status_Results_get_address(st))
            break;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        Timer_sleep_call(&capos_transport, timer, &c, 250000000u, 0);
    }
    CHECK(rc == CAPNPC_OK && NetworkManager_status_Results_get_address(st) == STATIC_IP &&
              NetworkManager_status_Results_get_netmask(st) == 0xffffff00u &&
              NetworkManager_status_Results_get_gateway(st) == GATEWAY &&
              !NetworkManager_status_Results_get_dhcp(st),
          "status: address 0x%x netmask 0x%x gateway 0x%x, %s",
          NetworkManager_status_Results_get_address(st),
          NetworkManager_status_Results_get_netmask(st),
          NetworkManager_status_Results_get_gateway(st),
          NetworkManager_status_Results_get_dhcp(st) ? "from DHCP" : "the manifest's");
    char m[200];
    uint32_t rtt;
    rc = ping(mgr, 0x0a000203u, &rtt);
    CHECK(rc == CAPNPC_EXCEPTION && CapException_get_type(CapException_read_root(&c.msg)) ==
                                        CapException_Type_permissionDenied,
          "ping 10.0.2.3 refused: %s", ex_text(rc, m, sizeof(m)));
    rc = ping(mgr, GATEWAY, &rtt);
    if (isolated)
        CHECK(rc == CAPNPC_EXCEPTION &&
                  CapException_get_type(CapException_read_root(&c.msg)) == CapException_Type_failed,
              "ping 10.0.2.2 on a silent network: %s", ex_text(rc, m, sizeof(m)));
    else
        CHECK(rc == CAPNPC_OK, "ping 10.0.2.2: a reply in %u ms (%s)", rtt,
              rc == CAPNPC_OK ? "ok" : ex_text(rc, m, sizeof(m)));
    capos_printf("net-static: %d failures\n", failures);
    Echo_echo_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, life, &c, "end", 3, &er);
    return failures;
}
