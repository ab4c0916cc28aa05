/*
 * The server loop: RECV on an endpoint this process owns, decode the call,
 * run the handler through the generated dispatch tables, RETURN the
 * results (or a CapException) and RECV the next call as one RETURN_RECV
 * entry, repeat until a handler asks to stop (that answer is a plain
 * RETURN).
 */
#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"

/* What one serving thread needs: the received message, the results'
 * arena and the framed reply. The first thread to serve uses the static
 * set; each other serving thread allocates its own (docs/threads.md). */
struct serve_bufs {
    uint8_t recv_buf[CAPOS_MAX_RESULT_LEN] __attribute__((aligned(8)));
    uint8_t arena[16384] __attribute__((aligned(8)));
    uint8_t reply[16384 + 64] __attribute__((aligned(8)));
};
static struct serve_bufs first_bufs;
static uint32_t first_bufs_taken;
static _Thread_local struct serve_bufs *bufs;

static bool serve_bufs_ready(void)
{
    if (bufs)
        return true;
    if (!__atomic_exchange_n(&first_bufs_taken, 1, __ATOMIC_ACQ_REL))
        bufs = &first_bufs;
    else
        bufs = capos_malloc(sizeof(*bufs));
    return bufs != 0;
}

void capos_call_fail(struct capos_call_ctx *ctx, int type, const char *message)
{
    ctx->exception_type = type;
    ctx->exception_message = message;
}

uint32_t capos_call_add_result_cap(struct capos_call_ctx *ctx, uint32_t cap, bool move)
{
    if (ctx->nresult_caps == CAPOS_MAX_XFER)
        return UINT32_MAX;
    ctx->result_caps[ctx->nresult_caps] =
        (struct capos_xfer){.cap = cap, .mode = move ? CAPOS_XFER_MOVE : CAPOS_XFER_COPY};
    return ctx->nresult_caps++;
}

uint32_t capos_call_adopt(struct capos_call_ctx *ctx, uint32_t index, uint64_t interface_id)
{
    if (index >= ctx->header->cap_count || index >= CAPOS_MAX_XFER || (ctx->adopted >> index & 1))
        return 0;
    ctx->adopted |= 1u << index;
    return capos_adopt(&ctx->caps[index], interface_id);
}

size_t capos_frame_exception(int type, const char *message, void *out, size_t size)
{
    uint8_t ex_arena[1024] __attribute__((aligned(8)));
    struct capn_seg seg;
    struct capn_bld b;
    size_t len = 0;
    size_t n = strlen(message);
    capn_bld_init(&b, &seg, 1, ex_arena, sizeof(ex_arena));
    CapException_b ex = CapException_build_root(&b);
    CapException_set_type(ex, (CapException_Type)type);
    CapException_set_message(ex, message, (uint32_t)(n < 900 ? n : 900));
    if (b.err != CAPN_OK || capn_bld_write(&b, out, size, &len) != CAPN_OK)
        return 0;
    return len;
}

static size_t build_exception(int type, const char *message)
{
    return capos_frame_exception(type, message, bufs->reply, sizeof(bufs->reply));
}

/* Wait for the RECV under `id`; false (srv->ended set) if srv->until
 * completes first. */
static bool wait_recv(struct capos_server *srv, uint64_t id, struct capos_cqe *rc)
{
    for (;;) {
        struct capos_cqe lc;
        if (capos_ring_try_take(id, rc))
            return true;
        if (srv->until && capos_ring_try_take(srv->until, &lc)) {
            srv->ended = true;
            return false;
        }
        if (srv->wake)
            srv->wake(srv);
        capos_ring_wait_new();
    }
}

/* Decode and dispatch the call in recv_buf; the framed results (or
 * CapException) in reply. Returns their length; *exception says which. */
static size_t dispatch_call(struct capos_server *srv, struct capos_call_ctx *ctx, bool *exception)
{
    const struct capos_recv_header *h = ctx->header;
    struct capn_seg segs[8], rseg;
    struct capn_msg params;
    struct capn_bld results;
    size_t len = 0;
    *exception = true;
    if (h->params_offset > sizeof(bufs->recv_buf) ||
        h->params_len > sizeof(bufs->recv_buf) - h->params_offset ||
        capn_msg_read(&params, segs, 8, bufs->recv_buf + h->params_offset, h->params_len, 0) !=
            CAPN_OK)
        return build_exception(CapException_Type_invalidArgument,
                               "the params are not a well-formed message");
    params.cap_count = h->cap_count;
    capn_bld_init(&results, &rseg, 1, bufs->arena, sizeof(bufs->arena));
    int st =
        srv->iface->method_count > h->method
            ? capnpc_dispatch(srv->iface, srv->ops, srv->self, h->method, &params, &results, ctx)
            : CAPNPC_E_BAD_METHOD;
    if (st == CAPNPC_OK && ctx->exception_message == 0 && capn_ok(&params)) {
        if (capn_bld_write(&results, bufs->reply, sizeof(bufs->reply), &len) == CAPN_OK) {
            *exception = false;
            return len;
        }
        return build_exception(CapException_Type_failed, "the results did not fit the reply");
    }
    if (st == CAPNPC_E_BAD_METHOD)
        return build_exception(CapException_Type_unimplemented, "no such method on this interface");
    if (ctx->exception_message)
        return build_exception(ctx->exception_type, ctx->exception_message);
    if (st == CAPNPC_E_NO_SPACE)
        return build_exception(CapException_Type_failed, "the results did not fit the reply");
    return build_exception(CapException_Type_invalidArgument, "the params do not match the method");
}

/* The RECV that starts serving, or that follows a failed RETURN_RECV; its
 * user_data, or 0 if the ring refused it. */
static uint64_t submit_recv(struct capos_server *srv)
{
    struct capos_sqe rs = {.opcode = CAPOS_OP_RECV,
                           .cap = srv->endpoint,
                           .result_addr = (uint64_t)bufs->recv_buf,
                           .result_len = sizeof(bufs->recv_buf),
                           .user_data = capos_ring_next_id()};
    return capos_ring_submit(&rs) ? rs.user_data : 0;
}

/* What a RETURN could not give (it failed, or was an exception, which
 * carries none) is still in our table: let the moved ones go. */
static void release_moves(const struct capos_xfer *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (x[i].mode == CAPOS_XFER_MOVE)
            capos_release(x[i].cap);
}

int capos_serve(struct capos_server *srv)
{
    if (!serve_bufs_ready())
        return CAPOS_E_NO_MEMORY;
    /* Each answer goes out with the next RECV as one RETURN_RECV entry;
     * the moves it carried are kept until its CQE says the RETURN went
     * through (CAPOS_CQE_F_RETURN_FAILED otherwise). */
    struct capos_xfer sent[CAPOS_MAX_XFER];
    uint32_t nsent = 0;
    uint64_t ud = submit_recv(srv);
    for (;;) {
        struct capos_cqe rc;
        if (!ud)
            return CAPOS_E_INTERNAL;
        if (!wait_recv(srv, ud, &rc)) {
            /* Ending (srv->until): the last answer may still sit in the SQ
             * if the end came first; let the kernel take it now, so that
             * the caller is answered rather than disconnected. */
            capos_cap_enter(0, 0);
            return 0;
        }
        if (rc.flags & CAPOS_CQE_F_RETURN_FAILED) {
            /* A caller that went away meanwhile (CAPOS_E_DISCONNECTED) is
             * not the server's problem; what it was to get is ours. */
            release_moves(sent, nsent);
            nsent = 0;
            capos_flush_releases();
            ud = submit_recv(srv);
            continue;
        }
        nsent = 0;
        if (rc.result < 0)
            return rc.result; /* the endpoint is gone, or the ring is broken */
        const struct capos_recv_header *h = (const void *)bufs->recv_buf;
        /* Not zeroed as a whole: result_caps is read only up to n. */
        struct capos_call_ctx ctx;
        ctx.header = h;
        ctx.caps = (const void *)(bufs->recv_buf + sizeof(*h));
        ctx.server = srv;
        ctx.exception_type = 0;
        ctx.exception_message = 0;
        ctx.nresult_caps = 0;
        ctx.adopted = 0;
        bool exception;
        size_t len = dispatch_call(srv, &ctx, &exception);
        /* What came with the call and was not adopted goes back now. */
        for (uint32_t i = 0; i < h->cap_count && i < CAPOS_MAX_XFER; i++)
            if (!(ctx.adopted >> i & 1))
                capos_release(ctx.caps[i].cap);
        if (srv->wipe) {
            /* Before the next RECV can write there. Bounds were checked by
             * dispatch_call; a bad header wipes all. */
            size_t used = h->params_offset <= sizeof(bufs->recv_buf) &&
                                  h->params_len <= sizeof(bufs->recv_buf) - h->params_offset
                              ? h->params_offset + h->params_len
                              : sizeof(bufs->recv_buf);
            volatile uint8_t *v = bufs->recv_buf;
            for (size_t i = 0; i < used; i++)
                v[i] = 0;
        }
        /* An exception carries no capabilities. */
        uint32_t ncaps = exception ? 0 : ctx.nresult_caps;
        bool last = srv->stop; /* no RECV after the last answer */
        struct capos_sqe ret = {.opcode = last ? CAPOS_OP_RETURN : CAPOS_OP_RETURN_RECV,
                                .cap = srv->endpoint,
                                .flags = exception ? CAPOS_SQE_F_EXCEPTION : 0,
                                .call_id = rc.call_id,
                                .params_addr = (uint64_t)bufs->reply,
                                .params_len = (uint32_t)len,
                                .result_addr = last ? 0 : (uint64_t)bufs->recv_buf,
                                .result_len = last ? 0 : sizeof(bufs->recv_buf),
                                .xfer_count = (uint16_t)ncaps,
                                .xfer_addr = ncaps ? (uint64_t)ctx.result_caps : 0,
                                .user_data = capos_ring_next_id()};
        if (ncaps == 1) { /* the descriptor in the entry itself */
            ret.flags |= CAPOS_SQE_F_XFER_INLINE;
            ret.xfer_addr = capos_xfer_inline(ctx.result_caps[0].cap, ctx.result_caps[0].mode);
        }
        if (exception)
            release_moves(ctx.result_caps, ctx.nresult_caps);
        for (uint32_t i = 0; i < ncaps; i++)
            sent[i] = ctx.result_caps[i];
        nsent = ncaps;
        srv->served++;
        if (!capos_ring_submit(&ret))
            return CAPOS_E_INTERNAL;
        capos_flush_releases();
        if (last) {
            struct capos_cqe retc;
            if (!capos_ring_wait(ret.user_data, &retc))
                return CAPOS_E_INTERNAL;
            if (retc.result < 0)
                release_moves(sent, nsent);
            capos_flush_releases();
            return 0;
        }
        ud = ret.user_data;
    }
}
