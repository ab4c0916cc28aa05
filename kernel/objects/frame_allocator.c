/* FrameAllocator: zeroed pages as MemoryObjects, charged to the caller;
 * and what the caller's account holds. */
#include "account.h"
#include "kcall.h"
#include "kobject.h"
#include "memory_object.h"
#include "objects/ledger.h"
#include "process.h"
#include "registry.h"

#define MAX_ALLOCATION_PAGES 4096 /* 16 MiB per MemoryObject */

static int allocate(void *self, FrameAllocator_allocate_Params_r params,
                    FrameAllocator_allocate_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    uint32_t pages = FrameAllocator_allocate_Params_get_pages(params);
    if (pages == 0 || pages > MAX_ALLOCATION_PAGES)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "FrameAllocator.allocate: pages must be 1..4096");
    const char *why;
    struct memory_object *mo = memory_object_create(kc->caller, pages, &why);
    if (!mo)
        return kcall_fail(kc, CapException_Type_overloaded, why);
    uint32_t index = kcall_add_result_cap(kc, &mo->obj, MemoryObject_INTERFACE_ID, 0);
    /* The caller's capability (once delivered) is the only reference. */
    kobject_unref(&mo->obj);
    if (index == CAPNPC_NO_CAP)
        return kcall_fail(kc, CapException_Type_failed, "no room for the result capability");
    FrameAllocator_allocate_Results_set_memory(results, index);
    return CAPNPC_OK;
}

static int usage(void *self, FrameAllocator_usage_Params_r params,
                 FrameAllocator_usage_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    memory_usage_set(FrameAllocator_usage_Results_init_usage(results),
                     &kc->caller->account->frames);
    return CAPNPC_OK;
}

static const struct FrameAllocator_ops frame_allocator_ops = {.allocate = allocate, .usage = usage};

KOBJECT_TYPE(frame_allocator_type, FrameAllocator, frame_allocator_ops);

KOBJECT_SINGLETON(frame_allocator, frames, FrameAllocator, frame_allocator_type);
