/* Constructors of the kernel objects (kernel/objects/, one file each). */
#ifndef CAPOS_OBJECTS_H
#define CAPOS_OBJECTS_H

#include <stdint.h>

struct kobject;
struct process;

/* Singletons: the kernel keeps one reference forever. */
struct kobject *console_object(void);
struct kobject *timer_object(void);
struct kobject *entropy_object(void);
struct kobject *frame_allocator_object(void);
struct kobject *virtual_memory_object(void);
struct kobject *attenuator_object(void);
struct kobject *endpoint_factory_object(void);
struct kobject *terminal_object(void);
struct kobject *power_object(void);
/* The boot module, readable in chunks (init only). */
struct kobject *boot_package_object(const void *manifest, uint64_t len);
/* Spawns binaries of the boot manifest (see kernel/boot_manifest.h). */
struct kobject *process_spawner_object(void);

struct process_status;
/* A new ProcessHandle on st (takes a reference to it); NULL without memory. */
struct kobject *process_handle_create(struct process_status *st);

/* Cancel whatever the objects still hold for a process that is exiting
 * (sleeping Timer calls). */
void timer_cancel_process(struct process *p);
/* A process is exiting: drop its MemoryObject mappings, and move the
 * charge of MemoryObjects it allocated that others still hold to the
 * kernel's orphan account. */
void memory_objects_process_exit(struct process *p);
/* Frames held by MemoryObjects whose allocating process has exited. */
uint64_t memory_objects_orphaned_frames(void);

/* Called on every tick: completes Timer.sleep calls whose time has come. */
void timer_expire(uint64_t now_ns);

#endif
