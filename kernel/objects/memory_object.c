/*
 * MemoryObject: pages from FrameAllocator, mappable into the caller.
 *
 * Ownership: the frames belong to the object and die with its last
 * reference. A mapping holds a reference, so releasing the capability
 * while the pages are mapped cannot free memory still in use. The frames,
 * the object and its frame list are charged to the allocating process's
 * account, which outlives the process for as long as others hold the
 * object (account.h). Each mapping's record and page tables are charged
 * to the process that maps it, so aliases cost the one who makes them.
 */
#include "memory_object.h"

#include <arch/paging.h>
#include <capos/layout.h>

#include "account.h"
#include "heap.h"
#include "kcall.h"
#include "memory.h"
#include "process.h"
#include "registry.h"

static const struct kobject_type memory_object_type;

/* What MemoryObjects keep per process (this class's per-process state):
 * the objects mapped into it. */
struct mo_state {
    struct mo_mapping *mappings;
};

static uint32_t mo_state_offset;

static inline struct mo_state *mo_of(struct process *p)
{
    return process_object_state(p, mo_state_offset);
}

static void free_frames(struct memory_object *mo, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        frame_free(mo->frames[i]);
    account_release(mo->account, FL_PAGES, mo->pages);
}

struct memory_object *memory_object_create(struct process *p, uint32_t pages, const char **why)
{
    struct account *a = p->account;
    *why = "frame quota exhausted";
    if (!account_charge(a, FL_PAGES, pages))
        return 0;
    struct memory_object *mo = kzalloc_in(a, sizeof(*mo));
    uint64_t *frames = mo ? kzalloc_in(a, pages * sizeof(uint64_t)) : 0;
    if (!frames) {
        kfree(mo);
        account_release(a, FL_PAGES, pages);
        return 0;
    }
    mo->frames = frames;
    mo->pages = pages;
    mo->account = a;
    for (uint32_t i = 0; i < pages; i++) {
        if (!frame_alloc_zeroed(&mo->frames[i])) {
            free_frames(mo, i);
            kfree(mo->frames);
            kfree(mo);
            *why = "out of physical memory";
            return 0;
        }
    }
    kobject_init(&mo->obj, &memory_object_type);
    return mo;
}

static void memory_object_destroy(struct kobject *obj)
{
    struct memory_object *mo = (struct memory_object *)obj;
    free_frames(mo, mo->pages);
    kfree(mo->frames);
    kfree(mo); /* last: may free the account, if it paid for nothing else */
}

static bool vm_range_ok(uint64_t va, uint64_t pages)
{
    return (va & (PAGE_SIZE - 1)) == 0 && va >= CAPOS_USER_VM_BASE && pages > 0 &&
           va < CAPOS_USER_VM_LIMIT && pages <= (CAPOS_USER_VM_LIMIT - va) / PAGE_SIZE;
}

static int mo_info(void *self, MemoryObject_info_Params_r params,
                   MemoryObject_info_Results_b results, void *ctx)
{
    MemoryObject_info_Results_set_pages(results, ((struct memory_object *)self)->pages);
    return CAPNPC_OK;
}

static int mo_map(void *self, MemoryObject_map_Params_r params, MemoryObject_map_Results_b results,
                  void *ctx)
{
    struct kcall *kc = ctx;
    struct memory_object *mo = self;
    struct process *p = kc->caller;
    uint64_t va = MemoryObject_map_Params_get_address(params);
    bool writable = MemoryObject_map_Params_get_writable(params);
    if (!vm_range_ok(va, mo->pages))
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "MemoryObject.map: address not page aligned or outside the VM range");
    struct mo_mapping *m = kzalloc_in(p->account, sizeof(*m));
    if (!m)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "MemoryObject.map: frame quota exhausted (mapping record)");
    for (uint32_t i = 0; i < mo->pages; i++) {
        if (!vmspace_map(&p->vm, va + (uint64_t)i * PAGE_SIZE, mo->frames[i],
                         writable ? VM_WRITE : VM_READ, false)) {
            for (uint32_t j = 0; j < i; j++) {
                uint64_t pa;
                bool owned;
                vmspace_unmap(&p->vm, va + (uint64_t)j * PAGE_SIZE, &pa, &owned);
            }
            kfree(m);
            uint64_t pa;
            uint32_t f;
            if (vmspace_translate(&p->vm, va + (uint64_t)i * PAGE_SIZE, &pa, &f))
                return kcall_fail(kc, CapException_Type_invalidArgument,
                                  "MemoryObject.map: the range is already (partly) mapped");
            return kcall_fail(kc, CapException_Type_overloaded,
                              "MemoryObject.map: frame quota exhausted (page tables)");
        }
    }
    m->mo = (struct memory_object *)kobject_ref(&mo->obj);
    m->va = va;
    m->writable = writable;
    m->next = mo_of(p)->mappings;
    mo_of(p)->mappings = m;
    return CAPNPC_OK;
}

static void unmap_pages(struct process *p, const struct mo_mapping *m)
{
    for (uint32_t i = 0; i < m->mo->pages; i++) {
        uint64_t pa;
        bool owned;
        vmspace_unmap(&p->vm, m->va + (uint64_t)i * PAGE_SIZE, &pa, &owned);
    }
}

static int mo_unmap(void *self, MemoryObject_unmap_Params_r params,
                    MemoryObject_unmap_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    uint64_t va = MemoryObject_unmap_Params_get_address(params);
    for (struct mo_mapping **pp = &mo_of(p)->mappings; *pp; pp = &(*pp)->next) {
        struct mo_mapping *m = *pp;
        if (m->mo == self && m->va == va) {
            unmap_pages(p, m);
            *pp = m->next;
            kobject_unref(&m->mo->obj);
            kfree(m);
            return CAPNPC_OK;
        }
    }
    return kcall_fail(kc, CapException_Type_invalidArgument,
                      "MemoryObject.unmap: this object is not mapped at that address");
}

/* A process is exiting: drop its mappings. Objects it allocated that
 * others still hold stay charged to its (closed) account. */
static void mo_process_exit(struct process *p)
{
    struct mo_state *st = mo_of(p);
    /* The address space is destroyed right after this hook, tables and
     * all, and no user code runs in it again: the entries need no
     * unmapping (an unmap would also scan each table for emptiness), only
     * the references dropped, which may be the objects' last. */
    while (st->mappings) {
        struct mo_mapping *m = st->mappings;
        st->mappings = m->next;
        kobject_unref(&m->mo->obj);
        kfree(m);
    }
}

static const struct MemoryObject_ops memory_object_ops = {
    .info = mo_info,
    .map = mo_map,
    .unmap = mo_unmap,
};

KOBJECT_TYPE(memory_object_type, MemoryObject, memory_object_ops, .destroy = memory_object_destroy);

const struct kobject_class memory_object_class = {
    .name = "MemoryObject",
    .source = KOBJECT_NO_SOURCE,
    .process_state_size = sizeof(struct mo_state),
    .process_state_offset = &mo_state_offset,
    .process_exit = mo_process_exit,
};
