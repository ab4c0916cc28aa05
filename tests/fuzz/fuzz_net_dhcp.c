/*
 * libFuzzer target: DHCP message parsing and the client state machine.
 *
 * The input is a script of operations [kind, time, len_hi, len_lo] +
 * bytes. kind bit 0: the bytes go to dhcp_input (bit 1 first patches in
 * the client's transaction id and MAC, bit 2 forces op BOOTREPLY and the
 * magic cookie, so the fuzzer reaches the state machine); otherwise only
 * dhcp_parse sees them. Every op then moves the clock and polls. Checked
 * after each step: parsed messages stay consistent, every message the
 * client sends parses back as its own request, the configuration it
 * reports is usable, and its deadline is never in the past.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t mac[ETH_ALEN] = {2, 0, 0, 0, 0, 1};

static void check_tx(const struct dhcp_client *c, struct dhcp_tx tx, const uint8_t *out)
{
    if (tx.len == 0)
        return;
    CHECK(tx.len == DHCP_MSG_LEN);
    struct dhcp_msg m;
    CHECK(dhcp_parse(out, tx.len, &m) == NET_OK);
    CHECK(m.op == 1 && m.xid == c->xid && memcmp(m.chaddr, mac, ETH_ALEN) == 0);
    CHECK(m.type == DHCP_DISCOVER || m.type == DHCP_REQUEST);
    CHECK(tx.dst != 0);
}

static void check_client(const struct dhcp_client *c, uint64_t now)
{
    const struct dhcp_lease *l = dhcp_config(c);
    if (l && c->state != DHCP_FALLBACK) {
        CHECK(l->ip != 0 && l->ip != 0xffffffffu && (l->ip >> 24) != 127);
        CHECK(c->t1 <= c->t2 && c->t2 <= c->expiry);
    }
    CHECK(dhcp_deadline(c) > now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[DHCP_MSG_LEN];
    struct dhcp_client c;
    struct dhcp_lease fb = {0x0a00020f, 0xffffff00, 0x0a000202, 0x0a000203, 0};
    uint64_t now = 1000;
    dhcp_start(&c, mac, 0x1234, &fb, now);
    check_tx(&c, dhcp_poll(&c, now, out, sizeof(out)), out);
    check_client(&c, now);
    while (size >= 4) {
        uint8_t kind = data[0];
        uint64_t step = (uint64_t)data[1] * data[1] * 100;
        size_t len = (size_t)data[2] << 8 | data[3];
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        uint8_t *msg = malloc(len ? len : 1);
        memcpy(msg, data, len);
        data += len;
        size -= len;
        if ((kind & 2) && len >= 34) {
            st32(msg + 4, c.xid);
            memcpy(msg + 28, mac, ETH_ALEN);
        }
        if ((kind & 4) && len >= DHCP_FIXED_LEN) {
            msg[0] = 2;
            st32(msg + 236, 0x63825363);
        }
        struct dhcp_msg m;
        if (dhcp_parse(msg, len, &m) == NET_OK)
            CHECK(m.type >= DHCP_DISCOVER && m.type <= DHCP_RELEASE);
        if (kind & 1)
            check_tx(&c, dhcp_input(&c, msg, len, now, out, sizeof(out)), out);
        free(msg);
        now += step;
        check_tx(&c, dhcp_poll(&c, now, out, sizeof(out)), out);
        check_client(&c, now);
    }
    return 0;
}
