/* ProcessHandle: a parent's view of a spawned child (process_handle.c). */
#ifndef CAPOS_PROCESS_HANDLE_H
#define CAPOS_PROCESS_HANDLE_H

struct account;
struct kobject;
struct process;

/* A new ProcessHandle, not yet attached to a process, paid for by a;
 * NULL when a cannot pay. */
struct kobject *process_handle_create(struct account *a);

/* Report `child`'s exit through `handle` (a ProcessHandle). */
void process_handle_attach(struct kobject *handle, struct process *child);

#endif
