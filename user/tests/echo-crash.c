/*
 * QEMU test program: the server dies with our call in flight. Ask the Echo
 * server to exit in the middle of the call: our CALL must complete with a
 * `disconnected` CapException, and a later CALL on the same capability
 * must fail the same way at once.
 */
#include "capos_rt.h"

#include "capos.capnp.h"

static int call(uint32_t echo, const char *text, uint32_t len, CapException_Type *type)
{
    static uint8_t params[256] __attribute__((aligned(8)));
    static uint8_t results[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Echo_echo_call(&capos_transport, echo, &c, text, len, 0);
    if (rc == CAPNPC_EXCEPTION)
        *type = CapException_get_type(CapException_read_root(&c.msg));
    return rc;
}

int main(void)
{
    uint32_t echo = capos_capset_find("echo", Echo_INTERFACE_ID, 0);
    CapException_Type t = CapException_Type_failed;
    int rc = call(echo, "hello", 5, &t);
    capos_printf("echo-crash: first call %s\n", rc == CAPNPC_OK ? "answered" : "failed");
    rc = call(echo, "exit-now", 8, &t);
    bool ok1 = rc == CAPNPC_EXCEPTION && t == CapException_Type_disconnected;
    capos_printf("echo-crash: call in flight when the server died: %s\n",
                 ok1 ? "disconnected exception" : "something else");
    t = CapException_Type_failed;
    rc = call(echo, "again", 5, &t);
    bool ok2 = rc == CAPNPC_EXCEPTION && t == CapException_Type_disconnected;
    capos_printf("echo-crash: call after the server died: %s\n",
                 ok2 ? "disconnected exception" : "something else");
    return ok1 && ok2 ? 0 : 1;
}
