/*
 * QEMU test program (init of tests/qemu/systems/ipc-edge.cue): endpoint
 * edge cases, with endpoints made at run time by EndpointFactory and raw
 * SQEs, several in flight at once.
 *   a. a round trip through one's own endpoint: what RECV delivers; forged
 *      call ids refused without disturbing the call; results delivered;
 *   b. a caller's result buffer too small for the results;
 *   c. the owner side released under queued and in-flight calls and a
 *      waiting RECV (and the last owner is what counts);
 *   d. the endpoint queue limit, filled by five children (ipc-flood);
 *   e. a client that exits while its call is served, or while it is
 *      queued (ipc-call-exit);
 *   f. RETURN_RECV: an answer and the next call in one entry; a failed
 *      RETURN part flagged, with no RECV started and a moved capability
 *      kept; its waiting RECV cancelled.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

#define EDGE_IFACE  0xed6e0000c0ffee01ull /* any id: the kernel does not interpret it */
#define CHILDREN    5u
#define FLOOD_CALLS 29u  /* per child: see user/tests/ipc-flood.c */
#define QUEUE_MAX   128u /* ENDPOINT_MAX_QUEUED, kernel/objects/endpoint.h */

static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));
static uint32_t factory, attenuator, spawner, timer, console;

static struct capos_cqe run(struct capos_sqe sqe)
{
    struct op o = op_submit(sqe);
    return op_wait(&o);
}

static struct op call_async(uint32_t cap, const void *p, uint32_t plen, void *r, uint32_t rlen)
{
    return op_submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                        .method = 7,
                                        .cap = cap,
                                        .interface_id = EDGE_IFACE,
                                        .params_addr = (uint64_t)p,
                                        .params_len = plen,
                                        .result_addr = (uint64_t)r,
                                        .result_len = rlen});
}

static struct capos_sqe recv_sqe(uint32_t server, void *buf, uint32_t len)
{
    return (struct capos_sqe){
        .opcode = CAPOS_OP_RECV, .cap = server, .result_addr = (uint64_t)buf, .result_len = len};
}

static int32_t ret(uint32_t server, uint32_t call_id, const void *p, uint32_t plen,
                   const struct capos_xfer *x, uint16_t nx)
{
    return run((struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                                  .cap = server,
                                  .call_id = call_id,
                                  .params_addr = (uint64_t)p,
                                  .params_len = plen,
                                  .xfer_count = nx,
                                  .xfer_addr = nx ? (uint64_t)x : 0})
        .result;
}

static int32_t release(uint32_t cap)
{
    return run((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = cap}).result;
}

/* The CapException type in a CALL's result buffer, or -1. */
static int exception_type(const struct capos_cqe *c, const void *buf)
{
    if (c->result != CAPOS_RESULT_EXCEPTION || !(c->flags & CAPOS_CQE_F_EXCEPTION))
        return -1;
    struct capn_seg segs[2];
    struct capn_msg m;
    if (capn_msg_read(&m, segs, 2, buf, c->result_len, 0) != CAPN_OK)
        return -1;
    return (int)CapException_get_type(CapException_read_root(&m));
}

static bool disconnected(const struct capos_cqe *c, const void *buf)
{
    return exception_type(c, buf) == CapException_Type_disconnected;
}

/* ---- Kernel capabilities used along the way ---- */

/* A Timer of our own to move around: Timer wrapped to `now`. */
static uint32_t timer_copy(void)
{
    static const uint16_t now_only[] = {Timer_now_METHOD};
    uint32_t caps[1], rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, 1);
    Attenuator_wrap_Params_b p = Attenuator_wrap_begin(&c);
    Attenuator_wrap_Params_set_cap(p, capnpc_call_add_cap(&c, timer));
    List_UInt16_b l = Attenuator_wrap_Params_init_methods(p, 1);
    List_UInt16_set(l, 0, now_only[0]);
    Attenuator_wrap_Results_r r;
    if (Attenuator_wrap_send(&capos_transport, attenuator, &c, &r) != CAPNPC_OK)
        return 0;
    uint32_t i = Attenuator_wrap_Results_get_wrapped(r);
    return i < c.reply.ncaps ? rcaps[i] : 0;
}

static bool timer_works(uint32_t t)
{
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return Timer_now_call(&capos_transport, t, &c, &r) == CAPNPC_OK &&
           Timer_now_Results_get_ns(r) > 0;
}

/* ---- a. Round trip through one's own endpoint ---- */

static void test_round_trip(void)
{
    uint32_t s, k, s2, k2;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k) &&
              test_create_endpoint(factory, EDGE_IFACE, &s2, &k2),
          "EndpointFactory.create: two endpoints, each a server and a client facet");
    static const uint8_t cp[24] = "ipc-edge: call params..";
    static uint8_t cr[64], rb[256];
    memset(cr, 0xee, sizeof(cr));
    struct op call = call_async(k, cp, sizeof(cp), cr, sizeof(cr));
    struct capos_cqe rc = run(recv_sqe(s, rb, sizeof(rb)));
    const struct capos_recv_header *h = (const void *)rb;
    CHECK(rc.result == 0 && rc.call_id != 0 && h->call_id == rc.call_id && h->method == 7 &&
              h->interface_id == EDGE_IFACE && h->cap_count == 0 && rc.cap_count == 0 &&
              h->params_len == sizeof(cp) && h->params_offset == sizeof(*h) &&
              rc.result_len == sizeof(*h) + sizeof(cp) &&
              memcmp(rb + h->params_offset, cp, sizeof(cp)) == 0,
          "RECV: header (call id %u, method %u, interface, %u params bytes at %u) and params",
          rc.call_id, h->method, h->params_len, h->params_offset);
    uint32_t id = rc.call_id;
    CHECK(ret(s, id + 1000, 0, 0, 0, 0) == CAPOS_E_BAD_CALL_ID,
          "RETURN with a forged call id (+1000): CAPOS_E_BAD_CALL_ID");
    CHECK(ret(s, 0, 0, 0, 0, 0) == CAPOS_E_BAD_CALL_ID,
          "RETURN with call id 0: CAPOS_E_BAD_CALL_ID");
    CHECK(ret(s2, id, 0, 0, 0, 0) == CAPOS_E_BAD_CALL_ID,
          "RETURN of that call id through another endpoint: CAPOS_E_BAD_CALL_ID");
    CHECK(ret(k, id, 0, 0, 0, 0) == CAPOS_E_NOT_PERMITTED,
          "RETURN through the client facet: CAPOS_E_NOT_PERMITTED");
    CHECK(!op_poll(&call), "after the refused RETURNs the call is still in flight");
    static const uint8_t res[40] = "ipc-edge: results of the call, 40 bytes";
    CHECK(ret(s, id, res, sizeof(res), 0, 0) == 0, "RETURN with the right call id completes");
    struct capos_cqe cc = op_wait(&call);
    CHECK(cc.result == 0 && cc.flags == 0 && cc.result_len == sizeof(res) && cc.cap_count == 0 &&
              memcmp(cr, res, sizeof(res)) == 0 && cr[sizeof(res)] == 0xee,
          "the caller got the results (%d, %u bytes), nothing past them", cc.result, cc.result_len);
    CHECK(ret(s, id, res, sizeof(res), 0, 0) == CAPOS_E_BAD_CALL_ID,
          "a second RETURN of the answered call: CAPOS_E_BAD_CALL_ID");

    /* A RETURN flagged as an exception reaches the caller as one. */
    call = call_async(k, cp, sizeof(cp), cr, sizeof(cr));
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    CHECK(rc.result == 0 && rc.call_id == id + 1, "the next call id of the endpoint is %u",
          rc.call_id);
    struct capos_sqe ex = {.opcode = CAPOS_OP_RETURN,
                           .flags = CAPOS_SQE_F_EXCEPTION,
                           .cap = s,
                           .call_id = rc.call_id,
                           .params_addr = (uint64_t)res,
                           .params_len = sizeof(res)};
    CHECK(run(ex).result == 0, "RETURN flagged as an exception completes");
    cc = op_wait(&call);
    CHECK(cc.result == CAPOS_RESULT_EXCEPTION && cc.flags == CAPOS_CQE_F_EXCEPTION &&
              cc.result_len == sizeof(res),
          "the caller's CQE says exception (%d, flags %u)", cc.result, cc.flags);
    release(s2);
    release(k2);

    /* A RECV buffer too small for the message leaves it queued, whether
     * the RECV came first (the CALL is then queued) or the CALL did. */
    struct op small = op_submit(recv_sqe(s, rb, 32));
    call = call_async(k, cp, sizeof(cp), cr, sizeof(cr));
    CHECK(op_poll(&small) && small.cqe.result == CAPOS_E_RESULT_TOO_SMALL && !op_poll(&call),
          "a waiting 32-byte RECV: the CALL fails it with CAPOS_E_RESULT_TOO_SMALL (%d) and waits",
          small.cqe.result);
    CHECK(run(recv_sqe(s, rb, 71)).result == CAPOS_E_RESULT_TOO_SMALL,
          "RECV one byte short of header + params: CAPOS_E_RESULT_TOO_SMALL, message kept");
    rc = run(recv_sqe(s, rb, 72));
    CHECK(rc.result == 0 && rc.result_len == 72 && ret(s, rc.call_id, 0, 0, 0, 0) == 0 &&
              op_wait(&call).result == 0,
          "RECV of exactly header + params gets it, and it is answered");

    /* ---- b. The caller's result buffer is too small ---- */
    uint32_t t2 = timer_copy();
    static const uint8_t big[32] = "ipc-edge: 32 bytes of results..";
    memset(cr, 0xee, sizeof(cr));
    call = call_async(k, cp, sizeof(cp), cr, 16);
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    struct capos_xfer mv = {t2, CAPOS_XFER_MOVE};
    int32_t r = ret(s, rc.call_id, big, sizeof(big), &mv, 1);
    cc = op_wait(&call);
    CHECK(
        cc.result == CAPOS_E_RESULT_TOO_SMALL && cc.result_len == 0 && cr[0] == 0xee,
        "32 bytes of results for a 16-byte buffer: the caller gets CAPOS_E_RESULT_TOO_SMALL (%d), "
        "nothing written",
        cc.result);
    CHECK(
        r == CAPOS_E_RESULT_TOO_SMALL,
        "and the server's RETURN completes with the caller's error, CAPOS_E_RESULT_TOO_SMALL (%d)",
        r);
    CHECK(t2 && timer_works(t2), "the capability the RETURN tried to move is still the server's");
    CHECK(ret(s, rc.call_id, big, sizeof(big), 0, 0) == CAPOS_E_BAD_CALL_ID,
          "the call is over: RETURN again is CAPOS_E_BAD_CALL_ID");
    call = call_async(k, cp, sizeof(cp), cr, 32);
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    struct capos_xfer cpy = {t2, CAPOS_XFER_COPY};
    r = ret(s, rc.call_id, big, sizeof(big), &cpy, 1);
    cc = op_wait(&call);
    CHECK(r == CAPOS_E_RESULT_TOO_SMALL && cc.result == CAPOS_E_RESULT_TOO_SMALL &&
              cc.cap_count == 0,
          "32 bytes fit a 32-byte buffer but their capability record does not: both sides %d, %d",
          r, cc.result);
    call = call_async(k, cp, sizeof(cp), cr, 32);
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    r = ret(s, rc.call_id, big, sizeof(big), 0, 0);
    cc = op_wait(&call);
    CHECK(r == 0 && cc.result == 0 && cc.result_len == 32 && memcmp(cr, big, 32) == 0,
          "32 bytes of results into a 32-byte buffer: delivered");
    release(t2);
    release(s);
    release(k);
}

/* ---- c. The owner side released ---- */

static void test_owner_release(void)
{
    uint32_t s, k, s2, k2;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k) &&
              test_create_endpoint(factory, EDGE_IFACE, &s2, &k2),
          "two more endpoints");
    static uint8_t cr[5][128], rb[256], rb2[256];
    static const uint64_t cp[2] = {1, 2};
    struct op calls[5];
    calls[0] = call_async(k, cp, sizeof(cp), cr[0], 128);
    struct capos_cqe rc = run(recv_sqe(s, rb, sizeof(rb)));
    for (int i = 1; i < 3; i++)
        calls[i] = call_async(k, cp, sizeof(cp), cr[i], 128);
    /* The third queued call moves a capability: reserved while queued. */
    uint32_t t2 = timer_copy();
    struct capos_xfer mv = {t2, CAPOS_XFER_MOVE};
    calls[3] = op_submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                            .method = 7,
                                            .cap = k,
                                            .interface_id = EDGE_IFACE,
                                            .result_addr = (uint64_t)cr[3],
                                            .result_len = 128,
                                            .xfer_count = 1,
                                            .xfer_addr = (uint64_t)&mv});
    static uint8_t tiny_buf[8];
    struct op tiny = call_async(k, cp, sizeof(cp), tiny_buf, sizeof(tiny_buf));
    struct op recv = op_submit(recv_sqe(s2, rb2, sizeof(rb2)));
    CHECK(rc.result == 0 && !op_poll(&calls[3]) && !op_poll(&recv),
          "one call received and in flight, three queued, a RECV waiting on the other endpoint");
    CHECK(t2 && !timer_works(t2), "a capability being moved by a queued call cannot be used");
    CHECK(release(s) == 0, "RELEASE of the owner side");
    int n = 0;
    for (int i = 1; i < 4; i++) {
        struct capos_cqe c = op_wait(&calls[i]);
        n += disconnected(&c, cr[i]);
    }
    CHECK(n == 3, "all 3 queued calls completed with a disconnected CapException (%d)", n);
    /* endpoint.c close_endpoint: fail_caller() posts the CQE, which clears
     * m->token.caller, so free_msg()'s xfer_settle() gets no sender and
     * cannot roll the move back: the slot stays reserved. */
    bool usable = timer_works(t2);
    int32_t rel = release(t2);
    CHECK(usable && rel == 0,
          "the capability the disconnected call was moving is the caller's again (Timer.now %s, "
          "RELEASE %d)",
          usable ? "works" : "fails", rel);
    struct capos_cqe c = op_wait(&calls[0]);
    CHECK(disconnected(&c, cr[0]), "the call in flight too (%d, type %d)", c.result,
          exception_type(&c, cr[0]));
    c = op_wait(&tiny);
    CHECK(c.result == CAPOS_E_DISCONNECTED && c.flags == 0 && c.result_len == 0,
          "a queued call whose 8-byte buffer cannot hold the CapException: bare "
          "CAPOS_E_DISCONNECTED (%d)",
          c.result);
    uint32_t t3 = timer_copy();
    mv.cap = t3;
    calls[4] = op_submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                            .method = 7,
                                            .cap = k,
                                            .interface_id = EDGE_IFACE,
                                            .result_addr = (uint64_t)cr[4],
                                            .result_len = 128,
                                            .xfer_count = 1,
                                            .xfer_addr = (uint64_t)&mv});
    c = op_wait(&calls[4]);
    CHECK(disconnected(&c, cr[4]), "a new CALL on the client facet: disconnected at once");
    /* Same path in endpoint_call (!ep->open): fail_caller, then free_msg. */
    usable = t3 && timer_works(t3);
    rel = release(t3);
    CHECK(usable && rel == 0,
          "the capability that refused CALL tried to move is still the caller's (Timer.now %s, "
          "RELEASE %d)",
          usable ? "works" : "fails", rel);
    CHECK(ret(s, rc.call_id, 0, 0, 0, 0) == CAPOS_E_BAD_CAP,
          "RETURN through the released owner: CAPOS_E_BAD_CAP");
    CHECK(!op_poll(&recv) && release(s2) == 0 && op_wait(&recv).result == CAPOS_E_DISCONNECTED,
          "a RECV waiting when its endpoint's owner is released: CAPOS_E_DISCONNECTED");
    release(k);
    release(k2);

    /* The last owner capability closes the endpoint, not the first. An
     * owner side travels by RETURN (answered at once), never in a CALL: a
     * queued message holding it would keep its endpoint open for good. */
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k),
          "an endpoint whose owner side is copied");
    struct capos_xfer x = {s, CAPOS_XFER_COPY};
    struct capos_cqe bad = run((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                  .cap = k,
                                                  .interface_id = EDGE_IFACE,
                                                  .result_addr = (uint64_t)cr[0],
                                                  .result_len = 128,
                                                  .xfer_count = 1,
                                                  .xfer_addr = (uint64_t)&x});
    CHECK(bad.result == CAPOS_E_BAD_TRANSFER,
          "a CALL carrying an endpoint's owner side is refused: %d", bad.result);
    /* The same rules hold for a descriptor carried in the entry itself
     * (CAPOS_SQE_F_XFER_INLINE): the owner side, the called capability
     * moved, an unknown mode, a capability that does not exist. */
    const struct {
        uint64_t word;
        int32_t want;
        const char *what;
    } inl[] = {
        {capos_xfer_inline(s, CAPOS_XFER_COPY), CAPOS_E_BAD_TRANSFER, "the owner side"},
        {capos_xfer_inline(k, CAPOS_XFER_MOVE), CAPOS_E_BAD_TRANSFER, "the called capability moved"},
        {capos_xfer_inline(k, 7), CAPOS_E_BAD_TRANSFER, "mode 7"},
        {capos_xfer_inline(0x7fff0, CAPOS_XFER_COPY), CAPOS_E_BAD_CAP, "no such capability"},
    };
    for (unsigned i = 0; i < sizeof(inl) / sizeof(inl[0]); i++) {
        struct capos_cqe b = run((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                    .flags = CAPOS_SQE_F_XFER_INLINE,
                                                    .cap = k,
                                                    .interface_id = EDGE_IFACE,
                                                    .result_addr = (uint64_t)cr[0],
                                                    .result_len = 128,
                                                    .xfer_count = 1,
                                                    .xfer_addr = inl[i].word});
        CHECK(b.result == inl[i].want, "an inline descriptor naming %s is refused: %d (want %d)",
              inl[i].what, b.result, inl[i].want);
    }
    calls[0] = call_async(k, cp, sizeof(cp), cr[0], 128);
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    CHECK(rc.result == 0 && ret(s, rc.call_id, 0, 0, &x, 1) == 0,
          "a RETURN may carry the owner side");
    struct capos_cqe got = op_wait(&calls[0]);
    const struct capos_cap_record *rec = (const void *)cr[0];
    uint32_t s_copy = rec->cap;
    CHECK(got.result == 0 && got.cap_count == 1 && rec->interface_id == EDGE_IFACE,
          "the owner side copied to ourselves through a RETURN");
    calls[1] = call_async(k, cp, sizeof(cp), cr[1], 128);
    CHECK(release(s) == 0 && !op_poll(&calls[1]),
          "releasing one owner capability leaves the endpoint open: the call waits");
    rc = run(recv_sqe(s_copy, rb, sizeof(rb)));
    CHECK(rc.result == 0 && ret(s_copy, rc.call_id, cp, sizeof(cp), 0, 0) == 0 &&
              op_wait(&calls[1]).result == 0,
          "the other owner capability receives and answers it");

    /* A wrapper of the owner side may only CALL (it cannot RECV), so it is
     * no owner: releasing the last real owner must still close the
     * endpoint. */
    uint32_t caps[1], rcaps[1];
    struct capnpc_call cl;
    capnpc_call_init(&cl, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&cl, caps, 1, rcaps, 1);
    Attenuator_wrap_Params_b wp = Attenuator_wrap_begin(&cl);
    Attenuator_wrap_Params_set_cap(wp, capnpc_call_add_cap(&cl, s_copy));
    List_UInt16_set(Attenuator_wrap_Params_init_methods(wp, 1), 0, 7);
    Attenuator_wrap_Results_r wr;
    uint32_t w = 0;
    if (Attenuator_wrap_send(&capos_transport, attenuator, &cl, &wr) == CAPNPC_OK &&
        Attenuator_wrap_Results_get_wrapped(wr) < cl.reply.ncaps)
        w = rcaps[Attenuator_wrap_Results_get_wrapped(wr)];
    CHECK(w && run(recv_sqe(w, rb, sizeof(rb))).result == CAPOS_E_NOT_PERMITTED,
          "a wrapper of the owner side cannot RECV");
    calls[2] = call_async(k, cp, sizeof(cp), cr[2], 128);
    CHECK(release(s_copy) == 0, "release the last owner capability (a wrapper of it remains)");
    bool closed = op_poll(&calls[2]);
    CHECK(closed && disconnected(&calls[2].cqe, cr[2]),
          "with only a wrapper of the owner side left, nobody can RECV: the endpoint must close "
          "and its queued call end with a disconnected CapException (call %s)",
          closed ? "completed" : "still waiting");
    release(w);
    c = op_wait(&calls[2]);
    CHECK(disconnected(&c, cr[2]), "after the wrapper is released too, the call is disconnected");
    release(k);
}

/* ---- c'. The server has no room for a call's capabilities ---- */

static void test_server_table_full(void)
{
    uint32_t s, k;
    uint32_t t2 = timer_copy();
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k) && t2,
          "an endpoint, and a capability to move through it");
    static uint8_t cr[128], rb[256];
    struct capos_xfer mv = {t2, CAPOS_XFER_MOVE};
    struct op call = op_submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                  .method = 7,
                                                  .cap = k,
                                                  .interface_id = EDGE_IFACE,
                                                  .result_addr = (uint64_t)cr,
                                                  .result_len = sizeof(cr),
                                                  .xfer_count = 1,
                                                  .xfer_addr = (uint64_t)&mv});
    /* Fill our own table (we are the server too). */
    static uint32_t fill[300];
    uint32_t n = 0;
    while (n < 300 && (fill[n] = timer_copy()) != 0)
        n++;
    struct capos_cqe rc = run(recv_sqe(s, rb, sizeof(rb)));
    struct capos_cqe cc = op_wait(&call);
    CHECK(rc.result == CAPOS_E_NO_SPACE && exception_type(&cc, cr) == CapException_Type_overloaded,
          "table full after %u more capabilities: the RECV gets CAPOS_E_NO_SPACE (%d), the caller "
          "an overloaded CapException (type %d)",
          n, rc.result, exception_type(&cc, cr));
    for (uint32_t i = 0; i < n; i++)
        capos_release(fill[i]);
    capos_flush_releases();
    /* endpoint.c deliver(): fail_caller() clears m->token.caller before
     * free_msg(), so the move is not rolled back either. */
    bool usable = timer_works(t2);
    int32_t rel = release(t2);
    CHECK(usable && rel == 0,
          "the capability the refused call was moving is the caller's again (Timer.now %s, "
          "RELEASE %d)",
          usable ? "works" : "fails", rel);
    release(s);
    release(k);
}

/* ---- d. The endpoint queue limit ---- */

static void test_queue_limit(void)
{
    uint32_t fs, fk, rs, rk;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &fs, &fk) &&
              test_create_endpoint(factory, EDGE_IFACE, &rs, &rk),
          "a flood endpoint and a ready endpoint");
    struct capos_grant g[3] = {{"console", Console_INTERFACE_ID, console},
                               {"flood", EDGE_IFACE, fk},
                               {"ready", EDGE_IFACE, rk}};
    uint32_t handles[CHILDREN];
    uint32_t spawned = 0;
    for (uint32_t i = 0; i < CHILDREN; i++)
        spawned += (handles[i] = test_spawn(spawner, "ipc-flood", g, 3, 0)) != 0;
    CHECK(spawned == CHILDREN, "spawned %u ipc-flood children, each with the client facet",
          spawned);
    static uint8_t rb[256];
    const struct capos_recv_header *h = (const void *)rb;
    uint64_t reported = 0;
    uint32_t ready = 0;
    for (uint32_t i = 0; i < spawned; i++) {
        struct capos_cqe rc = run(recv_sqe(rs, rb, sizeof(rb)));
        if (rc.result == 0 && h->params_len == 8) {
            reported += *(const uint64_t *)(rb + h->params_offset);
            ready += ret(rs, rc.call_id, 0, 0, 0, 0) == 0;
        }
    }
    /* Each child signals only after all its CALLs were taken, so now they
     * are all in: 5 x 29 = 145 CALLs for a queue of 128. */
    CHECK(ready == CHILDREN, "all %u children have submitted their calls", ready);
    /* CANCEL reaches only the canceller's own calls: the children's
     * user_data (1000 + i, user/tests/ipc-flood.c) mean nothing here, and
     * every queued call is still served below. */
    uint32_t not_found = 0;
    for (uint32_t i = 0; i < FLOOD_CALLS; i++)
        not_found +=
            run((struct capos_sqe){.opcode = CAPOS_OP_CANCEL, .target_user_data = 1000 + i})
                .result == CAPOS_E_NOT_FOUND;
    CHECK(not_found == FLOOD_CALLS,
          "CANCEL of another process's calls finds nothing (%u of %u not found)", not_found,
          (unsigned)FLOOD_CALLS);
    static uint8_t cr[128];
    static const uint64_t cp[2] = {0, 0};
    struct op mine = call_async(fk, cp, sizeof(cp), cr, sizeof(cr));
    CHECK(op_poll(&mine) && mine.cqe.result == CAPOS_E_NO_SPACE,
          "the queue is full: one more CALL completes at once with CAPOS_E_NO_SPACE (%d)",
          mine.cqe.result);
    uint32_t served = 0, bad = 0;
    for (uint32_t i = 0; i < QUEUE_MAX; i++) {
        struct capos_cqe rc = run(recv_sqe(fs, rb, sizeof(rb)));
        if (rc.result != 0 || h->params_len != 16) {
            bad++;
            continue;
        }
        bad += ret(fs, rc.call_id, rb + h->params_offset, 16, 0, 0) != 0;
        served++;
    }
    struct op extra = op_submit(recv_sqe(fs, rb, sizeof(rb)));
    CHECK(served == QUEUE_MAX && bad == 0 && !op_poll(&extra),
          "served exactly %u queued calls (%u errors), then the queue is empty", served, bad);
    int32_t sum = 0;
    uint32_t sane = 0;
    for (uint32_t i = 0; i < spawned; i++) {
        int32_t code = test_wait_exit(handles[i]);
        sane += code >= 0 && code <= (int32_t)FLOOD_CALLS;
        sum += code;
        release(handles[i]);
    }
    /* 5 x 29 CALLs, 128 queued: 17 refused with NO_SPACE, wherever they fell. */
    CHECK(sane == spawned && sum == (int32_t)(CHILDREN * FLOOD_CALLS - QUEUE_MAX) &&
              reported == (uint64_t)sum,
          "the children's NO_SPACE counts (exit codes) add up to 5 x 29 - 128 = %d (reported %u)",
          sum, (unsigned)reported);
    CHECK(release(fs) == 0 && op_wait(&extra).result == CAPOS_E_DISCONNECTED,
          "the RECV left waiting ends with CAPOS_E_DISCONNECTED when the owner goes");
    release(fk);
    release(rs);
    release(rk);
}

/* ---- e. A client that exits ---- */

static void test_client_exit(void)
{
    uint32_t s, k;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k), "an endpoint for ipc-call-exit");
    struct capos_grant g[2] = {{"console", Console_INTERFACE_ID, console}, {"svc", EDGE_IFACE, k}};
    static uint8_t rb[256];
    const struct capos_recv_header *h = (const void *)rb;
    struct op recv = op_submit(recv_sqe(s, rb, sizeof(rb)));
    uint32_t child = test_spawn(spawner, "ipc-call-exit", g, 2, 0);
    struct capos_cqe rc = op_wait(&recv);
    CHECK(child && rc.result == 0 && h->params_len == 16 &&
              *(const uint64_t *)(rb + h->params_offset) == 0xca11e8177ull,
          "the waiting RECV got the child's call");
    CHECK(test_wait_exit(child) == 0, "the child exited (code 0) with its call in flight");
    release(child);
    uint32_t t2 = timer_copy();
    static const uint64_t res[2] = {3, 4};
    struct capos_xfer mv = {t2, CAPOS_XFER_MOVE};
    int32_t r = ret(s, rc.call_id, res, sizeof(res), &mv, 1);
    CHECK(r == CAPOS_E_DISCONNECTED, "RETURN to the exited caller: CAPOS_E_DISCONNECTED (%d)", r);
    CHECK(t2 && timer_works(t2), "the capability the RETURN tried to move is still ours");
    CHECK(ret(s, rc.call_id, res, sizeof(res), 0, 0) == CAPOS_E_BAD_CALL_ID,
          "the dropped call's id is no longer valid");

    /* Now the child's call is still queued when it exits: it leaves the
     * queue then (kernel/objects/endpoint.c, call_abandon), so the next
     * RECV finds only ours. */
    child = test_spawn(spawner, "ipc-call-exit", g, 2, 0);
    CHECK(child && test_wait_exit(child) == 0, "a second child exited with its call queued");
    release(child);
    static uint8_t cr[64];
    static const uint64_t mine[2] = {0x5e1f, 0};
    struct op call = call_async(k, mine, sizeof(mine), cr, sizeof(cr));
    rc = run(recv_sqe(s, rb, sizeof(rb)));
    CHECK(rc.result == 0 && h->params_len == 16 &&
              *(const uint64_t *)(rb + h->params_offset) == 0x5e1f,
          "the dead caller's message is gone: RECV delivers the next one (ours)");
    CHECK(ret(s, rc.call_id, res, sizeof(res), 0, 0) == 0 && op_wait(&call).result == 0,
          "which is answered normally");
    release(t2);
    release(s);
    release(k);
}

/* A CALL whose params could never fit a RECV (the header and the
 * capability records come first) is refused when it is made, instead of
 * blocking the queue for every later caller. */
/* ---- f. RETURN_RECV: the answer and the next RECV as one entry ---- */

static struct capos_sqe return_recv_sqe(uint32_t server, uint32_t call_id, const void *p,
                                        uint32_t plen, void *buf, uint32_t len)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_RETURN_RECV,
                              .cap = server,
                              .call_id = call_id,
                              .params_addr = (uint64_t)p,
                              .params_len = plen,
                              .result_addr = (uint64_t)buf,
                              .result_len = len};
}

static void test_return_recv(void)
{
    uint32_t s, k;
    CHECK(test_create_endpoint(factory, EDGE_IFACE, &s, &k), "an endpoint for RETURN_RECV");
    static const uint8_t cp[16] = "return_recv....";
    static const uint8_t res[24] = "the answer to call A...";
    static uint8_t ca[64], cb[64], cc[64], cd[8], rb[256];
    struct op a = call_async(k, cp, sizeof(cp), ca, sizeof(ca));
    struct capos_cqe rc = run(recv_sqe(s, rb, sizeof(rb)));
    struct op b = call_async(k, cp, sizeof(cp), cb, sizeof(cb));
    /* Answer A and take B, which is queued: one CQE, B's. */
    struct capos_cqe rr = run(return_recv_sqe(s, rc.call_id, res, sizeof(res), rb, sizeof(rb)));
    const struct capos_recv_header *h = (const void *)rb;
    struct capos_cqe ac = op_wait(&a);
    CHECK(rc.result == 0 && rr.result == 0 && rr.flags == 0 && rr.call_id != rc.call_id &&
              h->call_id == rr.call_id && ac.result == 0 && ac.result_len == sizeof(res) &&
              memcmp(ca, res, sizeof(res)) == 0 && !op_poll(&b),
          "RETURN_RECV: A answered (%d, %u bytes) and B received (%d, call id %u) in one entry",
          ac.result, ac.result_len, rr.result, rr.call_id);
    /* A forged call id: the RETURN's error, flagged, and no RECV started
     * (the next call stays queued until a RECV of our own takes it). */
    uint32_t idb = rr.call_id;
    struct op c = call_async(k, cp, sizeof(cp), cc, sizeof(cc));
    rr = run(return_recv_sqe(s, idb + 1000, res, sizeof(res), rb, sizeof(rb)));
    CHECK(rr.result == CAPOS_E_BAD_CALL_ID && (rr.flags & CAPOS_CQE_F_RETURN_FAILED) &&
              !op_poll(&b) && !op_poll(&c),
          "RETURN_RECV with a forged call id: CAPOS_E_BAD_CALL_ID and the RETURN-failed flag (%d, "
          "flags 0x%x); B still in flight, C still queued",
          rr.result, rr.flags);
    /* A result buffer too small for B's answer: the RETURN part fails
     * for the server too, and what it moved is still its own. */
    uint32_t t = timer_copy();
    struct capos_sqe mv = return_recv_sqe(s, idb, res, sizeof(res), rb, sizeof(rb));
    mv.flags = CAPOS_SQE_F_XFER_INLINE;
    mv.xfer_count = 1;
    mv.xfer_addr = capos_xfer_inline(t, CAPOS_XFER_MOVE);
    struct op d = call_async(k, cp, sizeof(cp), cd, sizeof(cd)); /* 8 bytes: too small */
    struct capos_cqe rd = run(recv_sqe(s, rb, sizeof(rb)));      /* takes C */
    struct capos_cqe re = run(recv_sqe(s, rb, sizeof(rb)));      /* takes D */
    mv.call_id = re.call_id;
    rr = run(mv);
    CHECK(rd.result == 0 && re.result == 0 && rr.result == CAPOS_E_RESULT_TOO_SMALL &&
              (rr.flags & CAPOS_CQE_F_RETURN_FAILED) && t && timer_works(t),
          "RETURN_RECV moving a capability to a caller whose buffer is too small: %d, the "
          "RETURN-failed flag, and the capability is still the server's",
          rr.result);
    struct capos_cqe dc = op_wait(&d);
    CHECK(dc.result == CAPOS_E_RESULT_TOO_SMALL, "the caller got CAPOS_E_RESULT_TOO_SMALL (%d)",
          dc.result);
    /* Nothing queued: the RECV part waits, and can be cancelled. */
    CHECK(ret(s, idb, res, sizeof(res), 0, 0) == 0, "B answered by a plain RETURN");
    struct op w = op_submit(return_recv_sqe(s, rd.call_id, res, sizeof(res), rb, sizeof(rb)));
    struct capos_cqe cdone = op_wait(&c);
    CHECK(cdone.result == 0 && !op_poll(&w),
          "RETURN_RECV with nothing queued: C answered, the RECV part waits");
    struct capos_cqe cn =
        run((struct capos_sqe){.opcode = CAPOS_OP_CANCEL, .target_user_data = w.ud});
    struct capos_cqe wc = op_wait(&w);
    CHECK(cn.result == 0 && wc.result == CAPOS_E_CANCELLED && !(wc.flags & CAPOS_CQE_F_RETURN_FAILED),
          "its waiting RECV cancelled (%d, %d)", cn.result, wc.result);
    op_wait(&b);
    release(t);
    release(s);
    release(k);
}

static void test_oversized_call(void)
{
    static uint8_t big[CAPOS_MAX_PARAMS_LEN] __attribute__((aligned(8)));
    uint32_t server, client;
    if (!test_create_endpoint(factory, EDGE_IFACE, &server, &client))
        return;
    struct capos_cqe c = run((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                .cap = client,
                                                .interface_id = EDGE_IFACE,
                                                .params_addr = (uint64_t)big,
                                                .params_len = sizeof(big),
                                                .result_addr = (uint64_t)results,
                                                .result_len = sizeof(results)});
    CHECK(c.result == CAPOS_E_TOO_LARGE,
          "a CALL with 64 KiB of params (no RECV could hold it) is refused: %d", c.result);
    struct op small = call_async(client, params, 16, results, sizeof(results));
    static uint8_t rbuf[256] __attribute__((aligned(8)));
    struct capos_cqe r = run(recv_sqe(server, rbuf, sizeof(rbuf)));
    CHECK(r.result == 0, "the next CALL is received normally: %d", r.result);
    CHECK(ret(server, r.call_id, params, 16, 0, 0) == 0, "and answered");
    struct capos_cqe sc = op_wait(&small);
    CHECK(sc.result == 0, "its caller gets the answer: %d", sc.result);
    release(client);
    release(server);
}

int main(void)
{
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    attenuator = capos_capset_find("attenuator", Attenuator_INTERFACE_ID, 0);
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    CHECK(factory && attenuator && spawner && timer && console,
          "the CapSet has what the test needs");
    test_round_trip();
    test_owner_release();
    test_server_table_full();
    test_queue_limit();
    test_client_exit();
    test_oversized_call();
    test_return_recv();
    capos_printf("ipc-edge: %d failures\n", failures);
    return failures;
}
