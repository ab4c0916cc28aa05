/*
 * The byte stream: messages split anywhere or packed together, and frames
 * refused on their segment table before the body arrives.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "peer.h"

static void expect_abort(struct fake *f, const char *part)
{
    struct sent s;
    cr_assert_eq(f->c->state, RPC_CLOSED, "connection still open");
    uint32_t last = fake_last(f);
    cr_assert_eq(fake_sent(f, last, &s), Message_which_abort, "last message is not an Abort");
    cr_assert(strstr(sent_reason(f, last), part) != NULL, "abort reason \"%s\" lacks \"%s\"",
              sent_reason(f, last), part);
}

Test(frame, byte_by_byte)
{
    struct fake *f = fake_new(NULL);
    uint8_t buf[PEER_BUF + 8];
    size_t n = peer_bootstrap(buf, 7);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(f->nmsgs, 0, "replied before the message was complete (byte %zu)", i);
        feed(f, buf + i, 1);
    }
    struct sent s;
    cr_assert_eq(fake_sent(f, 0, &s), Message_which_return);
    cr_assert_eq(Return_get_answerId(Message_get_return(s.msg)), 7);
    fake_free(f);
}

Test(frame, several_messages_in_one_read)
{
    struct fake *f = fake_new(NULL);
    uint8_t buf[3 * (PEER_BUF + 8)];
    size_t n = peer_bootstrap(buf, 1);
    n += peer_call(buf + n, 2, 0, 0, "a");
    n += peer_call(buf + n, 3, 0, 1, "b");
    cr_assert_eq(feed(f, buf, n), RPC_OPEN);
    cr_assert_eq(f->nmsgs, 3);
    cr_assert_eq(f->ncalls, 2);
    cr_assert_str_eq(f->last_text, "b");
    fake_free(f);
}

Test(frame, oversize_refused_from_the_header)
{
    struct fake *f = fake_new(NULL);
    /* One segment of 8193 words: 65,552 bytes with the table. */
    uint8_t hdr[8] = {0, 0, 0, 0, 0x01, 0x20, 0, 0};
    cr_assert_eq(feed(f, hdr, sizeof(hdr)), RPC_CLOSED);
    expect_abort(f, "the limit is 65536");
    fake_free(f);
}

Test(frame, lower_limit_applies)
{
    struct rpc_limits l;
    rpc_limits_default(&l);
    l.max_msg = 64;
    struct fake *f = fake_new(&l);
    uint8_t buf[PEER_BUF + 8];
    size_t n = peer_call(buf, 1, 0, 0, "a text that makes this call longer than 64 bytes");
    feed(f, buf, n);
    expect_abort(f, "the limit is 64");
    fake_free(f);
}

Test(frame, two_to_the_32_segments)
{
    struct fake *f = fake_new(NULL);
    uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
    feed(f, hdr, sizeof(hdr));
    expect_abort(f, "4294967296 segments");
    fake_free(f);
}

Test(frame, too_many_segments)
{
    struct fake *f = fake_new(NULL);
    uint8_t hdr[4] = {16, 0, 0, 0}; /* 17 segments */
    feed(f, hdr, sizeof(hdr));
    expect_abort(f, "at most 16");
    fake_free(f);
}

Test(frame, truncated_frame_waits)
{
    struct fake *f = fake_new(NULL);
    uint8_t buf[PEER_BUF + 8];
    size_t n = peer_bootstrap(buf, 1);
    cr_assert_eq(feed(f, buf, n - 1), RPC_OPEN);
    cr_assert_eq(f->nmsgs, 0);
    cr_assert_eq(f->c->in_len, n - 1);
    rpc_conn_close(f->c);
    cr_assert_eq(f->bad_release, 0);
    fake_free(f);
}

Test(frame, root_not_a_struct)
{
    struct fake *f = fake_new(NULL);
    /* Root: a list pointer. */
    uint8_t m[16] = {0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    feed(f, m, sizeof(m));
    expect_abort(f, "root is not");
    fake_free(f);
}

Test(frame, pointer_out_of_bounds)
{
    struct fake *f = fake_new(NULL);
    /* Root struct pointer to 100 words past a one-word segment. */
    uint8_t m[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0x90, 1, 0, 0, 1, 0, 1, 0};
    feed(f, m, sizeof(m));
    expect_abort(f, "bounds");
    fake_free(f);
}

Test(frame, empty_segment_root)
{
    struct fake *f = fake_new(NULL);
    uint8_t m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    feed(f, m, sizeof(m));
    /* A null root is no message at all. */
    expect_abort(f, "root is not");
    fake_free(f);
}

Test(frame, send_failure_closes)
{
    struct fake *f = fake_new(NULL);
    f->fail_send = true;
    uint8_t buf[PEER_BUF + 8];
    size_t n = peer_bootstrap(buf, 1);
    cr_assert_eq(feed(f, buf, n), RPC_CLOSED);
    cr_assert(strstr(f->c->why, "sending") != NULL);
    rpc_conn_close(f->c);
    cr_assert_eq(f->refs[1], 0, "bootstrap reference leaked");
    fake_free(f);
}

/* A host whose queue refused the message says why; an Abort being sent
 * when sending fails keeps its reason unless the host gave one. */
Test(frame, send_failure_keeps_the_hosts_reason)
{
    struct fake *f = fake_new(NULL);
    uint8_t buf[PEER_BUF + 8];
    f->fail_send = true;
    f->fail_why = "the output queue is full";
    cr_assert_eq(feed(f, buf, peer_bootstrap(buf, 1)), RPC_CLOSED);
    cr_assert_str_eq(f->c->why, "the output queue is full");
    rpc_conn_close(f->c);
    fake_free(f);
    f = fake_new(NULL);
    f->fail_send = true;
    rpc_conn_abort(f->c, "idle for 60 s");
    cr_assert_str_eq(f->c->why, "idle for 60 s", "the Abort's reason became \"%s\"", f->c->why);
    fake_free(f);
}
