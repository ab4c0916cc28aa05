/*
 * SipHash-2-4 (Aumasson and Bernstein) with a 128-bit key: a fast keyed
 * pseudorandom function for short inputs. The kernel derives opaque 128-bit
 * caller-session references from a boot secret with the 128-bit variant, so
 * a reference reveals nothing about the secret or about other references.
 *
 * Pure, freestanding code. Outputs match the reference implementation:
 * siphash24() is its 8 output bytes read as a little-endian integer, and
 * siphash24_128() writes its 16 output bytes.
 */
#ifndef CAPOS_LIB_SIPHASH_H
#define CAPOS_LIB_SIPHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_SIZE 16

/* SipHash-2-4, 64-bit output. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_SIZE], const void *msg, size_t len);

/* SipHash-2-4-128, 128-bit output. */
void siphash24_128(const uint8_t key[SIPHASH_KEY_SIZE], const void *msg, size_t len,
                   uint8_t out[16]);

#endif
