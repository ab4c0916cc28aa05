/* SHA-256 (FIPS 180-4) for the interop harness: the digest both sides
 * compare. Host code; written from the standard, small and unoptimized. */
#ifndef INTEROP_SHA256_H
#define INTEROP_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);

#endif
