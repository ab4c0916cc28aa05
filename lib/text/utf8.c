/* Strict UTF-8 decoding (utf8.h). */
#include "text/utf8.h"

enum utf8_res utf8_feed(struct utf8_dec *d, uint8_t b)
{
    if (d->need == 0) {
        d->lo = 0x80;
        d->hi = 0xbf;
        if (b < 0x80) {
            d->cp = b;
            return UTF8_CHAR;
        }
        if (b >= 0xc2 && b <= 0xdf) {
            d->need = 1;
            d->cp = b & 0x1fu;
        } else if (b >= 0xe0 && b <= 0xef) {
            d->need = 2;
            d->cp = b & 0x0fu;
            if (b == 0xe0)
                d->lo = 0xa0; /* below: an overlong 2-byte character */
            else if (b == 0xed)
                d->hi = 0x9f; /* above: the surrogates U+D800..U+DFFF */
        } else if (b >= 0xf0 && b <= 0xf4) {
            d->need = 3;
            d->cp = b & 0x07u;
            if (b == 0xf0)
                d->lo = 0x90; /* below: an overlong 3-byte character */
            else if (b == 0xf4)
                d->hi = 0x8f; /* above: past U+10FFFF */
        } else {
            return UTF8_BAD; /* a stray continuation byte, C0, C1, F5..FF */
        }
        return UTF8_MORE;
    }
    if (b < d->lo || b > d->hi) {
        utf8_reset(d);
        return UTF8_BAD_AGAIN;
    }
    d->cp = d->cp << 6 | (b & 0x3fu);
    d->lo = 0x80;
    d->hi = 0xbf;
    return --d->need ? UTF8_MORE : UTF8_CHAR;
}

size_t utf8_check(const void *s, size_t n)
{
    const uint8_t *p = s;
    struct utf8_dec d;
    utf8_reset(&d);
    size_t start = 0; /* where the open character began */
    for (size_t i = 0; i < n; i++) {
        if (d.need == 0)
            start = i;
        enum utf8_res r = utf8_feed(&d, p[i]);
        if (r == UTF8_BAD || r == UTF8_BAD_AGAIN)
            return start;
    }
    return d.need ? start : n;
}

size_t utf8_count(const void *s, size_t n)
{
    const uint8_t *p = s;
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (p[i] & 0xc0) != 0x80;
    return c;
}
