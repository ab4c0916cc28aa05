/*
 * netstack: the userspace network service (docs/network.md, "The netstack
 * service"). main.c owns the event loop, the NetworkInterface and the
 * lib/net stack; objs.c the capabilities it serves, one endpoint each.
 */
#ifndef CAPOS_NETSTACK_H
#define CAPOS_NETSTACK_H

#include "capos_rt.h"

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"
#include "net/net.h"

#define NS_MAX_OBJS    24    /* endpoints served at once (one RECV each) */
#define NS_MAX_PORTS   8     /* ports in one listen or connect scope */
#define NS_CONNS       16    /* TCP connections (lib/net pool) */
#define NS_BUF         32768 /* each connection's send and receive ring */
#define NS_RECV_BUF    65536 /* each endpoint's RECV buffer */
#define NS_SIDE_BUF    512   /* a socket's RECV buffer while a write holds the other */
#define NS_IO_MAX      60000 /* bytes per read or write call */
#define NS_BACKLOG     8
#define NS_CONNECT_MAX 30000  /* ms a connect may wait for its handshake */
#define NS_PING_MAX    5000   /* ms a ping waits for its reply */
#define NS_PING_ID     0x7069 /* ICMP echo id of NetworkManager.ping */
#define NS_UDP_QUEUE   16     /* datagrams waiting per UdpSocket */
#define NS_UDP_MAX     1472   /* bytes per datagram: a 1500-byte MTU, no fragments */

enum ns_kind { K_FREE, K_LISTEN_AUTH, K_CONNECTOR, K_MANAGER, K_LISTENER, K_SOCKET, K_UDP };

struct ns_udp; /* udp.c */

struct ns_obj {
    uint8_t kind;         /* enum ns_kind */
    int8_t scope;         /* the TCP scope (ns.objs index) it counts against; -1 */
    bool owned_by_capset; /* the owner cap came from the CapSet (never released) */
    uint32_t owner;       /* the endpoint's owner side */
    uint64_t recv_ud;     /* the RECV in flight, 0 if none */
    bool hold;            /* a deferred call holds buf: no RECV into it until it ends */
    bool side_recv;       /* the RECV in flight is into side (a socket's, while held) */
    bool side_blocked;    /* a call too large for side waits for buf */
    uint8_t *buf;         /* RECV buffer, NS_RECV_BUF bytes */
    int h;                /* lib/net handle (listener, socket, connect) */
    /* Scope (listen authority, connector). */
    uint16_t ports[NS_MAX_PORTS];
    uint8_t nports;
    uint32_t addr; /* connector: the one destination address */
    /* Deferred calls, by call id (0: none). */
    uint32_t rd_call, rd_max;
    uint32_t wr_call, wr_len;
    const uint8_t *wr_data; /* inside buf */
    uint32_t acc_call;
    uint16_t ping_seq;   /* manager: the ping in rd_call, sent at conn_start */
    uint32_t conn_call;  /* connector: the connect in progress */
    uint64_t conn_start; /* ms */
    struct ns_udp *udp;  /* K_UDP: its port and queue */
    /* While a write holds buf, a socket keeps receiving here: small calls
     * (read, peer, close) and, above all, the kernel's clients-gone
     * notification, so that a client that dies with a write waiting on a
     * peer that never reads is still noticed. */
    uint8_t side[NS_SIDE_BUF] __attribute__((aligned(8)));
};

struct ns {
    struct net_stack st;
    uint32_t nic, timer, endpoints, console;
    uint64_t now; /* ms */
    struct ns_obj objs[NS_MAX_OBJS];
    bool printed_addr;
    uint64_t released; /* listeners and sockets ended by their release */
};

extern struct ns ns;

/* objs.c */
void ns_objs_init(void);                     /* the scopes in the CapSet */
void ns_post_recvs(void);                    /* a RECV on every endpoint that has none */
bool ns_on_cqe(const struct capos_cqe *cqe); /* a RECV completion: dispatch */
bool ns_progress(void);                      /* complete deferred calls; true if any */
uint32_t ns_sockets(void);
void ns_ping_reply(uint32_t src, uint16_t id, uint16_t seq); /* an echo reply */
uint64_t ns_deadline(uint64_t dl); /* dl, or an earlier connect or ping limit */

/* Shared with udp.c: answering calls, and the scope grammar. */
__attribute__((format(printf, 4, 5))) void ns_fail(struct ns_obj *o, uint32_t call_id, int type,
                                                   const char *f, ...);
struct capn_bld *ns_begin(void); /* results, in ns_ret's arena */
void ns_ret(struct ns_obj *o, uint32_t call_id, struct capn_bld *b, uint32_t cap);
bool ns_parse_num(const char **s, uint32_t max, uint32_t *out); /* decimal, at most max */
bool ns_parse_ports(const char *s, struct ns_obj *o);           /* "_7_8080" */
bool ns_in_scope(const struct ns_obj *o, uint32_t port);
const char *ns_ip_str(uint32_t ip, char *b); /* b: 16 bytes */
const char *ns_ports_str(const struct ns_obj *o, char *b, size_t n);

/* share.c: each TCP scope's share of connections and endpoints. */
void ns_share_init(void);                                      /* after ns_objs_init */
void ns_share_opened(int h, int8_t scope);                     /* lib/net handle h is scope's */
bool ns_share_room(int scope, bool conn, char *why, size_t n); /* one more object (+ conn) */
void ns_share_backlogs(void);                                  /* before each frame */

/* config.c: the static configuration from NetworkManager export names. */
void ns_config_from_exports(struct net_config *cfg);

/* udp.c: UdpSocket exports. */
bool ns_udp_add(struct ns_obj *o, const char *name); /* parse the scope, bind the port */
void ns_udp_call(struct ns_obj *o, uint32_t id, uint16_t method, struct capn_msg *m);
bool ns_udp_progress(struct ns_obj *o); /* a waiting receive answered: true */

#endif
