/*
 * Strict UTF-8 (RFC 3629), one byte at a time: what the terminal's line
 * editor accepts and what the session services take as a user name.
 *
 * Refused: bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5..0xFF), a
 * continuation byte where a character should start, overlong encodings
 * (E0 80..9F, F0 80..8F), surrogates (ED A0..BF: U+D800..U+DFFF), code
 * points past U+10FFFF (F4 90..) and sequences cut short. Checking the
 * range of each continuation byte as it comes (instead of the code point
 * at the end) finds the mistake at the first byte that makes it one.
 *
 * Freestanding: no libc.
 */
#ifndef CAPOS_LIB_UTF8_H
#define CAPOS_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct utf8_dec {
    uint32_t cp;    /* the code point so far */
    uint8_t need;   /* continuation bytes still wanted; 0 between characters */
    uint8_t lo, hi; /* the range the next continuation byte must be in */
};

enum utf8_res {
    UTF8_MORE,      /* part of a character: feed on */
    UTF8_CHAR,      /* a character ended with this byte: d->cp */
    UTF8_BAD,       /* this byte makes the input invalid; it is consumed */
    UTF8_BAD_AGAIN, /* the open character was cut short by this byte, which
                       is not part of it: feed the byte again */
};

static inline void utf8_reset(struct utf8_dec *d)
{
    d->cp = 0;
    d->need = 0;
    d->lo = 0x80;
    d->hi = 0xbf;
}

enum utf8_res utf8_feed(struct utf8_dec *d, uint8_t byte);

/* The offset of the first byte of s[0 .. n) that starts an invalid or
 * truncated sequence, or n if all of it is UTF-8. */
size_t utf8_check(const void *s, size_t n);

/* Characters in s[0 .. n), which must be UTF-8: the bytes that are not
 * continuation bytes. */
size_t utf8_count(const void *s, size_t n);

#endif
