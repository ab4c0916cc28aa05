/*
 * The boot manifest as the kernel uses it: the kernel-owned checks, the
 * init process, and the binaries ProcessSpawner can start.
 */
#ifndef CAPOS_BOOT_MANIFEST_H
#define CAPOS_BOOT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Check the kernel-owned part of the manifest and start init with its
 * capabilities. Stops the boot with a clear message on any error. */
void boot_manifest_start(const void *module, size_t len);

/* The ELF image of a binary named in the manifest; false if none. */
bool boot_manifest_binary(const char *name, size_t len, const void **elf, size_t *elf_len);

#endif
