/*
 * The CapSet page: a read-only page mapped at CAPOS_USER_CAPSET_ADDR listing
 * a process's bootstrap capabilities in manifest order. The runtime looks a
 * capability up by name and refuses it when the interface id differs from
 * the type the program asked for.
 */
#ifndef CAPOS_CAPSET_H
#define CAPOS_CAPSET_H

#include <stdint.h>

#define CAPOS_CAPSET_MAGIC    0x74655370614370ull /* "pCapSet" */
#define CAPOS_CAPSET_NAME_MAX 32                  /* bytes, NUL-padded, not always terminated */

struct capos_capset_entry {
    char name[CAPOS_CAPSET_NAME_MAX];
    uint64_t interface_id;
    uint32_t cap; /* capability id in this process's table */
    uint32_t reserved;
};

struct capos_capset {
    uint64_t magic;
    uint32_t count;
    uint32_t reserved;
    struct capos_capset_entry entries[];
};

#define CAPOS_CAPSET_MAX_ENTRIES                                                                   \
    ((4096 - sizeof(struct capos_capset)) / sizeof(struct capos_capset_entry))

_Static_assert(sizeof(struct capos_capset_entry) == 48, "CapSet entry layout");
_Static_assert(sizeof(struct capos_capset) == 16, "CapSet header layout");

#endif
