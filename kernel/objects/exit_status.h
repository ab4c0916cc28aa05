/*
 * What the holder of a handle can still learn after the process or thread
 * it names is gone (ProcessHandle, ThreadHandle): whether it ended, its
 * exit code, and the one wait (or join) pending on it. The handle and the
 * thing it names share it; the last of the two frees it.
 */
#ifndef CAPOS_EXIT_STATUS_H
#define CAPOS_EXIT_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "kcall.h"
#include "kobject.h"

struct account;

struct exit_status {
    uint32_t refs;
    bool exited;
    int32_t exit_code;
    /* A wait is pending on the handle's `waiter`, which outlives it. */
    bool waiting;
    struct pending_call *waiter;
};

/* The head of a handle object (ProcessHandle, ThreadHandle): the object,
 * then its status. */
struct exit_handle {
    struct kobject obj;
    struct exit_status *status;
};

/* A new zeroed handle of `size` bytes (a struct that begins with a struct
 * exit_handle) of `type`, with a fresh status holding the handle's
 * reference, paid for by a; NULL when a cannot pay. */
struct exit_handle *exit_handle_new(struct account *a, size_t size,
                                    const struct kobject_type *type);
void exit_status_unref(struct exit_status *st);

/* The wait handler's part: false when it has already ended (the handler
 * answers with st->exit_code at once); otherwise *rc is the handler's
 * return: a deferral on `waiter`, or a CapException (`busy`) if another
 * wait is pending. */
bool exit_status_wait(struct exit_status *st, struct pending_call *waiter, struct kcall *kc,
                      const char *busy, int *rc);

/* The waiter's abandon hook: the wait ended early (cancelled, or its
 * caller ended); another may start. Finds the status through `owner`. */
void exit_status_wait_abandoned(struct exit_status *st);

/* It ended with `code`: answer a pending wait with results built by
 * `build` (given &st->exit_code), then drop the ended side's reference. */
void exit_status_report(struct exit_status *st, int32_t code, pending_build_fn build);

/* The handle is going: a pending wait can never be answered (it gets
 * CAPOS_E_DISCONNECTED); then drop the handle's reference. */
void exit_status_handle_gone(struct exit_status *st);

#endif
