/*
 * Calls and their answers: Bootstrap, Call (target, params, delivery to
 * host.call) and the host's answer (rpc_conn_return, rpc_conn_throw).
 */
#include <string.h>

#include "rpc/internal.h"

/* Replay deferred calls now, or after the host call that is running. */
void rpc_answer_done(struct rpc_conn *c)
{
    if (c->busy > 0)
        c->replay = true;
    else
        rpc_defer_replay(c);
}

static struct rpc_answer *new_answer(struct rpc_conn *c, uint32_t qid, const char *what)
{
    if (rpc_answer_find(c, qid) != NULL) {
        rpc_abort(c, "%s: question id %u is already in use (questions end with Finish)", what, qid);
        return NULL;
    }
    struct rpc_answer *a = rpc_answer_new(c, qid);
    if (a == NULL)
        rpc_abort(c, "%s: too many outstanding questions; the limit is %u per connection", what,
                  c->lim.answers);
    return a;
}

/* The bootstrap capability's results: a capability pointer to entry 0. */
static const uint8_t BOOTSTRAP_RESULTS[16] = {0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};

static void answer_results(struct rpc_conn *c, struct rpc_answer *a, const void *results,
                           size_t len, const uint32_t *caps, uint32_t ncaps, bool bootstrap);

void rpc_handle_bootstrap(struct rpc_conn *c, Bootstrap_r b)
{
    struct rpc_answer *a = new_answer(c, Bootstrap_get_questionId(b), "Bootstrap");
    if (a == NULL)
        return;
    uint32_t h = c->host.bootstrap(c->host.ctx);
    if (h == RPC_NO_CAP) {
        rpc_send_exception(c, a, RPC_EXC_FAILED, "this gateway has no bootstrap capability");
        return;
    }
    answer_results(c, a, BOOTSTRAP_RESULTS, sizeof(BOOTSTRAP_RESULTS), &h, 1, true);
}

void rpc_handle_call(struct rpc_conn *c, const uint8_t *frame, size_t len, Call_r call)
{
    struct rpc_answer *a = new_answer(c, Call_get_questionId(call), "Call");
    if (a != NULL)
        rpc_run_call(c, a, frame, len, call);
}

/* A capability named in the params' cap table, for the host. False (and
 * an exception sent) if it names nothing this connection has. */
static bool param_cap(struct rpc_conn *c, struct rpc_answer *a, CapDescriptor_r d,
                      struct rpc_cap *out)
{
    const char *why = NULL;
    uint32_t id;
    switch (CapDescriptor_which(d)) {
    case CapDescriptor_which_none:
        out->kind = RPC_CAP_NONE;
        return true;
    case CapDescriptor_which_senderHosted:
    case CapDescriptor_which_senderPromise:
        id = CapDescriptor_which(d) == CapDescriptor_which_senderHosted
                 ? CapDescriptor_get_senderHosted(d)
                 : CapDescriptor_get_senderPromise(d);
        if (!rpc_import_add(c, id)) {
            rpc_abort(c, "params: too many imported capabilities; the limit is %u", c->lim.imports);
            return false;
        }
        out->kind = RPC_CAP_IMPORT;
        out->id = id;
        return true;
    case CapDescriptor_which_receiverHosted: {
        struct rpc_export *e = rpc_export_get(c, CapDescriptor_get_receiverHosted(d));
        if (e == NULL) {
            rpc_send_exception(c, a, RPC_EXC_FAILED,
                               "params: receiverHosted %u is not an export of this connection",
                               CapDescriptor_get_receiverHosted(d));
            return false;
        }
        out->kind = RPC_CAP_LOCAL;
        out->id = e->handle;
        return true;
    }
    case CapDescriptor_which_receiverAnswer: {
        PromisedAnswer_r pa = CapDescriptor_get_receiverAnswer(d);
        struct rpc_answer *b = rpc_answer_find(c, PromisedAnswer_get_questionId(pa));
        id = RPC_NO_CAP;
        why = "it is not an answered question";
        if (b != NULL && b->state == RPC_ANS_RETURNED && !b->exception)
            id = rpc_paths_resolve(b, pa, &why);
        if (id == RPC_NO_CAP) {
            rpc_send_exception(c, a, RPC_EXC_FAILED, "params: receiverAnswer on question %u: %s",
                               PromisedAnswer_get_questionId(pa), why);
            return false;
        }
        out->kind = RPC_CAP_LOCAL;
        out->id = c->exports[id].handle;
        return true;
    }
    default:
        rpc_send_exception(c, a, RPC_EXC_UNIMPL,
                           "params: capability descriptor %u is beyond level 1",
                           (unsigned)CapDescriptor_which(d));
        return false;
    }
}

/* A pointer of the Call itself (not its params' content) that did not read
 * is a malformed message: Abort rather than act on the default it read as
 * (export 0, an empty path). */
static bool envelope_ok(struct rpc_conn *c, Call_r call)
{
    if (call.s.msg->err == CAPN_OK)
        return true;
    rpc_abort(c, "malformed Call message: %s", capn_err_str(call.s.msg->err));
    return false;
}

static void release_imports(struct rpc_conn *c, const struct rpc_cap *caps, uint32_t n)
{
    /* The gateway has no use for the peer's capabilities: nothing in the
     * guest could call them. Each goes back once its call was delivered. */
    for (uint32_t i = 0; i < n; i++)
        if (caps[i].kind == RPC_CAP_IMPORT)
            rpc_import_release(c, caps[i].id);
}

static void deliver(struct rpc_conn *c, struct rpc_answer *a, Call_r call, uint32_t handle,
                    bool pipelined, bool dependent)
{
    Payload_r p = Call_get_params(call);
    List_CapDescriptor_r table = Payload_get_capTable(p);
    uint32_t n = List_CapDescriptor_len(table);
    if (n > RPC_CALL_CAPS) {
        rpc_send_exception(c, a, RPC_EXC_FAILED,
                           "params carry %u capabilities; at most %u are accepted", n,
                           RPC_CALL_CAPS);
        return;
    }
    struct rpc_cap caps[RPC_CALL_CAPS];
    for (uint32_t i = 0; i < n; i++) {
        if (!param_cap(c, a, List_CapDescriptor_get(table, i), &caps[i])) {
            release_imports(c, caps, i);
            return;
        }
    }
    if (!envelope_ok(c, call)) /* a receiverAnswer's path, say */
        return;
    /* The params become a standalone message, as a ring CALL carries them;
     * the copy applies the reader's limits to the content. */
    struct capn_bld b;
    struct capn_seg seg;
    capn_bld_init(&b, &seg, 1, (uint8_t *)c->params + 8, sizeof(c->params) - 8);
    struct capn_msg *m = call.s.msg;
    m->cap_count = n;
    enum capn_err err = capn_bptr_copy(capn_bld_root(&b), Payload_get_content(p));
    if (err == CAPN_OK)
        err = b.err;
    if (err == CAPN_OK)
        err = m->err;
    if (err != CAPN_OK) {
        release_imports(c, caps, n);
        rpc_send_exception(c, a, RPC_EXC_FAILED,
                           "params refused: %s (limits: %u-byte messages, %d levels)",
                           capn_err_str(err), c->lim.max_msg, c->lim.nest);
        return;
    }
    uint32_t hdr[2] = {0, seg.words};
    memcpy(c->params, hdr, 8);
    struct rpc_call rc = {
        .answer = rpc_token(c, a),
        .target = handle,
        .interface_id = Call_get_interfaceId(call),
        .method = Call_get_methodId(call),
        .pipelined = pipelined,
        .params = c->params,
        .params_len = 8 + (size_t)seg.words * 8,
        .caps = caps,
        .ncaps = n,
    };
    c->stats.calls++;
    c->stats.pipelined += pipelined;
    c->stats.dependent += dependent;
    c->busy++;
    c->host.call(c->host.ctx, c, &rc);
    c->busy--;
    release_imports(c, caps, n);
}

/* Find the call's target and deliver it, or defer it behind its promise. */
void rpc_run_call(struct rpc_conn *c, struct rpc_answer *a, const uint8_t *frame, size_t len,
                  Call_r call)
{
    MessageTarget_r t = Call_get_target(call);
    if (MessageTarget_which(t) == MessageTarget_which_promisedAnswer)
        (void)PromisedAnswer_get_transform(MessageTarget_get_promisedAnswer(t));
    (void)Payload_get_capTable(Call_get_params(call));
    if (!envelope_ok(c, call))
        return;
    if (Call_sendResultsTo_which(Call_get_sendResultsTo(call)) != Call_sendResultsTo_which_caller) {
        rpc_send_exception(c, a, RPC_EXC_UNIMPL,
                           "sendResultsTo other than the caller is beyond level 1");
        return;
    }
    switch (MessageTarget_which(t)) {
    case MessageTarget_which_importedCap: {
        uint32_t id = MessageTarget_get_importedCap(t);
        struct rpc_export *e = rpc_export_get(c, id);
        if (e == NULL || e->remote == 0) {
            rpc_send_exception(c, a, RPC_EXC_FAILED,
                               "call target: export %u is not a capability this connection holds",
                               id);
            return;
        }
        deliver(c, a, call, e->handle, false, e->from_return);
        return;
    }
    case MessageTarget_which_promisedAnswer: {
        PromisedAnswer_r pa = MessageTarget_get_promisedAnswer(t);
        uint32_t qid = PromisedAnswer_get_questionId(pa);
        struct rpc_answer *b = rpc_answer_find(c, qid);
        if (b == NULL || b == a) {
            rpc_send_exception(c, a, RPC_EXC_FAILED,
                               "call target: question %u is not an outstanding question", qid);
            return;
        }
        if (b->state == RPC_ANS_PENDING) {
            if (!rpc_defer_push(c, a, qid, frame, len)) {
                rpc_send_exception(c, a, RPC_EXC_OVERLOADED,
                                   "too many pipelined calls waiting; the limit is %u bytes",
                                   RPC_DEFER_BYTES);
                return;
            }
            a->waiting = true;
            return;
        }
        if (b->exception) {
            rpc_send_exception(c, a, (enum rpc_exc)b->exc_type, "pipelined on a failed call: %s",
                               b->reason);
            return;
        }
        const char *why = NULL;
        uint32_t id = rpc_paths_resolve(b, pa, &why);
        if (id == RPC_NO_CAP) {
            rpc_send_exception(c, a, RPC_EXC_FAILED, "call target: question %u: %s", qid, why);
            return;
        }
        deliver(c, a, call, c->exports[id].handle, true, false);
        return;
    }
    default:
        rpc_send_exception(c, a, RPC_EXC_UNIMPL, "call target kind %u is unknown",
                           (unsigned)MessageTarget_which(t));
        return;
    }
}

static void release_all(struct rpc_conn *c, const uint32_t *caps, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (caps[i] != RPC_NO_CAP)
            c->host.release(c->host.ctx, caps[i]);
}

static void answer_results(struct rpc_conn *c, struct rpc_answer *a, const void *results,
                           size_t len, const uint32_t *caps, uint32_t ncaps, bool bootstrap)
{
    if (a->finished) {
        /* The caller gave up (Finish before Return): say so, keep nothing. */
        release_all(c, caps, ncaps);
        struct rpc_out o;
        Return_b r = Message_init_return(rpc_out_begin(c, &o));
        Return_set_answerId(r, a->qid);
        Return_set_releaseParamCaps(r, false);
        Return_set_canceled(r);
        c->stats.canceled++;
        rpc_out_send(c, &o);
        rpc_answer_free(c, a);
        rpc_answer_done(c);
        return;
    }
    if (ncaps > RPC_RESULT_CAPS) {
        release_all(c, caps, ncaps);
        rpc_send_exception(c, a, RPC_EXC_FAILED,
                           "results carry %u capabilities; at most %u are supported", ncaps,
                           RPC_RESULT_CAPS);
        return;
    }
    struct capn_seg segs[RPC_MAX_SEGS];
    struct capn_msg m;
    enum capn_err err = capn_msg_read(&m, segs, RPC_MAX_SEGS, results, len, NULL);
    if (err != CAPN_OK) {
        release_all(c, caps, ncaps);
        rpc_send_exception(c, a, RPC_EXC_FAILED, "results are not a framed message: %s",
                           capn_err_str(err));
        return;
    }
    m.cap_count = ncaps;
    m.read_left = c->lim.traversal;
    m.nest_limit = c->lim.nest;
    /* Export first, so that a full table is an exception, not a Return
     * that names capabilities it could not give. */
    for (uint32_t i = 0; i < ncaps; i++) {
        a->caps[i] = RPC_NO_CAP;
        if (caps[i] == RPC_NO_CAP)
            continue;
        a->caps[i] = rpc_export_add(c, caps[i]);
        if (a->caps[i] == RPC_NO_CAP) {
            for (uint32_t j = 0; j < i; j++)
                if (a->caps[j] != RPC_NO_CAP)
                    rpc_export_drop(c, a->caps[j], 1, 1);
            release_all(c, caps + i + 1, ncaps - i - 1);
            rpc_send_exception(c, a, RPC_EXC_OVERLOADED,
                               "results: too many exported capabilities; the limit is %u",
                               c->lim.exports);
            return;
        }
        c->exports[a->caps[i]].local++;
        if (!bootstrap && c->exports[a->caps[i]].remote == 1)
            c->exports[a->caps[i]].from_return = true;
    }
    a->ncaps = (uint8_t)ncaps;

    struct rpc_out o;
    Return_b r = Message_init_return(rpc_out_begin(c, &o));
    Return_set_answerId(r, a->qid);
    Return_set_releaseParamCaps(r, false);
    Payload_b p = Return_init_results(r);
    struct capn_ptr content = capn_msg_root(&m);
    err = capn_bptr_copy(Payload_init_content(p), content);
    List_CapDescriptor_b table = Payload_init_capTable(p, ncaps);
    for (uint32_t i = 0; i < ncaps; i++) {
        CapDescriptor_b d = List_CapDescriptor_at(table, i);
        if (a->caps[i] == RPC_NO_CAP)
            CapDescriptor_set_none(d);
        else
            CapDescriptor_set_senderHosted(d, a->caps[i]);
    }
    if (err == CAPN_OK)
        err = o.b.err;
    if (err == CAPN_OK)
        err = m.err;
    if (err != CAPN_OK) {
        /* The peer never saw these references: take them back. */
        for (uint32_t i = 0; i < ncaps; i++)
            if (a->caps[i] != RPC_NO_CAP)
                rpc_export_drop(c, a->caps[i], 1, 1);
        a->ncaps = 0;
        rpc_send_exception(c, a, RPC_EXC_FAILED, "results refused: %s", capn_err_str(err));
        return;
    }
    rpc_paths_collect(a, content);
    a->state = RPC_ANS_RETURNED;
    c->stats.returns++;
    rpc_out_send(c, &o);
    rpc_answer_done(c);
}

void rpc_conn_return(struct rpc_conn *c, uint32_t answer, const void *results, size_t len,
                     const uint32_t *caps, uint32_t ncaps)
{
    struct rpc_answer *a = rpc_answer_by_token(c, answer);
    if (a == NULL || c->state != RPC_OPEN) {
        release_all(c, caps, ncaps);
        return;
    }
    answer_results(c, a, results, len, caps, ncaps, false);
}

void rpc_conn_throw(struct rpc_conn *c, uint32_t answer, enum rpc_exc type, const char *reason)
{
    struct rpc_answer *a = rpc_answer_by_token(c, answer);
    if (a == NULL || c->state != RPC_OPEN)
        return;
    rpc_send_exception(c, a, type, "%s", reason);
}
