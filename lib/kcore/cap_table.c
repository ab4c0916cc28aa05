/*
 * Capability table: generation-checked slots on a FIFO free list.
 *
 * Invariants (checked by tests/host/test_cap_table.c after every step):
 *  - the free list holds exactly the FREE slots, each once, and ends at
 *    free_tail; free_head == free_tail == NO_INDEX when it is empty;
 *  - live and reserved count the LIVE and RESERVED slots;
 *  - live + reserved + credit <= capacity, so credit always has free slots
 *    behind it; live + reserved + credit <= quota unless the caller lowered
 *    the quota (it never does today);
 *  - every slot's generation is non-zero.
 */
#include "kcore/cap_table.h"

/* The helpers every transfer runs several times: inlined into each entry
 * point, which costs some code and saves a call per lookup. */
#define CAP_HOT __attribute__((always_inline))

#include <capos/errors.h>

#define NO_INDEX 0xffffu

static uint16_t next_generation(uint16_t g)
{
    /* Skip 0 on wrap: generation 0 would make index 0's id equal 0. */
    return g == 0xffffu ? 1 : (uint16_t)(g + 1);
}

static inline CAP_HOT void free_list_push(struct cap_table *t, uint16_t i)
{
    t->slots[i].state = CAP_SLOT_FREE;
    t->slots[i].next_free = NO_INDEX;
    if (t->free_tail == NO_INDEX)
        t->free_head = i;
    else
        t->slots[t->free_tail].next_free = i;
    t->free_tail = i;
}

/* Caller has checked that a free slot exists. */
static inline CAP_HOT uint16_t free_list_pop(struct cap_table *t)
{
    uint16_t i = t->free_head;
    t->free_head = t->slots[i].next_free;
    if (t->free_head == NO_INDEX)
        t->free_tail = NO_INDEX;
    return i;
}

enum cap_status cap_table_init(struct cap_table *t, struct cap_slot *slots, uint32_t capacity,
                               uint32_t quota)
{
    t->slots = slots;
    t->capacity = 0;
    t->quota = quota;
    t->live = t->reserved = t->credit = 0;
    t->free_head = t->free_tail = NO_INDEX;
    if (!slots || capacity == 0 || capacity > CAP_MAX_CAPACITY)
        return CAP_ERR_INVALID;
    t->capacity = capacity;
    for (uint32_t i = 0; i < capacity; i++) {
        slots[i].entry = (struct cap_entry){0};
        slots[i].generation = 1;
        free_list_push(t, (uint16_t)i);
    }
    return CAP_OK;
}

uint32_t cap_table_used(const struct cap_table *t)
{
    return t->live + t->reserved + t->credit;
}

/* Can n more slots be counted against the table? */
static inline CAP_HOT enum cap_status room_for(const struct cap_table *t, uint32_t n)
{
    uint32_t used = cap_table_used(t);
    if (used > t->quota || n > t->quota - used)
        return CAP_ERR_QUOTA;
    if (n > t->capacity - used)
        return CAP_ERR_FULL;
    return CAP_OK;
}

/* Take a free slot (known to exist) and make it LIVE with e. */
static inline CAP_HOT uint32_t place(struct cap_table *t, const struct cap_entry *e)
{
    uint16_t i = free_list_pop(t);
    struct cap_slot *s = &t->slots[i];
    s->entry = *e;
    s->state = CAP_SLOT_LIVE;
    t->live++;
    return cap_id_make(s->generation, i);
}

/* Free a LIVE or RESERVED slot: bump its generation so old ids go stale. */
static inline CAP_HOT void vacate(struct cap_table *t, uint16_t i, struct cap_entry *out)
{
    struct cap_slot *s = &t->slots[i];
    if (out)
        *out = s->entry;
    s->entry = (struct cap_entry){0};
    s->generation = next_generation(s->generation);
    free_list_push(t, i);
}

enum cap_status cap_table_insert(struct cap_table *t, const struct cap_entry *e, uint32_t *id_out)
{
    if (!e || !e->object)
        return CAP_ERR_INVALID;
    enum cap_status st = room_for(t, 1);
    if (st != CAP_OK)
        return st;
    uint32_t id = place(t, e);
    if (id_out)
        *id_out = id;
    return CAP_OK;
}

/*
 * Resolve an id to a non-free slot with the right generation. The order of
 * checks makes every error precise: a malformed id, an index past the end,
 * an empty slot and a reused slot are different bugs in the caller.
 */
static inline CAP_HOT enum cap_status resolve(const struct cap_table *t, uint32_t id,
                                              struct cap_slot **out)
{
    uint16_t gen = cap_id_generation(id);
    uint16_t i = cap_id_index(id);
    if (gen == 0)
        return CAP_ERR_BAD_ID;
    if (i >= t->capacity)
        return CAP_ERR_OUT_OF_RANGE;
    struct cap_slot *s = &t->slots[i];
    if (s->state == CAP_SLOT_FREE)
        return CAP_ERR_FREE_SLOT;
    if (s->generation != gen)
        return CAP_ERR_STALE;
    *out = s;
    return CAP_OK;
}

/* resolve, and require a given state. */
static inline CAP_HOT enum cap_status resolve_in(const struct cap_table *t, uint32_t id,
                                                 uint8_t state, struct cap_slot **out)
{
    enum cap_status st = resolve(t, id, out);
    if (st != CAP_OK)
        return st;
    if ((*out)->state != state)
        return state == CAP_SLOT_LIVE ? CAP_ERR_RESERVED : CAP_ERR_NOT_RESERVED;
    return CAP_OK;
}

/* On every system call's path: inlined into each caller (at link time in
 * the kernel), which saves the fast path a call and, under TCG, the
 * lookup of its return after every CR3 write (docs/benchmarks.md,
 * session 12); hot where a copy stays out of line. */
inline __attribute__((hot, always_inline)) enum cap_status
cap_table_lookup(const struct cap_table *t, uint32_t id, struct cap_entry *out)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_LIVE, &s);
    if (st == CAP_OK && out)
        *out = s->entry;
    return st;
}

enum cap_status cap_table_lookup_typed(const struct cap_table *t, uint32_t id,
                                       uint64_t interface_id, struct cap_entry *out)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_LIVE, &s);
    if (st != CAP_OK)
        return st;
    if (s->entry.interface_id != interface_id)
        return CAP_ERR_WRONG_INTERFACE;
    if (out)
        *out = s->entry;
    return CAP_OK;
}

enum cap_status cap_table_remove(struct cap_table *t, uint32_t id, struct cap_entry *out)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_LIVE, &s);
    if (st != CAP_OK)
        return st;
    t->live--;
    vacate(t, cap_id_index(id), out);
    return CAP_OK;
}

/* ---- Move transactions ---- */

enum cap_status cap_table_reserve(struct cap_table *t, uint32_t id, struct cap_entry *out)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_LIVE, &s);
    if (st != CAP_OK)
        return st;
    s->state = CAP_SLOT_RESERVED;
    t->live--;
    t->reserved++;
    if (out)
        *out = s->entry;
    return CAP_OK;
}

enum cap_status cap_table_commit(struct cap_table *t, uint32_t id, struct cap_entry *out)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_RESERVED, &s);
    if (st != CAP_OK)
        return st;
    t->reserved--;
    vacate(t, cap_id_index(id), out);
    return CAP_OK;
}

enum cap_status cap_table_rollback(struct cap_table *t, uint32_t id)
{
    struct cap_slot *s;
    enum cap_status st = resolve_in(t, id, CAP_SLOT_RESERVED, &s);
    if (st != CAP_OK)
        return st;
    s->state = CAP_SLOT_LIVE;
    t->reserved--;
    t->live++;
    return CAP_OK;
}

/* ---- Receiver preflight ---- */

enum cap_status cap_table_rx_reserve(struct cap_table *t, uint32_t n)
{
    enum cap_status st = room_for(t, n);
    if (st == CAP_OK)
        t->credit += n;
    return st;
}

enum cap_status cap_table_rx_fill(struct cap_table *t, const struct cap_entry *e, uint32_t *id_out)
{
    if (!e || !e->object)
        return CAP_ERR_INVALID;
    if (t->credit == 0)
        return CAP_ERR_NO_CREDIT;
    /* The credit was counted in room_for, so a free slot exists. */
    t->credit--;
    uint32_t id = place(t, e);
    if (id_out)
        *id_out = id;
    return CAP_OK;
}

enum cap_status cap_table_rx_cancel(struct cap_table *t, uint32_t n)
{
    if (n > t->credit)
        return CAP_ERR_NO_CREDIT;
    t->credit -= n;
    return CAP_OK;
}

enum cap_status cap_table_rx_unfill(struct cap_table *t, uint32_t id, struct cap_entry *out)
{
    enum cap_status st = cap_table_remove(t, id, out);
    if (st == CAP_OK)
        t->credit++;
    return st;
}

/* ---- Iteration and cleanup ---- */

bool cap_table_next(const struct cap_table *t, uint32_t *cursor, uint32_t *id_out,
                    struct cap_entry *out)
{
    for (uint32_t i = *cursor; i < t->capacity; i++) {
        const struct cap_slot *s = &t->slots[i];
        if (s->state != CAP_SLOT_LIVE)
            continue;
        *cursor = i + 1;
        if (id_out)
            *id_out = cap_id_make(s->generation, (uint16_t)i);
        if (out)
            *out = s->entry;
        return true;
    }
    *cursor = t->capacity;
    return false;
}

uint32_t cap_table_drain(struct cap_table *t, cap_drain_fn fn, void *ctx)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->capacity; i++) {
        struct cap_slot *s = &t->slots[i];
        if (s->state == CAP_SLOT_FREE)
            continue;
        uint32_t id = cap_id_make(s->generation, (uint16_t)i);
        if (s->state == CAP_SLOT_LIVE)
            t->live--;
        else
            t->reserved--;
        struct cap_entry e;
        /* Free the slot before the callback, so that a callback which
         * ends up touching this table again sees a consistent one. */
        vacate(t, (uint16_t)i, &e);
        if (fn)
            fn(ctx, id, &e);
        n++;
    }
    return n;
}

const char *cap_status_str(enum cap_status s)
{
    switch (s) {
    case CAP_OK:
        return "ok";
    case CAP_ERR_BAD_ID:
        return "malformed capability id";
    case CAP_ERR_OUT_OF_RANGE:
        return "capability index out of range";
    case CAP_ERR_FREE_SLOT:
        return "no capability in slot";
    case CAP_ERR_STALE:
        return "stale capability id";
    case CAP_ERR_WRONG_INTERFACE:
        return "wrong interface";
    case CAP_ERR_RESERVED:
        return "capability is being moved";
    case CAP_ERR_NOT_RESERVED:
        return "capability is not reserved";
    case CAP_ERR_QUOTA:
        return "capability quota exhausted";
    case CAP_ERR_FULL:
        return "capability table full";
    case CAP_ERR_NO_CREDIT:
        return "no reserved receive slots";
    case CAP_ERR_INVALID:
        return "invalid argument";
    }
    return "unknown status";
}

int cap_status_to_capos(enum cap_status s)
{
    switch (s) {
    case CAP_OK:
        return CAPOS_OK;
    case CAP_ERR_BAD_ID:
    case CAP_ERR_OUT_OF_RANGE:
    case CAP_ERR_FREE_SLOT:
    case CAP_ERR_STALE:
        return CAPOS_E_BAD_CAP;
    case CAP_ERR_WRONG_INTERFACE:
        return CAPOS_E_WRONG_INTERFACE;
    case CAP_ERR_RESERVED:
        /* A CALL or RELEASE of a capability whose move has not finished
         * (it waits in an endpoint queue). Transfers that meet a reserved
         * slot (the same capability moved twice in one call) say
         * CAPOS_E_BAD_TRANSFER instead: kernel/xfer.c. */
        return CAPOS_E_MOVING;
    case CAP_ERR_QUOTA:
    case CAP_ERR_FULL:
        return CAPOS_E_NO_SPACE;
    case CAP_ERR_NOT_RESERVED:
    case CAP_ERR_NO_CREDIT:
    case CAP_ERR_INVALID:
        break; /* kernel bookkeeping bugs, not the caller's fault */
    }
    return CAPOS_E_INTERNAL;
}
