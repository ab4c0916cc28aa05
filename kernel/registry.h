/*
 * The registry of kernel object classes: the one place that says which
 * classes exist, which manifest kernel source each provides, and which
 * lifecycle hooks core code must run for them. Core code (boot, process
 * exit, the tick) iterates this registry; it never names an object.
 *
 * Each class is a `const struct kobject_class NAME_class` defined in its
 * own file under kernel/objects/ and listed once in KOBJECT_CLASSES
 * (registry.c). Which interface a kernel source provides is a fact of the
 * schema (the $C.implements annotation on enum KernelSource), from which
 * lib/manifest's checks and cue/kernel-sources.cue are generated;
 * registry_init() stops the boot if a class and the schema disagree, so a
 * drifting list fails every boot test.
 */
#ifndef CAPOS_REGISTRY_H
#define CAPOS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

struct kobject;
struct process;
struct thread;
struct capnpc_iface;

/* What a boot object may be made from: the boot module (the manifest). */
struct boot_module {
    const void *data;
    size_t len;
};

#define KOBJECT_NO_SOURCE (-1)

struct kobject_class {
    const char *name; /* as in messages: "Timer" */
    /* The manifest kernel source (a KernelSource_* value) this class
     * provides, or KOBJECT_NO_SOURCE. */
    int source;
    /* The interface of the source's object (checked against the schema). */
    const struct capnpc_iface *iface;
    /* The object a grant of `source` refers to; a reference for the grant
     * is taken by the caller. Singletons return the same object each time. */
    struct kobject *(*boot_object)(const struct boot_module *m);
    /* Per-process state: process_state_size zeroed bytes in every process,
     * found with process_object_state(p, *process_state_offset). */
    uint32_t process_state_size;
    uint32_t *process_state_offset; /* set by registry_init */
    /* A process is exiting; runs after its capabilities and pending calls
     * are released, before its address space is destroyed. */
    void (*process_exit)(struct process *p);
    /* A thread is ending (alone, or with its process, whose capabilities
     * and per-process state still exist); runs after its pending calls
     * are abandoned. */
    void (*thread_exit)(struct thread *t);
    /* Every timer interrupt, in interrupt context (no blocking, no
     * parsing): complete what is due at now_ns. */
    void (*tick)(uint64_t now_ns);
    /* The earliest clock time the tick hook has something to do
     * (UINT64_MAX: nothing); the timer is armed for it. A class that adds
     * an earlier one calls sched_deadline_added(). */
    uint64_t (*next_deadline)(void);
};

/*
 * The class of a singleton: one statically allocated object of type
 * `ktype` (a kobject_type, see KOBJECT_TYPE) that every grant of kernel source
 * `src` refers to, implementing interface I; never destroyed (its count
 * starts at 1, the kernel's own reference). More class fields (.tick =
 * ...) may follow. Needs kobject.h and capos.capnp.h.
 */
#define KOBJECT_SINGLETON(cls, src, I, ktype, ...)                                                 \
    static struct kobject cls##_object = {.type = &(ktype), .refs = 1};                            \
    static struct kobject *cls##_boot_object(const struct boot_module *m)                          \
    {                                                                                              \
        (void)m;                                                                                   \
        return &cls##_object;                                                                      \
    }                                                                                              \
    const struct kobject_class cls##_class = {.name = #I,                                          \
                                              .source = KernelSource_##src,                        \
                                              .iface = &I##_IFACE,                                 \
                                              .boot_object = cls##_boot_object,                    \
                                              __VA_ARGS__}

/* Check the registry against the schema (panics on a mismatch) and lay out
 * the per-process state. Before the first process is created. */
void registry_init(void);

/* Bytes of per-process object state (struct process.object_state). */
uint32_t registry_process_state_size(void);

/* The boot object of a kernel source, NULL if src is not one. */
struct kobject *registry_source_object(int src, const struct boot_module *m);

/* The hooks, for every class that has them, in registry order. */
void registry_process_exit(struct process *p);
void registry_thread_exit(struct thread *t);
void registry_tick(uint64_t now_ns);
uint64_t registry_next_deadline(void);

#endif
