/* MemoryObject: physical pages that can be mapped; never their addresses. */
#ifndef CAPOS_MEMORY_OBJECT_H
#define CAPOS_MEMORY_OBJECT_H

#include <stdint.h>

#include "kobject.h"

struct account;
struct process;

struct memory_object {
    struct kobject obj;
    uint32_t pages;
    uint64_t *frames;
    /* The allocating process's account: pays for the frames and this
     * object, and outlives the process while the object lives. */
    struct account *account;
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
