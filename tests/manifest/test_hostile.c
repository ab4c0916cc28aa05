/*
 * lib/manifest/manifest.c against bytes that are not a well-formed manifest:
 * truncation, garbage, single bit flips, trailing bytes, pointers of the
 * wrong kind. Every input must give 0 or a typed error with a terminated
 * path and message, never a crash (ASan and UBSan are on).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "mdesc.h"

/* Check buf and require a sane outcome; returns the check's result. */
static int sane(const uint8_t *buf, size_t len, struct manifest_error *e)
{
    /* A copy of exactly len bytes, so that ASan sees any overread. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, buf, len);
    memset(e, 0x55, sizeof(*e));
    int rc = check_bytes(copy, len, e);
    free(copy);
    cr_assert(rc == 0 || rc == -1);
    cr_assert_lt(strnlen(e->path, sizeof(e->path)), sizeof(e->path));
    cr_assert_lt(strnlen(e->msg, sizeof(e->msg)), sizeof(e->msg));
    if (rc == 0)
        cr_assert_eq(e->code, MANIFEST_OK);
    else
        cr_assert(e->code > MANIFEST_OK && e->code <= MANIFEST_E_VALUE && e->msg[0] != 0,
                  "code %d, message \"%s\"", e->code, e->msg);
    return rc;
}

static uint8_t *baseline(size_t *len)
{
    struct mdesc *d = mdesc_new();
    uint8_t *buf = mdesc_encode(d, len);
    free(d);
    return buf;
}

Test(hostile, every_truncation)
{
    size_t len;
    uint8_t *buf = baseline(&len);
    struct manifest_error e;
    cr_assert_eq(sane(buf, len, &e), 0, "%s: %s", e.path, e.msg);
    for (size_t n = 0; n < len; n++) {
        cr_assert_eq(sane(buf, n, &e), -1, "a %zu-byte prefix was accepted", n);
        cr_expect_eq(e.code, MANIFEST_E_MESSAGE, "prefix %zu: %s", n, e.msg);
    }
    free(buf);
}

Test(hostile, trailing_bytes)
{
    size_t len;
    uint8_t *buf = baseline(&len);
    uint8_t *more = calloc(1, len + 8);
    memcpy(more, buf, len);
    struct manifest_error e;
    cr_assert_eq(sane(more, len + 8, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_MESSAGE);
    cr_expect_str_eq(e.msg, "8 bytes after the message: expected exactly one framed message");
    free(more);
    free(buf);
}

Test(hostile, every_bit_flip)
{
    size_t len;
    uint8_t *buf = baseline(&len);
    struct manifest_error e;
    int refused = 0;
    for (size_t bit = 0; bit < len * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        refused += sane(buf, len, &e) != 0;
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Most flips land in names, ids, pointers or the framing. */
    cr_expect_gt(refused, (int)len * 4, "only %d of %zu flips refused", refused, len * 8);
    free(buf);
}

Test(hostile, random_garbage)
{
    uint8_t buf[512];
    uint32_t x = 12345;
    struct manifest_error e;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 64) * 8;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        /* A plausible one-segment header, so the garbage reaches the reader. */
        if (n >= 8 && round % 2) {
            uint32_t words = (uint32_t)(n / 8 - 1);
            memset(buf, 0, 4);
            memcpy(buf + 4, &words, 4);
        }
        sane(buf, n, &e);
    }
}

/* Hand-made one-segment messages: header, then words. */
static int words_msg(const uint64_t *w, uint32_t n, struct manifest_error *e)
{
    uint8_t buf[8 + 8 * 16];
    uint32_t hdr[2] = {0, n};
    memcpy(buf, hdr, 8);
    memcpy(buf + 8, w, 8 * n);
    return sane(buf, 8 + 8 * (size_t)n, e);
}

Test(hostile, root_kinds)
{
    struct manifest_error e;
    uint64_t null_root[1] = {0};
    cr_expect_eq(words_msg(null_root, 1, &e), -1);
    cr_expect_str_eq(e.msg, "the root is not a struct: expected a SystemManifest");
    /* Root is a list of 8 bytes. */
    uint64_t list_root[2] = {1u | (2ull << 32) | (8ull << 35), 0};
    cr_expect_eq(words_msg(list_root, 2, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_MESSAGE);
    /* Root struct past the end of the segment. */
    uint64_t far_root[1] = {(5u << 2) | (1ull << 32) | (3ull << 48)};
    cr_expect_eq(words_msg(far_root, 1, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_MESSAGE);
}

Test(hostile, wrong_pointer_kinds)
{
    /* schemaVersion 1, then binaries -> a struct, not a list. */
    struct manifest_error e;
    uint64_t w[6] = {
        (0u << 2) | (1ull << 32) | (3ull << 48), /* root: 1 data word, 3 pointers */
        1,                                       /* schemaVersion */
        (2u << 2) | (1ull << 32),                /* binaries: a struct pointer */
        0,
        0,
        0,
    };
    cr_expect_eq(words_msg(w, 6, &e), -1);
    cr_expect_eq(e.code, MANIFEST_E_MESSAGE, "%s: %s", e.path, e.msg);
    cr_expect_str_eq(e.path, "binaries");
    cr_expect(strstr(e.msg, "malformed message: ") == e.msg, "%s", e.msg);
}

Test(hostile, self_referencing_lists)
{
    /* binaries is an inline-composite list whose element's name points back
     * at the root: read as bytes, it is not a name. */
    struct manifest_error e;
    uint64_t w[8] = {
        (0u << 2) | (1ull << 32) | (3ull << 48), /* root */
        1,
        1u | (2u << 2) | (7ull << 32) | (2ull << 35), /* binaries: composite, 2 words */
        0,
        0,
        (1u << 2) | (0ull << 32) | (2ull << 48) | 0, /* tag: 1 element, 0 data, 2 ptrs */
        1u | (uint64_t)(uint32_t)(-7 * 4) | (2ull << 32) | (16ull << 35), /* name: the root */
        0,
    };
    cr_expect_eq(words_msg(w, 8, &e), -1);
    cr_expect_str_eq(e.path, "binaries[0].name", "%s", e.msg);
}
