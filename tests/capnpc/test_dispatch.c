/*
 * Generated client stubs and server dispatch for tests/capnpc/test.capnp:
 * every stub goes through a loopback transport into the generated dispatch
 * of a test server, and the dispatch refuses what it must (unknown ordinal,
 * params that are not a struct, missing handlers, results that do not fit).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "testgen.h"

/* ---- A Service implementation ---- */

struct server {
    int calls[Service_METHOD_COUNT + 1];
    int32_t kw_int;
    uint8_t kw_out;
    bool kw_c;
    uint32_t seen_cap; /* capability ids handoff received */
    uint32_t seen_other;
    int raise; /* stats answers with an exception */
};

struct loop;
static uint32_t loop_add_result_cap(struct loop *l, uint32_t id);
static uint32_t loop_param_cap(struct loop *l, uint32_t index);

static int h_ping(void *self, Service_ping_Params_r p, Service_ping_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_ping_METHOD]++;
    return CAPNPC_OK;
}

static int h_add(void *self, Service_add_Params_r p, Service_add_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_add_METHOD]++;
    Service_add_Results_set_sum(r, Service_add_Params_get_a(p) + Service_add_Params_get_b(p));
    return CAPNPC_OK;
}

static int h_echo(void *self, Service_echo_Params_r p, Service_echo_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_echo_METHOD]++;
    struct capn_text t = Service_echo_Params_get_text(p);
    struct capn_data d = Service_echo_Params_get_data(p);
    Service_echo_Results_set_text(r, t.str, t.len);
    Service_echo_Results_set_data(r, d.ptr, d.len);
    return CAPNPC_OK;
}

static int h_store(void *self, Service_store_Params_r p, Service_store_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_store_METHOD]++;
    List_UInt32_r items = Service_store_Params_get_items(p);
    uint32_t sum = Inner_get_a(Service_store_Params_get_inner(p));
    for (uint32_t i = 0; i < List_UInt32_len(items); i++)
        sum += List_UInt32_get(items, i);
    sum += (uint32_t)Service_store_Params_get_color(p) * 1000;
    sum += Service_store_Params_get_flag(p) ? 10000 : 0;
    Service_store_Results_set_count(r, sum);
    return CAPNPC_OK;
}

static int h_scale(void *self, Service_scale_Params_r p, Service_scale_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_scale_METHOD]++;
    Service_scale_Results_set_y(r, Service_scale_Params_get_x(p) * Service_scale_Params_get_k(p));
    return CAPNPC_OK;
}

static int h_handoff(void *self, Service_handoff_Params_r p, Service_handoff_Results_b r, void *ctx)
{
    struct server *s = self;
    s->calls[Service_handoff_METHOD]++;
    s->seen_cap = loop_param_cap(ctx, Service_handoff_Params_get_target(p));
    s->seen_other = loop_param_cap(ctx, Service_handoff_Params_get_other(p));
    Service_handoff_Results_set_back(r, loop_add_result_cap(ctx, s->seen_cap + 100));
    return CAPNPC_OK;
}

static int h_stats(void *self, Service_stats_Params_r p, Service_stats_Results_b r, void *ctx)
{
    struct server *s = self;
    s->calls[Service_stats_METHOD]++;
    if (s->raise) {
        /* An exception replaces the results: a fresh root of another type. */
        struct capn_bld *b = r.s.b;
        capn_bld_reset(b);
        Inner_b e = Inner_build_root(b);
        Inner_set_s(e, "refused", 7);
        return CAPNPC_EXCEPTION;
    }
    struct capn_text t = Inner_get_s(p);
    Inner_set_a(r, Inner_get_a(p) * 2);
    Inner_set_s(r, t.str, t.len);
    Inner_set_color(r, Inner_get_color(p));
    return CAPNPC_OK;
}

static int h_choose(void *self, Choice_r p, Service_choose_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_choose_METHOD]++;
    Service_choose_Results_set_ok(r, Choice_which(p) == Choice_which_s && Choice_get_s(p).len == 3);
    return CAPNPC_OK;
}

static int h_wrap(void *self, Service_wrap_Params_r p, Service_wrap_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_wrap_METHOD]++;
    return Service_wrap_Results_set_value(r, Service_wrap_Params_get_value(p)) == CAPN_OK
               ? CAPNPC_OK
               : CAPNPC_E_BAD_PARAMS;
}

static int h_keywords(void *self, Service_keywords_Params_r p, Service_keywords_Results_b r,
                      void *ctx)
{
    struct server *s = self;
    s->calls[Service_keywords_METHOD]++;
    s->kw_int = Service_keywords_Params_get_int(p);
    s->kw_out = Service_keywords_Params_get_out(p);
    s->kw_c = Service_keywords_Params_get_c(p);
    return CAPNPC_OK;
}

static int h_extra(void *self, SubService_extra_Params_r p, SubService_extra_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_METHOD_COUNT]++;
    SubService_extra_Results_set_n(r, 42);
    return CAPNPC_OK;
}

static const struct Service_ops service_ops = {
    .ping = h_ping,
    .add = h_add,
    .echo = h_echo,
    .store = h_store,
    .scale = h_scale,
    .handoff = h_handoff,
    .stats = h_stats,
    .choose = h_choose,
    .wrap = h_wrap,
    .keywords = h_keywords,
};
static const struct SubService_ops sub_ops = {.extra = h_extra};
static const struct Empty_ops empty_ops = {0};

/* ---- Loopback transport ---- */

struct loop {
    struct server srv;
    int calls;
    int fail;            /* return this from the transport if non-zero */
    bool garbage;        /* reply with bytes that are not a message */
    size_t result_words; /* results arena size */
    const uint32_t *param_caps;
    uint32_t nparam_caps;
    uint32_t result_caps[4];
    uint32_t nresult_caps;
};

static uint32_t loop_param_cap(struct loop *l, uint32_t index)
{
    return index < l->nparam_caps ? l->param_caps[index] : CAPNPC_NO_CAP;
}

static uint32_t loop_add_result_cap(struct loop *l, uint32_t id)
{
    l->result_caps[l->nresult_caps] = id;
    return l->nresult_caps++;
}

static const void *ops_for(const struct capnpc_iface *i)
{
    if (i == &Service_IFACE)
        return &service_ops;
    if (i == &SubService_IFACE)
        return &sub_ops;
    return &empty_ops;
}

static int loop_call(void *ctx, const struct capnpc_request *req, struct capnpc_reply *rep)
{
    struct loop *l = ctx;
    struct capn_seg segs[8], rsegs[2];
    struct capn_msg m;
    uint64_t mem[256];
    l->calls++;
    if (l->fail)
        return l->fail;
    if (l->garbage) {
        memset(rep->buf, 0xff, 16);
        rep->len = 16;
        return CAPNPC_OK;
    }
    if (capn_msg_read(&m, segs, 8, req->params, req->params_len, NULL) != CAPN_OK)
        return -9;
    m.cap_count = req->ncaps;
    l->param_caps = req->caps;
    l->nparam_caps = req->ncaps;
    l->nresult_caps = 0;
    const struct capnpc_iface *iface =
        capnpc_find_iface(test_INTERFACES, test_INTERFACE_COUNT, req->interface_id);
    if (iface == NULL)
        return -5;
    struct capn_bld b;
    size_t words = l->result_words ? l->result_words : 256;
    capn_bld_init(&b, rsegs, 1, mem, words * 8);
    int rc = capnpc_dispatch(iface, ops_for(iface), &l->srv, req->method, &m, &b, l);
    if (rc < 0)
        return rc;
    if (capn_bld_write(&b, rep->buf, rep->size, &rep->len) != CAPN_OK)
        return CAPNPC_E_NO_SPACE;
    memcpy(rep->caps, l->result_caps, l->nresult_caps * sizeof(uint32_t));
    rep->ncaps = l->nresult_caps;
    return rc;
}

/* A client: the transport, and the buffers of one call. */
struct client {
    struct loop loop;
    struct capnpc_transport t;
    struct capnpc_call c;
    uint64_t params[64];
    uint64_t results[64];
    uint32_t caps[4], result_caps[4];
};

static struct client *client_new(void)
{
    struct client *k = calloc(1, sizeof(*k));
    cr_assert_not_null(k);
    k->t.call = loop_call;
    k->t.ctx = &k->loop;
    capnpc_call_init(&k->c, k->params, sizeof(k->params), k->results, sizeof(k->results));
    capnpc_call_caps(&k->c, k->caps, 4, k->result_caps, 4);
    return k;
}

/* A small message to take struct and list params from. */
struct src {
    struct capn_seg seg;
    struct capn_bld b;
    uint64_t mem[64];
    struct capn_msg m;
};

static Inner_r src_inner(struct src *x, uint32_t a, const char *s)
{
    capn_bld_init(&x->b, &x->seg, 1, x->mem, sizeof(x->mem));
    Inner_b in = Inner_build_root(&x->b);
    Inner_set_a(in, a);
    Inner_set_s(in, s, (uint32_t)strlen(s));
    capn_bld_msg(&x->b, &x->m);
    return Inner_read_root(&x->m);
}

static List_UInt32_r src_list(struct src *x, uint32_t n)
{
    capn_bld_init(&x->b, &x->seg, 1, x->mem, sizeof(x->mem));
    List_UInt32_b l = {capn_bptr_init_list(capn_bld_root(&x->b), CAPN_FOUR, n)};
    for (uint32_t i = 0; i < n; i++)
        List_UInt32_set(l, i, i + 1);
    capn_bld_msg(&x->b, &x->m);
    List_UInt32_r r = {capn_ptr_list(capn_msg_root(&x->m), CAPN_FOUR, NULL)};
    return r;
}

/* ---- Stubs through the loopback ---- */

Test(capnpc_dispatch, every_stub_reaches_its_handler)
{
    struct client *k = client_new();
    struct server *s = &k->loop.srv;
    const uint32_t cap = 7;
    struct src x, y;

    Service_ping_Results_r pr;
    cr_expect_eq(Service_ping_call(&k->t, cap, &k->c, &pr), CAPNPC_OK);

    Service_add_Results_r ar;
    cr_expect_eq(Service_add_call(&k->t, cap, &k->c, 40, -2, &ar), CAPNPC_OK);
    cr_expect_eq(Service_add_Results_get_sum(ar), 38);

    Service_echo_Results_r er;
    cr_expect_eq(Service_echo_call(&k->t, cap, &k->c, "hi there", 8, "\x01\x00\x02", 3, &er),
                 CAPNPC_OK);
    expect_text(Service_echo_Results_get_text(er), "hi there");
    cr_expect(Service_echo_Results_get_data(er).len == 3 &&
              memcmp(Service_echo_Results_get_data(er).ptr, "\x01\x00\x02", 3) == 0);

    Service_store_Results_r sr;
    cr_expect_eq(Service_store_call(&k->t, cap, &k->c, src_inner(&x, 5, "five"), src_list(&y, 3),
                                    Color_blue, true, &sr),
                 CAPNPC_OK);
    cr_expect_eq(Service_store_Results_get_count(sr), 5 + 1 + 2 + 3 + 2000 + 10000);

    Service_scale_Results_r scr;
    cr_expect_eq(Service_scale_call(&k->t, cap, &k->c, 1.5, 4.0f, &scr), CAPNPC_OK);
    cr_expect_eq(Service_scale_Results_get_y(scr), 6.0);

    Service_handoff_Results_r hr;
    cr_expect_eq(Service_handoff_call(&k->t, cap, &k->c, 77, 88, &hr), CAPNPC_OK);
    cr_expect_eq(k->c.ncaps, 2);
    cr_expect_eq(k->caps[0], 77);
    cr_expect_eq(k->caps[1], 88);
    cr_expect_eq(s->seen_cap, 77);
    cr_expect_eq(s->seen_other, 88);
    cr_expect_eq(k->c.reply.ncaps, 1);
    cr_expect_eq(Service_handoff_Results_get_back(hr), 0);
    cr_expect_eq(k->result_caps[Service_handoff_Results_get_back(hr)], 177);

    /* Named structs as params and results: the begin/send form. */
    Inner_b ip = Service_stats_begin(&k->c);
    Inner_set_a(ip, 21);
    Inner_set_s(ip, "stat", 4);
    Inner_set_color(ip, Color_red);
    Service_stats_Results_r st;
    cr_expect_eq(Service_stats_send(&k->t, cap, &k->c, &st), CAPNPC_OK);
    expect_inner(st, 42, "stat", Color_red);

    Choice_b cp = Service_choose_begin(&k->c);
    Choice_set_s(cp, "abc", 3);
    Service_choose_Results_r cr;
    cr_expect_eq(Service_choose_send(&k->t, cap, &k->c, &cr), CAPNPC_OK);
    cr_expect(Service_choose_Results_get_ok(cr));

    Service_wrap_Results_r wr;
    cr_expect_eq(Service_wrap_call(&k->t, cap, &k->c, capn_msg_root(&x.m), &wr), CAPNPC_OK);
    expect_inner(Inner_read(Service_wrap_Results_get_value(wr)), 5, "five", Color_green);

    cr_expect_eq(Service_keywords_call(&k->t, cap, &k->c, -5, 200, true, NULL), CAPNPC_OK);
    cr_expect_eq(s->kw_int, -5);
    cr_expect_eq(s->kw_out, 200);
    cr_expect(s->kw_c);

    SubService_extra_Results_r xr;
    cr_expect_eq(SubService_extra_call(&k->t, cap, &k->c, &xr), CAPNPC_OK);
    cr_expect_eq(SubService_extra_Results_get_n(xr), 42);

    for (int i = 0; i <= Service_METHOD_COUNT; i++)
        cr_expect_eq(s->calls[i], 1, "handler %d called %d times", i, s->calls[i]);
    cr_expect_eq(k->loop.calls, Service_METHOD_COUNT + 1);
    free(k);
}

Test(capnpc_dispatch, params_are_a_standard_message)
{
    /* What a stub sends is one framed segment, readable as the params. */
    struct client *k = client_new();
    Service_add_Params_b p = Service_add_begin(&k->c);
    Service_add_Params_set_a(p, 3);
    k->loop.fail = 1; /* a positive outcome the transport defines */
    cr_expect_eq(Service_add_send(&k->t, 1, &k->c, NULL), 1);
    struct capn_seg segs[2];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 2, k->params, 8 + (size_t)k->c.pseg.words * 8, NULL),
                 CAPN_OK);
    cr_expect_eq(m.nsegs, 1);
    cr_expect_eq(Service_add_Params_get_a(Service_add_Params_read_root(&m)), 3);
    free(k);
}

Test(capnpc_dispatch, exception_reply)
{
    struct client *k = client_new();
    k->loop.srv.raise = 1;
    Service_stats_begin(&k->c);
    Service_stats_Results_r st;
    cr_expect_eq(Service_stats_send(&k->t, 1, &k->c, &st), CAPNPC_EXCEPTION);
    cr_expect_null(st.s.seg); /* no results on an exception */
    expect_text(Inner_get_s(Inner_read_root(&k->c.msg)), "refused");
    free(k);
}

Test(capnpc_dispatch, transport_errors_pass_through)
{
    struct client *k = client_new();
    k->loop.fail = -17;
    Service_add_Results_r ar;
    cr_expect_eq(Service_add_call(&k->t, 1, &k->c, 1, 2, &ar), -17);
    cr_expect_eq(Service_add_Results_get_sum(ar), 0);
    k->loop.fail = 0;
    k->loop.garbage = true;
    cr_expect_eq(Service_add_call(&k->t, 1, &k->c, 1, 2, &ar), CAPNPC_E_BAD_RESULTS);
    free(k);
}

Test(capnpc_dispatch, small_buffers)
{
    struct client *k = client_new();
    /* Params that do not fit: the transport is never called. */
    capnpc_call_init(&k->c, k->params, 40, k->results, sizeof(k->results));
    char big[64];
    memset(big, 'x', sizeof(big));
    cr_expect_eq(Service_echo_call(&k->t, 1, &k->c, big, sizeof(big), NULL, 0, NULL),
                 CAPNPC_E_NO_SPACE);
    capnpc_call_init(&k->c, NULL, 0, k->results, sizeof(k->results));
    cr_expect_eq(Service_ping_call(&k->t, 1, &k->c, NULL), CAPNPC_E_NO_SPACE);
    /* No capability table for a capability param. */
    capnpc_call_init(&k->c, k->params, sizeof(k->params), k->results, sizeof(k->results));
    cr_expect_eq(Service_handoff_call(&k->t, 1, &k->c, 9, 10, NULL), CAPNPC_E_NO_SPACE);
    cr_expect_eq(k->loop.calls, 0);
    /* Results that do not fit the server's builder, or the reply buffer. */
    k->loop.result_words = 3;
    cr_expect_eq(Service_echo_call(&k->t, 1, &k->c, big, sizeof(big), NULL, 0, NULL),
                 CAPNPC_E_NO_SPACE);
    k->loop.result_words = 0;
    capnpc_call_init(&k->c, k->params, sizeof(k->params), k->results, 24);
    cr_expect_eq(Service_echo_call(&k->t, 1, &k->c, big, sizeof(big), NULL, 0, NULL),
                 CAPNPC_E_NO_SPACE);
    free(k);
}

Test(capnpc_dispatch, unknown_method_through_a_stub)
{
    struct client *k = client_new();
    struct capn_struct out;
    capnpc_call_begin(&k->c, 0, 0);
    cr_expect_eq(
        capnpc_call_send(&k->t, 1, Service_INTERFACE_ID, Service_METHOD_COUNT, &k->c, &out),
        CAPNPC_E_BAD_METHOD);
    capnpc_call_begin(&k->c, 0, 0);
    cr_expect_eq(capnpc_call_send(&k->t, 1, Empty_INTERFACE_ID, 0, &k->c, &out),
                 CAPNPC_E_BAD_METHOD);
    free(k);
}

/* ---- Dispatch directly ---- */

struct call {
    struct capn_seg psegs[2], rseg;
    struct capn_bld pb, rb;
    uint64_t pmem[64], rmem[64];
    struct capn_msg params;
};

static void call_init(struct call *c)
{
    memset(c, 0, sizeof(*c));
    capn_bld_init(&c->pb, c->psegs, 2, c->pmem, sizeof(c->pmem));
    capn_bld_init(&c->rb, &c->rseg, 1, c->rmem, sizeof(c->rmem));
}

static int dispatch(struct call *c, struct server *s, uint16_t method)
{
    capn_bld_msg(&c->pb, &c->params);
    return Service_dispatch(&service_ops, s, method, &c->params, &c->rb, NULL);
}

Test(capnpc_dispatch, unknown_ordinal)
{
    struct call c;
    struct server s = {0};
    call_init(&c);
    Service_add_Params_build_root(&c.pb);
    cr_expect_eq(dispatch(&c, &s, Service_METHOD_COUNT), CAPNPC_E_BAD_METHOD);
    cr_expect_eq(dispatch(&c, &s, 0xffff), CAPNPC_E_BAD_METHOD);
    cr_expect_eq(Service_dispatch(NULL, &s, 0, &c.params, &c.rb, NULL), CAPNPC_E_BAD_METHOD);
    cr_expect_eq(Empty_dispatch(&empty_ops, &s, 0, &c.params, &c.rb, NULL), CAPNPC_E_BAD_METHOD);
    for (int i = 0; i < Service_METHOD_COUNT; i++)
        cr_expect_eq(s.calls[i], 0);
}

Test(capnpc_dispatch, missing_handler)
{
    struct call c;
    struct server s = {0};
    struct Service_ops partial = {.add = h_add};
    call_init(&c);
    Service_ping_Params_build_root(&c.pb);
    capn_bld_msg(&c.pb, &c.params);
    cr_expect_eq(Service_dispatch(&partial, &s, Service_ping_METHOD, &c.params, &c.rb, NULL),
                 CAPNPC_E_BAD_METHOD);
    cr_expect_eq(Service_dispatch(&partial, &s, Service_add_METHOD, &c.params, &c.rb, NULL),
                 CAPNPC_OK);
}

Test(capnpc_dispatch, params_not_a_struct)
{
    struct call c;
    struct server s = {0};
    /* A list root. */
    call_init(&c);
    capn_bptr_init_list(capn_bld_root(&c.pb), CAPN_FOUR, 2);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_E_BAD_PARAMS);
    /* A null root. */
    call_init(&c);
    capn_bld_root(&c.pb);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_E_BAD_PARAMS);
    /* A capability root. */
    call_init(&c);
    capn_bptr_set_cap(capn_bld_root(&c.pb), 0);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_E_BAD_PARAMS);
    /* No segments at all. */
    call_init(&c);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_E_BAD_PARAMS);
    /* A struct pointer past the end of its segment. */
    uint64_t w[2] = {(uint64_t)8 << 2 | (uint64_t)1 << 32, 0};
    struct capn_seg seg = {(const uint8_t *)w, 2, 2};
    capn_msg_init(&c.params, &seg, 1);
    cr_expect_eq(Service_dispatch(&service_ops, &s, Service_add_METHOD, &c.params, &c.rb, NULL),
                 CAPNPC_E_BAD_PARAMS);
    cr_expect_eq(s.calls[Service_add_METHOD], 0);
}

/* A params message whose root is fine but a pointer inside it is not. */
static int dispatch_words(struct server *s, uint16_t method, uint64_t *w, uint32_t n, bool general)
{
    struct capn_seg seg = {(const uint8_t *)w, n, n};
    struct capn_msg params;
    capn_msg_init(&params, &seg, 1);
    uint8_t rmem[256] __attribute__((aligned(8)));
    struct capn_seg rseg;
    struct capn_bld rb;
    capn_bld_init(&rb, &rseg, 1, rmem, sizeof(rmem));
    if (general)
        return capnpc_dispatch(&Service_IFACE, &service_ops, s, method, &params, &rb, NULL);
    return Service_dispatch(&service_ops, s, method, &params, &rb, NULL);
}

Test(capnpc_dispatch, malformed_pointer_in_params_stops_before_the_handler)
{
    for (int general = 0; general < 2; general++) {
        struct server s = {0};
        /* echo (text, data): the text points 100 words past the segment. */
        uint64_t echo[3] = {(uint64_t)2 << 48,
                            1 | (uint64_t)100 << 2 | (uint64_t)2 << 32 | (uint64_t)5 << 35, 0};
        cr_expect_eq(dispatch_words(&s, Service_echo_METHOD, echo, 3, general),
                     CAPNPC_E_BAD_PARAMS);
        cr_expect_eq(s.calls[Service_echo_METHOD], 0);
        /* The same message with a good text reaches the handler. */
        echo[1] = 1 | (uint64_t)1 << 2 | (uint64_t)2 << 32 | (uint64_t)1 << 35;
        uint64_t good[4] = {echo[0], echo[1], 0, 0};
        cr_expect_eq(dispatch_words(&s, Service_echo_METHOD, good, 4, general), CAPNPC_OK);
        cr_expect_eq(s.calls[Service_echo_METHOD], 1);
        /* store (inner, items, ...): a valid Inner whose own text pointer
         * is out of bounds, one level down. */
        struct call c;
        call_init(&c);
        Service_store_Params_b p = Service_store_Params_build_root(&c.pb);
        Inner_b in = Service_store_Params_init_inner(p);
        Inner_set_s(in, "abc", 3);
        uint32_t words = c.psegs[0].words;
        uint64_t w[64];
        cr_assert(c.pb.nsegs == 1 && words <= 64);
        memcpy(w, c.psegs[0].data, words * 8);
        int corrupted = 0;
        for (uint32_t i = 0; i < words; i++) {
            /* The text: a byte list (element size 2) of 4 elements. */
            if ((w[i] & 3) == 1 && (w[i] >> 32 & 7) == 2 && w[i] >> 35 == 4) {
                w[i] = (w[i] & ~(uint64_t)0xfffffffc) | (uint64_t)1000 << 2;
                corrupted++;
            }
        }
        cr_assert_eq(corrupted, 1);
        cr_expect_eq(dispatch_words(&s, Service_store_METHOD, w, words, general),
                     CAPNPC_E_BAD_PARAMS);
        cr_expect_eq(s.calls[Service_store_METHOD], 0);
    }
}

Test(capnpc_dispatch, handler_gets_params_and_fills_results)
{
    struct call c;
    struct server s = {0};
    call_init(&c);
    Service_add_Params_b p = Service_add_Params_build_root(&c.pb);
    Service_add_Params_set_a(p, 1000);
    Service_add_Params_set_b(p, 234);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_OK);
    cr_expect_eq(s.calls[Service_add_METHOD], 1);
    struct capn_msg m;
    capn_bld_msg(&c.rb, &m);
    cr_expect_eq(Service_add_Results_get_sum(Service_add_Results_read_root(&m)), 1234);
    /* A params struct from an older schema (smaller) reads as defaults. */
    call_init(&c);
    capn_bld_init_root(&c.pb, 0, 0);
    cr_expect_eq(dispatch(&c, &s, Service_add_METHOD), CAPNPC_OK);
    capn_bld_msg(&c.rb, &m);
    cr_expect_eq(Service_add_Results_get_sum(Service_add_Results_read_root(&m)), 0);
}

Test(capnpc_dispatch, method_table)
{
    static const char *const names[] = {"ping",    "add",   "echo",   "store", "scale",
                                        "handoff", "stats", "choose", "wrap",  "keywords"};
    cr_assert_eq(Service_IFACE.method_count, 10);
    for (int i = 0; i < 10; i++) {
        cr_expect_str_eq(Service_METHODS[i].name, names[i]);
        cr_expect_not_null(Service_METHODS[i].invoke);
    }
    cr_expect_str_eq(Service_IFACE.name, "Service");
    cr_expect_eq(Empty_IFACE.method_count, 0);
}

/*
 * The generated I_dispatch has a fast path of its own (near struct params
 * root, fresh results builder with room) and falls back to capnpc_dispatch
 * for everything else. Both must give the same status, results bytes, and
 * params message state (errors, traversal budget), whatever the params.
 */
static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int fh_add(void *self, Service_add_Params_r p, Service_add_Results_b r, void *ctx)
{
    ((struct server *)self)->calls[Service_add_METHOD]++;
    uint32_t sum = (uint32_t)Service_add_Params_get_a(p) + (uint32_t)Service_add_Params_get_b(p);
    Service_add_Results_set_sum(r, (int32_t)sum);
    return CAPNPC_OK;
}

/* Handlers safe on any params (h_add overflows on random ones); the other
 * methods have none, which dispatch answers with CAPNPC_E_BAD_METHOD. */
static const struct Service_ops fuzz_ops = {
    .ping = h_ping,
    .add = fh_add,
    .echo = h_echo,
    .stats = h_stats,
};

Test(capnpc_dispatch, fast_and_general_dispatch_agree)
{
    uint64_t s = 99;
    for (int it = 0; it < 20000; it++) {
        uint64_t seed = s;
        uint64_t w[6], ra[8], rb[8];
        uint32_t n = (uint32_t)(xs(&s) % 6) + (it % 8 == 0 ? 0 : 1);
        for (int i = 0; i < 6; i++)
            w[i] = xs(&s) % 3 == 0 ? xs(&s) % 4 : xs(&s);
        /* Mostly near struct roots of a few words, some far or hostile. */
        int32_t off = (int32_t)(xs(&s) % 6) - 2;
        if (xs(&s) % 4 != 0)
            w[0] =
                ((uint32_t)off << 2) | (uint64_t)(xs(&s) % 3) << 32 | (uint64_t)(xs(&s) % 3) << 48;
        uint16_t method = (uint16_t)(xs(&s) % (Service_METHOD_COUNT + 1));
        uint32_t room = 1 + (uint32_t)(xs(&s) % 8);
        bool used = xs(&s) % 8 == 0;
        int32_t nest = (int32_t)(xs(&s) % 4);
        uint64_t left = xs(&s) % 2 ? 1000 : xs(&s) % 8;

        struct capn_seg sa = {(const uint8_t *)w, n, n}, sb = sa, rsa, rsb;
        struct capn_msg ma, mb;
        struct capn_bld ba, bb;
        capn_msg_init(&ma, &sa, 1);
        capn_msg_init(&mb, &sb, 1);
        ma.nest_limit = mb.nest_limit = nest;
        ma.read_left = mb.read_left = left;
        memset(ra, 0x77, sizeof(ra));
        memset(rb, 0x77, sizeof(rb));
        capn_bld_init(&ba, &rsa, 1, ra, room * 8);
        capn_bld_init(&bb, &rsb, 1, rb, room * 8);
        if (used) {
            capn_bld_root(&ba);
            capn_bld_root(&bb);
        }
        struct server x = {0}, y = {0};
        int a = Service_dispatch(&fuzz_ops, &x, method, &ma, &ba, NULL);
        int b = capnpc_dispatch(&Service_IFACE, &fuzz_ops, &y, method, &mb, &bb, NULL);
        cr_expect_eq(a, b, "status, seed %llu", (unsigned long long)seed);
        cr_expect(memcmp(x.calls, y.calls, sizeof(x.calls)) == 0, "seed %llu",
                  (unsigned long long)seed);
        cr_expect(ma.err == mb.err && ma.nerr == mb.nerr && ma.read_left == mb.read_left,
                  "params state, seed %llu", (unsigned long long)seed);
        cr_expect(ba.err == bb.err && rsa.words == rsb.words && memcmp(ra, rb, sizeof(ra)) == 0,
                  "results, seed %llu", (unsigned long long)seed);
    }
}

/* A method without parameters sends a constant params message; the result
 * is the same as building it. */
Test(capnpc_dispatch, parameterless_call_matches_begin_and_send)
{
    struct client *k = client_new();
    Service_ping_Results_r a, b;
    cr_expect_eq(Service_ping_call(&k->t, 3, &k->c, &a), CAPNPC_OK);
    size_t len = k->c.reply.len;
    (void)Service_ping_begin(&k->c);
    cr_expect_eq(Service_ping_send(&k->t, 3, &k->c, &b), CAPNPC_OK);
    cr_expect_eq(k->c.reply.len, len);
    cr_expect_eq(k->loop.srv.calls[Service_ping_METHOD], 2);
    cr_expect_not_null(a.s.seg);
    cr_expect_not_null(b.s.seg);
    free(k);
}
