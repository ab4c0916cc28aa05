/*
 * QEMU test program: serves Echo on its exported endpoint "echo". Answers
 * every call with its text; "quit:N" ends the server after N such calls
 * (one per client); "exit-now" makes it exit in the middle of the call,
 * without answering (for the disconnect tests); "fail" answers with a
 * CapException.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"

static unsigned quits;

static int echo(void *self, Echo_echo_Params_r params, Echo_echo_Results_b results, void *ctx)
{
    struct capos_server *srv = ((struct capos_call_ctx *)ctx)->server;
    struct capn_text t = Echo_echo_Params_get_text(params);
    if (t.len == 8 && memcmp(t.str, "exit-now", 8) == 0) {
        capos_printf("echo-server: exiting in the middle of a call\n");
        capos_exit(0);
    }
    if (t.len == 4 && memcmp(t.str, "fail", 4) == 0) {
        capos_call_fail(ctx, CapException_Type_failed, "echo-server: asked to fail");
        return CAPNPC_OK;
    }
    if (t.len == 6 && memcmp(t.str, "quit:", 5) == 0 && ++quits == (unsigned)(t.str[5] - '0'))
        srv->stop = true;
    Echo_echo_Results_set_text(results, t.str, t.len);
    return CAPNPC_OK;
}

static const struct Echo_ops ops = {.echo = echo};

int main(void)
{
    struct capos_server srv = {
        .endpoint = capos_capset_find("echo", Echo_INTERFACE_ID, 0),
        .iface = &Echo_IFACE,
        .ops = &ops,
    };
    if (!srv.endpoint)
        capos_panic("echo-server: no \"echo\" endpoint in my CapSet");
    int rc = capos_serve(&srv);
    capos_printf("echo-server: served %u calls, stopping (%d)\n", srv.served, rc);
    return rc;
}
