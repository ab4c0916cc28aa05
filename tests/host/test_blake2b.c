/*
 * Host tests for BLAKE2b (lib/crypto/blake2b.c): the RFC 7693 Appendix A vector,
 * the empty-string digest, every output length over inputs around the
 * block boundaries (as one digest of all the digests, computed with
 * Python's hashlib.blake2b), and incremental hashing over every split point
 * against the one-shot result.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto/blake2b.h"

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void expect_digest(const void *msg, size_t len, size_t outlen, const char *want)
{
    uint8_t d[BLAKE2B_OUT_MAX];
    char h[2 * BLAKE2B_OUT_MAX + 1];

    cr_assert(blake2b(d, outlen, msg, len));
    hex(h, d, outlen);
    cr_assert_str_eq(h, want, "len %zu outlen %zu", len, outlen);
}

Test(blake2b, rfc7693_appendix_a_abc)
{
    expect_digest("abc", 3, 64,
                  "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                  "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

Test(blake2b, empty_string)
{
    expect_digest("", 0, 64,
                  "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                  "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    /* NULL with length 0 is the empty string too. */
    expect_digest(NULL, 0, 64,
                  "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                  "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
}

Test(blake2b, abc_256)
{
    /* The digest length is part of the parameter block, so a short digest
     * is not a prefix of the long one. */
    expect_digest("abc", 3, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

Test(blake2b, million_bytes)
{
    static uint8_t m[1000000];
    memset(m, 0xa5, sizeof(m));
    expect_digest(m, sizeof(m), 64,
                  "23fd983d3c8547cd646d42f4fb09d53358c9c65f09f53de182f88ea838f826d4"
                  "90f78565e213fb0f8e47903c230a9faa5baad1924341d9f0c0c8aa7681b6f6c7");
}

/* Every output length 1..64 over inputs of 0..1000 bytes around the block
 * boundaries; message byte i is (7i + outlen) mod 256. */
Test(blake2b, every_outlen_grand_digest)
{
    static const size_t lens[] = {0, 1, 3, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000};
    struct blake2b_state g;
    uint8_t msg[1000], d[BLAKE2B_OUT_MAX], gd[BLAKE2B_OUT_MAX];
    char h[2 * BLAKE2B_OUT_MAX + 1];

    cr_assert(blake2b_init(&g, 64));
    for (size_t outlen = 1; outlen <= 64; outlen++) {
        for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            for (size_t i = 0; i < lens[k]; i++)
                msg[i] = (uint8_t)(i * 7 + outlen);
            cr_assert(blake2b(d, outlen, msg, lens[k]));
            blake2b_update(&g, d, outlen);
        }
    }
    blake2b_final(&g, gd);
    hex(h, gd, 64);
    cr_assert_str_eq(h, "df3e6425ca845747d3c12b62064d59d52933801c3f40b36d5310cfdd320f717b"
                        "77986105be7d08f06cddb25d8b42ac261d2c1e24905793a14876e2424b72712c");
}

Test(blake2b, incremental_every_split)
{
    uint8_t msg[600], one[64], inc[64];
    struct blake2b_state s;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 131 + 17);
    for (size_t len = 0; len <= sizeof(msg); len += (len < 300 ? 1 : 37)) {
        cr_assert(blake2b(one, 64, msg, len));
        for (size_t a = 0; a <= len; a++) {
            cr_assert(blake2b_init(&s, 64));
            blake2b_update(&s, msg, a);
            blake2b_update(&s, msg + a, len - a);
            blake2b_final(&s, inc);
            cr_assert_arr_eq(one, inc, 64, "len %zu split %zu", len, a);
        }
    }
}

/* Three pieces, with empty updates in between, at block-boundary offsets. */
Test(blake2b, incremental_three_pieces)
{
    uint8_t msg[400], one[48], inc[48];
    struct blake2b_state s;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i ^ 0x5c);
    cr_assert(blake2b(one, 48, msg, sizeof(msg)));
    for (size_t a = 0; a <= sizeof(msg); a += 7) {
        for (size_t b = a; b <= sizeof(msg); b += 11) {
            cr_assert(blake2b_init(&s, 48));
            blake2b_update(&s, msg, a);
            blake2b_update(&s, NULL, 0);
            blake2b_update(&s, msg + a, b - a);
            blake2b_update(&s, msg + b, sizeof(msg) - b);
            blake2b_final(&s, inc);
            cr_assert_arr_eq(one, inc, 48, "splits %zu %zu", a, b);
        }
    }
}

Test(blake2b, byte_at_a_time)
{
    uint8_t msg[300], one[64], inc[64];
    struct blake2b_state s;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    cr_assert(blake2b(one, 64, msg, sizeof(msg)));
    cr_assert(blake2b_init(&s, 64));
    for (size_t i = 0; i < sizeof(msg); i++)
        blake2b_update(&s, msg + i, 1);
    blake2b_final(&s, inc);
    cr_assert_arr_eq(one, inc, 64);
}

Test(blake2b, bad_outlen_rejected)
{
    struct blake2b_state s;
    uint8_t out[80];

    memset(&s, 0x77, sizeof(s));
    cr_assert(!blake2b_init(&s, 0));
    cr_assert(!blake2b_init(&s, 65));
    cr_assert(!blake2b_init(&s, (size_t)-1));
    cr_assert_eq(s.outlen, (size_t)0x7777777777777777ull, "state touched on error");

    memset(out, 0x77, sizeof(out));
    cr_assert(!blake2b(out, 0, "abc", 3));
    cr_assert(!blake2b(out, 65, "abc", 3));
    for (size_t i = 0; i < sizeof(out); i++)
        cr_assert_eq(out[i], 0x77, "byte %zu written on error", i);
}

Test(blake2b, writes_exactly_outlen)
{
    uint8_t out[70];
    for (size_t outlen = 1; outlen <= 64; outlen++) {
        memset(out, 0xee, sizeof(out));
        cr_assert(blake2b(out, outlen, "x", 1));
        for (size_t i = outlen; i < sizeof(out); i++)
            cr_assert_eq(out[i], 0xee, "outlen %zu wrote byte %zu", outlen, i);
    }
}

Test(blake2b, final_wipes_state)
{
    struct blake2b_state s, zero;
    uint8_t out[64];

    memset(&zero, 0, sizeof(zero));
    cr_assert(blake2b_init(&s, 64));
    blake2b_update(&s, "secret password", 15);
    blake2b_final(&s, out);
    cr_assert_arr_eq(&s, &zero, sizeof(s));
}
