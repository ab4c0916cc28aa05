/*
 * Host tests for the park table (the futex wait queues of ParkSpace):
 * FIFO wake order, counts (0, exact, huge), keys sharing a bucket, keys
 * of different address spaces, removal from anywhere, re-parking from the
 * wake callback, and a randomized comparison against a model.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kcore/park.h"
#include "test_rng.h"

static struct park_bucket buckets[8];
static struct park_table t;
static struct park_waiter w[64];
static int order[64], norder;

static void record(void *ctx, struct park_waiter *x)
{
    (void)ctx;
    order[norder++] = (int)(x - w);
}

static void setup(void)
{
    memset(w, 0, sizeof w);
    norder = 0;
    cr_assert(park_table_init(&t, buckets, 8));
}

TestSuite(park, .init = setup);

Test(park, init_needs_a_power_of_two)
{
    struct park_bucket b[6];
    struct park_table x;
    cr_assert_not(park_table_init(&x, b, 6));
    cr_assert_not(park_table_init(&x, b, 0));
    cr_assert(park_table_init(&x, b, 4));
}

Test(park, wakes_oldest_first_and_only_its_key)
{
    struct park_key a = park_key(1, 0x1000), b = park_key(1, 0x1004);
    park_enqueue(&t, &w[0], a);
    park_enqueue(&t, &w[1], b);
    park_enqueue(&t, &w[2], a);
    park_enqueue(&t, &w[3], a);
    cr_assert_eq(park_count(&t, a), 3);
    cr_assert_eq(park_wake(&t, a, 2, record, 0), 2);
    cr_assert_eq(norder, 2);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(park_count(&t, a), 1);
    cr_assert_eq(park_count(&t, b), 1);
    cr_assert_not(w[0].parked);
    cr_assert(w[3].parked);
    cr_assert_eq(t.waiters, 2);
}

Test(park, counts_zero_and_huge)
{
    struct park_key a = park_key(1, 0x2000);
    for (int i = 0; i < 5; i++)
        park_enqueue(&t, &w[i], a);
    cr_assert_eq(park_wake(&t, a, 0, record, 0), 0);
    cr_assert_eq(park_count(&t, a), 5);
    cr_assert_eq(park_wake(&t, a, UINT32_MAX, record, 0), 5);
    cr_assert_eq(park_count(&t, a), 0);
    cr_assert_eq(park_wake(&t, a, UINT32_MAX, record, 0), 0);
    cr_assert_eq(t.waiters, 0);
}

Test(park, address_spaces_are_apart)
{
    /* The same user address in two processes: different keys. */
    struct park_key p1 = park_key(1, 0x3000), p2 = park_key(2, 0x3000);
    cr_assert(p1.space != p2.space);
    park_enqueue(&t, &w[0], p1);
    park_enqueue(&t, &w[1], p2);
    cr_assert_eq(park_wake(&t, p1, 10, record, 0), 1);
    cr_assert_eq(order[0], 0);
    cr_assert(w[1].parked);
}

Test(park, colliding_hashes_do_not_meet)
{
    /* Two spaces and addresses chosen so that the old mixed key
     * (addr >> 2) ^ (space * golden) was equal: an attacker's wake on its
     * own address must not reach the other process's waiter. */
    const uint64_t g = 0x9e3779b97f4a7c15ull;
    uint64_t s1 = 1, s2 = 2, a1 = 0x1000;
    uint64_t a2 = ((a1 >> 2) ^ (s1 * g) ^ (s2 * g)) << 2;
    struct park_bucket one[1];
    struct park_table u;
    park_table_init(&u, one, 1);
    park_enqueue(&u, &w[0], park_key(s1, a1));
    cr_assert_eq(park_wake(&u, park_key(s2, a2), UINT32_MAX, record, 0), 0);
    cr_assert(w[0].parked);
    cr_assert_eq(park_count(&u, park_key(s1, a1)), 1);
}

Test(park, keys_sharing_a_bucket)
{
    /* With one bucket every key shares it: wakes still pick by key. */
    struct park_bucket one[1];
    struct park_table u;
    park_table_init(&u, one, 1);
    for (int i = 0; i < 10; i++)
        park_enqueue(&u, &w[i], park_key(1, 0x4000 + 4 * (uint64_t)(i % 3)));
    cr_assert_eq(park_wake(&u, park_key(1, 0x4004), 100, record, 0), 3);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 4);
    cr_assert_eq(order[2], 7);
    cr_assert_eq(u.waiters, 7);
}

Test(park, remove_from_head_middle_and_tail)
{
    struct park_key a = park_key(1, 0x5000);
    for (int i = 0; i < 4; i++)
        park_enqueue(&t, &w[i], a);
    cr_assert(park_remove(&t, &w[1]));
    cr_assert(park_remove(&t, &w[0]));
    cr_assert(park_remove(&t, &w[3]));
    cr_assert_not(park_remove(&t, &w[3]), "removed twice");
    cr_assert_eq(park_wake(&t, a, 10, record, 0), 1);
    cr_assert_eq(order[0], 2);
    cr_assert_not(park_remove(&t, &w[2]), "already woken");
    cr_assert_eq(t.waiters, 0);
}

static struct park_key repark_key;
static void repark(void *ctx, struct park_waiter *x)
{
    record(ctx, x);
    park_enqueue(&t, x, repark_key);
}

Test(park, woken_may_park_again)
{
    struct park_key a = park_key(1, 0x6000);
    repark_key = a;
    park_enqueue(&t, &w[0], a);
    park_enqueue(&t, &w[1], a);
    /* Each woken waiter parks again under the same key, at the back: a
     * wake of 2 must still wake the two that were there, once each. */
    cr_assert_eq(park_wake(&t, a, 2, repark, 0), 2);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 1);
    cr_assert_eq(park_count(&t, a), 2);
}

/* ---- Randomized comparison against a model ---- */

Test(park, random_ops_match_model)
{
    enum { N = 48, KEYS = 5 };
    for (uint64_t seed = 1; seed <= 30; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        setup();
        /* The model: each waiter's key index (-1: not parked) and its
         * parking sequence number (FIFO order). */
        int key_of[N];
        uint64_t seq_of[N], seq = 0;
        for (int i = 0; i < N; i++)
            key_of[i] = -1;
        for (int op = 0; op < 3000; op++) {
            int i = (int)rnd(N), k = (int)rnd(KEYS);
            struct park_key key = park_key(1 + (uint64_t)(k & 1), 0x7000 + 4 * (uint64_t)k);
            switch (rnd(3)) {
            case 0:
                if (key_of[i] < 0) {
                    park_enqueue(&t, &w[i], key);
                    key_of[i] = k;
                    seq_of[i] = seq++;
                }
                break;
            case 1:
                cr_assert_eq(park_remove(&t, &w[i]), key_of[i] >= 0);
                key_of[i] = -1;
                break;
            default: {
                uint32_t count = (uint32_t)rnd(4);
                norder = 0;
                uint32_t n = park_wake(&t, key, count, record, 0);
                /* The expected: the `count` oldest parked under k. */
                uint32_t want = 0;
                for (int j = 0; j < N; j++)
                    want += key_of[j] == k;
                want = want < count ? want : count;
                cr_assert_eq(n, want, "seed %lu op %d", seed, op);
                for (uint32_t m = 0; m < n; m++) {
                    int x = order[m];
                    cr_assert_eq(key_of[x], k);
                    for (int j = 0; j < N; j++)
                        if (key_of[j] == k && j != x)
                            cr_assert(seq_of[j] > seq_of[x] || key_of[j] < 0,
                                      "seed %lu op %d: a younger waiter woke first", seed, op);
                    key_of[x] = -1;
                }
                break;
            }
            }
            uint32_t total = 0;
            for (int j = 0; j < N; j++) {
                total += key_of[j] >= 0;
                cr_assert_eq(w[j].parked, key_of[j] >= 0);
            }
            cr_assert_eq(t.waiters, total);
        }
    }
}

/* park_first names exactly the waiter park_wake wakes first, whatever
 * else shares its bucket, and leaves it parked; *bucket is its bucket. */
Test(park, first_is_what_wake_wakes_first)
{
    struct park_key a = park_key(1, 0x1000), b = park_key(1, 0x1000 + 8 * 4),
                    c = park_key(2, 0x1000);
    struct park_bucket *in;
    cr_assert_null(park_first(&t, a, &in));
    park_enqueue(&t, &w[0], b);
    park_enqueue(&t, &w[1], c);
    cr_assert_null(park_first(&t, a, &in), "other keys in the bucket are not a's");
    park_enqueue(&t, &w[2], a);
    park_enqueue(&t, &w[3], a);
    for (int round = 0; round < 2; round++) {
        struct park_waiter *f = park_first(&t, a, &in);
        cr_assert_not_null(f);
        cr_assert(f->parked);
        cr_assert_eq(in, park_bucket_of(&t, a));
        norder = 0;
        cr_assert_eq(park_wake(&t, a, 1, record, 0), 1);
        cr_assert_eq(&w[order[0]], f);
    }
    cr_assert_null(park_first(&t, a, &in));
    cr_assert_eq(park_first(&t, b, &in), &w[0]);
    cr_assert_eq(park_first(&t, c, &in), &w[1]);
}

/* The kernel's fast wake (park_space.c): park_first, park_unlink of what
 * it found, then park_wake(key, n - 1), wakes the same waiters in the
 * same order as park_wake(key, n), and leaves the same table. Two tables
 * built alike, random keys sharing few buckets, random n. */
static struct park_bucket buckets2[8];
static struct park_table t2;
static struct park_waiter w2[64];
static int order2[64], norder2;

static void record2(void *ctx, struct park_waiter *x)
{
    (void)ctx;
    order2[norder2++] = (int)(x - w2);
}

Test(park, first_then_unlink_wakes_as_wake_does)
{
    rng = 0x9a4c;
    for (int iter = 0; iter < 2000; iter++) {
        memset(w, 0, sizeof w);
        memset(w2, 0, sizeof w2);
        cr_assert(park_table_init(&t, buckets, 8));
        cr_assert(park_table_init(&t2, buckets2, 8));
        int n = (int)rnd(24);
        for (int i = 0; i < n; i++) {
            struct park_key k = park_key(1 + rnd(2), 0x1000 + 4 * rnd(20));
            park_enqueue(&t, &w[i], k);
            park_enqueue(&t2, &w2[i], k);
        }
        struct park_key k = park_key(1 + rnd(2), 0x1000 + 4 * rnd(20));
        uint32_t count = 1 + (uint32_t)rnd(6);
        if (rnd(8) == 0)
            count = UINT32_MAX;
        norder = norder2 = 0;
        uint32_t woke = park_wake(&t, k, count, record, 0);
        struct park_bucket *in;
        struct park_waiter *f = park_first(&t2, k, &in);
        uint32_t woke2 = 0;
        if (f) {
            park_unlink(&t2, in, f);
            record2(0, f);
            woke2 = 1 + park_wake(&t2, k, count - 1, record2, 0);
        }
        cr_assert_eq(woke, woke2, "iteration %d: %u woken, against %u", iter, woke, woke2);
        cr_assert_eq(norder, norder2);
        for (int i = 0; i < norder; i++)
            cr_assert_eq(order[i], order2[i], "iteration %d: wake %d differs", iter, i);
        cr_assert_eq(t.waiters, t2.waiters);
        for (int i = 0; i < n; i++) {
            cr_assert_eq(w[i].parked, w2[i].parked);
            cr_assert_eq(w[i].next ? w[i].next - w : -1, w2[i].next ? w2[i].next - w2 : -1);
            cr_assert_eq(w[i].prev ? w[i].prev - w : -1, w2[i].prev ? w2[i].prev - w2 : -1);
        }
        for (int b = 0; b < 8; b++) {
            cr_assert_eq(buckets[b].head ? buckets[b].head - w : -1,
                         buckets2[b].head ? buckets2[b].head - w2 : -1);
            cr_assert_eq(buckets[b].tail ? buckets[b].tail - w : -1,
                         buckets2[b].tail ? buckets2[b].tail - w2 : -1);
        }
    }
}
