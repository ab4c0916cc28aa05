/*
 * QEMU test program (a child of mem-quota): one 1-page MemoryObject mapped
 * at ever new 1 GiB-aligned addresses until the kernel refuses. Each alias
 * costs a mapping record and page tables, which must be charged to this
 * process, so the refusal comes at its own quota. Unmapping every alias
 * must give the page tables back. Holds its aliases for a while first, so
 * that its sibling allocates beside a full hog.
 */
#include "testlib.h"

#define GIB     (1ull << 30)
#define VM_BASE 0x100000000ull
#define HOLD_NS 1500000000ull

static uint8_t params[256], results[256];
static struct capnpc_call c;

static int result_of(int rc)
{
    if (rc == CAPNPC_OK)
        return -1;
    return rc == CAPNPC_EXCEPTION ? (int)CapException_get_type(CapException_read_root(&c.msg))
                                  : -100;
}

int main(void)
{
    test_wait_go_ahead(); /* until init has looked at our reservation */
    uint32_t frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    struct test_usage u0, u1, u2;
    if (!frames || !timer) {
        CHECK(false, "mem-alias: frames and timer granted");
        return failures;
    }
    uint32_t rcaps[1] = {0};
    FrameAllocator_allocate_Results_r ar;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    int rc = FrameAllocator_allocate_call(&capos_transport, frames, &c, 1, &ar);
    uint32_t idx = rc == CAPNPC_OK ? FrameAllocator_allocate_Results_get_memory(ar) : 1;
    uint32_t mo = idx < c.reply.ncaps ? rcaps[idx] : 0;
    if (!mo || !test_usage(frames, &u0)) {
        CHECK(false, "mem-alias: a 1-page MemoryObject");
        return failures;
    }

    uint64_t n = 0;
    int ex = -1;
    for (; n < 100000; n++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        ex = result_of(
            MemoryObject_map_call(&capos_transport, mo, &c, VM_BASE + (n + 1) * GIB, true, 0));
        if (ex != -1)
            break;
        ((volatile uint64_t *)(VM_BASE + (n + 1) * GIB))[0] = n;
    }
    test_usage(frames, &u1);
    CHECK(ex == CapException_Type_overloaded, "mem-alias: refused as overloaded after %lu aliases",
          n);
    /* An alias needs at most its record's slab page and 3 tables. */
    CHECK(u1.held <= u1.quota && u1.quota - u1.held < 4,
          "mem-alias: stopped at its own quota: %lu of %lu frames held, %lu in page tables, "
          "%lu in kernel heap",
          u1.held, u1.quota, u1.tables, u1.heap);
    /* Every alias shows the same page: the last write wins everywhere. */
    CHECK(((volatile uint64_t *)(VM_BASE + GIB))[0] == n - 1,
          "mem-alias: the aliases share a page");
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, HOLD_NS, 0);

    int bad = 0;
    for (uint64_t k = 0; k < n; k++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        bad += result_of(MemoryObject_unmap_call(&capos_transport, mo, &c, VM_BASE + (k + 1) * GIB,
                                                 0)) != -1;
    }
    test_usage(frames, &u2);
    CHECK(bad == 0 && u2.tables == u0.tables,
          "mem-alias: unmapping %lu aliases gives the page tables back (%lu -> %lu -> %lu)", n,
          u0.tables, u1.tables, u2.tables);
    capos_printf("mem-alias: %d failures\n", failures);
    return failures;
}
