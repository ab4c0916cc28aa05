/*
 * Calls: delivery, results and their capabilities, exceptions, promise
 * pipelining (immediate and waiting for the answer), params with
 * capabilities, and the message types this side refuses.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "peer.h"

static uint8_t buf[PEER_BUF + 8];

static const char *reason(struct fake *f)
{
    return sent_reason(f, fake_last(f));
}

/* The answer id and result u32 of Return i; exceptions fail the test. */
static uint32_t result_value(struct fake *f, uint32_t i, uint32_t *qid)
{
    struct sent s;
    cr_assert_eq(fake_sent(f, i, &s), Message_which_return, "message %u is not a Return", i);
    Return_r r = Message_get_return(s.msg);
    cr_assert_eq(Return_which(r), Return_which_results, "Return %u: exception \"%s\"", i,
                 sent_reason(f, i));
    *qid = Return_get_answerId(r);
    struct capn_struct c = capn_ptr_struct(Payload_get_content(Return_get_results(r)), NULL);
    return capn_struct_u32(&c, 0, 0);
}

Test(call, delivered_with_params)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 3, "hello"));
    cr_assert_eq(f->ncalls, 1);
    cr_assert_eq(f->last_target, 1);
    cr_assert_eq(f->last_method, 3);
    cr_assert_str_eq(f->last_text, "hello");
    cr_assert(!f->last_pipelined);
    uint32_t q;
    cr_assert_eq(result_value(f, 1, &q), 103);
    cr_assert_eq(q, 1);
    cr_assert_eq(f->c->stats.dependent, 0, "a call on the bootstrap capability");
    fake_free(f);
}

Test(call, unknown_export_is_an_exception)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_call(buf, 1, 9, 0, "x"));
    cr_assert_eq(f->c->state, RPC_OPEN);
    cr_assert_eq(f->ncalls, 0);
    cr_assert_str_eq(reason(f), "call target: export 9 is not a capability this connection holds");
    /* The question lives until its Finish. */
    feed(f, buf, peer_finish(buf, 1, true));
    cr_assert_eq(f->c->state, RPC_OPEN, "%s", f->c->why);
    fake_free(f);
}

Test(call, host_exception)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 99, "x"));
    cr_assert_str_eq(reason(f), "method 99 always fails");
    fake_free(f);
}

Test(call, pipelined_on_returned_answer)
{
    struct fake *f = fake_new(NULL);
    uint16_t path[] = {1};
    size_t n = peer_bootstrap(buf, 0);
    feed(f, buf, n);
    /* bootstrap() promise, then .method(...) on field 1 of its results. */
    feed(f, buf, peer_call_promise(buf, 1, 0, NULL, 0, 0, "login"));
    feed(f, buf, peer_call_promise(buf, 2, 1, path, 1, 5, "capSet"));
    cr_assert_eq(f->ncalls, 2);
    cr_assert_eq(f->last_target, 2, "pipelined call went to %u", f->last_target);
    cr_assert(f->last_pipelined);
    uint32_t q;
    cr_assert_eq(result_value(f, 2, &q), 205);
    cr_assert_eq(f->c->stats.pipelined, 2);
    cr_assert_eq(f->c->stats.dependent, 0);
    fake_free(f);
}

Test(call, dependent_call_counted)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 0, "login"));
    /* Export 1 was learned from question 1's Return: a second round trip. */
    feed(f, buf, peer_call(buf, 2, 1, 0, "capSet"));
    cr_assert_eq(f->last_target, 2);
    cr_assert_eq(f->c->stats.dependent, 1);
    fake_free(f);
}

Test(call, pipelined_calls_wait_in_order)
{
    struct fake *f = fake_new(NULL);
    uint16_t path[] = {1};
    feed(f, buf, peer_bootstrap(buf, 0));
    f->defer = true;
    feed(f, buf, peer_call(buf, 1, 0, 0, "login"));
    f->defer = false;
    feed(f, buf, peer_call_promise(buf, 2, 1, path, 1, 1, "first"));
    feed(f, buf, peer_call_promise(buf, 3, 1, path, 1, 2, "second"));
    cr_assert_eq(f->ncalls, 1, "pipelined calls ran before their promise was answered");
    cr_assert_eq(f->c->stats.deferred, 2);
    uint32_t before = f->nmsgs;
    fake_answer(f, 0);
    cr_assert_eq(f->ncalls, 3);
    cr_assert_str_eq(f->last_text, "second");
    uint32_t q1, q2, q3;
    result_value(f, before, &q1);
    cr_assert_eq(result_value(f, before + 1, &q2), 201);
    cr_assert_eq(result_value(f, before + 2, &q3), 202);
    cr_assert(q1 == 1 && q2 == 2 && q3 == 3, "returns out of order: %u %u %u", q1, q2, q3);
    cr_assert_eq(f->c->defer_len, 0);
    fake_free(f);
}

Test(call, pipelined_chain)
{
    /* a() -> b() on a's result -> c() on b's result, all before any answer. */
    struct fake *f = fake_new(NULL);
    uint16_t path[] = {1};
    feed(f, buf, peer_bootstrap(buf, 0));
    f->defer = true;
    feed(f, buf, peer_call(buf, 1, 0, 0, "a"));
    feed(f, buf, peer_call_promise(buf, 2, 1, path, 1, 0, "b"));
    feed(f, buf, peer_call_promise(buf, 3, 2, path, 1, 0, "c"));
    cr_assert_eq(f->ncalls, 1);
    f->defer = false;
    fake_answer(f, 0);
    cr_assert_eq(f->ncalls, 3, "the chain stopped after %u calls", f->ncalls);
    cr_assert_eq(f->last_target, 3);
    fake_free(f);
}

Test(call, pipelined_on_exception)
{
    struct fake *f = fake_new(NULL);
    uint16_t path[] = {1};
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 99, "x"));
    feed(f, buf, peer_call_promise(buf, 2, 1, path, 1, 0, "y"));
    cr_assert_str_eq(reason(f), "pipelined on a failed call: method 99 always fails");
    fake_free(f);
}

Test(call, pipelined_path_without_capability)
{
    struct fake *f = fake_new(NULL);
    uint16_t text[] = {0}, deep[] = {1, 0, 0, 0, 0};
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 0, "x"));
    feed(f, buf, peer_call_promise(buf, 2, 1, text, 1, 0, "y"));
    cr_assert_str_eq(reason(f), "call target: question 1: the results have no capability at "
                                "that path");
    feed(f, buf, peer_call_promise(buf, 3, 1, deep, 5, 0, "y"));
    cr_assert(strstr(reason(f), "longer than 4 pointer fields") != NULL, "%s", reason(f));
    feed(f, buf, peer_call_promise(buf, 4, 42, text, 1, 0, "y"));
    cr_assert_str_eq(reason(f), "call target: question 42 is not an outstanding question");
    cr_assert_eq(f->c->state, RPC_OPEN);
    fake_free(f);
}

Test(call, finish_before_return_cancels)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    f->defer = true;
    feed(f, buf, peer_call(buf, 1, 0, 0, "x"));
    feed(f, buf, peer_finish(buf, 1, true));
    fake_answer(f, 0);
    struct sent s;
    cr_assert_eq(fake_sent(f, fake_last(f), &s), Message_which_return);
    cr_assert_eq(Return_which(Message_get_return(s.msg)), Return_which_canceled);
    cr_assert_eq(f->c->stats.canceled, 1);
    cr_assert_eq(f->refs[2], 0, "the canceled call's capability was kept");
    cr_assert_eq(rpc_conn_answers(f->c), 1);
    fake_free(f);
}

/* A call whose params are a struct nested `depth` levels. */
static size_t deep_call(uint8_t *out, uint32_t qid, int depth)
{
    static uint64_t arena[PEER_BUF / 8];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    Call_b call = Message_init_call(Message_build_root(&b));
    Call_set_questionId(call, qid);
    MessageTarget_set_importedCap(Call_init_target(call), 0);
    struct capn_bptr p = Payload_init_content(Call_init_params(call));
    for (int i = 0; i < depth; i++) {
        struct capn_bstruct s = capn_bptr_init_struct(p, 0, 1);
        p = capn_bstruct_ptr(&s, 0);
    }
    size_t len;
    cr_assert_eq(capn_bld_write(&b, out, PEER_BUF + 8, &len), CAPN_OK);
    return len;
}

Test(call, params_nesting_limit)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, deep_call(buf, 1, 20));
    cr_assert_eq(f->ncalls, 1, "20 levels were refused: %s", reason(f));
    feed(f, buf, deep_call(buf, 2, 200));
    cr_assert_eq(f->ncalls, 1, "200 levels reached the host");
    cr_assert(strstr(reason(f), "params refused: nesting") != NULL, "%s", reason(f));
    cr_assert_eq(f->c->state, RPC_OPEN);
    fake_free(f);
}

/* A call on the bootstrap capability carrying n senderHosted capabilities. */
static size_t caps_call(uint8_t *out, uint32_t qid, uint32_t n, uint32_t first_id)
{
    static uint64_t arena[PEER_BUF / 8];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    Call_b call = Message_init_call(Message_build_root(&b));
    Call_set_questionId(call, qid);
    MessageTarget_set_importedCap(Call_init_target(call), 0);
    Payload_b pl = Call_init_params(call);
    struct capn_bstruct s = capn_bptr_init_struct(Payload_init_content(pl), 0, 1);
    capn_bptr_set_cap(capn_bstruct_ptr(&s, 0), 0);
    List_CapDescriptor_b t = Payload_init_capTable(pl, n);
    for (uint32_t i = 0; i < n; i++)
        CapDescriptor_set_senderHosted(List_CapDescriptor_at(t, i), first_id + i);
    size_t len;
    cr_assert_eq(capn_bld_write(&b, out, PEER_BUF + 8, &len), CAPN_OK);
    return len;
}

Test(call, param_capabilities_released)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, caps_call(buf, 1, 2, 40));
    cr_assert_eq(f->ncalls, 1);
    cr_assert_eq(f->last_ncaps, 2);
    cr_assert_eq(rpc_conn_imports(f->c), 0, "imports kept after the call");
    /* The Return (the host answered at once), then two Releases: ids 40
     * and 41, one reference each. */
    struct sent s;
    uint32_t i = fake_last(f);
    cr_assert_eq(fake_sent(f, i - 2, &s), Message_which_return);
    cr_assert_eq(fake_sent(f, i - 1, &s), Message_which_release);
    cr_assert_eq(Release_get_id(Message_get_release(s.msg)), 40);
    cr_assert_eq(Release_get_referenceCount(Message_get_release(s.msg)), 1);
    cr_assert_eq(fake_sent(f, i, &s), Message_which_release);
    cr_assert_eq(Release_get_id(Message_get_release(s.msg)), 41);
    fake_free(f);
}

Test(call, import_limit)
{
    struct rpc_limits l;
    rpc_limits_default(&l);
    l.imports = 3;
    struct fake *f = fake_new(&l);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, caps_call(buf, 1, 3, 10));
    cr_assert_eq(f->c->state, RPC_OPEN, "%s", f->c->why);
    feed(f, buf, caps_call(buf, 2, 4, 10));
    cr_assert_eq(f->c->state, RPC_CLOSED);
    cr_assert(strstr(f->c->why, "too many imported capabilities; the limit is 3") != NULL, "%s",
              f->c->why);
    fake_free(f);
}

Test(call, too_many_param_caps)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, caps_call(buf, 1, 17, 10));
    cr_assert_str_eq(reason(f), "params carry 17 capabilities; at most 16 are accepted");
    cr_assert_eq(rpc_conn_imports(f->c), 0);
    fake_free(f);
}

Test(call, malformed_envelope_aborts)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    size_t n = peer_call(buf, 1, 0, 0, "x");
    /* The Call's target pointer (pointer 0 of the Call struct, which
     * follows the Message word at offset 16 of the segment) now points
     * far outside the segment. */
    struct capn_seg segs[2];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 2, buf, n, NULL), CAPN_OK);
    struct capn_struct root = capn_ptr_struct(capn_msg_root(&m), NULL);
    struct capn_struct call = capn_ptr_struct(capn_struct_ptr(&root, 0), NULL);
    uint64_t bad = (uint64_t)1000 << 2 | (uint64_t)1 << 32;
    memcpy((uint8_t *)call.ptrs, &bad, 8);
    feed(f, buf, n);
    cr_assert_eq(f->ncalls, 0, "a malformed call reached the host");
    cr_assert_eq(f->c->state, RPC_CLOSED);
    cr_assert(strstr(f->c->why, "malformed Call message: ") != NULL, "%s", f->c->why);
    fake_free(f);
}
