#ifndef CAPOS_ENTROPY_H
#define CAPOS_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>

/* Seed the kernel CSPRNG from the CPU's random instructions, when present,
 * and timer jitter. Returns a short description of the sources used. */
const char *entropy_init(void);
/* Random bytes from the kernel CSPRNG (ChaCha20, fast key erasure). */
void entropy_fill(void *buf, size_t len);

#endif
