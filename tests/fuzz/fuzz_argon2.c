/*
 * libFuzzer target for Argon2 (lib/crypto/argon2.c): the input chooses the
 * variant, the costs, the lengths and the bytes of every input, small
 * enough (m <= 64 KiB, t <= 2) for thousands of runs a second. In normal
 * mode the parameters are valid and the tag must equal libargon2's; in
 * hostile mode they may be anything small, and the status must be the one
 * this file predicts independently, libargon2 must agree on whether the
 * parameters are valid, and a failing call must write nothing. Tag and work
 * buffers are heap blocks of exactly their size, so ASan catches any write
 * past them.
 *
 * Input: flags, t, p, m, tag length, salt length, secret length, ad length,
 * then the bytes of salt, secret, ad and (the rest) password. Flags: bits
 * 0-1 variant (3 is invalid), bit 2 hostile, bit 3 short work buffer,
 * bit 4 misaligned work buffer.
 */
#include <argon2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/argon2.h"

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define CANARY 0x5a

static size_t take(const uint8_t **data, size_t *left, size_t want, const uint8_t **out)
{
    size_t n = want < *left ? want : *left;
    *out = n ? *data : NULL;
    *data += n;
    *left -= n;
    return n;
}

static bool untouched(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != CANARY)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint8_t flags = data[0];
    bool hostile = flags & 4;
    unsigned variant = flags & 3;
    struct argon2_params p = {0};
    size_t tag_len, salt_want, secret_want, ad_want;

    if (hostile) {
        p.t_cost = data[1] % 3;
        p.lanes = data[2] % 6;
        p.m_cost = data[3] % 65;
        tag_len = data[4] % 130;
        salt_want = data[5] % 33;
    } else {
        variant %= 3;
        p.t_cost = 1 + data[1] % 2;
        p.lanes = 1 + data[2] % 4;
        p.m_cost = 8 * p.lanes + data[3] % (65 - 8 * p.lanes);
        tag_len = 4 + data[4] % 125;
        salt_want = 8 + data[5] % 25;
    }
    secret_want = data[6] % 33;
    ad_want = data[7] % 33;
    data += 8;
    size -= 8;

    const uint8_t *salt, *secret, *ad;
    p.salt_len = take(&data, &size, salt_want, &salt);
    p.secret_len = take(&data, &size, secret_want, &secret);
    p.ad_len = take(&data, &size, ad_want, &ad);
    p.salt = salt;
    p.secret = secret;
    p.ad = ad;
    p.pwd = size ? data : NULL;
    p.pwd_len = size;

    /* The status lib/crypto/argon2.h promises, from its documented order. */
    size_t need = argon2_work_size(p.m_cost, p.lanes);
    size_t short_by = (flags & 8) ? 1 + (size_t)flags * 7 % 1024 : 0;
    size_t work_size = need > short_by ? need - short_by : 0;
    size_t misalign = (flags & 16) ? 1 + flags % 7 : 0;
    bool params_ok = variant <= 2 && p.salt_len >= 8 && tag_len >= 4 && p.t_cost >= 1 &&
                     p.lanes >= 1 && p.m_cost >= 8 * p.lanes;
    enum argon2_status expect = variant > 2              ? ARGON2_E_VARIANT
                                : p.salt_len < 8         ? ARGON2_E_SALT_TOO_SHORT
                                : tag_len < 4            ? ARGON2_E_TAG_TOO_SHORT
                                : p.t_cost == 0          ? ARGON2_E_T_COST_ZERO
                                : p.lanes == 0           ? ARGON2_E_LANES
                                : p.m_cost < 8 * p.lanes ? ARGON2_E_M_COST
                                : misalign               ? ARGON2_E_WORK_ALIGN
                                : work_size < need       ? ARGON2_E_WORK_TOO_SMALL
                                                         : ARGON2_SUCCESS;

    uint8_t *tag = malloc(tag_len ? tag_len : 1);
    uint8_t *ref = malloc(tag_len ? tag_len : 1);
    uint8_t *block = malloc(misalign + work_size + 1);
    check(tag && ref && block);
    memset(tag, CANARY, tag_len);
    memset(block, CANARY, misalign + work_size + 1);

    enum argon2_status st =
        argon2_compute((enum argon2_variant)variant, &p, tag, tag_len, block + misalign, work_size);
    check(st == expect);
    if (st != ARGON2_SUCCESS) {
        check(untouched(tag, tag_len));
        check(untouched(block, misalign + work_size + 1));
    } else {
        /* Wiped, and not one byte past the end. */
        for (size_t i = 0; i < work_size; i++)
            check(block[i] == 0);
        check(block[work_size] == CANARY);
    }

    if (variant <= 2) {
        static const argon2_type types[3] = {Argon2_d, Argon2_i, Argon2_id};
        argon2_context ctx = {
            .out = ref,
            .outlen = (uint32_t)tag_len,
            .pwd = (uint8_t *)p.pwd,
            .pwdlen = (uint32_t)p.pwd_len,
            .salt = (uint8_t *)p.salt,
            .saltlen = (uint32_t)p.salt_len,
            .secret = (uint8_t *)p.secret,
            .secretlen = (uint32_t)p.secret_len,
            .ad = (uint8_t *)p.ad,
            .adlen = (uint32_t)p.ad_len,
            .t_cost = p.t_cost,
            .m_cost = p.m_cost,
            .lanes = p.lanes,
            .threads = 1,
            .version = ARGON2_VERSION_13,
            .flags = ARGON2_DEFAULT_FLAGS,
        };
        int rc = argon2_ctx(&ctx, types[variant]);
        check((rc == ARGON2_OK) == params_ok);
        if (st == ARGON2_SUCCESS)
            check(memcmp(tag, ref, tag_len) == 0);
    }
    free(tag);
    free(ref);
    free(block);
    return 0;
}
