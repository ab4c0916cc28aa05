/*
 * Host tests for Argon2 (lib/crypto/argon2.c) and constant-time comparison
 * (lib/crypto/ct.c): the RFC 9106 section 5 test vectors for all three variants,
 * H' against the RFC's definition restated here on top of BLAKE2b, every
 * parameter error (each returns its own status and writes nothing), and the
 * work buffer never written past its end. tests/host/test_argon2_diff.c
 * compares random inputs with libargon2.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/argon2.h"
#include "crypto/blake2b.h"
#include "crypto/ct.h"

/* ---- RFC 9106 section 5 ------------------------------------------------- */

/* Password 32 x 01, salt 16 x 02, secret 8 x 03, ad 12 x 04, t 3, m 32, p 4. */
static uint8_t pwd[32], salt[16], secret[8], ad[12];

static struct argon2_params rfc_params(void)
{
    memset(pwd, 0x01, sizeof(pwd));
    memset(salt, 0x02, sizeof(salt));
    memset(secret, 0x03, sizeof(secret));
    memset(ad, 0x04, sizeof(ad));
    return (struct argon2_params){
        .t_cost = 3,
        .m_cost = 32,
        .lanes = 4,
        .pwd = pwd,
        .pwd_len = sizeof(pwd),
        .salt = salt,
        .salt_len = sizeof(salt),
        .secret = secret,
        .secret_len = sizeof(secret),
        .ad = ad,
        .ad_len = sizeof(ad),
    };
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void expect_rfc(enum argon2_variant v, const char *want)
{
    static uint64_t work[32 * ARGON2_BLOCK_SIZE / 8];
    struct argon2_params p = rfc_params();
    uint8_t tag[32];
    char h[65];

    cr_assert_eq(argon2_compute(v, &p, tag, sizeof(tag), work, sizeof(work)), ARGON2_SUCCESS);
    hex(h, tag, sizeof(tag));
    cr_assert_str_eq(h, want);
}

Test(argon2, rfc9106_argon2d)
{
    expect_rfc(ARGON2_D, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb");
}

Test(argon2, rfc9106_argon2i)
{
    expect_rfc(ARGON2_I, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8");
}

Test(argon2, rfc9106_argon2id)
{
    expect_rfc(ARGON2_ID, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
}

Test(argon2, argon2id_hash_is_compute_id)
{
    static uint64_t work[32 * 128];
    struct argon2_params p = rfc_params();
    uint8_t a[32], b[32];

    cr_assert_eq(argon2id_hash(&p, a, 32, work, sizeof(work)), ARGON2_SUCCESS);
    cr_assert_eq(argon2_compute(ARGON2_ID, &p, b, 32, work, sizeof(work)), ARGON2_SUCCESS);
    cr_assert_arr_eq(a, b, 32);
}

/* ---- H' ------------------------------------------------------------------ */

/* RFC 9106 section 3.3, written out as directly as possible. */
static void hprime_model(uint8_t *out, uint32_t t, const uint8_t *in, size_t n)
{
    uint8_t a[4] = {(uint8_t)t, (uint8_t)(t >> 8), (uint8_t)(t >> 16), (uint8_t)(t >> 24)};
    uint8_t *buf = malloc(4 + n);
    memcpy(buf, a, 4);
    memcpy(buf + 4, in, n);
    if (t <= 64) {
        blake2b(out, t, buf, 4 + n);
    } else {
        uint32_t r = (t + 31) / 32 - 2;
        uint8_t v[64];
        blake2b(v, 64, buf, 4 + n);
        memcpy(out, v, 32);
        for (uint32_t i = 2; i <= r; i++) {
            blake2b(v, 64, v, 64);
            memcpy(out + 32 * (i - 1), v, 32);
        }
        blake2b(out + 32 * r, t - 32 * r, v, 64);
    }
    free(buf);
}

Test(argon2, hprime_matches_rfc_definition)
{
    static const uint32_t lens[] = {1, 4, 32, 63, 64, 65, 95, 96, 97, 127, 128, 129, 1000, 1024};
    uint8_t in[77], got[1024 + 8], want[1024];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(3 * i + 1);
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint32_t t = lens[k];
        memset(got, 0xcc, sizeof(got));
        cr_assert(argon2_hprime(got, t, in, sizeof(in)));
        hprime_model(want, t, in, sizeof(in));
        cr_assert_arr_eq(got, want, t, "T = %u", t);
        for (size_t i = t; i < sizeof(got); i++)
            cr_assert_eq(got[i], 0xcc, "T = %u wrote byte %zu", t, i);
    }
}

Test(argon2, hprime_rejects_bad_length)
{
    uint8_t out[4] = {9, 9, 9, 9};
    cr_assert(!argon2_hprime(out, 0, "x", 1));
    cr_assert(!argon2_hprime(out, (size_t)ARGON2_LEN_MAX + 1, "x", 1));
    cr_assert(out[0] == 9 && out[3] == 9);
}

/* ---- Work buffer ------------------------------------------------------- */

Test(argon2, work_size)
{
    cr_assert_eq(argon2_work_size(32, 4), 32 * 1024);
    cr_assert_eq(argon2_work_size(47, 4), 32 * 1024);
    cr_assert_eq(argon2_work_size(48, 4), 48 * 1024);
    cr_assert_eq(argon2_work_size(8, 1), 8 * 1024);
    cr_assert_eq(argon2_work_size(11, 1), 8 * 1024);
    cr_assert_eq(argon2_work_size(24, 3), 24 * 1024);
    cr_assert_eq(argon2_work_size(35, 3), 24 * 1024);
    cr_assert_eq(argon2_work_size(7, 1), 0);
    cr_assert_eq(argon2_work_size(31, 4), 0);
    cr_assert_eq(argon2_work_size(64, 0), 0);
    cr_assert_eq(argon2_work_size(UINT32_MAX, ARGON2_LANES_MAX + 1), 0);
    cr_assert_eq(argon2_work_size(UINT32_MAX, 1), (size_t)0xfffffffcu * 1024);
    cr_assert_eq(argon2_work_size(UINT32_MAX, ARGON2_LANES_MAX),
                 (size_t)(UINT32_MAX / (4u * ARGON2_LANES_MAX) * (4u * ARGON2_LANES_MAX)) * 1024);
}

#define CANARY    0xa5
#define SLACK     4096
#define ARENA_MAX (256 * 1024 + 2 * SLACK)

/* A work buffer of `size` bytes at `arena + SLACK`, with canaries on both
 * sides; returns true when every canary byte survived. */
static bool canaries_intact(const uint8_t *arena, size_t size)
{
    for (size_t i = 0; i < SLACK; i++)
        if (arena[i] != CANARY || arena[SLACK + size + i] != CANARY)
            return false;
    return true;
}

Test(argon2, never_writes_past_work_and_wipes_it)
{
    static uint64_t arena64[ARENA_MAX / 8];
    uint8_t *arena = (uint8_t *)arena64;
    struct argon2_params p = rfc_params();
    uint8_t tag[32];

    for (uint32_t lanes = 1; lanes <= 4; lanes++) {
        for (uint32_t m = 8 * lanes; m <= 8 * lanes + 13; m++) {
            size_t need = argon2_work_size(m, lanes);
            p.lanes = lanes;
            p.m_cost = m;
            p.t_cost = 2;
            memset(arena, CANARY, ARENA_MAX);
            cr_assert_eq(argon2id_hash(&p, tag, sizeof(tag), arena + SLACK, need), ARGON2_SUCCESS);
            cr_assert(canaries_intact(arena, need), "m %u p %u", m, lanes);
            for (size_t i = 0; i < need; i++)
                cr_assert_eq(arena[SLACK + i], 0, "work byte %zu not wiped", i);
        }
    }
}

Test(argon2, m_cost_rounding_uses_rounded_memory)
{
    /* m = 35, p = 4 uses 32 blocks, but H0 covers the 35: a different tag
     * from m = 32, computed in the same 32 KiB. */
    static uint64_t work[32 * 128];
    struct argon2_params p = rfc_params();
    uint8_t a[32], b[32];

    cr_assert_eq(argon2id_hash(&p, a, 32, work, sizeof(work)), ARGON2_SUCCESS);
    p.m_cost = 35;
    cr_assert_eq(argon2id_hash(&p, b, 32, work, sizeof(work)), ARGON2_SUCCESS);
    cr_assert(memcmp(a, b, 32) != 0);
}

/* ---- Parameter errors -------------------------------------------------- */

static uint64_t err_arena64[(64 * 1024 + 2 * SLACK) / 8];
static uint8_t err_tag[80];

/* Runs one call that must fail with `want` and checks that neither the
 * tag nor a single byte around or inside the work buffer changed. */
static void expect_error(enum argon2_variant v, const struct argon2_params *p, size_t tag_len,
                         size_t work_offset, size_t work_size, enum argon2_status want)
{
    uint8_t *arena = (uint8_t *)err_arena64;
    memset(arena, CANARY, sizeof(err_arena64));
    memset(err_tag, CANARY, sizeof(err_tag));
    enum argon2_status got =
        argon2_compute(v, p, err_tag, tag_len, arena + SLACK + work_offset, work_size);
    cr_assert_eq(got, want, "got %s, want %s", argon2_status_name(got), argon2_status_name(want));
    for (size_t i = 0; i < sizeof(err_arena64); i++)
        cr_assert_eq(arena[i], CANARY, "work byte %zu written on error", i);
    for (size_t i = 0; i < sizeof(err_tag); i++)
        cr_assert_eq(err_tag[i], CANARY, "tag byte %zu written on error", i);
}

#define WORK_OK (32 * 1024) /* enough for rfc_params() */
#define HUGE    ((size_t)ARGON2_LEN_MAX + 1)

/* Each case changes one thing in the RFC parameters, which succeed as they
 * are (rfc9106_* above); the byte strings are tiny, so a "huge" length that
 * got past the checks would make ASan report a read overflow. */
#define E(change, tag_len, off, size, want)                                                        \
    do {                                                                                           \
        struct argon2_params p = rfc_params();                                                     \
        change;                                                                                    \
        expect_error(ARGON2_ID, &p, tag_len, off, size, want);                                     \
    } while (0)

Test(argon2, error_variant)
{
    struct argon2_params p = rfc_params();
    expect_error((enum argon2_variant)3, &p, 32, 0, WORK_OK, ARGON2_E_VARIANT);
    expect_error((enum argon2_variant)(-1), &p, 32, 0, WORK_OK, ARGON2_E_VARIANT);
}

Test(argon2, error_null)
{
    uint8_t *arena = (uint8_t *)err_arena64;
    struct argon2_params rp = rfc_params();
    cr_assert_eq(argon2id_hash(NULL, err_tag, 32, arena, WORK_OK), ARGON2_E_NULL);
    cr_assert_eq(argon2id_hash(&rp, NULL, 32, arena, WORK_OK), ARGON2_E_NULL);
    E(p.pwd = NULL, 32, 0, WORK_OK, ARGON2_E_NULL);
    E(p.salt = NULL, 32, 0, WORK_OK, ARGON2_E_NULL);
    E(p.secret = NULL, 32, 0, WORK_OK, ARGON2_E_NULL);
    E(p.ad = NULL, 32, 0, WORK_OK, ARGON2_E_NULL);
    /* NULL with length 0 is an empty string, not an error: the salt one
     * fails only for being short. */
    E((p.salt = NULL, p.salt_len = 0), 32, 0, WORK_OK, ARGON2_E_SALT_TOO_SHORT);
}

Test(argon2, error_lengths)
{
    E(p.pwd_len = HUGE, 32, 0, WORK_OK, ARGON2_E_PWD_TOO_LONG);
    E(p.pwd_len = SIZE_MAX, 32, 0, WORK_OK, ARGON2_E_PWD_TOO_LONG);
    E(p.salt_len = 0, 32, 0, WORK_OK, ARGON2_E_SALT_TOO_SHORT);
    E(p.salt_len = 7, 32, 0, WORK_OK, ARGON2_E_SALT_TOO_SHORT);
    E(p.salt_len = HUGE, 32, 0, WORK_OK, ARGON2_E_SALT_TOO_LONG);
    E(p.salt_len = SIZE_MAX, 32, 0, WORK_OK, ARGON2_E_SALT_TOO_LONG);
    E(p.secret_len = HUGE, 32, 0, WORK_OK, ARGON2_E_SECRET_TOO_LONG);
    E(p.ad_len = HUGE, 32, 0, WORK_OK, ARGON2_E_AD_TOO_LONG);
    E((void)0, 0, 0, WORK_OK, ARGON2_E_TAG_TOO_SHORT);
    E((void)0, 3, 0, WORK_OK, ARGON2_E_TAG_TOO_SHORT);
    E((void)0, HUGE, 0, WORK_OK, ARGON2_E_TAG_TOO_LONG);
    E((void)0, SIZE_MAX, 0, WORK_OK, ARGON2_E_TAG_TOO_LONG);
}

Test(argon2, error_costs)
{
    E(p.t_cost = 0, 32, 0, WORK_OK, ARGON2_E_T_COST_ZERO);
    E(p.lanes = 0, 32, 0, WORK_OK, ARGON2_E_LANES);
    E(p.lanes = ARGON2_LANES_MAX + 1, 32, 0, WORK_OK, ARGON2_E_LANES);
    E(p.lanes = UINT32_MAX, 32, 0, WORK_OK, ARGON2_E_LANES);
    E(p.m_cost = 31, 32, 0, WORK_OK, ARGON2_E_M_COST); /* p = 4 needs 32 */
    E(p.m_cost = 0, 32, 0, WORK_OK, ARGON2_E_M_COST);
    E((p.lanes = 1, p.m_cost = 7), 32, 0, WORK_OK, ARGON2_E_M_COST);
    E((p.lanes = 5, p.m_cost = 32), 32, 0, WORK_OK, ARGON2_E_M_COST);
    /* 8 * ARGON2_LANES_MAX fits in 32 bits: the check cannot wrap. */
    E((p.lanes = ARGON2_LANES_MAX, p.m_cost = 8 * ARGON2_LANES_MAX - 1), 32, 0, WORK_OK,
      ARGON2_E_M_COST);
}

Test(argon2, error_work_buffer)
{
    struct argon2_params rp = rfc_params();
    cr_assert_eq(argon2id_hash(&rp, err_tag, 32, NULL, WORK_OK), ARGON2_E_WORK_NULL);
    for (size_t off = 1; off < 8; off++)
        E((void)0, 32, off, WORK_OK, ARGON2_E_WORK_ALIGN);
    E((void)0, 32, 0, 0, ARGON2_E_WORK_TOO_SMALL);
    E((void)0, 32, 0, WORK_OK - 1, ARGON2_E_WORK_TOO_SMALL);
    E((void)0, 32, 0, WORK_OK - 1024, ARGON2_E_WORK_TOO_SMALL);
    /* Huge memory costs are refused for the buffer, not attempted. */
    E(p.m_cost = UINT32_MAX, 32, 0, WORK_OK, ARGON2_E_WORK_TOO_SMALL);
    E((p.lanes = 1, p.m_cost = 36), 32, 0, WORK_OK, ARGON2_E_WORK_TOO_SMALL);
}

/* The first failing check wins, in the order of enum argon2_status. */
Test(argon2, error_order)
{
    E((p.salt_len = 1, p.t_cost = 0), 0, 3, 0, ARGON2_E_SALT_TOO_SHORT);
    E((p.t_cost = 0, p.lanes = 0), 0, 3, 0, ARGON2_E_TAG_TOO_SHORT);
    E((p.t_cost = 0, p.lanes = 0), 32, 3, 0, ARGON2_E_T_COST_ZERO);
    E((p.lanes = 0), 32, 3, 0, ARGON2_E_LANES);
    E((p.m_cost = 1), 32, 3, 0, ARGON2_E_M_COST);
}

Test(argon2, status_names)
{
    cr_assert_str_eq(argon2_status_name(ARGON2_SUCCESS), "ARGON2_SUCCESS");
    cr_assert_str_eq(argon2_status_name(ARGON2_E_M_COST), "ARGON2_E_M_COST");
    for (int s = 0; s < ARGON2_STATUS_COUNT; s++) {
        const char *n = argon2_status_name((enum argon2_status)s);
        cr_assert(n != NULL && strncmp(n, "ARGON2_", 7) == 0, "status %d", s);
    }
    cr_assert_str_eq(argon2_status_name(ARGON2_STATUS_COUNT), "ARGON2_E_UNKNOWN");
    cr_assert_str_eq(argon2_status_name((enum argon2_status)(-1)), "ARGON2_E_UNKNOWN");
}

/* ---- Sensitivity: every input and parameter changes the tag ------------- */

Test(argon2, every_input_matters)
{
    static uint64_t work[64 * 128];
    uint8_t base[16], t[16];
    struct argon2_params p = rfc_params();

    cr_assert_eq(argon2id_hash(&p, base, 16, work, sizeof(work)), ARGON2_SUCCESS);
    for (int k = 0; k < 9; k++) {
        p = rfc_params();
        /* One byte of each input, each cost, and the presence of K and X. */
        uint8_t *flip[] = {&pwd[31], &salt[0], &secret[3], &ad[11]};
        if (k < 4)
            *flip[k] ^= 0x10;
        p.t_cost = k == 4 ? 2 : p.t_cost;
        p.m_cost = k == 5 ? 64 : p.m_cost;
        p.lanes = k == 6 ? 2 : p.lanes;
        p.ad_len = k == 7 ? 0 : p.ad_len;
        p.secret_len = k == 8 ? 0 : p.secret_len;
        cr_assert_eq(argon2id_hash(&p, t, 16, work, sizeof(work)), ARGON2_SUCCESS);
        cr_assert(memcmp(base, t, 16) != 0, "change %d left the tag alone", k);
    }
    /* The tag length is hashed into H0: a short tag is no prefix. */
    p = rfc_params();
    cr_assert_eq(argon2id_hash(&p, t, 8, work, sizeof(work)), ARGON2_SUCCESS);
    cr_assert(memcmp(base, t, 8) != 0);
}

/* ---- Constant-time comparison ------------------------------------------ */

Test(ct, equal_and_empty)
{
    uint8_t a[100], b[100];
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = b[i] = (uint8_t)(i * 37);
    cr_assert(ct_memeq(a, b, sizeof(a)));
    cr_assert(ct_memeq(a, a, sizeof(a)));
    cr_assert(ct_memeq(a, b, 0));
    cr_assert(ct_memeq(NULL, NULL, 0));
}

Test(ct, every_position_and_bit)
{
    uint8_t a[64], b[64];
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = (uint8_t)(0xff - i);
    for (size_t pos = 0; pos < sizeof(a); pos++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, a, sizeof(a));
            b[pos] ^= (uint8_t)(1u << bit);
            cr_assert(!ct_memeq(a, b, sizeof(a)), "pos %zu bit %d", pos, bit);
            cr_assert(!ct_memeq(b, a, sizeof(a)), "pos %zu bit %d", pos, bit);
            /* A difference past n is not looked at. */
            cr_assert(ct_memeq(a, b, pos));
        }
    }
}

Test(ct, all_byte_differences)
{
    for (int x = 0; x < 256; x++) {
        for (int y = 0; y < 256; y++) {
            uint8_t a = (uint8_t)x, b = (uint8_t)y;
            cr_assert_eq(ct_memeq(&a, &b, 1), x == y, "%d %d", x, y);
        }
    }
}
