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
    struct capos_call_ctx *call = ctx;
    if (t.len == 7 && memcmp(t.str, "session", 7) == 0) {
        /* The caller-session reference, in hex. */
        char hex[32];
        for (int i = 0; i < 16; i++) {
            hex[2 * i] = "0123456789abcdef"[call->header->session[i] >> 4];
            hex[2 * i + 1] = "0123456789abcdef"[call->header->session[i] & 15];
        }
        Echo_echo_Results_set_text(results, hex, 32);
        return CAPNPC_OK;
    }
    if (call->header->cap_count) {
        /* Capabilities that came with the call: use each, then drop it. */
        for (unsigned i = 0; i < call->header->cap_count; i++) {
            const struct capos_cap_record *r = &call->caps[i];
            /* The server understands Consoles and Timers; adoption checks
             * the interface (and capos_serve releases what is not adopted). */
            bool is_timer = r->interface_id == Timer_INTERFACE_ID;
            uint32_t cap =
                capos_call_adopt(call, i, is_timer ? Timer_INTERFACE_ID : Console_INTERFACE_ID);
            if (!cap)
                continue;
            if (is_timer) {
                uint8_t p[64], res[64];
                struct capnpc_call c;
                Timer_now_Results_r now;
                capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
                if (Timer_now_call(&capos_transport, cap, &c, &now) == CAPNPC_OK)
                    capos_printf("echo-server: a Timer a client moved to me says %lu ms\n",
                                 Timer_now_Results_get_ns(now) / 1000000);
            } else {
                uint8_t p[128], res[64];
                struct capnpc_call c;
                capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
                Console_writeLine_call(&capos_transport, cap, &c,
                                       "echo-server: writing through a Console a client sent", 52,
                                       0);
            }
            capos_handle_drop(cap); /* the last local reference: RELEASE */
        }
        capos_flush_releases();
        Echo_echo_Results_set_text(results, "got caps", 8);
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
