/*
 * QEMU test program (a child of mem-quota): tries to make the kernel pay
 * for page tables. First it maps, touches and unmaps one page at a fresh
 * 1 GiB-aligned address, a thousand times: each round needs a new page
 * directory and page table, which must be freed on unmap, so its account
 * ends where it started. Then it keeps the pages mapped, until the kernel
 * refuses: that must happen at its own quota (every table charged to it),
 * not when the machine runs out. It holds everything for a while so that
 * its sibling allocates beside a full hog, then exits.
 */
#include "testlib.h"

#define GIB     (1ull << 30)
#define VM_BASE 0x100000000ull
#define ROUNDS  1000
#define HOLD_NS 1500000000ull

static uint8_t params[256], results[256];
static struct capnpc_call c;

/* -1 if the call succeeded, else the CapException type (or -100). */
static int map_page(uint32_t vm, uint64_t va, bool map)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = map ? VirtualMemory_map_call(&capos_transport, vm, &c, va, 1, true, false, 0)
                 : VirtualMemory_unmap_call(&capos_transport, vm, &c, va, 1, 0);
    if (rc == CAPNPC_OK)
        return -1;
    return rc == CAPNPC_EXCEPTION ? (int)CapException_get_type(CapException_read_root(&c.msg))
                                  : -100;
}

int main(void)
{
    test_wait_go_ahead(); /* until init has looked at our reservation */
    uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    uint32_t frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    struct test_usage u0, u1, u2;
    if (!vm || !frames || !timer || !test_usage(frames, &u0)) {
        CHECK(false, "mem-tables: vm, frames and timer granted");
        return failures;
    }

    int bad = 0;
    for (uint64_t i = 1; i <= ROUNDS; i++) {
        uint64_t va = VM_BASE + i * GIB;
        bad += map_page(vm, va, true) != -1;
        *(volatile uint64_t *)va = i;
        bad += map_page(vm, va, false) != -1;
    }
    test_usage(frames, &u1);
    CHECK(bad == 0, "mem-tables: %d map/unmap rounds at fresh 1 GiB addresses, %d refused", ROUNDS,
          bad);
    CHECK(u1.tables == u0.tables && u1.held == u0.held,
          "mem-tables: empty page tables freed on unmap (tables %lu -> %lu, held %lu -> %lu)",
          u0.tables, u1.tables, u0.held, u1.held);

    /* Now keep them, at ever new addresses, until refused. */
    uint64_t i = 1;
    int ex = -1;
    for (; i < 100000; i++) {
        uint64_t va = VM_BASE + i * GIB;
        if ((ex = map_page(vm, va, true)) != -1)
            break;
        *(volatile uint64_t *)va = i;
    }
    test_usage(frames, &u2);
    CHECK(ex == CapException_Type_overloaded, "mem-tables: refused as overloaded after %lu pages",
          i - 1);
    /* A page at a fresh address needs at most 4 frames (page, PT, PD,
     * PDPT): the refusal came within 4 frames of the quota. */
    CHECK(u2.held <= u2.quota && u2.quota - u2.held < 4,
          "mem-tables: stopped at its own quota: %lu of %lu frames held, %lu in page tables",
          u2.held, u2.quota, u2.tables);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_sleep_call(&capos_transport, timer, &c, HOLD_NS, 0);
    capos_printf("mem-tables: %d failures\n", failures);
    return failures;
}
