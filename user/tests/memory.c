/*
 * QEMU test program: VirtualMemory and FrameAllocator/MemoryObject.
 * Maps, protects and unmaps anonymous memory; allocates MemoryObjects,
 * maps and unmaps them; checks every refusal; runs into the frame quota;
 * then exits holding a mapped MemoryObject, and finally writes to a page it
 * made read-only, which must end the process (and only the process) with a
 * report. The kernel then shows the frame ledger back at zero.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

#define VM_BASE 0x100000000ull
#define PAGE    4096ull

static uint8_t params[512], results[512];
static struct capnpc_call c;
static uint32_t vm, frames;

static void begin(void)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
}

/* The exception type of the last call, or -1 if it succeeded. */
static int exception_type(int rc)
{
    if (rc != CAPNPC_EXCEPTION)
        return rc == CAPNPC_OK ? -1 : -100;
    return CapException_get_type(CapException_read_root(&c.msg));
}

static int vm_map(uint64_t va, uint32_t pages, bool w, bool x)
{
    begin();
    return exception_type(VirtualMemory_map_call(&capos_transport, vm, &c, va, pages, w, x, 0));
}

static int vm_protect(uint64_t va, uint32_t pages, bool w, bool x)
{
    begin();
    return exception_type(VirtualMemory_protect_call(&capos_transport, vm, &c, va, pages, w, x, 0));
}

static int vm_unmap(uint64_t va, uint32_t pages)
{
    begin();
    return exception_type(VirtualMemory_unmap_call(&capos_transport, vm, &c, va, pages, 0));
}

static uint32_t allocate(uint32_t pages, int *ex)
{
    uint32_t caps[1] = {0};
    FrameAllocator_allocate_Results_r r;
    begin();
    capnpc_call_caps(&c, 0, 0, caps, 1);
    int rc = FrameAllocator_allocate_call(&capos_transport, frames, &c, pages, &r);
    *ex = exception_type(rc);
    if (rc != CAPNPC_OK)
        return 0;
    uint32_t index = FrameAllocator_allocate_Results_get_memory(r);
    return index < c.reply.ncaps ? caps[index] : 0;
}

int main(void)
{
    const int INVALID = CapException_Type_invalidArgument;
    vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    CHECK(vm && frames, "capset: vm and frames found");

    /* Anonymous memory. */
    CHECK(vm_map(VM_BASE, 4, true, false) == -1, "VirtualMemory.map 4 pages");
    volatile uint64_t *mem = (volatile uint64_t *)VM_BASE;
    for (unsigned i = 0; i < 4 * PAGE / 8; i++)
        mem[i] = i * 3;
    bool same = true;
    for (unsigned i = 0; i < 4 * PAGE / 8; i++)
        same &= mem[i] == i * 3;
    CHECK(same, "anonymous pages hold what was written");
    CHECK(vm_map(VM_BASE + PAGE, 1, true, false) == INVALID, "map over a mapped page refused");
    CHECK(vm_map(VM_BASE + 64 * PAGE, 1, true, true) == INVALID, "writable+executable refused");
    CHECK(vm_map(VM_BASE + 1, 1, true, false) == INVALID, "unaligned address refused");
    CHECK(vm_map(0x400000, 1, true, false) == INVALID, "mapping over the program image refused");
    CHECK(vm_unmap(0x7ffffff00000ull - PAGE, 1) == INVALID, "unmapping the stack refused");
    CHECK(vm_map(VM_BASE + 64 * PAGE, 20000, true, false) == INVALID, "20000 pages refused");
    CHECK(vm_protect(VM_BASE + 2 * PAGE, 1, false, false) == -1, "page 2 made read-only");
    CHECK(mem[2 * PAGE / 8] == 2 * PAGE / 8 * 3, "read-only page still readable");
    CHECK(vm_unmap(VM_BASE + 3 * PAGE, 1) == -1, "page 3 unmapped");
    CHECK(vm_unmap(VM_BASE + 3 * PAGE, 1) == INVALID, "unmapping it again refused");

    /* MemoryObjects. */
    int ex;
    uint32_t mo = allocate(3, &ex);
    CHECK(mo != 0, "FrameAllocator.allocate(3) gave MemoryObject cap %x", mo);
    MemoryObject_info_Results_r info;
    begin();
    int rc = MemoryObject_info_call(&capos_transport, mo, &c, &info);
    CHECK(rc == CAPNPC_OK && MemoryObject_info_Results_get_pages(info) == 3,
          "MemoryObject.info: 3 pages");
    uint64_t at = VM_BASE + 256 * PAGE;
    begin();
    rc = MemoryObject_map_call(&capos_transport, mo, &c, at, true, 0);
    CHECK(rc == CAPNPC_OK, "MemoryObject.map writable");
    memset((void *)at, 0x5a, 3 * PAGE);
    begin();
    rc = exception_type(MemoryObject_unmap_call(&capos_transport, mo, &c, at + PAGE, 0));
    CHECK(rc == INVALID, "MemoryObject.unmap at a wrong address refused");
    begin();
    rc = MemoryObject_unmap_call(&capos_transport, mo, &c, at, 0);
    CHECK(rc == CAPNPC_OK, "MemoryObject.unmap");
    begin();
    rc = MemoryObject_map_call(&capos_transport, mo, &c, at, false, 0);
    CHECK(rc == CAPNPC_OK && ((volatile uint8_t *)at)[5000] == 0x5a,
          "mapped again read-only, contents kept");
    allocate(5000, &ex);
    CHECK(ex == INVALID, "allocate(5000) refused");
    allocate(0, &ex);
    CHECK(ex == INVALID, "allocate(0) refused");

    /* The frame quota: 4096-page objects until refused, which must be
     * at the quota (this process has the machine's), not before. */
    uint32_t big[32];
    int got = 0;
    struct test_usage u = {0};
    for (; got < 32 && (big[got] = allocate(4096, &ex)) != 0; got++)
        ;
    bool have = test_usage(frames, &u);
    CHECK(have && got < 32 && ex == CapException_Type_overloaded && u.held <= u.quota &&
              u.quota - u.held < 4096 + 16,
          "frame quota: %d big objects fit, then refused with %lu of %lu frames held", got, u.held,
          u.quota);
    for (int i = 0; i < got; i++)
        capos_release(big[i]);
    capos_flush_releases();
    uint32_t after = allocate(4096, &ex);
    CHECK(after != 0, "after releasing them, 4096 pages fit again");
    capos_release(after);
    capos_flush_releases();

    capos_printf("memory: %d failures; now writing to the read-only page\n", failures);
    if (failures)
        return failures;
    mem[2 * PAGE / 8] = 1; /* ends the process */
    return 100;
}
