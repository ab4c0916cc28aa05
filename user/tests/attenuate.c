/*
 * QEMU test program: attenuation. Wrap the Console so that only writeLine
 * works, check write is refused with `unimplemented`, check a wrapper of
 * the wrapper cannot widen it, and narrow the Timer to `now`.
 */
#include "capos_rt.h"

#include "capos.capnp.h"
#include "testlib.h"

static uint8_t params[512] __attribute__((aligned(8)));
static uint8_t results[512] __attribute__((aligned(8)));
static uint32_t attenuator;

static uint32_t wrap(uint32_t cap, const uint16_t *methods, uint32_t n)
{
    uint32_t caps[1], rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, 1);
    Attenuator_wrap_Params_b p = Attenuator_wrap_begin(&c);
    Attenuator_wrap_Params_set_cap(p, capnpc_call_add_cap(&c, cap));
    List_UInt16_b l = Attenuator_wrap_Params_init_methods(p, n);
    for (uint32_t i = 0; i < n; i++)
        List_UInt16_set(l, i, methods[i]);
    Attenuator_wrap_Results_r r;
    if (Attenuator_wrap_send(&capos_transport, attenuator, &c, &r) != CAPNPC_OK)
        return 0;
    uint32_t i = Attenuator_wrap_Results_get_wrapped(r);
    return i < c.reply.ncaps ? rcaps[i] : 0;
}

/* 0 for a result, else the CapException type + 1, or the transport error. */
static int outcome(int rc, struct capnpc_call *c)
{
    if (rc == CAPNPC_EXCEPTION)
        return 1 + (int)CapException_get_type(CapException_read_root(&c->msg));
    return rc;
}

static int console_call(uint32_t cap, bool line)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = line ? Console_writeLine_call(&capos_transport, cap, &c,
                                           "attenuate: writeLine through a wrapper", 38, 0)
                  : Console_write_call(&capos_transport, cap, &c, "x", 1, 0);
    return outcome(rc, &c);
}

int main(void)
{
    const int UNIMPLEMENTED = 1 + CapException_Type_unimplemented;
    attenuator = capos_capset_find("attenuator", Attenuator_INTERFACE_ID, 0);
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);

    static const uint16_t line_only[] = {Console_writeLine_METHOD};
    uint32_t narrow = wrap(console, line_only, 1);
    CHECK(narrow != 0, "wrapped the Console to writeLine only");
    CHECK(console_call(narrow, true) == 0, "writeLine through the wrapper works");
    CHECK(console_call(narrow, false) == UNIMPLEMENTED, "write through the wrapper: unimplemented");
    static const uint16_t both[] = {Console_write_METHOD, Console_writeLine_METHOD};
    uint32_t wider = wrap(narrow, both, 2);
    CHECK(wider != 0 && console_call(wider, false) == UNIMPLEMENTED,
          "a wrapper of the wrapper cannot widen it");
    uint32_t none = wrap(console, 0, 0);
    CHECK(none != 0 && console_call(none, true) == UNIMPLEMENTED,
          "an empty method set answers nothing");
    CHECK(console_call(console, false) == 0, "the original Console is unchanged");

    static const uint16_t now_only[] = {Timer_now_METHOD};
    uint32_t clock = wrap(timer, now_only, 1);
    struct capnpc_call c;
    Timer_now_Results_r nr;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Timer_now_call(&capos_transport, clock, &c, &nr);
    CHECK(rc == CAPNPC_OK && Timer_now_Results_get_ns(nr) > 0, "Timer.now through a wrapper");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = Timer_sleep_call(&capos_transport, clock, &c, 1000, 0);
    CHECK(outcome(rc, &c) == UNIMPLEMENTED,
          "Timer.sleep through a now-only wrapper: unimplemented");

    /* Release is transport: the last local handle going queues a RELEASE. */
    capos_handle_dup(narrow);
    capos_handle_drop(narrow);
    capos_flush_releases();
    CHECK(console_call(narrow, true) == 0, "a handle with another reference left still works");
    capos_handle_drop(narrow);
    capos_flush_releases();
    CHECK(console_call(narrow, true) == CAPOS_E_BAD_CAP,
          "dropping the last handle released the capability");
    capos_release(wider);
    capos_release(none);
    capos_release(clock);
    capos_flush_releases();
    capos_printf("attenuate: %d failures\n", failures);
    return failures;
}
