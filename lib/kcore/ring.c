/*
 * The kernel side of the capability ring. See ring.h for the contract and
 * docs/abi.md for the rules as userspace sees them.
 *
 * Memory ordering. Userspace and the kernel run concurrently on different
 * CPUs (a sibling thread of the process may touch the page while the kernel
 * works on it), so the page is accessed only with __atomic builtins:
 *   - sq_tail: acquire load; pairs with userspace's release store after it
 *     wrote the SQEs, so the slot words we copy are the ones it published.
 *   - SQ slot words: relaxed loads, each word once, after that acquire.
 *   - sq_head: release store after the copies, so userspace cannot reuse a
 *     slot (its acquire load of sq_head) before we finished reading it.
 *   - cq_head: acquire load; pairs with userspace's release store after it
 *     read the CQEs, so our later writes into those slots cannot race its
 *     reads.
 *   - CQ slot words: relaxed stores, then a release store of cq_tail that
 *     publishes them (userspace acquires cq_tail before reading).
 *   - status, cq_overflow_count: relaxed; advisory, publish nothing else.
 * On x86 all of these are plain movs (plus one locked or for status bits,
 * only on error paths); the orderings mainly keep the compiler honest.
 *
 * A hostile process may change any word at any time. That can only make
 * the kernel copy garbage (which validation rejects) or see an index it
 * treats as corruption; it can never make the kernel index outside the
 * page, since every slot index is masked.
 */
#include "kcore/ring.h"

#include <capos/errors.h>
#include <capos/layout.h>

#include "kcore/ring_opdef.h"

#define SQ_N CAPOS_SQ_ENTRIES
#define CQ_N CAPOS_CQ_ENTRIES

/* The copies are moved as whole words; these unions are how C lets us view
 * the same bytes as words and as fields. */
union sqe_words {
    struct capos_sqe s;
    uint64_t w[8];
};

union cqe_words {
    struct capos_cqe c;
    uint64_t w[4];
};

_Static_assert(sizeof(union sqe_words) == sizeof(struct capos_sqe), "SQE is 8 words");
_Static_assert(sizeof(union cqe_words) == sizeof(struct capos_cqe), "CQE is 4 words");
/* The NOP fast path reads opcode, flags, method and cap as word 0. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "x86_64 is little-endian");
_Static_assert(__builtin_offsetof(struct capos_sqe, cap) == 4, "word 0: opcode flags method cap");
/* check() skips word 5: user_data is every opcode's, whatever it holds. */
_Static_assert(__builtin_offsetof(struct capos_sqe, user_data) == 40, "word 5 is user_data");
_Static_assert((SQ_N & (SQ_N - 1)) == 0 && (CQ_N & (CQ_N - 1)) == 0,
               "ring sizes are powers of two, so masking free-running indices is exact");

static void raise_status(volatile struct capos_ring *r, uint32_t bit, uint32_t *events)
{
    *events |= bit;
    /* Relaxed: the status bits are advisory and publish no other data. */
    __atomic_fetch_or(&r->status, bit, __ATOMIC_RELAXED);
}

void ring_init(volatile struct capos_ring *r, struct ring_state *st)
{
    *st = (struct ring_state){0};
    /* Relaxed: the process cannot run yet; its first entry into user mode
     * is ordered after these stores by the context switch. */
    __atomic_store_n(&r->sq_head, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&r->cq_tail, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&r->status, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&r->cq_overflow_count, 0, __ATOMIC_RELAXED);
}

uint32_t ring_sq_pending(volatile struct capos_ring *r, struct ring_state *st, uint32_t *events)
{
    /* Acquire: pairs with userspace's release store of sq_tail; SQEs written
     * before it are visible to the slot loads that follow. Read once: every
     * decision below uses this one value. */
    uint32_t tail = __atomic_load_n(&r->sq_tail, __ATOMIC_ACQUIRE);
    /* Free-running u32 arithmetic: correct across the 2^32 wrap. A tail
     * behind the head wraps to a huge count and is caught here too. */
    uint32_t n = tail - st->sq_head;
    if (n <= SQ_N)
        return n;
    /* Corrupt: consume nothing, discard everything. The SQ reads as empty
     * from here on (head == tail); the process sees the status bit. */
    st->sq_head = tail;
    /* Release: like every sq_head store, after all our reads of the SQ. */
    __atomic_store_n(&r->sq_head, tail, __ATOMIC_RELEASE);
    raise_status(r, CAPOS_RING_SQ_CORRUPT, events);
    return 0;
}

/* ring_cq_ready's other way: userspace's head is outside what it may
 * have consumed. */
uint32_t ring_cq_corrupt(volatile struct capos_ring *r, struct ring_state *st, uint32_t head,
                         uint32_t *events)
{
    /* Treat the CQ as empty by moving our tail to its head. We write only
     * our own index, never the one userspace owns. */
    st->cq_head = head;
    st->cq_tail = head;
    /* Release: nothing new is published, but cq_tail is always released. */
    __atomic_store_n(&r->cq_tail, head, __ATOMIC_RELEASE);
    raise_status(r, CAPOS_RING_CQ_CORRUPT, events);
    return 0;
}

uint32_t ring_cq_space(volatile struct capos_ring *r, struct ring_state *st, uint32_t *events)
{
    uint32_t busy = ring_cq_ready(r, st, events) + st->cq_reserved;
    /* busy <= CQ_N by the invariant; the test keeps a kernel bug (say, a
     * reservation leak) from turning into an overwrite. */
    return busy < CQ_N ? CQ_N - busy : 0;
}

static inline uint64_t load_word(const volatile uint64_t *p)
{
    /* Relaxed: ordered after the acquire load of sq_tail. The producer may
     * still be scribbling; every check runs on the copy, never the page. */
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Copy words 1-7 of an SQ slot, each read once (word 0, the opcode's, is
 * read by the caller, which may decide on it first). Unrolled by hand:
 * the compiler will not unroll a loop of atomic loads. */
static inline void fetch_rest(const volatile uint64_t *slot, union sqe_words *u)
{
    u->w[1] = load_word(&slot[1]);
    u->w[2] = load_word(&slot[2]);
    u->w[3] = load_word(&slot[3]);
    u->w[4] = load_word(&slot[4]);
    u->w[5] = load_word(&slot[5]);
    u->w[6] = load_word(&slot[6]);
    u->w[7] = load_word(&slot[7]);
}

/* Copy SQ slot (index & mask), each word read once. */
static inline void fetch(const volatile struct capos_ring *r, uint32_t index, union sqe_words *u)
{
    const volatile uint64_t *slot = (const volatile uint64_t *)&r->sq[index & CAPOS_SQ_MASK];
    u->w[0] = load_word(&slot[0]);
    fetch_rest(slot, u);
}

void ring_fetch_sqe(const volatile struct capos_ring *r, uint32_t index, struct capos_sqe *out)
{
    union sqe_words u;
    fetch(r, index, &u);
    *out = u.s;
}

/* A user buffer: inside the user half, not NULL unless empty. Written so
 * that nothing can overflow: addr + len is never computed. This implies a
 * canonical (lower-half) address; mapping and permissions are checked later
 * by the kernel's user-copy helpers. */
static inline bool bad_buffer(uint64_t addr, uint64_t len)
{
    return addr > CAPOS_USER_LIMIT || len > CAPOS_USER_LIMIT - addr || (len != 0 && addr == 0);
}

/*
 * The validation rules (docs/abi.md, rule 6), from the opcode's row
 * (ring_opdef.h), in their order: the first failure is the SQE's error.
 * This is the definition; check() below only adds a faster way to say yes.
 */
__attribute__((noinline, cold)) static int32_t check_exact(const union sqe_words *u)
{
    const struct capos_sqe *s = &u->s;
    const struct ring_opdef *d = ring_opdef(s->opcode);
    if (!d)
        return CAPOS_E_BAD_OPCODE;
    if (d->reserved)
        return CAPOS_E_RESERVED_OPCODE;
    /* Fields the opcode does not use must be 0, so that they can be given a
     * meaning later without old binaries sending garbage in them; so must
     * reserved and the flags it does not take. */
    const uint64_t *z = d->check.zero;
    if ((u->w[0] & z[0]) | (u->w[1] & z[1]) | (u->w[2] & z[2]) | (u->w[3] & z[3]) |
        (u->w[4] & z[4]) | (u->w[6] & z[6]) | (u->w[7] & z[7]))
        return CAPOS_E_BAD_FLAGS;
    /* An inline descriptor is exactly one (the opcode took the flag, so it
     * uses xfer_count). */
    bool xfer_inline = s->flags & CAPOS_SQE_F_XFER_INLINE;
    if (xfer_inline && s->xfer_count != 1)
        return CAPOS_E_BAD_FLAGS;
    /* Unused lengths are 0 by now, so one test per field covers all opcodes. */
    if (s->params_len > CAPOS_MAX_PARAMS_LEN || s->result_len > CAPOS_MAX_RESULT_LEN ||
        s->xfer_count > CAPOS_MAX_XFER)
        return CAPOS_E_TOO_LARGE;
    /* An inline descriptor's word is not an address. */
    if (bad_buffer(s->params_addr, s->params_len) || bad_buffer(s->result_addr, s->result_len) ||
        (!xfer_inline &&
         bad_buffer(s->xfer_addr, (uint64_t)s->xfer_count * sizeof(struct capos_xfer))))
        return CAPOS_E_BAD_ADDRESS;
    /* Cap'n Proto interface ids are never 0; the kernel issues call ids from 1. */
    if ((d->required & RING_F_INTERFACE) && s->interface_id == 0)
        return CAPOS_E_WRONG_INTERFACE;
    if ((d->required & RING_F_CALL_ID) && s->call_id == 0)
        return CAPOS_E_BAD_CALL_ID;
    return CAPOS_OK;
}

/* A buffer in [0, end), not at NULL unless empty. For len within the
 * row's max_len, end - len cannot wrap: a used buffer's end
 * (CAPOS_USER_LIMIT) is far above its limit, and an unused one has end 0
 * and len 0, which leaves only address 0. addr is tested before len: a
 * buffer a CALL passes is usually there, and one test settles it. */
static inline bool buffer_ok(uint64_t addr, uint64_t len, uint64_t end)
{
    return addr <= end - len && (addr != 0 || len == 0);
}

/*
 * check_exact()'s answer, on the path every CALL takes: whether the SQE is
 * valid is decided from the row's derived limits (struct ring_opcheck) in
 * one pass without branching per opcode; only an invalid SQE goes to
 * check_exact() to learn which error it gets. The words 2, 3, 4 and 7
 * (addresses and lengths) need no mask: the limits of an unused buffer
 * are 0. The order of the tests does not change the answer; this one
 * compiles to the fewest instructions on CALL (docs/benchmarks.md). An
 * inline transfer descriptor (CAPOS_SQE_F_XFER_INLINE) is not an address:
 * only its count is tested (of the two ways to say so, the fewest
 * instructions on the moved capability's round trip). Accepting exactly the SQEs
 * check_exact() accepts is tested (tests/host/test_ring.c:
 * random_entries_agree_with_ring_check_sqe, opdef_rows_decide_fields_and_flags).
 */
__attribute__((always_inline)) static inline int32_t check_row(const union sqe_words *u,
                                                               const struct ring_opdef *d)
{
    const struct capos_sqe *s = &u->s;
    const struct ring_opcheck *c = &d->check;
    if (d->valid &&
        ((u->w[0] & c->zero[0]) | (u->w[1] & c->zero[1]) | (u->w[6] & c->zero[6])) == 0 &&
        (s->interface_id | c->interface_optional) != 0 && (s->call_id | c->call_id_optional) != 0 &&
        s->params_len <= c->max_len[RING_BUF_PARAMS] &&
        s->result_len <= c->max_len[RING_BUF_RESULT] &&
        s->xfer_count <= c->max_len[RING_BUF_XFER] &&
        buffer_ok(s->params_addr, s->params_len, c->end[RING_BUF_PARAMS]) &&
        buffer_ok(s->result_addr, s->result_len, c->end[RING_BUF_RESULT]) &&
        (s->flags & CAPOS_SQE_F_XFER_INLINE
             ? s->xfer_count == 1
             : buffer_ok(s->xfer_addr, (uint64_t)s->xfer_count * sizeof(struct capos_xfer),
                         c->end[RING_BUF_XFER])))
        return CAPOS_OK;
    return check_exact(u);
}

__attribute__((always_inline)) static inline int32_t check(const union sqe_words *u)
{
    if (u->s.opcode >= CAPOS_OP_COUNT)
        return CAPOS_E_BAD_OPCODE;
    return check_row(u, &ring_opdefs[u->s.opcode]);
}

int32_t ring_check_sqe(const struct capos_sqe *sqe)
{
    /* The definition, not the fast path: the tests compare the two. */
    union sqe_words u = {.s = *sqe};
    return check_exact(&u);
}

/* Write a CQE, given as its four words, into the next slot and publish it.
 * The caller has made sure the slot is free. */
static inline void cq_store(volatile struct capos_ring *r, struct ring_state *st, uint64_t w0,
                            uint64_t w1, uint64_t w2, uint64_t w3)
{
    uint32_t tail = st->cq_tail;
    volatile uint64_t *slot = (volatile uint64_t *)&r->cq[tail & CAPOS_CQ_MASK];
    /* Relaxed: made visible by the release store of cq_tail below. */
    __atomic_store_n(&slot[0], w0, __ATOMIC_RELAXED);
    __atomic_store_n(&slot[1], w1, __ATOMIC_RELAXED);
    __atomic_store_n(&slot[2], w2, __ATOMIC_RELAXED);
    __atomic_store_n(&slot[3], w3, __ATOMIC_RELAXED);
    st->cq_tail = tail + 1;
    /* Release: the CQE words above happen before userspace can see the new
     * tail (it loads cq_tail with acquire before reading the entry). */
    __atomic_store_n(&r->cq_tail, tail + 1, __ATOMIC_RELEASE);
}

static inline void cq_write(volatile struct capos_ring *r, struct ring_state *st,
                            const struct capos_cqe *cqe)
{
    union cqe_words u = {.c = *cqe};
    cq_store(r, st, u.w[0], u.w[1], u.w[2], u.w[3]);
}

bool ring_post_cqe(volatile struct capos_ring *r, struct ring_state *st,
                   const struct capos_cqe *cqe)
{
    uint32_t events = 0;
    if (ring_cq_space(r, st, &events) == 0)
        return false;
    cq_write(r, st, cqe);
    return true;
}

bool ring_post_reserved(volatile struct capos_ring *r, struct ring_state *st,
                        const struct capos_cqe *cqe)
{
    if (st->cq_reserved == 0)
        return false;
    /* The reservation becomes the slot. Judged on our own state alone:
     * tail - (last accepted head) + reserved <= CQ_N holds at all times
     * (the head only moves forward, which frees slots), so the slot at
     * tail is free without reading the page's cq_head; the test keeps a
     * kernel bug from turning into an overwrite. */
    if (st->cq_tail - st->cq_head + st->cq_reserved > CQ_N)
        return false;
    st->cq_reserved--;
    cq_write(r, st, cqe);
    return true;
}

void ring_cancel_reserved(struct ring_state *st)
{
    if (st->cq_reserved > 0)
        st->cq_reserved--;
}

static void cq_full(volatile struct capos_ring *r, struct ring_state *st, uint32_t *events)
{
    st->cq_full_count++;
    /* Relaxed: a statistic for userspace; publishes nothing else. */
    __atomic_store_n(&r->cq_overflow_count, st->cq_full_count, __ATOMIC_RELAXED);
    raise_status(r, CAPOS_RING_CQ_FULL, events);
}

/*
 * Whether the SQE in `slot` may take a CQ slot now (the slow path of
 * ring_process's room check, out of line so that the common path stays
 * short): any free slot for a control opcode, one beyond the
 * RING_CONTROL_SLOTS kept back for anything else. The opcode is read here
 * and again when the SQE is copied; a process that changes it in between
 * can only let a non-control SQE of its own take a kept slot of its own
 * ring. Posted plus reserved never exceed the CQ either way.
 */
__attribute__((noinline, cold)) static bool cq_room_for(volatile struct capos_ring *r,
                                                        struct ring_state *st,
                                                        const volatile uint64_t *slot,
                                                        uint32_t *events)
{
    uint32_t free = ring_cq_space(r, st, events);
    if (free > RING_CONTROL_SLOTS)
        return true;
    uint8_t opcode = (uint8_t)load_word(&slot[0]);
    return free > 0 && opcode < CAPOS_OP_COUNT && ring_opdefs[opcode].control;
}

/*
 * The fast path's view of the SQ (docs/ipc.md, "Fast path"): the one SQE
 * ring_process would hand its handler next, when it is the only one
 * waiting, one of `opcodes`, valid, and allowed a CQ slot by ring_process's rule (a non-control
 * opcode leaves RING_CONTROL_SLOTS free). Judged on the last accepted cq_head alone: a CQ that only
 * looks nearly full goes to the general path, which reads the page again. The opcode is read first,
 * so that another costs little before the general path takes it. Nothing is consumed; the copy is
 * the kernel's, each word read once, like ring_process's, so what userspace writes later changes
 * nothing.
 */
bool ring_peek_single(volatile struct capos_ring *r, struct ring_state *st, uint32_t opcodes,
                      struct capos_sqe *out)
{
    return ring_cq_has_room(st) && ring_peek_sq(r, st, opcodes, out);
}

bool ring_peek_sq(volatile struct capos_ring *r, const struct ring_state *st, uint32_t opcodes,
                  struct capos_sqe *out)
{
    /* Acquire: as in ring_sq_pending. A corrupt tail is not 1 ahead: the
     * general path finds and reports it. */
    uint32_t tail = __atomic_load_n(&r->sq_tail, __ATOMIC_ACQUIRE);
    if (tail - st->sq_head != 1)
        return false;
    const volatile uint64_t *slot = (const volatile uint64_t *)&r->sq[st->sq_head & CAPOS_SQ_MASK];
    /* Straight into *out (a union member's type may alias the union):
     * no second copy. */
    union sqe_words *u = (union sqe_words *)out;
    u->w[0] = load_word(&slot[0]);
    /* NOP is never taken: ring_process completes it itself. */
    if (u->s.opcode >= 32 || !((opcodes & ~(1u << CAPOS_OP_NOP)) >> u->s.opcode & 1))
        return false;
    fetch_rest(slot, u);
    /* The rows of the fast path's two opcodes by their constant index, so
     * that link-time optimisation folds their limits into the code: about
     * 20 instructions fewer per entry than loading them. */
    switch (u->s.opcode) {
    case CAPOS_OP_CALL:
        return check_row(u, &ring_opdefs[CAPOS_OP_CALL]) == CAPOS_OK;
    case CAPOS_OP_RETURN_RECV:
        return check_row(u, &ring_opdefs[CAPOS_OP_RETURN_RECV]) == CAPOS_OK;
    default:
        return check(u) == CAPOS_OK;
    }
}

void ring_consume_deferred(volatile struct capos_ring *r, struct ring_state *st)
{
    /* ring_issue_peeked with a handler that answers RING_DEFER, without
     * the handler (the host tests compare the two). */
    st->cq_reserved++;
    st->sq_head++;
    __atomic_store_n(&r->sq_head, st->sq_head, __ATOMIC_RELEASE);
}

enum ring_action ring_issue_peeked(volatile struct capos_ring *r, struct ring_state *st,
                                   const struct capos_sqe *sqe, ring_handler handler, void *ctx)
{
    /* ring_process's loop body for one valid entry: the CQ slot reserved
     * while the handler runs, then posted, kept for a deferral, or given
     * back (RING_STOP: the entry stays queued). */
    struct capos_cqe cqe = {.user_data = sqe->user_data};
    st->cq_reserved++;
    enum ring_action a = handler(ctx, sqe, &cqe);
    if (a != RING_DEFER) {
        st->cq_reserved--;
        if (a == RING_STOP)
            return a;
        cqe.user_data = sqe->user_data;
        cq_write(r, st, &cqe);
    }
    st->sq_head++;
    /* Release: after the copy ring_peek_single made. */
    __atomic_store_n(&r->sq_head, st->sq_head, __ATOMIC_RELEASE);
    return a;
}

struct ring_counts ring_process(volatile struct capos_ring *r, struct ring_state *st, uint32_t max,
                                ring_handler handler, void *ctx)
{
    struct ring_counts c = {0};
    uint32_t n = ring_sq_pending(r, st, &c.events);
    uint32_t todo = n < max ? n : max;
    uint32_t head = st->sq_head;

    for (uint32_t i = 0; i < todo; i++) {
        /* Each entry takes one CQ slot (posted or reserved), and only a
         * control opcode may take the last RING_CONTROL_SLOTS. Judge by the
         * last accepted cq_head first, which is safe (it only lags), and
         * re-read the page only when that says nearly full: userspace may
         * have reaped meanwhile. Computed from *st every time, so
         * completions a handler posted itself (ring_post_cqe,
         * ring_post_reserved) count. Nothing consumed: the SQE stays. */
        const volatile uint64_t *slot = (const volatile uint64_t *)&r->sq[head & CAPOS_SQ_MASK];
        if (st->cq_tail - st->cq_head + st->cq_reserved >= CQ_N - RING_CONTROL_SLOTS &&
            !cq_room_for(r, st, slot, &c.events)) {
            cq_full(r, st, &c.events);
            break;
        }
        /* Copy the slot into locals (registers, mostly): the fast path
         * below never needs it in memory. */
        uint64_t w0 = load_word(&slot[0]), w1 = load_word(&slot[1]);
        uint64_t w2 = load_word(&slot[2]), w3 = load_word(&slot[3]);
        uint64_t w4 = load_word(&slot[4]), w5 = load_word(&slot[5]);
        uint64_t w6 = load_word(&slot[6]), w7 = load_word(&slot[7]);
        head++;
        /* Fast path: a NOP with every other field but user_data zero is
         * exactly what check() accepts for NOP (its row takes no field and
         * no flag; host-ring checks that); its CQE is user_data and zeros.
         * Anything else, including a bad NOP, takes the slow path. */
        if (w0 == CAPOS_OP_NOP && (w1 | w2 | w3 | w4 | w6 | w7) == 0) {
            cq_store(r, st, w5, 0, 0, 0);
            c.posted++;
            continue;
        }
        union sqe_words u = {.w = {w0, w1, w2, w3, w4, w5, w6, w7}};
        struct capos_cqe cqe = {.user_data = u.s.user_data};
        /* A RELEASE of cap with every other field zero is exactly what its
         * row accepts (it uses cap alone; host-ring checks that): skip the
         * general check, which costs a RELEASE 20 instructions more. */
        int32_t err = (uint32_t)w0 == CAPOS_OP_RELEASE && (w1 | w2 | w3 | w4 | w6 | w7) == 0
                          ? CAPOS_OK
                          : check(&u);
        if (err != CAPOS_OK) {
            cqe.result = err;
            c.invalid++;
        } else {
            /* The slot checked above is this SQE's: reserve it while the
             * handler runs, so that completions the handler posts itself
             * cannot take it. A deferral simply keeps the reservation. */
            st->cq_reserved++;
            enum ring_action a = handler(ctx, &u.s, &cqe);
            if (a == RING_DEFER) {
                c.deferred++;
                continue;
            }
            st->cq_reserved--;
            if (a == RING_STOP) {
                head--; /* not consumed after all */
                break;
            }
            cqe.user_data = u.s.user_data; /* the echo is the ABI's, not the handler's */
        }
        cq_write(r, st, &cqe);
        c.posted++;
    }

    c.consumed = head - st->sq_head;
    c.left = n - c.consumed;
    if (c.consumed != 0) {
        st->sq_head = head;
        /* Release: all copies of the consumed slots are done before
         * userspace can see them free. One store per batch. */
        __atomic_store_n(&r->sq_head, head, __ATOMIC_RELEASE);
    }
    return c;
}
