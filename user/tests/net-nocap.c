/*
 * QEMU test program: a process that was not granted the NetworkInterface
 * cannot reach the device. Its CapSet has no "network" entry, and a
 * NetworkInterface call on every capability id it could guess (each slot
 * of its table, at the first generations) fails with a transport error,
 * never reaching the device. Exits with the number of failed checks.
 */
#include "testlib.h"

static uint8_t params[512] __attribute__((aligned(8)));
static uint8_t results[512] __attribute__((aligned(8)));

int main(void)
{
    const char *why = 0;
    CHECK(capos_capset_find("network", NetworkInterface_INTERFACE_ID, &why) == 0,
          "capset: no network capability (%s)", why ? why : "?");
    static const uint8_t frame[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    unsigned reached = 0, tried = 0;
    /* A capability id is a slot index plus a generation (docs/abi.md):
     * try every slot with the low generations. */
    for (uint32_t gen = 0; gen < 4; gen++) {
        for (uint32_t slot = 0; slot < 256; slot++) {
            uint32_t cap = gen << 16 | slot;
            struct capnpc_call c;
            capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
            int rc = NetworkInterface_send_call(&capos_transport, cap, &c, frame, sizeof(frame), 0);
            tried++;
            if (rc >= 0)
                reached++;
        }
    }
    CHECK(reached == 0, "NetworkInterface.send on %u guessed capability ids: %u reached an object",
          tried, reached);
    capos_printf("net-nocap: %d failures\n", failures);
    return failures;
}
