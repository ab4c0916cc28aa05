/*
 * A connection: the byte stream cut into messages (with the size limits
 * checked on the segment table, before the body arrives), and each message
 * dispatched by type. Protocol violations end the connection with an
 * Abort that says what was wrong; a bad call gets an exception instead.
 */
#include <string.h>

#include "rpc/internal.h"
#include "text/fmt.h"

void rpc_limits_default(struct rpc_limits *l)
{
    l->max_msg = RPC_MSG_MAX;
    l->max_segs = RPC_MAX_SEGS;
    l->answers = RPC_ANSWERS;
    l->exports = RPC_EXPORTS;
    l->imports = RPC_IMPORTS;
    l->traversal = RPC_TRAVERSAL;
    l->nest = RPC_NEST;
}

static uint32_t at_most(uint32_t v, uint32_t cap)
{
    return v < cap ? v : cap;
}

void rpc_conn_init(struct rpc_conn *c, const struct rpc_host *host, const struct rpc_limits *lim)
{
    memset(c, 0, offsetof(struct rpc_conn, in));
    c->host = *host;
    rpc_limits_default(&c->lim);
    if (lim != NULL) {
        c->lim.max_msg = at_most(lim->max_msg, RPC_MSG_MAX);
        c->lim.max_segs = at_most(lim->max_segs, RPC_MAX_SEGS);
        c->lim.answers = at_most(lim->answers, RPC_ANSWERS);
        c->lim.exports = at_most(lim->exports, RPC_EXPORTS);
        c->lim.imports = at_most(lim->imports, RPC_IMPORTS);
        c->lim.traversal = lim->traversal;
        c->lim.nest = lim->nest < CAPN_NESTING_LIMIT ? lim->nest : CAPN_NESTING_LIMIT;
    }
}

static void handle_finish(struct rpc_conn *c, Finish_r f)
{
    uint32_t qid = Finish_get_questionId(f);
    struct rpc_answer *a = rpc_answer_find(c, qid);
    if (a == NULL) {
        rpc_abort(c, "Finish for question %u, which is not an outstanding question", qid);
        return;
    }
    if (a->state == RPC_ANS_PENDING) {
        /* Cancelled: the Return still comes, as `canceled`, when the host
         * answers; a call still waiting for its promise is never made. */
        a->finished = true;
        if (a->waiting) {
            rpc_defer_drop(c, a);
            a->waiting = false;
            rpc_send_exception(c, a, RPC_EXC_FAILED, "canceled before it was delivered");
        }
        return;
    }
    if (Finish_get_releaseResultCaps(f)) {
        for (uint32_t i = 0; i < a->ncaps; i++) {
            struct rpc_export *e = rpc_export_get(c, a->caps[i]);
            if (e != NULL && e->remote == 0) {
                rpc_abort(c,
                          "Finish for question %u releases export %u, which the peer "
                          "no longer holds",
                          qid, a->caps[i]);
                return;
            }
        }
        for (uint32_t i = 0; i < a->ncaps; i++)
            if (a->caps[i] != RPC_NO_CAP)
                rpc_export_drop(c, a->caps[i], 1, 0);
    }
    rpc_answer_free(c, a);
}

static void handle_release(struct rpc_conn *c, Release_r r)
{
    uint32_t id = Release_get_id(r), n = Release_get_referenceCount(r);
    struct rpc_export *e = rpc_export_get(c, id);
    c->stats.releases++;
    if (e == NULL || n > e->remote) {
        rpc_abort(c, "Release of %u references to export %u, which the peer holds %u of", n, id,
                  e == NULL ? 0 : e->remote);
        return;
    }
    rpc_export_drop(c, id, n, 0);
}

/* The peer resolved a promise it sent us. We released every import when its
 * call was delivered, so the resolution's new reference goes back too. */
static void handle_resolve(struct rpc_conn *c, Resolve_r r)
{
    if (Resolve_which(r) != Resolve_which_cap)
        return;
    CapDescriptor_r d = Resolve_get_cap(r);
    switch (CapDescriptor_which(d)) {
    case CapDescriptor_which_senderHosted:
        rpc_send_release(c, CapDescriptor_get_senderHosted(d), 1);
        break;
    case CapDescriptor_which_senderPromise:
        rpc_send_release(c, CapDescriptor_get_senderPromise(d), 1);
        break;
    default:
        break;
    }
}

/* Embargoes exist for capabilities that resolve back to their sender. This
 * side never sends Resolve and never returns the peer's capabilities, so
 * no Disembargo can be valid: the C++ implementation treats that as a
 * protocol error too. */
static void handle_disembargo(struct rpc_conn *c, Disembargo_r d)
{
    Disembargo_context_r ctx = Disembargo_get_context(d);
    switch (Disembargo_context_which(ctx)) {
    case Disembargo_context_which_senderLoopback:
        rpc_abort(c,
                  "Disembargo senderLoopback %u: its target does not resolve to a capability "
                  "of the sender (this side returns only its own)",
                  Disembargo_context_get_senderLoopback(ctx));
        return;
    case Disembargo_context_which_receiverLoopback:
        rpc_abort(c, "Disembargo receiverLoopback %u: this side requested no embargo",
                  Disembargo_context_get_receiverLoopback(ctx));
        return;
    default:
        rpc_abort(c, "Disembargo of kind %u is beyond level 1",
                  (unsigned)Disembargo_context_which(ctx));
        return;
    }
}

static void dispatch(struct rpc_conn *c, const uint8_t *frame, size_t len)
{
    struct capn_seg segs[RPC_MAX_SEGS];
    struct capn_msg m;
    enum capn_err err = capn_msg_read(&m, segs, c->lim.max_segs, frame, len, NULL);
    if (err != CAPN_OK) {
        rpc_abort(c, "malformed message frame: %s", capn_err_str(err));
        return;
    }
    m.read_left = c->lim.traversal;
    m.nest_limit = c->lim.nest;
    struct capn_struct root;
    if (capn_msg_root_struct(&m, &root) != CAPN_PT_STRUCT || !capn_ok(&m)) {
        rpc_abort(c, "message root is not an rpc.capnp Message struct (%s)",
                  capn_err_str(m.err != CAPN_OK ? m.err : CAPN_ERR_PTR_KIND));
        return;
    }
    Message_r msg = {root};
    c->stats.msgs_in++;
    enum Message_which which = Message_which(msg);
    switch (which) {
    case Message_which_bootstrap:
        rpc_handle_bootstrap(c, Message_get_bootstrap(msg));
        break;
    case Message_which_call:
        rpc_handle_call(c, frame, len, Message_get_call(msg));
        break;
    case Message_which_finish:
        handle_finish(c, Message_get_finish(msg));
        break;
    case Message_which_release:
        handle_release(c, Message_get_release(msg));
        break;
    case Message_which_resolve:
        handle_resolve(c, Message_get_resolve(msg));
        break;
    case Message_which_disembargo:
        handle_disembargo(c, Message_get_disembargo(msg));
        break;
    case Message_which_abort: {
        struct capn_text t = Exception_get_reason(Message_get_abort(msg));
        fmt_snprintf(c->why, sizeof(c->why), "the peer aborted: %.*s", (int)t.len, t.str);
        c->state = RPC_CLOSED;
        break;
    }
    case Message_which_unimplemented:
        /* Only our own Release, Return or Abort could come back; nothing
         * is waiting on them. */
        break;
    case Message_which_return:
        rpc_abort(c, "Return for question %u: this side asked no questions",
                  Return_get_answerId(Message_get_return(msg)));
        break;
    default:
        rpc_send_unimplemented(c, msg);
        break;
    }
    /* Whatever was read must have been well formed; a call's params are
     * checked (and refused with an exception) on their own. */
    if (c->state == RPC_OPEN && which != Message_which_call && !capn_ok(&m))
        rpc_abort(c, "malformed message: %s", capn_err_str(m.err));
}

/* Bytes the frame at in[0..have) will need, once its segment table is
 * known; 0 if more bytes are needed to tell; -1 (after an Abort) if over
 * the limits. */
static int64_t frame_need(struct rpc_conn *c, const uint8_t *in, uint32_t have)
{
    if (have < 4)
        return 0;
    uint32_t w;
    memcpy(&w, in, 4);
    uint64_t nsegs = (uint64_t)w + 1;
    if (nsegs > c->lim.max_segs) {
        rpc_abort(c, "message of %llu segments; at most %u are accepted", (unsigned long long)nsegs,
                  c->lim.max_segs);
        return -1;
    }
    uint64_t hdr = (4 + 4 * nsegs + 7) & ~7ull;
    if (have < hdr)
        return 0;
    uint64_t words = 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        memcpy(&w, in + 4 + 4 * i, 4);
        words += w;
    }
    uint64_t total = hdr + words * 8;
    if (total > c->lim.max_msg) {
        rpc_abort(c, "message of %llu bytes; the limit is %u", (unsigned long long)total,
                  c->lim.max_msg);
        return -1;
    }
    return (int64_t)total;
}

enum rpc_state rpc_conn_feed(struct rpc_conn *c, const void *bytes, size_t len)
{
    const uint8_t *src = (const uint8_t *)bytes;
    uint8_t *in = (uint8_t *)c->in;
    while (c->state == RPC_OPEN) {
        size_t room = sizeof(c->in) - c->in_len, n = len < room ? len : room;
        memcpy(in + c->in_len, src, n);
        c->in_len += (uint32_t)n;
        src += n;
        len -= n;
        uint32_t off = 0;
        while (c->state == RPC_OPEN) {
            int64_t need = frame_need(c, in + off, c->in_len - off);
            if (need <= 0 || (uint64_t)need > c->in_len - off)
                break;
            dispatch(c, in + off, (size_t)need);
            if (c->replay)
                rpc_defer_replay(c);
            off += (uint32_t)need;
        }
        memmove(in, in + off, c->in_len - off);
        c->in_len -= off;
        if (len == 0)
            break;
    }
    return c->state;
}

void rpc_conn_abort(struct rpc_conn *c, const char *reason)
{
    rpc_abort(c, "%s", reason);
}

void rpc_conn_close(struct rpc_conn *c)
{
    if (c->state == RPC_OPEN) {
        if (c->why[0] == '\0')
            fmt_snprintf(c->why, sizeof(c->why), "closed by this side");
        c->state = RPC_CLOSED;
    }
    for (uint32_t i = 0; i < RPC_ANSWERS; i++)
        if (c->answers[i].state != RPC_ANS_FREE)
            rpc_answer_free(c, &c->answers[i]);
    for (uint32_t i = 0; i < RPC_EXPORTS; i++) {
        struct rpc_export *e = &c->exports[i];
        if (e->used) {
            e->used = false;
            c->nexports--;
            c->host.release(c->host.ctx, e->handle);
        }
    }
    for (uint32_t i = 0; i < RPC_IMPORTS; i++)
        c->imports[i].used = false;
    c->nimports = 0;
    c->defer_len = 0;
}
