/*
 * The hello demo. Started by the shell (through a session's launcher) it
 * has a "stdio" (StdIO) capability: it greets through it and exits with
 * code 0. Started as a service with a Console (the default system), it
 * greets through the Console, shows the bootstrap capabilities it was
 * given, reads the clock and some entropy, sleeps, and exits.
 */
#include "capos_rt.h"

#include "capos.capnp.h"
#include "text/fmt.h"

/* The StdIO mode: two lines, then exit 0 (1 if the writes fail). */
static int hello_stdio(uint32_t stdio)
{
    const struct capos_capset *cs = capos_capset();
    char text[160];
    int n = fmt_snprintf(text, sizeof(text),
                         "Hello from capOS! (pid %u)\r\n"
                         "I hold %u capabilit%s, given by whoever started me.\r\n",
                         capos_pid(), cs ? cs->count : 0, cs && cs->count == 1 ? "y" : "ies");
    uint8_t params[512] __attribute__((aligned(8))), results[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = StdIO_write_call(&capos_transport, stdio, &c, text,
                              (uint32_t)(n < (int)sizeof(text) ? n : (int)sizeof(text) - 1), 0);
    return rc == CAPNPC_OK ? 0 : 1;
}

int main(void)
{
    uint32_t stdio = capos_capset_find("stdio", StdIO_INTERFACE_ID, 0);
    if (stdio)
        return hello_stdio(stdio);
    capos_printf("hello: pid %u, running in user mode; every call below goes through the ring\n",
                 capos_pid());
    const struct capos_capset *cs = capos_capset();
    capos_printf("hello: my CapSet holds %u capabilities:\n", cs ? cs->count : 0);
    for (uint32_t i = 0; cs && i < cs->count && i < CAPOS_CAPSET_MAX_ENTRIES; i++) {
        const struct capos_capset_entry *e = &cs->entries[i];
        const char *iface = "?";
        for (unsigned k = 0; k < capos_INTERFACE_COUNT; k++)
            if (capos_INTERFACES[k]->id == e->interface_id)
                iface = capos_INTERFACES[k]->name;
        capos_printf("  %-8.*s %-16s id %08x\n", CAPOS_CAPSET_NAME_MAX, e->name, iface, e->cap);
    }

    uint8_t params[128], results[128];
    struct capnpc_call c;
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    Timer_now_Results_r now;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (Timer_now_call(&capos_transport, timer, &c, &now) == CAPNPC_OK)
        capos_printf("hello: Timer.now says %lu ms since boot\n",
                     Timer_now_Results_get_ns(now) / 1000000);

    uint32_t entropy = capos_capset_find("entropy", EntropySource_INTERFACE_ID, 0);
    EntropySource_fill_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (EntropySource_fill_call(&capos_transport, entropy, &c, 8, &er) == CAPNPC_OK) {
        struct capn_data d = EntropySource_fill_Results_get_bytes(er);
        capos_printf("hello: 8 random bytes:");
        for (uint32_t i = 0; i < d.len; i++)
            capos_printf(" %02x", d.ptr[i]);
        capos_printf("\n");
    }

    capos_printf("hello: sleeping 200 ms\n");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, 200000000, 0);
    capos_printf("hello: goodbye (exit code 0)\n");
    return 0;
}
