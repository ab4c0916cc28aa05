/*
 * Host-test harness for lib/net: one stack ("us", 10.0.0.1) whose frames
 * are captured in a queue, and a scripted peer (10.0.0.2) whose segments
 * the test builds field by field. ARP requests for the peer are answered
 * by the harness as they are popped, so TCP tests see only TCP.
 */
#ifndef NET_HARNESS_H
#define NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define NH_US    0x0a000001u
#define NH_PEER  0x0a000002u
#define NH_MASK  0xffffff00u
#define NH_QUEUE 64
#define NH_CONNS 8
#define NH_BUF   8192 /* each connection's send and receive ring */

extern const uint8_t nh_us_mac[ETH_ALEN], nh_peer_mac[ETH_ALEN];

struct nh_frame {
    size_t len;
    uint8_t b[ETH_FRAME_MAX];
};

struct nh {
    struct net_stack st;
    struct tcp_conn conns[NH_CONNS];
    uint8_t bufs[NH_CONNS * 2 * NH_BUF];
    struct nh_frame q[NH_QUEUE];
    size_t qhead, qlen;
    size_t dropped; /* frames lost to a full queue */
    uint64_t now;
};

/* A segment as the peer sends it or as we parsed it from our output. */
struct nh_seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss; /* option: 0 none */
    int ws;       /* option: -1 none */
    bool sack_ok; /* option: SACK-permitted */
    int nsack;    /* SACK blocks */
    uint32_t sack[TCP_SACK_MAX][2];
    size_t len;
    uint8_t data[ETH_MTU];
};

/* Sets up h->st with static config, rto_min rto_min_ms (0: default), the
 * clock at 1000 ms. */
void nh_init(struct nh *h, uint32_t rto_min_ms);
void nh_init_cfg(struct nh *h, const struct net_config *cfg, size_t sndbuf, size_t rcvbuf);
/* Next emitted frame (ARP for the peer answered transparently). */
bool nh_pop_frame(struct nh *h, struct nh_frame *f);
/* Next emitted frame must be TCP: parse it into s. False if none. */
bool nh_pop_seg(struct nh *h, struct nh_seg *s);
/* Frames left in the queue, ARP answered first. */
size_t nh_pending(struct nh *h);
void nh_clear(struct nh *h);
/* The peer sends s (sport/dport as given) to us. */
void nh_send(struct nh *h, const struct nh_seg *s);
/* Move the clock and run net_poll. */
void nh_advance(struct nh *h, uint64_t ms);
/* Raw frame in. */
void nh_input(struct nh *h, const uint8_t *f, size_t len);

/* Builds a full frame from the peer: Ethernet + IPv4 + TCP. */
size_t nh_build_tcp(uint8_t *out, const struct nh_seg *s);
/* A clean peer segment with the given fields, no options, ws -1. */
struct nh_seg nh_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                     uint16_t wnd);

#endif

/* ---- Connections with the scripted peer ---- */

#define NH_PORT      80 /* our listening port */
#define NH_PEER_PORT 5000
#define NH_PEER_ISS  100000u

struct nh_conn {
    int h; /* our handle */
    uint16_t lport, rport;
    uint32_t iss;     /* our ISS */
    uint32_t pseq;    /* the peer's next sequence number */
    uint32_t our_nxt; /* what the peer has received from us so far */
};

/* Listen on NH_PORT (backlog 4), the peer connects with the given MSS and
 * window scale (-1: none), window 65535; returns the accepted connection.
 * Criterion-asserts every step. */
struct nh_conn nh_passive(struct nh *h, uint16_t mss, int ws);
/* We connect to the peer's NH_PEER_PORT; the peer answers SYN-ACK. */
struct nh_conn nh_active(struct nh *h, uint16_t mss, int ws);
/* A segment from the peer on c: ACK set, acking our_nxt. */
struct nh_seg nh_cseg(const struct nh_conn *c, uint8_t flags, const void *data, size_t len);
/* The peer sends data on c (ACK set) and advances pseq. */
void nh_csend(struct nh *h, struct nh_conn *c, const void *data, size_t len);
