/*
 * VirtualMemory: anonymous memory in the caller's own address space, inside
 * the VM range only (image, stack, ring and CapSet pages are out of reach).
 * Every operation checks the whole range first and then changes it all, so
 * a refused call leaves the address space as it was.
 */
#include <arch/paging.h>
#include <capos/layout.h>

#include "kcall.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"

#define MAX_VM_PAGES 16384

static const char *check_range(uint64_t va, uint32_t pages)
{
    if (va & (PAGE_SIZE - 1))
        return "address not page aligned";
    if (pages == 0 || pages > MAX_VM_PAGES)
        return "pages must be 1..16384";
    if (va < CAPOS_USER_VM_BASE || va >= CAPOS_USER_VM_LIMIT ||
        pages > (CAPOS_USER_VM_LIMIT - va) / PAGE_SIZE)
        return "range outside the VM range";
    return 0;
}

static uint32_t flags_of(bool writable, bool executable)
{
    return (writable ? VM_WRITE : 0) | (executable ? VM_EXEC : 0);
}

/* All pages of the range are (or, if !mapped, are not) anonymous pages. */
static bool range_is(struct process *p, uint64_t va, uint32_t pages, bool mapped)
{
    for (uint32_t i = 0; i < pages; i++) {
        uint64_t pa;
        uint32_t f;
        bool m = vmspace_translate(&p->vm, va + (uint64_t)i * PAGE_SIZE, &pa, &f);
        if (mapped ? !(m && (f & VM_OWNED)) : m)
            return false;
    }
    return true;
}

/*
 * Everything a request must satisfy before it changes anything: the range,
 * W^X, and whether the pages are all free (map) or all anonymous (unmap,
 * protect). NULL when it may go ahead, else why not.
 */
static const char *check_request(struct process *p, uint64_t va, uint32_t pages, bool w, bool x,
                                 bool want_mapped)
{
    const char *bad = check_range(va, pages);
    if (bad)
        return bad;
    if (w && x)
        return "pages cannot be writable and executable at once";
    if (!range_is(p, va, pages, want_mapped))
        return want_mapped ? "range not entirely anonymous memory mapped by VirtualMemory"
                           : "range already (partly) mapped";
    return 0;
}

static int vm_map(void *self, VirtualMemory_map_Params_r params,
                  VirtualMemory_map_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    uint64_t va = VirtualMemory_map_Params_get_address(params);
    uint32_t pages = VirtualMemory_map_Params_get_pages(params);
    bool w = VirtualMemory_map_Params_get_writable(params);
    bool x = VirtualMemory_map_Params_get_executable(params);
    const char *bad = check_request(p, va, pages, w, x, false);
    if (bad)
        return kcall_fail(kc, CapException_Type_invalidArgument, bad);
    for (uint32_t i = 0; i < pages; i++) {
        if (!process_map_anon(p, va + (uint64_t)i * PAGE_SIZE, flags_of(w, x))) {
            while (i-- > 0)
                process_unmap_anon(p, va + (uint64_t)i * PAGE_SIZE);
            return kcall_fail(kc, CapException_Type_overloaded,
                              "frame quota or physical memory exhausted");
        }
    }
    return CAPNPC_OK;
}

static int vm_unmap(void *self, VirtualMemory_unmap_Params_r params,
                    VirtualMemory_unmap_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    uint64_t va = VirtualMemory_unmap_Params_get_address(params);
    uint32_t pages = VirtualMemory_unmap_Params_get_pages(params);
    const char *bad = check_request(p, va, pages, false, false, true);
    if (bad)
        return kcall_fail(kc, CapException_Type_invalidArgument, bad);
    for (uint32_t i = 0; i < pages; i++)
        process_unmap_anon(p, va + (uint64_t)i * PAGE_SIZE);
    return CAPNPC_OK;
}

static int vm_protect(void *self, VirtualMemory_protect_Params_r params,
                      VirtualMemory_protect_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    uint64_t va = VirtualMemory_protect_Params_get_address(params);
    uint32_t pages = VirtualMemory_protect_Params_get_pages(params);
    bool w = VirtualMemory_protect_Params_get_writable(params);
    bool x = VirtualMemory_protect_Params_get_executable(params);
    const char *bad = check_request(p, va, pages, w, x, true);
    if (bad)
        return kcall_fail(kc, CapException_Type_invalidArgument, bad);
    for (uint32_t i = 0; i < pages; i++)
        vmspace_protect(&p->vm, va + (uint64_t)i * PAGE_SIZE, flags_of(w, x));
    return CAPNPC_OK;
}

static const struct VirtualMemory_ops virtual_memory_ops = {
    .map = vm_map,
    .unmap = vm_unmap,
    .protect = vm_protect,
};

KOBJECT_TYPE(virtual_memory_type, VirtualMemory, virtual_memory_ops);

KOBJECT_SINGLETON(virtual_memory, vm, VirtualMemory, virtual_memory_type);
