/*
 * What the session services share (svc.h says what each function does).
 * Linked into every program of user/services/ (USER_SHARED_services,
 * mk/link.mk).
 */
#include "svc.h"

#include "text/utf8.h"

#include <stdarg.h>

const char *svc_name = "service";

void svc_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

bool svc_ct_eq(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

uint32_t svc_need(const char *name, uint64_t iface)
{
    return capos_capset_need(svc_name, name, iface);
}

/* ---- Checks of what clients send ---- */

bool svc_user_ok(const char *s, uint32_t len)
{
    if (len == 0 || len > SVC_USER_MAX)
        return false;
    struct utf8_dec d;
    utf8_reset(&d);
    for (uint32_t i = 0; i < len; i++) {
        enum utf8_res r = utf8_feed(&d, (uint8_t)s[i]);
        if (r == UTF8_BAD || r == UTF8_BAD_AGAIN)
            return false;
        if (r != UTF8_CHAR)
            continue;
        uint32_t c = d.cp;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c >= 0xa1))
            return false;
    }
    return d.need == 0;
}

bool svc_user_reserved(const char *s, uint32_t len)
{
    static const char *const reserved[] = {"anonymous", "guest", "operator"};
    for (unsigned k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++) {
        const char *r = reserved[k];
        if (strlen(r) != len)
            continue;
        uint32_t i = 0;
        while (i < len && (s[i] | 0x20) == r[i])
            i++;
        if (i == len)
            return true;
    }
    return false;
}

uint32_t svc_clean_copy(char *out, uint32_t max, const char *s, uint32_t len)
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

int svc_failure(int rc, struct capnpc_call *c, struct capn_text *msg)
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

/* The message of the call svc_fail failed, kept until the reply is built
 * (after the handler returns). */
static char svc_msg[256];

int svc_fail(void *ctx, int type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(svc_msg, sizeof(svc_msg), fmt, ap);
    va_end(ap);
    capos_call_fail(ctx, type, svc_msg);
    return CAPNPC_OK;
}

bool svc_params_ok(void *ctx, struct capn_struct s)
{
    if (s.msg && !capn_ok(s.msg)) {
        svc_fail(ctx, CapException_Type_invalidArgument, "the params are malformed (%s)",
                 capn_err_str(s.msg->err));
        return false;
    }
    return true;
}

bool svc_credentials_ok(void *ctx, const char *what, struct capn_text user, struct capn_text pw)
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

/* Queue the call on "lifetime" that ends the service when it completes;
 * its user_data, or 0 without a lifetime link. */
static uint64_t svc_linger(void)
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

int svc_serve(struct capos_server *srv)
{
    srv->until = svc_linger();
    srv->wipe = true;
    int rc = capos_serve(srv);
    if (srv->ended)
        capos_printf("%s: the lifetime link ended; exiting\n", svc_name);
    return rc;
}
