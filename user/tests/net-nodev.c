/*
 * QEMU test program, booted on a machine without a working virtio-net
 * device (none at all, or one the driver gave up on): the NetworkInterface
 * it is granted answers every method with a `failed` exception that says
 * why, and nothing else happens. Exits with the
 * number of failed checks.
 */
#include "testlib.h"

static uint8_t params[512] __attribute__((aligned(8)));
static uint8_t results[512] __attribute__((aligned(8)));

static void expect_failed(const char *what, int rc, struct capnpc_call *c)
{
    bool ex = rc == CAPNPC_EXCEPTION;
    CapException_r e = CapException_read_root(&c->msg);
    struct capn_text m = ex ? CapException_get_message(e) : (struct capn_text){0};
    CHECK(ex && CapException_get_type(e) == CapException_Type_failed,
          "%s with no working device: %s: %.*s", what,
          ex ? CapException_Type_NAMES[CapException_get_type(e)] : "not an exception", (int)m.len,
          m.str ? m.str : "");
}

int main(void)
{
    uint32_t net = capos_capset_find("network", NetworkInterface_INTERFACE_ID, 0);
    CHECK(net != 0, "capset: network found as a NetworkInterface");
    struct capnpc_call c;
    static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    NetworkInterface_info_Results_r ir;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    expect_failed("info", NetworkInterface_info_call(&capos_transport, net, &c, &ir), &c);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    expect_failed("send", NetworkInterface_send_call(&capos_transport, net, &c, frame, 60, 0), &c);
    NetworkInterface_receive_Results_r rr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    expect_failed("receive", NetworkInterface_receive_call(&capos_transport, net, &c, &rr), &c);
    NetworkInterface_receiveMany_Results_r rm;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    expect_failed("receiveMany", NetworkInterface_receiveMany_call(&capos_transport, net, &c, &rm),
                  &c);
    capos_printf("net-nodev: %d failures\n", failures);
    return failures;
}
