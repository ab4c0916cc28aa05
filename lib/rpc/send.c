/*
 * Outgoing messages. Each is built in c->out behind an 8-byte gap that
 * takes the one-segment table, then handed to host.send whole.
 */
#include <stdarg.h>
#include <string.h>

#include "rpc/internal.h"
#include "text/fmt.h"

Message_b rpc_out_begin(struct rpc_conn *c, struct rpc_out *o)
{
    capn_bld_init(&o->b, &o->seg, 1, (uint8_t *)c->out + 8, sizeof(c->out) - 8);
    return Message_build_root(&o->b);
}

bool rpc_out_send(struct rpc_conn *c, struct rpc_out *o)
{
    if (c->state != RPC_OPEN)
        return false;
    if (o->b.err != CAPN_OK) {
        /* Only a builder out of space gets here: the message would have
         * been over RPC_MSG_MAX. */
        rpc_abort(c, "outgoing message over %u bytes: %s", RPC_MSG_MAX, capn_err_str(o->b.err));
        return false;
    }
    uint32_t words = o->seg.words;
    uint32_t hdr[2] = {0, words};
    memcpy(c->out, hdr, 8);
    c->stats.msgs_out++;
    /* why is empty while open (but for an Abort being sent): a reason
     * there after a failure is the host's. */
    if (c->host.send(c->host.ctx, c->out, 8 + (size_t)words * 8) < 0) {
        if (c->why[0] == '\0')
            fmt_snprintf(c->why, sizeof(c->why), "sending to the peer failed");
        c->state = RPC_CLOSED;
        return false;
    }
    return true;
}

void rpc_abort(struct rpc_conn *c, const char *fmt, ...)
{
    if (c->state != RPC_OPEN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    struct rpc_out o;
    Exception_b e = Message_init_abort(rpc_out_begin(c, &o));
    Exception_set_reason(e, c->why, (uint32_t)strlen(c->why));
    Exception_set_type(e, Exception_Type_failed);
    rpc_out_send(c, &o);
    c->state = RPC_CLOSED;
}

void rpc_send_release(struct rpc_conn *c, uint32_t id, uint32_t count)
{
    struct rpc_out o;
    Release_b r = Message_init_release(rpc_out_begin(c, &o));
    Release_set_id(r, id);
    Release_set_referenceCount(r, count);
    rpc_out_send(c, &o);
}

/* The reply to a message this side does not implement is the message
 * itself, wrapped (rpc.capnp, Message.unimplemented). */
void rpc_send_unimplemented(struct rpc_conn *c, Message_r msg)
{
    struct rpc_out o;
    Message_b m = rpc_out_begin(c, &o);
    if (Message_set_unimplemented(m, msg) != CAPN_OK) {
        rpc_abort(c, "message type %u is not implemented, and it could not be echoed back",
                  (unsigned)Message_which(msg));
        return;
    }
    c->stats.unimplemented_sent++;
    rpc_out_send(c, &o);
}

/* Return an exception for answer a. The reason is kept in the answer for
 * calls pipelined on it. */
void rpc_send_exception(struct rpc_conn *c, struct rpc_answer *a, enum rpc_exc type,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
    struct rpc_out o;
    Return_b r = Message_init_return(rpc_out_begin(c, &o));
    Return_set_answerId(r, a->qid);
    Return_set_releaseParamCaps(r, false);
    Exception_b e = Return_init_exception(r);
    Exception_set_reason(e, a->reason, (uint32_t)strlen(a->reason));
    Exception_set_type(e, (Exception_Type)type);
    a->exception = true;
    a->exc_type = (uint8_t)type;
    a->state = RPC_ANS_RETURNED;
    c->stats.exceptions++;
    rpc_out_send(c, &o);
    if (a->finished)
        rpc_answer_free(c, a);
    rpc_answer_done(c);
}
