/*
 * Answers, exports and imports: reference counts, and every protocol
 * violation on them refused with an Abort that names the id.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "peer.h"

static uint8_t buf[PEER_BUF + 8];

static void expect_abort(struct fake *f, const char *part)
{
    cr_assert_eq(f->c->state, RPC_CLOSED, "connection still open");
    const char *r = sent_reason(f, fake_last(f));
    cr_assert(strstr(r, part) != NULL, "abort reason \"%s\" lacks \"%s\"", r, part);
}

static void all_released(struct fake *f)
{
    rpc_conn_close(f->c);
    for (int i = 0; i < FAKE_OBJS; i++)
        cr_assert_eq(f->refs[i], 0, "handle %d: %d references never released", i, f->refs[i]);
    cr_assert_eq(f->bad_release, 0, "released handles it did not hold");
}

Test(tables, bootstrap_export_and_release)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_return);
    Payload_r p = Return_get_results(Message_get_return(s.msg));
    List_CapDescriptor_r t = Payload_get_capTable(p);
    cr_assert_eq(List_CapDescriptor_len(t), 1);
    CapDescriptor_r d = List_CapDescriptor_get(t, 0);
    cr_assert_eq(CapDescriptor_which(d), CapDescriptor_which_senderHosted);
    uint32_t id = CapDescriptor_get_senderHosted(d);
    cr_assert_eq(rpc_conn_exports(f->c), 1);
    cr_assert_eq(f->refs[1], 1);
    /* Finish without releasing: the peer keeps its reference. */
    feed(f, buf, peer_finish(buf, 0, false));
    cr_assert_eq(rpc_conn_answers(f->c), 0);
    cr_assert_eq(f->refs[1], 1);
    feed(f, buf, peer_release(buf, id, 1));
    cr_assert_eq(rpc_conn_exports(f->c), 0);
    cr_assert_eq(f->refs[1], 0, "export freed but the host's reference kept");
    cr_assert_eq(f->c->state, RPC_OPEN);
    all_released(f);
    fake_free(f);
}

Test(tables, same_capability_same_export)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_bootstrap(buf, 1));
    cr_assert_eq(rpc_conn_exports(f->c), 1, "one object, one export id");
    cr_assert_eq(f->c->exports[0].remote, 2);
    cr_assert_eq(f->refs[1], 1, "the duplicate reference was not given back");
    /* Releasing two references at once frees it. */
    feed(f, buf, peer_finish(buf, 0, false));
    feed(f, buf, peer_finish(buf, 1, false));
    feed(f, buf, peer_release(buf, 0, 2));
    cr_assert_eq(rpc_conn_exports(f->c), 0);
    all_released(f);
    fake_free(f);
}

Test(tables, finish_releases_result_caps)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_finish(buf, 0, true));
    cr_assert_eq(rpc_conn_exports(f->c), 0);
    cr_assert_eq(f->refs[1], 0);
    cr_assert_eq(f->c->state, RPC_OPEN);
    /* The peer holds nothing now: releasing is a violation. */
    feed(f, buf, peer_release(buf, 0, 1));
    expect_abort(f, "export 0");
    all_released(f);
    fake_free(f);
}

Test(tables, release_more_than_held)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_release(buf, 0, 2));
    expect_abort(f, "Release of 2 references to export 0, which the peer holds 1");
    all_released(f);
    fake_free(f);
}

Test(tables, release_unknown)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_release(buf, 77, 1));
    expect_abort(f, "export 77");
    fake_free(f);
}

Test(tables, finish_unknown)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_finish(buf, 5, true));
    expect_abort(f, "Finish for question 5");
    fake_free(f);
}

Test(tables, duplicate_question)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 3));
    feed(f, buf, peer_call(buf, 3, 0, 0, "x"));
    expect_abort(f, "question id 3 is already in use");
    all_released(f);
    fake_free(f);
}

Test(tables, question_limit)
{
    struct rpc_limits l;
    rpc_limits_default(&l);
    l.answers = 4;
    struct fake *f = fake_new(&l);
    feed(f, buf, peer_bootstrap(buf, 0));
    for (uint32_t q = 1; q < 4; q++) {
        feed(f, buf, peer_call(buf, q, 0, 0, "x"));
        cr_assert_eq(f->c->state, RPC_OPEN, "question %u: %s", q, f->c->why);
    }
    feed(f, buf, peer_call(buf, 4, 0, 0, "x"));
    expect_abort(f, "the limit is 4");
    all_released(f);
    fake_free(f);
}

Test(tables, finished_questions_free_their_slot)
{
    struct rpc_limits l;
    rpc_limits_default(&l);
    l.answers = 2;
    struct fake *f = fake_new(&l);
    feed(f, buf, peer_bootstrap(buf, 0));
    for (uint32_t q = 1; q < 1000; q++) {
        feed(f, buf, peer_call(buf, q, 0, 0, "x"));
        feed(f, buf, peer_finish(buf, q, true));
    }
    cr_assert_eq(f->c->state, RPC_OPEN, "%s", f->c->why);
    cr_assert_eq(f->ncalls, 999);
    cr_assert_eq(rpc_conn_answers(f->c), 1);
    all_released(f);
    fake_free(f);
}

Test(tables, export_limit_is_an_exception)
{
    struct rpc_limits l;
    rpc_limits_default(&l);
    l.exports = 2;
    struct fake *f = fake_new(&l);
    feed(f, buf, peer_bootstrap(buf, 0));       /* export 0: handle 1 */
    feed(f, buf, peer_call(buf, 1, 0, 0, "x")); /* export 1: handle 2 */
    cr_assert_eq(rpc_conn_exports(f->c), 2);
    feed(f, buf, peer_call(buf, 2, 1, 0, "x")); /* handle 3: no room */
    cr_assert_eq(f->c->state, RPC_OPEN);
    const char *r = sent_reason(f, fake_last(f));
    cr_assert(strstr(r, "too many exported capabilities; the limit is 2") != NULL, "%s", r);
    cr_assert_eq(f->refs[3], 0, "the refused capability was not given back");
    all_released(f);
    fake_free(f);
}

Test(tables, close_releases_everything)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    for (uint32_t q = 1; q < 6; q++)
        feed(f, buf, peer_call(buf, q, q - 1, 0, "x"));
    cr_assert_eq(rpc_conn_exports(f->c), 6);
    all_released(f);
    cr_assert_eq(rpc_conn_exports(f->c), 0);
    fake_free(f);
}

Test(tables, stale_token_ignored)
{
    struct fake *f = fake_new(NULL);
    f->defer = true;
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, peer_call(buf, 1, 0, 0, "x"));
    cr_assert_eq(f->ntokens, 1);
    uint32_t old = f->tokens[0];
    rpc_conn_throw(f->c, old, RPC_EXC_FAILED, "first");
    feed(f, buf, peer_finish(buf, 1, true));
    feed(f, buf, peer_call(buf, 2, 0, 0, "y")); /* likely the same slot */
    uint32_t before = f->nmsgs;
    rpc_conn_throw(f->c, old, RPC_EXC_FAILED, "stale");
    cr_assert_eq(f->nmsgs, before, "a stale token answered a new question");
    all_released(f);
    fake_free(f);
}
