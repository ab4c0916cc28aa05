/*
 * Differential test of lib/crypto/argon2.c against libargon2 (the reference
 * implementation, Debian's libargon2-dev): random passwords, salts,
 * secrets, associated data and costs from a fixed-seed generator, for all
 * three variants, and tag lengths on both sides of H''s 64-byte switch.
 *
 * lib/crypto/argon2.h and <argon2.h> share no name, so both are included:
 * ours as "crypto/argon2.h", libargon2's from the system path.
 */
#include <argon2.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/argon2.h"

/* splitmix64: deterministic, so a failure is reproducible by case number. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t range(uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(rng() % (hi - lo + 1));
}

static void fill(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng();
}

struct input {
    uint8_t pwd[64], salt[32], secret[32], ad[32];
    struct argon2_params p;
    size_t tag_len;
};

static void random_input(struct input *in, bool extras, size_t tag_min, size_t tag_max)
{
    struct argon2_params *p = &in->p;
    memset(p, 0, sizeof(*p));
    p->pwd_len = range(0, 64);
    p->salt_len = range(8, 32);
    fill(in->pwd, p->pwd_len);
    fill(in->salt, p->salt_len);
    p->pwd = p->pwd_len ? in->pwd : NULL;
    p->salt = in->salt;
    if (extras) {
        p->secret_len = range(0, 32);
        p->ad_len = range(0, 32);
        fill(in->secret, p->secret_len);
        fill(in->ad, p->ad_len);
        p->secret = p->secret_len ? in->secret : NULL;
        p->ad = p->ad_len ? in->ad : NULL;
    }
    p->t_cost = range(1, 3);
    p->lanes = range(1, 4);
    p->m_cost = range(8 * p->lanes, 256);
    in->tag_len = range((uint32_t)tag_min, (uint32_t)tag_max);
}

/* libargon2 through argon2_ctx, which takes a secret and associated data;
 * one thread, so the reference runs its lanes in order as we do. */
static int reference(argon2_type type, const struct input *in, uint8_t *tag)
{
    const struct argon2_params *p = &in->p;
    argon2_context ctx = {
        .out = tag,
        .outlen = (uint32_t)in->tag_len,
        .pwd = (uint8_t *)p->pwd,
        .pwdlen = (uint32_t)p->pwd_len,
        .salt = (uint8_t *)p->salt,
        .saltlen = (uint32_t)p->salt_len,
        .secret = (uint8_t *)p->secret,
        .secretlen = (uint32_t)p->secret_len,
        .ad = (uint8_t *)p->ad,
        .adlen = (uint32_t)p->ad_len,
        .t_cost = p->t_cost,
        .m_cost = p->m_cost,
        .lanes = p->lanes,
        .threads = 1,
        .version = ARGON2_VERSION_13,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    return argon2_ctx(&ctx, type);
}

static void compare(enum argon2_variant ours, argon2_type theirs, int n, uint64_t seed, bool extras,
                    size_t tag_min, size_t tag_max)
{
    static uint8_t want[1024], got[1024];
    rng_state = seed;
    for (int i = 0; i < n; i++) {
        struct input in;
        random_input(&in, extras, tag_min, tag_max);
        size_t size = argon2_work_size(in.p.m_cost, in.p.lanes);
        uint64_t *work = malloc(size);
        cr_assert(work);

        cr_assert_eq(reference(theirs, &in, want), ARGON2_OK, "case %d: libargon2 failed", i);
        enum argon2_status st = argon2_compute(ours, &in.p, got, in.tag_len, work, size);
        cr_assert_eq(st, ARGON2_SUCCESS, "case %d: %s", i, argon2_status_name(st));
        cr_assert_arr_eq(got, want, in.tag_len,
                         "case %d: pwd %zu salt %zu secret %zu ad %zu t %u m %u p %u tag %zu", i,
                         in.p.pwd_len, in.p.salt_len, in.p.secret_len, in.p.ad_len, in.p.t_cost,
                         in.p.m_cost, in.p.lanes, in.tag_len);
        free(work);
    }
}

/* The simple API too, without secret or associated data. */
Test(argon2_diff, argon2id_hash_raw)
{
    uint8_t want[64], got[64];
    rng_state = 1;
    for (int i = 0; i < 50; i++) {
        struct input in;
        random_input(&in, false, 4, 64);
        size_t size = argon2_work_size(in.p.m_cost, in.p.lanes);
        uint64_t *work = malloc(size);
        cr_assert(work);
        cr_assert_eq(argon2id_hash_raw(in.p.t_cost, in.p.m_cost, in.p.lanes, in.p.pwd, in.p.pwd_len,
                                       in.p.salt, in.p.salt_len, want, in.tag_len),
                     ARGON2_OK);
        cr_assert_eq(argon2id_hash(&in.p, got, in.tag_len, work, size), ARGON2_SUCCESS);
        cr_assert_arr_eq(got, want, in.tag_len, "case %d", i);
        free(work);
    }
}

Test(argon2_diff, argon2id_with_secret_and_ad)
{
    compare(ARGON2_ID, Argon2_id, 50, 2, true, 4, 64);
}

Test(argon2_diff, argon2d)
{
    compare(ARGON2_D, Argon2_d, 20, 3, true, 4, 64);
}

Test(argon2_diff, argon2i)
{
    compare(ARGON2_I, Argon2_i, 20, 4, true, 4, 64);
}

/* Tags longer than one BLAKE2b digest go through H''s chain. */
Test(argon2_diff, long_tags)
{
    compare(ARGON2_ID, Argon2_id, 12, 5, true, 65, 1024);
}

/* More than 128 blocks per segment: Argon2i/id need several address
 * blocks per segment, and the last one is partly used. */
Test(argon2_diff, several_address_blocks)
{
    static uint64_t work[2048 * 128];
    static const uint32_t ms[] = {1024, 1028, 2047};
    uint8_t want[32], got[32];
    for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
        for (uint32_t lanes = 1; lanes <= 2; lanes++) {
            for (int v = 1; v <= 2; v++) {
                struct input in;
                rng_state = 6 + k;
                random_input(&in, true, 32, 32);
                in.p.m_cost = ms[k];
                in.p.lanes = lanes;
                in.p.t_cost = 2;
                cr_assert_eq(reference(v == 1 ? Argon2_i : Argon2_id, &in, want), ARGON2_OK);
                cr_assert_eq(argon2_compute(v == 1 ? ARGON2_I : ARGON2_ID, &in.p, got, 32, work,
                                            sizeof(work)),
                             ARGON2_SUCCESS);
                cr_assert_arr_eq(got, want, 32, "m %u p %u variant %d", ms[k], lanes, v);
            }
        }
    }
}
