/*
 * A process's capability table. Pure, freestanding code with no allocation:
 * the caller supplies the slot array.
 *
 * A capability id is (generation << 16) | index. Generations run 1..65535
 * and skip 0 when they wrap, so the id 0 (and every id with generation 0) is
 * never valid. Removing a capability bumps its slot's generation, so an id
 * kept after RELEASE is rejected as stale rather than reaching whatever
 * lands in the slot next. Free slots are reused first-in first-out, which
 * makes a stale id stay stale for as long as possible.
 *
 * Slot states:
 *   FREE      on the free list;
 *   LIVE      holds a capability; lookups succeed;
 *   RESERVED  the source of a move in progress: still holds its capability
 *             and still counts against the quota, but cannot be looked up,
 *             removed or reserved again until cap_table_commit (slot freed)
 *             or cap_table_rollback (back to LIVE, unchanged).
 *
 * The receiving side of a transfer reserves *credit* instead of slots:
 * cap_table_rx_reserve(n) counts n slots against the quota (and against the
 * free slots) up front, so every later cap_table_rx_fill is guaranteed to
 * succeed. A multi-capability transfer is therefore:
 *
 *   for each descriptor: copy -> cap_table_lookup, move -> cap_table_reserve
 *   cap_table_rx_reserve(receiver, n)          (may fail: undo and stop)
 *   --- nothing below can fail ---
 *   for each descriptor: cap_table_rx_fill(receiver, entry, &new_id)
 *   for each move: cap_table_commit(sender, id)
 *
 * and on any failure before the fills: cap_table_rollback each reserved
 * move and cap_table_rx_cancel the credit. Nothing is lost, duplicated or
 * half-inserted. cap_table_rx_unfill exists for a failure after some fills
 * (e.g. writing the result records to user memory faults).
 *
 * Credit is a count, not a set of slots: each party that reserved credit
 * must remember how much it holds and fill or cancel exactly that.
 *
 * Not thread-safe, and it takes no lock: the kernel serialises every call
 * on a table (one CPU, and kernel code runs with interrupts off and is
 * never preempted). Threads and SMP will have to add a per-table lock.
 */
#ifndef CAPOS_LIB_CAP_TABLE_H
#define CAPOS_LIB_CAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_INDEX_BITS    16
#define CAP_INDEX_MASK    0xffffu
#define CAP_MAX_CAPACITY  65535u /* index 0xffff is the free-list terminator */
#define CAP_DEFAULT_QUOTA 256u   /* initial per-process profile */
#define CAP_ID_INVALID    0u     /* never issued */

static inline uint32_t cap_id_make(uint16_t generation, uint16_t index)
{
    return (uint32_t)generation << CAP_INDEX_BITS | index;
}
static inline uint16_t cap_id_index(uint32_t id)
{
    return (uint16_t)(id & CAP_INDEX_MASK);
}
static inline uint16_t cap_id_generation(uint32_t id)
{
    return (uint16_t)(id >> CAP_INDEX_BITS);
}

enum cap_status {
    CAP_OK = 0,
    CAP_ERR_BAD_ID,          /* generation 0: an id never issued (includes id 0) */
    CAP_ERR_OUT_OF_RANGE,    /* index beyond the table */
    CAP_ERR_FREE_SLOT,       /* nothing in that slot */
    CAP_ERR_STALE,           /* slot reused since this id was issued */
    CAP_ERR_WRONG_INTERFACE, /* typed lookup: different interface id */
    CAP_ERR_RESERVED,        /* slot is the source of a move in progress */
    CAP_ERR_NOT_RESERVED,    /* commit/rollback of a slot that is not reserved */
    CAP_ERR_QUOTA,           /* the table's slot quota is used up */
    CAP_ERR_FULL,            /* no free slot in the storage (quota above capacity) */
    CAP_ERR_NO_CREDIT,       /* rx fill/cancel beyond the reserved credit */
    CAP_ERR_INVALID,         /* NULL object, bad capacity, ... */
};

/* What a slot holds. The table never interprets flags or object. */
struct cap_entry {
    void *object;
    uint64_t interface_id; /* Cap'n Proto interface id */
    uint32_t flags;        /* the kernel's flags (client facet, not transferable, ...) */
};

enum cap_slot_state {
    CAP_SLOT_FREE = 0,
    CAP_SLOT_LIVE,
    CAP_SLOT_RESERVED,
};

/* Storage for one slot; the caller allocates an array of these. The fields
 * are private to cap_table.c. */
struct cap_slot {
    struct cap_entry entry;
    uint16_t generation; /* of the current id, or of the next one when FREE */
    uint16_t next_free;  /* free-list link when FREE */
    uint8_t state;       /* enum cap_slot_state */
};

struct cap_table {
    struct cap_slot *slots;
    uint32_t capacity;
    uint32_t quota;
    uint32_t live;     /* LIVE slots */
    uint32_t reserved; /* RESERVED slots */
    uint32_t credit;   /* rx_reserve'd slots not yet filled or cancelled */
    uint16_t free_head, free_tail;
};

/* Every slot free. capacity is 1..CAP_MAX_CAPACITY (CAP_ERR_INVALID
 * otherwise, and the table is left empty with capacity 0). */
enum cap_status cap_table_init(struct cap_table *t, struct cap_slot *slots, uint32_t capacity,
                               uint32_t quota);

/* Slots counted against the quota: live + reserved + credit. */
uint32_t cap_table_used(const struct cap_table *t);

/* Insert a capability; *id_out receives its id. CAP_ERR_QUOTA or
 * CAP_ERR_FULL leave the table unchanged. */
enum cap_status cap_table_insert(struct cap_table *t, const struct cap_entry *e, uint32_t *id_out);

/* Look up a LIVE capability. out may be NULL to only check the id. */
enum cap_status cap_table_lookup(const struct cap_table *t, uint32_t id, struct cap_entry *out);
/* The same, and CAP_ERR_WRONG_INTERFACE unless it implements interface_id. */
enum cap_status cap_table_lookup_typed(const struct cap_table *t, uint32_t id,
                                       uint64_t interface_id, struct cap_entry *out);

/* Remove a LIVE capability and return what it held (out may be NULL), so
 * the caller can drop its reference to the object. */
enum cap_status cap_table_remove(struct cap_table *t, uint32_t id, struct cap_entry *out);

/* ---- Move transactions, sender side ---- */

/* LIVE -> RESERVED; out receives the contents to insert in the receiver. */
enum cap_status cap_table_reserve(struct cap_table *t, uint32_t id, struct cap_entry *out);
/* RESERVED -> FREE: the move happened. out may be NULL. */
enum cap_status cap_table_commit(struct cap_table *t, uint32_t id, struct cap_entry *out);
/* RESERVED -> LIVE, unchanged: the move did not happen. */
enum cap_status cap_table_rollback(struct cap_table *t, uint32_t id);

/* ---- Receiver preflight ---- */

/* Count n more slots against the quota so that n rx_fills cannot fail.
 * CAP_ERR_QUOTA / CAP_ERR_FULL change nothing. n == 0 is a no-op. */
enum cap_status cap_table_rx_reserve(struct cap_table *t, uint32_t n);
/* Insert using one unit of credit. Fails only with CAP_ERR_NO_CREDIT or
 * CAP_ERR_INVALID (NULL object). */
enum cap_status cap_table_rx_fill(struct cap_table *t, const struct cap_entry *e, uint32_t *id_out);
/* Give back n units of unused credit. */
enum cap_status cap_table_rx_cancel(struct cap_table *t, uint32_t n);
/* Undo one rx_fill: remove the LIVE capability id and turn its slot back
 * into one unit of credit (cancel it afterwards with rx_cancel). */
enum cap_status cap_table_rx_unfill(struct cap_table *t, uint32_t id, struct cap_entry *out);

/* ---- Iteration and cleanup ---- */

/* Visit LIVE capabilities in index order: start with *cursor = 0; each call
 * that returns true stores the next id (and entry, if out is not NULL). */
bool cap_table_next(const struct cap_table *t, uint32_t *cursor, uint32_t *id_out,
                    struct cap_entry *out);

/* Process exit: free every LIVE and RESERVED slot, handing each one's id
 * and contents to fn (which drops the object reference). Returns how many.
 * Outstanding rx credit is left alone: it belongs to whoever reserved it,
 * and the kernel must not drain a table with a transfer in flight. */
typedef void (*cap_drain_fn)(void *ctx, uint32_t id, const struct cap_entry *e);
uint32_t cap_table_drain(struct cap_table *t, cap_drain_fn fn, void *ctx);

const char *cap_status_str(enum cap_status s);
/* The transport error (CAPOS_E_*) a cap_status becomes in a CQE; 0 for
 * CAP_OK. */
int cap_status_to_capos(enum cap_status s);

#endif
