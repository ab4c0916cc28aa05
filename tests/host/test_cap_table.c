/*
 * Host tests for the capability table: ids and generations, quotas, move
 * transactions, receiver preflight, a randomized comparison against a
 * reference model, and a multi-capability transfer with a failure injected
 * at every step.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kcore/cap_table.h"
#include "test_rng.h"
#include <capos/errors.h>

#define IFACE_A 0xa1a1a1a1a1a1a1a1ull
#define IFACE_B 0xb2b2b2b2b2b2b2b2ull

static struct cap_slot slots[CAP_MAX_CAPACITY];
static struct cap_slot slots2[64];

/* Distinct fake objects: the table never dereferences them. */
static void *obj(uintptr_t n)
{
    return (void *)(0x1000 + n * 16);
}

static struct cap_entry ent(uintptr_t n, uint64_t iface)
{
    return (struct cap_entry){.object = obj(n), .interface_id = iface, .flags = (uint32_t)n % 3};
}

static bool ent_eq(struct cap_entry a, struct cap_entry b)
{
    return a.object == b.object && a.interface_id == b.interface_id && a.flags == b.flags;
}

/* The table's invariants, checked the slow way. */
static void check(const struct cap_table *t)
{
    uint32_t live = 0, reserved = 0, nfree = 0, listed = 0;
    for (uint32_t i = 0; i < t->capacity; i++) {
        const struct cap_slot *s = &t->slots[i];
        cr_assert_neq(s->generation, 0, "slot %u has generation 0", i);
        live += s->state == CAP_SLOT_LIVE;
        reserved += s->state == CAP_SLOT_RESERVED;
        nfree += s->state == CAP_SLOT_FREE;
        if (s->state != CAP_SLOT_FREE)
            cr_assert_not_null(s->entry.object);
    }
    uint16_t last = 0xffff;
    for (uint16_t i = t->free_head; i != 0xffff; i = t->slots[i].next_free) {
        cr_assert_lt(i, t->capacity);
        cr_assert_eq(t->slots[i].state, CAP_SLOT_FREE, "non-free slot %u on the free list", i);
        cr_assert_leq(++listed, nfree, "free list longer than the free slots (cycle?)");
        last = i;
    }
    cr_assert_eq(listed, nfree);
    cr_assert_eq(t->free_tail, last);
    cr_assert_eq(t->live, live);
    cr_assert_eq(t->reserved, reserved);
    cr_assert_leq(cap_table_used(t), t->capacity);
    cr_assert_eq(cap_table_used(t), live + reserved + t->credit);
}

static void setup(struct cap_table *t, uint32_t capacity, uint32_t quota)
{
    cr_assert_eq(cap_table_init(t, slots, capacity, quota), CAP_OK);
    check(t);
}

Test(cap, init_rejects_bad_storage)
{
    struct cap_table t;
    cr_assert_eq(cap_table_init(&t, slots, 0, 4), CAP_ERR_INVALID);
    cr_assert_eq(cap_table_init(&t, slots, CAP_MAX_CAPACITY + 1, 4), CAP_ERR_INVALID);
    cr_assert_eq(cap_table_init(&t, NULL, 4, 4), CAP_ERR_INVALID);
    /* A failed init leaves a usable, empty, zero-capacity table. */
    struct cap_entry e = ent(1, IFACE_A);
    cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_ERR_FULL);
    cr_assert_eq(cap_table_lookup(&t, cap_id_make(1, 0), NULL), CAP_ERR_OUT_OF_RANGE);
    cr_assert_eq(cap_table_init(&t, slots, CAP_MAX_CAPACITY, CAP_MAX_CAPACITY), CAP_OK);
    check(&t);
}

Test(cap, insert_lookup_remove)
{
    struct cap_table t;
    setup(&t, 16, CAP_DEFAULT_QUOTA);
    uint32_t ids[10];
    for (uintptr_t i = 0; i < 10; i++) {
        struct cap_entry e = ent(i, IFACE_A);
        cr_assert_eq(cap_table_insert(&t, &e, &ids[i]), CAP_OK);
    }
    cr_assert_eq(t.live, 10);
    check(&t);
    for (uintptr_t i = 0; i < 10; i++) {
        struct cap_entry got;
        cr_assert_eq(cap_table_lookup(&t, ids[i], &got), CAP_OK);
        cr_assert(ent_eq(got, ent(i, IFACE_A)));
        for (uintptr_t j = 0; j < i; j++)
            cr_assert_neq(ids[i], ids[j]);
    }
    struct cap_entry out;
    cr_assert_eq(cap_table_remove(&t, ids[3], &out), CAP_OK);
    cr_assert(ent_eq(out, ent(3, IFACE_A)), "remove returns what the slot held");
    cr_assert_eq(cap_table_lookup(&t, ids[3], NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(cap_table_remove(&t, ids[3], NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(t.live, 9);
    cr_assert_eq(cap_table_lookup(&t, ids[4], NULL), CAP_OK);
    struct cap_entry null_obj = {.object = NULL, .interface_id = IFACE_A};
    cr_assert_eq(cap_table_insert(&t, &null_obj, NULL), CAP_ERR_INVALID);
    cr_assert_eq(cap_table_insert(&t, NULL, NULL), CAP_ERR_INVALID);
    cr_assert_eq(t.live, 9);
    check(&t);
}

Test(cap, id_zero_is_never_valid)
{
    struct cap_table t;
    setup(&t, 64, 64);
    cr_assert_eq(cap_table_lookup(&t, 0, NULL), CAP_ERR_BAD_ID);
    for (uintptr_t i = 0; i < 64; i++) {
        struct cap_entry e = ent(i, IFACE_A);
        uint32_t id;
        cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_OK);
        cr_assert_neq(id, CAP_ID_INVALID);
        cr_assert_neq(cap_id_generation(id), 0);
    }
    /* Slot 0 is live, yet id 0 and every generation-0 id stay invalid. */
    cr_assert_eq(cap_table_lookup(&t, 0, NULL), CAP_ERR_BAD_ID);
    cr_assert_eq(cap_table_remove(&t, 0, NULL), CAP_ERR_BAD_ID);
    cr_assert_eq(cap_table_reserve(&t, 0, NULL), CAP_ERR_BAD_ID);
    cr_assert_eq(cap_table_lookup_typed(&t, 0, IFACE_A, NULL), CAP_ERR_BAD_ID);
    cr_assert_eq(cap_table_lookup(&t, cap_id_make(0, 5), NULL), CAP_ERR_BAD_ID);
    cr_assert_eq(t.live, 64);
}

Test(cap, distinct_errors_for_range_free_and_stale)
{
    struct cap_table t;
    setup(&t, 1, 4); /* one slot: every insert reuses index 0 */
    struct cap_entry e = ent(1, IFACE_A);
    uint32_t first, second;
    cr_assert_eq(cap_table_insert(&t, &e, &first), CAP_OK);
    cr_assert_eq(cap_table_lookup(&t, cap_id_make(1, 1), NULL), CAP_ERR_OUT_OF_RANGE);
    cr_assert_eq(cap_table_lookup(&t, cap_id_make(1, 0xffff), NULL), CAP_ERR_OUT_OF_RANGE);
    cr_assert_eq(cap_table_remove(&t, first, NULL), CAP_OK);
    cr_assert_eq(cap_table_lookup(&t, first, NULL), CAP_ERR_FREE_SLOT);
    e = ent(2, IFACE_B);
    cr_assert_eq(cap_table_insert(&t, &e, &second), CAP_OK);
    cr_assert_eq(cap_id_index(second), cap_id_index(first));
    cr_assert_neq(second, first);
    /* The old id names the same index but must not reach the new object. */
    cr_assert_eq(cap_table_lookup(&t, first, NULL), CAP_ERR_STALE);
    cr_assert_eq(cap_table_remove(&t, first, NULL), CAP_ERR_STALE);
    cr_assert_eq(cap_table_reserve(&t, first, NULL), CAP_ERR_STALE);
    cr_assert_eq(cap_table_lookup_typed(&t, first, IFACE_B, NULL), CAP_ERR_STALE);
    struct cap_entry got;
    cr_assert_eq(cap_table_lookup(&t, second, &got), CAP_OK);
    cr_assert(ent_eq(got, ent(2, IFACE_B)));
    check(&t);
}

Test(cap, free_slots_are_reused_oldest_first)
{
    struct cap_table t;
    setup(&t, 4, 4);
    uint32_t id[4];
    for (uintptr_t i = 0; i < 4; i++) {
        struct cap_entry e = ent(i, IFACE_A);
        cr_assert_eq(cap_table_insert(&t, &e, &id[i]), CAP_OK);
        cr_assert_eq(cap_id_index(id[i]), i);
    }
    cr_assert_eq(cap_table_remove(&t, id[2], NULL), CAP_OK);
    cr_assert_eq(cap_table_remove(&t, id[0], NULL), CAP_OK);
    uint32_t a, b;
    struct cap_entry e = ent(9, IFACE_A);
    cr_assert_eq(cap_table_insert(&t, &e, &a), CAP_OK);
    cr_assert_eq(cap_table_insert(&t, &e, &b), CAP_OK);
    cr_assert_eq(cap_id_index(a), 2);
    cr_assert_eq(cap_id_index(b), 0);
    check(&t);
}

Test(cap, generation_wraps_and_skips_zero)
{
    struct cap_table t;
    setup(&t, 1, 1);
    struct cap_entry e = ent(1, IFACE_A);
    uint32_t id, prev = 0;
    for (uint32_t n = 1; n <= 65535; n++) {
        cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_OK);
        cr_assert_eq(cap_id_generation(id), n);
        if (prev)
            cr_assert_eq(cap_table_lookup(&t, prev, NULL), CAP_ERR_STALE);
        cr_assert_eq(cap_table_remove(&t, id, NULL), CAP_OK);
        prev = id;
    }
    cr_assert_eq(cap_id_generation(prev), 0xffff);
    cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_OK);
    cr_assert_eq(cap_id_generation(id), 1, "wrap goes to 1, not 0");
    cr_assert_eq(id, cap_id_make(1, 0));
    cr_assert_eq(cap_table_lookup(&t, prev, NULL), CAP_ERR_STALE);
    cr_assert_eq(cap_table_lookup(&t, 0, NULL), CAP_ERR_BAD_ID);
    check(&t);
}

Test(cap, quota_exhaustion_changes_nothing)
{
    struct cap_table t;
    setup(&t, 8, 4);
    for (uintptr_t i = 0; i < 4; i++) {
        struct cap_entry e = ent(i, IFACE_A);
        cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_OK);
    }
    struct cap_table before = t;
    struct cap_slot snap[8];
    memcpy(snap, slots, sizeof snap);
    struct cap_entry e = ent(99, IFACE_A);
    uint32_t id = 12345;
    cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_ERR_QUOTA);
    cr_assert_eq(id, 12345, "id_out untouched on failure");
    cr_assert_eq(cap_table_rx_reserve(&t, 1), CAP_ERR_QUOTA);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
    cr_assert(memcmp(snap, slots, sizeof snap) == 0);
    cr_assert_eq(cap_status_to_capos(CAP_ERR_QUOTA), CAPOS_E_NO_SPACE);
    check(&t);

    /* Quota above capacity: the storage runs out first. */
    setup(&t, 3, 10);
    for (uintptr_t i = 0; i < 3; i++)
        cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_OK);
    before = t;
    cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_ERR_FULL);
    cr_assert_eq(cap_table_rx_reserve(&t, 1), CAP_ERR_FULL);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
    cr_assert_eq(cap_status_to_capos(CAP_ERR_FULL), CAPOS_E_NO_SPACE);
    check(&t);
}

Test(cap, typed_lookup_checks_interface)
{
    struct cap_table t;
    setup(&t, 8, 8);
    struct cap_entry e = ent(5, IFACE_A), got = {0};
    uint32_t id;
    cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_OK);
    cr_assert_eq(cap_table_lookup_typed(&t, id, IFACE_A, &got), CAP_OK);
    cr_assert(ent_eq(got, e));
    got = (struct cap_entry){0};
    cr_assert_eq(cap_table_lookup_typed(&t, id, IFACE_B, &got), CAP_ERR_WRONG_INTERFACE);
    cr_assert_null(got.object, "nothing handed out on a mismatch");
    cr_assert_eq(cap_table_lookup_typed(&t, id, 0, NULL), CAP_ERR_WRONG_INTERFACE);
    /* A bad id is reported as such, whatever the interface. */
    cr_assert_eq(cap_table_lookup_typed(&t, id + 1, IFACE_A, NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(cap_status_to_capos(CAP_ERR_WRONG_INTERFACE), CAPOS_E_WRONG_INTERFACE);
    cr_assert_eq(cap_status_to_capos(CAP_ERR_STALE), CAPOS_E_BAD_CAP);
}

Test(cap, reserve_commit_and_rollback)
{
    struct cap_table t;
    setup(&t, 8, 2);
    struct cap_entry e = ent(7, IFACE_A), got;
    uint32_t id, other;
    cr_assert_eq(cap_table_insert(&t, &e, &id), CAP_OK);
    cr_assert_eq(cap_table_reserve(&t, id, &got), CAP_OK);
    cr_assert(ent_eq(got, e));
    cr_assert_eq(t.live, 0);
    cr_assert_eq(t.reserved, 1);
    cr_assert_eq(cap_table_used(&t), 1, "a reserved slot still counts");
    check(&t);

    /* While reserved it is out of reach for everything but commit/rollback. */
    cr_assert_eq(cap_table_lookup(&t, id, NULL), CAP_ERR_RESERVED);
    cr_assert_eq(cap_table_lookup_typed(&t, id, IFACE_A, NULL), CAP_ERR_RESERVED);
    cr_assert_eq(cap_table_remove(&t, id, NULL), CAP_ERR_RESERVED);
    cr_assert_eq(cap_table_reserve(&t, id, NULL), CAP_ERR_RESERVED, "moving twice fails");
    cr_assert_eq(cap_status_to_capos(CAP_ERR_RESERVED), CAPOS_E_MOVING);
    uint32_t cursor = 0;
    cr_assert_not(cap_table_next(&t, &cursor, NULL, NULL), "iteration skips reserved slots");

    /* It still takes quota: quota 2 leaves room for one more only. */
    cr_assert_eq(cap_table_insert(&t, &e, &other), CAP_OK);
    cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_ERR_QUOTA);
    cr_assert_eq(cap_table_commit(&t, other, NULL), CAP_ERR_NOT_RESERVED);
    cr_assert_eq(cap_table_rollback(&t, other), CAP_ERR_NOT_RESERVED);

    cr_assert_eq(cap_table_rollback(&t, id), CAP_OK);
    cr_assert_eq(cap_table_rollback(&t, id), CAP_ERR_NOT_RESERVED);
    cr_assert_eq(cap_table_lookup(&t, id, &got), CAP_OK, "rollback keeps the same id");
    cr_assert(ent_eq(got, e));
    check(&t);

    cr_assert_eq(cap_table_reserve(&t, id, NULL), CAP_OK);
    got = (struct cap_entry){0};
    cr_assert_eq(cap_table_commit(&t, id, &got), CAP_OK);
    cr_assert(ent_eq(got, e));
    cr_assert_eq(cap_table_commit(&t, id, NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(cap_table_rollback(&t, id), CAP_ERR_FREE_SLOT);
    cr_assert_eq(cap_table_lookup(&t, id, NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(cap_table_used(&t), 1);
    cr_assert_eq(t.reserved, 0);
    check(&t);
}

Test(cap, receiver_preflight)
{
    struct cap_table t;
    setup(&t, 8, 4);
    struct cap_entry e = ent(1, IFACE_A);
    uint32_t a, b, c;
    cr_assert_eq(cap_table_insert(&t, &e, &a), CAP_OK);
    cr_assert_eq(cap_table_insert(&t, &e, &b), CAP_OK);

    struct cap_table before = t;
    cr_assert_eq(cap_table_rx_reserve(&t, 3), CAP_ERR_QUOTA);
    cr_assert(memcmp(&t, &before, sizeof t) == 0, "a failed reservation takes nothing");
    cr_assert_eq(cap_table_rx_reserve(&t, 0), CAP_OK);
    cr_assert_eq(cap_table_rx_reserve(&t, UINT32_MAX), CAP_ERR_QUOTA);

    cr_assert_eq(cap_table_rx_reserve(&t, 2), CAP_OK);
    cr_assert_eq(t.credit, 2);
    cr_assert_eq(cap_table_used(&t), 4);
    cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_ERR_QUOTA, "credit counts against quota");
    check(&t);

    struct cap_entry r = ent(42, IFACE_B), got;
    cr_assert_eq(cap_table_rx_fill(&t, &r, &c), CAP_OK);
    cr_assert_eq(cap_table_lookup_typed(&t, c, IFACE_B, &got), CAP_OK);
    cr_assert(ent_eq(got, r));
    cr_assert_eq(t.credit, 1);
    cr_assert_eq(cap_table_used(&t), 4);

    /* Undo the fill: the slot becomes credit again, then cancel it all. */
    cr_assert_eq(cap_table_rx_unfill(&t, c, &got), CAP_OK);
    cr_assert(ent_eq(got, r));
    cr_assert_eq(cap_table_lookup(&t, c, NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(t.credit, 2);
    cr_assert_eq(cap_table_rx_cancel(&t, 3), CAP_ERR_NO_CREDIT);
    cr_assert_eq(t.credit, 2);
    cr_assert_eq(cap_table_rx_cancel(&t, 2), CAP_OK);
    cr_assert_eq(cap_table_used(&t), 2);
    cr_assert_eq(cap_table_rx_fill(&t, &r, NULL), CAP_ERR_NO_CREDIT);
    cr_assert_eq(cap_table_rx_unfill(&t, c, NULL), CAP_ERR_FREE_SLOT);
    cr_assert_eq(t.credit, 0);
    check(&t);

    /* Fill everything that was reserved, then nothing more. */
    cr_assert_eq(cap_table_rx_reserve(&t, 2), CAP_OK);
    struct cap_entry null_obj = {0};
    cr_assert_eq(cap_table_rx_fill(&t, &null_obj, NULL), CAP_ERR_INVALID);
    cr_assert_eq(t.credit, 2);
    cr_assert_eq(cap_table_rx_fill(&t, &r, NULL), CAP_OK);
    cr_assert_eq(cap_table_rx_fill(&t, &r, NULL), CAP_OK);
    cr_assert_eq(cap_table_rx_fill(&t, &r, NULL), CAP_ERR_NO_CREDIT);
    cr_assert_eq(t.live, 4);
    cr_assert_eq(cap_table_used(&t), 4);
    cr_assert_eq(cap_status_to_capos(CAP_ERR_NO_CREDIT), CAPOS_E_INTERNAL);
    check(&t);

    /* Quota above capacity: credit is limited by the free slots. */
    setup(&t, 3, 100);
    cr_assert_eq(cap_table_rx_reserve(&t, 4), CAP_ERR_FULL);
    cr_assert_eq(cap_table_rx_reserve(&t, 3), CAP_OK);
    cr_assert_eq(cap_table_insert(&t, &e, NULL), CAP_ERR_FULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cap_table_rx_fill(&t, &r, NULL), CAP_OK);
    check(&t);
}

/* Drain callback for iterate_and_drain: count each object handed over. */
static void count_drained(void *ctx, uint32_t cap, const struct cap_entry *e)
{
    int *count = ctx;
    uintptr_t i = ((uintptr_t)e->object - 0x1000) / 16;
    cr_assert_lt(i, 10);
    cr_assert_eq(cap_id_index(cap), i, "the id given is the slot's id");
    count[i]++;
}

Test(cap, iterate_and_drain)
{
    struct cap_table t;
    setup(&t, 16, 16);
    uint32_t id[10];
    for (uintptr_t i = 0; i < 10; i++) {
        struct cap_entry e = ent(i, IFACE_A);
        cr_assert_eq(cap_table_insert(&t, &e, &id[i]), CAP_OK);
    }
    cr_assert_eq(cap_table_remove(&t, id[4], NULL), CAP_OK);
    cr_assert_eq(cap_table_reserve(&t, id[7], NULL), CAP_OK);
    cr_assert_eq(cap_table_rx_reserve(&t, 2), CAP_OK);

    uint32_t cursor = 0, got_id, n = 0;
    struct cap_entry got;
    while (cap_table_next(&t, &cursor, &got_id, &got)) {
        uintptr_t i = n < 4 ? n : n < 6 ? n + 1 : n + 2; /* skips 4 (free) and 7 (reserved) */
        cr_assert_eq(got_id, id[i]);
        cr_assert(ent_eq(got, ent(i, IFACE_A)));
        n++;
    }
    cr_assert_eq(n, 8);
    cr_assert_not(cap_table_next(&t, &cursor, &got_id, NULL), "stays finished");

    /* Drain hands over live and reserved capabilities, each exactly once. */
    int seen[10] = {0};
    cr_assert_eq(cap_table_drain(&t, count_drained, seen), 9);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(seen[i], i == 4 ? 0 : 1, "object %d", i);
    cr_assert_eq(t.live, 0);
    cr_assert_eq(t.reserved, 0);
    cr_assert_eq(t.credit, 2, "credit belongs to whoever reserved it");
    for (int i = 0; i < 10; i++)
        cr_assert_neq(cap_table_lookup(&t, id[i], NULL), CAP_OK);
    cr_assert_eq(cap_table_drain(&t, NULL, NULL), 0);
    check(&t);
}

Test(cap, status_strings)
{
    cr_assert_str_eq(cap_status_str(CAP_OK), "ok");
    cr_assert_str_eq(cap_status_str(CAP_ERR_STALE), "stale capability id");
    cr_assert_str_eq(cap_status_str(CAP_ERR_QUOTA), "capability quota exhausted");
    cr_assert_str_eq(cap_status_str((enum cap_status)99), "unknown status");
    for (int s = CAP_OK; s <= CAP_ERR_INVALID; s++) {
        cr_assert_str_neq(cap_status_str((enum cap_status)s), "unknown status", "status %d", s);
        cr_assert_eq(cap_status_to_capos((enum cap_status)s) == 0, s == CAP_OK);
    }
}

/* ---- Randomized comparison against a reference model ---- */

#define MCAP    24
#define MOPS    4000
#define NTOKENS (MOPS + 1)

/* The model: what each index holds, by index (one capability per slot). */
struct model {
    bool used[MCAP];
    bool reserved[MCAP];
    uint32_t id[MCAP];
    struct cap_entry e[MCAP];
    uint16_t last_gen[MCAP]; /* newest generation ever issued per index */
    uint32_t credit;
    uint32_t nused;         /* live + reserved */
    uint8_t token[NTOKENS]; /* 0 never inserted, 1 in the table, 2 handed back */
};

static struct model m;

/* What the model says resolving id gives, before any state check. */
static enum cap_status model_resolve(const struct cap_table *t, uint32_t id)
{
    uint16_t i = cap_id_index(id);
    if (cap_id_generation(id) == 0)
        return CAP_ERR_BAD_ID;
    if (i >= t->capacity)
        return CAP_ERR_OUT_OF_RANGE;
    if (!m.used[i])
        return CAP_ERR_FREE_SLOT;
    return m.id[i] == id ? CAP_OK : CAP_ERR_STALE;
}

static enum cap_status model_room(const struct cap_table *t, uint32_t n)
{
    uint32_t used = m.nused + m.credit;
    if (used + n > t->quota)
        return CAP_ERR_QUOTA;
    return used + n > t->capacity ? CAP_ERR_FULL : CAP_OK;
}

/* A capability left the table: it must be the one the model holds there. */
static void model_handed_back(uint16_t i, struct cap_entry got)
{
    cr_assert(ent_eq(got, m.e[i]), "wrong contents handed back from slot %u", i);
    uintptr_t tok = ((uintptr_t)got.object - 0x1000) / 16;
    cr_assert_eq(m.token[tok], 1, "token %lu handed back twice", (unsigned long)tok);
    m.token[tok] = 2;
    m.used[i] = m.reserved[i] = false;
    m.nused--;
}

static void model_placed(uint32_t id, struct cap_entry e)
{
    uint16_t i = cap_id_index(id);
    cr_assert_not(m.used[i], "id %#x issued for an occupied slot", id);
    cr_assert_gt(cap_id_generation(id), m.last_gen[i], "id %#x issued twice", id);
    m.last_gen[i] = cap_id_generation(id);
    m.used[i] = true;
    m.reserved[i] = false;
    m.id[i] = id;
    m.e[i] = e;
    m.nused++;
    m.token[((uintptr_t)e.object - 0x1000) / 16] = 1;
}

/* Drain callback: each capability handed over must be the model's. */
static void model_drained(void *ctx, uint32_t id, const struct cap_entry *e)
{
    uint16_t i = cap_id_index(id);
    cr_assert(i < MCAP && m.used[i] && m.id[i] == id, "drain handed over unknown id %#x", id);
    model_handed_back(i, *e);
}

static uint32_t pick_id(const struct cap_table *t, const uint32_t *recent)
{
    uint16_t i = (uint16_t)rnd(MCAP);
    switch (rnd(6)) {
    case 0:
    case 1:
    case 2:
        return m.used[i] ? m.id[i] : recent[rnd(16)];
    case 3:
        return recent[rnd(16)]; /* often stale or freed */
    case 4:
        return cap_id_make((uint16_t)rnd(3), (uint16_t)(t->capacity - 2 + rnd(4)));
    default:
        return (uint32_t)rng;
    }
}

static void model_compare(const struct cap_table *t)
{
    check(t);
    uint32_t live = 0, reserved = 0;
    for (uint16_t i = 0; i < MCAP; i++) {
        live += m.used[i] && !m.reserved[i];
        reserved += m.reserved[i];
    }
    cr_assert_eq(t->live, live);
    cr_assert_eq(t->reserved, reserved);
    cr_assert_eq(t->credit, m.credit);
    uint32_t cursor = 0, id, seen = 0;
    struct cap_entry e;
    while (cap_table_next(t, &cursor, &id, &e)) {
        uint16_t i = cap_id_index(id);
        cr_assert(m.used[i] && !m.reserved[i] && m.id[i] == id, "unexpected live id %#x", id);
        cr_assert(ent_eq(e, m.e[i]));
        seen++;
    }
    cr_assert_eq(seen, live);
}

static void model_op(struct cap_table *t, uint32_t *recent, uintptr_t *next_token)
{
    uint32_t id = pick_id(t, recent), new_id = 0, n;
    uint16_t i = cap_id_index(id);
    enum cap_status exp = model_resolve(t, id);
    bool is_live = exp == CAP_OK && !m.reserved[i];
    struct cap_entry got = {0};
    struct cap_entry e = ent(*next_token, rnd(2) ? IFACE_A : IFACE_B);

    switch (rnd(12)) {
    case 0:
    case 1: /* insert */
        exp = model_room(t, 1);
        cr_assert_eq(cap_table_insert(t, &e, &new_id), exp);
        if (exp == CAP_OK) {
            model_placed(new_id, e);
            recent[rnd(16)] = new_id;
            ++*next_token;
        }
        break;
    case 2: /* remove */
        if (exp == CAP_OK && !is_live)
            exp = CAP_ERR_RESERVED;
        cr_assert_eq(cap_table_remove(t, id, &got), exp);
        if (exp == CAP_OK)
            model_handed_back(i, got);
        break;
    case 3: /* lookup */
        if (exp == CAP_OK && !is_live)
            exp = CAP_ERR_RESERVED;
        cr_assert_eq(cap_table_lookup(t, id, &got), exp);
        if (exp == CAP_OK)
            cr_assert(ent_eq(got, m.e[i]));
        break;
    case 4: /* typed lookup */
        if (exp == CAP_OK && !is_live)
            exp = CAP_ERR_RESERVED;
        if (exp == CAP_OK && m.e[i].interface_id != e.interface_id)
            exp = CAP_ERR_WRONG_INTERFACE;
        cr_assert_eq(cap_table_lookup_typed(t, id, e.interface_id, &got), exp);
        break;
    case 5: /* reserve */
        if (exp == CAP_OK && !is_live)
            exp = CAP_ERR_RESERVED;
        cr_assert_eq(cap_table_reserve(t, id, &got), exp);
        if (exp == CAP_OK) {
            cr_assert(ent_eq(got, m.e[i]));
            m.reserved[i] = true;
        }
        break;
    case 6: /* commit */
    case 7: /* rollback */
        if (exp == CAP_OK && is_live)
            exp = CAP_ERR_NOT_RESERVED;
        if (rnd(2)) {
            cr_assert_eq(cap_table_commit(t, id, &got), exp);
            if (exp == CAP_OK)
                model_handed_back(i, got);
        } else {
            cr_assert_eq(cap_table_rollback(t, id), exp);
            if (exp == CAP_OK)
                m.reserved[i] = false;
        }
        break;
    case 8: /* rx_reserve */
        n = rnd(5);
        exp = model_room(t, n);
        cr_assert_eq(cap_table_rx_reserve(t, n), exp);
        if (exp == CAP_OK)
            m.credit += n;
        break;
    case 9: /* rx_fill */
        exp = m.credit ? CAP_OK : CAP_ERR_NO_CREDIT;
        cr_assert_eq(cap_table_rx_fill(t, &e, &new_id), exp);
        if (exp == CAP_OK) {
            m.credit--;
            model_placed(new_id, e);
            recent[rnd(16)] = new_id;
            ++*next_token;
        }
        break;
    case 10: /* rx_cancel or rx_unfill */
        if (rnd(2)) {
            n = rnd(4);
            exp = n <= m.credit ? CAP_OK : CAP_ERR_NO_CREDIT;
            cr_assert_eq(cap_table_rx_cancel(t, n), exp);
            if (exp == CAP_OK)
                m.credit -= n;
        } else {
            if (exp == CAP_OK && !is_live)
                exp = CAP_ERR_RESERVED;
            cr_assert_eq(cap_table_rx_unfill(t, id, &got), exp);
            if (exp == CAP_OK) {
                model_handed_back(i, got);
                m.credit++;
            }
        }
        break;
    default: /* now and then, process exit */
        if (rnd(20) == 0) {
            uint32_t before = m.nused;
            cr_assert_eq(cap_table_drain(t, model_drained, NULL), before);
            cr_assert_eq(m.nused, 0);
        }
        break;
    }
}

Test(cap, random_ops_match_model)
{
    static const uint32_t quotas[] = {MCAP / 2, MCAP, MCAP + 7};
    for (uint64_t seed = 1; seed <= 24; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ull;
        struct cap_table t;
        setup(&t, MCAP, quotas[seed % 3]);
        memset(&m, 0, sizeof m);
        uint32_t recent[16] = {0};
        uintptr_t next_token = 1;
        for (int op = 0; op < MOPS; op++) {
            model_op(&t, recent, &next_token);
            model_compare(&t);
        }
        /* Nothing lost: every token inserted is either still in the table
         * (the drain hands it back now) or was handed back exactly once. */
        uint32_t left = m.nused;
        cr_assert_eq(cap_table_drain(&t, model_drained, NULL), left, "seed %lu", seed);
        cr_assert_eq(m.nused, 0);
        for (uintptr_t k = 1; k < next_token; k++)
            cr_assert_eq(m.token[k], 2, "seed %lu: token %lu lost", seed, (unsigned long)k);
        check(&t);
    }
}

/* ---- Multi-capability transfer with injected failures ---- */

#define XMAX     6
#define TCAP     16
#define INJECTED 100 /* not a cap_status: the simulated failure */

enum { COPY, MOVE };
struct xfer {
    uint32_t cap;
    int mode;
};

/* References the simulated kernel holds on each object: one per slot. */
static int refs[64];

static int tok(const struct cap_entry *e)
{
    return (int)(((uintptr_t)e->object - 0x1000) / 16);
}

/*
 * A transfer done the way the kernel must do it (see cap_table.h), with a
 * failure injected at step fail_at (-1: none). Every step that can fail is
 * a possible injection point; after the last one nothing can fail. Returns
 * CAP_OK, the table's error, or INJECTED; *steps counts the steps taken.
 */
static int transfer(struct cap_table *tx, struct cap_table *rx, const struct xfer *x, uint32_t n,
                    int fail_at, uint32_t *rx_ids, int *steps)
{
    struct cap_entry e[XMAX];
    uint32_t prepared = 0, filled = 0;
    int step = 0, rc = CAP_OK;
#define INJECT() (step++ == fail_at)
    for (; prepared < n; prepared++) {
        const struct xfer *d = &x[prepared];
        if (INJECT()) {
            rc = INJECTED;
            goto undo_prepared;
        }
        rc = d->mode == MOVE ? cap_table_reserve(tx, d->cap, &e[prepared])
                             : cap_table_lookup(tx, d->cap, &e[prepared]);
        if (rc != CAP_OK)
            goto undo_prepared;
        if (d->mode == COPY)
            refs[tok(&e[prepared])]++; /* the receiver's copy holds a reference */
    }
    if (INJECT()) {
        rc = INJECTED;
        goto undo_prepared;
    }
    rc = cap_table_rx_reserve(rx, n);
    if (rc != CAP_OK)
        goto undo_prepared;
    for (; filled < n; filled++) {
        if (INJECT()) { /* e.g. writing a result record to user memory faulted */
            rc = INJECTED;
            goto undo_filled;
        }
        cr_assert_eq(cap_table_rx_fill(rx, &e[filled], &rx_ids[filled]), CAP_OK);
    }
    if (INJECT()) {
        rc = INJECTED;
        goto undo_filled;
    }
    /* Point of no return: commits cannot fail. */
    for (uint32_t i = 0; i < n; i++)
        if (x[i].mode == MOVE)
            cr_assert_eq(cap_table_commit(tx, x[i].cap, NULL), CAP_OK);
    *steps = step;
    return CAP_OK;

undo_filled:
    for (uint32_t i = 0; i < filled; i++)
        cr_assert_eq(cap_table_rx_unfill(rx, rx_ids[i], NULL), CAP_OK);
    cr_assert_eq(cap_table_rx_cancel(rx, n), CAP_OK);
undo_prepared:
    for (uint32_t i = 0; i < prepared; i++) {
        if (x[i].mode == MOVE)
            cr_assert_eq(cap_table_rollback(tx, x[i].cap), CAP_OK);
        else
            refs[tok(&e[i])]--;
    }
    *steps = step;
    return rc;
#undef INJECT
}

/* Live (id, entry) pairs of a table, in index order. */
struct listing {
    uint32_t n, id[TCAP];
    struct cap_entry e[TCAP];
};

static struct listing list(const struct cap_table *t)
{
    struct listing l = {0};
    uint32_t cursor = 0;
    while (cap_table_next(t, &cursor, &l.id[l.n], &l.e[l.n]))
        l.n++;
    return l;
}

static bool listed(const struct listing *l, uint32_t id, const struct cap_entry *e)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->id[i] == id && ent_eq(l->e[i], *e))
            return true;
    return false;
}

/* Every object's reference count equals the slots naming it, across both
 * tables, and every object that started with a reference still has one. */
static void check_conservation(const struct cap_table *tx, const struct cap_table *rx, int ntok)
{
    struct listing a = list(tx), b = list(rx);
    int count[64] = {0};
    for (uint32_t i = 0; i < a.n; i++)
        count[tok(&a.e[i])]++;
    for (uint32_t i = 0; i < b.n; i++)
        count[tok(&b.e[i])]++;
    for (int k = 1; k < ntok; k++) {
        cr_assert_eq(count[k], refs[k], "object %d: %d slots, %d references", k, count[k], refs[k]);
        cr_assert_geq(count[k], 1, "object %d lost", k);
    }
    check(tx);
    check(rx);
    cr_assert_eq(tx->reserved, 0, "a sender slot left reserved");
    cr_assert_eq(rx->credit, 0, "receiver credit leaked");
    cr_assert_eq(cap_table_used(tx), tx->live);
    cr_assert_eq(cap_table_used(rx), rx->live);
}

/*
 * Run one scenario with a failure injected at every step in turn (each
 * time from the same starting state), then with none, and check the
 * all-or-nothing outcome. Returns the outcome without injection.
 */
static int run_scenario(struct cap_table *tx, struct cap_table *rx, const struct xfer *x,
                        uint32_t n, int ntok)
{
    struct cap_table tx0 = *tx, rx0 = *rx;
    struct cap_slot txs0[TCAP], rxs0[TCAP];
    int refs0[64];
    memcpy(txs0, tx->slots, sizeof txs0);
    memcpy(rxs0, rx->slots, sizeof rxs0);
    memcpy(refs0, refs, sizeof refs0);
    struct listing a0 = list(tx), b0 = list(rx);

    for (int fail_at = 0;; fail_at++) {
        *tx = tx0;
        *rx = rx0;
        memcpy(tx->slots, txs0, sizeof txs0);
        memcpy(rx->slots, rxs0, sizeof rxs0);
        memcpy(refs, refs0, sizeof refs0);
        uint32_t rx_ids[XMAX];
        int steps;
        int rc = transfer(tx, rx, x, n, fail_at, rx_ids, &steps);
        check_conservation(tx, rx, ntok);
        struct listing a = list(tx), b = list(rx);
        if (rc != CAP_OK) {
            /* Nothing happened: the sender is bit-for-bit as before, the
             * receiver holds exactly what it held. */
            cr_assert(memcmp(tx, &tx0, sizeof tx0) == 0);
            cr_assert(memcmp(tx->slots, txs0, sizeof txs0) == 0);
            cr_assert(memcmp(refs, refs0, sizeof refs0) == 0);
            cr_assert_eq(b.n, b0.n);
            for (uint32_t i = 0; i < b.n; i++)
                cr_assert(listed(&b0, b.id[i], &b.e[i]));
        } else {
            /* Everything happened: moved caps left the sender, every
             * descriptor landed in the receiver, nothing else changed. */
            uint32_t moved = 0;
            for (uint32_t i = 0; i < n; i++) {
                struct cap_entry got;
                cr_assert_eq(cap_table_lookup(rx, rx_ids[i], &got), CAP_OK);
                cr_assert(listed(&a0, x[i].cap, &got), "received what was sent");
                if (x[i].mode == MOVE) {
                    cr_assert_eq(cap_table_lookup(tx, x[i].cap, NULL), CAP_ERR_FREE_SLOT);
                    moved++;
                }
            }
            cr_assert_eq(a.n, a0.n - moved);
            for (uint32_t i = 0; i < a.n; i++)
                cr_assert(listed(&a0, a.id[i], &a.e[i]));
            cr_assert_eq(b.n, b0.n + n);
            for (uint32_t i = 0; i < b0.n; i++)
                cr_assert(listed(&b, b0.id[i], &b0.e[i]));
        }
        if (fail_at >= steps) /* the injection point was never reached */
            return rc;
        cr_assert_eq(rc, INJECTED, "step %d", fail_at);
    }
}

/* Sender with nsend caps (objects 1..nsend), receiver with nrecv (objects
 * after those) and the given quota. */
static int fill_tables(struct cap_table *tx, struct cap_table *rx, uint32_t *ids, int nsend,
                       int nrecv, uint32_t rx_quota)
{
    cr_assert_eq(cap_table_init(tx, slots, TCAP, TCAP), CAP_OK);
    cr_assert_eq(cap_table_init(rx, slots2, TCAP, rx_quota), CAP_OK);
    memset(refs, 0, sizeof refs);
    int k = 1;
    for (int i = 0; i < nsend; i++, k++) {
        struct cap_entry e = ent((uintptr_t)k, k % 2 ? IFACE_A : IFACE_B);
        cr_assert_eq(cap_table_insert(tx, &e, &ids[i]), CAP_OK);
        refs[k] = 1;
    }
    for (int i = 0; i < nrecv; i++, k++) {
        struct cap_entry e = ent((uintptr_t)k, IFACE_A);
        cr_assert_eq(cap_table_insert(rx, &e, NULL), CAP_OK);
        refs[k] = 1;
    }
    return k;
}

Test(cap, transfer_fixed_scenarios)
{
    struct cap_table tx, rx;
    uint32_t id[8];
    int ntok = fill_tables(&tx, &rx, id, 6, 2, 8);

    struct xfer ok[] = {{id[0], MOVE}, {id[1], COPY}, {id[2], MOVE}, {id[1], MOVE}};
    cr_assert_eq(run_scenario(&tx, &rx, ok, 4, ntok), CAP_OK);
    /* run_scenario leaves the successful outcome in place. */
    cr_assert_eq(tx.live, 3);
    cr_assert_eq(rx.live, 6);

    ntok = fill_tables(&tx, &rx, id, 6, 2, 8);
    struct xfer twice[] = {{id[0], MOVE}, {id[3], COPY}, {id[0], MOVE}};
    cr_assert_eq(run_scenario(&tx, &rx, twice, 3, ntok), CAP_ERR_RESERVED);
    struct xfer move_then_copy[] = {{id[4], MOVE}, {id[4], COPY}};
    cr_assert_eq(run_scenario(&tx, &rx, move_then_copy, 2, ntok), CAP_ERR_RESERVED);
    struct xfer bad[] = {{id[0], COPY}, {id[5] + 1, MOVE}};
    cr_assert_eq(run_scenario(&tx, &rx, bad, 2, ntok), CAP_ERR_FREE_SLOT);

    /* Receiver with room for 2 more: a 3-cap transfer fails as a whole. */
    ntok = fill_tables(&tx, &rx, id, 6, 2, 4);
    struct xfer big[] = {{id[0], MOVE}, {id[1], MOVE}, {id[2], COPY}};
    cr_assert_eq(run_scenario(&tx, &rx, big, 3, ntok), CAP_ERR_QUOTA);
    cr_assert_eq(run_scenario(&tx, &rx, big, 2, ntok), CAP_OK);
}

Test(cap, transfer_random_scenarios)
{
    int outcomes[INJECTED + 1] = {0};
    for (uint64_t seed = 1; seed <= 300; seed++) {
        rng = seed * 0x2545f4914f6cdd1dull;
        struct cap_table tx, rx;
        uint32_t id[8];
        int nsend = 1 + (int)rnd(8);
        int nrecv = (int)rnd(6);
        int ntok = fill_tables(&tx, &rx, id, nsend, nrecv, (uint32_t)nrecv + rnd(7));
        /* A few transfers in a row, each from the state the last left. */
        for (int round = 0; round < 3; round++) {
            struct xfer x[XMAX];
            uint32_t n = 1 + rnd(XMAX);
            for (uint32_t i = 0; i < n; i++) {
                x[i].cap = rnd(10) ? id[rnd((uint32_t)nsend)] : (uint32_t)rng;
                x[i].mode = rnd(2) ? MOVE : COPY;
            }
            int rc = run_scenario(&tx, &rx, x, n, ntok);
            outcomes[rc]++;
        }
    }
    /* The scenarios exercise success and each natural failure. */
    cr_assert_gt(outcomes[CAP_OK], 50);
    cr_assert_gt(outcomes[CAP_ERR_RESERVED], 10);
    cr_assert_gt(outcomes[CAP_ERR_QUOTA], 10);
    cr_assert_gt(outcomes[CAP_ERR_FREE_SLOT], 10);
}
