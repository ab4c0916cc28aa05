/*
 * What the session services in user/services/ share: finding their
 * capabilities, the server loop, checks of hostile input, and wiping.
 * A header of static functions, because mk/user.mk builds each file of
 * user/services/ as a program of its own.
 *
 * The server loop is capos_serve (user/rt/server.c) with three additions:
 *
 * - The lifetime link. A service whose CapSet has "lifetime" (an Echo
 *   client, user/services/lifetime.c) keeps one call on it that is never
 *   answered, and exits when that call completes, which happens when the
 *   lifetime service ends. Test systems use it to stop resident services
 *   so that the kernel can halt; the default system grants no lifetime and
 *   the services run until the machine stops.
 * - Capabilities a client sends with a call are released after the call
 *   (no session method takes one), so a client cannot fill a service's
 *   capability table.
 * - The received message is wiped after the call: it may hold a password.
 *   Result capabilities that could not be delivered (an exception, or a
 *   caller that went away) are released rather than left in the table.
 */
#ifndef CAPOS_SERVICES_SVC_H
#define CAPOS_SERVICES_SVC_H

#include "capos_rt.h"

#include <string.h>

#include "capnpc_rt.h"
#include "capos.capnp.h"
#include "fmt.h"

/* Each program uses some of these. */
#define SVC_FN static __attribute__((unused))

/* The program's name, for messages ("audit-log: ..."). */
static const char *svc_name = "service";

/* Zero memory in a way the compiler cannot drop as a dead store. */
SVC_FN void svc_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

/* a[0..n) == b[0..n), reading every byte whatever they hold (lib/ct.c is
 * linked into the credential store only). */
SVC_FN bool svc_ct_eq(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

SVC_FN const char *svc_iface_name(uint64_t id)
{
    for (unsigned k = 0; k < capos_INTERFACE_COUNT; k++)
        if (capos_INTERFACES[k]->id == id)
            return capos_INTERFACES[k]->name;
    return "?";
}

/* The capability `name` of interface `iface`, or exit with a message that
 * says what was missing. */
SVC_FN uint32_t svc_need(const char *name, uint64_t iface)
{
    const char *why = "no such capability in the CapSet";
    uint32_t cap = capos_capset_find(name, iface, &why);
    if (!cap) {
        capos_printf("%s: needs \"%s\" (%s) in its CapSet: %s; exiting\n", svc_name, name,
                     svc_iface_name(iface), why);
        capos_exit(1);
    }
    return cap;
}

/* ---- Checks of what clients send ---- */

/* A user name: 1..31 bytes of letters, digits, '_', '.' and '-'. */
#define SVC_USER_MAX  31
#define SVC_USER_RULE "a user name is 1..31 letters, digits, '_', '.' or '-'"

SVC_FN bool svc_user_ok(const char *s, uint32_t len)
{
    if (len == 0 || len > SVC_USER_MAX)
        return false;
    for (uint32_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* Passwords: 1..128 bytes, anything. */
#define SVC_PASSWORD_MAX  128
#define SVC_PASSWORD_RULE "a password is 1..128 bytes"

/* Copy at most max bytes of s into out (NUL-terminated, max + 1 bytes),
 * never cutting a UTF-8 sequence and turning control characters into '?',
 * so that what is stored can be printed on a terminal safely. Returns the
 * length. */
SVC_FN uint32_t svc_clean_copy(char *out, uint32_t max, const char *s, uint32_t len)
{
    uint32_t n = len;
    if (n > max) {
        n = max;
        /* Back off continuation bytes so a sequence is never cut. */
        while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = 0;
    return n;
}

/* ---- Calls to other services ---- */

/* The CapException type of a failed call (rc from a stub), or -1 for a
 * transport error (then *msg says so). */
SVC_FN int svc_failure(int rc, struct capnpc_call *c, struct capn_text *msg)
{
    if (rc == CAPNPC_EXCEPTION) {
        CapException_r ex = CapException_read_root(&c->msg);
        if (msg)
            *msg = CapException_get_message(ex);
        return (int)CapException_get_type(ex);
    }
    if (msg) {
        msg->str = "the call did not go through";
        msg->len = (uint32_t)strlen(msg->str);
    }
    return -1;
}

/* Fail the current call with a formatted message (kept until the reply is
 * built, which happens after the handler returns). */
static char svc_msg[256];

__attribute__((format(printf, 3, 4))) SVC_FN int svc_fail(void *ctx, int type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(svc_msg, sizeof(svc_msg), fmt, ap);
    va_end(ap);
    capos_call_fail(ctx, type, svc_msg);
    return CAPNPC_OK;
}

/* Call after reading every field of the params: a malformed pointer reads
 * as the field's default, and acting on defaults would be acting on
 * garbage. False (and the call failed) if the message had an error. */
SVC_FN bool svc_params_ok(void *ctx, struct capn_struct s)
{
    if (s.msg && !capn_ok(s.msg)) {
        svc_fail(ctx, CapException_Type_invalidArgument, "the params are malformed (%s)",
                 capn_err_str(s.msg->err));
        return false;
    }
    return true;
}

/* False (and the call failed with the reason) unless a user name and a
 * password are within the rules; `what` names the method. */
SVC_FN bool svc_credentials_ok(void *ctx, const char *what, struct capn_text user,
                               struct capn_text pw)
{
    if (!svc_user_ok(user.str, user.len)) {
        svc_fail(ctx, CapException_Type_invalidArgument, "%s: %s", what, SVC_USER_RULE);
        return false;
    }
    if (pw.len == 0 || pw.len > SVC_PASSWORD_MAX) {
        svc_fail(ctx, CapException_Type_invalidArgument, "%s: %s (got %u)", what, SVC_PASSWORD_RULE,
                 pw.len);
        return false;
    }
    return true;
}

/* ---- The server loop ---- */

static uint8_t svc_recv_buf[CAPOS_MAX_RESULT_LEN] __attribute__((aligned(8)));
static uint8_t svc_arena[16384] __attribute__((aligned(8)));
static uint8_t svc_reply[16384 + 64] __attribute__((aligned(8)));

SVC_FN size_t svc_build_exception(int type, const char *message)
{
    return capos_frame_exception(type, message, svc_reply, sizeof(svc_reply));
}

/* Queue the call on "lifetime" that ends the service when it completes;
 * its user_data, or 0 without a lifetime link. */
SVC_FN uint64_t svc_linger(void)
{
    static uint8_t params[64] __attribute__((aligned(8)));
    static uint8_t results[256] __attribute__((aligned(8)));
    uint32_t lifetime = capos_capset_find("lifetime", Echo_INTERFACE_ID, 0);
    if (!lifetime)
        return 0;
    struct capn_seg seg;
    struct capn_bld b;
    size_t len = 0;
    uint8_t arena[64] __attribute__((aligned(8)));
    capn_bld_init(&b, &seg, 1, arena, sizeof(arena));
    Echo_echo_Params_b p = Echo_echo_Params_build_root(&b);
    Echo_echo_Params_set_text(p, svc_name,
                              (uint32_t)strlen(svc_name) > 40 ? 40 : (uint32_t)strlen(svc_name));
    if (capn_bld_write(&b, params, sizeof(params), &len) != CAPN_OK)
        return 0;
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .cap = lifetime,
        .interface_id = Echo_INTERFACE_ID,
        .method = Echo_echo_METHOD,
        .params_addr = (uint64_t)params,
        .params_len = (uint32_t)len,
        .result_addr = (uint64_t)results,
        .result_len = sizeof(results),
        .user_data = capos_ring_next_id(),
    };
    return capos_ring_submit(&sqe) ? sqe.user_data : 0;
}

SVC_FN int32_t svc_submit_wait(struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    sqe->user_data = capos_ring_next_id();
    if (!capos_ring_submit(sqe) || !capos_ring_wait(sqe->user_data, cqe))
        return CAPOS_E_INTERNAL;
    return cqe->result;
}

/* Serve srv->endpoint until the lifetime link ends (returns 0), a handler
 * sets srv->stop (0), or the endpoint fails (the CAPOS_E_* of the RECV). */
SVC_FN int svc_serve(struct capos_server *srv)
{
    uint64_t life = svc_linger();
    for (;;) {
        struct capos_sqe rs = {.opcode = CAPOS_OP_RECV,
                               .cap = srv->endpoint,
                               .result_addr = (uint64_t)svc_recv_buf,
                               .result_len = sizeof(svc_recv_buf),
                               .user_data = capos_ring_next_id()};
        struct capos_cqe rc, lc;
        if (!capos_ring_submit(&rs))
            return CAPOS_E_INTERNAL;
        for (;;) {
            if (capos_ring_try_take(rs.user_data, &rc))
                break;
            if (life && capos_ring_try_take(life, &lc)) {
                capos_printf("%s: the lifetime link ended; exiting\n", svc_name);
                return 0;
            }
            capos_cap_enter(1, UINT64_MAX);
        }
        if (rc.result < 0)
            return rc.result; /* the endpoint is gone, or the ring is broken */

        const struct capos_recv_header *h = (const void *)svc_recv_buf;
        struct capos_call_ctx ctx;
        ctx.header = h;
        ctx.caps = (const void *)(svc_recv_buf + sizeof(*h));
        ctx.server = srv;
        ctx.exception_type = 0;
        ctx.exception_message = 0;
        ctx.nresult_caps = 0;
        uint32_t ncaps_in = h->cap_count <= CAPOS_MAX_XFER ? h->cap_count : 0;
        struct capn_seg segs[8], rseg;
        struct capn_msg params;
        struct capn_bld results;
        size_t len = 0;
        bool exception = false;
        if (h->params_offset > sizeof(svc_recv_buf) ||
            h->params_len > sizeof(svc_recv_buf) - h->params_offset ||
            capn_msg_read(&params, segs, 8, svc_recv_buf + h->params_offset, h->params_len, 0) !=
                CAPN_OK) {
            len = svc_build_exception(CapException_Type_invalidArgument,
                                      "the params are not a well-formed message");
            exception = true;
        } else {
            params.cap_count = h->cap_count;
            capn_bld_init(&results, &rseg, 1, svc_arena, sizeof(svc_arena));
            int st = srv->iface->method_count > h->method
                         ? capnpc_dispatch(srv->iface, srv->ops, srv->self, h->method, &params,
                                           &results, &ctx)
                         : CAPNPC_E_BAD_METHOD;
            if (st == CAPNPC_OK && ctx.exception_message == 0 && capn_ok(&params)) {
                if (capn_bld_write(&results, svc_reply, sizeof(svc_reply), &len) != CAPN_OK) {
                    exception = true;
                    len = svc_build_exception(CapException_Type_failed,
                                              "the results did not fit the reply");
                }
            } else {
                exception = true;
                if (st == CAPNPC_E_BAD_METHOD)
                    len = svc_build_exception(CapException_Type_unimplemented,
                                              "no such method on this interface");
                else if (ctx.exception_message)
                    len = svc_build_exception(ctx.exception_type, ctx.exception_message);
                else if (st == CAPNPC_E_NO_SPACE)
                    len = svc_build_exception(CapException_Type_failed,
                                              "the results did not fit the reply");
                else
                    len = svc_build_exception(CapException_Type_invalidArgument,
                                              "the params do not match the method");
            }
        }
        /* Capabilities the client sent: no method here keeps one. */
        for (uint32_t i = 0; i < ncaps_in; i++)
            capos_release(ctx.caps[i].cap);
        uint32_t ncaps = exception ? 0 : ctx.nresult_caps;
        struct capos_sqe ret = {.opcode = CAPOS_OP_RETURN,
                                .cap = srv->endpoint,
                                .flags = exception ? CAPOS_SQE_F_EXCEPTION : 0,
                                .call_id = rc.call_id,
                                .params_addr = (uint64_t)svc_reply,
                                .params_len = (uint32_t)len,
                                .xfer_count = (uint16_t)ncaps,
                                .xfer_addr = ncaps ? (uint64_t)ctx.result_caps : 0};
        struct capos_cqe retc;
        int32_t r = svc_submit_wait(&ret, &retc);
        /* Moves that did not happen left the capabilities with us. */
        bool delivered = r >= 0 && !exception;
        for (uint32_t i = 0; !delivered && i < ctx.nresult_caps; i++)
            if (ctx.result_caps[i].mode == CAPOS_XFER_MOVE)
                capos_release(ctx.result_caps[i].cap);
        capos_flush_releases();
        /* The message may hold a password. */
        if (h->params_offset <= sizeof(svc_recv_buf) &&
            h->params_len <= sizeof(svc_recv_buf) - h->params_offset)
            svc_wipe(svc_recv_buf, h->params_offset + h->params_len);
        else
            svc_wipe(svc_recv_buf, sizeof(svc_recv_buf));
        srv->served++;
        if (srv->stop)
            return 0;
    }
}

#endif
