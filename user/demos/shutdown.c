/*
 * shutdown: halt the machine through the Power capability it was granted
 * (run "shutdown" with { power: @power }). Without one it can do nothing,
 * which is the point: the right to halt is a capability, not a user id.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"

static void say(uint32_t stdio, const char *s)
{
    uint8_t params[256] __attribute__((aligned(8))), results[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (stdio)
        StdIO_write_call(&capos_transport, stdio, &c, s, (uint32_t)strlen(s), 0);
    else
        capos_write(s, strlen(s));
}

int main(void)
{
    uint32_t stdio = capos_capset_find("stdio", StdIO_INTERFACE_ID, 0);
    const char *why = 0;
    uint32_t power = capos_capset_find("power", Power_INTERFACE_ID, &why);
    if (!power) {
        say(stdio, "shutdown: no Power capability named \"power\" was granted: nothing to do\r\n");
        return 1;
    }
    say(stdio, "shutdown: halting the machine\r\n");
    uint8_t params[64] __attribute__((aligned(8))), results[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Power_shutdown_call(&capos_transport, power, &c, 0);
    /* Only a revoked or attenuated capability gets here. */
    say(stdio, rc == CAPNPC_EXCEPTION ? "shutdown: refused\r\n" : "shutdown: failed\r\n");
    return 1;
}
