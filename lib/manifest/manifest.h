/*
 * Validation of a SystemManifest (schema/capos.capnp, docs/manifest.md):
 * the boot module that tools/mkmanifest compiles from system.cue.
 *
 * Two levels, one implementation:
 *   manifest_check_boot   what the kernel needs before it starts init: the
 *                         root fields, the binaries, the init binary, init's
 *                         capabilities (kernel sources, matching interfaces)
 *                         and the kernel parameters;
 *   manifest_check        all of that plus the service graph, for mkmanifest
 *                         and init: services, their binaries, every
 *                         capability source, exports, no dependency cycles.
 *
 * Pure freestanding code over lib/capnp and the generated readers: no
 * allocation, bounded work and stack, safe on any input. The first problem
 * found is reported as a typed error with the path of the offending field
 * ("initConfig.services[2].caps[0].source") and a sentence saying what was
 * wrong and what was expected.
 */
#ifndef CAPOS_LIB_MANIFEST_H
#define CAPOS_LIB_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capos.capnp.h"

/* Limits. Names fit a CapSet entry; list limits bound the checker's work. */
#define MANIFEST_NAME_MAX     32   /* bytes in any name */
#define MANIFEST_MAX_BINARIES 64   /* binaries */
#define MANIFEST_MAX_SERVICES 64   /* initConfig.services */
#define MANIFEST_MAX_CAPS     64   /* CapSet entries of one process (caps + exports) */
#define MANIFEST_MAX_EXPORTS  16   /* exports of one service */
#define MANIFEST_MOTD_MAX     1024 /* bytes in kernelParams.motd */
#define MANIFEST_MAX_SEGS     16   /* segments in the framed message */
#define MANIFEST_MAX_MEMORY_MIB 65536u /* a service's memoryMiB (64 GiB) */

enum manifest_err {
    MANIFEST_OK = 0,
    MANIFEST_E_MESSAGE,   /* not a well-formed Cap'n Proto SystemManifest */
    MANIFEST_E_MISSING,   /* a required field or list is absent or empty */
    MANIFEST_E_VERSION,   /* schemaVersion is not manifestSchemaVersion */
    MANIFEST_E_NAME,      /* a name too long or not identifier-shaped */
    MANIFEST_E_TOO_MANY,  /* a list longer than its limit */
    MANIFEST_E_DUPLICATE, /* two binaries, services, caps or exports share a name */
    MANIFEST_E_BINARY,    /* no binary of that name, or not an ELF file */
    MANIFEST_E_SOURCE,    /* unknown kernel source, service or export */
    MANIFEST_E_INTERFACE, /* interface id missing or not the source's */
    MANIFEST_E_NOT_HELD,  /* a kernel capability init does not hold */
    MANIFEST_E_CYCLE,     /* services depend on each other in a cycle */
    MANIFEST_E_VALUE,     /* an enum value out of range, or text not printable */
};

#define MANIFEST_PATH_MAX 96
#define MANIFEST_MSG_MAX  256

struct manifest_error {
    enum manifest_err code;
    char path[MANIFEST_PATH_MAX]; /* NUL-terminated; "" for the message itself */
    char msg[MANIFEST_MSG_MAX];   /* NUL-terminated, no trailing newline */
};

/* A framed manifest being read. Views point into the caller's buffer, which
 * must outlive it. Reading charges the message's traversal budget. */
struct manifest {
    struct capn_msg msg;
    struct capn_seg segs[MANIFEST_MAX_SEGS];
    SystemManifest_r root;
};

/* Parse the framing and find the root struct. 0 or -1 (e filled). */
int manifest_open(struct manifest *m, const void *buf, size_t len, struct manifest_error *e);

/* The kernel-owned subset. 0 or -1 (e filled). */
int manifest_check_boot(struct manifest *m, struct manifest_error *e);

/* Everything: the boot subset and the service graph. 0 or -1 (e filled). */
int manifest_check(struct manifest *m, struct manifest_error *e);

/* The ELF image of the binary called name (after a successful check). */
bool manifest_find_binary(struct manifest *m, const char *name, size_t len, struct capn_data *elf);

/* The interface a kernel source provides, 0 if src is not one. */
uint64_t manifest_kernel_iface(uint16_t src);

/* Short name of an error code ("duplicate"). */
const char *manifest_err_name(enum manifest_err code);

#endif
