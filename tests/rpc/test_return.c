/*
 * The host's answers: results messages that are malformed, carry too many
 * capabilities or do not fit, nested pipelining paths, null capabilities,
 * and answers after the connection closed. Every handle the host gives
 * must come back exactly once.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "peer.h"

static uint8_t buf[PEER_BUF + 8];

/* A connection with the bootstrap capability and one unanswered call;
 * *token is that call's. */
static struct fake *pending(uint32_t *token)
{
    struct fake *f = fake_new(NULL);
    feed(f, buf, peer_bootstrap(buf, 0));
    f->defer = true;
    feed(f, buf, peer_call(buf, 1, 0, 0, "x"));
    cr_assert_eq(f->ntokens, 1);
    *token = f->tokens[0];
    return f;
}

/* Handles 2.. given with refs, as a host does before returning them. */
static void give(struct fake *f, uint32_t *caps, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        caps[i] = 2 + i % (FAKE_OBJS - 2);
        f->refs[caps[i]]++;
    }
}

static void none_held(struct fake *f)
{
    for (int i = 2; i < FAKE_OBJS; i++)
        cr_assert_eq(f->refs[i], 0, "handle %d: %d references kept", i, f->refs[i]);
    cr_assert_eq(f->bad_release, 0);
}

Test(ret, malformed_results)
{
    uint32_t t, caps[2];
    struct fake *f = pending(&t);
    give(f, caps, 2);
    uint8_t junk[12] = {5, 0, 0, 0}; /* six segments, table cut short */
    rpc_conn_return(f->c, t, junk, sizeof(junk), caps, 2);
    cr_assert(strstr(sent_reason(f, fake_last(f)), "results are not a framed message") != NULL,
              "%s", sent_reason(f, fake_last(f)));
    none_held(f);
    fake_free(f);
}

Test(ret, too_many_result_caps)
{
    uint32_t t, caps[17];
    struct fake *f = pending(&t);
    give(f, caps, 17);
    static const uint8_t empty[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff};
    rpc_conn_return(f->c, t, empty, sizeof(empty), caps, 17);
    cr_assert_str_eq(sent_reason(f, fake_last(f)),
                     "results carry 17 capabilities; at most 16 are supported");
    none_held(f);
    fake_free(f);
}

Test(ret, results_too_big)
{
    uint32_t t, caps[1];
    struct fake *f = pending(&t);
    give(f, caps, 1);
    /* A root struct with 70,000 bytes of Data. */
    static uint64_t arena[80000 / 8];
    static uint8_t frame[sizeof(arena) + 8];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    struct capn_bstruct r = capn_bld_init_root(&b, 0, 2);
    capn_bptr_init_data(capn_bstruct_ptr(&r, 0), 70000);
    capn_bptr_set_cap(capn_bstruct_ptr(&r, 1), 0);
    size_t len;
    cr_assert_eq(capn_bld_write(&b, frame, sizeof(frame), &len), CAPN_OK);
    rpc_conn_return(f->c, t, frame, len, caps, 1);
    cr_assert(strstr(sent_reason(f, fake_last(f)), "results refused") != NULL, "%s",
              sent_reason(f, fake_last(f)));
    cr_assert_eq(rpc_conn_exports(f->c), 1, "only the bootstrap capability stays exported");
    none_held(f);
    fake_free(f);
}

Test(ret, nested_paths_and_null_caps)
{
    uint32_t t, caps[3];
    struct fake *f = pending(&t);
    give(f, caps, 3);
    caps[1] = RPC_NO_CAP;
    f->refs[3]--;
    /* root(0 data, 3 ptrs): ptr0 = struct(0, 1) whose ptr0 = cap 0;
     * ptr1 = cap 1 (null capability); ptr2 = cap 2. */
    uint64_t arena[32];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    struct capn_bstruct r = capn_bld_init_root(&b, 0, 3);
    struct capn_bstruct in = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 0, 1);
    capn_bptr_set_cap(capn_bstruct_ptr(&in, 0), 0);
    capn_bptr_set_cap(capn_bstruct_ptr(&r, 1), 1);
    capn_bptr_set_cap(capn_bstruct_ptr(&r, 2), 2);
    uint8_t frame[sizeof(arena) + 8];
    size_t len;
    cr_assert_eq(capn_bld_write(&b, frame, sizeof(frame), &len), CAPN_OK);
    rpc_conn_return(f->c, t, frame, len, caps, 3);
    struct sent s;
    cr_assert_eq(fake_sent(f, fake_last(f), &s), Message_which_return);
    List_CapDescriptor_r table =
        Payload_get_capTable(Return_get_results(Message_get_return(s.msg)));
    cr_assert_eq(List_CapDescriptor_len(table), 3);
    cr_assert_eq(CapDescriptor_which(List_CapDescriptor_get(table, 1)), CapDescriptor_which_none);

    f->defer = false;
    uint16_t deep[] = {0, 0}, null_cap[] = {1}, last[] = {2};
    feed(f, buf, peer_call_promise(buf, 2, 1, deep, 2, 4, "deep"));
    cr_assert_eq(f->last_target, caps[0], "path [0, 0] went to %u", f->last_target);
    feed(f, buf, peer_call_promise(buf, 3, 1, last, 1, 4, "last"));
    cr_assert_eq(f->last_target, caps[2]);
    uint32_t calls = f->ncalls;
    feed(f, buf, peer_call_promise(buf, 4, 1, null_cap, 1, 4, "null"));
    cr_assert_eq(f->ncalls, calls, "a call reached a null capability");
    cr_assert(strstr(sent_reason(f, fake_last(f)), "no capability at that path") != NULL);
    rpc_conn_close(f->c);
    none_held(f);
    fake_free(f);
}

Test(ret, answer_after_close)
{
    uint32_t t, caps[1];
    struct fake *f = pending(&t);
    rpc_conn_close(f->c);
    give(f, caps, 1);
    uint32_t n = f->nmsgs;
    static const uint8_t empty[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff};
    rpc_conn_return(f->c, t, empty, sizeof(empty), caps, 1);
    rpc_conn_throw(f->c, t, RPC_EXC_FAILED, "late");
    cr_assert_eq(f->nmsgs, n, "answered on a closed connection");
    none_held(f);
    cr_assert_eq(f->refs[1], 0, "the bootstrap capability was kept");
    fake_free(f);
}

Test(ret, answer_twice)
{
    uint32_t t;
    struct fake *f = pending(&t);
    rpc_conn_throw(f->c, t, RPC_EXC_OVERLOADED, "first");
    uint32_t n = f->nmsgs;
    rpc_conn_throw(f->c, t, RPC_EXC_FAILED, "second");
    cr_assert_eq(f->nmsgs, n, "one question, two Returns");
    struct sent s;
    fake_sent(f, n - 1, &s);
    Exception_r e = Return_get_exception(Message_get_return(s.msg));
    cr_assert_eq(Exception_get_type(e), Exception_Type_overloaded);
    fake_free(f);
}
