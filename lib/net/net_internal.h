/* Functions the stack's files share; not part of the API (net.h). */
#ifndef CAPOS_NET_INTERNAL_H
#define CAPOS_NET_INTERNAL_H

#include "net/net.h"

#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* How long an orphan (closed by the application) waits in FIN_WAIT_2
 * for the peer's FIN. */
#define TCP_FIN_WAIT_2_MS 60000

/* Where an IPv4 payload goes in s->frame. */
#define NET_IP_PAYLOAD     (ETH_HDR_LEN + IPV4_HDR_LEN)
#define NET_IP_PAYLOAD_MAX (ETH_MTU - IPV4_HDR_LEN)

/* Sends the len-byte payload already at s->frame + NET_IP_PAYLOAD: adds
 * the IPv4 and Ethernet headers, resolves the next hop through ARP (the
 * frame waits in the ARP entry if the address is not known yet). */
void net_ip_send(struct net_stack *s, uint32_t src, uint32_t dst, uint8_t proto, size_t len,
                 uint64_t now);

/* TCP (tcp_in.c, tcp_out.c, tcp.c). */
void tcp_input(struct net_stack *s, const struct ipv4_hdr *ip, uint64_t now);
void tcp_timers(struct net_stack *s, uint64_t now);
uint64_t tcp_deadline(const struct net_stack *s);
void tcp_output(struct net_stack *s, struct tcp_conn *c, uint64_t now);
void tcp_send_ack(struct net_stack *s, struct tcp_conn *c, uint64_t now);
void tcp_send_challenge_ack(struct net_stack *s, struct tcp_conn *c, uint64_t now);
/* A retransmission at seq (SYN, data and FIN as they fall there) without
 * moving snd_nxt; it never reaches past snd_max. */
void tcp_send_at(struct net_stack *s, struct tcp_conn *c, uint32_t seq, size_t max_len,
                 uint64_t now);
/* A window probe: up to max_len bytes at snd_una, new ones included;
 * snd_nxt and snd_max move past what it carried. */
void tcp_send_probe(struct net_stack *s, struct tcp_conn *c, size_t max_len, uint64_t now);
/* RST in answer to a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_reply_rst(struct net_stack *s, const struct ipv4_hdr *ip, const struct tcp_hdr *t,
                   uint64_t now);
/* <SEQ=seq><CTL=RST> from c: an unacceptable ACK in SYN_RECEIVED. */
void tcp_reply_rst_seq(struct net_stack *s, struct tcp_conn *c, uint32_t seq, uint64_t now);
void tcp_send_rst(struct net_stack *s, struct tcp_conn *c, uint64_t now);
/* Enters CLOSED with err; frees the slot if nobody holds the handle. */
void tcp_drop(struct net_stack *s, struct tcp_conn *c, int err);
void tcp_enter_time_wait(struct net_stack *s, struct tcp_conn *c, uint64_t now);
void tcp_arm_rexmit(struct net_stack *s, struct tcp_conn *c, uint64_t now);
struct tcp_conn *tcp_alloc(struct net_stack *s);
void tcp_setup(struct net_stack *s, struct tcp_conn *c, uint32_t lip, uint16_t lport, uint32_t rip,
               uint16_t rport, uint64_t now);
/* The send MSS from the peer's option, and the initial window. */
void tcp_set_mss(struct tcp_conn *c, bool has_mss, uint16_t mss);
void tcp_rtt_sample(struct net_stack *s, struct tcp_conn *c, uint32_t r);
uint32_t tcp_rto_min(const struct net_stack *s);
int tcp_index(const struct net_stack *s, const struct tcp_conn *c);

#endif
