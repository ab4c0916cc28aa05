/*
 * Child of terminal-test: asks the terminal for a hidden line, and exits
 * a second later without waiting for it, leaving half a "password" typed.
 * The next reader must not get those bytes.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"

int main(void)
{
    uint32_t term = capos_capset_find("terminal", TerminalSession_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!term || !timer)
        return 1;
    static uint8_t p[128] __attribute__((aligned(8))), r[256] __attribute__((aligned(8)));
    static uint8_t lp[64] __attribute__((aligned(8))), lr[2048] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    TerminalSession_setEcho_call(&capos_transport, term, &c, false, 0);
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    TerminalSession_write_call(&capos_transport, term, &c, "child> ", 7, 0);
    /* The read stays in flight when we exit. */
    static struct capnpc_call lc;
    capnpc_call_init(&lc, lp, sizeof(lp), lr, sizeof(lr));
    TerminalSession_readLine_Params_set_maxBytes(TerminalSession_readLine_begin(&lc), 64);
    capos_call_start(&lc, term, TerminalSession_INTERFACE_ID, TerminalSession_readLine_METHOD, 77);
    capos_cap_enter(0, 0);
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    Timer_sleep_call(&capos_transport, timer, &c, 1000000000ull, 0);
    return 0;
}
