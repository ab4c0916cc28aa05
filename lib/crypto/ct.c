/*
 * Constant-time comparison. The bytes are read through volatile pointers so
 * the compiler can neither stop at the first difference nor replace the loop
 * with a memcmp call, and the differences are OR-ed together so the loop has
 * no data-dependent branch. The final 0/1 is computed arithmetically for the
 * same reason.
 */
#include "crypto/ct.h"

#include <stdint.h>

bool ct_memeq(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint32_t diff = 0;

    for (size_t i = 0; i < n; i++)
        diff |= (uint32_t)(x[i] ^ y[i]);
    /* diff is 0..255: diff - 1 wraps to 0xffffffff only when diff is 0, so
     * bit 8 of it is set exactly when the buffers are equal. */
    return (bool)(((diff - 1) >> 8) & 1);
}
