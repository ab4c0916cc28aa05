/*
 * capOS's TCP/IP stack: the protocol logic, free of I/O, clocks and
 * allocation, driven by a single-threaded event loop.
 *
 *   net_init(stack, config, memory, emit, ctx)
 *   loop:
 *       net_input(stack, frame, len, now)      for each received frame
 *       net_poll(stack, now)                   when net_next_deadline(stack) passed
 *       tcp_connect / tcp_write / tcp_read ...  as the application wants
 *
 * Time is an input: every entry point takes now in milliseconds from any
 * fixed origin (monotonic, never going back). Frames to send are handed,
 * complete (Ethernet header included), to the emit callback before the
 * entry point returns; emit must not call back into the stack. The UDP
 * and echo-reply callbacks may (to answer a datagram, say): the data they
 * get lies in the caller's frame, not in the stack.
 *
 * Memory: the caller provides the stack struct, a pool of TCP connections
 * and one byte area cut into each connection's send and receive ring.
 * Nothing else is ever allocated; every table has a fixed bound (see the
 * NET_* limits below and docs/network.md).
 */
#ifndef CAPOS_NET_NET_H
#define CAPOS_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/dhcp.h"
#include "net/netbuf.h"
#include "net/wire.h"

#define NET_ARP_ENTRIES 8
#define NET_ARP_PENDING 4 /* frames waiting for address resolution */
#define NET_UDP_BINDS   8
#define TCP_OOO_MAX     8 /* out-of-order ranges held per connection */
#define NET_NEVER       UINT64_MAX
#define NET_TTL         64
#define TCP_DEFAULT_MSS 536 /* RFC 9293 3.7.1: when the peer sends no MSS */

/* Results of the socket calls: a handle or count when >= 0, else one of
 * these. */
enum net_sock_err {
    NET_EAGAIN = -1,       /* nothing to read / no room to write yet */
    NET_EBADF = -2,        /* not an open handle, or wrong kind */
    NET_ENOMEM = -3,       /* connection pool exhausted */
    NET_EADDRINUSE = -4,   /* port already listened on */
    NET_ECONNRESET = -5,   /* peer reset the connection */
    NET_ETIMEDOUT = -6,    /* retransmissions exhausted */
    NET_ENOTCONN = -7,     /* not (yet, or any more) connected */
    NET_ECONNREFUSED = -8, /* RST in answer to our SYN */
    NET_EPIPE = -9,        /* write after shutdown */
    NET_EINVAL = -10,      /* bad argument */
    NET_ENETUNREACH = -11, /* no address configured yet */
};

enum tcp_state {
    TCP_CLOSED,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RECEIVED,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
};

struct tcp_conn {
    uint8_t state;    /* enum tcp_state */
    bool user_open;   /* the application holds the handle */
    bool active;      /* we sent the first SYN (connect) */
    bool fin_queued;  /* shutdown requested: FIN follows the data */
    bool rcv_fin;     /* peer's FIN consumed: read returns 0 at the end */
    bool ooo_fin;     /* peer's FIN seen ahead of a gap, at ooo_fin_seq */
    bool ws_ok;       /* both SYNs carried window scale */
    bool in_recovery; /* NewReno fast recovery */
    bool persisting;  /* zero-window probing */
    bool rtt_timing;  /* rtt_seq is being timed */
    bool nodelay;     /* Nagle off */
    bool ack_now;     /* an ACK is owed right away */
    bool rtt_valid;   /* srtt and rttvar hold a sample */
    bool sack_ok;     /* both SYNs carried SACK-permitted */
    int8_t err;       /* enum net_sock_err once the connection failed */
    int16_t parent;   /* listener index for a not yet accepted child */
    uint16_t backlog; /* listener: max children pending */
    uint16_t lport, rport;
    uint32_t lip, rip;

    /* Send sequence space (RFC 9293 3.3.1) plus snd_max, the highest
     * sequence sent (snd_nxt goes back to snd_una on a timeout). */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_snd_wnd;
    uint32_t data_seq; /* sequence number of the first byte in snd */
    uint16_t smss;     /* what we send per segment */
    uint8_t snd_ws, rcv_ws;

    /* Receive sequence space. */
    uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
    uint32_t ooo_fin_seq;
    uint32_t sack_recent; /* in the latest out-of-order segment */
    uint8_t ooo_n;
    uint8_t unacked_segs; /* full segments received since our last ACK */
    struct {
        uint32_t start, end;
    } ooo[TCP_OOO_MAX];

    /* Congestion control (RFC 5681, 6582). */
    uint32_t cwnd, ssthresh, recover;
    uint32_t sack_high; /* highest right edge the peer SACKed */
    uint8_t dupacks;

    /* RTO (RFC 6298) in ms; srtt8 is SRTT * 8, rttvar4 RTTVAR * 4. */
    uint32_t srtt8, rttvar4, rto, rtt_seq;
    uint64_t rtt_start;
    uint8_t rexmits; /* consecutive timeouts */
    uint8_t probes;

    uint64_t t_rexmit, t_persist, t_delack, t_2msl; /* deadlines or NET_NEVER */
    uint64_t accept_order;                          /* FIFO among children */
    uint64_t chal_window;                           /* start of the current challenge-ACK second */
    uint32_t chal_count;                            /* challenge ACKs sent in it */

    struct netbuf snd, rcv;
};

struct net_config {
    uint8_t mac[ETH_ALEN];
    /* Static addresses; with dhcp set they are the fallback used when no
     * server answers (net_config_qemu fills QEMU user networking's). */
    uint32_t ip, netmask, gateway, dns;
    bool dhcp;
    uint8_t isn_secret[16]; /* boot secret for RFC 6528 ISNs */
    uint32_t rto_min_ms;    /* 0: 1000 (RFC 6298 2.4) */
    uint32_t msl_ms;        /* 0: 30000; TIME_WAIT lasts 2 * MSL */
    uint32_t delack_ms;     /* 0: 100 */
    uint32_t tw_max;        /* 0: a quarter of the pool; older ones are recycled */
};

/* Memory for the TCP connections: bufmem holds nconns * (sndbuf + rcvbuf)
 * bytes. Buffers up to 1 GiB each. */
struct net_mem {
    struct tcp_conn *conns;
    size_t nconns;
    uint8_t *bufmem;
    size_t sndbuf, rcvbuf;
};

struct net_counters {
    uint64_t rx_frames, tx_frames, rx_bad_eth, rx_other_type;
    uint64_t arp_in, arp_bad, arp_replies_sent, arp_requests_sent, arp_unsolicited;
    uint64_t arp_pending_dropped, arp_conflict;
    uint64_t ip_in, ip_bad, ip_bad_csum, ip_fragments, ip_not_ours, ip_bad_proto;
    uint64_t icmp_in, icmp_bad, icmp_echo_replied, icmp_echo_replies_in;
    uint64_t udp_in, udp_bad, udp_no_port;
    uint64_t dhcp_in, dhcp_bad;
    uint64_t tcp_in, tcp_bad, tcp_out, tcp_rst_out, tcp_rst_in, tcp_no_conn;
    uint64_t tcp_retrans, tcp_fast_retrans, tcp_timeouts, tcp_probes;
    uint64_t tcp_challenge_acks, tcp_challenge_limited, tcp_backlog_drops;
    uint64_t tcp_syn_evicted; /* half-open children dropped for a newer SYN */
    uint64_t tcp_ooo_segs, tcp_ooo_drops, tcp_dup_segs, tcp_tw_recycled, tcp_delacks;
    uint64_t tcp_conn_drops; /* connections lost to a timeout */
};

typedef void (*net_emit_fn)(void *ctx, const uint8_t *frame, size_t len);
/* A UDP datagram for a bound port. */
typedef void (*net_udp_fn)(void *ctx, uint32_t src, uint16_t sport, const uint8_t *data,
                           size_t len);
/* An ICMP echo reply for the ping client. */
typedef void (*net_echo_fn)(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
                            size_t len);

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
    uint8_t state; /* enum arp_state */
    uint8_t tries;
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
    uint64_t deadline; /* next request (incomplete) or expiry (reachable) */
};

/* A frame waiting for its next hop's address. */
struct arp_pending {
    uint32_t hop;
    uint32_t order; /* larger is newer */
    uint16_t len;   /* 0: slot free */
    uint8_t frame[ETH_FRAME_MAX];
};

struct net_stack {
    struct net_config cfg;
    net_emit_fn emit;
    void *emit_ctx;
    net_echo_fn on_echo;
    void *echo_ctx;
    uint32_t ip, netmask, gateway, dns; /* current; 0 while unconfigured */

    struct arp_entry arp[NET_ARP_ENTRIES];
    struct arp_pending pend[NET_ARP_PENDING];
    uint32_t pend_seq; /* order of the newest pending frame */
    struct {
        uint16_t port;
        net_udp_fn fn;
        void *ctx;
    } udp[NET_UDP_BINDS];
    struct dhcp_client dhcp;

    struct tcp_conn *conns;
    size_t nconns;
    uint16_t next_port; /* ephemeral port cursor */
    uint16_t ip_id;
    uint64_t accept_clock;

    struct net_counters ctr;
    uint8_t frame[ETH_FRAME_MAX]; /* output scratch */
};

/* Fills cfg with QEMU user networking's fallback (10.0.2.15/24, gateway
 * 10.0.2.2, DNS 10.0.2.3) and DHCP on; mac and secret are left alone. */
void net_config_qemu(struct net_config *cfg);

void net_init(struct net_stack *s, const struct net_config *cfg, const struct net_mem *mem,
              net_emit_fn emit, void *emit_ctx, uint64_t now);
void net_input(struct net_stack *s, const uint8_t *frame, size_t len, uint64_t now);
void net_poll(struct net_stack *s, uint64_t now);
/* The earliest time net_poll has work, or NET_NEVER. */
uint64_t net_next_deadline(const struct net_stack *s);

/* UDP: one callback per local port. */
int net_udp_bind(struct net_stack *s, uint16_t port, net_udp_fn fn, void *ctx);
int net_udp_send(struct net_stack *s, uint32_t dst, uint16_t sport, uint16_t dport,
                 const void *data, size_t len, uint64_t now);

/* Ping client: sends one echo request; replies go to the echo callback. */
void net_set_echo_handler(struct net_stack *s, net_echo_fn fn, void *ctx);
int net_ping(struct net_stack *s, uint32_t dst, uint16_t id, uint16_t seq, const void *data,
             size_t len, uint64_t now);

/* TCP socket calls. Handles are small integers (indexes into the pool). */
int tcp_listen(struct net_stack *s, uint16_t port, unsigned backlog);
int tcp_connect(struct net_stack *s, uint32_t dst, uint16_t dport, uint64_t now);
/* A child that completed its handshake, oldest first, or NET_EAGAIN. */
int tcp_accept(struct net_stack *s, int listener);
/* Change how many children a listener may have pending (0: none for now;
 * those it has stay). Lets the caller share the pool among listeners as
 * it fills. NET_EBADF if not a listener. */
int tcp_set_backlog(struct net_stack *s, int listener, unsigned backlog);
/* What pool slot h is to its users: NET_EBADF if it is free or in a
 * TIME_WAIT that nobody holds (both reusable by any new connection);
 * else the listener whose pending child it is, or h itself. */
int tcp_slot_user(const struct net_stack *s, int h);
/* Bytes read (> 0), 0 at the end of the peer's data, or an error. */
long tcp_read(struct net_stack *s, int h, void *buf, size_t len, uint64_t now);
/* Bytes queued, possibly fewer than len, NET_EAGAIN when the send buffer
 * is full (back-pressure), or an error. */
long tcp_write(struct net_stack *s, int h, const void *buf, size_t len, uint64_t now);
/* Free space in the send buffer. */
size_t tcp_writable(const struct net_stack *s, int h);
/* Bytes ready to read. */
size_t tcp_readable(const struct net_stack *s, int h);
/* Send FIN once queued data is out; reading stays possible. */
int tcp_shutdown(struct net_stack *s, int h, uint64_t now);
/* Release the handle: a graceful close (unread data makes it an abort, as
 * RFC 9293 3.6.1 suggests), the connection finishes on its own. */
int tcp_close(struct net_stack *s, int h, uint64_t now);
/* Send RST and release the handle. */
int tcp_abort(struct net_stack *s, int h, uint64_t now);
int tcp_set_nodelay(struct net_stack *s, int h, bool on);
/* enum tcp_state, or -1 for a bad handle. */
int tcp_get_state(const struct net_stack *s, int h);
/* The error that ended the connection, 0 if none. */
int tcp_get_error(const struct net_stack *s, int h);

const char *tcp_state_name(int state);

#endif
