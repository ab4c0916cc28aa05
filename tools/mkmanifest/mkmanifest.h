/* tools/mkmanifest: system.cue to a SystemManifest (docs/manifest.md). */
#ifndef MKMANIFEST_H
#define MKMANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "capnp/capnp.h"
#include "capos.capnp.h"
#include "manifest/manifest.h"
#include "json.h"

/* A --binary NAME=PATH, read into memory. */
struct binfile {
    const char *name;
    const char *path;
    uint8_t *data;
    size_t len;
};

/* Build the manifest for the JSON of a `cue export` into b; errors go to
 * stderr as "mkmanifest: error: PATH: what was expected". 0 or -1. */
int convert(const struct jval *root, const struct binfile *files, int nfiles, struct capn_bld *b);

#endif
