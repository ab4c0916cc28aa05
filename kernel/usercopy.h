/*
 * Copying between the kernel and a process's memory. A user pointer is
 * never dereferenced: every page is looked up in the process's page tables
 * (present, user, writable when writing) and reached through the direct
 * map, so a bad pointer is an error return, never a kernel fault, and SMAP
 * can stay on everywhere.
 */
#ifndef CAPOS_USERCOPY_H
#define CAPOS_USERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct process;

/* 0, or CAPOS_E_BAD_ADDRESS when any byte is not mapped for user access
 * (or, for copy_to_user, not writable). Nothing is written on failure of
 * copy_to_user's checks; copy_from_user may have filled part of dst. */
int copy_from_user(const struct process *p, void *dst, uint64_t uaddr, size_t len);
int copy_to_user(const struct process *p, uint64_t uaddr, const void *src, size_t len);

#endif
