/* The fake host and peer of the RPC engine's host tests (peer.h). */
#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fake_send(void *ctx, const void *buf, size_t len)
{
    struct fake *f = ctx;
    if (f->fail_send) {
        if (f->fail_why)
            snprintf(f->c->why, sizeof(f->c->why), "%s", f->fail_why);
        return -1;
    }
    if (f->out_len + len > FAKE_OUT || f->nmsgs >= FAKE_MSGS)
        abort(); /* a test producing this much output is broken */
    f->off[f->nmsgs++] = f->out_len;
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
    return 0;
}

static uint32_t fake_boot(void *ctx)
{
    struct fake *f = ctx;
    if (f->boot == RPC_NO_CAP)
        return RPC_NO_CAP;
    f->refs[f->boot]++;
    return f->boot;
}

static void fake_release(void *ctx, uint32_t h)
{
    struct fake *f = ctx;
    if (h >= FAKE_OBJS || f->refs[h] <= 0)
        f->bad_release++;
    else
        f->refs[h]--;
}

static void answer(struct fake *f, uint32_t token, uint32_t target, uint16_t method,
                   const char *text)
{
    uint64_t arena[64];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    struct capn_bstruct r = capn_bld_init_root(&b, 1, 2);
    capn_bstruct_set_u32(&r, 0, target * 100 + method, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&r, 0), text, (uint32_t)strlen(text));
    uint32_t cap = RPC_NO_CAP;
    if (target + 1 < FAKE_OBJS) {
        cap = target + 1;
        f->refs[cap]++;
        capn_bptr_set_cap(capn_bstruct_ptr(&r, 1), 0);
    }
    uint8_t frame[sizeof(arena) + 8];
    size_t len;
    if (capn_bld_write(&b, frame, sizeof(frame), &len) != CAPN_OK)
        abort();
    rpc_conn_return(f->c, token, frame, len, &cap, cap == RPC_NO_CAP ? 0 : 1);
}

static void fake_call(void *ctx, struct rpc_conn *c, const struct rpc_call *call)
{
    struct fake *f = ctx;
    f->ncalls++;
    f->last_target = call->target;
    f->last_method = call->method;
    f->last_ncaps = call->ncaps;
    f->last_pipelined = call->pipelined;
    struct capn_seg segs[4];
    struct capn_msg m;
    f->last_text[0] = 0;
    if (capn_msg_read(&m, segs, 4, call->params, call->params_len, NULL) == CAPN_OK) {
        struct capn_struct s = capn_ptr_struct(capn_msg_root(&m), NULL);
        struct capn_text t = capn_ptr_text(capn_struct_ptr(&s, 0), "", 0);
        snprintf(f->last_text, sizeof(f->last_text), "%s", t.str);
    }
    if (f->defer) {
        if (f->ntokens < 64) {
            f->targets[f->ntokens] = call->target;
            f->tokens[f->ntokens++] = call->answer;
        }
        return;
    }
    if (call->method == 99) {
        rpc_conn_throw(c, call->answer, RPC_EXC_FAILED, "method 99 always fails");
        return;
    }
    answer(f, call->answer, call->target, call->method, f->last_text);
}

void fake_answer(struct fake *f, uint32_t i)
{
    answer(f, f->tokens[i], f->targets[i], 0, "later");
}

struct fake *fake_new(const struct rpc_limits *lim)
{
    struct fake *f = calloc(1, sizeof(*f));
    f->c = malloc(sizeof(*f->c));
    f->out = malloc(FAKE_OUT);
    f->boot = 1;
    struct rpc_host h = {f, fake_send, fake_boot, fake_call, fake_release};
    rpc_conn_init(f->c, &h, lim);
    return f;
}

void fake_free(struct fake *f)
{
    free(f->c);
    free(f->out);
    free(f);
}

uint32_t fake_last(const struct fake *f)
{
    return f->nmsgs == 0 ? UINT32_MAX : f->nmsgs - 1;
}

enum Message_which fake_sent(struct fake *f, uint32_t i, struct sent *s)
{
    memset(s, 0, sizeof(*s));
    if (i >= f->nmsgs)
        return (enum Message_which)0xffff;
    size_t end = i + 1 < f->nmsgs ? f->off[i + 1] : f->out_len;
    if (capn_msg_read(&s->m, s->segs, 16, f->out + f->off[i], end - f->off[i], NULL) != CAPN_OK)
        return (enum Message_which)0xfffe;
    s->msg = Message_read_root(&s->m);
    return Message_which(s->msg);
}

const char *sent_reason(struct fake *f, uint32_t i)
{
    static struct sent s;
    enum Message_which w = fake_sent(f, i, &s);
    if (w == Message_which_abort)
        return Exception_get_reason(Message_get_abort(s.msg)).str;
    if (w == Message_which_return &&
        Return_which(Message_get_return(s.msg)) == Return_which_exception)
        return Exception_get_reason(Return_get_exception(Message_get_return(s.msg))).str;
    return "";
}

enum rpc_state feed(struct fake *f, const uint8_t *buf, size_t len)
{
    return rpc_conn_feed(f->c, buf, len);
}

/* ---- Peer messages ---- */

uint64_t peer_iface = PEER_IFACE;

struct pb {
    uint64_t arena[PEER_BUF / 8];
    struct capn_seg seg;
    struct capn_bld b;
};

static Message_b pb_begin(struct pb *p)
{
    capn_bld_init(&p->b, &p->seg, 1, p->arena, sizeof(p->arena));
    return Message_build_root(&p->b);
}

static size_t pb_end(struct pb *p, uint8_t *buf)
{
    size_t len = 0;
    if (p->b.err != CAPN_OK || capn_bld_write(&p->b, buf, PEER_BUF + 8, &len) != CAPN_OK)
        abort();
    return len;
}

size_t peer_bootstrap(uint8_t *buf, uint32_t qid)
{
    struct pb p;
    Bootstrap_set_questionId(Message_init_bootstrap(pb_begin(&p)), qid);
    return pb_end(&p, buf);
}

static void params(Call_b call, const char *text)
{
    Payload_b pl = Call_init_params(call);
    struct capn_bstruct s = capn_bptr_init_struct(Payload_init_content(pl), 0, 1);
    capn_bptr_set_text(capn_bstruct_ptr(&s, 0), text, (uint32_t)strlen(text));
}

size_t peer_call(uint8_t *buf, uint32_t qid, uint32_t id, uint16_t method, const char *text)
{
    struct pb p;
    Call_b call = Message_init_call(pb_begin(&p));
    Call_set_questionId(call, qid);
    MessageTarget_set_importedCap(Call_init_target(call), id);
    Call_set_interfaceId(call, peer_iface);
    Call_set_methodId(call, method);
    params(call, text);
    return pb_end(&p, buf);
}

size_t peer_call_promise(uint8_t *buf, uint32_t qid, uint32_t target, const uint16_t *path,
                         uint32_t n, uint16_t method, const char *text)
{
    struct pb p;
    Call_b call = Message_init_call(pb_begin(&p));
    Call_set_questionId(call, qid);
    PromisedAnswer_b pa = MessageTarget_init_promisedAnswer(Call_init_target(call));
    PromisedAnswer_set_questionId(pa, target);
    List_PromisedAnswer_Op_b ops = PromisedAnswer_init_transform(pa, n);
    for (uint32_t i = 0; i < n; i++)
        PromisedAnswer_Op_set_getPointerField(List_PromisedAnswer_Op_at(ops, i), path[i]);
    Call_set_interfaceId(call, peer_iface);
    Call_set_methodId(call, method);
    params(call, text);
    return pb_end(&p, buf);
}

size_t peer_finish(uint8_t *buf, uint32_t qid, bool release_caps)
{
    struct pb p;
    Finish_b f = Message_init_finish(pb_begin(&p));
    Finish_set_questionId(f, qid);
    Finish_set_releaseResultCaps(f, release_caps);
    return pb_end(&p, buf);
}

size_t peer_release(uint8_t *buf, uint32_t id, uint32_t count)
{
    struct pb p;
    Release_b r = Message_init_release(pb_begin(&p));
    Release_set_id(r, id);
    Release_set_referenceCount(r, count);
    return pb_end(&p, buf);
}
