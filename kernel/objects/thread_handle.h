/* ThreadHandle: a thread as its spawner sees it (thread_handle.c). */
#ifndef CAPOS_THREAD_HANDLE_H
#define CAPOS_THREAD_HANDLE_H

struct account;
struct kobject;
struct thread;

/* A new ThreadHandle, not yet attached, paid for by a; NULL when a cannot
 * pay. */
struct kobject *thread_handle_create(struct account *a);

/* Report t's end through `handle`. */
void thread_handle_attach(struct kobject *handle, struct thread *t);

#endif
