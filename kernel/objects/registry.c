/* The registry of kernel object classes (registry.h). */
#include "registry.h"

#include "capos.capnp.h"
#include "kprintf.h"

/*
 * Every class of kernel object, once. Adding a class: define
 * `const struct kobject_class NAME_class` in kernel/objects/NAME.c and add
 * X(NAME) here (docs/kernel.md, "Adding a kernel object").
 */
#define KOBJECT_CLASSES(X)                                                                         \
    X(console)                                                                                     \
    X(timer)                                                                                       \
    X(entropy_source)                                                                              \
    X(frame_allocator)                                                                             \
    X(memory_object)                                                                               \
    X(virtual_memory)                                                                              \
    X(boot_package)                                                                                \
    X(process_spawner)                                                                             \
    X(process_handle)                                                                              \
    X(attenuator)                                                                                  \
    X(endpoint)                                                                                    \
    X(endpoint_factory)                                                                            \
    X(terminal)                                                                                    \
    X(power)                                                                                       \
    X(ledger)                                                                                      \
    X(thread_spawner)                                                                              \
    X(thread_handle)                                                                               \
    X(thread_control)                                                                              \
    X(park_space)                                                                                  \
    X(network_interface)

#define DECLARE(name) extern const struct kobject_class name##_class;
KOBJECT_CLASSES(DECLARE)
#undef DECLARE

#define ENTRY(name) &name##_class,
static const struct kobject_class *const classes[] = {KOBJECT_CLASSES(ENTRY)};
#undef ENTRY

#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* The class providing each kernel source (filled by registry_init). */
static const struct kobject_class *by_source[KernelSource_COUNT];
static uint32_t state_size;

void registry_init(void)
{
    for (size_t i = 0; i < NCLASSES; i++) {
        const struct kobject_class *c = classes[i];
        if (c->source != KOBJECT_NO_SOURCE) {
            int s = c->source;
            if (s < 0 || s >= KernelSource_COUNT)
                panic("registry: class %s names kernel source %d, which the schema does not have",
                      c->name, s);
            if (by_source[s])
                panic("registry: kernel source \"%s\" is provided by both %s and %s",
                      KernelSource_NAMES[s], by_source[s]->name, c->name);
            if (!c->boot_object || c->iface != KernelSource_IFACES[s])
                panic("registry: class %s provides kernel source \"%s\" as %s, but the schema "
                      "says it is %s",
                      c->name, KernelSource_NAMES[s], c->iface ? c->iface->name : "nothing",
                      KernelSource_IFACES[s]->name);
            by_source[s] = c;
        }
        if (c->process_state_size) {
            /* 8-aligned, so that any state struct is naturally aligned. */
            *c->process_state_offset = state_size;
            state_size += (c->process_state_size + 7) & ~7u;
        }
    }
    for (int s = 0; s < KernelSource_COUNT; s++)
        if (!by_source[s])
            panic("registry: no kernel object class provides kernel source \"%s\" (%s)",
                  KernelSource_NAMES[s], KernelSource_IFACES[s]->name);
}

uint32_t registry_process_state_size(void)
{
    return state_size;
}

struct kobject *registry_source_object(int src, const struct boot_module *m)
{
    if (src < 0 || src >= KernelSource_COUNT || !by_source[src])
        return 0;
    return by_source[src]->boot_object(m);
}

void registry_process_exit(struct process *p)
{
    for (size_t i = 0; i < NCLASSES; i++)
        if (classes[i]->process_exit)
            classes[i]->process_exit(p);
}

void registry_thread_exit(struct thread *t)
{
    for (size_t i = 0; i < NCLASSES; i++)
        if (classes[i]->thread_exit)
            classes[i]->thread_exit(t);
}

uint64_t registry_next_deadline(void)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < NCLASSES; i++) {
        if (classes[i]->next_deadline) {
            uint64_t d = classes[i]->next_deadline();
            next = d < next ? d : next;
        }
    }
    return next;
}

void registry_tick(uint64_t now_ns)
{
    for (size_t i = 0; i < NCLASSES; i++)
        if (classes[i]->tick)
            classes[i]->tick(now_ns);
}
