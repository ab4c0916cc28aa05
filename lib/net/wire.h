/*
 * Wire formats of the link, network and transport headers capOS's network
 * stack speaks: Ethernet II, ARP (Ethernet/IPv4 only), IPv4, ICMP echo, UDP
 * and the TCP header with its options.
 *
 * Every parser takes untrusted bytes and a length, reads nothing outside
 * them, and either fills a plain struct (host byte order, pointers into the
 * caller's buffer for the payload) or returns a typed error; a struct is
 * only meaningful when the parser returned NET_OK. Builders write into a
 * caller buffer of a stated size and return the bytes written, or 0 if it
 * does not fit.
 *
 * Pure, freestanding code: no allocation, no global state.
 */
#ifndef CAPOS_NET_WIRE_H
#define CAPOS_NET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a frame was refused. One enum for every layer so counters and tests
 * can name the exact reason. */
enum net_err {
    NET_OK = 0,
    NET_E_SHORT,    /* fewer bytes than the header needs */
    NET_E_LEN,      /* a length field disagrees with the bytes present */
    NET_E_CSUM,     /* checksum mismatch */
    NET_E_VERSION,  /* IP version is not 4 */
    NET_E_HDRLEN,   /* IHL or TCP data offset out of range */
    NET_E_FRAGMENT, /* IPv4 fragment: counted and dropped */
    NET_E_TTL,      /* TTL of zero */
    NET_E_PROTO,    /* unsupported ethertype, protocol, hardware type... */
    NET_E_OPTION,   /* malformed option (bad length, runs past the end) */
    NET_E_TYPE,     /* unsupported message type or code */
};

#define ETH_ALEN        6
#define ETH_HDR_LEN     14
#define ETH_MTU         1500
#define ETH_FRAME_MAX   (ETH_HDR_LEN + ETH_MTU)
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_ARP   0x0806
#define ARP_LEN         28
#define IPV4_HDR_LEN    20
#define IPV4_HDR_MAX    60
#define IP_PROTO_ICMP   1
#define IP_PROTO_TCP    6
#define IP_PROTO_UDP    17
#define ICMP_HDR_LEN    8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQ   8
#define UDP_HDR_LEN     8
#define TCP_HDR_LEN     20
#define TCP_HDR_MAX     60
#define IPV4_BROADCAST  0xffffffffu

/* ---- Byte order: big-endian loads and stores on byte pointers. ---- */

static inline uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071). ---- */

/* One's-complement sum of len bytes folded into a running 32-bit sum; an
 * odd trailing byte is padded with zero. Chain calls only at even
 * lengths. */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t csum_fold(uint32_t sum);
/* Sum of the IPv4 pseudo-header for proto and a transport length. */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ---- Ethernet II ---- */

struct eth_hdr {
    uint8_t dst[ETH_ALEN], src[ETH_ALEN];
    uint16_t type;
    const uint8_t *payload;
    size_t payload_len;
};

/* Refuses frames shorter than the header and 802.3 length fields (type
 * below 0x600). */
enum net_err eth_parse(const uint8_t *p, size_t len, struct eth_hdr *h);
/* Writes the 14-byte header; returns ETH_HDR_LEN or 0. */
size_t eth_build(uint8_t *out, size_t cap, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                 uint16_t type);

/* ---- ARP (hardware Ethernet, protocol IPv4) ---- */

#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

struct arp_pkt {
    uint16_t op;
    uint8_t sha[ETH_ALEN];
    uint32_t spa;
    uint8_t tha[ETH_ALEN];
    uint32_t tpa;
};

enum net_err arp_parse(const uint8_t *p, size_t len, struct arp_pkt *a);
/* Writes a 28-byte ARP packet; returns ARP_LEN or 0. */
size_t arp_build(uint8_t *out, size_t cap, const struct arp_pkt *a);

/* ---- IPv4 ---- */

struct ipv4_hdr {
    uint8_t ihl_bytes; /* header length in bytes, options included */
    uint8_t tos, ttl, proto;
    uint16_t total_len, id, frag; /* frag: flags and offset as on the wire */
    uint32_t src, dst;
    const uint8_t *payload;
    size_t payload_len; /* from total_len: link padding is cut off */
};

#define IPV4_DF          0x4000
#define IPV4_MF          0x2000
#define IPV4_FRAG_OFFSET 0x1fff

/* Checks version, IHL, total length against the bytes present, the header
 * checksum, TTL and fragmentation (MF or an offset: NET_E_FRAGMENT, after
 * the header was otherwise found valid). Options are skipped unread. */
enum net_err ipv4_parse(const uint8_t *p, size_t len, struct ipv4_hdr *h);
/* Writes a 20-byte header with DF set and its checksum, for a payload of
 * payload_len bytes; returns IPV4_HDR_LEN or 0. */
size_t ipv4_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                  uint8_t ttl, size_t payload_len);

/* ---- ICMP echo ---- */

struct icmp_echo {
    uint8_t type; /* ICMP_ECHO_REQ or ICMP_ECHO_REPLY */
    uint16_t id, seq;
    const uint8_t *data;
    size_t data_len;
};

/* Checks the checksum over the whole message; other types and nonzero
 * codes are NET_E_TYPE. */
enum net_err icmp_echo_parse(const uint8_t *p, size_t len, struct icmp_echo *e);
/* Writes an echo message with its checksum; returns its length or 0. */
size_t icmp_echo_build(uint8_t *out, size_t cap, const struct icmp_echo *e);

/* ---- UDP ---- */

struct udp_hdr {
    uint16_t sport, dport;
    const uint8_t *payload;
    size_t payload_len;
};

/* p/len is the IPv4 payload. Checks the length field (at least the header,
 * at most len; bytes after it are ignored) and, when nonzero, the checksum
 * with the pseudo-header. */
enum net_err udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_hdr *u);
/* Writes header and payload (payload may alias out + UDP_HDR_LEN) with its
 * checksum; returns UDP_HDR_LEN + payload_len or 0. */
size_t udp_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport, const uint8_t *payload, size_t payload_len);

/* ---- TCP header ---- */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

#define TCP_WSCALE_MAX 14 /* RFC 7323 2.3: larger shifts are treated as 14 */
#define TCP_SACK_MAX   4  /* blocks that fit the option space */

struct tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* the six classic bits; ECN bits are ignored */
    uint16_t wnd, urp;
    /* Options seen (only meaningful on SYN segments for MSS, WS and
     * SACK-permitted). */
    bool has_mss, has_ws, sack_ok;
    uint16_t mss;
    uint8_t ws;    /* clamped to TCP_WSCALE_MAX */
    uint8_t nsack; /* SACK blocks (RFC 2018), left and right edges */
    uint32_t sack[TCP_SACK_MAX][2];
    const uint8_t *payload;
    size_t payload_len;
};

/* p/len is the IPv4 payload. Checks data offset, the checksum with the
 * pseudo-header, and every option's length (NET_E_OPTION if one is below
 * 2, runs past the header, or MSS, WS, SACK-permitted or SACK has a
 * length its kind does not allow). Unknown options are skipped. */
enum net_err tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct tcp_hdr *t);

/* What tcp_build puts in a segment. */
struct tcp_out {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss; /* nonzero: add the MSS option */
    bool ws_opt;  /* add the window scale option with shift ws */
    uint8_t ws;
    bool sack_ok;  /* add SACK-permitted (SYN segments) */
    uint8_t nsack; /* SACK blocks to add, at most TCP_SACK_MAX */
    uint32_t sack[TCP_SACK_MAX][2];
};

/* Header length tcp_build will write for o (options included). */
size_t tcp_out_hdr_len(const struct tcp_out *o);
/* Writes header, options and payload with the checksum; returns the
 * segment length or 0. A NULL payload means the caller already placed
 * payload_len bytes at out + tcp_out_hdr_len(o). */
size_t tcp_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, const struct tcp_out *o,
                 const uint8_t *payload, size_t payload_len);

#endif
