/* MemoryObject: physical pages that can be mapped; never their addresses. */
#ifndef CAPOS_MEMORY_OBJECT_H
#define CAPOS_MEMORY_OBJECT_H

#include <stdint.h>

#include "kcore/frame_ledger.h"
#include "kobject.h"

struct process;

struct memory_object {
    struct kobject obj;
    uint32_t pages;
    uint64_t *frames;
    /* The account its frames are charged to: the allocating process's,
     * or the orphan account once that process has exited. */
    struct frame_account *charged;
    struct process *creator; /* NULL once orphaned */
    struct memory_object *creator_next, *creator_prev;
};

/* A MemoryObject mapped into a process; holds a reference to it. */
struct mo_mapping {
    struct memory_object *mo;
    uint64_t va;
    uint32_t writable;
    struct mo_mapping *next;
};

/* Allocate `pages` zeroed frames charged to p; NULL and *why otherwise. */
struct memory_object *memory_object_create(struct process *p, uint32_t pages, const char **why);

#endif
