/*
 * Kernel objects: what a capability-table entry points at. Each object
 * type lives in its own file under kernel/objects/ and describes itself
 * with a struct kobject_type; objects are reference counted, one reference
 * per capability-table entry plus any the kernel holds while using them.
 */
#ifndef CAPOS_KOBJECT_H
#define CAPOS_KOBJECT_H

#include <stdint.h>

struct kobject;
struct kcall;

struct capnpc_iface;
struct process;
struct cap_entry;
struct capos_sqe;
struct capos_cqe;
struct thread;

struct kobject_type {
    const char *name; /* for logs and the debug tap */
    /* The Cap'n Proto interface it implements (generated: id, methods,
     * dispatch). */
    const struct capnpc_iface *iface;
    /* Run one CALL through the interface's generated dispatch, with the
     * object's handlers: defined by KOBJECT_TYPE (kcall.h), never by hand.
     * Returns an enum capnpc_status. NULL: the object has no methods of
     * its own (an endpoint client facet, used through ring opcodes). */
    int (*call)(struct kobject *obj, struct kcall *kc);
    /* Instead of `call`: objects that take a CALL SQE as it is (endpoints,
     * wrappers) and may defer it. Returns a lib/kcore/ring.h enum ring_action. */
    int (*ring_call)(struct kobject *obj, struct process *caller, const struct cap_entry *e,
                     const struct capos_sqe *sqe, struct capos_cqe *cqe);
    /* The ring opcodes RECV and RETURN on a capability to this object,
     * shaped like ring_call (kernel/ringops.c calls them; NULL: the opcode
     * is refused with CAPOS_E_NOT_PERMITTED). The SQE is valid and, as
     * both opcodes need an owner side (lib/kcore/ring_opdef.c), e has CAPF_OWNER. */
    int (*recv)(struct kobject *obj, struct process *p, const struct cap_entry *e,
                const struct capos_sqe *sqe, struct capos_cqe *cqe);
    int (*ret)(struct kobject *obj, struct process *p, const struct cap_entry *e,
               const struct capos_sqe *sqe, struct capos_cqe *cqe);
    /*
     * Optional, the fast path (docs/ipc.md, "Fast path"): the whole of a
     * CALL on this object (fast_call), or of a RETURN_RECV on an owner side
     * of it (fast_return_recv), in the shapes the object can finish by
     * handing the CPU straight to the thread that waits for the result.
     * Returns that thread, its completion posted but not woken (the
     * running thread's cap_enter switches to it), the SQE's own
     * completion to come later (deferred); or NULL having changed
     * nothing, and ring_call / ret / recv run the SQE as usual. The SQE
     * is valid; for fast_return_recv the capability is an owner side.
     */
    struct thread *(*fast_call)(struct kobject *obj, struct process *p,
                                const struct capos_sqe *sqe);
    struct thread *(*fast_return_recv)(struct kobject *obj, struct process *p,
                                       const struct capos_sqe *sqe);
    void (*destroy)(struct kobject *obj);
    /* Optional: a reference was dropped and exactly one is left (an
     * endpoint's client facet: only its owner's own reference, so every
     * client is gone; objects/endpoint.c). */
    void (*unshared)(struct kobject *obj);
};

/* Flags of a capability-table entry (struct cap_entry.flags). */
#define CAPF_NO_TRANSFER (1u << 0) /* may not be copied or moved (ProcessHandle) */
#define CAPF_CLIENT      (1u << 1) /* an endpoint's client facet: CALL only */
#define CAPF_OWNER       (1u << 2) /* an endpoint's owner side: never in a CALL */

struct kobject {
    const struct kobject_type *type;
    uint32_t refs;
};

static inline void kobject_init(struct kobject *o, const struct kobject_type *type)
{
    o->type = type;
    o->refs = 1;
}

static inline struct kobject *kobject_ref(struct kobject *o)
{
    o->refs++;
    return o;
}

/* Drop a reference; the last one destroys the object. */
void kobject_unref(struct kobject *o);

#endif
