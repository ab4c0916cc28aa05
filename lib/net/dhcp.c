/*
 * DHCPv4 client; see dhcp.h. Choices RFC 2131 leaves open, or that we
 * simplify:
 *  - Retransmission is exponential from 4 s (4.1) without the random
 *    +-1 s: there is one client per link, so there is no herd to spread.
 *  - The first OFFER wins; later ones are ignored.
 *  - Option overload (52: options in sname/file) is not followed; the
 *    options we need are in the options field in every server we know.
 *  - No DECLINE: we do not ARP-probe the offered address (QEMU's server is
 *    the common case and owns its subnet).
 *  - An ACK without a lease time is refused (RFC 2131 makes it a MUST).
 */
#include "net/dhcp.h"

#include "string.h"

#define MAGIC       0x63825363u
#define NEVER       UINT64_MAX
#define FIRST_RTX   4000u
#define REQUEST_RTX 4000u
#define INFINITE    0xffffffffu

/* ---- Messages ---- */

/* Checks an option's length against what its kind allows and stores it. */
static enum net_err take_option(struct dhcp_msg *m, uint8_t kind, const uint8_t *v, uint8_t len)
{
    uint32_t *word = NULL;
    bool list = false; /* lists of addresses: we keep the first */
    switch (kind) {
    case 53:
        if (len != 1)
            return NET_E_OPTION;
        m->type = v[0];
        return NET_OK;
    case 1:
        word = &m->netmask;
        break;
    case 3:
        word = &m->router;
        list = true;
        break;
    case 6:
        word = &m->dns;
        list = true;
        break;
    case 50:
        word = &m->requested_ip;
        break;
    case 51:
        word = &m->lease_s;
        break;
    case 54:
        word = &m->server_id;
        break;
    case 58:
        word = &m->t1_s;
        break;
    case 59:
        word = &m->t2_s;
        break;
    default:
        return NET_OK; /* not ours to interpret */
    }
    if (list ? (len < 4 || len % 4 != 0) : len != 4)
        return NET_E_OPTION;
    *word = ld32(v);
    return NET_OK;
}

enum net_err dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
    if (len < DHCP_FIXED_LEN)
        return NET_E_SHORT;
    if (p[1] != 1 || p[2] != ETH_ALEN)
        return NET_E_PROTO;
    if (ld32(p + 236) != MAGIC)
        return NET_E_PROTO;
    memset(m, 0, sizeof(*m));
    m->op = p[0];
    m->xid = ld32(p + 4);
    m->ciaddr = ld32(p + 12);
    m->yiaddr = ld32(p + 16);
    memcpy(m->chaddr, p + 28, ETH_ALEN);
    size_t i = DHCP_FIXED_LEN;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == 255)
            break;
        if (kind == 0) {
            i++;
            continue;
        }
        if (i + 2 > len || p[i + 1] > len - i - 2)
            return NET_E_OPTION;
        enum net_err e = take_option(m, kind, p + i + 2, p[i + 1]);
        if (e != NET_OK)
            return e;
        i += 2u + p[i + 1];
    }
    if (m->type < DHCP_DISCOVER || m->type > DHCP_RELEASE)
        return NET_E_TYPE;
    return NET_OK;
}

static uint8_t *put_opt32(uint8_t *o, uint8_t kind, uint32_t v)
{
    o[0] = kind;
    o[1] = 4;
    st32(o + 2, v);
    return o + 6;
}

size_t dhcp_build(uint8_t *out, size_t cap, const struct dhcp_msg *m)
{
    if (cap < DHCP_MSG_LEN)
        return 0;
    memset(out, 0, DHCP_MSG_LEN);
    out[0] = 1; /* BOOTREQUEST */
    out[1] = 1;
    out[2] = ETH_ALEN;
    st32(out + 4, m->xid);
    st16(out + 10, 0x8000); /* broadcast: we may have no address to unicast to */
    st32(out + 12, m->ciaddr);
    memcpy(out + 28, m->chaddr, ETH_ALEN);
    st32(out + 236, MAGIC);
    uint8_t *o = out + DHCP_FIXED_LEN;
    *o++ = 53;
    *o++ = 1;
    *o++ = m->type;
    if (m->requested_ip)
        o = put_opt32(o, 50, m->requested_ip);
    if (m->server_id)
        o = put_opt32(o, 54, m->server_id);
    /* Parameter request list: subnet mask, router, DNS, lease, T1, T2. */
    static const uint8_t prl[] = {1, 3, 6, 51, 58, 59};
    *o++ = 55;
    *o++ = sizeof(prl);
    memcpy(o, prl, sizeof(prl));
    o += sizeof(prl);
    *o = 255;
    return DHCP_MSG_LEN;
}

/* ---- State machine ---- */

static struct dhcp_tx send_msg(struct dhcp_client *c, uint8_t type, uint8_t *out, size_t cap)
{
    struct dhcp_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.xid = c->xid;
    memcpy(m.chaddr, c->mac, ETH_ALEN);
    struct dhcp_tx tx = {0, IPV4_BROADCAST, 0};
    if (c->state == DHCP_REQUESTING) {
        m.requested_ip = c->offer.ip;
        m.server_id = c->offer.server;
    } else if (c->state == DHCP_RENEWING || c->state == DHCP_REBINDING) {
        /* RFC 2131 4.3.2: ciaddr set, no server id or requested ip. */
        m.ciaddr = c->lease.ip;
        tx.src = c->lease.ip;
        if (c->state == DHCP_RENEWING)
            tx.dst = c->lease.server;
    }
    tx.len = dhcp_build(out, cap, &m);
    return tx;
}

static uint64_t backoff(uint8_t tries)
{
    return (uint64_t)FIRST_RTX << (tries > 4 ? 4 : tries);
}

static void restart(struct dhcp_client *c, uint64_t now)
{
    c->state = DHCP_SELECTING;
    c->tries = 0;
    c->xid++;
    c->deadline = now;
    memset(&c->lease, 0, sizeof(c->lease));
}

void dhcp_start(struct dhcp_client *c, const uint8_t mac[ETH_ALEN], uint32_t xid,
                const struct dhcp_lease *fallback, uint64_t now)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->mac, mac, ETH_ALEN);
    c->xid = xid - 1; /* restart() moves to a fresh transaction id */
    c->fallback = *fallback;
    c->t1 = c->t2 = c->expiry = NEVER;
    restart(c, now);
}

struct dhcp_tx dhcp_poll(struct dhcp_client *c, uint64_t now, uint8_t *out, size_t cap)
{
    struct dhcp_tx none = {0, 0, 0};
    switch (c->state) {
    case DHCP_SELECTING:
    case DHCP_REQUESTING:
        if (now < c->deadline)
            return none;
        if (c->state == DHCP_SELECTING && c->tries >= DHCP_DISCOVER_TRIES) {
            c->state = DHCP_FALLBACK;
            c->deadline = NEVER;
            return none;
        }
        if (c->state == DHCP_REQUESTING && c->tries >= DHCP_REQUEST_TRIES) {
            restart(c, now);
            return dhcp_poll(c, now, out, cap);
        }
        c->deadline = now + (c->state == DHCP_SELECTING ? backoff(c->tries) : REQUEST_RTX);
        c->tries++;
        return send_msg(c, c->state == DHCP_SELECTING ? DHCP_DISCOVER : DHCP_REQUEST, out, cap);
    case DHCP_BOUND:
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        if (now >= c->expiry) {
            restart(c, now);
            return dhcp_poll(c, now, out, cap);
        }
        if (c->state != DHCP_REBINDING && now >= c->t2)
            c->state = DHCP_REBINDING;
        else if (c->state == DHCP_BOUND && now >= c->t1)
            c->state = DHCP_RENEWING;
        if (c->state == DHCP_BOUND || now < c->deadline)
            return none;
        {
            /* RFC 2131 4.4.5: half the time left to T2 (or expiry), at
             * least 60 s. */
            uint64_t until = c->state == DHCP_RENEWING ? c->t2 : c->expiry;
            uint64_t wait = (until - now) / 2;
            c->deadline = now + (wait < 60000 ? 60000 : wait);
            if (c->deadline > until)
                c->deadline = until;
        }
        return send_msg(c, DHCP_REQUEST, out, cap);
    default:
        return none;
    }
}

static bool usable_addr(uint32_t a)
{
    return a != 0 && a != IPV4_BROADCAST && (a >> 24) != 127 && (a >> 28) < 14;
}

static void bind_lease(struct dhcp_client *c, const struct dhcp_msg *m, uint64_t now)
{
    c->lease.ip = m->yiaddr;
    c->lease.netmask = m->netmask ? m->netmask : 0xffffff00u;
    c->lease.router = m->router;
    c->lease.dns = m->dns;
    c->lease.server = m->server_id ? m->server_id : c->offer.server;
    c->state = DHCP_BOUND;
    c->tries = 0;
    if (m->lease_s == INFINITE) {
        c->t1 = c->t2 = c->expiry = c->deadline = NEVER;
        return;
    }
    uint64_t lease = (uint64_t)m->lease_s * 1000;
    uint64_t t1 = (uint64_t)m->t1_s * 1000, t2 = (uint64_t)m->t2_s * 1000;
    /* Defaults (4.4.5) when absent or inconsistent. */
    if (t2 == 0 || t2 > lease)
        t2 = lease / 8 * 7;
    if (t1 == 0 || t1 > t2)
        t1 = lease / 2 < t2 ? lease / 2 : t2;
    c->expiry = now + lease;
    c->t1 = now + t1;
    c->t2 = now + t2;
    c->deadline = c->t1;
}

struct dhcp_tx dhcp_input(struct dhcp_client *c, const uint8_t *p, size_t len, uint64_t now,
                          uint8_t *out, size_t cap)
{
    struct dhcp_tx none = {0, 0, 0};
    struct dhcp_msg m;
    if (dhcp_parse(p, len, &m) != NET_OK || m.op != 2 || m.xid != c->xid ||
        memcmp(m.chaddr, c->mac, ETH_ALEN) != 0)
        return none;
    switch (c->state) {
    case DHCP_SELECTING:
        if (m.type != DHCP_OFFER || !usable_addr(m.yiaddr) || m.server_id == 0)
            return none;
        c->offer.ip = m.yiaddr;
        c->offer.server = m.server_id;
        c->state = DHCP_REQUESTING;
        c->tries = 1;
        c->deadline = now + REQUEST_RTX;
        return send_msg(c, DHCP_REQUEST, out, cap);
    case DHCP_REQUESTING:
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        if (m.type == DHCP_NAK) {
            restart(c, now);
            return dhcp_poll(c, now, out, cap);
        }
        if (m.type != DHCP_ACK || !usable_addr(m.yiaddr) || m.lease_s == 0)
            return none;
        if (c->state == DHCP_REQUESTING && m.yiaddr != c->offer.ip)
            return none;
        if (c->state != DHCP_REQUESTING && m.yiaddr != c->lease.ip)
            return none;
        bind_lease(c, &m, now);
        return none;
    default:
        return none;
    }
}

const struct dhcp_lease *dhcp_config(const struct dhcp_client *c)
{
    switch (c->state) {
    case DHCP_BOUND:
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        return &c->lease;
    case DHCP_FALLBACK:
    case DHCP_OFF:
        return &c->fallback;
    default:
        return NULL;
    }
}

uint64_t dhcp_deadline(const struct dhcp_client *c)
{
    switch (c->state) {
    case DHCP_SELECTING:
    case DHCP_REQUESTING:
        return c->deadline;
    case DHCP_BOUND:
    case DHCP_RENEWING:
    case DHCP_REBINDING: {
        uint64_t d = c->deadline;
        if (c->t2 < d && c->state != DHCP_REBINDING)
            d = c->t2;
        return c->expiry < d ? c->expiry : d;
    }
    default:
        return NEVER;
    }
}
