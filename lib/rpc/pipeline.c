/*
 * Promise pipelining. A call may name a capability inside the results of a
 * question that has not been answered yet (a PromisedAnswer: the question
 * and a path of pointer fields). Such a call waits here, in the deferred
 * queue, until the answer is returned; then it goes to the capability the
 * path names.
 *
 * An answer does not keep its results message. When it is returned, the
 * paths to every capability reachable through struct pointer fields (the
 * only thing a path can follow) are recorded, up to RPC_PATH_MAX fields
 * deep and RPC_PIPE_PATHS capabilities; a path beyond that is refused with
 * an exception naming the limit.
 */
#include <string.h>

#include "rpc/internal.h"

/* Work bound on one walk: pointers looked at. */
#define WALK_BUDGET 256

static void walk(struct rpc_answer *a, struct capn_ptr p, struct rpc_path *path, uint32_t *budget)
{
    if (*budget == 0)
        return;
    (*budget)--;
    enum capn_ptype t = capn_ptr_type(p);
    if (t == CAPN_PT_CAP) {
        uint32_t idx;
        if (capn_ptr_cap(p, &idx) && idx < a->ncaps && a->npaths < RPC_PIPE_PATHS) {
            a->paths[a->npaths] = *path;
            a->paths[a->npaths].cap = (uint8_t)idx;
            a->npaths++;
        }
        return;
    }
    if (t != CAPN_PT_STRUCT || path->len >= RPC_PATH_MAX)
        return;
    struct capn_struct s = capn_ptr_struct(p, NULL);
    for (uint32_t i = 0; i<s.nptrs && * budget> 0; i++) {
        path->op[path->len++] = (uint16_t)i;
        walk(a, capn_struct_ptr(&s, i), path, budget);
        path->len--;
    }
}

void rpc_paths_collect(struct rpc_answer *a, struct capn_ptr content)
{
    struct rpc_path path = {0};
    uint32_t budget = WALK_BUDGET;
    a->npaths = 0;
    walk(a, content, &path, &budget);
}

uint32_t rpc_paths_resolve(const struct rpc_answer *a, PromisedAnswer_r pa, const char **why)
{
    struct rpc_path want = {0};
    List_PromisedAnswer_Op_r ops = PromisedAnswer_get_transform(pa);
    uint32_t n = List_PromisedAnswer_Op_len(ops);
    for (uint32_t i = 0; i < n; i++) {
        PromisedAnswer_Op_r op = List_PromisedAnswer_Op_get(ops, i);
        switch (PromisedAnswer_Op_which(op)) {
        case PromisedAnswer_Op_which_noop:
            break;
        case PromisedAnswer_Op_which_getPointerField:
            if (want.len >= RPC_PATH_MAX) {
                *why = "the path is longer than 4 pointer fields, the pipelining limit";
                return RPC_NO_CAP;
            }
            want.op[want.len++] = PromisedAnswer_Op_get_getPointerField(op);
            break;
        default:
            *why = "the path has an unknown transform operation";
            return RPC_NO_CAP;
        }
    }
    for (uint32_t i = 0; i < a->npaths; i++) {
        const struct rpc_path *p = &a->paths[i];
        if (p->len == want.len && memcmp(p->op, want.op, want.len * sizeof(want.op[0])) == 0) {
            if (a->caps[p->cap] == RPC_NO_CAP)
                break;
            return a->caps[p->cap];
        }
    }
    *why = "the results have no capability at that path";
    return RPC_NO_CAP;
}

/*
 * The queue: records of a header and the call's framed message, padded to
 * words, in arrival order. Only calls whose promise is still unanswered are
 * in it at a message boundary, so a later call on the same promise can
 * never overtake an earlier one.
 */
struct defer_hdr {
    uint32_t len;        /* frame bytes */
    uint32_t slot;       /* the deferred call's own answer */
    uint32_t qid;        /* its question id (the slot may be reused) */
    uint32_t target_qid; /* the promise it waits for */
};

static uint32_t rec_size(uint32_t len)
{
    return (uint32_t)sizeof(struct defer_hdr) + ((len + 7) & ~7u);
}

bool rpc_defer_push(struct rpc_conn *c, const struct rpc_answer *a, uint32_t target_qid,
                    const uint8_t *frame, size_t len)
{
    if (len > sizeof(c->defer) || rec_size((uint32_t)len) > sizeof(c->defer) - c->defer_len)
        return false;
    uint8_t *at = (uint8_t *)c->defer + c->defer_len;
    struct defer_hdr h = {(uint32_t)len, (uint32_t)(a - c->answers), a->qid, target_qid};
    memcpy(at, &h, sizeof(h));
    memcpy(at + sizeof(h), frame, len);
    c->defer_len += rec_size((uint32_t)len);
    c->stats.deferred++;
    return true;
}

static void remove_rec(struct rpc_conn *c, uint32_t off)
{
    uint8_t *base = (uint8_t *)c->defer;
    struct defer_hdr h;
    memcpy(&h, base + off, sizeof(h));
    uint32_t sz = rec_size(h.len);
    memmove(base + off, base + off + sz, c->defer_len - off - sz);
    c->defer_len -= sz;
}

/* A deferred call's answer got a Finish and a Return: forget the call. */
void rpc_defer_drop(struct rpc_conn *c, const struct rpc_answer *a)
{
    uint8_t *base = (uint8_t *)c->defer;
    for (uint32_t off = 0; off < c->defer_len;) {
        struct defer_hdr h;
        memcpy(&h, base + off, sizeof(h));
        if (h.slot == (uint32_t)(a - c->answers) && h.qid == a->qid) {
            remove_rec(c, off);
            return;
        }
        off += rec_size(h.len);
    }
}

/* Deliver, in order, every deferred call whose promise has been answered;
 * repeat while that answers more (a chain of pipelined calls). */
void rpc_defer_replay(struct rpc_conn *c)
{
    uint8_t *base = (uint8_t *)c->defer;
    bool progress = true;
    c->replay = false;
    while (progress && c->state == RPC_OPEN) {
        progress = false;
        for (uint32_t off = 0; off < c->defer_len && c->state == RPC_OPEN;) {
            struct defer_hdr h;
            memcpy(&h, base + off, sizeof(h));
            struct rpc_answer *target = rpc_answer_find(c, h.target_qid);
            if (target != NULL && target->state == RPC_ANS_PENDING) {
                off += rec_size(h.len);
                continue;
            }
            struct rpc_answer *a = &c->answers[h.slot];
            if (a->state == RPC_ANS_PENDING && a->waiting && a->qid == h.qid) {
                a->waiting = false;
                /* The frame is read in place: records are only appended
                 * while it runs, and it is removed after. */
                const uint8_t *frame = base + off + sizeof(h);
                struct capn_seg segs[RPC_MAX_SEGS];
                struct capn_msg m;
                if (capn_msg_read(&m, segs, RPC_MAX_SEGS, frame, h.len, NULL) == CAPN_OK) {
                    m.read_left = c->lim.traversal;
                    m.nest_limit = c->lim.nest;
                    Message_r msg = Message_read_root(&m);
                    c->busy++;
                    rpc_run_call(c, a, frame, h.len, Message_get_call(msg));
                    c->busy--;
                }
            }
            remove_rec(c, off);
            progress = true;
        }
    }
}
