/* Message types other than calls: Unimplemented, Disembargo, Resolve,
 * Abort and Return, as a peer may send them. */
#include <criterion/criterion.h>
#include <string.h>

#include "peer.h"

static uint8_t buf[PEER_BUF + 8];

static size_t build(uint8_t *out, void (*fill)(Message_b m))
{
    static uint64_t arena[PEER_BUF / 8];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    fill(Message_build_root(&b));
    size_t len;
    cr_assert_eq(capn_bld_write(&b, out, PEER_BUF + 8, &len), CAPN_OK);
    return len;
}

static void fill_provide(Message_b m)
{
    Provide_set_questionId(Message_init_provide(m), 4);
}

Test(messages, level3_is_unimplemented)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, build(buf, fill_provide));
    cr_assert_eq(f->c->state, RPC_OPEN);
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_unimplemented);
    Message_r echo = Message_get_unimplemented(s.msg);
    cr_assert_eq(Message_which(echo), Message_which_provide);
    cr_assert_eq(Provide_get_questionId(Message_get_provide(echo)), 4);
    fake_free(f);
}

Test(messages, unknown_type_is_unimplemented)
{
    struct fake *f = fake_new(NULL);
    /* Root struct (1 data word, 1 pointer) with discriminant 200. */
    uint8_t m[32] = {0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 200};
    feed(f, m, sizeof(m));
    cr_assert_eq(f->c->state, RPC_OPEN, "%s", f->c->why);
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_unimplemented);
    fake_free(f);
}

static void fill_disembargo(Message_b m)
{
    Disembargo_b d = Message_init_disembargo(m);
    MessageTarget_set_importedCap(Disembargo_init_target(d), 0);
    Disembargo_context_set_senderLoopback(Disembargo_init_context(d), 9);
}

static void fill_disembargo_rl(Message_b m)
{
    Disembargo_b d = Message_init_disembargo(m);
    MessageTarget_set_importedCap(Disembargo_init_target(d), 0);
    Disembargo_context_set_receiverLoopback(Disembargo_init_context(d), 9);
}

Test(messages, disembargo_for_nothing)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    feed(f, buf, build(buf, fill_disembargo));
    cr_assert_eq(f->c->state, RPC_CLOSED);
    cr_assert(strstr(f->c->why, "senderLoopback 9") != NULL, "%s", f->c->why);
    fake_free(f);
    f = fake_new(NULL);
    feed(f, buf, build(buf, fill_disembargo_rl));
    cr_assert(strstr(f->c->why, "receiverLoopback 9: this side requested no embargo") != NULL, "%s",
              f->c->why);
    fake_free(f);
}

static void fill_resolve(Message_b m)
{
    Resolve_b r = Message_init_resolve(m);
    Resolve_set_promiseId(r, 3);
    CapDescriptor_set_senderHosted(Resolve_init_cap(r), 12);
}

Test(messages, resolve_reference_released)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, build(buf, fill_resolve));
    cr_assert_eq(f->c->state, RPC_OPEN);
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_release);
    cr_assert_eq(Release_get_id(Message_get_release(s.msg)), 12);
    fake_free(f);
}

static void fill_abort(Message_b m)
{
    Exception_set_reason(Message_init_abort(m), "bye", 3);
}

Test(messages, abort_closes)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    cr_assert_eq(feed(f, buf, build(buf, fill_abort)), RPC_CLOSED);
    cr_assert_str_eq(f->c->why, "the peer aborted: bye");
    uint32_t n = f->nmsgs;
    feed(f, buf, peer_bootstrap(buf, 1));
    cr_assert_eq(f->nmsgs, n, "answered after the connection closed");
    rpc_conn_close(f->c);
    cr_assert_eq(f->refs[1], 0);
    fake_free(f);
}

static void fill_return(Message_b m)
{
    Return_set_answerId(Message_init_return(m), 8);
}

Test(messages, return_for_no_question)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, build(buf, fill_return));
    cr_assert_eq(f->c->state, RPC_CLOSED);
    cr_assert(strstr(f->c->why, "Return for question 8") != NULL, "%s", f->c->why);
    fake_free(f);
}

Test(messages, idle_abort)
{
    struct fake *f = fake_new(NULL);
    rpc_conn_abort(f->c, "idle for 300 s");
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_abort);
    cr_assert_str_eq(sent_reason(f, 0), "idle for 300 s");
    fake_free(f);
}

static void fill_resolve_promise(Message_b m)
{
    Resolve_b r = Message_init_resolve(m);
    Resolve_set_promiseId(r, 3);
    CapDescriptor_set_senderPromise(Resolve_init_cap(r), 13);
}

static void fill_resolve_exception(Message_b m)
{
    Resolve_b r = Message_init_resolve(m);
    Resolve_set_promiseId(r, 3);
    Exception_set_reason(Resolve_init_exception(r), "broken", 6);
}

Test(messages, resolve_variants)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, build(buf, fill_resolve_promise));
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_release);
    cr_assert_eq(Release_get_id(Message_get_release(s.msg)), 13);
    cr_assert_eq(Release_get_referenceCount(Message_get_release(s.msg)), 1);
    /* A promise broken with an exception gives us nothing to release. */
    feed(f, buf, build(buf, fill_resolve_exception));
    cr_assert_eq(f->nmsgs, 1);
    cr_assert_eq(f->c->state, RPC_OPEN);
    fake_free(f);
}
