/*
 * netstack's static configuration, from the manifest. Services have no
 * configuration field, so, as for the scopes (objs.c), it is written as
 * the names of NetworkManager exports, next to the grants:
 *
 *   static_A_B_C_D_PREFIX   the address and prefix length (e.g.
 *                           static_10_0_2_20_24): the fallback when no
 *                           DHCP server answers
 *   gateway_A_B_C_D         the gateway (none: only the local subnet)
 *   dhcp_off                no DHCP at all: the static address at once
 *
 * Each is also an ordinary NetworkManager endpoint. Without any,
 * the fallback is QEMU user networking's 10.0.2.15/24 via 10.0.2.2. A
 * name that says too little or something impossible (an address that is
 * not a host of its subnet, a gateway outside it, dhcp_off without an
 * address) stops the service at boot saying what was expected: a
 * network service must not start on a configuration nobody meant.
 */
#include "netstack.h"

#include <string.h>

static bool parse_addr(const char **s, uint32_t *ip)
{
    uint32_t a[4];
    for (int i = 0; i < 4; i++)
        if ((i && *(*s)++ != '_') || !ns_parse_num(s, 255, &a[i]))
            return false;
    *ip = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    return true;
}

/* A host address of a subnet: unicast, neither its network nor its
 * broadcast address. */
static bool host_of(uint32_t ip, uint32_t mask)
{
    uint8_t top = (uint8_t)(ip >> 24);
    return top != 0 && top != 127 && top < 224 && (ip & ~mask) != 0 && (ip & ~mask) != ~mask;
}

void ns_config_from_exports(struct net_config *cfg)
{
    const struct capos_capset *cs = capos_capset();
    uint32_t ip = 0, mask = 0, gw = 0;
    bool off = false, have_gw = false;
    for (uint32_t i = 0; i < cs->count && i < CAPOS_CAPSET_MAX_ENTRIES; i++) {
        const struct capos_capset_entry *e = &cs->entries[i];
        if (e->interface_id != NetworkManager_INTERFACE_ID)
            continue;
        char name[CAPOS_CAPSET_NAME_MAX + 1];
        memcpy(name, e->name, CAPOS_CAPSET_NAME_MAX);
        name[CAPOS_CAPSET_NAME_MAX] = 0;
        const char *s = name;
        uint32_t prefix;
        if (strncmp(name, "static_", 7) == 0) {
            s += 7;
            if (!parse_addr(&s, &ip) || *s++ != '_' || !ns_parse_num(&s, 30, &prefix) ||
                prefix == 0 || *s)
                capos_panic("netstack: export \"%s\": expected static_A_B_C_D_PREFIX "
                            "(prefix 1..30)",
                            name);
            mask = ~0u << (32 - prefix);
            if (!host_of(ip, mask))
                capos_panic("netstack: export \"%s\": not a host address of its subnet", name);
        } else if (strncmp(name, "gateway_", 8) == 0) {
            s += 8;
            if (!parse_addr(&s, &gw) || *s)
                capos_panic("netstack: export \"%s\": expected gateway_A_B_C_D", name);
            have_gw = true;
        } else if (strcmp(name, "dhcp_off") == 0)
            off = true;
    }
    if (!ip && (have_gw || off))
        capos_panic("netstack: a gateway_ or dhcp_off export needs a static_A_B_C_D_PREFIX one");
    if (!ip)
        return; /* QEMU's, from net_config_qemu */
    if (have_gw && (!host_of(gw, mask) || (gw & mask) != (ip & mask) || gw == ip))
        capos_panic("netstack: the gateway is not another host of the static address's subnet");
    cfg->ip = ip;
    cfg->netmask = mask;
    cfg->gateway = have_gw ? gw : 0;
    cfg->dns = 0;
    cfg->dhcp = !off;
}
