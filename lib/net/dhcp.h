/*
 * DHCPv4 client (RFC 2131, options RFC 2132): message parsing and building
 * and the client state machine INIT -> SELECTING -> REQUESTING -> BOUND ->
 * RENEWING -> REBINDING, with lease timers and a static fallback when no
 * server answers.
 *
 * The state machine does no I/O: dhcp_poll and dhcp_input return a message
 * to send (UDP payload, client port 68 to server port 67) with the IPv4
 * source and destination to use, and the stack reads the resulting
 * configuration from dhcp_config.
 */
#ifndef CAPOS_NET_DHCP_H
#define CAPOS_NET_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/wire.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED_LEN   240 /* BOOTP header and magic cookie */
#define DHCP_MSG_LEN     300 /* what we send: BOOTP's minimum message */

enum dhcp_type {
    DHCP_DISCOVER = 1,
    DHCP_OFFER = 2,
    DHCP_REQUEST = 3,
    DHCP_DECLINE = 4,
    DHCP_ACK = 5,
    DHCP_NAK = 6,
    DHCP_RELEASE = 7,
};

/* A parsed message: the fixed fields and the options we use. Absent
 * options are zero. */
struct dhcp_msg {
    uint8_t op, type;
    uint32_t xid;
    uint32_t ciaddr, yiaddr;
    uint8_t chaddr[ETH_ALEN];
    uint32_t server_id, lease_s, t1_s, t2_s, netmask, router, dns, requested_ip;
};

/* Refuses: short, not Ethernet (htype 1, hlen 6), no magic cookie, any
 * option running past the end or with a length its kind does not allow,
 * no message type. */
enum net_err dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m);
/* Builds a client message (op BOOTREQUEST, broadcast flag set) from m's
 * type, xid, ciaddr, chaddr, and, when nonzero, server_id and
 * requested_ip. Returns DHCP_MSG_LEN or 0. */
size_t dhcp_build(uint8_t *out, size_t cap, const struct dhcp_msg *m);

enum dhcp_state {
    DHCP_OFF,        /* static configuration, no client */
    DHCP_SELECTING,  /* DISCOVER sent, waiting for OFFER */
    DHCP_REQUESTING, /* REQUEST sent for an offer, waiting for ACK */
    DHCP_BOUND,
    DHCP_RENEWING,  /* T1 passed: REQUEST unicast to the server */
    DHCP_REBINDING, /* T2 passed: REQUEST broadcast */
    DHCP_FALLBACK,  /* nobody answered: static fallback in use */
};

#define DHCP_DISCOVER_TRIES 3 /* 4 s, 8 s, 16 s, then the fallback */
#define DHCP_REQUEST_TRIES  4 /* then back to DISCOVER */

struct dhcp_lease {
    uint32_t ip, netmask, router, dns, server;
};

struct dhcp_client {
    uint8_t state; /* enum dhcp_state */
    uint8_t tries;
    uint8_t mac[ETH_ALEN];
    uint32_t xid;
    uint64_t deadline;          /* next (re)transmission or NET_NEVER-like max */
    uint64_t t1, t2, expiry;    /* absolute, while bound */
    struct dhcp_lease offer;    /* what we are requesting */
    struct dhcp_lease lease;    /* what we hold */
    struct dhcp_lease fallback; /* static configuration */
};

/* What the client wants sent. len 0: nothing. */
struct dhcp_tx {
    uint32_t src, dst;
    size_t len;
};

void dhcp_start(struct dhcp_client *c, const uint8_t mac[ETH_ALEN], uint32_t xid,
                const struct dhcp_lease *fallback, uint64_t now);
/* Timers: retransmissions, T1, T2, expiry. Writes a message into out. */
struct dhcp_tx dhcp_poll(struct dhcp_client *c, uint64_t now, uint8_t *out, size_t cap);
/* A datagram received on port 68. */
struct dhcp_tx dhcp_input(struct dhcp_client *c, const uint8_t *p, size_t len, uint64_t now,
                          uint8_t *out, size_t cap);
/* The configuration in force: the lease, the fallback, or NULL (none yet,
 * or the lease expired and no new one came). */
const struct dhcp_lease *dhcp_config(const struct dhcp_client *c);
uint64_t dhcp_deadline(const struct dhcp_client *c);

#endif
