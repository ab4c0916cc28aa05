/*
 * ChaCha20 as specified in RFC 8439 section 2: 256-bit key, 96-bit nonce,
 * 32-bit block counter, 20 rounds. Pure, freestanding code.
 *
 * The stream cipher is not authenticated; the kernel uses it as the core of
 * its CSPRNG (csprng.h), not to protect data at rest or in transit.
 */
#ifndef CAPOS_LIB_CHACHA20_H
#define CAPOS_LIB_CHACHA20_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHACHA20_KEY_SIZE   32
#define CHACHA20_NONCE_SIZE 12
#define CHACHA20_BLOCK_SIZE 64

/* The quarter round on four state words (RFC 8439 section 2.1), in place.
 * Exposed for the RFC's test vectors; the block function inlines its own. */
void chacha20_quarter_round(uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);

/* One 64-byte keystream block for (key, counter, nonce) (section 2.3). */
void chacha20_block(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                    const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t out[CHACHA20_BLOCK_SIZE]);

/* out = in XOR keystream starting at block `counter` (section 2.4); in and
 * out may be the same buffer. Fails (false, nothing written) when the
 * message would need a block past counter 0xffffffff: wrapping the counter
 * would reuse keystream. */
bool chacha20_xor(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                  const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t *out, const uint8_t *in,
                  size_t len);

/* The raw keystream (as chacha20_xor over zeros), with the same limit. */
bool chacha20_stream(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                     const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t *out, size_t len);

/* Zero len bytes through a volatile pointer, so the stores survive even when
 * the buffer is dead afterwards (a plain loop would be optimized away). */
void crypto_wipe(void *p, size_t len);

#endif
