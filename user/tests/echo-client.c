/*
 * QEMU test program: an Echo client. 100 calls with distinct texts, each
 * answer checked; then an exception from the server; then "quit:2".
 * Exits 0 when every check passed.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"

int main(void)
{
    uint32_t echo = capos_capset_find("echo", Echo_INTERFACE_ID, 0);
    if (!echo)
        capos_panic("echo-client: no \"echo\" capability");
    static uint8_t params[256] __attribute__((aligned(8)));
    static uint8_t results[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    char text[32];
    int bad = 0;
    for (int i = 0; i < 100; i++) {
        int n = 0;
        for (const char *p = "msg-"; *p; p++)
            text[n++] = *p;
        text[n++] = (char)('0' + capos_pid() % 10);
        text[n++] = '-';
        text[n++] = (char)('0' + i / 10);
        text[n++] = (char)('0' + i % 10);
        Echo_echo_Results_r r;
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        int rc = Echo_echo_call(&capos_transport, echo, &c, text, (uint32_t)n, &r);
        struct capn_text t = Echo_echo_Results_get_text(r);
        if (rc != CAPNPC_OK || t.len != (uint32_t)n || memcmp(t.str, text, n) != 0)
            bad++;
    }
    capos_printf("echo-client %u: 100 calls, %d wrong answers\n", capos_pid(), bad);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Echo_echo_call(&capos_transport, echo, &c, "fail", 4, 0);
    struct capn_text m = CapException_get_message(CapException_read_root(&c.msg));
    capos_printf("echo-client %u: \"fail\" gave %s: %.*s\n", capos_pid(),
                 rc == CAPNPC_EXCEPTION ? "an exception" : "something else", (int)m.len, m.str);
    if (rc != CAPNPC_EXCEPTION)
        bad++;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, echo, &c, "quit:2", 6, 0);
    return bad;
}
